"""The discussion sessions' tables. A mother is a member id (never a platform id), and every
row tied to her goes when her member row goes (ON DELETE CASCADE). The place or link of a
session is in `discussion_sessions.place` only: it is copied into a message for a mother only
when she said yes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from community.models import Base, utcnow


class SessionStatus(StrEnum):
    SUBMITTED = "submitted"  # waiting for a moderator's review
    RETURNED = "returned"  # a moderator gave it back with a note; the proposer may resubmit
    APPROVED = "approved"  # reviewed; the scheduler announces it at its next run
    ANNOUNCED = "announced"  # sent to the mothers who opted in, posted in the channels
    CANCELLED = "cancelled"


class Rsvp(StrEnum):
    YES = "yes"
    MAYBE = "maybe"
    NO = "no"
    WAITLIST = "waitlist"  # she said yes when it was full; moved up in the order she came


class ReminderKind(StrEnum):
    DAY_BEFORE = "day_before"
    HOUR_BEFORE = "hour_before"
    FEEDBACK = "feedback"  # after the session: the two anonymous questions


class DiscussionSession(Base):
    """A proposed session. `topic` and `details` are what mothers read after review."""

    __tablename__ = "discussion_sessions"
    __table_args__ = (Index("ix_discussion_sessions_status", "status", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposer_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    host_name: Mapped[str] = mapped_column(String(64))  # how the host is named to mothers
    topic: Mapped[str] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text, default="")
    submitted_topic: Mapped[str] = mapped_column(Text)  # the proposer's words, before edits
    topic_es: Mapped[str | None] = mapped_column(Text, default=None)
    details_es: Mapped[str | None] = mapped_column(Text, default=None)
    starts_at: Mapped[datetime] = mapped_column()
    minutes: Mapped[int] = mapped_column(Integer, default=60)
    online: Mapped[bool] = mapped_column(default=True)  # a link (True) or a place (False)
    place: Mapped[str] = mapped_column(Text)  # the link or address: only for those who said yes
    capacity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=SessionStatus.SUBMITTED.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
    review_note: Mapped[str | None] = mapped_column(String(500), default=None)
    announced_at: Mapped[datetime | None] = mapped_column(default=None)


class SessionInvitation(Base):
    """The announcement for one mother who opted in; the unique pair makes it once-only (the
    same pattern as `research_deliveries`)."""

    __tablename__ = "session_invitations"
    __table_args__ = (
        Index("ux_session_invitation", "session_id", "member_id", unique=True),
        Index("ix_session_invitation_due", "state", "not_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("discussion_sessions.id", ondelete="CASCADE")
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending, queued, skipped
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime | None] = mapped_column(default=None)


class SessionPost(Base):
    """The announcement in a community channel (no place or link in it), marked once posted."""

    __tablename__ = "session_community_posts"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("discussion_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    home: Mapped[str] = mapped_column(String(16), primary_key=True)
    posted_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class SessionRsvp(Base):
    """Her answer. `since` orders the waitlist: the first to ask is the first moved up."""

    __tablename__ = "session_rsvps"
    __table_args__ = (Index("ux_session_rsvp", "session_id", "member_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("discussion_sessions.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))  # where she said it: where she is reached
    answer: Mapped[str] = mapped_column(String(16))
    since: Mapped[datetime] = mapped_column(default=utcnow)


class SessionReminder(Base):
    """A timed message for a session (the day before, the hour before, the feedback after),
    written when the session is announced: a row the scheduler finds, so a restart loses
    none. `sent_at` is set in the transaction that writes the messages to the outbox."""

    __tablename__ = "session_reminders"
    __table_args__ = (
        Index("ux_session_reminder", "session_id", "kind", unique=True),
        Index("ix_session_reminder_due", "sent_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("discussion_sessions.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    sent_to: Mapped[int] = mapped_column(Integer, default=0)  # how many: never who


class SessionQuestion(Base):
    """A question she sends ahead, de-identified. The host sees only the text and its date;
    `member_id` is kept so that she finds it in her data and it goes when she deletes it."""

    __tablename__ = "session_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("discussion_sessions.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SessionFeedback(Base):
    """Her two answers after a session: was it worth her time (yes, somewhat, no), and what
    would make the next one better (de-identified, optional). One per mother and session."""

    __tablename__ = "session_feedback"
    __table_args__ = (Index("ux_session_feedback", "session_id", "member_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("discussion_sessions.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    worth: Mapped[str] = mapped_column(String(8))  # yes, some, no
    better: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
