"""Her safety plan (issue #21), through the real app on SQLite and PostgreSQL: built step by
step in chat (English and Spanish), shown, one step changed, deleted; one line of it after a
crisis reply; a moderator sees it only with her yes and only while her case is open; it is in
her data and gone with it; names and numbers are not readable in the database file; keys
rotate; a missing or wrong key fails kindly."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select

from bots.command_grammar import ModeratorCall
from bots.commands import run_moderator_command
from community.db import Database
from community.models import CaseEvent, SafetyPlan
from community.phrases import phrase, phrases
from community.resources import core_resources_text, default_directory
from community.safety_plan import (
    Plan,
    PlanKeys,
    PlanKeysError,
    PlanLocked,
    keys_from_settings,
    read_plan,
    reseal_all,
    write_plan,
)
from community.settings import (
    PROJECT_ROOT,
    Environment,
    Settings,
    SettingsError,
    async_database_url,
    load_settings,
)
from peerbot.app import create_app
from tests.bots.app_harness import running
from tests.bots.rasa_standin import RasaStandIn
from tests.bots.telegram_standin import TOKEN, BotApiStandIn, bot_api_standin
from tests.bots.test_moderation_api import _staff, auth

NAME = "Ana Rivera"
NUMBER = "555-201-7788"
PERSON = f"my sister {NAME} {NUMBER}"
CRISIS = "i want to kill myself tonight"


def _client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings, run_scheduler=False))


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A test writes faster than a mother: no burst limit in the way of building a plan."""
    return settings.model_copy(update={"flood_messages": 200})


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with _client(settings) as test_client:
        yield test_client


@pytest.fixture
def ana(settings: Settings) -> str:
    return asyncio.run(_staff(settings, "ana", "moderator", "Ana"))


def _say(client: TestClient, user: str, text: str) -> list[dict[str, Any]]:
    response = client.post("/api/chat", json={"user": user, "text": text})
    assert response.status_code == 200
    return list(response.json()["replies"])


def _payloads(reply: dict[str, Any]) -> list[str]:
    return [b["payload"] for b in reply.get("buttons") or []]


def _starts(reply: dict[str, Any], key: str, language: str = "en") -> bool:
    return str(reply["text"]).startswith(phrase(key, language).split("\n")[0][:60])


def _build(client: TestClient, user: str) -> None:
    """Her whole plan, step by step: one step skipped, a service and naloxone tapped."""
    first = _say(client, user, "my safety plan")
    assert first[0]["text"] == phrase("safety_plan_none", "en")
    assert "/myplan_build" in _payloads(first[0])
    started = _say(client, user, "/myplan_build")
    assert started[0]["text"] == phrase("safety_plan_intro", "en")
    assert _starts(started[1], "safety_plan_step_warning_signs")
    assert _starts(
        _say(client, user, "I get cranky and skip my meetings")[0], "safety_plan_step_coping"
    )
    assert _starts(_say(client, user, "skip")[0], "safety_plan_step_distractions")
    assert _starts(_say(client, user, "the park by the river")[0], "safety_plan_step_people")
    services = _say(client, user, PERSON)[0]
    assert _starts(services, "safety_plan_step_professionals")
    assert "/myplan_add_lifeline_988" in _payloads(services)
    added = _say(client, user, "/myplan_add_lifeline_988")[0]
    assert added["text"].startswith(phrase("safety_plan_added", "en", name="")[:20])
    safer = _say(client, user, "Dr. Lopez at the clinic")[0]
    assert _starts(safer, "safety_plan_step_safer")
    # Harm reduction from the directory: naloxone close, and a never-use-alone line.
    assert default_directory().get("never_use_alone").contact_line("en") in safer["text"]
    assert {"/myplan_add_naloxone", "/myplan_add_never_use_alone"} <= set(_payloads(safer))
    _say(client, user, "/myplan_add_naloxone")
    done = _say(client, user, "my mom keeps the extra pills")
    assert done[0]["text"] == phrase("safety_plan_done", "en")


