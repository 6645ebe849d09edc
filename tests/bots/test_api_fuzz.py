"""Fuzzing the HTTP API from its own OpenAPI document (schemathesis): every operation, with
generated paths, queries and bodies, called as a moderator and as a researcher through the
real app on a real database. No request may end in a server error, and nothing blank may be
stored. Bounded: a fixed number of examples per operation, no shrinking time limit games."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from sqlalchemy import select

from community.db import Database, migrate
from community.research.models import MemberQuestion, ResearchQuestion
from community.settings import Settings
from community.staff import add_staff
from peerbot.app import create_app

EXAMPLES_PER_OPERATION = 25
# The schema is the app's own; building it needs no database, lifespan or network.
schema = schemathesis.openapi.from_dict(
    create_app(
        Settings(secret_key="fuzz-schema-only-0123456789abcdef"), run_scheduler=False
    ).openapi()
)


async def _tokens(settings: Settings) -> dict[str, str]:
    database = Database.connect(settings.resolved_database_url)
    try:
        async with database.transaction() as session:
            return {
                "moderator": await add_staff(session, "fuzz-mod", "moderator"),
                "researcher": await add_staff(session, "fuzz-res", "researcher"),
            }
    finally:
        await database.dispose()


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Settings]]:
    # One app for every operation (SQLite): starting one per example would only measure startup.
    home = tmp_path_factory.mktemp("fuzz")
    app_settings = Settings(
        var_dir=home / "var",
        database_url=f"sqlite:///{home / 'fuzz.sqlite3'}",
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        rasa_url="http://127.0.0.1:9",
        rasa_timeout_seconds=0.5,
        research_quiet_start_hour=0,
        research_quiet_end_hour=0,
    )
    migrate(app_settings.resolved_database_url)
    with TestClient(create_app(app_settings, run_scheduler=False)) as client:
        yield client, app_settings


@pytest.fixture(scope="module")
def fuzz_tokens(fuzz_app: tuple[TestClient, Settings]) -> dict[str, str]:
    return asyncio.run(_tokens(fuzz_app[1]))


def _send(client: TestClient, case: Any, token: str) -> int:
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    headers = dict(kwargs.get("headers") or {})
    headers["Authorization"] = f"Bearer {token}"
    response = client.request(
        kwargs["method"],
        kwargs["url"],
        headers=headers,
        params=kwargs.get("params"),
        json=kwargs.get("json"),
        content=kwargs.get("data") if isinstance(kwargs.get("data"), bytes | str) else None,
    )
    return response.status_code


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same examples every run: a failure is reproducible, CI is stable
)
def test_no_operation_ends_in_a_server_error(
    case: Any, fuzz_app: tuple[TestClient, Settings], fuzz_tokens: dict[str, str]
) -> None:
    client, _ = fuzz_app
    for role in ("moderator", "researcher"):
        status = _send(client, case, fuzz_tokens[role])
        assert status < 500, f"{case.method} {case.formatted_path} as {role}: {status}"


def test_nothing_blank_was_stored(fuzz_app: tuple[TestClient, Settings]) -> None:
    """Runs after the fuzzing above (same module, same database)."""
    client, _ = fuzz_app

    async def stored() -> tuple[list[str], list[str]]:
        database = client.app.state.services.database  # type: ignore[attr-defined]
        async with database.sessions() as session:
            questions = list((await session.scalars(select(ResearchQuestion.text))).all())
            asked = list((await session.scalars(select(MemberQuestion.text))).all())
        return questions, asked

    assert client.portal is not None
    questions, asked = client.portal.call(stored)
    assert all(text.strip() for text in questions + asked)


def test_blank_words_are_refused_not_stored(
    fuzz_app: tuple[TestClient, Settings], fuzz_tokens: dict[str, str]
) -> None:
    client, _ = fuzz_app
    researcher = {"Authorization": f"Bearer {fuzz_tokens['researcher']}"}
    blank = client.post("/api/research/questions", headers=researcher, json={"text": " " * 20})
    assert blank.status_code == 422
    huge_id = client.get("/api/research/questions/99999999999999999999", headers=researcher)
    assert huge_id.status_code == 422
