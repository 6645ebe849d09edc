"""Research Q&A through the real app and the web chat: a researcher submits, a moderator
reviews, publication reaches only the mothers who opted in, she consents and answers, the
researcher's export is de-identified; mothers ask researchers; roles are checked everywhere."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from community.db import Database
from community.research import texts
from community.research.models import MemberQuestion
from community.scheduling import research_job, retention_job
from community.settings import Settings
from community.staff import add_staff
from peerbot.app import create_app

ANSWER = (
    "My name is Jessica Brown, call me at (555) 123-4567 or jess.b@example.com. What helps is "
    "being listened to without judgement, at 42 Oak Street."
)


async def _staff(settings: Settings, name: str, role: str) -> str:
    database = Database.connect(settings.resolved_database_url)
    try:
        async with database.transaction() as session:
            return await add_staff(session, name, role, name.capitalize())
    finally:
        await database.dispose()


@pytest.fixture
def research_settings(settings: Settings) -> Settings:
    # No quiet hours: the tests must not depend on the time of day they run at.
    return settings.model_copy(
        update={"research_quiet_start_hour": 0, "research_quiet_end_hour": 0}
    )


@pytest.fixture
def tokens(research_settings: Settings) -> dict[str, str]:
    return {
        name: asyncio.run(_staff(research_settings, name, role))
        for name, role in (
            ("mia", "moderator"), ("rae", "researcher"), ("ray", "researcher")
        )
    }  # fmt: skip


@pytest.fixture
def client(research_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(research_settings, run_scheduler=False)) as test_client:
        yield test_client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def say(client: TestClient, user: str, text: str) -> list[dict[str, Any]]:
    user = user.ljust(16, "0")  # web chat ids are 16+ characters
    response = client.post("/api/chat", json={"user": user, "text": text})
    assert response.status_code == 200
    replies: list[dict[str, Any]] = response.json()["replies"]
    return replies


def later(client: TestClient, user: str) -> list[dict[str, Any]]:
    user = user.ljust(16, "0")  # web chat ids are 16+ characters
    messages: list[dict[str, Any]] = client.get(f"/api/chat/{user}/messages").json()["messages"]
    return messages


def run_jobs(client: TestClient) -> None:
    assert client.portal is not None
    client.portal.call(research_job, client.app.state.jobs)  # type: ignore[attr-defined]


def publish_question(client: TestClient, tokens: dict[str, str], quotes: bool = True) -> int:
    submitted = client.post(
        "/api/research/questions",
        headers=auth(tokens["rae"]),
        json={
            "text": "What makes you comfortable speaking out about addiction?",
            "context": "We are a university team studying stigma.",
            "quotes_allowed": quotes,
        },
    )
    assert submitted.status_code == 201, submitted.text
    question = submitted.json()
    assert question["status"] == "submitted"
    approved = client.post(
        f"/api/review/questions/{question['id']}/approve",
        headers=auth(tokens["mia"]),
        json={"text": "What makes you comfortable speaking out about opioid use disorder?"},
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    published = client.post(
        f"/api/research/questions/{question['id']}/publish", headers=auth(tokens["rae"]), json={}
    )
    assert published.status_code == 200, published.text
    run_jobs(client)
    return int(question["id"])


def test_submit_review_publish_consent_answer_export(
    client: TestClient, tokens: dict[str, str]
) -> None:
    opted = say(client, "mom-a", "/optin_questions")
    assert "Done" in opted[0]["text"]
    say(client, "mom-b", "/research")  # known to peerbot, never opted in

    question_id = publish_question(client, tokens)
    status = client.get(f"/api/research/questions/{question_id}", headers=auth(tokens["rae"]))
    assert status.json()["status"] == "published"
    # The edit reached mothers; the researcher still sees what she wrote.
    assert "opioid use disorder" in status.json()["text"]
    assert "addiction" in status.json()["submitted_text"]

    received = later(client, "mom-a")
    assert len(received) == 1
    assert "opioid use disorder" in received[0]["text"]
    assert {b["payload"] for b in received[0]["buttons"]} == {
        f"/answer_{question_id}",
        f"/skip_{question_id}",
    }
    assert later(client, "mom-b") == []
    run_jobs(client)  # a second run sends nobody anything again
    assert later(client, "mom-a") == []

    terms = say(client, "mom-a", f"/answer_{question_id}")[0]
    assert "without your name" in terms["text"]
    assert f"/consent_{question_id}" in {b["payload"] for b in terms["buttons"]}
    assert "next message" in say(client, "mom-a", f"/consent_{question_id}")[0]["text"]
    saved = say(client, "mom-a", ANSWER)[0]
    assert "saved" in saved["text"]

    answers = client.get(
        f"/api/research/questions/{question_id}/answers", headers=auth(tokens["rae"])
    ).json()["answers"]
    assert len(answers) == 1
    text = answers[0]["text"]
    for identifier in ("Jessica", "Brown", "555", "4567", "jess.b", "example.com", "42 Oak"):
        assert identifier not in text
    assert "listened to without judgement" in text
    export = client.get(
        f"/api/research/questions/{question_id}/answers.csv", headers=auth(tokens["rae"])
    )
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [r["answer"] for r in rows] == [text]
    assert "mom-a" not in export.text

    counts = client.get(
        f"/api/research/questions/{question_id}", headers=auth(tokens["rae"])
    ).json()["counts"]
    assert counts == {"asked": 1, "answered": 1, "declined": 0}
    # Another researcher cannot see this question or its answers.
    assert (
        client.get(
            f"/api/research/questions/{question_id}/answers", headers=auth(tokens["ray"])
        ).status_code
        == 404
    )

    assert "deleted" in say(client, "mom-a", f"/withdraw_{question_id}")[0]["text"]
    assert (
        client.get(
            f"/api/research/questions/{question_id}/answers", headers=auth(tokens["rae"])
        ).json()["answers"]
        == []
    )


def test_refusing_the_terms_stores_nothing_and_is_counted(
    client: TestClient, tokens: dict[str, str]
) -> None:
    say(client, "mom-c", "/optin_questions")
    question_id = publish_question(client, tokens, quotes=False)
    later(client, "mom-c")
    terms = say(client, "mom-c", f"/answer_{question_id}")[0]
    assert "will not quote you" in terms["text"]
    assert "fine" in say(client, "mom-c", f"/noconsent_{question_id}")[0]["text"]
    # Her next message goes to the bot (Rasa is down here: the kind fallback), not to research.
    say(client, "mom-c", "I think being heard matters")
    body = client.get(f"/api/research/questions/{question_id}", headers=auth(tokens["rae"]))
    assert body.json()["counts"] == {"asked": 1, "answered": 0, "declined": 1}


def test_opting_out_stops_everything_at_once(client: TestClient, tokens: dict[str, str]) -> None:
    say(client, "mom-d", "/optin_questions")
    menu = say(client, "mom-d", "/research")[0]
    assert "questions from researchers: yes" in menu["text"]
    assert "/optout_all" in {b["payload"] for b in menu["buttons"]}
    say(client, "mom-d", "/optout_all")
    publish_question(client, tokens)
    assert later(client, "mom-d") == []


def test_a_declined_question_never_reaches_mothers(
    client: TestClient, tokens: dict[str, str]
) -> None:
    say(client, "mom-e", "/optin_questions")
    question = client.post(
        "/api/research/questions",
        headers=auth(tokens["rae"]),
        json={"text": "Why do addicts relapse?", "context": ""},
    ).json()
    declined = client.post(
        f"/api/review/questions/{question['id']}/decline",
        headers=auth(tokens["mia"]),
        json={"reason": "Please use person-first language."},
    )
    assert declined.json()["decline_reason"] == "Please use person-first language."
    refused = client.post(
        f"/api/research/questions/{question['id']}/publish", headers=auth(tokens["rae"]), json={}
    )
    assert refused.status_code == 409
    run_jobs(client)
    assert later(client, "mom-e") == []


def test_mothers_ask_researchers_answer_moderators_review(
    client: TestClient, tokens: dict[str, str]
) -> None:
    prompt = say(client, "mom-f", "/ask")[0]
    assert "next message" in prompt["text"]
    draft = say(client, "mom-f", "How do you decide what to study? I'm Dana.")[0]
    assert "Send it?" in draft["text"] and "Dana" not in draft["text"]
    queued = say(client, "mom-f", payload(draft, "Send it"))[0]
    assert "on its way" in queued["text"]
    waiting = client.get("/api/research/member-questions", headers=auth(tokens["rae"])).json()
    [question] = waiting["questions"]
    assert "Dana" not in question["question"]
    # What she was shown is what the researcher reads.
    assert f"“{question['question']}”" in draft["text"]
    answered = client.post(
        f"/api/research/member-questions/{question['id']}/answer",
        headers=auth(tokens["rae"]),
        json={"text": "We look for gaps in what is known, and we listen to communities."},
    )
    assert answered.json()["status"] == "answered"
    assert later(client, "mom-f") == []  # nothing reaches her before review
    review = client.get("/api/review/member-questions", headers=auth(tokens["mia"])).json()
    assert [q["id"] for q in review["questions"]] == [question["id"]]
    approved = client.post(
        f"/api/review/member-questions/{question['id']}/approve",
        headers=auth(tokens["mia"]),
        json={"answer": "We look for gaps in what is known, and we listen to moms like you."},
    )
    assert approved.json()["status"] == "delivered"
    [message] = later(client, "mom-f")
    assert "moms like you" in message["text"]
    assert f"/library_yes_{question['id']}" in {b["payload"] for b in message["buttons"]}

    assert (
        "Research 101 is just getting started"
        in say(client, "mom-g", "/research_library")[0]["text"]
    )
    assert "help other moms" in say(client, "mom-f", f"/library_yes_{question['id']}")[0]["text"]
    library = say(client, "mom-g", "/research_library")[0]["text"]
    assert "How do you decide what to study?" in library
    assert "moms like you" in library
    # Someone else cannot share her question.
    refused = say(client, "mom-g", f"/library_yes_{question['id']}")[0]["text"]
    assert refused == texts.say("library_unavailable", "en")


def test_asking_with_the_question_inline(client: TestClient, tokens: dict[str, str]) -> None:
    """Written after /ask itself, the question is still shown to her before it goes."""
    [draft] = say(client, "mom-h", "/ask Do researchers share results with us?")
    assert draft["text"] == texts.draft(0, "Do researchers share results with us?", "en")[0]
    assert waiting_questions(client, tokens) == []
    say(client, "mom-h", payload(draft, "Send it"))
    assert waiting_questions(client, tokens) == ["Do researchers share results with us?"]


def test_changing_her_mind_sends_nothing(client: TestClient, tokens: dict[str, str]) -> None:
    """ "nvm" after "what would you like to ask?" cancels; "never mind, ..." with more words is
    read as any message, and none of it reaches researchers, not even as a draft."""
    say(client, "mom-n", "/ask")
    assert say(client, "mom-n", "nvm")[0]["text"] == texts.say("cancelled", "en")
    say(client, "mom-n", "/ask")
    replies = say(client, "mom-n", "never mind. are there online groups for moms")
    assert not any("on its way" in r["text"] or "Send it?" in r["text"] for r in replies)
    assert waiting_questions(client, tokens) == []
    # Her next message is hers again, not a question for researchers.
    later_replies = say(client, "mom-n", "thanks")
    assert not any("on its way" in r["text"] or "Send it?" in r["text"] for r in later_replies)
    assert stored_questions(client) == []


def payload(reply: dict[str, Any], title: str) -> str:
    [button] = [b for b in reply["buttons"] if b["title"] == title]
    return str(button["payload"])


def waiting_questions(client: TestClient, tokens: dict[str, str]) -> list[str]:
    """What researchers are shown, and what moderators review."""
    shown = client.get("/api/research/member-questions", headers=auth(tokens["rae"]))
    assert shown.status_code == 200
    review = client.get("/api/review/member-questions", headers=auth(tokens["mia"]))
    assert review.json()["questions"] == []  # nothing answered in these tests
    return [q["question"] for q in shown.json()["questions"]]


def stored_questions(client: TestClient) -> list[tuple[int, str, str]]:
    """Every mother's question in the database: (number, status, text)."""

    async def rows() -> list[tuple[int, str, str]]:
        database = client.app.state.services.database  # type: ignore[attr-defined]
        async with database.sessions() as session:
            found = await session.execute(
                select(MemberQuestion.id, MemberQuestion.status, MemberQuestion.text).order_by(
                    MemberQuestion.id
                )
            )
            return [(number, status, text) for number, status, text in found.all()]

    assert client.portal is not None
    return client.portal.call(rows)


