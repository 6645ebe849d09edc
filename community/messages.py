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
class Attachment:
    """A small file sent with a reply where the platform can send one (a session's `.ics`):
    Telegram sends a document, Discord a file, the web chat offers a download link."""

    filename: str
    media_type: str
    content: str

    def as_row(self) -> dict[str, str]:
        return {"filename": self.filename, "media_type": self.media_type, "content": self.content}

    @classmethod
    def from_row(cls, row: dict[str, str] | None) -> Attachment | None:
        if not row:
            return None
        return cls(row["filename"], row["media_type"], row["content"])


@dataclass(frozen=True)
class InboundMessage:
    """One message from a member. `user_id` is the platform's id; it stops at the gateway."""

    platform: str
    user_id: str
    text: str = ""
    kind: ContentKind = ContentKind.TEXT
    caption: str = ""
    # Where it came from, for flood limits only (the web chat's client address); never stored.
    source: str | None = None
    # The language her platform says she uses (Telegram's language_code, Discord's locale, the
    # browser's Accept-Language), a hint only: what she writes and chooses count for more.
    language_hint: str | None = None
    # The language the gateway answers her in ("en" or "es"), set by the gateway once decided.
    language: str | None = None

    @property
    def readable_text(self) -> str:
        """What can be read: the text, or a caption on a photo, voice note or sticker, in a
        form every database stores (see `storable`)."""
        return storable(self.text if self.kind is ContentKind.TEXT else self.caption)


# NUL and the other C0 controls but tab and line breaks, and DEL: PostgreSQL refuses a NUL in
# text, so a crisis carrying one would get its reply but never its case.
_CONTROLS: dict[int, None] = dict.fromkeys(
    [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]
)


def storable(text: str) -> str:
    """The text without control characters, and with lone surrogates (halves of a UTF-16
    pair that JSON can carry and no UTF-8 encoder accepts) replaced by "?"."""
    return text.translate(_CONTROLS).encode("utf-8", "replace").decode("utf-8")


@dataclass(frozen=True)
class Reply:
    """One message to a member; `sender_name` is a moderator's display name if a person wrote it.
    `urgent` marks the crisis reply, for a platform that can show it as urgent (the web chat
    styles it and has screen readers announce it at once); chat platforms send the text alone."""

    text: str
    buttons: tuple[Button, ...] = field(default_factory=tuple)
    sender_name: str | None = None
    urgent: bool = False
    # The language it is written in ("en" or "es"): the web chat sets its page's own words and
    # `lang` from it, and a person's signature is said in it.
    language: str = "en"
    attachment: Attachment | None = None

    @property
    def signed_text(self) -> str:
        """The text as a chat platform shows it: a person's words say who wrote them."""
        if self.sender_name:
            team = "de nuestro equipo" if self.language == "es" else "from our team"
            return f"{self.sender_name} ({team}):\n{self.text}"
        return self.text
