"""The research tables. Nothing here holds a platform id: a mother is a member id, and every
row tied to her goes when her member row goes (ON DELETE CASCADE)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from community.models import Base, utcnow


class QuestionStatus(StrEnum):
    SUBMITTED = "submitted"  # waiting for a moderator's review
    APPROVED = "approved"  # reviewed; publication may be scheduled
    DECLINED = "declined"
    PUBLISHED = "published"  # handed to the mothers who opted in
    CLOSED = "closed"  # past its closing date: answers are no longer taken


class QuestionKind(StrEnum):
    """What a researcher sends: a question mothers may answer, or news that takes no answer
    (an invitation to a study; results, for the mothers who took part in a question)."""

    QUESTION = "question"
    INVITATION = "invitation"
    RESULTS = "results"


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for its time (quiet hours, weekly cap)
    QUEUED = "queued"  # written to the outbox, which delivers it once
    SKIPPED = "skipped"  # not sent: she opted out, or the question closed first


class ResearchQuestion(Base):
    """A researcher's question to the community; `text` is what mothers see after review."""

    __tablename__ = "research_questions"
    __table_args__ = (Index("ix_research_questions_status", "status", "publish_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    researcher_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    text: Mapped[str] = mapped_column(Text)
    context: Mapped[str] = mapped_column(Text)
    submitted_text: Mapped[str] = mapped_column(Text)  # the researcher's words, before edits
    # The Spanish version a reviewer added (None: none yet; Spanish readers then get the English
    # words with a line in Spanish saying so). Not about any mother.
    text_es: Mapped[str | None] = mapped_column(Text, default=None)
    context_es: Mapped[str | None] = mapped_column(Text, default=None)
    quotes_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    closes_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(16), default=QuestionStatus.SUBMITTED.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
    decline_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    publish_at: Mapped[datetime | None] = mapped_column(default=None)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    kind: Mapped[str] = mapped_column(
        String(16), default=QuestionKind.QUESTION.value, server_default=QuestionKind.QUESTION.value
    )
    # For results: the question whose consenting mothers took part, and so receive them.
    about_question_id: Mapped[int | None] = mapped_column(
        ForeignKey("research_questions.id", ondelete="CASCADE"), default=None
    )


class ResearchPreference(Base):
    """What research contact a mother agreed to, and on which platform to reach her."""

    __tablename__ = "research_preferences"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    questions: Mapped[bool] = mapped_column(Boolean, default=False)
    invitations: Mapped[bool] = mapped_column(Boolean, default=False)
    results: Mapped[bool] = mapped_column(Boolean, default=False)
    # Discussion sessions with researchers (#22): announced to her, she RSVPs in chat.
    sessions: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    platform: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ResearchDelivery(Base):
    """One question for one mother. The unique pair is what makes a publication exactly-once:
    the fan-out can be repeated after a crash and adds nobody twice."""

    __tablename__ = "research_deliveries"
    __table_args__ = (
        Index("ux_research_delivery", "question_id", "member_id", unique=True),
        Index("ix_research_delivery_due", "state", "not_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("research_questions.id", ondelete="CASCADE")
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING.value)
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime | None] = mapped_column(default=None, index=True)


class CommunityPost(Base):
    """An approved question to post in a community channel (Telegram group, Discord channel),
    written at publication and marked when the platform accepted it."""

    __tablename__ = "research_community_posts"

    question_id: Mapped[int] = mapped_column(
        ForeignKey("research_questions.id", ondelete="CASCADE"), primary_key=True
    )
    home: Mapped[str] = mapped_column(String(16), primary_key=True)
    posted_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class ResearchConsent(Base):
    """Her yes or no to one question's terms (who sees her answer and how), asked once."""

    __tablename__ = "research_consents"

    question_id: Mapped[int] = mapped_column(
        ForeignKey("research_questions.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    consented: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ResearchAnswer(Base):
    """An answer given with consent, stored already de-identified (no platform id, no obvious
    identifiers); withdrawing it deletes the row."""

    __tablename__ = "research_answers"
    # One answer per mother and question: a second replaces the first (stuffing is refused).
    __table_args__ = (
        Index("uq_research_answers_question_member", "question_id", "member_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("research_questions.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Her separate yes (or no) to Mothers 101: any researcher may read it, de-identified.
    share_consent: Mapped[bool | None] = mapped_column(Boolean, default=None)
    # The language she wrote it in ("en" or "es"; None for answers kept before this was
    # noted): kept as she wrote it, never translated; researchers see which it is.
    language: Mapped[str | None] = mapped_column(String(8), default=None)


class MothersLibraryEntry(Base):
    """Mothers 101: an answer a mother agreed to share with every researcher, as a moderator
    trimmed it, under its question and a theme. Tied to her answer: withdrawing the answer,
    saying no after all, or deleting her data removes it."""

    __tablename__ = "mothers_library"

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(
        ForeignKey("research_answers.id", ondelete="CASCADE"), unique=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("research_questions.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    theme: Mapped[str] = mapped_column(String(80))
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class PendingInput(Base):
    """What her next message is for, when it is not for the bot: an answer to a research
    question, or a question for researchers. Expires; a command clears it."""

    __tablename__ = "pending_inputs"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    # "answer", "ask", or for a discussion session "session_ask" (her question ahead) and
    # "session_feedback" (her second feedback answer).
    kind: Mapped[str] = mapped_column(String(16))
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("research_questions.id", ondelete="CASCADE"), default=None
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("discussion_sessions.id", ondelete="CASCADE"), default=None
    )
    since: Mapped[datetime] = mapped_column(default=utcnow)


class MemberQuestionStatus(StrEnum):
    # Shown to her, de-identified, with "Send it" and "Don't send": hers alone until she sends
    # it (researchers and moderators never see one); deleted after a day if she does neither.
    DRAFT = "draft"
    QUEUED = "queued"  # waiting for a researcher
    ANSWERED = "answered"  # a researcher answered; waiting for a moderator's review
    DELIVERED = "delivered"  # reviewed and sent to her
    DECLINED = "declined"  # a moderator declined the answer; back to researchers


class MemberQuestion(Base):
    """A mother's question for researchers, asked anonymously (stored de-identified)."""

    __tablename__ = "member_questions"
    __table_args__ = (Index("ix_member_questions_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=MemberQuestionStatus.QUEUED.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text, default=None)
    answered_by: Mapped[str | None] = mapped_column(String(64), default=None)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    reviewed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    review_note: Mapped[str | None] = mapped_column(String(500), default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    # Her answer to "may this join Research 101?": None until she says.
    library_consent: Mapped[bool | None] = mapped_column(Boolean, default=None)


class LibraryEntry(Base):
    """Research 101: a question a mother agreed to share, with the reviewed answer. Public
    text with nothing of her in it, so it stays when she deletes her data."""

    __tablename__ = "research_library"

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class ResearchDigest(Base):
    """A researcher's scheduled digest for one period; `key` makes it once-only per period."""

    __tablename__ = "research_digests"

    id: Mapped[int] = mapped_column(primary_key=True)
    researcher_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ux_research_digest", "researcher_id", "key", unique=True),)


# `pending_inputs.session_id` names a discussion session: its table must be known wherever these
# tables are (community/sessions/models.py imports nothing from here, so no cycle).
import community.sessions.models  # noqa: E402, F401
