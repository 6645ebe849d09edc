"""Her data rights through the whole of `peerbot run` (real Rasa with its token-protected API):
chat, a research answer and a question for researchers, a crisis and its case, "what do you
know about me", then deletion, after which nothing of hers is left in peerbot's database or in
Rasa's memory (only the anonymous deletion record), and the log never held her words."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from community.members import pseudonym_for
from community.models import (
    Base,
    Case,
    CaseMessage,
    DeletionRecord,
    DeliveryAddress,
    Member,
)
from community.research.models import (
    MemberQuestion,
    ResearchAnswer,
)
from community.settings import Settings, sync_database_url
from tests.conftest import Stack

pytestmark = pytest.mark.rasa
STACK_SECRET = "stack-test-secret-key-0123456789abcdef"


def chat(client: httpx.Client, user: str, text: str) -> str:
    response = client.post("/api/chat", json={"user": user, "text": text})
    assert response.status_code == 200, response.text
    return "\n".join(str(r["text"]) for r in response.json()["replies"])


def test_a_member_sees_and_deletes_her_data_everywhere(
    stack: Stack, app_client: httpx.Client
) -> None:
    user = uuid.uuid4().hex
    secret_words = f"my name is Jolene {uuid.uuid4().hex[:6]} and i want to die"
    marker = f"marker{uuid.uuid4().hex[:8]}"
    chat(app_client, user, "hi")
    _answer_a_research_question(stack, app_client, user, f"Being heard helps {marker}")
    # A question she sends (shown to her first), and one she leaves unsent: both are hers.
    asked = app_client.post(
        "/api/chat", json={"user": user, "text": f"/ask do you pay for studies {marker}"}
    )
    [draft] = asked.json()["replies"]
    assert "Send it?" in draft["text"]
    assert "on its way" in chat(app_client, user, draft["buttons"][0]["payload"])
    assert "Send it?" in chat(app_client, user, f"/ask do you share results {marker}")
    # Asked in words, through the trained model (which hands the answer to the app).
    summary = chat(app_client, user, "what do you know about me")
    assert "Here is what peerbot keeps about you" in summary and "web" in summary
    assert "Questions you asked researchers: 1." in summary
    assert "Questions for researchers you wrote but haven't sent: 1" in summary
    assert "988" in chat(app_client, user, secret_words)
    # While a person has the conversation, words go to that person; the buttons and commands
    # for her data still work.
    summary = chat(app_client, user, "/my_data")
    assert "Conversations with a person from our team: 1" in summary
    assert "Yes, delete everything" in str(
        app_client.post("/api/chat", json={"user": user, "text": "/delete_my_data"}).json()
    )
    assert "deleted" in chat(app_client, user, "/confirm_delete")

    pseudonym = pseudonym_for(STACK_SECRET.encode(), "web", user)
    with Session(create_engine(sync_database_url(stack.database_url))) as session:
        assert session.scalar(select(Member).where(Member.pseudonym == pseudonym)) is None
        assert session.scalar(select(func.count()).select_from(DeliveryAddress).where(
            DeliveryAddress.address == user)) == 0  # fmt: skip
        texts = session.scalars(select(CaseMessage.text)).all()
        assert not any("Jolene" in t for t in texts)
        assert session.scalar(select(func.count(DeletionRecord.id))) >= 1
        assert all(c.member_id is not None for c in session.scalars(select(Case)))
        assert not any(marker in t for t in session.scalars(select(ResearchAnswer.text)))
        assert not any(marker in t for t in session.scalars(select(MemberQuestion.text)))
        # Every table that refers to a member, whatever it is (research, flags, blocks, staff
        # links, the outbox...): nothing points to a member who no longer exists.
        members = select(Member.id)
        tables = [t for t in Base.metadata.sorted_tables if "member_id" in t.c]
        assert len(tables) >= 12
        for table in tables:
            orphans = session.scalar(
                select(func.count()).select_from(table).where(table.c.member_id.not_in(members))
            )
            assert orphans == 0, table.name

    token = Settings(secret_key=SecretStr(STACK_SECRET)).rasa_api_token()
    tracker = httpx.get(
        f"{stack.rasa_url}/conversations/{pseudonym}/tracker", params={"token": token}, timeout=10
    ).json()
    said = [e.get("text") for e in tracker.get("events", []) if e.get("event") == "user"]
    assert said == [], said
    # Without the token, Rasa's API refuses.
    refused = httpx.get(f"{stack.rasa_url}/conversations/{pseudonym}/tracker", timeout=10)
    assert refused.status_code == 401
    # The token is on no process's command line, where `ps` shows it to every local user.
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            assert token.encode() not in cmdline.read_bytes(), cmdline
        except OSError:
            continue  # the process ended meanwhile

    log = stack.log_path.read_text(encoding="utf-8")
    assert "Jolene" not in log and user not in log and token not in log and marker not in log


def _answer_a_research_question(
    stack: Stack, app_client: httpx.Client, user: str, answer: str
) -> None:
    researcher = {"Authorization": f"Bearer {stack.add_staff('rae-privacy', 'researcher')}"}
    moderator = {"Authorization": f"Bearer {stack.add_staff('mod-privacy', 'moderator')}"}
    assert "Done" in chat(app_client, user, "/optin_questions")
    question = app_client.post(
        "/api/research/questions",
        headers=researcher,
        json={"text": "What helps you trust a study team?", "quotes_allowed": True},
    ).json()
    app_client.post(f"/api/review/questions/{question['id']}/approve", headers=moderator, json={})
    app_client.post(f"/api/research/questions/{question['id']}/publish", headers=moderator, json={})
    deadline = time.monotonic() + 30
    while not any(
        "trust a study team" in m["text"]
        for m in app_client.get(f"/api/chat/{user}/messages").json()["messages"]
    ):
        assert time.monotonic() < deadline, "the research question did not arrive"
        time.sleep(0.5)
    chat(app_client, user, f"/consent_{question['id']}")
    assert "saved" in chat(app_client, user, answer)
    answers = app_client.get(
        f"/api/research/questions/{question['id']}/answers", headers=researcher
    ).json()["answers"]
    assert [a["text"] for a in answers] == [answer]
