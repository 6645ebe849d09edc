"""The vetted resource directory (responses/resources.yml): schema, loading, and lookups.

Every number or link peerbot names comes from here, so crisis replies, the fallback and the
resource finder cannot drift apart. Entries past their review date are still served (a stale
number is better than none in a crisis) but flagged so the reply can say so and moderators are told.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from community.settings import PROJECT_ROOT

DIRECTORY_PATH = PROJECT_ROOT / "responses" / "resources.yml"


class Resource(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    id: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    name: str
    purpose: str = Field(alias="for")
    phone: str | None = None
    text: str | None = None
    url: HttpUrl | None = None
    hours: str
    languages: list[str]
    region: str
    topics: list[str]
    source: HttpUrl
    vetted_by: str
    vetted_on: date
    review_by: date

    @model_validator(mode="after")
    def _reachable(self) -> Resource:
        if not (self.phone or self.text or self.url):
            raise ValueError(f"{self.id}: needs a phone, a text line or a URL")
        if self.review_by <= self.vetted_on:
            raise ValueError(f"{self.id}: review_by must be after vetted_on")
        return self

    def is_due_for_review(self, today: date | None = None) -> bool:
        return (today or date.today()) > self.review_by

    def contact_line(self) -> str:
        """One short line: name, then how to reach it."""
        if self.phone and self.name == self.phone:
            return f"Call {self.phone}"
        ways = []
        if self.phone:
            ways.append(f"call {self.phone}")
        if self.text:
            ways.append(f"text {self.text}")
        if self.url and not ways:
            ways.append(str(self.url).rstrip("/"))
        return f"{self.name}: {' or '.join(ways)}"


class ResourceDirectory(BaseModel):
    resources: list[Resource]

    @model_validator(mode="after")
    def _unique_ids(self) -> ResourceDirectory:
        ids = [r.id for r in self.resources]
        duplicates = {i for i in ids if ids.count(i) > 1}
        if duplicates:
            raise ValueError(f"duplicate resource ids: {sorted(duplicates)}")
        return self

    def get(self, resource_id: str) -> Resource:
        for resource in self.resources:
            if resource.id == resource_id:
                return resource
        raise KeyError(resource_id)

    def due_for_review(self, today: date | None = None) -> list[Resource]:
        return [r for r in self.resources if r.is_due_for_review(today)]


def load_directory(path: Path = DIRECTORY_PATH) -> ResourceDirectory:
    with path.open(encoding="utf-8") as handle:
        return ResourceDirectory.model_validate(yaml.safe_load(handle))


@cache
def default_directory() -> ResourceDirectory:
    """The project's directory, loaded once per process on first use."""
    return load_directory()


CORE_RESOURCE_IDS = ("lifeline_988", "samhsa_helpline", "findtreatment")


def core_resources_text(directory: ResourceDirectory | None = None) -> str:
    """The short list named whenever nothing more specific is known (fallbacks, /resources)."""
    directory = directory or default_directory()
    return "\n".join(f"• {directory.get(i).contact_line()}" for i in CORE_RESOURCE_IDS)
