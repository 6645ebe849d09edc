"""Moderators' shifts from every home (#22): the console's toggle and `/api/shifts`, the cap on a
claim through the API (409, kindly, naming who else is on shift), each moderator's load in
`/api/stats`, and /onshift, /offshift, /shifts from the command table as the Telegram group
and the Discord channel run them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bots.command_grammar import ModeratorCall
from bots.commands import find, moderator_help, run_moderator_command
from bots.moderating import press_case_button
from community.cases.handoff import HandoffCases
from community.db import Database
from community.members import resolve_member
from community.settings import Settings
from peerbot.app import create_app
from safety.screen import Screening, Severity
from tests.bots.discord_standin import MOD_CHANNEL_ID, MOD_ROLE_ID
from tests.bots.rasa_standin import RasaStandIn
from tests.bots.test_discord import MOD, MOM, discord_app
from tests.bots.test_moderation_api import CRISIS, auth, tokens

__all__ = ["tokens"]  # a fixture used below


@pytest.fixture
def capped(settings: Settings) -> Iterator[TestClient]:
    """The app with a cap of one open case per moderator."""
    one = settings.model_copy(update={"max_open_cases_per_moderator": 1})
    with TestClient(create_app(one, run_scheduler=False)) as test_client:
        yield test_client


def test_the_console_toggle_the_cap_and_the_load(
    capped: TestClient, tokens: dict[str, str]
) -> None:
    ana, ben, rae = auth(tokens["ana"]), auth(tokens["ben"]), auth(tokens["rae"])
    assert capped.get("/api/shifts", headers=rae).status_code == 403
    start = capped.get("/api/shifts", headers=ana).json()
    assert (start["me"], start["on_shift"], start["max_open_cases"]) == (False, [], 1)
    on = capped.post("/api/shifts/on", headers=ana).json()
    assert on["me"] is True and [s["name"] for s in on["on_shift"]] == ["Ana"]
    capped.post("/api/shifts/on", headers=ana)  # twice: still one shift
    capped.post("/api/shifts/on", headers=ben)
    seen_by_ben = capped.get("/api/shifts", headers=ben).json()
    assert seen_by_ben["me"] is True
    assert [s["name"] for s in seen_by_ben["on_shift"]] == ["Ana", "Ben"]

    for user in ("mom-shift-0000001", "mom-shift-0000002"):
        assert "988" in capped.post("/api/chat", json={"user": user, "text": CRISIS}).text
    first, second = (c["id"] for c in capped.get("/api/cases", headers=ana).json()["cases"])
    assert capped.post(f"/api/cases/{first}/claim", headers=ana).status_code == 200
    refused = capped.post(f"/api/cases/{second}/claim", headers=ana)
    assert refused.status_code == 409
    detail = refused.json()["detail"]
    assert "you hold 1 open case, the most one of us holds at once (1)" in detail
    assert "On shift now: Ben; they can take it." in detail
    assert capped.post(f"/api/cases/{second}/claim", headers=ben).status_code == 200

    stats = capped.get("/api/stats", headers=ana).json()
    assert stats["on_shift"] == ["Ana", "Ben"]
    loads = {m["name"]: m for m in stats["moderators"]}
    assert set(loads) == {"Ana", "Ben"}
    assert {k: loads["Ana"][k] for k in ("on_shift", "open_now", "today", "this_week")} == {
        "on_shift": True,
        "open_now": 1,
        "today": 1,
        "this_week": 1,
    }
    off = capped.post("/api/shifts/off", headers=ana).json()
    assert off["me"] is False and [s["name"] for s in off["on_shift"]] == ["Ben"]
    assert {m["name"]: m["on_shift"] for m in off["moderators"]} == {"Ana": False, "Ben": True}


def test_the_shift_routes_are_in_the_openapi_document(capped: TestClient) -> None:
    paths = capped.get("/openapi.json").json()["paths"]
    assert {"/api/shifts", "/api/shifts/on", "/api/shifts/off"} <= set(paths)
    assert "409" in paths["/api/cases/{case_id}/claim"]["post"]["responses"]
    stats = capped.get("/openapi.json").json()["components"]["schemas"]["StatsOut"]
    assert {"on_shift", "moderators"} <= set(stats["properties"])


async def test_onshift_offshift_and_shifts_from_a_chat_home(database: Database) -> None:
    sam = ModeratorCall(database, "telegram:9", "Sam")
    lee = ModeratorCall(database, "discord:7", "Lee")
    assert all(find(name) is not None for name in ("onshift", "offshift", "shifts"))
    assert "Shifts:\n/onshift: go on shift" in moderator_help()
    assert await run_moderator_command(sam, "/onshift") == (
        "You're on shift, Sam. New cases name those on shift first."
    )
    assert await run_moderator_command(sam, "/onshift") == "You were already on shift, Sam."
    assert await run_moderator_command(lee, "/onshift") == (
        "You're on shift, Lee. New cases name those on shift first. Also on shift: Sam."
    )
    async with database.transaction() as session:
        member = await resolve_member(session, b"k" * 48, "telegram", "404")
        opening = await HandoffCases(session).open_for_crisis(
            member, "telegram", Screening(True, "suicide", Severity.HIGH), "i want to die"
        )
    await press_case_button(database, "claim", opening.case_id, "telegram:9", "Sam", 3)
    listed = await run_moderator_command(lee, "/shifts")
    assert listed is not None and listed.startswith("On shift: Sam and Lee.")
    assert "Sam (on shift): 1 open, 1 today, 1 this week" in listed
    assert "telegram:9" not in listed and "discord:7" not in listed
    assert await run_moderator_command(sam, "/offshift") == (
        "You're off shift. Thank you for your time. Cases you hold stay yours. Still on shift: Lee."
    )
    assert await run_moderator_command(lee, "/offshift") == (
        "You're off shift. Thank you for your time. Cases you hold stay yours. "
        "Nobody is on shift now: new cases go to the on-call list at once."
    )
    assert await run_moderator_command(lee, "/offshift") == (
        "You weren't on shift. /onshift starts one."
    )


def test_a_long_refusal_fits_telegrams_button_alert() -> None:
    from bots.telegram.home import ALERT_LIMIT, _alert
    from community.cases.shifts import over_cap_text

    names = [f"Moderator with a long name {n}" for n in range(5)]
    alert = _alert(over_cap_text(5, 5, names))
    assert len(alert) <= ALERT_LIMIT and alert.endswith("…")
    assert _alert("short") == "short"


async def test_on_discord_onshift_pings_that_moderator_on_the_next_new_case(
    settings: Settings, rasa: RasaStandIn
) -> None:
    """/onshift as a slash command in the moderators' channel; the next case's alert then
    mentions the role and that moderator (allowed to ping them alone), and the card names
    those on shift first."""
    async with discord_app(settings, rasa) as (server, _):
        started = await server.slash(MOD, "onshift", MOD_CHANNEL_ID, roles=[MOD_ROLE_ID])
        await server.wait_for(lambda: server.interaction_replies(started))
        assert "You're on shift" in str(server.interaction_replies(started))
        await server.dm(MOM, CRISIS)
        await server.wait_for(lambda: server.alerts())
        (alert,) = server.alerts()
        assert alert["content"].startswith(f"<@&{MOD_ROLE_ID}> <@{MOD}> 🔴 New case #")
        assert [str(u) for u in alert["allowed_mentions"]["users"]] == [str(MOD)]
        assert [str(r) for r in alert["allowed_mentions"]["roles"]] == [MOD_ROLE_ID]
        assert "For those on shift first: " in alert["content"]
        assert str(MOM) not in alert["content"]
        ended = await server.slash(MOD, "offshift", MOD_CHANNEL_ID, roles=[MOD_ROLE_ID])
        await server.wait_for(lambda: server.interaction_replies(ended))
        assert "You're off shift" in str(server.interaction_replies(ended))