def age_questions(client: TestClient, by: timedelta) -> None:
    async def age() -> None:
        database = client.app.state.services.database  # type: ignore[attr-defined]
        async with database.transaction() as session:
            for question in (await session.scalars(select(MemberQuestion))).all():
                question.created_at -= by

    assert client.portal is not None
    client.portal.call(age)


def test_asking_whether_they_would_know_her_is_answered_before_her_question(
    client: TestClient,
) -> None:
    """ "would they know it was me?" after /ask is about the asking: she is told, nothing is
    drafted, and her next message is still her question."""
    say(client, "mom-w", "/ask")
    for worry in ("would they know it was me asking", "will the researchers know its me tho"):
        [told] = say(client, "mom-w", worry)
        assert told["text"].startswith("No. Researchers never see your name")
        assert stored_questions(client) == []
    [draft] = say(client, "mom-w", "how long do babies stay in the nicu for withdrawal")
    assert draft["text"].startswith("Researchers will read this, without your name")
    [(_, status, text)] = stored_questions(client)
    assert status == "draft" and "nicu" in text


def test_what_she_writes_after_ask_is_a_draft_until_she_sends_it(
    client: TestClient, tokens: dict[str, str]
) -> None:
    """Her next message is not sent by itself: she sees it as researchers would read it
    (de-identified), and only "Send it" sends it, once."""
    say(client, "mom-p", "/ask")
    [draft] = say(client, "mom-p", "why do moms on mat get tested more? my name is Jessica Brown")
    assert draft["text"].startswith("Researchers will read this, without your name")
    assert draft["text"].endswith("Send it?")
    assert "on its way" not in draft["text"]
    assert "Jessica" not in draft["text"] and "Brown" not in draft["text"]
    [(number, status, text)] = stored_questions(client)
    assert status == "draft" and f"“{text}”" in draft["text"]
    assert [(b["title"], b["payload"]) for b in draft["buttons"]] == [
        ("Send it", f"/ask_send_{number}"),
        ("Don't send", f"/ask_drop_{number}"),
    ]
    # Researchers and moderators never see a draft, nor can they act on it.
    assert waiting_questions(client, tokens) == []
    answered = client.post(
        f"/api/research/member-questions/{number}/answer",
        headers=auth(tokens["rae"]),
        json={"text": "No, never."},
    )
    assert answered.status_code == 404
    for act, body in (("approve", {}), ("decline", {"note": "Please"})):
        reviewed = client.post(
            f"/api/review/member-questions/{number}/{act}", headers=auth(tokens["mia"]), json=body
        )
        assert reviewed.status_code == 404
    assert stored_questions(client) == [(number, "draft", text)]

    # Someone else's press changes nothing and says only that there is no draft of hers.
    for pressed in (f"/ask_send_{number}", f"/ask_drop_{number}"):
        [other] = say(client, "mom-q", pressed)
        assert other["text"] == texts.say("draft_gone", "en")
    assert stored_questions(client) == [(number, "draft", text)]

    [sent] = say(client, "mom-p", f"/ask_send_{number}")
    assert sent["text"] == texts.asked(number, "en")
    assert waiting_questions(client, tokens) == [text]
    # Pressing again, or "Don't send" now: nothing changes, and she is told kindly why.
    for pressed in (f"/ask_send_{number}", f"/ask_drop_{number}"):
        [again] = say(client, "mom-p", pressed)
        assert again["text"] == texts.say("draft_already_sent", "en", number=number)
    assert waiting_questions(client, tokens) == [text]
    assert stored_questions(client) == [(number, "queued", text)]
    # A sent question is as private as before: another mother learns nothing about it.
    [other] = say(client, "mom-q", f"/ask_send_{number}")
    assert other["text"] == texts.say("draft_gone", "en")


