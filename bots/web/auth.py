"""Who may call a staff route: `Authorization: Bearer <token>` of a staff account with one of
the route's roles (401 without a valid token, 403 with another role's), and the database
session a route works in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from community.db import Database
from community.staff import StaffIdentity, authenticate

bearer = HTTPBearer(auto_error=False)
# Row numbers in paths: positive and within a 32-bit integer, as every database here stores
# them; anything else is a 422 at the edge, never an overflow inside a query.
MAX_RECORD_ID = 2_147_483_647
RecordId = Annotated[int, Path(ge=1, le=MAX_RECORD_ID)]


def database_of(request: Request) -> Database:
    database: Database = request.app.state.services.database
    return database


async def session_of(request: Request) -> AsyncIterator[AsyncSession]:
    async with database_of(request).transaction() as session:
        yield session


def require_role(*roles: str) -> Callable[..., Awaitable[StaffIdentity]]:
    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> StaffIdentity:
        unauthorized = HTTPException(
            401, "A valid bearer token is required.", headers={"WWW-Authenticate": "Bearer"}
        )
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise unauthorized
        async with database_of(request).sessions() as session:
            staff = await authenticate(session, credentials.credentials)
        if staff is None:
            raise unauthorized
        if staff.role not in roles:
            raise HTTPException(403, f"This needs the {' or '.join(roles)} role.")
        return staff

    return dependency


# scope="function": the transaction commits when the endpoint returns, BEFORE the response is
# sent, so a caller never sees "done" for a change that is not yet in the database.
Session = Annotated[AsyncSession, Depends(session_of, scope="function")]