def _count_plans(settings: Settings) -> int:
    async def count() -> int:
        database = Database.connect(settings.resolved_database_url)
        try:
            async with database.transaction() as session:
                return int(await session.scalar(select(func.count()).select_from(SafetyPlan)) or 0)
        finally:
            await database.dispose()

    return asyncio.run(count())


def _first_case(client: TestClient, token: str) -> int:
    return int(client.get("/api/cases", headers=auth(token)).json()["cases"][0]["id"])


def test_built_step_by_step_shown_one_step_changed_and_deleted(client: TestClient) -> None:
    user = "mom-safety-plan-000001"
    _build(client, user)
    shown = _say(client, user, "/myplan")[0]
    text = shown["text"]
    for words in ("I get cranky", "the park by the river", PERSON, "Dr. Lopez", "extra pills"):
        assert words in text  # her words, as she wrote them
    assert default_directory().get("lifeline_988").contact_line("en") in text
    assert phrase("safety_plan_naloxone", "en") in text
    assert phrase("safety_plan_step_empty", "en") in text  # the step she skipped
    assert _payloads(shown) == ["/myplan_edit", "/myplan_delete"]
    # Done building: what she writes next is an ordinary message again (Rasa is down here).
    assert phrase("safety_plan_nothing_pending", "en") not in _say(client, user, "hello")[0]["text"]
    assert "hello" not in _say(client, user, "/myplan")[0]["text"].split("\n")

    steps = _say(client, user, "/myplan edit")[0]
    assert len(_payloads(steps)) == 6 and "/myplan_edit_coping" in _payloads(steps)
    assert _starts(_say(client, user, "/myplan_edit_coping")[0], "safety_plan_step_coping")
    saved = _say(client, user, "a warm shower, my playlist")
    assert saved[0]["text"] == phrase("safety_plan_step_saved", "en")
    assert "a warm shower, my playlist" in saved[1]["text"]
    assert "I get cranky" in saved[1]["text"]  # the other steps stay as they were

    confirm = _say(client, user, "/myplan delete")[0]
    assert confirm["text"] == phrase("safety_plan_confirm_delete", "en")
    assert _say(client, user, "/myplan_delete_no")[0]["text"] == phrase("safety_plan_kept", "en")
    assert "a warm shower" in _say(client, user, "/myplan")[0]["text"]
    _say(client, user, "/myplan delete")
    assert _say(client, user, "/myplan_delete_yes")[0]["text"] == phrase(
        "safety_plan_deleted", "en"
    )
    assert _say(client, user, "/myplan")[0]["text"] == phrase("safety_plan_none", "en")


def test_stop_keeps_what_she_has_and_spanish_throughout(client: TestClient) -> None:
    user = "mom-safety-plan-000002"
    _say(client, user, "/language es")
    invite = _say(client, user, "mi plan de seguridad")[0]
    assert invite["text"] == phrase("safety_plan_none", "es")
    started = _say(client, user, "/myplan_build")
    assert _starts(started[1], "safety_plan_step_warning_signs", "es")
    assert "Saltar" in [b["title"] for b in started[1]["buttons"]]
    assert _starts(_say(client, user, "cuando no duermo")[0], "safety_plan_step_coping", "es")
    stopped = _say(client, user, "parar")[0]
    assert stopped["text"] == phrase("safety_plan_stopped", "es")
    assert stopped["buttons"] == [{"title": "Mi plan de seguridad", "payload": "/myplan"}]
    shown = _say(client, user, "/myplan")[0]["text"]
    assert shown.startswith(phrase("safety_plan_title", "es"))
    assert "cuando no duermo" in shown
    assert phrase("safety_plan_heading_people", "es") in shown
    # Stopped: her next words are not taken into the plan.
    _say(client, user, "gracias")
    assert "gracias" not in _say(client, user, "/myplan")[0]["text"]