def test_dont_send_deletes_her_draft(client: TestClient, tokens: dict[str, str]) -> None:
    [draft] = say(client, "mom-r", "/ask do you pay moms who take part in studies?")
    [(number, _, _)] = stored_questions(client)
    [dropped] = say(client, "mom-r", payload(draft, "Don't send"))
    assert dropped["text"] == texts.say("draft_dropped", "en")
    assert stored_questions(client) == []
    for pressed in (f"/ask_drop_{number}", f"/ask_send_{number}"):
        [again] = say(client, "mom-r", pressed)
        assert again["text"] == texts.say("draft_gone", "en")
    assert stored_questions(client) == [] and waiting_questions(client, tokens) == []
    # A press for a number that never existed is answered the same way.
    assert say(client, "mom-r", "/ask_send_999999")[0]["text"] == texts.say("draft_gone", "en")


def test_a_draft_left_alone_is_deleted_after_a_day(
    client: TestClient, tokens: dict[str, str]
) -> None:
    [sent] = say(client, "mom-s", "/ask is it safe to breastfeed on methadone?")
    say(client, "mom-s", payload(sent, "Send it"))
    [left] = say(client, "mom-s", "/ask how long do studies last?")
    age_questions(client, timedelta(days=1, minutes=1))
    [recent] = say(client, "mom-s", "/ask who pays for the research?")
    before = stored_questions(client)
    assert [status for _, status, _ in before] == ["queued", "draft", "draft"]
    [sent_number, _, recent_number] = [number for number, _, _ in before]

    assert client.portal is not None
    client.portal.call(retention_job, client.app.state.jobs)  # type: ignore[attr-defined]
    assert [(number, status) for number, status, _ in stored_questions(client)] == [
        (sent_number, "queued"), (recent_number, "draft")
    ]  # fmt: skip
    # The deleted one's button now says it is gone; the recent one can still be sent.
    assert say(client, "mom-s", payload(left, "Send it"))[0]["text"] == texts.say(
        "draft_gone", "en"
    )
    say(client, "mom-s", payload(recent, "Send it"))
    assert waiting_questions(client, tokens) == [
        "is it safe to breastfeed on methadone?", "who pays for the research?"
    ]  # fmt: skip


