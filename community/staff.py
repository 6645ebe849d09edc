"""Staff accounts (moderators, researchers) and their API tokens.

A token is 32 random bytes shown once; only its SHA-256 is stored (a fast hash is right for a
high-entropy random token: there is nothing to brute-force). Tokens can expire and be revoked.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.models import Role, Staff, StaffChatAccount, utcnow

TOKEN_PREFIX = "pb_"  # noqa: S105 - a prefix, not a secret
LINK_CODE_PREFIX = "link-"
LINK_CODE_LIFETIME = timedelta(minutes=30)
STAFF_ROLES = (Role.MODERATOR.value, Role.RESEARCHER.value)


class StaffError(ValueError):
    """A staff command cannot be carried out; the message says why."""


@dataclass(frozen=True)
class StaffIdentity:
    """Who is calling, as the API sees it: never a platform id."""

    id: int
    name: str
    display_name: str
    role: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


async def add_staff(
    session: AsyncSession,
    name: str,
    role: str,
    display_name: str | None = None,
    expires_in: timedelta | None = None,
) -> str:
    """Create a staff account (or issue a new token for an existing one); return the token."""
    if role not in STAFF_ROLES:
        raise StaffError(f"role must be one of {', '.join(STAFF_ROLES)}")
    if not name.strip() or len(name) > 64:
        raise StaffError("name must be 1-64 characters")
    token = new_token()
    expires_at = utcnow() + expires_in if expires_in else None
    existing = await session.scalar(select(Staff).where(Staff.name == name))
    if existing is not None:
        if existing.role != role:
            raise StaffError(f"{name} already exists as a {existing.role}")
        existing.token_hash = hash_token(token)
        existing.revoked_at = None
        existing.expires_at = expires_at
        if display_name:
            existing.display_name = display_name
    else:
        session.add(
            Staff(
                name=name,
                display_name=(display_name or name)[:64],
                role=role,
                token_hash=hash_token(token),
                expires_at=expires_at,
            )
        )
    return token


async def revoke_staff(session: AsyncSession, name: str, role: str) -> None:
    """Revoke the token and every chat account linked to it, at once."""
    staff = await session.scalar(select(Staff).where(Staff.name == name, Staff.role == role))
    if staff is None:
        raise StaffError(f"no {role} named {name}")
    staff.revoked_at = utcnow()
    staff.link_code_hash = None
    await session.execute(delete(StaffChatAccount).where(StaffChatAccount.staff_id == staff.id))


def _usable(staff: Staff | None, now: datetime) -> bool:
    return (
        staff is not None
        and staff.revoked_at is None
        and (staff.expires_at is None or staff.expires_at > now)
    )


def _identity(staff: Staff) -> StaffIdentity:
    return StaffIdentity(staff.id, staff.name, staff.display_name, staff.role)


async def issue_link_code(session: AsyncSession, name: str, role: str) -> str:
    """A one-time code (valid 30 minutes) that links one chat account to this staff account
    when sent as `/link CODE` in a private chat with the bot. Only its hash is stored."""
    staff = await session.scalar(select(Staff).where(Staff.name == name, Staff.role == role))
    if staff is None or not _usable(staff, utcnow()):
        raise StaffError(f"no active {role} named {name}")
    code = LINK_CODE_PREFIX + secrets.token_urlsafe(12)
    staff.link_code_hash = hash_token(code)
    staff.link_code_expires_at = utcnow() + LINK_CODE_LIFETIME
    return code


async def link_chat_account(
    session: AsyncSession, member_id: int, code: str
) -> StaffIdentity | None:
    """Link the member's chat account to the staff account the code belongs to; the code is
    used up. None if the code is wrong, used or expired."""
    if not code.startswith(LINK_CODE_PREFIX) or len(code) > 100:
        return None
    now = utcnow()
    staff = await session.scalar(select(Staff).where(Staff.link_code_hash == hash_token(code)))
    if staff is None or not _usable(staff, now):
        return None
    expired = staff.link_code_expires_at is None or staff.link_code_expires_at <= now
    staff.link_code_hash = staff.link_code_expires_at = None
    if expired:
        return None
    await session.execute(delete(StaffChatAccount).where(StaffChatAccount.member_id == member_id))
    session.add(StaffChatAccount(member_id=member_id, staff_id=staff.id, linked_at=now))
    return _identity(staff)


async def chat_staff(session: AsyncSession, member_id: int) -> StaffIdentity | None:
    """The staff account a chat account acts for, if it is linked and still valid."""
    staff = await session.scalar(
        select(Staff)
        .join(StaffChatAccount, StaffChatAccount.staff_id == Staff.id)
        .where(StaffChatAccount.member_id == member_id)
    )
    return _identity(staff) if staff is not None and _usable(staff, utcnow()) else None


async def authenticate(
    session: AsyncSession, token: str, now: datetime | None = None
) -> StaffIdentity | None:
    """The staff member a token belongs to, if it is valid, unrevoked and unexpired."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    staff = await session.scalar(select(Staff).where(Staff.token_hash == hash_token(token)))
    now = now or utcnow()
    return _identity(staff) if staff is not None and _usable(staff, now) else None
