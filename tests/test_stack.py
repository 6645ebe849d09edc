"""End to end through `peerbot run`: the real Rasa server trained on the project's data, the real
action server and the bot app, driven over HTTP as the web chat does."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from community.members import pseudonym_for
from community.models import Case, Member, OutboxMessage
from community.settings import sync_database_url
from tests.conftest import Stack, launch_stack, rasa_runtime_or_skip, stop_stack

pytestmark = pytest.mark.rasa
CORE_RESOURCES = ("988", "1-800-662-4357", "findtreatment.gov")
STACK_SECRET = b"stack-test-secret-key-0123456789abcdef"


def chat(client: httpx.Client, user: str, text: str) -> list[dict[str, object]]:
    response = client.post("/api/chat", json={"user": user, "text": text})
    assert response.status_code == 200, response.text
    replies: list[dict[str, object]] = response.json()["replies"]
    return replies


def all_text(replies: list[dict[str, object]]) -> str:
    return "\n".join(str(r["text"]) for r in replies)


def new_user() -> str:
    return uuid.uuid4().hex


def stack_session(stack: Stack) -> Session:
    return Session(create_engine(sync_database_url(stack.database_url)))


def test_health_reports_every_component(app_client: httpx.Client) -> None:
    body = app_client.get("/healthz").json()
    assert body["components"] == {"app": "up", "database": "up", "rasa": "up", "scheduler": "up"}


def test_hi_is_answered_by_the_trained_model(app_client: httpx.Client) -> None:
    replies = chat(app_client, new_user(), "hi")
    assert "I'm peerbot" in all_text(replies)
    titles = [b["title"] for b in replies[0]["buttons"]]  # type: ignore[attr-defined]
    assert "Talk to a person" in titles


def test_faq_and_button_payload(app_client: httpx.Client) -> None:
    user = new_user()
    assert "Both work well" in all_text(
        chat(app_client, user, "whats the difference between methadone and subs")
    )
    # A button press sends its payload, as the page does.
    assert "Narcan" in all_text(chat(app_client, user, "/faq_naloxone"))


def test_custom_action_answers_from_the_vetted_directory(app_client: httpx.Client) -> None:
    text = all_text(chat(app_client, new_user(), "where can i find help"))
    for number in CORE_RESOURCES:
        assert number in text


def test_asking_for_a_person_opens_a_case_the_bot_still_answers_and_she_can_cancel(
    stack: Stack, app_client: httpx.Client
) -> None:
    user = new_user()
    text = all_text(chat(app_client, user, "can i talk to a real person please"))
    assert "person from our community" in text
    with stack_session(stack) as session:
        member = session.scalar(
            select(Member).where(Member.pseudonym == pseudonym_for(STACK_SECRET, "web", user))
        )
        assert member is not None
        case = session.scalar(select(Case).where(Case.member_id == member.id))
        assert case is not None and case.source == "request" and case.status == "waiting"
    # While a person is being asked to join, the bot still answers her, marked as the bot's.
    follow_up = all_text(chat(app_client, user, "hi"))
    assert follow_up.startswith("(peerbot, the bot, while you wait)\n")
    assert "I'm peerbot" in follow_up
    # She can take her request back.
    assert "cancelled your request" in all_text(chat(app_client, user, "never mind"))
    with stack_session(stack) as session:
        cancelled = session.scalar(select(Case).where(Case.member_id == member.id))
        assert cancelled is not None and cancelled.status == "returned"


def test_crisis_gets_the_crisis_reply_and_a_case(stack: Stack, app_client: httpx.Client) -> None:
    user = new_user()
    text = all_text(chat(app_client, user, "i dont want to be here anymore, i want to die"))
    assert "988" in text
    assert "person from our community" in text
    with stack_session(stack) as session:
        pseudonym = pseudonym_for(STACK_SECRET, "web", user)
        case = session.scalar(select(Case).join(Member).where(Member.pseudonym == pseudonym))
        assert case is not None
        assert (case.source, case.category) == ("screen", "suicide")


def test_later_messages_are_delivered_once_and_keep_no_text(
    stack: Stack, app_client: httpx.Client
) -> None:
    user = new_user()
    chat(app_client, user, "hello")
    with stack_session(stack) as session, session.begin():
        pseudonym = pseudonym_for(STACK_SECRET, "web", user)
        member = session.scalar(select(Member).where(Member.pseudonym == pseudonym))
        assert member is not None
        member_id = member.id
        session.add(
            OutboxMessage(
                member_id=member_id, platform="web", text="Hi, I'm Sam.", sender_name="Sam"
            )
        )
    first = app_client.get(f"/api/chat/{user}/messages").json()["messages"]
    assert [(m["text"], m["sender_name"]) for m in first] == [("Hi, I'm Sam.", "Sam")]
    assert app_client.get(f"/api/chat/{user}/messages").json()["messages"] == []
    with stack_session(stack) as session:
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.member_id == member_id))
        assert row is not None and row.text is None and row.delivered_at is not None


def test_openapi_documents_the_chat_contract(app_client: httpx.Client) -> None:
    paths = app_client.get("/openapi.json").json()["paths"]
    assert {"/api/chat", "/api/chat/{user}/messages", "/healthz"} <= set(paths)


def _child_pids(parent: int) -> list[int]:
    found = subprocess.run(
        ["pgrep", "-P", str(parent)], capture_output=True, text=True, check=False
    ).stdout.split()
    return [int(pid) for pid in found]


def test_rasa_killed_gives_fallback_then_rasa_comes_back(
    stack: Stack, app_client: httpx.Client
) -> None:
    rasa_shell = stack.service_pids()["rasa"]
    children = _child_pids(rasa_shell)
    assert children, "the Rasa server process was not found"
    for pid in children:
        os.kill(pid, signal.SIGKILL)

    started = time.monotonic()
    replies = chat(app_client, new_user(), "hi")
    elapsed = time.monotonic() - started
    text = all_text(replies)
    for number in CORE_RESOURCES:
        assert number in text
    assert elapsed < 2.0, f"fallback took {elapsed:.2f} s"
    health = app_client.get("/healthz")
    assert health.status_code == 200 and health.json()["components"]["rasa"] == "down"

    # The runner restarts Rasa; the app never went away.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if app_client.get("/healthz").json()["components"]["rasa"] == "up":
            break
        time.sleep(1)
    assert "I'm peerbot" in all_text(chat(app_client, new_user(), "hi"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigterm_stops_every_process(tmp_path: Path) -> None:
    rasa_runtime_or_skip()
    running = launch_stack(tmp_path)
    pids = list(running.service_pids().values())
    pids += [child for pid in pids for child in _child_pids(pid)]
    assert len(pids) >= 4  # three services, plus Rasa under its restart loop
    stop_stack(running)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.2)
    assert [pid for pid in pids if _alive(pid)] == []
    assert "rasa stopped" in running.output() and "app stopped" in running.output()
