"""Her safety plan in chat (issue #21): what she types or taps to see, build, change or delete
it, answered by the app in her language; the line of it that follows a crisis reply; and her
yes or no to the person helping her seeing it. The plan itself is `community/safety_plan.py`.

```mermaid
flowchart LR
  show["/myplan, 'my safety plan'"] -->|none yet| invite -->|Make my plan| s1
  s1[1 warning signs] --> s2[2 on my own] --> s3[3 people and places] --> s4[4 people to ask]
  s4 --> s5[5 professionals: directory buttons] --> s6[6 safer: naloxone, never use alone]
  s6 --> saved
  s1 & s2 & s3 & s4 & s5 & s6 -->|stop| saved
  show -->|Change a step| edit[one step] --> saved
  show -->|Delete| confirm --> deleted
```

Nothing of what she writes here is logged; each step answer is sealed before it is stored.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from community import safety_plan as plans
from community.db import Database
from community.members import resolve_member
from community.messages import Button, InboundMessage, Reply
from community.phrases import phrase
from community.resources import core_resources_text, expand_resource_refs

log = logging.getLogger(__name__)

# The line from her plan after a crisis reply is best-effort: past this, it is left out.
CRISIS_LINE_SECONDS = 2.0


def takes(text: str, building: bool) -> bool:
    """Whether the plan's flow answers this message: its command, its buttons, her words for
    "my safety plan", or (while she builds it) her answer to a step."""
    return (
        plans.COMMAND.match(text) is not None
        or plans.BUTTON_PAYLOAD.match(text) is not None
        or plans.SHARE_PAYLOAD.match(text) is not None
        or plans.asks_for_plan(text)
        or (building and bool(text) and not text.startswith("/"))
    )


def is_plan_command(text: str) -> bool:
    """/myplan (typed or from a menu) or one of the plan's buttons."""
    return plans.COMMAND.match(text) is not None or knows_payload(text)


def knows_payload(text: str) -> bool:
    """A button's payload typed out or passed on by an adapter."""
    return (
        plans.BUTTON_PAYLOAD.match(text) is not None or plans.SHARE_PAYLOAD.match(text) is not None
    )


def _button(key: str, payload: str, language: str) -> Button:
    return Button(phrase(key, language), payload)