def test_crisis_reply_then_a_line_from_her_plan(
    client: TestClient, ana: str, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("bots", "community", "peerbot"):
        caplog.set_level(logging.DEBUG, logger=name)
    without = "mom-safety-plan-000003"
    alone = _say(client, without, "i don't want to be alive anymore")
    assert len(alone) == 1 and "988" in alone[0]["text"]  # no plan: the crisis reply alone

    user = "mom-safety-plan-000004"
    _build(client, user)
    replies = _say(client, user, CRISIS)
    assert "988" in replies[0]["text"] and replies[0].get("urgent") is True
    assert replies[1]["text"] == phrase("safety_plan_crisis_line", "en", who=PERSON)
    assert _payloads(replies[1]) == ["/myplan"]  # a button to her whole plan
    case_id = max(c["id"] for c in client.get("/api/cases", headers=auth(ana)).json()["cases"])
    assert replies[2]["text"] == phrase("safety_plan_share_ask", "en")
    assert _payloads(replies[2]) == [f"/plan_share_yes_{case_id}", f"/plan_share_no_{case_id}"]
    # The logs never carry a word of her plan.
    logged = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    assert "screen finding" in logged  # the logs were captured ...
    for words in (NAME, NUMBER, "I get cranky", "Dr. Lopez", "extra pills"):
        assert words not in logged  # ... and hold none of it


def test_a_moderator_sees_it_only_with_her_yes_and_only_while_the_case_is_open(
    settings: Settings, client: TestClient, ana: str
) -> None:
    user = "mom-safety-plan-000005"
    _build(client, user)
    _say(client, user, CRISIS)
    case_id = _first_case(client, ana)
    plan_url = f"/api/cases/{case_id}/plan"
    assert client.get(plan_url, headers=auth(ana)).status_code == 409  # not asked yet
    assert _say(client, user, f"/plan_share_no_{case_id}")[0]["text"] == phrase(
        "safety_plan_not_shared", "en"
    )
    assert client.get(plan_url, headers=auth(ana)).status_code == 409
    assert NAME not in _thread_plan(settings, case_id)

    assert _say(client, user, f"/plan_share_yes_{case_id}")[0]["text"] == phrase(
        "safety_plan_shared", "en"
    )
    seen = client.get(plan_url, headers=auth(ana))
    assert seen.status_code == 200
    people = next(s for s in seen.json()["steps"] if s["step"] == "people")
    assert people["words"] == PERSON
    assert NAME in _thread_plan(settings, case_id)
    assert _viewed(settings, case_id) == 2  # each look is in the case's audit events
    researcher = asyncio.run(_staff(settings, "rae", "researcher", "Rae"))
    assert client.get(plan_url, headers=auth(researcher)).status_code == 403  # never researchers

    assert client.post(f"/api/cases/{case_id}/claim", headers=auth(ana)).status_code == 200
    resolved = client.post(
        f"/api/cases/{case_id}/resolve", json={"outcome": "safe for now"}, headers=auth(ana)
    )
    assert resolved.status_code == 200
    assert client.get(plan_url, headers=auth(ana)).status_code == 409  # closed: hers again
    assert NAME not in _thread_plan(settings, case_id)
    assert _say(client, user, f"/plan_share_yes_{case_id}")[0]["text"] == phrase(
        "safety_plan_share_gone", "en"
    )

    # A new case: her yes for the last one does not carry over; she is asked again.
    asked = _say(client, user, "i don't want to be alive anymore")
    new_case = _first_case(client, ana)
    assert new_case != case_id
    assert asked[-1]["text"] == phrase("safety_plan_share_ask", "en")
    assert _payloads(asked[-1])[0] == f"/plan_share_yes_{new_case}"
    assert client.get(f"/api/cases/{new_case}/plan", headers=auth(ana)).status_code == 409


def _thread_plan(settings: Settings, case_id: int) -> str:
    """What /plan answers in the case's Telegram topic or Discord thread."""

    async def run() -> str:
        database = Database.connect(settings.resolved_database_url)
        try:
            call = ModeratorCall(database, "tg:9", "Sam", case_id, keys_from_settings(settings))
            return await run_moderator_command(call, "/plan") or ""
        finally:
            await database.dispose()

    return asyncio.run(run())


def _viewed(settings: Settings, case_id: int) -> int:
    async def count() -> int:
        database = Database.connect(settings.resolved_database_url)
        try:
            async with database.transaction() as session:
                return int(
                    await session.scalar(
                        select(func.count())
                        .select_from(CaseEvent)
                        .where(
                            CaseEvent.case_id == case_id, CaseEvent.action == "safety_plan_viewed"
                        )
                    )
                    or 0
                )
        finally:
            await database.dispose()

    return asyncio.run(count())


def test_in_her_data_and_gone_with_it(settings: Settings, client: TestClient) -> None:
    user = "mom-safety-plan-000006"
    _build(client, user)
    mine = _say(client, user, "/my_data")[0]["text"]
    assert PERSON in mine and "I get cranky" in mine
    assert _count_plans(settings) == 1
    _say(client, user, "/delete_my_data")
    assert _say(client, user, "/confirm_delete")[0]["text"] == phrase("deletion_done", "en")
    assert _count_plans(settings) == 0
    # Written again later, she is someone new, with no plan.
    assert _say(client, user, "/myplan")[0]["text"] == phrase("safety_plan_none", "en")


def _database_bytes(settings: Settings) -> bytes:
    url = settings.resolved_database_url
    if not url.startswith("sqlite"):
        pytest.skip("the file check reads SQLite's file")
    path = Path(url.split(":///", 1)[1])
    return b"".join(p.read_bytes() for p in path.parent.glob(f"{path.name}*") if p.is_file())


def test_names_and_numbers_are_not_readable_in_the_database_file(
    settings: Settings, client: TestClient
) -> None:
    user = "mom-safety-plan-000007"
    _build(client, user)
    _say(client, user, CRISIS)  # a case transcript keeps her words as they are
    stored = _database_bytes(settings)
    # The scan can see plain text (a crisis case keeps what she wrote) ...
    assert CRISIS.encode() in stored
    # ... and sees none of her plan.
    for secret in (NAME, NUMBER, "I get cranky", "Dr. Lopez", "extra pills"):
        assert secret.encode() not in stored, secret


async def test_rotation_seals_again_with_the_new_key_and_the_old_can_go(
    database: Database,
) -> None:
    old, new = PlanKeys.new_key(), PlanKeys.new_key()
    async with database.transaction() as session:
        member_id = await _member(session)
        await write_plan(session, PlanKeys.parse(old), member_id, Plan({"people": PERSON}))
    async with database.transaction() as session:
        assert await reseal_all(session, PlanKeys.parse(f"{new},{old}")) == (1, 0)
    async with database.transaction() as session:
        plan = await read_plan(session, PlanKeys.parse(new), member_id)  # the old key dropped
        assert plan is not None and plan.words["people"] == PERSON
        with pytest.raises(PlanLocked):
            await read_plan(session, PlanKeys.parse(old), member_id)
        # Without the key it was sealed with, rotation leaves it and says so.
        assert await reseal_all(session, PlanKeys.parse(PlanKeys.new_key())) == (0, 1)


async def _member(session: Any) -> int:
    from community.members import resolve_member

    member = await resolve_member(session, b"k" * 32, "web", "mom-plan-rotation")
    return member.id


def test_a_malformed_key_is_refused_naming_the_setting_never_its_value(
    settings: Settings,
) -> None:
    bad = settings.model_copy(update={"plan_keys": SecretStr("not-a-key-secret-value")})
    with pytest.raises(PlanKeysError) as error:
        keys_from_settings(bad)
    assert "PEERBOT_PLAN_KEYS" in str(error.value)
    assert "not-a-key-secret-value" not in str(error.value)


def test_a_wrong_or_missing_key_fails_kindly(settings: Settings, ana: str) -> None:
    user = "mom-safety-plan-000008"
    with _client(settings) as client:
        _build(client, user)
    unavailable = phrase(
        "safety_plan_unavailable", "en", core_resources=core_resources_text(language="en")
    )
    wrong = settings.model_copy(update={"plan_keys": SecretStr(PlanKeys.new_key())})
    with _client(wrong) as client:
        assert _say(client, user, "/myplan")[0]["text"] == unavailable
        crisis = _say(client, user, CRISIS)
        assert len(crisis) == 1 and "988" in crisis[0]["text"]  # the crisis reply, unharmed
        mine = _say(client, user, "/my_data")[0]["text"]
        assert phrase("my_data_safety_plan_locked", "en") in mine and NAME not in mine
    missing = settings.model_copy(update={"env": Environment.PRODUCTION})
    with _client(missing) as client:
        assert _say(client, "mom-safety-plan-000009", "/myplan")[0]["text"] == unavailable
        assert _say(client, "mom-safety-plan-000009", "/myplan_build")[0]["text"] == unavailable


def test_a_case_opening_pauses_building_so_her_next_words_reach_the_person(
    client: TestClient, ana: str
) -> None:
    user = "mom-safety-plan-000010"
    _say(client, user, "/myplan_build")
    _say(client, user, "I get cranky and skip my meetings")
    replies = _say(client, user, CRISIS)
    assert "988" in replies[0]["text"]
    case_id = _first_case(client, ana)
    # No people or services yet: no line from her plan, but she is asked about sharing it.
    assert [r["text"] for r in replies[1:]] == [phrase("safety_plan_share_ask", "en")]
    after = _say(client, user, "are you still there")
    assert all(phrase("safety_plan_step_coping", "en")[:30] not in r["text"] for r in after)
    transcript = client.get(f"/api/cases/{case_id}/messages", headers=auth(ana)).json()
    assert "are you still there" in [m["text"] for m in transcript["messages"]]
    assert "are you still there" not in _say(client, user, "/myplan")[0]["text"]


def test_peerbot_rotate_plan_keys_then_the_old_key_can_go(tmp_path: Path) -> None:
    old, new = PlanKeys.new_key(), PlanKeys.new_key()
    url = f"sqlite:///{tmp_path / 'rotate.sqlite3'}"
    env = dict(os.environ)
    env.update(
        PEERBOT_VAR_DIR=str(tmp_path / "var"),
        PEERBOT_DATABASE_URL=url,
        PEERBOT_SECRET_KEY="cli-test-secret-key-0123456789abcdef",
    )

    def peerbot(*args: str, keys: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "peerbot.cli", *args],
            capture_output=True, text=True, cwd=PROJECT_ROOT,
            env={**env, "PEERBOT_PLAN_KEYS": keys}, timeout=120, check=False,
        )  # fmt: skip

    assert peerbot("migrate", keys=old).returncode == 0
    database_url = async_database_url(url)

    async def write() -> int:
        database = Database.connect(database_url)
        try:
            async with database.transaction() as session:
                member_id = await _member(session)
                await write_plan(session, PlanKeys.parse(old), member_id, Plan({"people": PERSON}))
                return member_id
        finally:
            await database.dispose()

    async def read(keys: str, member_id: int) -> Plan | None:
        database = Database.connect(database_url)
        try:
            async with database.transaction() as session:
                return await read_plan(session, PlanKeys.parse(keys), member_id)
        finally:
            await database.dispose()

    member_id = asyncio.run(write())
    rotated = peerbot("rotate-plan-keys", keys=f"{new},{old}")
    assert rotated.returncode == 0, rotated.stderr
    assert "Sealed 1 safety plan(s) again" in rotated.stdout
    assert "can now be removed" in rotated.stdout
    plan = asyncio.run(read(new, member_id))
    assert plan is not None and plan.words["people"] == PERSON
    # A key that opens nothing: it says so and fails, so the old key is not dropped too soon.
    stranger = peerbot("rotate-plan-keys", keys=PlanKeys.new_key())
    assert stranger.returncode == 1 and "could not be opened" in stranger.stderr
    assert NAME not in stranger.stdout + stranger.stderr
    malformed = peerbot("rotate-plan-keys", keys="not-a-key")
    assert malformed.returncode == 2 and "PEERBOT_PLAN_KEYS" in malformed.stderr
    assert "not-a-key" not in malformed.stderr


