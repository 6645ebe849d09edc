"""The gateway: the one path every member's message takes, whatever platform it came from.

Order matters and is the product's promise (DESIGN.md, "The one path of a message"):
the safety screen runs first, on every message, and its reply does not wait for the database,
Rasa or the network; a case is recorded before anything else; Rasa is not called while a case
is open; and any failure after the screen still ends in a kind, useful answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cache, partial
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bots import wording
from bots.commands import WELCOME_PAYLOAD, private_command
from bots.dialogue import DialogueClient, DialogueUnavailable
from bots.flood import FloodControl
from bots.her_plans import HerPlans, PlansConfig
from bots.her_plans import knows as plans_know
from bots.member_language import (
    MemberLanguage,
    asks_for_language,
    chosen_language,
    hint_language,
)
from bots.research_flow import REQUESTS as RESEARCH_REQUESTS
from bots.research_flow import ResearchFlow, parse_command
from bots.safety_plan_flow import SafetyPlanFlow, is_plan_command, knows_payload, takes
from bots.staff_chat import StaffChat, parse_staff_command
from bots.wording import CANCEL_REQUEST_PAYLOAD
from community import followups
from community.cases.crisis_writes import CrisisCaseWriter, NewCrisisCase
from community.cases.flags import record_flag
from community.cases.floods import count_into_alert
from community.cases.handoff import HandoffCases
from community.crisis_journal import CrisisJournal, JournalEntry, message_entry, new_entry
from community.db import Database
from community.flood_guard import CrisisFromNewChat, FloodGuard
from community.insights import tallies as insight_tallies
from community.insights.tallies import community_day
from community.member_state import MemberState, member_state
from community.members import resolve_member
from community.messages import Button, ContentKind, InboundMessage, Reply
from community.models import Case, CaseMessage, CaseStatus, Member, OutboxMessage, utcnow
from community.my_data import (
    delete_member,
    deletion_confirmable,
    describe,
    my_data,
    request_deletion,
)
from community.phrases import normalize, phrase
from community.research.answers import pending_input
from community.safety_checks import answer_check, ask_check
from community.safety_plan import PlanKeys
from safety.conduct import ConductScreen, default_conduct_screen
from safety.context import RecentMessages
from safety.crisis_reply import (
    CHECK_ANSWERS,
    CheckAnswer,
    CrisisReplies,
    check_answer_for,
    default_crisis_replies,
)
from safety.language import default_detector
from safety.layered import Decision, LayeredScreen, Outcome, context_key
from safety.screen import DATA_DIR, Screener, Screening, Severity, default_screener

log = logging.getLogger(__name__)

# Button payloads and commands for her data rights, answered by the app itself.
DATA_RIGHTS_PAYLOADS = {
    "/my_data": "my_data",
    "/delete_my_data": "delete_request",
    "/confirm_delete": "confirm_delete",
    "/cancel_delete": "cancel_delete",
}

# Screening reads this much of a message; more than a chat message ever needs, and bounded so
# a pasted book cannot slow the path down.
SCREEN_LIMIT_CHARS = 20_000
# How long a crisis waits for her state to tell whether it is one of a flood; past this it is
# not (she gets her case), so a slow database never holds up the crisis path for long.
FLOOD_LOOKUP_SECONDS = 2.0
# Over her budget in an open case, a message keeps this much (and the moderator is told, at
# most once a minute per case).
OVER_BUDGET_CHARS = 200
BUDGET_NOTE_SECONDS = 60.0
# Case transcripts keep at most this much of one message.
TRANSCRIPT_LIMIT_CHARS = 10_000


@dataclass(frozen=True)
class GatewayConfig:
    pseudonym_key: bytes
    max_message_chars: int
    moderation_homes: tuple[str, ...] = ("web",)
    flood_messages: int = 8
    flood_seconds: float = 10.0
    check_timeout: timedelta = timedelta(minutes=10)
    # How long the check waits for the dialogue core's answer to her question, shown above it;
    # after that the check goes alone.
    answer_beside_check_seconds: float = 3.0
    # While a moderator has the conversation, the bot's own crisis reply waits this long after
    # a person last wrote to her (she is being helped; the moderator is alerted instead).
    crisis_reply_quiet: timedelta = timedelta(minutes=10)
    # When she agrees to a check-in after a case, it is sent this long later (issue #21).
    follow_up_after: timedelta = timedelta(days=1)
    # The keys her safety plan is sealed with (none: plans cannot be kept, and she is told so).
    plan_keys: PlanKeys = field(default_factory=PlanKeys)
    # Her check-ins and reminders are read in this zone unless she names hers (issue #21).
    community_timezone: str = "America/New_York"
    checkins_last: timedelta = timedelta(days=640)
    # "The same person again": around if they acted this recently; theirs first this long.
    same_person_around: timedelta = timedelta(hours=2)
    same_person_first: timedelta = timedelta(minutes=5)
    # How long her words about a discussion session are kept after it (said in her data).
    session_retention_days: float = 30


CHECK_ANSWERS_PATH = DATA_DIR / "check_answers.yml"
HELP_COMING_CATEGORY = "help_coming"
# How a screen finding is named to the moderator who has the conversation.
FINDING_NAMES = {
    "suicide": "thoughts of suicide",
    "self_harm": "self-harm",
    "overdose": "a possible overdose",
    "intent_to_use": "intent to use",
    "baby_danger": "danger to the baby",
    "violence": "violence at home",
    "medical": "a medical emergency",
    HELP_COMING_CATEGORY: "help on its way (she says emergency help is coming or there)",
}


def _answer_key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() or c == "'" else " " for c in letters).split())


@cache
def typed_check_answers(path: Path = CHECK_ANSWERS_PATH) -> dict[str, CheckAnswer]:
    """Typed words that answer a pending check, from reviewed data."""
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    answers: dict[str, CheckAnswer] = {}
    for answer in CHECK_ANSWERS:
        for words in data[answer].values():
            for said in words:
                answers.setdefault(_answer_key(str(said)), answer)
    return answers


def screen_note(decision: Decision, spoke: bool) -> str:
    """What the moderator with her conversation is told when the screen finds something."""
    category = HELP_COMING_CATEGORY if not decision.crisis else decision.category or "suicide"
    name = FINDING_NAMES.get(category, category)
    if decision.crisis and decision.help_coming:
        name += ", and she says help is on its way"
    level = decision.severity.label if decision.severity else "elevated"
    how = {
        "rules": "a reviewed rule",
        "learned": "the learned signal",
        "context": "her last few messages",
    }
    source = how.get(decision.layer or "", "the screen")
    unsure = (
        " (unsure: it would have asked her whether she is safe)"
        if decision.outcome is Outcome.CHECK
        else ""
    )
    said = (
        "The bot sent her its crisis reply, as no person had written to her recently."
        if spoke
        else "The bot did not answer her: you are with her."
    )
    if decision.help_coming and not decision.crisis:
        return f"The screen read her last message as {name}. {said}"
    return f"The screen read her last message as {name} ({level}, from {source}){unsure}. {said}"


class Gateway:
    def __init__(
        self,
        config: GatewayConfig,
        database: Database,
        dialogue: DialogueClient,
        screener: Screener | None = None,
        crisis_replies: CrisisReplies | None = None,
        conduct_screen: ConductScreen | None = None,
        screen: LayeredScreen | None = None,
        journal: CrisisJournal | None = None,
        flood_guard: FloodGuard | None = None,
    ) -> None:
        self._config = config
        self._db = database
        self._dialogue = dialogue
        # The layered screen (rules, learned signal, context) is built by the app; without one,
        # the reviewed rules alone, still with her last few messages for language.
        self._screen = screen or LayeredScreen(
            screener or default_screener(), default_detector(), context=RecentMessages()
        )
        self._crisis_replies = crisis_replies or default_crisis_replies()
        self._conduct = conduct_screen or default_conduct_screen()
        self._journal = journal
        self._guard = flood_guard
        self._new_cases = CrisisCaseWriter(database, config.moderation_homes)
        self._budget_noted: dict[int, float] = {}  # case -> when the moderator was last told
        self._flood = FloodControl(config.flood_messages, config.flood_seconds)
        self._research = ResearchFlow(database, config.pseudonym_key, config.community_timezone)
        self._staff_chat = StaffChat(database, config.pseudonym_key)
        self._plans = SafetyPlanFlow(database, config.pseudonym_key, config.plan_keys)
        self._her_plans = HerPlans(
            database,
            PlansConfig(
                config.pseudonym_key,
                config.moderation_homes,
                config.community_timezone,
                config.checkins_last,
                config.same_person_around,
                config.same_person_first,
            ),
        )
        # One thread, so her recent messages are read and remembered in the order they came.
        self._screen_thread = ThreadPoolExecutor(1, thread_name_prefix="screen")
        # Insight counts being written after her reply went (#22), kept so none is dropped.
        self._counting: set[asyncio.Task[None]] = set()

    def _count_reading(self, pseudonym: str | None) -> None:
        """Count what Rasa read in her message (None: Rasa could not be reached) for insights,
        beside her reply rather than before it."""
        task = asyncio.ensure_future(self._record_reading(pseudonym))
        self._counting.add(task)
        task.add_done_callback(self._counting.discard)

    async def _record_reading(self, pseudonym: str | None) -> None:
        """The intent and nearest topics, asked of Rasa first (no transaction open while it
        answers), then one increment each; no text and no member is written. Never raises."""
        try:
            reading = await self._dialogue.read_intent(pseudonym) if pseudonym else None
            if pseudonym is not None and reading is None:
                return  # Rasa's API is not open to us: nothing to count
            day = community_day(utcnow(), self._config.community_timezone)
            async with self._db.transaction() as session:
                if reading is None:
                    await insight_tallies.count(session, day, insight_tallies.DIALOGUE_UNAVAILABLE)
                else:
                    await insight_tallies.count_reading(
                        session, day, reading.intent, reading.nearest
                    )
        except Exception as error:
            log.warning("insight count lost", extra={"error": type(error).__name__})

    async def drain_counts(self) -> None:
        """Wait for the insight counts under way (tests, and a clean stop)."""
        while self._counting:
            await asyncio.gather(*self._counting, return_exceptions=True)

    def close(self) -> None:
        """Stop the screen's thread (when the app stops)."""
        self._screen_thread.shutdown(wait=False, cancel_futures=True)

    def knows_command(self, text: str) -> bool:
        """Whether a /command is one the gateway answers (adapters pass those on): one of the
        table's (bots/commands.py), or a button's payload typed out (/answer_12)."""
        first = text.strip().split(maxsplit=1)[0] if text.strip() else ""
        return (
            private_command(text) is not None
            or first.split("@")[0] in (*DATA_RIGHTS_PAYLOADS, CANCEL_REQUEST_PAYLOAD)
            or first == CANCEL_REQUEST_PAYLOAD
            or first.split("@")[0] == wording.LANGUAGE_PAYLOAD
            or followups.OFFER_PAYLOAD.match(first) is not None
            or followups.CHECKIN_PAYLOAD.match(first) is not None
            or knows_payload(first)
            or plans_know(text)
            or parse_command(text) is not None
        )

    async def _data_rights(self, message: InboundMessage, request: str) -> list[Reply]:
        """See her data, ask to delete it, confirm or cancel (community/my_data.py)."""
        async with self._db.transaction() as session:
            member = await resolve_member(
                session, self._config.pseudonym_key, message.platform, message.user_id
            )
            language = message.language or MemberLanguage(member.language).answer_in(
                message.language_hint
            )
            if request == "my_data":
                data = await my_data(session, member, self._plans.keys)
                return [
                    wording.my_data(
                        describe(data, language, self._config.session_retention_days), language
                    )
                ]
            if request == "delete_request":
                await request_deletion(session, member)
                return [wording.confirm_deletion(language)]
            if request == "cancel_delete":
                member.deletion_requested_at = None
                return [wording.deletion_cancelled(language)]
            if not deletion_confirmable(member):
                return [wording.deletion_not_requested(language)]
            pseudonym = member.pseudonym
            await delete_member(session, member, self._config.community_timezone)
        log.info("member data deleted", extra={"platform": message.platform})
        await self._dialogue.forget(pseudonym)
        return [wording.deletion_done(language)]

    def public_mention_replies(self, text: str, invitation: Reply) -> list[Reply]:
        """Addressed in a community channel: never a word about anyone's situation there, only
        the crisis numbers when the screen finds a crisis, and an invitation to talk privately."""
        decision = self._screen.decide(text[:SCREEN_LIMIT_CHARS])
        if decision.crisis:
            return [self._crisis_reply(decision), invitation]
        return [invitation]

    async def watch_community_post(self, platform: str, user_id: str, text: str) -> bool:
        """A post in a community channel: flag it to moderators if it seems to attack or shame
        someone. Nothing is said in the channel and nothing of it is kept otherwise. Returns
        whether a flag was written (so the adapter wakes its home). Never raises."""
        finding = self._conduct.screen(text)
        if finding is None:
            return False
        try:
            async with self._db.transaction() as session:
                member = await resolve_member(
                    session, self._config.pseudonym_key, platform, user_id
                )
                await record_flag(
                    session,
                    member,
                    platform,
                    finding.category,
                    text,
                    self._config.moderation_homes,
                )
        except Exception:
            log.exception("conduct flag could not be recorded", extra={"platform": platform})
            return False
        log.info(
            "community post flagged", extra={"platform": platform, "category": finding.category}
        )
        return True

    def _crisis_reply(self, decision: Decision) -> Reply:
        if decision.help_coming:
            text = self._crisis_replies.compose_help_coming(decision.language).text
        else:
            text = self._crisis_replies.compose(decision.as_screening(), decision.language).text
        return Reply(text, urgent=True, language=normalize(decision.language))

    def _check_reply(self, decision: Decision) -> Reply:
        check = self._crisis_replies.compose_check(decision.language)
        return Reply(
            check.text,
            tuple(Button(title, payload) for title, payload in check.buttons),
            language=normalize(decision.language),
        )

    async def handle(self, message: InboundMessage) -> list[Reply]:
        """Everything a member gets back for one message. Never raises.

        The screen runs in its own thread while her state is read, so an everyday message pays
        for the slower of the two, not both; a crisis reply waits for neither the database nor
        Rasa, and nothing reaches Rasa before the screen has decided."""
        text = message.readable_text.strip()
        if text == WELCOME_PAYLOAD:
            # What this is: nothing to screen, keep or ask; in her platform's language.
            return [wording.welcome(hint_language(message.language_hint) or "en")]
        answer = check_answer_for(text)
        if answer is not None:
            return await self._answer_check(message, answer)
        lookup = asyncio.ensure_future(self._member_state(message))
        lookup.add_done_callback(_retrieve_exception)
        decision = await self._decide(text, message)
        if (decision.outcome is Outcome.CHECK or decision.help_heard_only) and (
            parse_staff_command(text) is not None
            or parse_command(text) is not None
            or is_plan_command(text)
        ):
            # A researcher's /submit about overdose deaths, a mother's /answer_N: commands are
            # not asked "are you safe?" on the learned layer's doubt (a rule hit still counts).
            decision = replace(decision, outcome=Outcome.NONE, help_coming=False)
        if (
            decision.outcome is Outcome.CHECK
            and decision.layer != "rules"
            and not decision.help_coming
            and await self._building_plan(lookup)
        ):
            # Her safety plan's steps are about hard times by design (warning signs, people to
            # call): the learned layer's doubt about her answer is not asked about; a crisis,
            # and a reviewed rule's finding, still are.
            decision = replace(decision, outcome=Outcome.NONE)
        typed = typed_check_answers().get(_answer_key(text)) if len(text) <= 80 else None
        if typed is not None and not decision.crisis and await self._check_pending(lookup):
            return await self._answer_check(message, typed)
        if decision.answered:
            # Only a crisis can be one of a flood: an unsure message is asked about as always
            # (an unanswered one becomes an elevated case, below any crisis in the queue).
            new_chat = await self._flood_of(message, text, lookup) if decision.crisis else None
            return await self._handle_flagged(message, text, decision, new_chat, lookup)
        if text.split(maxsplit=1)[:1] == [WELCOME_PAYLOAD]:
            # /start with a link's parameter, screened above
            return [wording.welcome(hint_language(message.language_hint) or "en")]
        try:
            return await self._handle_ordinary(message, text, lookup)
        except Exception:
            log.exception("message path failed", extra={"platform": message.platform})
            return [wording.fallback(decision.language)]

    async def keep_for_later(self, platform: str, user_id: str, replies: list[Reply]) -> bool:
        """Replies the platform would not take now (its limits outlasted the library's own
        retries, a network failure): written to the outbox, which delivers them in order and
        retries until they are sent. A crisis reply must not be lost to a rate limit. False if
        the database is away too."""
        try:
            async with self._db.transaction() as session:
                member = await resolve_member(
                    session, self._config.pseudonym_key, platform, user_id
                )
                for reply in replies:
                    session.add(
                        OutboxMessage(
                            member_id=member.id,
                            platform=platform,
                            text=reply.text,
                            buttons=[
                                {"title": b.title, "payload": b.payload} for b in reply.buttons
                            ]
                            or None,
                            sender_name=reply.sender_name,
                        )
                    )
        except Exception:
            log.exception("reply could not be kept for later", extra={"platform": platform})
            return False
        return True

    async def handle_over_limit(self, message: InboundMessage) -> list[Reply] | None:
        """A message over the chat's rate limits (the web adapter's edge): still screened, and a
        crisis is answered as always (counted into a flood alert when it is one); anything else
        is left to the adapter's refusal (None). Never raises."""
        text = message.readable_text.strip()
        decision = await self._decide(text, message)
        if not decision.crisis:
            return None
        lookup = asyncio.ensure_future(self._member_state(message))
        lookup.add_done_callback(_retrieve_exception)
        new_chat = await self._flood_of(message, text, lookup)
        return await self._handle_flagged(message, text, decision, new_chat, lookup)

    async def _flood_of(
        self, message: InboundMessage, text: str, lookup: asyncio.Future[MemberState]
    ) -> CrisisFromNewChat | None:
        """For a finding from a new chat: whether it is one of a flood (one address, or the same
        words from many), then counted into one alert instead of opening a case. None for a
        member who was here before, or when unknown (no guard, the database slow or away): she
        gets her case."""
        if self._guard is None:
            return None
        try:
            state = await asyncio.wait_for(asyncio.shield(lookup), FLOOD_LOOKUP_SECONDS)
        except Exception:
            return None
        if state.case_id is not None or not state.is_new:
            return None
        return await self._guard.crisis_from_new_chat(message.source, text)

    async def _within_case_budget(
        self, state: MemberState, case_id: int, text: str
    ) -> tuple[str, str]:
        """Her message as the transcript keeps it, and a note for the moderator the first time
        in a minute that she is over her budget ("" otherwise)."""
        kept = text[:TRANSCRIPT_LIMIT_CHARS]
        if self._guard is None or await self._guard.within_case_budget(state.pseudonym, len(kept)):
            return kept, ""
        shortened = f"{text[:OVER_BUDGET_CHARS]} [shortened: over the limit]"
        now = time.monotonic()
        if now - self._budget_noted.get(case_id, -BUDGET_NOTE_SECONDS) < BUDGET_NOTE_SECONDS:
            return shortened, ""
        self._budget_noted[case_id] = now
        if len(self._budget_noted) > 10_000:  # a note per case a minute; keep it bounded
            self._budget_noted.clear()
        return shortened, (
            "She is writing more than the transcript keeps in full (30 messages a minute or "
            "20,000 characters an hour); what is over is kept short. Her crisis messages are "
            "always kept whole."
        )

    async def _decide(self, text: str, message: InboundMessage) -> Decision:
        return await asyncio.get_running_loop().run_in_executor(
            self._screen_thread,
            partial(
                self._screen.decide,
                text[:SCREEN_LIMIT_CHARS],
                context_key(message.platform, message.user_id),
            ),
        )

    async def _member_state(self, message: InboundMessage) -> MemberState:
        """Her state, her language updated by this message in the same transaction (a write
        only when it changes: a first message, a run in the other language)."""
        written = _written_language(message.readable_text)
        # A new member's row is written with her language already: no update after the insert.
        first = MemberLanguage(None, None, 0).after(written, message.language_hint)
        async with self._db.transaction() as session:
            state = await member_state(
                session,
                self._config.pseudonym_key,
                message.platform,
                message.user_id,
                first_language=(first.language, first.source),
            )
            stored = MemberLanguage(state.language, state.language_source, state.language_run)
            after = stored.after(written, message.language_hint)
            if after == stored:
                return state
            await session.execute(
                update(Member)
                .where(Member.id == state.member_id)
                .values(
                    language=after.language, language_source=after.source, language_run=after.run
                )
            )
            return replace(
                state, language=after.language, language_source=after.source, language_run=after.run
            )

    async def _follow_up(self, message: InboundMessage, text: str, language: str) -> list[Reply]:
        """Her answer to a follow-up's offer or to its check-in (buttons; community/followups)."""
        timing = followups.FollowUpTiming(
            self._config.follow_up_after, self._config.follow_up_after
        )
        async with self._db.transaction() as session:
            member = await resolve_member(
                session, self._config.pseudonym_key, message.platform, message.user_id
            )
            if offered := followups.OFFER_PAYLOAD.match(text):
                answer = await followups.answer_offer(
                    session, member, offered.group(1), int(offered.group(2)), timing
                )
            else:
                checkin = followups.CHECKIN_PAYLOAD.match(text)
                assert checkin is not None
                cases = HandoffCases(session, self._config.moderation_homes)
                answer = await followups.answer_checkin(
                    session, cases, member, checkin.group(1), int(checkin.group(2))
                )
        reply = Reply(
            phrase(answer.key, language),
            followups.reply_buttons(answer, language),
            language=language,
        )
        return [reply]

    async def _choose_language(self, member_id: int, language: str) -> None:
        """Her own choice: kept until she chooses again (or writes a long run in the other)."""
        chosen = MemberLanguage(language, "chosen", 0)
        async with self._db.transaction() as session:
            await session.execute(
                update(Member)
                .where(Member.id == member_id)
                .values(
                    language=chosen.language, language_source=chosen.source, language_run=chosen.run
                )
            )

    async def _burst(self, message: InboundMessage) -> str:
        """One member's burst: in this process, or shared by every app process (Redis)."""
        key = f"{message.platform}:{message.user_id}"
        if self._guard is not None and self._guard.shared:
            return await self._guard.member_burst(
                key, self._config.flood_messages, self._config.flood_seconds
            )
        return self._flood.check(key)

    async def _route(self, message: InboundMessage, text: str, state: MemberState) -> _Route:
        """Where an unflagged message goes, from her state; the flood check is made here, once."""
        waiting = state.case_id is not None and state.case_status == CaseStatus.WAITING.value
        if state.case_id is not None and (not waiting or not text):
            return _Route(state, "case")
        if state.blocked:
            return _Route(state, "blocked", waiting)
        if text in DATA_RIGHTS_PAYLOADS or not text or knows_payload(text):
            # Her data rights and her safety plan's buttons: a few taps in a row are not a flood.
            return _Route(state, "app", waiting)
        # After the screen and the open-case check: a flood never hides a crisis, and what she
        # writes to a person is always kept. One calm word per burst, then quiet.
        flood = await self._burst(message)
        if flood != "ok":
            return _Route(state, f"flood_{flood}", waiting)
        if (
            parse_staff_command(text) is not None
            or parse_command(text) is not None
            or state.writing_for_research
            or state.building_plan
            or text == CANCEL_REQUEST_PAYLOAD
        ):
            return _Route(state, "app", waiting)
        return _Route(state, "dialogue", waiting)

    async def handle_edit(self, message: InboundMessage) -> list[Reply]:
        """An edited message, on any platform: screened again. Only a finding is answered
        (the rest was answered once, when it was first sent). Never raises."""
        text = message.readable_text.strip()
        decision = self._screen.decide(
            text[:SCREEN_LIMIT_CHARS],
            context_key(message.platform, message.user_id),
            remember=False,
        )
        if not decision.answered:
            return []
        return await self._handle_flagged(message, text, decision)

    async def _handle_flagged(
        self,
        message: InboundMessage,
        text: str,
        decision: Decision,
        new_chat: CrisisFromNewChat | None = None,
        lookup: asyncio.Future[MemberState] | None = None,
    ) -> list[Reply]:
        """A crisis, a check, or help already coming. The reply's words need nothing but data
        files; the case (or the pending check) is written before the reply is returned, and if
        the database is away the reply still goes out. Her state read beside the screen
        (`lookup`), when it came in time, spares the case's transaction reading it again."""
        if decision.help_heard_only:
            # Only the learned layer heard "help is here": in her open case that is news for
            # her moderator ("my sister is here now"); anywhere else she is asked, not told
            # "I'm glad help is on the way" about a question ("will they call cps on me").
            # Only when her state says so: unknown in time, it is heard as before.
            state = await self._state_in_time(lookup)
            if state is not None and state.case_id is None:
                decision = decision.asked_instead()
        # Help already coming is heard first: no "call 911" to someone the paramedics are with.
        # One of a flood of new chats is given the numbers, not asked: nobody will follow up.
        flood = new_chat.flood if new_chat is not None else None
        asking = decision.outcome is Outcome.CHECK and not decision.help_coming and flood is None
        replies = [self._check_reply(decision) if asking else self._crisis_reply(decision)]
        log.warning(
            "screen finding",
            extra={
                "decision": decision.outcome.value,
                "category": decision.category,
                "severity": decision.severity.label if decision.severity else None,
                "layer": decision.layer,
                "language": decision.language,
                "help_coming": decision.help_coming,
            },
        )
        transcript_text = text[:TRANSCRIPT_LIMIT_CHARS]
        recorded = False
        answer_beside = False
        # Her crisis case, once written: a line from her safety plan follows the reply.
        written: tuple[int, int] | None = None
        known = await self._state_in_time(lookup)
        if known is not None and known.case_id is None and flood is None and not asking:
            # Her state says she has no open case: a new case, written together with the
            # crises arriving beside it (group commit). None: a case was opened meanwhile.
            try:
                written = await self._new_case(
                    message, known, decision, new_chat, transcript_text, replies[0].text
                )
            except Exception:
                log.exception(
                    "screen finding could not be recorded", extra={"platform": message.platform}
                )
                self._journal_finding(message, transcript_text, decision, replies[0].text)
                return replies
        if written is None:
            try:
                async with self._db.transaction() as session:
                    member, case, cases = await self._member_and_case(session, message, known)
                    if case is not None:
                        in_case = await self._finding_in_case(
                            cases,
                            case,
                            member,
                            message.platform,
                            transcript_text,
                            decision,
                            replies,
                        )
                        if not (in_case and in_case[0].urgent):
                            return in_case
                        written = (member.id, case.id)
                    elif flood is not None:
                        alert_id = await count_into_alert(
                            session, flood, self._config.moderation_homes
                        )
                        log.warning(
                            "flood counted", extra={"category": flood.kind, "case_id": alert_id}
                        )
                        return replies
                    elif asking:
                        # Her answer to a researcher is kept, and she is still asked.
                        for_research = await pending_input(session, member.id) is not None
                        await ask_check(
                            session,
                            member,
                            message.platform,
                            decision.category or "suicide",
                            decision.language,
                            transcript_text,
                            self._config.check_timeout,
                        )
                        answer_beside = not for_research
                    else:
                        opening = await cases.open_for_crisis(
                            member,
                            message.platform,
                            self._case_screening(decision),
                            transcript_text,
                            _signatures(new_chat),
                        )
                        # Moderators see what she has already been told, numbers included.
                        await cases.record_bot_message(opening.case_id, replies[0].text)
                        written = (member.id, opening.case_id)
                if answer_beside:
                    # The check is written; her question is answered above it, from the dialogue
                    # core, within a short wait (after the transaction: no network call in one).
                    recorded = True
                    answer = await self._answer_beside_check(message, text, decision, known)
                    return [*answer, *replies]
                if written is None:
                    recorded = True
                    taken = await self._research.take_input(message, text)
                    return [*(taken or []), *replies]
            except Exception:
                # The reply still goes out: the numbers in it do not depend on the database. The
                # finding waits in the local journal until the database answers again.
                log.exception(
                    "screen finding could not be recorded", extra={"platform": message.platform}
                )
                if not recorded:
                    self._journal_finding(message, transcript_text, decision, replies[0].text)
                return replies
        if written is not None and (known is None or known.has_plan):
            # After the case is written, never before: best-effort, so nothing is lost if
            # her plan cannot be read (no key, the database slow).
            member_id, case_id = written
            plan_lines = await self._plans.after_crisis(
                member_id, case_id, normalize(decision.language)
            )
            return [*replies, *plan_lines]
        return replies

    async def _answer_beside_check(
        self, message: InboundMessage, text: str, decision: Decision, state: MemberState | None
    ) -> list[Reply]:
        """The screen was unsure, not alarmed: she is asked "are you safe right now?", and the
        question she asked is still answered ("is my baby gonna go thru withdrawal bc of the
        methadone" scored 0.38). Withholding the answer until she says she is safe lost it (an
        "I'm safe" does not bring it back) and read as suspicion. Nothing when the dialogue core
        is slow or down, answers nothing yet (asks her to say it another way), hears a request
        (a person, her data), or her state is unknown: then the check goes alone, as before.
        Never raises."""
        if state is None or state.blocked or not text or message.kind is not ContentKind.TEXT:
            return []
        try:
            result = await asyncio.wait_for(
                self._dialogue.respond(
                    state.pseudonym, text[: self._config.max_message_chars], decision.language
                ),
                self._config.answer_beside_check_seconds,
            )
        except (DialogueUnavailable, TimeoutError):
            return []
        except Exception:
            log.exception("answer beside a check failed", extra={"platform": message.platform})
            return []
        self._count_reading(state.pseudonym)
        if result.unsure or result.handoff_requested or result.requests:
            return []
        return list(result.replies)

    async def _new_case(
        self,
        message: InboundMessage,
        known: MemberState,
        decision: Decision,
        new_chat: CrisisFromNewChat | None,
        text: str,
        reply: str,
    ) -> tuple[int, int] | None:
        """(member, case) once her new case is committed with its notifications; None when
        she had an open case by then (the caller's transaction raises that one)."""
        screening = self._case_screening(decision)
        severity = screening.severity or Severity.HIGH
        address_signature, words_signature = _signatures(new_chat) or (None, None)
        case_id = await self._new_cases.open(
            NewCrisisCase(
                member_id=known.member_id,
                platform=message.platform,
                category=screening.category or "unknown",
                severity=severity.label,
                rank=int(severity),
                text=text,
                reply=reply,
                address_signature=address_signature,
                words_signature=words_signature,
            )
        )
        return None if case_id is None else (known.member_id, case_id)

    @staticmethod
    async def _state_in_time(
        lookup: asyncio.Future[MemberState] | None,
    ) -> MemberState | None:
        """Her state if its read succeeds within the flood check's wait; None otherwise (the
        case's transaction then reads what it needs itself)."""
        if lookup is None:
            return None
        try:
            return await asyncio.wait_for(asyncio.shield(lookup), FLOOD_LOOKUP_SECONDS)
        except Exception:
            return None

    async def _member_and_case(
        self, session: AsyncSession, message: InboundMessage, known: MemberState | None
    ) -> tuple[Member, Case | None, HandoffCases]:
        """Her member row and her open case, in the case's transaction. With her state just
        read, the member is loaded by id (her last-seen time is already kept) and the case is
        read only if she had one; a case opened in between is met by the insert's conflict."""
        cases = HandoffCases(session, self._config.moderation_homes)
        if known is not None:
            member = await session.get(Member, known.member_id)
            if member is not None:
                case = await cases.open_case_for(member.id) if known.case_id is not None else None
                return member, case, cases
        member = await resolve_member(
            session, self._config.pseudonym_key, message.platform, message.user_id
        )
        return member, await cases.open_case_for(member.id), cases

    def _journal_finding(
        self, message: InboundMessage, text: str, decision: Decision, reply: str
    ) -> None:
        # A check cannot wait for her answer without the database: a person looks instead.
        screening = decision.as_screening() if decision.flagged else self._case_screening(decision)
        self._journal_entry(
            message, new_entry(message.platform, message.user_id, screening, text, reply)
        )

    def _journal_entry(self, message: InboundMessage, entry: JournalEntry) -> None:
        if self._journal is None:
            return
        try:
            self._journal.append(entry)
        except Exception:
            log.exception("crisis journal failed", extra={"platform": message.platform})

    @staticmethod
    def _case_screening(decision: Decision) -> Screening:
        if decision.crisis:
            return decision.as_screening()
        # Help is already on its way: a person should still look, gently.
        return Screening(crisis=True, category=HELP_COMING_CATEGORY, severity=Severity.ELEVATED)

    async def _finding_in_case(
        self,
        cases: HandoffCases,
        case: Case,
        member: Member,
        platform: str,
        text: str,
        decision: Decision,
        replies: list[Reply],
    ) -> list[Reply]:
        """Not over a person's head: the case's severity rises and the moderator is told where
        she works; the bot speaks only if no person has written to her for a while."""
        if decision.flagged:
            await cases.open_for_crisis(member, platform, decision.as_screening(), text)
        else:
            await cases.record_member_message(case.id, text)
        speak = decision.crisis and not await self._person_wrote_recently(cases, case)
        if decision.crisis and case.status != CaseStatus.CLAIMED.value:
            speak = True  # nobody has her yet: she needs the numbers now
        await cases.record_screen_note(case.id, screen_note(decision, speak))
        if speak:
            await cases.record_bot_message(case.id, replies[0].text)
            return replies
        if case.status == CaseStatus.CLAIMED.value:
            return []
        return [wording.waiting_for_person(decision.language)]

    async def _person_wrote_recently(self, cases: HandoffCases, case: Case) -> bool:
        if case.status != CaseStatus.CLAIMED.value:
            return False
        last = await cases.session.scalar(
            select(func.max(CaseMessage.created_at)).where(
                CaseMessage.case_id == case.id, CaseMessage.author == "moderator"
            )
        )
        since = case.claimed_at if last is None else last
        if since is None:
            return True
        return utcnow() - since < self._config.crisis_reply_quiet

    @staticmethod
    async def _building_plan(lookup: asyncio.Future[MemberState]) -> bool:
        """Whether her next words answer a step of her safety plan."""
        try:
            return (await lookup).building_plan
        except Exception:
            log.exception("safety plan state unknown")
            return False

    @staticmethod
    async def _check_pending(lookup: asyncio.Future[MemberState]) -> bool:
        """Whether the bot is waiting for her answer to "Are you safe right now?"."""
        try:
            return (await lookup).check_pending
        except Exception:
            log.exception("pending check unknown")
            return False

    async def _answer_check(self, message: InboundMessage, answer: CheckAnswer) -> list[Reply]:
        """Her answer to "Are you safe right now?": a button, or the same words typed."""
        language = "en"
        try:
            async with self._db.transaction() as session:
                member = await resolve_member(
                    session, self._config.pseudonym_key, message.platform, message.user_id
                )
                cases = HandoffCases(session, self._config.moderation_homes)
                result = await answer_check(
                    session, cases, member, message.platform, answer, language
                )
                language = result.language
                reply = Reply(
                    self._crisis_replies.compose_check_answer(answer, language).text,
                    language=normalize(language),
                )
                if result.case_id is not None:
                    await cases.record_bot_message(result.case_id, reply.text)
                return [reply]
        except Exception:
            log.exception(
                "check answer could not be recorded", extra={"platform": message.platform}
            )
        return [
            Reply(
                self._crisis_replies.compose_check_answer(answer, language).text,
                language=normalize(language),
            )
        ]

    async def _handle_ordinary(
        self,
        message: InboundMessage,
        text: str,
        lookup: asyncio.Future[MemberState],
    ) -> list[Reply]:
        if text in DATA_RIGHTS_PAYLOADS:
            return await self._data_rights(message, DATA_RIGHTS_PAYLOADS[text])
        try:
            state = await lookup
            language = MemberLanguage(
                state.language, state.language_source, state.language_run
            ).answer_in(message.language_hint)
            message = replace(message, language=language)
            route = await self._route(message, text, state)
            if route.to in ("case", "app", "dialogue") and takes(text, state.building_plan):
                # Her safety plan: answered by the app, also while a person has her
                # conversation (she may build it with them); its words never go to the case.
                return await self._plans.respond(message, text, language)
            if state.case_id is not None and text:
                # A person has, or is about to have, this conversation: what she writes is kept
                # for them. What is over her budget is kept short (a script could fill the disk
                # through a case); the budget is asked before the transaction opens (Redis).
                kept, note = await self._within_case_budget(state, route.case_id, text)
                async with self._db.transaction() as session:
                    cases = HandoffCases(session, self._config.moderation_homes)
                    await cases.record_member_message(route.case_id, kept)
                    if note:
                        await cases.record_screen_note(route.case_id, note)
        except Exception:
            # The database is away: if she is talking with a person, her words must reach them
            # when it is back (the journal keeps them only if a case is open then).
            if text:
                self._journal_entry(
                    message,
                    message_entry(message.platform, message.user_id, text[:TRANSCRIPT_LIMIT_CHARS]),
                )
            raise
        if route.to == "case":
            if state.case_status == CaseStatus.CLAIMED.value:
                return []  # only the person answers
            return [wording.waiting_for_person(language)]
        if route.waiting:
            if text == CANCEL_REQUEST_PAYLOAD or _answer_key(text) in CANCEL_KEYS:
                return await self._cancel_request(route.case_id, language)
            if _is_request_payload(text):
                return [wording.already_asked_for_person(language)]
        replies, from_dialogue = await self._answer(message, text, route)
        if route.waiting and from_dialogue:
            return await self._copy_to_case(route.case_id, replies)
        return replies

    async def _cancel_request(self, case_id: int, language: str) -> list[Reply]:
        """She takes back her request while nobody has claimed it; a crisis case stays open for
        a person to look at, and she is told so kindly (and the moderator sees what she heard)."""
        async with self._db.transaction() as session:
            cases = HandoffCases(session, self._config.moderation_homes)
            case = await session.get(Case, case_id)
            if case is None or case.status != CaseStatus.WAITING.value:
                return [wording.nothing_to_cancel(language)] if case is None else []
            if await cases.cancel_request(case):
                return [wording.request_cancelled(language)]
            reply = wording.crisis_case_stays_open(language)
            await cases.record_bot_message(case_id, reply.text)
        log.info("cancel refused: a crisis case stays open", extra={"case_id": case_id})
        return [reply]

    async def _copy_to_case(self, case_id: int, replies: list[Reply]) -> list[Reply]:
        """The bot's answers while she waits: marked as the bot's for her, and copied to the
        case so the person joining sees what she was told."""
        if not replies:
            return replies
        marked = [wording.from_the_bot_while_waiting(replies[0]), *replies[1:]]
        try:
            async with self._db.transaction() as session:
                cases = HandoffCases(session, self._config.moderation_homes)
                for reply in replies:
                    await cases.record_bot_message(case_id, reply.text[:TRANSCRIPT_LIMIT_CHARS])
        except Exception:
            log.exception("bot answer not copied to the case", extra={"case_id": case_id})
        return marked

    async def _answer(
        self, message: InboundMessage, text: str, route: _Route
    ) -> tuple[list[Reply], bool]:
        """The bot's own answer (no person has her conversation), and whether it came from the
        dialogue core (only those are copied to a waiting case)."""
        state = route.state
        language = message.language or "en"
        if route.to == "blocked":
            # Blocked for abuse: no bot, no case. A crisis still gets help (screened above).
            return [wording.blocked(language)], False
        if (
            state.created_now
            and self._guard is not None
            and not await self._guard.allow_new_chat(message.source)
        ):
            # Many new chats from one address: a script, most likely. A crisis was answered
            # above; anything else waits.
            return [wording.too_many_new_chats(language)], False
        if not text:
            if message.kind is not ContentKind.TEXT:
                return [wording.cannot_read(message.kind, language)], False
            return [wording.empty_message(language)], False
        if route.to == "flood_warn":
            return [wording.slow_down(language)], False
        if route.to == "flood_quiet":
            return [], False
        if text == CANCEL_REQUEST_PAYLOAD:  # an old button, or "No, I'm okay"
            return [wording.nothing_to_cancel(language)], False
        if asks_for_language(text):
            return [wording.which_language(language)], False
        choice = chosen_language(text)
        if choice is not None:
            await self._choose_language(state.member_id, choice)
            return [wording.language_set(choice)], False
        if followups.OFFER_PAYLOAD.match(text) or followups.CHECKIN_PAYLOAD.match(text):
            return await self._follow_up(message, text, language), False

        staff_command = parse_staff_command(text)
        if staff_command is not None:
            return await self._staff_chat.command(message, *staff_command), False
        command = parse_command(text)
        if command is not None:
            return await self._research.command(message, command), False
        if state.writing_for_research:
            # Her answer to a researcher's question, or her question for researchers.
            taken = await self._research.take_input(message, text)
            if taken is not None:
                return taken, False
        # Her check-ins, reminders, time zone, or the person from last time (issue #21).
        planned = await self._her_plans.answer(message, text)
        if planned is not None:
            return planned, False

        notes: list[Reply] = []
        if len(text) > self._config.max_message_chars:
            text = text[: self._config.max_message_chars]
            notes.append(wording.long_message(language))
        try:
            result = await self._dialogue.respond(state.pseudonym, text, language)
        except DialogueUnavailable:
            self._count_reading(None)
            return [*notes, wording.fallback(language)], True
        self._count_reading(state.pseudonym)

        for request in ("my_data", "delete_request"):
            if request in result.requests:  # asked in words; the app answers, not Rasa
                return await self._data_rights(message, request), False
        for request in RESEARCH_REQUESTS:
            if request in result.requests:
                return await self._research.request(message, request), False
        replies = list(result.replies)
        if result.handoff_requested:
            replies = await self._on_request_for_person(message, text, route, replies)
        if message.kind is not ContentKind.TEXT:
            notes.append(wording.caption_only(message.kind, language))
        return ([*notes, *replies] if replies else [*notes, wording.fallback(language)]), True

    async def _on_request_for_person(
        self, message: InboundMessage, text: str, route: _Route, replies: list[Reply]
    ) -> list[Reply]:
        """Rasa heard a request for a person. A case opens only on her clear request (a
        button, /talk, or a short sentence asking for a person); a word in passing ("someone
        offered me pills", a past slip) is asked about instead. The reply that says a person
        is coming carries a button to cancel."""
        language = message.language or "en"
        if route.waiting:
            return [wording.already_asked_for_person(language)]
        if not clear_request_for_person(text):
            return [wording.confirm_person(language)]
        async with self._db.transaction() as session:
            member = await resolve_member(
                session, self._config.pseudonym_key, message.platform, message.user_id
            )
            opening = await HandoffCases(session, self._config.moderation_homes).open_on_request(
                member, message.platform, text[:TRANSCRIPT_LIMIT_CHARS]
            )
            member_id = member.id
        # If she has a safety plan: may the person who joins see it (issue #21)?
        share = await self._plans.after_case_opened(member_id, opening.case_id, language)
        if not replies:
            return [wording.already_asked_for_person(language), *share]
        last = replies[-1]
        cancel = wording.cancel_request_button(language)
        return [*replies[:-1], replace(last, buttons=(*last.buttons, cancel)), *share]


