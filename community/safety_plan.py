"""Her safety plan (issue #21): the six steps of the Stanley-Brown Safety Planning Intervention
in her own words, built step by step, sealed whole with Fernet so that nobody reading the
database (or its backups) can read a name, a number or a word of it; opened for her, for a
moderator only while a case of hers is open and she agreed, and for one line in a crisis reply.

Keys come from the environment only (`PEERBOT_PLAN_KEYS`, comma-separated, newest first); in
development one is generated once into `var/plan_keys`. Rotation: put a new key first, run
`peerbot rotate-plan-keys` (every plan is sealed again with it), then drop the old key.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.models import OPEN_CASE_STATUSES, Case, CaseEvent, SafetyPlan, utcnow
from community.phrases import phrase
from community.resources import default_directory, without_accents
from community.settings import Environment, Settings

PLAN_DATA_PATH = Path(__file__).resolve().parent / "data" / "safety_plan.yml"
KEY_FILE_NAME = "plan_keys"
# Her words for one step are kept whole up to this length (a chat message, not a book).
STEP_LIMIT_CHARS = 1500
# While she builds her plan, her next message answers the step she was asked; after this long
# without an answer, what she writes is an ordinary message again.
BUILDING_FOR = timedelta(minutes=30)
BUILD, EDIT = "build", "edit"
NALOXONE = "naloxone"
# What a plan's buttons send (the gateway answers them): /myplan_build, /myplan_skip,
# /myplan_stop, /myplan_edit, /myplan_edit_<step>, /myplan_add_<item>, /myplan_delete(_yes|_no).
BUTTON_PAYLOAD = re.compile(
    r"^/myplan_(build|not_now|skip|stop|edit|delete|delete_yes|delete_no|edit_[a-z_]{3,20}"
    r"|add_[a-z0-9_]{3,40})$"
)
# The command, typed or from a platform's menu: /myplan, /myplan edit, /myplan delete.
COMMAND = re.compile(r"^/myplan(?:@\w+)?(?:\s+(\w+))?\s*$", re.IGNORECASE)
# Her answer to "may the person helping you see your plan?" for one case.
SHARE_PAYLOAD = re.compile(r"^/plan_share_(yes|no)_(\d{1,12})$")
COMMAND_WORDS = {
    "edit": "edit",
    "change": "edit",
    "editar": "edit",
    "cambiar": "edit",
    "delete": "delete",
    "borrar": "delete",
    "eliminar": "delete",
}


class PlanKeysError(ValueError):
    """PEERBOT_PLAN_KEYS is not a list of Fernet keys (the message never shows the value)."""


class PlanLocked(Exception):
    """The plan cannot be opened or sealed: no key is set, or it was sealed with a key that is
    no longer in PEERBOT_PLAN_KEYS."""


class PlanNotShared(Exception):
    """A moderator asked for a plan she has not shared for this open case."""


@dataclass(frozen=True)
class PlanKeys:
    """The keys plans are sealed with: the first seals, every one opens (MultiFernet)."""

    fernet: MultiFernet | None = None
    count: int = 0

    @classmethod
    def parse(cls, text: str) -> PlanKeys:
        keys = [part.strip() for part in text.split(",") if part.strip()]
        if not keys:
            return cls()
        try:
            return cls(MultiFernet([Fernet(key.encode()) for key in keys]), len(keys))
        except ValueError:
            raise PlanKeysError(
                "PEERBOT_PLAN_KEYS must be Fernet keys (32 url-safe base64-encoded bytes each, "
                "comma-separated, newest first); make one with: peerbot new-plan-key"
            ) from None

    @staticmethod
    def new_key() -> str:
        return Fernet.generate_key().decode()

    @property
    def available(self) -> bool:
        return self.fernet is not None

    def seal(self, plan: Plan) -> str:
        if self.fernet is None:
            raise PlanLocked("no plan key is set")
        return self.fernet.encrypt(plan.to_json().encode()).decode()

    def open(self, sealed: str) -> Plan:
        if self.fernet is None:
            raise PlanLocked("no plan key is set")
        try:
            return Plan.from_json(self.fernet.decrypt(sealed.encode()).decode())
        except (InvalidToken, ValueError):
            raise PlanLocked("the plan was sealed with a key that is not set") from None

    def reseal(self, sealed: str) -> str:
        """The same plan sealed again with the newest key (for rotation)."""
        if self.fernet is None:
            raise PlanLocked("no plan key is set")
        try:
            return self.fernet.rotate(sealed.encode()).decode()
        except InvalidToken:
            raise PlanLocked("the plan was sealed with a key that is not set") from None


def keys_from_settings(settings: Settings) -> PlanKeys:
    """PEERBOT_PLAN_KEYS; in development without it, a key generated once into var/plan_keys
    (owner-only). In production without it, plans cannot be stored: she is told so kindly and
    `peerbot doctor` names the setting."""
    if settings.plan_keys is not None and settings.plan_keys.get_secret_value().strip():
        return PlanKeys.parse(settings.plan_keys.get_secret_value())
    if settings.env is Environment.PRODUCTION:
        return PlanKeys()
    key_file = settings.var_dir / KEY_FILE_NAME
    if not key_file.exists():
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        try:  # owner-only from the start; a second process starting at once reads the first's
            descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(PlanKeys.new_key())
    return PlanKeys.parse(key_file.read_text())


@dataclass
class Plan:
    """What she wrote for each step, and the directory's services she chose (by id)."""

    words: dict[str, str] = field(default_factory=dict)
    services: dict[str, list[str]] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"v": 1, "words": self.words, "services": self.services})

    @classmethod
    def from_json(cls, text: str) -> Plan:
        data: Any = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a plan")
        words = {str(k): str(v) for k, v in dict(data.get("words") or {}).items()}
        services = {
            str(k): [str(i) for i in v] for k, v in dict(data.get("services") or {}).items()
        }
        return cls(words, services)

    def has(self, step: str) -> bool:
        return bool(self.words.get(step) or self.services.get(step))

    @property
    def empty(self) -> bool:
        return not any(self.has(step) for step in steps())