def test_an_expired_draft_cannot_be_sent_before_retention_runs(
    client: TestClient, tokens: dict[str, str]
) -> None:
    [draft] = say(client, "mom-t", "/ask what happens to my data?")
    age_questions(client, timedelta(days=1, minutes=1))
    assert say(client, "mom-t", payload(draft, "Send it"))[0]["text"] == texts.say(
        "draft_gone", "en"
    )
    assert stored_questions(client) == [] and waiting_questions(client, tokens) == []


def test_my_data_shows_her_draft_and_deleting_her_data_removes_it(client: TestClient) -> None:
    unsent = "Questions for researchers you wrote but haven't sent: 1"
    [draft] = say(client, "mom-u", "/ask can my baby stay with me in the NICU?")
    [summary] = say(client, "mom-u", "/my_data")
    assert unsent in summary["text"]
    assert "Questions you asked researchers" not in summary["text"]
    say(client, "mom-u", payload(draft, "Send it"))
    say(client, "mom-u", "/ask and what about rooming-in?")
    [summary] = say(client, "mom-u", "/my_data")
    assert "Questions you asked researchers: 1." in summary["text"] and unsent in summary["text"]
    say(client, "mom-v", "/ask someone else's question")

    say(client, "mom-u", "/delete_my_data")
    assert "deleted" in say(client, "mom-u", "/confirm_delete")[0]["text"]
    assert [text for _, _, text in stored_questions(client)] == ["someone else's question"]


