"""Mothers 101 in the HTTP API: moderators curate answers mothers agreed to share; every
signed-in researcher reads and exports the library (`community/research/mothers101.py`)."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import BaseModel, Field, StringConstraints

from bots.web.auth import RecordId, Session, require_role
from community.models import Role
from community.research import mothers101 as m101
from community.research.answers import csv_safe
from community.research.models import ResearchAnswer, ResearchQuestion
from community.staff import StaffIdentity

Curator = Annotated[StaffIdentity, Depends(require_role(Role.MODERATOR.value))]
Reader = Annotated[
    StaffIdentity, Depends(require_role(Role.MODERATOR.value, Role.RESEARCHER.value))
]


class CandidateOut(BaseModel):
    answer_id: int
    question_id: int
    question: str
    text: str = Field(description="Her answer, already de-identified; never who wrote it.")
    date: str
    language: str | None = Field(
        default=None, description='The language she wrote in ("en", "es"); never translated.'
    )


class CandidatesOut(BaseModel):
    answers: list[CandidateOut]


class EntryIn(BaseModel):
    answer_id: Annotated[int, Field(ge=1, le=2_147_483_647)]
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]
    theme: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=80)]


class EntryOut(BaseModel):
    id: int
    question_id: int
    question: str
    theme: str
    text: str
    added: datetime
    language: str | None = Field(
        default=None, description='The language she wrote in ("en", "es"); never translated.'
    )


class LibraryOut(BaseModel):
    entries: list[EntryOut]


def _out(entry: m101.Entry) -> EntryOut:
    return EntryOut(**asdict(entry))


def build_mothers101_router() -> APIRouter:
    router = APIRouter(tags=["research"])

    @router.get("/api/mothers101/candidates", response_model=CandidatesOut)
    async def list_candidates(_: Curator, session: Session) -> CandidatesOut:
        """Answers mothers agreed to share in Mothers 101, not yet filed (moderators)."""
        found = await m101.candidates(session)
        return CandidatesOut(answers=[CandidateOut(**c.__dict__) for c in found])

    @router.post("/api/mothers101", response_model=EntryOut, status_code=201)
    async def file_entry(body: EntryIn, staff: Curator, session: Session) -> EntryOut:
        """File a shared answer, trimmed by the moderator, under a theme."""
        try:
            entry = await m101.add_entry(session, body.answer_id, body.text, body.theme, staff.name)
        except m101.NotShared:
            raise HTTPException(
                404, "No answer with that number was shared for Mothers 101."
            ) from None
        question = await session.get(ResearchQuestion, entry.question_id)
        answer = await session.get(ResearchAnswer, entry.answer_id)
        return EntryOut(
            id=entry.id,
            question_id=entry.question_id,
            question=question.text if question is not None else "",
            theme=entry.theme,
            text=entry.text,
            added=entry.added_at,
            language=answer.language if answer is not None else None,
        )

    @router.delete("/api/mothers101/{entry_id}", status_code=204)
    async def remove_entry(entry_id: RecordId, _: Curator, session: Session) -> Response:
        try:
            await m101.remove_entry(session, entry_id)
        except m101.EntryNotFound:
            raise HTTPException(404, "No such entry.") from None
        return Response(status_code=204)

    @router.get("/api/mothers101", response_model=LibraryOut)
    async def library(_: Reader, session: Session) -> LibraryOut:
        """The library, by question and theme (researchers and moderators)."""
        return LibraryOut(entries=[_out(e) for e in await m101.entries(session)])

    @router.get(
        "/api/mothers101.csv",
        response_class=Response,
        responses={200: {"content": {"text/csv": {}}}},
    )
    async def library_csv(_: Reader, session: Session) -> Response:
        """The library as CSV: question, theme, answer, date filed, language written in."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["question", "theme", "answer", "filed", "language"])
        for e in await m101.entries(session):
            # Cells that start with = + - @ would run as formulas in a spreadsheet.
            writer.writerow(
                [
                    csv_safe(e.question), csv_safe(e.theme), csv_safe(e.text),
                    f"{e.added:%Y-%m-%d}", e.language or "",
                ]
            )  # fmt: skip
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="mothers-101.csv"'},
        )

    return router
