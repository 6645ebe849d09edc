"""The screen's three outcomes through the gateway: a crisis gets help and a case at once; an
unsure message gets one warm question with buttons, and the answer (or its absence) decides;
while a person has the conversation the bot does not talk over her; help already coming is
heard; edits are screened again; Spanish gets Spanish."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bots.dialogue import DialogueClient
from bots.gateway import Gateway, GatewayConfig
from community.cases.handoff import ModeratorActions
from community.db import Database
from community.messages import InboundMessage
from community.models import Case, CaseMessage, OutboxMessage, SafetyCheck, utcnow
from community.safety_checks import check_counts, expire_due_checks
from community.settings import Settings
from safety.context import RecentMessages
from safety.language import default_detector
from safety.layered import LayeredScreen, Thresholds, ThresholdSet
from safety.screen import default_screener
from tests.bots.rasa_standin import RasaStandIn, rasa_standin

KEY = b"c" * 48
HOMES = ("web",)


@pytest.fixture
def standin() -> Iterator[RasaStandIn]:
    with rasa_standin() as running:
        yield running


def unsure_screen(full: LayeredScreen) -> LayeredScreen:
    """The real layers with thresholds that make every message the rules do not catch a
    `check`: the flow is tested without depending on where a message falls."""
    assert full.learned is not None
    variant = full.learned.variant
    thresholds = ThresholdSet(
        date(2026, 12, 1), {variant: Thresholds(crisis=0.99999, check=1e-9, help_coming=0.99999)}
    )
    return LayeredScreen(
        default_screener(), default_detector(), full.learned, thresholds, RecentMessages()
    )


def make_gateway(
    database: Database, rasa_url: str, screen: LayeredScreen | None = None, **config: object
) -> Gateway:
    return Gateway(
        GatewayConfig(KEY, 4000, HOMES, **config),  # type: ignore[arg-type]
        database,
        DialogueClient(rasa_url, 1.0),
        screen=screen,
    )


@pytest.fixture
async def checking(
    database: Database, standin: RasaStandIn, layered_screen: LayeredScreen
) -> AsyncIterator[Gateway]:
    yield make_gateway(database, standin.url, unsure_screen(layered_screen))


def text_of(replies: list[object]) -> str:
    return "\n".join(r.text for r in replies)  # type: ignore[attr-defined]


async def test_an_unsure_message_asks_once_with_988_and_three_buttons(
    checking: Gateway, database: Database, standin: RasaStandIn
) -> None:
    replies = await checking.handle(InboundMessage("web", "m1", "idk anymore honestly"))
    # What she asked is answered (the dialogue core's reply), and the check comes last, so its
    # buttons are the ones under her thumb.
    assert [r.text for r in replies[:-1]] == ["Hello from the stand-in"]
    assert "988" in replies[-1].text and "Are you safe right now?" in replies[-1].text
    assert [b.payload for b in replies[-1].buttons] == [
        "/check_safe",
        "/check_help",
        "/check_person",
    ]
    assert [m["message"] for m in standin.received] == ["idk anymore honestly"]
    async with database.sessions() as session:
        check = await session.scalar(select(SafetyCheck))
        assert check is not None and check.status == "asked"
        assert await session.scalar(select(Case)) is None  # no case yet


@pytest.mark.parametrize(
    "rasa",
    [
        # It answers nothing yet: "say it another way" beside "are you safe?" only confuses.
        {"reply": [{"text": "Could you say it another way?"}, {"custom": {"peerbot": "unsure"}}]},
        # It heard a request (a person): the check's own "Talk to a person" button is there.
        {"reply": [{"text": "Of course.", "custom": {"peerbot": "handoff"}}]},
        # Slow: the check does not wait past its short wait for an answer.
        {"delay_seconds": 3.0},
    ],
    ids=["unsure", "request", "slow"],
)
async def test_the_check_goes_alone_when_the_dialogue_core_has_no_answer_for_her(
    database: Database, standin: RasaStandIn, layered_screen: LayeredScreen, rasa: dict[str, object]
) -> None:
    for name, value in rasa.items():
        setattr(standin, name, value)
    gateway = make_gateway(
        database, standin.url, unsure_screen(layered_screen), answer_beside_check_seconds=0.5
    )
    started = time.monotonic()
    replies = await gateway.handle(InboundMessage("web", "m1b", "idk anymore honestly"))
    assert time.monotonic() - started < 2.5
    assert len(replies) == 1 and "Are you safe right now?" in replies[0].text
    async with database.sessions() as session:
        check = await session.scalar(select(SafetyCheck))
        assert check is not None and check.status == "asked"
        assert await session.scalar(select(Case)) is None


async def test_the_check_goes_alone_with_the_dialogue_core_down(
    database: Database, layered_screen: LayeredScreen
) -> None:
    gateway = make_gateway(database, "http://127.0.0.1:9", unsure_screen(layered_screen))
    replies = await gateway.handle(InboundMessage("web", "m1c", "idk anymore honestly"))
    assert len(replies) == 1 and "Are you safe right now?" in replies[0].text


async def test_im_safe_lets_the_conversation_go_on_and_is_counted(
    checking: Gateway, database: Database
) -> None:
    await checking.handle(InboundMessage("web", "m2", "idk anymore honestly"))
    replies = await checking.handle(InboundMessage("web", "m2", "/check_safe"))
    assert "Thank you" in text_of(replies)
    async with database.sessions() as session:
        check = await session.scalar(select(SafetyCheck))
        assert check is not None and check.status == "safe" and check.text == ""
        assert await session.scalar(select(Case)) is None
        assert (await check_counts(session))["safe"] == 1


@pytest.mark.parametrize("payload", ["/check_help", "/check_person"])
async def test_need_help_or_a_person_opens_a_case_at_once(
    checking: Gateway, database: Database, payload: str
) -> None:
    await checking.handle(InboundMessage("web", "m3", "idk anymore honestly"))
    replies = await checking.handle(InboundMessage("web", "m3", payload))
    assert "988" in text_of(replies) and "911" in text_of(replies)
    async with database.sessions() as session:
        case = await session.scalar(select(Case))
        assert case is not None and case.status == "waiting"
        assert case.severity == ("high" if payload == "/check_help" else "elevated")
        turns = (await session.scalars(select(CaseMessage.text))).all()
        assert "idk anymore honestly" in turns  # the moderator reads what she wrote
        check = await session.scalar(select(SafetyCheck))
        assert check is not None and check.case_id == case.id


async def test_typed_answers_count_like_buttons(checking: Gateway, database: Database) -> None:
    await checking.handle(InboundMessage("web", "m4", "idk anymore honestly"))
    replies = await checking.handle(InboundMessage("web", "m4", "I'm safe."))
    assert "Thank you" in text_of(replies)
    await checking.handle(InboundMessage("web", "m5", "ya no se honestamente"))
    replies = await checking.handle(InboundMessage("web", "m5", "necesito ayuda"))
    async with database.sessions() as session:
        assert await session.scalar(select(Case.severity)) == "high"
    assert "911" in text_of(replies)


async def test_no_answer_opens_an_elevated_case_after_a_restart(
    database_url: str, database: Database, standin: RasaStandIn, layered_screen: LayeredScreen
) -> None:
    first = make_gateway(database, standin.url, unsure_screen(layered_screen))
    await first.handle(InboundMessage("telegram", "77", "idk anymore honestly"))
    # The app restarts: a new database pool and nothing in memory; the timer is in the table.
    restarted = Database.connect(database_url)
    try:
        later = utcnow() + timedelta(minutes=10, seconds=5)  # the default wait is 10 minutes
        async with restarted.transaction() as session:
            assert await expire_due_checks(session, HOMES) == []  # not due yet
        async with restarted.transaction() as session:
            opened = await expire_due_checks(session, HOMES, now=later)
        assert len(opened) == 1
        async with restarted.sessions() as session:
            case = await session.get(Case, opened[0])
            assert case is not None and case.severity == "elevated" and case.platform == "telegram"
            check = await session.scalar(select(SafetyCheck))
            assert check is not None and check.status == "expired" and check.text == ""
        async with restarted.transaction() as session:
            assert await expire_due_checks(session, HOMES, now=later) == []  # once
    finally:
        await restarted.dispose()


async def test_a_crisis_the_rules_miss_is_caught_by_the_learned_layer(
    database: Database, standin: RasaStandIn, layered_screen: LayeredScreen
) -> None:
    gateway = make_gateway(database, standin.url, layered_screen)
    candidates = [
        "gave my sister all the baby clothes and my car keys, she will need them more than me",
        "i keep counting the bottles in the cabinet and thinking tonight would be easy",
        "sorry for everything ill be gone before they wake up",
    ]
    unworded = [t for t in candidates if not default_screener().screen(t).crisis]
    assert len(unworded) >= 2  # the rules do not say these
    for number, text in enumerate(unworded):
        replies = await gateway.handle(InboundMessage("web", f"learned{number}", text))
        assert "988" in text_of(replies), text
    async with database.sessions() as session:
        cases = len((await session.scalars(select(Case))).all())
        checks = len((await session.scalars(select(SafetyCheck))).all())
    assert cases + checks == len(unworded)


async def test_spanish_crisis_gets_a_spanish_reply_with_988_press_2(
    database: Database, standin: RasaStandIn, layered_screen: LayeredScreen
) -> None:
    gateway = make_gateway(database, standin.url, layered_screen)
    replies = await gateway.handle(
        InboundMessage("web", "m7", "ya no quiero vivir, me voy a tomar todas las pastillas")
    )
    body = text_of(replies)
    assert "988" in body and "oprime 2" in body and "AYUDA" in body
    assert "Gracias" in body and "Thank you" not in body
    replies = await gateway.handle(InboundMessage("web", "m7b", "me tome todas las pastillas"))
    assert "911" in text_of(replies) and "oprime 2" in text_of(replies)
    async with database.sessions() as session:
        case = await session.scalar(select(Case))
        assert case is not None and case.category in {"suicide", "overdose"}


async def _claimed_case(gateway: Gateway, database: Database, user: str) -> int:
    await gateway.handle(InboundMessage("discord", user, "i want to kill myself"))
    async with database.transaction() as session:
        case_id = await session.scalar(select(Case.id))
        assert case_id is not None
        actions = ModeratorActions(session)
        await actions.claim(case_id, "sam")
        await actions.reply(case_id, "sam", "Sam (peer)", "I'm here with you. Are you safe?")
    return case_id


async def test_no_canned_reply_over_a_moderators_head(
    database: Database, standin: RasaStandIn, layered_screen: LayeredScreen
) -> None:
    gateway = make_gateway(database, standin.url, layered_screen)
    case_id = await _claimed_case(gateway, database, "42")
    replies = await gateway.handle(
        InboundMessage("discord", "42", "yes I called 911, they are coming")
    )
    assert replies == []  # the person with her answers, not the bot
    replies = await gateway.handle(InboundMessage("discord", "42", "i took all my pills"))
    assert replies == []
    async with database.sessions() as session:
        turns = (
            await session.scalars(select(CaseMessage).where(CaseMessage.case_id == case_id))
        ).all()
        notes = [t.text for t in turns if t.author == "screen"]
        case = await session.get(Case, case_id)
    assert any("on its way" in n and "did not answer her" in n for n in notes)
    assert any("a possible overdose" in n and "did not answer her" in n for n in notes)
    assert case is not None and case.severity == "imminent" and case.category == "overdose"
    assert [t.text for t in turns if t.author == "member"][-2:] == [
        "yes I called 911, they are coming",
        "i took all my pills",
    ]


async def test_the_bot_speaks_again_when_no_person_has_written_for_a_while(
    database: Database, standin: RasaStandIn, layered_screen: LayeredScreen
) -> None:
    gateway = make_gateway(
        database, standin.url, layered_screen, crisis_reply_quiet=timedelta(seconds=0)
    )
    await _claimed_case(gateway, database, "43")
    replies = await gateway.handle(InboundMessage("discord", "43", "i took all my pills"))
    assert "911" in text_of(replies)


async def test_help_coming_outside_a_case_is_heard_and_a_person_looks(
    database: Database, standin: RasaStandIn, layered_screen: LayeredScreen
) -> None:
    gateway = make_gateway(database, standin.url, layered_screen)
    replies = await gateway.handle(
        InboundMessage("web", "m8", "the ambulance is here now, they are taking care of him")
    )
    body = text_of(replies)
    assert "glad" in body.lower() and "lay the person" not in body.lower()
    async with database.sessions() as session:
        case = await session.scalar(select(Case))
    assert case is not None


def help_hearing_screen(full: LayeredScreen) -> LayeredScreen:
    """The real layers with thresholds that make the learned layer hear "help is coming" in
    every message and never a crisis or a check."""
    assert full.learned is not None
    thresholds = ThresholdSet(
        date(2026, 12, 1),
        {full.learned.variant: Thresholds(crisis=0.99999, check=0.99998, help_coming=1e-9)},
    )
    return LayeredScreen(
        default_screener(), default_detector(), full.learned, thresholds, RecentMessages()
    )


async def test_help_heard_only_by_the_learned_layer_is_asked_about_unless_in_her_case(
    database: Database, standin: RasaStandIn, layered_screen: LayeredScreen
) -> None:
    """Outside a case, "are they gonna call cps on me at the hospital" is not answered "I'm glad
    help is on the way": she is asked whether she is safe. In her open case, "my sister is here
    now" reaches her moderator as her words, with the note that help is there."""
    gateway = make_gateway(database, standin.url, help_hearing_screen(layered_screen))
    replies = await gateway.handle(
        InboundMessage("web", "m30", "are they gonna call cps on me at the hospital")
    )
    assert "glad" not in text_of(replies).lower()
    assert [b.payload for b in replies[-1].buttons][:2] == ["/check_safe", "/check_help"]
    async with database.sessions() as session:
        assert await session.scalar(select(SafetyCheck.id)) is not None

    case_id = await _claimed_case(gateway, database, "45")
    assert await gateway.handle(InboundMessage("discord", "45", "my sister is here now")) == []
    async with database.sessions() as session:
        turns = (
            await session.scalars(select(CaseMessage).where(CaseMessage.case_id == case_id))
        ).all()
    assert any(t.author == "member" and "my sister is here now" in t.text for t in turns)
    assert any("help on its way" in t.text for t in turns if t.author == "screen")