ROUTES = [
    ("researcher", "post", "/api/research/questions", {"text": "A question?", "context": ""}),
    ("researcher", "get", "/api/research/questions", None),
    ("researcher", "get", "/api/research/questions/1", None),
    ("researcher", "get", "/api/research/questions/1/answers", None),
    ("researcher", "get", "/api/research/questions/1/answers.csv", None),
    ("researcher", "get", "/api/research/digests", None),
    ("researcher", "get", "/api/research/member-questions", None),
    ("researcher", "post", "/api/research/member-questions/1/answer", {"text": "An answer"}),
    ("moderator", "get", "/api/review/questions", None),
    ("moderator", "post", "/api/review/questions/1/approve", {}),
    ("moderator", "post", "/api/review/questions/1/decline", {"reason": "Because"}),
    ("moderator", "post", "/api/review/questions/1/spanish", {"text_es": ""}),
    ("moderator", "get", "/api/review/member-questions", None),
    ("moderator", "post", "/api/review/member-questions/1/approve", {}),
    ("moderator", "post", "/api/review/member-questions/1/decline", {"note": "Please"}),
]


@pytest.mark.parametrize(("role", "method", "path", "body"), ROUTES)
def test_research_routes_check_the_role(
    client: TestClient, tokens: dict[str, str], role: str, method: str, path: str, body: object
) -> None:
    call = getattr(client, method)
    kwargs = {"json": body} if body is not None else {}
    wrong = tokens["mia"] if role == "researcher" else tokens["rae"]
    assert call(path, **kwargs).status_code == 401
    assert call(path, headers=auth("pb_not-a-real-token"), **kwargs).status_code == 401
    assert call(path, headers=auth(wrong), **kwargs).status_code == 403


def test_publish_needs_staff(client: TestClient) -> None:
    assert client.post("/api/research/questions/1/publish", json={}).status_code == 401


