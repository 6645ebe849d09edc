"""Platform-neutral message types: what every adapter hands the gateway and gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ContentKind(StrEnum):
    TEXT = "text"
    STICKER = "sticker"
    PHOTO = "photo"
    VOICE = "voice"
    VIDEO = "video"
    DOCUMENT = "document"
    OTHER = "other"


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class InboundMessage:
    """One message from a member. `user_id` is the platform's id; it stops at the gateway."""

    platform: str
    user_id: str
    text: str = ""
    kind: ContentKind = ContentKind.TEXT
    caption: str = ""

    @property
    def readable_text(self) -> str:
        """What can be read: the text, or a caption on a photo, voice note or sticker."""
        return self.text if self.kind is ContentKind.TEXT else self.caption


@dataclass(frozen=True)
class Reply:
    """One message to a member; `sender_name` is a moderator's display name if a person wrote it."""

    text: str
    buttons: tuple[Button, ...] = field(default_factory=tuple)
    sender_name: str | None = None

    @property
    def signed_text(self) -> str:
        """The text as a chat platform shows it: a person's words say who wrote them."""
        if self.sender_name:
            return f"{self.sender_name} (from our team):\n{self.text}"
        return self.text
