"""The database schema: members and their pseudonyms, delivery addresses, cases, and the outbox.

Platform ids appear in exactly one table (`delivery_addresses`), used only to deliver messages;
everything else refers to a member by id or pseudonym. Message text is stored only where the
product needs it (case transcripts, undelivered outbox entries) and is purged on a schedule.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime}


class Role(StrEnum):
    MOTHER = "mother"
    MODERATOR = "moderator"
    RESEARCHER = "researcher"


class CaseStatus(StrEnum):
    WAITING = "waiting"
    CLAIMED = "claimed"
    RESOLVED = "resolved"
    RETURNED = "returned"


OPEN_CASE_STATUSES = (CaseStatus.WAITING, CaseStatus.CLAIMED)
# The predicate of the one-open-case-per-member index, as SQL: ON CONFLICT must repeat it.
OPEN_CASE_PREDICATE = "status IN ('waiting', 'claimed')"


class Member(Base):
    """A person known to peerbot, by pseudonym only."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16), default=Role.MOTHER.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when she asks to delete her data; deletion needs her confirmation soon after.
    deletion_requested_at: Mapped[datetime | None] = mapped_column(default=None)
    # When she last wrote, and when Rasa's memory of her conversation was last wiped: the
    # retention job wipes it once she has been quiet for the configured time.
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    rasa_forgotten_at: Mapped[datetime | None] = mapped_column(default=None)
    # The language she is answered in ("en" or "es"; None until she has written or chosen), how
    # it was decided ("chosen" by her, "written", or the platform's "hint"), and how many
    # messages in a row she has written in the other language (a run of them switches it; one
    # does not). See bots/member_language.py.
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    language_source: Mapped[str | None] = mapped_column(String(16), default=None)
    language_run: Mapped[int] = mapped_column(default=0, server_default="0")
    # Her time zone (an IANA name) when she told us one (/timezone); None: the community's.
    # Her check-ins and reminders are read in it.
    timezone: Mapped[str | None] = mapped_column(String(64), default=None)

    addresses: Mapped[list[DeliveryAddress]] = relationship(
        back_populates="member", cascade="all, delete-orphan"
    )

    @property
    def short_name(self) -> str:
        """What moderators see: stable, short, and carries nothing from the platform."""
        return f"member-{self.pseudonym[:8]}"