def test_the_researchers_page_is_served_with_a_strict_policy(client: TestClient) -> None:
    page = client.get("/research")
    assert page.status_code == 200
    assert 'src="/static/research.js"' in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/static/research.js").status_code == 200


def _submit_and_publish(client: TestClient, tokens: dict[str, str], body: dict[str, Any]) -> int:
    submitted = client.post("/api/research/questions", headers=auth(tokens["rae"]), json=body)
    assert submitted.status_code == 201, submitted.text
    number = int(submitted.json()["id"])
    review = client.get("/api/review/questions?status=submitted", headers=auth(tokens["mia"]))
    assert number in {q["id"] for q in review.json()["questions"]}
    approved = client.post(
        f"/api/review/questions/{number}/approve", headers=auth(tokens["mia"]), json={}
    )
    assert approved.status_code == 200, approved.text
    published = client.post(
        f"/api/research/questions/{number}/publish", headers=auth(tokens["rae"]), json={}
    )
    assert published.status_code == 200, published.text
    run_jobs(client)
    return number


def test_invitations_and_results_reach_only_those_who_asked_for_them(
    client: TestClient, tokens: dict[str, str]
) -> None:
    """An invitation goes to mothers who opted in to invitations; results go to the mothers who
    agreed to answer the question they are about and opted in to results. Neither takes
    answers, and results can only be about the researcher's own published question."""
    say(client, "mom-inv", "/optin_invitations")
    say(client, "mom-took-part", "/optin_questions")
    say(client, "mom-took-part", "/optin_results")
    say(client, "mom-results-only", "/optin_results")

    question_id = publish_question(client, tokens)
    later(client, "mom-took-part")
    say(client, "mom-took-part", f"/answer_{question_id}")
    say(client, "mom-took-part", f"/consent_{question_id}")
    say(client, "mom-took-part", "Being listened to.")

    invitation = _submit_and_publish(
        client,
        tokens,
        {"kind": "invitation", "text": "Join a 30-minute interview about postpartum care.",
         "context": "Paid $40, by phone or video, any time you choose."},
    )  # fmt: skip
    got = later(client, "mom-inv")
    assert len(got) == 1 and "invitation to a study" in got[0]["text"]
    assert "30-minute interview" in got[0]["text"]
    assert not got[0].get("buttons")
    assert later(client, "mom-took-part") == [] and later(client, "mom-results-only") == []
    refused = say(client, "mom-inv", f"/answer_{invitation}")
    assert refused[0]["text"] == texts.say("question_unavailable", "en")

    not_hers = client.post(
        "/api/research/questions",
        headers=auth(tokens["ray"]),
        json={"kind": "results", "text": "We found...", "about_question_id": question_id},
    )
    assert not_hers.status_code == 409
    missing = client.post(
        "/api/research/questions",
        headers=auth(tokens["rae"]),
        json={"kind": "results", "text": "We found..."},
    )
    assert missing.status_code == 409

    results = _submit_and_publish(
        client,
        tokens,
        {"kind": "results", "about_question_id": question_id,
         "text": "Most moms said being listened to without judgement helped most."},
    )  # fmt: skip
    got = later(client, "mom-took-part")
    assert len(got) == 1 and "Thank you for taking part" in got[0]["text"]
    assert later(client, "mom-results-only") == [] and later(client, "mom-inv") == []
    shown = client.get(f"/api/research/questions/{results}", headers=auth(tokens["rae"])).json()
    assert shown["kind"] == "results" and shown["about_question_id"] == question_id
    assert shown["counts"]["asked"] == 1


def test_stopping_research_in_words_asks_first(research_settings: Settings) -> None:
    """A word read wrongly ("research") must not turn off what she chose: asked in words (Rasa
    hands the app `research_opt_out`), the opt-out is a question; only its button stops."""
    from tests.bots.rasa_standin import rasa_standin

    with rasa_standin() as rasa:
        rasa.reply = [{"recipient_id": "x", "custom": {"peerbot": "research_opt_out"}}]
        settings = research_settings.model_copy(update={"rasa_url": rasa.url})
        with TestClient(create_app(settings, run_scheduler=False)) as client:
            user = "mom-words".ljust(16, "0")
            asked = client.post("/api/chat", json={"user": user, "text": "research"}).json()
            reply = asked["replies"][0]
            assert reply["text"].startswith("Stop all research messages?")
            assert [b["payload"] for b in reply["buttons"]] == ["/optout_all", "/research"]
            # "No, keep them" shows her choices as they were (she had none yet).
            menu = client.post("/api/chat", json={"user": user, "text": "/research"}).json()
            assert "/optin_questions" in {b["payload"] for b in menu["replies"][0]["buttons"]}