async def test_an_edit_is_screened_again_and_only_a_finding_answered(
    database: Database, standin: RasaStandIn, layered_screen: LayeredScreen
) -> None:
    gateway = make_gateway(database, standin.url, layered_screen)
    assert await gateway.handle_edit(InboundMessage("discord", "44", "what time is group")) == []
    replies = await gateway.handle_edit(InboundMessage("discord", "44", "i want to die tonight"))
    assert "988" in text_of(replies)
    async with database.sessions() as session:
        assert await session.scalar(select(Case.category)) == "suicide"


async def test_the_crisis_reply_goes_out_with_the_database_away(
    standin: RasaStandIn, layered_screen: LayeredScreen
) -> None:
    broken = Database.connect("postgresql://nobody@127.0.0.1:9/none")
    try:
        gateway = make_gateway(broken, standin.url, layered_screen)
        replies = await gateway.handle(InboundMessage("web", "m9", "me tome todas las pastillas"))
        assert "911" in text_of(replies)
        check = make_gateway(broken, standin.url, unsure_screen(layered_screen))
        replies = await check.handle(InboundMessage("web", "m9", "idk anymore"))
        assert "988" in text_of(replies) and len(replies[0].buttons) == 3
    finally:
        await broken.dispose()


async def test_the_scheduled_job_opens_the_case_when_nobody_answers(
    database: Database, standin: RasaStandIn, layered_screen: LayeredScreen, settings: Settings
) -> None:
    """Through the job the scheduler runs (its state is the table, so a restart loses none)."""
    import asyncio

    from community.scheduling import JobContext, unanswered_checks_job

    gateway = make_gateway(
        database, standin.url, unsure_screen(layered_screen), check_timeout=timedelta(seconds=0.2)
    )
    await gateway.handle(InboundMessage("web", "m10", "idk anymore honestly"))
    context = JobContext(settings, database)
    await unanswered_checks_job(context)
    async with database.sessions() as session:
        assert await session.scalar(select(Case)) is None  # not yet due
    await asyncio.sleep(0.3)
    await unanswered_checks_job(context)
    async with database.sessions() as session:
        case = await session.scalar(select(Case))
        assert case is not None and case.severity == "elevated"
        turns = (await session.scalars(select(CaseMessage.text))).all()
        told = (await session.scalars(select(OutboxMessage.text))).all()
    assert any("idk anymore honestly" in t for t in turns)
    # She is told a person will write, through the outbox (delivered like a moderator's reply).
    assert len(told) == 1 and "person from our team" in told[0] and "988" in told[0]