class DeliveryAddress(Base):
    """Where to reach a member on one platform. The only place platform ids are kept."""

    __tablename__ = "delivery_addresses"
    __table_args__ = (Index("ux_delivery_platform_address", "platform", "address", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(255))

    member: Mapped[Member] = relationship(back_populates="addresses")


class Case(Base):
    """A conversation handed to humans: opened by the crisis screen or a request for a person."""

    __tablename__ = "cases"
    __table_args__ = (
        # One open case per member, enforced by the database so concurrent openers cannot race.
        Index(
            "ux_cases_one_open_per_member",
            "member_id",
            unique=True,
            sqlite_where=text(OPEN_CASE_PREDICATE),
            postgresql_where=text(OPEN_CASE_PREDICATE),
        ),
        Index("ix_cases_status_severity", "status", "severity_rank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.WAITING.value)
    source: Mapped[str] = mapped_column(String(16))  # "screen" or "request"
    category: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    # Higher is more urgent; a number so the queue can sort by it in SQL.
    severity_rank: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    # The claimer's display name ("Sam (peer)"), shown to staff instead of `claimed_by`, which
    # may be a platform id (telegram:555). Staff data, not a member's.
    claimed_by_name: Mapped[str | None] = mapped_column(String(64), default=None)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[str | None] = mapped_column(String(64), default=None)
    first_human_reply_at: Mapped[datetime | None] = mapped_column(default=None)
    # When the case was last announced to moderators (opened, raised, or re-announced unclaimed).
    announced_at: Mapped[datetime | None] = mapped_column(default=None)
    reannouncements: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Opened by a new chat: keyed hashes of where it came from and of its words, so that if a
    # flood follows, its first cases join the flood's alert (`flood_alert_id`) and sink below
    # every other case in the queue.
    address_signature: Mapped[str | None] = mapped_column(String(32), default=None)
    words_signature: Mapped[str | None] = mapped_column(String(32), default=None)
    flood_alert_id: Mapped[int | None] = mapped_column(Integer, default=None)
    # She asked for the person she talked with before (/same, issue #21): who (the staff key as
    # `claimed_by` spells it, and the display name she knows), and until when only they may
    # claim it (None: that person was not around, so it went to everyone at once).
    asked_for: Mapped[str | None] = mapped_column(String(64), default=None)
    asked_for_name: Mapped[str | None] = mapped_column(String(64), default=None)
    asked_for_until: Mapped[datetime | None] = mapped_column(default=None)

    member: Mapped[Member] = relationship()
    messages: Mapped[list[CaseMessage]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseMessage.id"
    )


class CaseMessage(Base):
    """One turn of a case transcript (kept for the configured retention period)."""

    __tablename__ = "case_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(16))  # "member", "moderator", "bot"
    author_name: Mapped[str | None] = mapped_column(String(64), default=None)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="messages")


class CaseEvent(Base):
    """Audit log of case transitions: who did what, when."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(String(255), default=None)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """A message for a member that must not be lost: written first, then delivered and retried.

    Delivered entries keep no text: it is cleared once the platform confirmed delivery.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "member_id", "platform", "delivered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    buttons: Mapped[list[dict[str, str]] | None] = mapped_column(JSON, default=None)
    sender_name: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Bulk messages (a research question to many mothers) go after everything else and are
    # sent at most once: one claimed (`sending_at`) when a process died is not sent again,
    # because nobody may get a broadcast twice. Everything else is retried until delivered.
    bulk: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sending_at: Mapped[datetime | None] = mapped_column(default=None)
    # "sent", "unreachable", or "unconfirmed" (bulk, in flight when a process died).
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    # A small file sent with the text (a session's .ics: `messages.Attachment.as_row`), cleared
    # with the text once delivered.
    attachment: Mapped[dict[str, str] | None] = mapped_column(JSON, default=None)


class Staff(Base):
    """A moderator or researcher who works through the HTTP API and consoles.

    Only a hash of the API token is stored; the token itself is shown once, when created.
    """

    __tablename__ = "staff"
    __table_args__ = (Index("ux_staff_link_code", "link_code_hash", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    # A one-time code (hashed) that links a chat account to this staff account, and its end.
    link_code_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    link_code_expires_at: Mapped[datetime | None] = mapped_column(default=None)


class StaffChatAccount(Base):
    """A chat account (by the member's pseudonym, never a platform id) that acts for a staff
    account on Telegram or Discord: a researcher submitting questions by command."""

    __tablename__ = "staff_chat_accounts"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseNote(Base):
    """A moderator's private note on a case; never shown to the member."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """A message to moderators about a case, written before it is sent and retried until sent."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_pending", "home", "delivered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    home: Mapped[str] = mapped_column(String(16))  # "web", "telegram", "discord"
    kind: Mapped[str] = mapped_column(String(16))  # "opened", "raised", "reannounced"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class Block(Base):
    """A member blocked by a moderator (abuse), with a reason and an end."""

    __tablename__ = "blocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(255))
    until: Mapped[datetime] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Lifting a block ends it now and says who did it; the row stays for the team's record.
    lifted_at: Mapped[datetime | None] = mapped_column(default=None)
    lifted_by: Mapped[str | None] = mapped_column(String(64), default=None)


class ConductFlag(Base):
    """A community-channel post the conduct screen thinks attacks or shames someone, for a
    moderator to look at. Keeps the post's words (moderators must read them) until reviewed
    and purged with case transcripts; the author is a member id, never a platform id."""

    __tablename__ = "conduct_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
    reviewed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)  # dismissed, blocked


class FloodAlert(Base):
    """Many crisis messages from new chats at once, from one address or with the same words:
    each got the crisis reply, and moderators get this one alert (a count and a sample) instead
    of a case each. The address is never kept, only a keyed hash (`signature`); the sample is
    purged with case transcripts."""

    __tablename__ = "flood_alerts"
    __table_args__ = (Index("uq_flood_alerts_kind_signature", "kind", "signature", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "address" or "words"
    signature: Mapped[str] = mapped_column(String(32))
    count: Mapped[int] = mapped_column(Integer, default=0)
    sample: Mapped[str] = mapped_column(Text, default="")
    first_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_by: Mapped[str | None] = mapped_column(String(64), default=None)


class HomePost(Base):
    """A message for a chat moderation home itself (not a case thread), written first and
    retried until posted, like case notifications. Its text is cleared once posted."""

    __tablename__ = "home_posts"
    __table_args__ = (Index("ix_home_posts_pending", "home", "posted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    home: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    posted_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class StaffNotice(Base):
    """A notice for the moderators that is not about a case (e.g. resource entries due for
    review); `key` makes a scheduled job's notice once-only however often the job runs."""

    __tablename__ = "staff_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(96), unique=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlatformUpdate(Base):
    """A platform update already taken in (Telegram's update_id), so a redelivery after a
    restart is never answered twice."""

    __tablename__ = "platform_updates"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class CaseThread(Base):
    """Where a case lives in a moderation home (a Telegram topic, a Discord thread), and how far
    the case transcript has been relayed there."""

    __tablename__ = "case_threads"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    home: Mapped[str] = mapped_column(String(16), primary_key=True)
    thread_id: Mapped[str] = mapped_column(String(64), index=True)
    relayed_message_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class DeletionRecord(Base):
    """The one thing kept when a member's data is deleted: that a deletion happened, and how
    much it removed. Nothing in it points back to her."""

    __tablename__ = "deletion_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    deleted_at: Mapped[datetime] = mapped_column(default=utcnow)
    cases: Mapped[int] = mapped_column(Integer, default=0)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    platforms: Mapped[int] = mapped_column(Integer, default=0)


class SafetyCheck(Base):
    """The screen was unsure and asked her whether she is safe ("check"). Her message is kept
    only until she answers or the check times out (then it becomes the case's trigger, so the
    person who looks can read what she wrote); an "I'm safe" clears it and is counted so the
    thresholds can be recalibrated."""

    __tablename__ = "safety_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8), default="en")
    text: Mapped[str] = mapped_column(Text, default="")
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime] = mapped_column(index=True)
    # asked, safe, help, person, expired (no answer in time: a case was opened)
    status: Mapped[str] = mapped_column(String(16), default="asked", index=True)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), default=None
    )


class JournalReplay(Base):
    """A crisis finding that waited in the local journal while the database was away, written
    into its case once (`community/crisis_journal.py`). Only the journal entry's random id: the
    row makes a replay that is repeated after a crash do nothing."""

    __tablename__ = "journal_replays"

    entry_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), default=None
    )
    replayed_at: Mapped[datetime] = mapped_column(default=utcnow)


class FollowUp(Base):
    """A check-in after a case (or one a moderator scheduled): offered to her first, sent at the
    time she agreed to, answered with one of three buttons. No text of hers is kept: only when,
    and how it went. Issue #21."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    # The case it follows (gone with the case's retention); the case "I need someone now" opened.
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), default=None
    )
    new_case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), default=None
    )
    platform: Mapped[str] = mapped_column(String(16))
    # offered, scheduled, declined, sent, answered, unanswered
    status: Mapped[str] = mapped_column(String(16), index=True)
    scheduled_by: Mapped[str] = mapped_column(String(16), default="member")  # or "moderator"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[str | None] = mapped_column(
        String(16), default=None
    )  # better, not_great, need_now


class SafetyPlan(Base):
    """Her safety plan (issue #21): the six steps of the Stanley-Brown Safety Planning
    Intervention in her own words, sealed whole with Fernet (`community/safety_plan.py`), so
    names, numbers and everything she wrote are unreadable in the database. Beside it, only
    where she is in building it and which open case she let a moderator see it for."""

    __tablename__ = "safety_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), unique=True
    )
    sealed: Mapped[str] = mapped_column(Text)  # a Fernet token of the plan's JSON
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The step her next message answers while she builds or edits it (None: not building),
    # since when, and whether she goes on to the next step after it ("build") or stops ("edit").
    building_step: Mapped[str | None] = mapped_column(String(32), default=None)
    building_since: Mapped[datetime | None] = mapped_column(default=None)
    building_mode: Mapped[str | None] = mapped_column(String(8), default=None)
    # The case she agreed a moderator may see it for: valid only while that case is open.
    shared_case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), default=None
    )
    # The case she was last asked about (so she is asked once per case).
    asked_case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), default=None
    )


class CheckinSchedule(Base):
    """Check-ins she chose (issue #21): how often, at what time of her day, until when. One per
    member. Each check-in sent is a `follow_ups` row (scheduled_by "checkin"), so its buttons
    and answers are the follow-ups' own. No text of hers is kept."""

    __tablename__ = "checkin_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), unique=True
    )
    platform: Mapped[str] = mapped_column(String(16))
    every_days: Mapped[int] = mapped_column(Integer)
    # Her time of day, in minutes after midnight in `timezone`.
    at_minute: Mapped[int] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)  # active, paused, stopped, ended
    next_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    ends_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent: Mapped[int] = mapped_column(Integer, default=0)


class Reminder(Base):
    """A reminder she set ("remind me Tuesday 9am: clinic appointment"). The label is her words,
    kept only until it is sent or she cancels it; the row (no text) goes a week after."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(200), default=None)
    due_at: Mapped[datetime] = mapped_column(index=True)
    timezone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending, sent, cancelled
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(default=None)


# The predicate of the one-open-shift-per-moderator index, as SQL: ON CONFLICT must repeat it.
OPEN_SHIFT_PREDICATE = "ended_at IS NULL"


class ModeratorShift(Base):
    """A moderator's time on shift (#22): new cases name those on shift first, a case waits for
    the on-call list at once when nobody is, and the team sees who carried which nights. Staff
    data only: the moderator as `Case.claimed_by` spells them (a staff name, or a chat account
    such as telegram:555) and the display name they go by; nothing about a member."""

    __tablename__ = "moderator_shifts"
    __table_args__ = (
        # One open shift per moderator, enforced by the database: two toggles racing end as one.
        Index(
            "ux_moderator_shifts_one_open",
            "moderator",
            unique=True,
            sqlite_where=text(OPEN_SHIFT_PREDICATE),
            postgresql_where=text(OPEN_SHIFT_PREDICATE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    moderator: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(default=None, index=True)


class InsightTally(Base):
    """What the community asks, counted as messages pass (#22): per day in the community's time
    zone, a metric ("intent", "unanswered_nearest", "dialogue_unavailable") and its key (an
    intent's name) with a count. No text, no member: `community/insights/tallies.py`."""

    __tablename__ = "insight_tallies"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class InsightActivity(Base):
    """That a member wrote in a given hour (UTC), for the distinct members a day and a week
    (#22). The one insight table that names a member: deleted with her data, and after
    `ACTIVITY_KEPT` (8 days) by the rollup, once the week it counts in is rolled up."""

    __tablename__ = "insight_activity"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    hour: Mapped[datetime] = mapped_column(primary_key=True, index=True)


class InsightRollup(Base):
    """The daily rollup behind the insights page (#22): (day, metric, key, value) rows with no
    text and nothing that points to a member, so it outlives retention and "delete my data".
    A count is one row per (day, metric, key); a duration metric ("claim_seconds",
    "first_reply_seconds") is one row per case, its value in seconds, so percentiles can be
    taken over any week. Rebuilt per day by `community/insights/rollup.py`."""

    __tablename__ = "insight_rollup"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    metric: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(80), default="")
    value: Mapped[int] = mapped_column(BigInteger)