def test_mothers_101_shared_curated_read_by_another_researcher_then_withdrawn(
    client: TestClient, tokens: dict[str, str]
) -> None:
    """Her separate yes puts her answer among the candidates; a moderator trims and files it;
    a researcher who did not ask reads and exports it; withdrawing the answer removes it."""
    say(client, "mom-s", "/optin_questions")
    say(client, "mom-n", "/optin_questions")
    question_id = publish_question(client, tokens)
    for mom in ("mom-s", "mom-n"):
        say(client, mom, f"/answer_{question_id}")
        say(client, mom, f"/consent_{question_id}")
    saved, share = say(client, "mom-s", ANSWER)
    assert "saved" in saved["text"] and "Mothers 101" in share["text"]
    assert [b["payload"] for b in share["buttons"]] == [
        f"/share_yes_{question_id}", f"/share_no_{question_id}",
    ]  # fmt: skip
    say(client, "mom-n", "Being heard by other moms who get it.")
    assert "Thank you" in say(client, "mom-s", f"/share_yes_{question_id}")[0]["text"]
    assert "stays only" in say(client, "mom-n", f"/share_no_{question_id}")[0]["text"]

    # Only moderators curate; only her shared answer is a candidate, without who wrote it.
    assert client.get("/api/mothers101/candidates", headers=auth(tokens["rae"])).status_code == 403
    candidates = client.get("/api/mothers101/candidates", headers=auth(tokens["mia"])).json()
    assert len(candidates["answers"]) == 1
    candidate = candidates["answers"][0]
    assert "Jessica" not in candidate["text"] and "mom-s" not in str(candidates)
    filed = client.post(
        "/api/mothers101",
        headers=auth(tokens["mia"]),
        json={
            "answer_id": candidate["answer_id"],
            "text": "Being listened to without judgement, by moms at Riverside Clinic.",
            "theme": "being heard",
        },
    )
    assert filed.status_code == 201, filed.text
    assert "Riverside" not in filed.json()["text"]  # trimmed text is de-identified again
    assert client.get("/api/mothers101/candidates", headers=auth(tokens["mia"])).json() == {
        "answers": []
    }

    # Another researcher (not the one who asked) reads it and exports it.
    library = client.get("/api/mothers101", headers=auth(tokens["ray"])).json()["entries"]
    assert [(e["theme"], e["question_id"]) for e in library] == [("being heard", question_id)]
    assert "opioid use disorder" in library[0]["question"]
    export = client.get("/api/mothers101.csv", headers=auth(tokens["ray"]))
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [r["theme"] for r in rows] == ["being heard"]
    assert client.get("/api/mothers101").status_code == 401

    # Withdrawn: gone from the library too.
    say(client, "mom-s", f"/withdraw_{question_id}")
    assert client.get("/api/mothers101", headers=auth(tokens["ray"])).json()["entries"] == []


async def _speaks_spanish(settings: Settings, user: str) -> None:
    """What the gateway stores once it decided she writes Spanish (`Member.language`)."""
    from sqlalchemy import update

    from community.members import pseudonym_for
    from community.models import Member

    pseudonym = pseudonym_for(settings.pseudonym_key(), "web", user.ljust(16, "0"))
    database = Database.connect(settings.resolved_database_url)
    try:
        async with database.transaction() as session:
            await session.execute(
                update(Member).where(Member.pseudonym == pseudonym).values(language="es")
            )
    finally:
        await database.dispose()