@cache
def plan_data(path: Path = PLAN_DATA_PATH) -> dict[str, Any]:
    """The reviewable data file: the steps in order, the services offered, her words for show,
    skip and stop."""
    with path.open(encoding="utf-8") as handle:
        data: Any = yaml.safe_load(handle)
    directory = default_directory()
    for ids in data["services"].values():
        for resource_id in ids:
            directory.get(resource_id)  # every offered service is in the directory
    return dict(data)


def steps() -> tuple[str, ...]:
    return tuple(plan_data()["steps"])


def offered(step: str) -> tuple[str, ...]:
    """The items offered as buttons at a step: directory ids, and naloxone at the last step."""
    ids = tuple(plan_data()["services"].get(step) or ())
    return (NALOXONE, *ids) if step == "safer" else ids


def _folded(text: str) -> str:
    kept = "".join(c if c.isalnum() or c in " '" else " " for c in without_accents(text.casefold()))
    return " ".join(kept.replace("\u2019", "'").split())


def _word_set(kind: str) -> frozenset[str]:
    table = plan_data()[kind]
    return frozenset(_folded(str(w)) for language in ("en", "es") for w in table[language])


def asks_for_plan(text: str) -> bool:
    """A whole message asking to see her plan ("my safety plan", "mi plan de seguridad")."""
    return len(text) <= 60 and _folded(text) in _word_set("show_words")


def means_skip(text: str) -> bool:
    return _folded(text) in _word_set("skip_words")


def means_stop(text: str) -> bool:
    return _folded(text) in _word_set("stop_words")