REQUEST_PAYLOADS = ("/request_human", "/talk")


def _written_language(text: str) -> str | None:
    """The language a message is clearly written in, or None; a command's own name (/answer_3,
    /language) is not a word of hers."""
    words = text.strip()
    if words.startswith("/"):
        words = words.split(maxsplit=1)[1] if " " in words else ""
    return default_detector().clear(words) if words else None


CANCEL_KEYS = frozenset(_answer_key(words) for words in wording.CANCEL_WORDS)


def _is_request_payload(text: str) -> bool:
    """The button's payload or /talk (a command's name may carry "@bot")."""
    first = text.split(maxsplit=1)[0] if text.strip() else ""
    return first.split("@")[0] in REQUEST_PAYLOADS


def clear_request_for_person(text: str) -> bool:
    """Her clear request for a person: the button's payload or /talk, or a short message that
    names a person and asks for one (reviewed words in bots/wording.py). Checked here, not by
    retraining the NLU: Rasa's request intent also catches words in passing."""
    if _is_request_payload(text.strip()):
        return True
    words = _answer_key(text).replace("'", " ").split()
    return (
        0 < len(words) <= wording.CLEAR_REQUEST_MAX_WORDS
        and any(word in wording.PERSON_WORDS for word in words)
        and any(word in wording.ASKING_WORDS for word in words)
    )


@dataclass(frozen=True)
class _Route:
    """Where an unflagged message goes: `case` (a person has her, or nothing to read while
    she waits), `blocked`, `flood_warn`,
    `flood_quiet`, `app` (a command, data rights, research input, nothing to read) or
    `dialogue` (Rasa)."""

    state: MemberState
    to: str
    # A case is open and nobody has claimed it yet: the bot still answers her (its answers
    # copied to the case), and she can cancel her request.
    waiting: bool = False

    @property
    def case_id(self) -> int:
        if self.state.case_id is None:
            raise ValueError("no open case")
        return self.state.case_id


def _signatures(new_chat: CrisisFromNewChat | None) -> tuple[str | None, str] | None:
    """A new chat's case keeps the signatures a later flood would gather it by."""
    if new_chat is None:
        return None
    return new_chat.address_signature, new_chat.words_signature


def _retrieve_exception(task: asyncio.Future[Any]) -> None:
    """A lookup whose answer was not needed (a crisis takes its own path) may fail unobserved."""
    if not task.cancelled():
        task.exception()