def test_a_moderator_adds_the_spanish_version_at_review_and_she_reads_it(
    client: TestClient, tokens: dict[str, str], research_settings: Settings
) -> None:
    """The review API takes the question in Spanish (with its context in Spanish); a mother
    whose language is Spanish gets that version, the researcher sees the language of each
    answer, and the Spanish version can still be changed after publication."""
    say(client, "mama-api", "/optin_questions")
    asyncio.run(_speaks_spanish(research_settings, "mama-api"))
    say(client, "mom-api", "/optin_questions")
    submitted = client.post(
        "/api/research/questions",
        headers=auth(tokens["rae"]),
        json={"text": "What helps you most after a hard day?", "context": "A study on support."},
    ).json()
    number = submitted["id"]
    assert submitted["text_es"] is None
    missing_context = client.post(
        f"/api/review/questions/{number}/approve",
        headers=auth(tokens["mia"]),
        json={"text_es": "¿Qué te ayuda más después de un día difícil?"},
    )
    assert missing_context.status_code == 409
    assert "context in Spanish" in missing_context.json()["detail"]
    approved = client.post(
        f"/api/review/questions/{number}/approve",
        headers=auth(tokens["mia"]),
        json={
            "text_es": "¿Qué te ayuda más después de un día difícil?",
            "context_es": "Un estudio sobre el apoyo.",
        },
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["text_es"] == "¿Qué te ayuda más después de un día difícil?"
    assert approved.json()["context_es"] == "Un estudio sobre el apoyo."
    assert approved.json()["text"] == "What helps you most after a hard day?"
    client.post(f"/api/research/questions/{number}/publish", headers=auth(tokens["rae"]), json={})
    run_jobs(client)

    [to_her] = later(client, "mama-api")
    assert "¿Qué te ayuda más después de un día difícil?" in to_her["text"]
    assert "Un estudio sobre el apoyo." in to_her["text"]
    assert "What helps you" not in to_her["text"]
    assert [b["title"] for b in to_her["buttons"]] == ["Responder", "No es para mí"]
    [to_him] = later(client, "mom-api")
    assert "What helps you most" in to_him["text"] and "¿Qué" not in to_him["text"]

    terms = say(client, "mama-api", f"/answer_{number}")[0]
    assert terms["text"].startswith("Antes de responder")
    say(client, "mama-api", f"/consent_{number}")
    saved, share = say(client, "mama-api", "Hablar con otras mamás que me entienden.")
    assert saved["text"].startswith("Gracias por compartir")
    assert share["text"].startswith("Una decisión más")
    say(client, "mom-api", f"/answer_{number}")
    say(client, "mom-api", f"/consent_{number}")
    say(client, "mom-api", "Talking with other moms who understand me.")

    answers = client.get(
        f"/api/research/questions/{number}/answers", headers=auth(tokens["rae"])
    ).json()["answers"]
    assert [(a["text"], a["language"]) for a in answers] == [
        ("Hablar con otras mamás que me entienden.", "es"),
        ("Talking with other moms who understand me.", "en"),
    ]
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(
                    f"/api/research/questions/{number}/answers.csv", headers=auth(tokens["rae"])
                ).text
            )
        )
    )
    assert [r["language"] for r in rows] == ["es", "en"]

    # Shared for Mothers 101: moderators and every researcher see its language too.
    say(client, "mama-api", f"/share_yes_{number}")
    [candidate] = client.get("/api/mothers101/candidates", headers=auth(tokens["mia"])).json()[
        "answers"
    ]
    assert candidate["language"] == "es"
    filed = client.post(
        "/api/mothers101",
        headers=auth(tokens["mia"]),
        json={"answer_id": candidate["answer_id"], "text": "=Hablar con otras mamás.",
              "theme": "sentirse escuchada"},
    )  # fmt: skip
    assert filed.status_code == 201 and filed.json()["language"] == "es"
    [entry] = client.get("/api/mothers101", headers=auth(tokens["ray"])).json()["entries"]
    assert entry["language"] == "es"
    [row] = csv.DictReader(
        io.StringIO(client.get("/api/mothers101.csv", headers=auth(tokens["ray"])).text)
    )
    assert row["language"] == "es"
    assert row["answer"] == "'=Hablar con otras mamás."  # never a spreadsheet formula

    # After publication: only moderators change the Spanish version, and it needs its context.
    route = f"/api/review/questions/{number}/spanish"
    assert client.post(route, headers=auth(tokens["rae"]), json={"text_es": "x"}).status_code == 403
    changed = client.post(
        route,
        headers=auth(tokens["mia"]),
        json={"text_es": "¿Qué te ayuda después de un día difícil?", "context_es": "Un estudio."},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["text_es"] == "¿Qué te ayuda después de un día difícil?"
    assert (
        client.post(route, headers=auth(tokens["mia"]), json={"text_es": "Sí"}).status_code == 409
    )
    removed = client.post(route, headers=auth(tokens["mia"]), json={"text_es": ""})
    assert removed.json()["text_es"] is None and removed.json()["context_es"] is None
    assert (
        client.post(
            "/api/review/questions/999999/spanish",
            headers=auth(tokens["mia"]),
            json={"text_es": ""},
        ).status_code
        == 404
    )
