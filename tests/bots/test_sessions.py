"""Discussion sessions (#22) through the real app and the web chat, on SQLite and PostgreSQL:
a researcher proposes, a moderator returns it with a note and then approves it reworded, it is
announced only to mothers who opted in (never with its link), they RSVP past capacity and the
waitlist moves up when someone says maybe, the link goes only to a yes (with the .ics), the
reminders go at their times across restarts (the job's clock moved, never slept), a question
ahead and the feedback reach the host without anyone's identity, and her data shows and
deletes them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select

from community.db import Database
from community.members import pseudonym_for
from community.research import texts as research_texts
from community.scheduling import JobContext, sessions_job
from community.sessions import texts
from community.sessions.models import (
    DiscussionSession,
    SessionFeedback,
    SessionQuestion,
    SessionReminder,
    SessionRsvp,
)
from community.settings import Settings
from community.staff import add_staff
from peerbot.app import create_app

LINK = "https://meet.example.org/peer-session-42"
ZONE = "America/New_York"
MOMS = {name: f"mom-session-{name}".ljust(24, "0") for name in ("ana", "bea", "cat", "dee")}


async def _staff(settings: Settings, name: str, role: str, display: str) -> str:
    database = Database.connect(settings.resolved_database_url)
    try:
        async with database.transaction() as session:
            return await add_staff(session, name, role, display)
    finally:
        await database.dispose()


def _db(settings: Settings, work: Any) -> Any:
    """Run `work(session)` in a transaction of a fresh connection (as another process would)."""

    async def run() -> Any:
        database = Database.connect(settings.resolved_database_url)
        try:
            async with database.transaction() as session:
                return await work(session)
        finally:
            await database.dispose()

    return asyncio.run(run())


def _run_job(settings: Settings, now: datetime) -> None:
    """The sessions job in a fresh context and connection: like the scheduler after a restart."""

    async def run() -> None:
        database = Database.connect(settings.resolved_database_url)
        try:
            await sessions_job(JobContext(settings, database), now)
        finally:
            await database.dispose()

    asyncio.run(run())


@pytest.fixture
def quiet_free(settings: Settings) -> Settings:
    # No quiet hours: the tests must not depend on the time of day they run at.
    return settings.model_copy(
        update={"research_quiet_start_hour": 0, "research_quiet_end_hour": 0}
    )


@pytest.fixture
def tokens(quiet_free: Settings) -> dict[str, str]:
    return {
        name: asyncio.run(_staff(quiet_free, name, role, display))
        for name, role, display in (
            ("mia", "moderator", "Mia"), ("rae", "researcher", "Dr. Rae"),
            ("ray", "researcher", "Ray"),
        )
    }  # fmt: skip


def _client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings, run_scheduler=False))


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def say(client: TestClient, mom: str, text: str) -> list[dict[str, Any]]:
    response = client.post("/api/chat", json={"user": MOMS[mom], "text": text})
    assert response.status_code == 200, response.text
    return list(response.json()["replies"])


def later(client: TestClient, mom: str) -> list[dict[str, Any]]:
    return list(client.get(f"/api/chat/{MOMS[mom]}/messages").json()["messages"])


def payloads(message: dict[str, Any]) -> list[str]:
    return [b["payload"] for b in message.get("buttons") or []]


def _in_three_days_local() -> datetime:
    """6 PM in New York three days from now, without an offset (the community's time)."""
    local = datetime.now(ZoneInfo(ZONE)) + timedelta(days=3)
    return local.replace(hour=18, minute=0, second=0, microsecond=0, tzinfo=None)


def _proposal(starts: datetime, **changes: Any) -> dict[str, Any]:
    return {
        "topic": "How we decide what to study, and what happens to your data",
        "details": "A researcher from our team talks in plain words; bring your questions.",
        "starts_at": starts.isoformat(),
        "minutes": 60,
        "online": True,
        "place": LINK,
        "capacity": 2,
        **changes,
    }


def _every_text(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m["text"] for m in messages)


def test_proposed_reviewed_announced_rsvped_reminded_asked_and_heard(
    quiet_free: Settings, tokens: dict[str, str]
) -> None:
    starts_local = _in_three_days_local()
    starts = starts_local.replace(tzinfo=ZoneInfo(ZONE)).astimezone(UTC)
    with _client(quiet_free) as client:
        for mom in ("ana", "bea", "cat"):
            opted = say(client, mom, "/optin_sessions")[0]["text"]
            assert opted == research_texts.opted_in("sessions", "en")
        say(client, "dee", "/research")  # known to peerbot, never opted in
        menu = say(client, "ana", "/research")[0]
        assert "• discussion sessions with researchers: yes" in menu["text"]
        assert "/optout_sessions" in payloads(menu)

        # Proposed by a researcher; a moderator returns it; she changes it; approved reworded.
        proposed = client.post("/api/sessions", headers=auth(tokens["rae"]), json=_proposal(
            starts_local, topic="Addicts and research: what we study"))  # fmt: skip
        assert proposed.status_code == 201, proposed.text
        session_id = proposed.json()["id"]
        assert proposed.json()["status"] == "submitted"
        assert proposed.json()["starts_at"].startswith(starts.strftime("%Y-%m-%dT%H:%M"))
        assert proposed.json()["host"] == "Dr. Rae"
        assert client.get("/api/sessions", headers=auth(tokens["ray"])).json() == {"sessions": []}
        assert (
            client.get(f"/api/sessions/{session_id}", headers=auth(tokens["ray"])).status_code
            == 404
        )
        assert (
            client.post(
                f"/api/review/sessions/{session_id}/approve", headers=auth(tokens["rae"]), json={}
            ).status_code
            == 403
        )
        waiting = client.get("/api/sessions?status=submitted", headers=auth(tokens["mia"]))
        assert [s["id"] for s in waiting.json()["sessions"]] == [session_id]
        returned = client.post(
            f"/api/review/sessions/{session_id}/return",
            headers=auth(tokens["mia"]),
            json={"note": "Please use person-first words: 'people with OUD'."},
        )
        assert returned.json()["status"] == "returned"
        assert "person-first" in returned.json()["review_note"]
        changed = client.put(
            f"/api/sessions/{session_id}", headers=auth(tokens["rae"]), json=_proposal(starts_local)
        )
        assert changed.json()["status"] == "submitted"
        approved = client.post(
            f"/api/review/sessions/{session_id}/approve",
            headers=auth(tokens["mia"]),
            json={
                "topic": "How researchers decide what to study, and what happens to your data",
                "topic_es": "Cómo deciden los investigadores qué estudiar y qué pasa con tus datos",
                "details_es": "Una investigadora habla en palabras sencillas; trae tus preguntas.",
            },
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "approved"

    _run_job(quiet_free, datetime.now(UTC))
    _run_job(quiet_free, datetime.now(UTC))  # a second run announces nothing again
    with _client(quiet_free) as client:
        for mom in ("ana", "bea", "cat"):
            [announcement] = later(client, mom)
            assert "How researchers decide what to study" in announcement["text"]
            assert LINK not in announcement["text"]
            assert payloads(announcement) == [
                f"/session_{answer}_{session_id}" for answer in ("yes", "maybe", "no", "ask")
            ]
        assert later(client, "dee") == []
        # Someone it never reached cannot answer it.
        assert say(client, "dee", f"/session_yes_{session_id}")[0]["text"] == texts.say(
            "not_invited", "en"
        )

        # Past capacity: two yeses take the spots, the third waits; the link only to a yes.
        yes = say(client, "ana", f"/session_yes_{session_id}")
        assert LINK in yes[0]["text"]
        calendar = yes[1]["attachment"]
        assert calendar["filename"] == f"session-{session_id}.ics"
        assert calendar["media_type"] == "text/calendar"
        assert f"LOCATION:{LINK}" in calendar["content"]
        assert f"DTSTART:{starts:%Y%m%dT%H%M%SZ}" in calendar["content"]
        assert LINK in say(client, "bea", f"/session_yes_{session_id}")[0]["text"]
        waitlisted = say(client, "cat", f"/session_yes_{session_id}")
        assert waitlisted[0]["text"] == texts.say("rsvp_waitlist", "en", position=1)
        assert LINK not in _every_text(waitlisted)
        assert all(r.get("attachment") is None for r in waitlisted)
        # Bea changes her mind: maybe. Cat is moved up at once and told, with the link.
        maybe = say(client, "bea", f"/session_maybe_{session_id}")
        assert maybe[0]["text"] == texts.say("rsvp_maybe", "en")
        [moved] = later(client, "cat")
        assert "a spot opened up" in moved["text"] and LINK in moved["text"]
        assert moved["attachment"]["filename"] == f"session-{session_id}.ics"
        assert say(client, "cat", "/sessions")[0]["text"].endswith(
            f"(you're coming). Details: /session_{session_id}"
        )

        # A question ahead, without her name; the host sees it de-identified.
        assert say(client, "ana", f"/session_ask_{session_id}")[0]["text"] == texts.say(
            "ask_prompt", "en"
        )
        asked = say(client, "ana", "My name is Jessica Brown. Who will see what I tell you?")
        assert asked[0]["text"] == texts.say("asked", "en")

    # Reminders: the day before and the hour before, each at its time, each once, each run in
    # a fresh process; the yeses get the link, the maybe does not.
    day_before, hour_before = starts - timedelta(days=1), starts - timedelta(hours=1)
    _run_job(quiet_free, day_before - timedelta(minutes=1))
    with _client(quiet_free) as client:
        assert all(later(client, mom) == [] for mom in ("ana", "bea", "cat"))
    _run_job(quiet_free, day_before + timedelta(seconds=30))
    _run_job(quiet_free, day_before + timedelta(minutes=1))
    with _client(quiet_free) as client:
        for mom in ("ana", "cat"):
            [reminder] = later(client, mom)
            assert reminder["text"].startswith("A reminder:") and LINK in reminder["text"]
        [maybe_reminder] = later(client, "bea")
        assert "You said maybe" in maybe_reminder["text"] and LINK not in maybe_reminder["text"]
        assert later(client, "dee") == []
    _run_job(quiet_free, hour_before - timedelta(seconds=1))
    _run_job(quiet_free, hour_before + timedelta(seconds=5))
    with _client(quiet_free) as client:
        [hour] = later(client, "ana")
        assert "starts in an hour" in hour["text"] and LINK in hour["text"]
        assert "starts in an hour" in later(client, "cat")[0]["text"]
        assert LINK not in later(client, "bea")[0]["text"]

    # The session takes place (its time is moved into the past: the chat reads the real
    # clock); the feedback goes to the yeses an hour after it ends.
    async def took_place(session: Any) -> datetime:
        item = await session.get(DiscussionSession, session_id)
        item.starts_at = datetime.now(UTC) - timedelta(hours=3)
        due = await session.scalar(
            select(SessionReminder.due_at).where(
                SessionReminder.session_id == session_id, SessionReminder.kind == "feedback"
            )
        )
        return due  # type: ignore[no-any-return]

    feedback_due = _db(quiet_free, took_place)
    _run_job(quiet_free, feedback_due + timedelta(seconds=1))
    with _client(quiet_free) as client:
        [asked_ana] = later(client, "ana")
        assert "was it worth your time?" in asked_ana["text"]
        assert payloads(asked_ana)[0] == f"/feedback_yes_{session_id}"
        assert "worth your time" in later(client, "cat")[0]["text"]
        assert later(client, "bea") == []  # a maybe is not asked
        assert say(client, "bea", f"/feedback_no_{session_id}")[0]["text"] == texts.say(
            "feedback_unavailable", "en"
        )
        better = say(client, "ana", f"/feedback_yes_{session_id}")[0]
        assert payloads(better) == [f"/feedback_skip_{session_id}"]
        thanks = say(client, "ana", "More time for questions. Text me at 555-123-4567.")
        assert thanks[0]["text"] == texts.say("feedback_thanks", "en")
        say(client, "cat", f"/feedback_some_{session_id}")
        assert say(client, "cat", f"/feedback_skip_{session_id}")[0]["text"] == texts.say(
            "feedback_thanks", "en"
        )

        # The host: counts, the question, the feedback; never who.
        view = client.get(f"/api/sessions/{session_id}", headers=auth(tokens["rae"]))
        assert view.status_code == 200
        body = view.json()
        assert body["session"]["counts"] == {"yes": 2, "maybe": 1, "no": 0, "waitlist": 0}
        assert body["invited"] == 3
        assert [q["text"] for q in body["questions"]] == [
            "My name is [name]. Who will see what I tell you?"
        ]
        assert body["feedback"]["worth"] == {"yes": 1, "some": 1, "no": 0}
        assert [b["text"] for b in body["feedback"]["better"]] == [
            "More time for questions. Text me at [phone]."
        ]
        assert body["reminders_sent"] == {"day_before": 3, "hour_before": 3, "feedback": 2}
        raw = view.text
        key = client.app.state.services.pseudonym_key  # type: ignore[attr-defined]
        for user in MOMS.values():
            pseudonym = pseudonym_for(key, "web", user)
            assert pseudonym not in raw and pseudonym[:8] not in raw
        assert "member" not in raw.replace("members", "")
        # Moderators see the same; nobody else.
        assert (
            client.get(f"/api/sessions/{session_id}", headers=auth(tokens["mia"])).json()[
                "questions"
            ]
            == body["questions"]
        )

        # Her data: her answer and her words about the session; deleted with her.
        mine = say(client, "ana", "/my_data")[0]["text"]
        assert "Discussion sessions you answered: 1" in mine
        assert "Questions sent ahead and feedback on sessions: 2" in mine
        say(client, "ana", "/delete_my_data")
        say(client, "ana", "/confirm_delete")

    async def left(session: Any) -> tuple[int, int, int]:
        counted = []
        for table in (SessionRsvp, SessionQuestion, SessionFeedback):
            counted.append(int(await session.scalar(select(func.count()).select_from(table))))
        return counted[0], counted[1], counted[2]

    assert _db(quiet_free, left) == (2, 0, 1)  # Bea's and Cat's answers, Cat's feedback


def test_retention_removes_mothers_words_about_a_session(
    quiet_free: Settings, tokens: dict[str, str]
) -> None:
    """Her answers, questions and feedback go `retention_session_days` after the session."""
    from community.retention import purge

    starts_local = _in_three_days_local()
    with _client(quiet_free) as client:
        say(client, "ana", "/optin_sessions")
        session_id = client.post(
            "/api/sessions", headers=auth(tokens["mia"]), json=_proposal(starts_local)
        ).json()["id"]
        client.post(
            f"/api/review/sessions/{session_id}/approve", headers=auth(tokens["mia"]), json={}
        )
    _run_job(quiet_free, datetime.now(UTC))
    with _client(quiet_free) as client:
        say(client, "ana", f"/session_yes_{session_id}")
        say(client, "ana", f"/session_ask_{session_id}")
        say(client, "ana", "What will you do with what we say?")

    async def counted(session: Any) -> tuple[int, int]:
        rsvps = await session.scalar(select(func.count()).select_from(SessionRsvp))
        questions = await session.scalar(select(func.count()).select_from(SessionQuestion))
        return int(rsvps), int(questions)

    async def run_purge(now: datetime) -> None:
        database = Database.connect(quiet_free.resolved_database_url)
        try:
            await purge(database, quiet_free, now)
        finally:
            await database.dispose()

    ends = datetime.now(UTC) + timedelta(days=4)
    asyncio.run(run_purge(ends + timedelta(days=29)))
    assert _db(quiet_free, counted) == (1, 1)
    asyncio.run(run_purge(ends + timedelta(days=31)))
    assert _db(quiet_free, counted) == (0, 0)


def test_a_cancelled_session_tells_those_coming_and_sends_nothing_more(
    quiet_free: Settings, tokens: dict[str, str]
) -> None:
    starts_local = _in_three_days_local()
    starts = starts_local.replace(tzinfo=ZoneInfo(ZONE)).astimezone(UTC)
    with _client(quiet_free) as client:
        say(client, "ana", "/optin_sessions")
        session_id = client.post(
            "/api/sessions", headers=auth(tokens["rae"]), json=_proposal(starts_local)
        ).json()["id"]
        client.post(
            f"/api/review/sessions/{session_id}/approve", headers=auth(tokens["mia"]), json={}
        )
    _run_job(quiet_free, datetime.now(UTC))
    with _client(quiet_free) as client:
        later(client, "ana")
        say(client, "ana", f"/session_yes_{session_id}")
        cancelled = client.post(f"/api/sessions/{session_id}/cancel", headers=auth(tokens["rae"]))
        assert cancelled.json()["status"] == "cancelled"
        [told] = later(client, "ana")
        assert "has been cancelled" in told["text"]
        assert say(client, "ana", f"/session_no_{session_id}")[0]["text"] == texts.say(
            "session_unavailable", "en"
        )
    _run_job(quiet_free, starts - timedelta(hours=1) + timedelta(seconds=1))
    with _client(quiet_free) as client:
        assert later(client, "ana") == []


def test_a_proposal_in_the_past_or_at_once_is_refused(
    quiet_free: Settings, tokens: dict[str, str]
) -> None:
    with _client(quiet_free) as client:
        soon = datetime.now(UTC) + timedelta(minutes=30)
        refused = client.post("/api/sessions", headers=auth(tokens["rae"]), json=_proposal(soon))
        assert refused.status_code == 409
        assert "two hours" in refused.json()["detail"]
        # The last hour of year 9999 in New York is past what UTC can hold: refused, no 500.
        edge = _proposal(datetime(9999, 12, 31, 23, 0))
        assert (
            client.post("/api/sessions", headers=auth(tokens["rae"]), json=edge).status_code == 409
        )
        no_token = client.post("/api/sessions", json=_proposal(_in_three_days_local()))
        assert no_token.status_code == 401


def test_spanish_reader_gets_the_spanish_version(
    quiet_free: Settings, tokens: dict[str, str]
) -> None:
    starts_local = _in_three_days_local()
    with _client(quiet_free) as client:
        say(client, "ana", "/language es")
        say(client, "ana", "/optin_sessions")
        session_id = client.post(
            "/api/sessions", headers=auth(tokens["rae"]), json=_proposal(starts_local)
        ).json()["id"]
        client.post(
            f"/api/review/sessions/{session_id}/approve",
            headers=auth(tokens["mia"]),
            json={
                "topic_es": "Cómo decidimos qué estudiar",
                "details_es": "En palabras sencillas.",
            },
        )
    _run_job(quiet_free, datetime.now(UTC))
    with _client(quiet_free) as client:
        [announcement] = later(client, "ana")
        assert announcement["text"].startswith(texts.say("announce_header", "es"))
        assert "Cómo decidimos qué estudiar" in announcement["text"]
        assert "(hora del Este)" in announcement["text"]
        yes = say(client, "ana", f"/session_yes_{session_id}")
        assert yes[0]["text"].startswith("Qué bien, tienes un lugar.")
        assert "SUMMARY:Cómo decidimos qué estudiar" in yes[1]["attachment"]["content"]


async def test_on_telegram_the_announcement_the_group_post_and_the_calendar_document(
    settings: Settings, rasa: Any
) -> None:
    """On Telegram: she opts in with the button, the session reaches her privately and the
    community group (neither with the link), her yes brings the link and the .ics as a
    document (parsed here as the Bot API received it), and a mom on the waitlist gets nothing."""
    from community.sessions.proposals import Proposal, approve, propose
    from community.staff import StaffIdentity
    from tests.bots.app_harness import running
    from tests.bots.telegram_standin import TOKEN, bot_api_standin

    mom, other, community = 5550101, 5550102, -100888
    with bot_api_standin() as bot_api:
        configured = settings.model_copy(
            update={
                "telegram_token": SecretStr(TOKEN),
                "telegram_base_url": bot_api.url,
                "telegram_community_chat_id": community,
                "rasa_url": rasa.url,
                "research_quiet_start_hour": 0,
                "research_quiet_end_hour": 0,
            }
        )
        async with running(configured) as app:
            for who in (mom, other):
                bot_api.private_message(who, "/research")
                await bot_api.wait_for(lambda who=who: bool(bot_api.texts_to(who)))
                bot_api.button_press(who, "/optin_sessions", who)
                await bot_api.wait_for(
                    lambda who=who: any("discussion sessions" in t for t in bot_api.texts_to(who))
                )
            database = Database.connect(configured.resolved_database_url)
            try:
                async with database.transaction() as session:
                    await add_staff(session, "mia", "moderator", "Mia")
                    item = await propose(
                        session,
                        StaffIdentity(1, "mia", "Mia", "moderator"),
                        Proposal("Talking with researchers", "", datetime.now(UTC)
                                 + timedelta(days=2), 60, True, LINK, 1),
                    )  # fmt: skip
                    await approve(session, item.id, "mia")
            finally:
                await database.dispose()
            await sessions_job(app.state.jobs)
            await bot_api.wait_for(
                lambda: any("Talking with researchers" in t for t in bot_api.texts_to(community))
            )
            await bot_api.wait_for(
                lambda: any("Talking with researchers" in t for t in bot_api.texts_to(mom))
            )
            announced = [
                c for c in bot_api.sent("sendMessage", mom) if "Talking" in c.params["text"]
            ]
            assert len(announced) == 1
            assert all(LINK not in t for t in bot_api.texts_to(community) + bot_api.texts_to(mom))
            buttons = [
                b["callback_data"]
                for row in announced[0].params["reply_markup"]["inline_keyboard"]
                for b in row
            ]
            assert buttons[0] == f"/session_yes_{item.id}"
            bot_api.button_press(mom, buttons[0], mom)
            await bot_api.wait_for(lambda: bool(bot_api.sent("sendDocument", mom)))
            assert any(LINK in t for t in bot_api.texts_to(mom))
            [document] = bot_api.sent("sendDocument", mom)
            sent_file = document.params["document"]
            assert sent_file["filename"] == f"session-{item.id}.ics"
            assert "BEGIN:VEVENT" in sent_file["content"] and LINK in sent_file["content"]
            bot_api.private_message(other, f"/session_yes_{item.id}")
            await bot_api.wait_for(lambda: any("waitlist" in t for t in bot_api.texts_to(other)))
            assert all(LINK not in t for t in bot_api.texts_to(other))
            assert bot_api.sent("sendDocument", other) == []


async def test_on_discord_her_yes_brings_the_link_and_the_calendar_file(
    settings: Settings, rasa: Any
) -> None:
    """On Discord: the announcement in her DMs (no link), the community channel post, and her
    yes by button brings the link with the .ics as a file, parsed as Discord received it."""
    from community.sessions.proposals import Proposal, approve, propose
    from community.staff import StaffIdentity
    from tests.bots.test_discord import MOM, discord_app

    community = "900000000000000056"
    configured = settings.model_copy(
        update={
            "discord_community_channel_id": int(community),
            "research_quiet_start_hour": 0,
            "research_quiet_end_hour": 0,
        }
    )
    async with discord_app(configured, rasa) as (server, app):
        dm = server.dm_channel_for(MOM)
        await server.dm(MOM, "/optin_sessions")
        await server.wait_for(lambda: server.texts_in(dm))
        database = Database.connect(configured.resolved_database_url)
        try:
            async with database.transaction() as session:
                await add_staff(session, "mia", "moderator", "Mia")
                item = await propose(
                    session,
                    StaffIdentity(1, "mia", "Mia", "moderator"),
                    Proposal("Talking with researchers", "", datetime.now(UTC)
                             + timedelta(days=2), 60, True, LINK, 5),
                )  # fmt: skip
                await approve(session, item.id, "mia")
        finally:
            await database.dispose()
        await sessions_job(app.state.jobs)
        await server.wait_for(lambda: server.texts_in(community))
        await server.wait_for(lambda: any("Talking with" in t for t in server.texts_in(dm)))
        assert f"/session_{item.id}" in server.texts_in(community)[0]
        assert all(LINK not in t for t in server.texts_in(community) + server.texts_in(dm))
        announcement = next(p for p in server.posted(dm) if "Talking with" in p["content"])
        yes = announcement["components"][0]["components"][0]["custom_id"]
        assert yes == f"say:/session_yes_{item.id}"
        await server.click(MOM, yes, dm)
        await server.wait_for(lambda: any(p.get("_files") for p in server.posted(dm)))
        assert any(LINK in t for t in server.texts_in(dm))
        [sent] = [f for p in server.posted(dm) for f in p.get("_files", [])]
        assert sent["filename"] == f"session-{item.id}.ics"
        assert "BEGIN:VCALENDAR" in sent["content"] and f"LOCATION:{LINK}" in sent["content"]


def test_when_she_deletes_her_data_her_spot_goes_to_the_waitlist(
    quiet_free: Settings, tokens: dict[str, str]
) -> None:
    starts_local = _in_three_days_local()
    with _client(quiet_free) as client:
        for mom in ("ana", "bea"):
            say(client, mom, "/optin_sessions")
        session_id = client.post(
            "/api/sessions", headers=auth(tokens["mia"]), json=_proposal(starts_local, capacity=1)
        ).json()["id"]
        client.post(
            f"/api/review/sessions/{session_id}/approve", headers=auth(tokens["mia"]), json={}
        )
    _run_job(quiet_free, datetime.now(UTC))
    with _client(quiet_free) as client:
        later(client, "bea")
        assert LINK in say(client, "ana", f"/session_yes_{session_id}")[0]["text"]
        assert LINK not in say(client, "bea", f"/session_yes_{session_id}")[0]["text"]
        say(client, "ana", "/delete_my_data")
        say(client, "ana", "/confirm_delete")
        [moved] = later(client, "bea")
        assert LINK in moved["text"] and moved["attachment"] is not None
        view = client.get(f"/api/sessions/{session_id}", headers=auth(tokens["mia"])).json()
        assert view["session"]["counts"] == {"yes": 1, "maybe": 0, "no": 0, "waitlist": 0}


async def test_review_from_a_chat_home_lists_approves_and_returns(database: Database) -> None:
    """The moderators' group or channel: /proposals, /approvesession N [words],
    /returnsession N NOTE, through the one command table (as Telegram and Discord run them)."""
    from bots.command_grammar import ModeratorCall
    from bots.commands import run_moderator_command
    from community.models import Staff
    from community.sessions.proposals import Proposal, propose
    from community.staff import StaffIdentity

    async with database.transaction() as session:
        await add_staff(session, "rae", "researcher", "Dr. Rae")
        rae = await session.scalar(select(Staff).where(Staff.name == "rae"))
        assert rae is not None
        proposer = StaffIdentity(rae.id, rae.name, rae.display_name, rae.role)
        starts = datetime.now(UTC) + timedelta(days=2)
        first = await propose(
            session, proposer, Proposal("Addicts and research", "", starts, 60, True, LINK, 8)
        )
        second = await propose(
            session, proposer, Proposal("What we study", "", starts, 60, False, "12 Elm St", 8)
        )
    call = ModeratorCall(database, "telegram:777", "Mia")
    listed = await run_moderator_command(call, "/proposals")
    assert listed is not None
    assert f"Session {first.id} by Dr. Rae" in listed and f"Session {second.id}" in listed
    assert LINK in listed and "at 12 Elm St" in listed
    missing = await run_moderator_command(call, f"/returnsession {first.id}")
    assert missing == "Write it as /returnsession N NOTE."
    returned = await run_moderator_command(
        call, f"/returnsession {first.id} Please say: people with opioid use disorder"
    )
    assert returned == f"Session {first.id} went back to its proposer with your note."
    approved = await run_moderator_command(
        call, f"/approvesession {second.id} How researchers decide what to study"
    )
    assert approved is not None and approved.startswith(f"Session {second.id} approved")
    assert await run_moderator_command(call, "/approvesession 999999") == (
        "There is no session 999999."
    )
    async with database.sessions() as session:
        kept = {s.id: s for s in (await session.scalars(select(DiscussionSession))).all()}
    assert kept[first.id].status == "returned" and "opioid" in (kept[first.id].review_note or "")
    assert kept[second.id].status == "approved"
    assert kept[second.id].topic == "How researchers decide what to study"
    assert kept[second.id].reviewed_by == "telegram:777"
    assert await run_moderator_command(call, "/proposals") == (
        "No discussion sessions waiting for review."
    )