class SafetyPlanFlow:
    """Answers what she sends about her plan; one short transaction each."""

    def __init__(self, database: Database, pseudonym_key: bytes, keys: plans.PlanKeys) -> None:
        self._db = database
        self._key = pseudonym_key
        self._keys = keys

    @property
    def keys(self) -> plans.PlanKeys:
        return self._keys

    async def respond(self, message: InboundMessage, text: str, language: str) -> list[Reply]:
        if not self._keys.available:
            log.error("safety plan asked for, but PEERBOT_PLAN_KEYS is not set")
            return [self._unavailable(language)]
        try:
            async with self._db.transaction() as session:
                member = await resolve_member(session, self._key, message.platform, message.user_id)
                return await self._respond(session, member.id, text, language)
        except plans.PlanLocked:
            log.error(
                "safety plan could not be opened with PEERBOT_PLAN_KEYS",
                extra={"platform": message.platform},
            )
            await self._stop_building(message)
            return [self._unavailable(language)]

    async def _stop_building(self, message: InboundMessage) -> None:
        """Her plan cannot be opened: her next words must not be caught by it."""
        try:
            async with self._db.transaction() as session:
                member = await resolve_member(session, self._key, message.platform, message.user_id)
                await plans.stop(session, member.id)
        except Exception as error:
            log.warning("safety plan building not stopped", extra={"error": type(error).__name__})

    async def _respond(
        self, session: AsyncSession, member_id: int, text: str, language: str
    ) -> list[Reply]:
        if share := plans.SHARE_PAYLOAD.match(text):
            key = await plans.answer_share(
                session, member_id, int(share.group(2)), share.group(1) == "yes"
            )
            return [self._say(key, language)]
        action = self._action(text)
        if action is None:
            progress = await plans.answer_step(session, self._keys, member_id, text)
            return await self._after(session, member_id, progress, language)
        if action == "show":
            plan = await plans.read_plan(session, self._keys, member_id)
            return [self._show(plan, language)]
        if action == "build":
            step = await plans.start(session, self._keys, member_id)
            return [self._say("safety_plan_intro", language), self._prompt(step, language)]
        if action == "not_now":
            return [self._say("safety_plan_not_now", language)]
        if action == "skip":
            progress = await plans.skip_step(session, member_id)
            return await self._after(session, member_id, progress, language)
        if action == "stop":
            stopped = await plans.stop(session, member_id)
            said = "safety_plan_stopped" if stopped else "safety_plan_nothing_pending"
            show = _button("button_safety_plan_show", "/myplan", language)
            return [Reply(phrase(said, language), (show,), language=language)]
        if action == "edit":
            return [self._which_step(language)]
        if action.startswith("edit_") and action[5:] in plans.steps():
            step = await plans.start(session, self._keys, member_id, action[5:], plans.EDIT)
            plan = await plans.read_plan(session, self._keys, member_id)
            return [self._prompt(step, language, plan)]
        if action.startswith("add_"):
            step_added = await plans.add_item(session, self._keys, member_id, action[4:])
            if step_added is None:
                return [self._say("safety_plan_nothing_pending", language)]
            name = plans.item_title(action[4:], language)
            return [
                Reply(
                    phrase("safety_plan_added", language, name=name),
                    self._step_buttons(step_added, language),
                    language=language,
                )
            ]
        if action == "delete":
            plan = await plans.read_plan(session, self._keys, member_id)
            if plan is None or plan.empty:
                return [self._show(plan, language)]
            return [
                Reply(
                    phrase("safety_plan_confirm_delete", language),
                    (
                        _button("button_safety_plan_delete_yes", "/myplan_delete_yes", language),
                        _button("button_safety_plan_delete_no", "/myplan_delete_no", language),
                    ),
                    language=language,
                )
            ]
        if action == "delete_yes":
            if not await plans.delete_plan(session, member_id):
                return [self._show(None, language)]
            log.info("safety plan deleted")
            return [self._say("safety_plan_deleted", language)]
        if action == "delete_no":
            return [self._say("safety_plan_kept", language)]
        return [self._say("safety_plan_nothing_pending", language)]

    @staticmethod
    def _action(text: str) -> str | None:
        """What she asks for; None when the message is her words for a step."""
        if button := plans.BUTTON_PAYLOAD.match(text):
            return button.group(1)
        if command := plans.COMMAND.match(text):
            word = (command.group(1) or "").casefold()
            return plans.COMMAND_WORDS.get(word, "show") if word else "show"
        if plans.asks_for_plan(text):
            return "show"
        if plans.means_stop(text):
            return "stop"
        if plans.means_skip(text):
            return "skip"
        return None

    async def _after(
        self,
        session: AsyncSession,
        member_id: int,
        progress: plans.Progress | None,
        language: str,
    ) -> list[Reply]:
        if progress is None:
            return [self._say("safety_plan_nothing_pending", language)]
        if progress.next_step is not None:
            return [self._prompt(progress.next_step, language)]
        plan = await plans.read_plan(session, self._keys, member_id)
        done = "safety_plan_step_saved" if progress.edited else "safety_plan_done"
        return [self._say(done, language), self._show(plan, language)]

    def _say(self, key: str, language: str) -> Reply:
        return Reply(phrase(key, language), language=language)

    def _unavailable(self, language: str) -> Reply:
        return Reply(
            phrase(
                "safety_plan_unavailable",
                language,
                core_resources=core_resources_text(language=language),
            ),
            language=language,
        )

    def _show(self, plan: plans.Plan | None, language: str) -> Reply:
        if plan is None or plan.empty:
            return Reply(
                phrase("safety_plan_none", language),
                (
                    _button("button_safety_plan_start", "/myplan_build", language),
                    _button("button_safety_plan_not_now", "/myplan_not_now", language),
                ),
                language=language,
            )
        return Reply(
            plans.render(plan, language),
            (
                _button("button_safety_plan_edit", "/myplan_edit", language),
                _button("button_safety_plan_delete", "/myplan_delete", language),
            ),
            language=language,
        )

    def _which_step(self, language: str) -> Reply:
        return Reply(
            phrase("safety_plan_which_step", language),
            tuple(
                _button(f"safety_plan_heading_{step}", f"/myplan_edit_{step}", language)
                for step in plans.steps()
            ),
            language=language,
        )

    def _step_buttons(self, step: str, language: str) -> tuple[Button, ...]:
        items = tuple(
            Button(plans.item_title(item, language), f"/myplan_add_{item}")
            for item in plans.offered(step)
        )
        return (
            *items,
            _button("button_safety_plan_skip", "/myplan_skip", language),
            _button("button_safety_plan_stop", "/myplan_stop", language),
        )

    def _prompt(self, step: str, language: str, plan: plans.Plan | None = None) -> Reply:
        text = expand_resource_refs(phrase(f"safety_plan_step_{step}", language), language=language)
        if plan is not None and plan.words.get(step):
            text += "\n\n" + phrase("safety_plan_current", language, words=plan.words[step])
        text += "\n\n" + phrase("safety_plan_step_footer", language)
        return Reply(text, self._step_buttons(step, language), language=language)

    async def after_crisis(self, member_id: int, case_id: int, language: str) -> list[Reply]:
        """After the crisis reply and its case are written: one line from her plan, and whether
        the person coming may see it. Best-effort: a slow or absent database, a missing key or
        no plan mean nothing more is said (the crisis reply has everything she needs)."""
        try:
            return await asyncio.wait_for(
                self._after_case(member_id, case_id, language, crisis=True), CRISIS_LINE_SECONDS
            )
        except Exception as error:
            log.warning("safety plan line left out", extra={"error": type(error).__name__})
            return []

    async def after_case_opened(self, member_id: int, case_id: int, language: str) -> list[Reply]:
        """A case opened at her request: if she has a plan, whether the person may see it."""
        try:
            return await self._after_case(member_id, case_id, language, crisis=False)
        except Exception as error:
            log.warning("safety plan question left out", extra={"error": type(error).__name__})
            return []

    async def _after_case(
        self, member_id: int, case_id: int, language: str, crisis: bool
    ) -> list[Reply]:
        """A case has opened: building her plan pauses (what she writes now is for the person
        coming, never a step of the plan; she can start again with them), then the line and
        the question."""
        async with self._db.transaction() as session:
            row = await plans.plan_row(session, member_id, for_update=True)
            if row is None:
                return []
            plans.stop_building(row)
            try:
                plan = self._keys.open(row.sealed)
            except plans.PlanLocked:
                return []
            replies: list[Reply] = []
            line = plans.crisis_line(plan, language) if crisis else None
            if line:
                show = _button("button_safety_plan_show", "/myplan", language)
                replies.append(Reply(line, (show,), language=language))
            if not plan.empty and await plans.ask_to_share(session, member_id, case_id):
                replies.append(self._share_question(case_id, language))
            return replies

    def _share_question(self, case_id: int, language: str) -> Reply:
        return Reply(
            phrase("safety_plan_share_ask", language),
            (
                _button("button_safety_plan_share_yes", f"/plan_share_yes_{case_id}", language),
                _button("button_safety_plan_share_no", f"/plan_share_no_{case_id}", language),
            ),
            language=language,
        )