def test_development_generates_one_owner_only_key_and_production_none(
    settings: Settings,
) -> None:
    first = keys_from_settings(settings)
    key_file = settings.var_dir / "plan_keys"
    assert first.available and key_file.stat().st_mode & 0o777 == 0o600
    sealed = first.seal(Plan({"people": PERSON}))
    assert keys_from_settings(settings).open(sealed).words["people"] == PERSON  # the same key
    production = settings.model_copy(update={"env": Environment.PRODUCTION})
    assert not keys_from_settings(production).available


def test_her_plans_words_are_person_first_in_both_languages() -> None:
    from tests.test_content import STIGMATIZING

    keys = [k for k in phrases() if "safety_plan" in k]
    assert len(keys) > 40  # every prompt, heading, button and answer of the plan
    for key in keys:
        for language, patterns in STIGMATIZING.items():
            for pattern in patterns:
                assert not re.search(pattern, phrase(key, language), re.IGNORECASE), key


def test_a_malformed_key_stops_start_up_with_the_settings_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PEERBOT_PLAN_KEYS", "not-a-key-secret-value")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert "PEERBOT_PLAN_KEYS" in str(error.value)
    assert "not-a-key-secret-value" not in str(error.value)
    monkeypatch.setenv("PEERBOT_PLAN_KEYS", f"{PlanKeys.new_key()},{PlanKeys.new_key()}")
    assert keys_from_settings(load_settings()).count == 2