async def plan_row(
    session: AsyncSession, member_id: int, for_update: bool = False
) -> SafetyPlan | None:
    query = select(SafetyPlan).where(SafetyPlan.member_id == member_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def read_plan(session: AsyncSession, keys: PlanKeys, member_id: int) -> Plan | None:
    """Her plan, opened; None if she has none. Raises PlanLocked."""
    row = await plan_row(session, member_id)
    return None if row is None else keys.open(row.sealed)


async def write_plan(
    session: AsyncSession, keys: PlanKeys, member_id: int, plan: Plan
) -> SafetyPlan:
    """Seal and keep her plan (a new row the first time). Raises PlanLocked."""
    sealed = keys.seal(plan)
    row = await plan_row(session, member_id, for_update=True)
    if row is None:
        row = SafetyPlan(member_id=member_id, sealed=sealed)
        session.add(row)
    else:
        row.sealed, row.updated_at = sealed, utcnow()
    await session.flush()
    return row


@dataclass(frozen=True)
class Progress:
    """Where she is after an answer: the step to ask next (None: done), and whether she was
    editing one step (then she is shown her plan)."""

    next_step: str | None
    edited: bool = False


async def start(
    session: AsyncSession,
    keys: PlanKeys,
    member_id: int,
    step: str | None = None,
    mode: str = BUILD,
) -> str:
    """Begin building (from the first step) or editing one step. Returns the step to ask."""
    chosen = step or steps()[0]
    if chosen not in steps():
        raise ValueError(f"no such step: {chosen}")
    row = await plan_row(session, member_id, for_update=True)
    if row is None:
        row = await write_plan(session, keys, member_id, Plan())
    row.building_step, row.building_since, row.building_mode = chosen, utcnow(), mode
    return chosen


def building(row: SafetyPlan | None, now: datetime | None = None) -> str | None:
    """The step her next message answers, if she is building her plan now."""
    if row is None or row.building_step is None or row.building_since is None:
        return None
    if (now or utcnow()) - row.building_since > BUILDING_FOR:
        return None
    return row.building_step


def _after(step: str) -> str | None:
    order = steps()
    index = order.index(step)
    return order[index + 1] if index + 1 < len(order) else None


def _move_on(row: SafetyPlan, step: str) -> Progress:
    if row.building_mode == EDIT:
        stop_building(row)
        return Progress(None, edited=True)
    following = _after(step)
    if following is None:
        stop_building(row)
    else:
        row.building_step, row.building_since = following, utcnow()
    return Progress(following)


def stop_building(row: SafetyPlan) -> None:
    row.building_step = row.building_since = row.building_mode = None


async def answer_step(
    session: AsyncSession, keys: PlanKeys, member_id: int, text: str
) -> Progress | None:
    """Her words for the step she was asked, kept as she wrote them. None if she is not
    building her plan."""
    row = await plan_row(session, member_id, for_update=True)
    step = building(row)
    if row is None or step is None:
        return None
    plan = keys.open(row.sealed)
    plan.words[step] = text.strip()[:STEP_LIMIT_CHARS]
    await write_plan(session, keys, member_id, plan)
    return _move_on(row, step)


async def skip_step(session: AsyncSession, member_id: int) -> Progress | None:
    row = await plan_row(session, member_id, for_update=True)
    step = building(row)
    if row is None or step is None:
        return None
    return _move_on(row, step)


async def stop(session: AsyncSession, member_id: int) -> bool:
    """ "Stop": what she has is kept; she is no longer asked. False if she was not building."""
    row = await plan_row(session, member_id, for_update=True)
    if row is None or building(row) is None:
        return False
    stop_building(row)
    return True


async def add_item(session: AsyncSession, keys: PlanKeys, member_id: int, item: str) -> str | None:
    """A service from the directory (or naloxone near) added to the step she is on. Returns
    the step, or None when she is not on a step that offers it."""
    row = await plan_row(session, member_id, for_update=True)
    step = building(row)
    if row is None or step is None or item not in offered(step):
        return None
    plan = keys.open(row.sealed)
    chosen = plan.services.setdefault(step, [])
    if item not in chosen:
        chosen.append(item)
    await write_plan(session, keys, member_id, plan)
    row.building_since = utcnow()
    return step


async def delete_plan(session: AsyncSession, member_id: int) -> bool:
    """Her plan gone (the row, not a blanked copy). False if she had none."""
    result = await session.execute(delete(SafetyPlan).where(SafetyPlan.member_id == member_id))
    return bool(getattr(result, "rowcount", 0))


def item_line(item: str, language: str) -> str:
    """A chosen service as her plan shows it: the directory's line, or naloxone's phrase."""
    if item == NALOXONE:
        return phrase("safety_plan_naloxone", language)
    return default_directory().get(item).contact_line(language)


def item_title(item: str, language: str) -> str:
    if item == NALOXONE:
        return phrase("button_safety_plan_naloxone", language)
    return default_directory().get(item).display_name(language)


# What a moderator sees above her plan (moderators read English; her words stay as she wrote).
MODERATOR_TITLE = (
    "Her safety plan, shared with you for this case only (do not copy it into notes or "
    "elsewhere; it is hers again when the case closes):"
)


def render(plan: Plan, language: str, title: str | None = None) -> str:
    """Her plan, step by step, in her words; a step she skipped says so."""
    lines = [title or phrase("safety_plan_title", language)]
    for number, step in enumerate(steps(), start=1):
        lines.append(f"\n{number}. {phrase(f'safety_plan_heading_{step}', language)}")
        if plan.words.get(step):
            lines.append(plan.words[step])
        lines.extend(f"• {item_line(i, language)}" for i in plan.services.get(step, []))
        if not plan.has(step):
            lines.append(phrase("safety_plan_step_empty", language))
    return "\n".join(lines)


CRISIS_LINE_LIMIT = 200


def crisis_line(plan: Plan, language: str) -> str | None:
    """One line of her plan for a crisis reply: the first person she wrote she can ask, else the
    first professional or service she chose. None when those steps are empty."""
    for step in ("people", "professionals"):
        words = plan.words.get(step, "").strip()
        if words:
            first = words.splitlines()[0].strip()[:CRISIS_LINE_LIMIT]
            return phrase("safety_plan_crisis_line", language, who=first)
        for item in plan.services.get(step, []):
            return phrase("safety_plan_crisis_line", language, who=item_line(item, language))
    return None


async def ask_to_share(session: AsyncSession, member_id: int, case_id: int) -> bool:
    """Whether to ask her, for this case, if the person helping her may see her plan: once per
    case, and only when she has one."""
    row = await plan_row(session, member_id, for_update=True)
    if row is None or row.asked_case_id == case_id or row.shared_case_id == case_id:
        return False
    row.asked_case_id = case_id
    return True


async def open_case_of(session: AsyncSession, member_id: int, case_id: int) -> Case | None:
    case = await session.get(Case, case_id)
    if case is None or case.member_id != member_id:
        return None
    return case if case.status in {s.value for s in OPEN_CASE_STATUSES} else None


async def answer_share(session: AsyncSession, member_id: int, case_id: int, yes: bool) -> str:
    """Her yes or no for one open case of hers. Returns the phrase key to answer with."""
    row = await plan_row(session, member_id, for_update=True)
    case = await open_case_of(session, member_id, case_id)
    if row is None or case is None:
        return "safety_plan_share_gone"
    row.shared_case_id = case_id if yes else None
    return "safety_plan_shared" if yes else "safety_plan_not_shared"


async def shared_plan(session: AsyncSession, keys: PlanKeys, case_id: int, moderator: str) -> Plan:
    """Her plan for the moderator of this case: only while the case is open and only if she
    said yes for it; each look is in the case's audit events. Raises PlanNotShared (or
    PlanLocked)."""
    case = await session.get(Case, case_id)
    if case is None:
        raise PlanNotShared("No such case.")
    if case.status not in {s.value for s in OPEN_CASE_STATUSES}:
        raise PlanNotShared("The case is closed: her safety plan is hers again.")
    row = await plan_row(session, case.member_id)
    if row is None or row.shared_case_id != case_id:
        raise PlanNotShared(
            "She has not shared a safety plan for this case (she is asked when a case opens "
            "and she has one)."
        )
    plan = keys.open(row.sealed)
    session.add(CaseEvent(case_id=case_id, actor=moderator, action="safety_plan_viewed"))
    return plan


async def reseal_all(session: AsyncSession, keys: PlanKeys) -> tuple[int, int]:
    """Every plan sealed again with the newest key (rotation). Returns (resealed, unreadable):
    an unreadable plan was sealed with a key no longer set and is left as it is."""
    resealed = unreadable = 0
    for row in (await session.scalars(select(SafetyPlan).with_for_update())).all():
        try:
            row.sealed = keys.reseal(row.sealed)
            resealed += 1
        except PlanLocked:
            unreadable += 1
    return resealed, unreadable