@pytest.fixture
def bot_api() -> Iterator[BotApiStandIn]:
    with bot_api_standin() as server:
        yield server


async def test_on_telegram_the_menu_command_and_its_buttons(
    settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn
) -> None:
    mom = 5551234
    telegram = settings.model_copy(
        update={
            "telegram_token": SecretStr(TOKEN),
            "telegram_base_url": bot_api.url,
            "rasa_url": rasa.url,
        }
    )

    def buttons(index: int) -> list[str]:
        rows = bot_api.sent("sendMessage", mom)[index].params["reply_markup"]["inline_keyboard"]
        return [button["callback_data"] for row in rows for button in row]

    async with running(telegram):
        bot_api.private_message(mom, "/myplan")
        await bot_api.wait_for(lambda: bot_api.texts_to(mom))
        assert bot_api.texts_to(mom)[0] == phrase("safety_plan_none", "en")
        assert buttons(0) == ["/myplan_build", "/myplan_not_now"]
        bot_api.button_press(mom, "/myplan_build", chat_id=mom)
        await bot_api.wait_for(lambda: len(bot_api.texts_to(mom)) >= 3)
        assert bot_api.texts_to(mom)[2].startswith(phrase("safety_plan_step_warning_signs")[:40])
        bot_api.private_message(mom, "I get cranky and skip my meetings")
        await bot_api.wait_for(lambda: len(bot_api.texts_to(mom)) >= 4)
        bot_api.button_press(mom, "/myplan_stop", chat_id=mom)
        await bot_api.wait_for(lambda: len(bot_api.texts_to(mom)) >= 5)
        assert bot_api.texts_to(mom)[4] == phrase("safety_plan_stopped", "en")
        bot_api.private_message(mom, "/myplan edit")
        await bot_api.wait_for(lambda: len(bot_api.texts_to(mom)) >= 6)
        assert bot_api.texts_to(mom)[5] == phrase("safety_plan_which_step", "en")
        assert "/myplan_edit_people" in buttons(5)
        bot_api.private_message(mom, "/myplan")
        await bot_api.wait_for(lambda: len(bot_api.texts_to(mom)) >= 7)
        assert "I get cranky and skip my meetings" in bot_api.texts_to(mom)[6]
        assert rasa.received == []  # her plan never reaches the dialogue core
