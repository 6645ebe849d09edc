"""The vetted resource directory (responses/resources.yml): schema, loading, and lookups.

Every number or link peerbot names comes from here, so crisis replies, the fallback and the
resource finder cannot drift apart. Entries past their review date are still served (a stale
number is better than none in a crisis) but flagged so the reply can say so and moderators are told.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from community.settings import PROJECT_ROOT

DIRECTORY_PATH = PROJECT_ROOT / "responses" / "resources.yml"
NATIONAL = "national"
# How replies name a directory entry: Rasa responses write [[resource_id]] and peerbot fills in
# the entry's contact line, so no number or link is ever typed into a reply.
RESOURCE_REF = re.compile(r"\[\[([a-z0-9_]+)\]\]")
REVIEW_NOTE = "(Our team is re-checking some of these details; they were right when last checked.)"
DISCREET_NAME = "A confidential helpline"

log = logging.getLogger(__name__)

US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
    "PR": "Puerto Rico",
}  # fmt: skip
# Two-letter codes are taken in capitals ("help in KY"), or after "in" ("help in ky"); codes that
# are also everyday words only in capitals after "in" ("I'm in OR"), never from "ok" or "hi".
_WORDLIKE_CODES = {"IN", "OR", "ME", "OK", "HI", "OH", "LA", "MA", "PA", "DE", "CO", "ID", "AL"}


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
        if self.region != NATIONAL and self.region not in US_STATES:
            raise ValueError(f"{self.id}: region must be 'national' or a US state code")
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


class Topic(BaseModel):
    """A topic of the directory: how replies name it, and words that mean it in a request."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str
    words: list[str] = []


class ResourceDirectory(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topics: dict[str, Topic]
    resources: list[Resource]

    @model_validator(mode="after")
    def _consistent(self) -> ResourceDirectory:
        ids = [r.id for r in self.resources]
        duplicates = {i for i in ids if ids.count(i) > 1}
        if duplicates:
            raise ValueError(f"duplicate resource ids: {sorted(duplicates)}")
        unknown = {t for r in self.resources for t in r.topics} - set(self.topics)
        if unknown:
            raise ValueError(f"topics not in the topic list: {sorted(unknown)}")
        return self

    def for_topics(
        self, topics: Iterable[str], state: str | None = None, limit: int = 4
    ) -> list[Resource]:
        """Entries for any of `topics`: the state's own first, then national ones; within each,
        entries mainly about the topic (listed first in their topics) before the rest."""
        wanted = set(topics)
        matching = sorted(
            (r for r in self.resources if wanted & set(r.topics)),
            key=lambda r: r.topics[0] not in wanted,
        )
        local = [r for r in matching if state and r.region == state]
        national = [r for r in matching if r.region == NATIONAL]
        return (local + national)[:limit]

    def topics_named_in(self, text: str) -> list[str]:
        """Topics whose words appear in `text`, in the topic list's order."""
        lowered = f" {text.lower()} "
        return [
            key
            for key, topic in self.topics.items()
            if any(re.search(rf"\b{re.escape(word)}", lowered) for word in topic.words)
        ]

    def get(self, resource_id: str) -> Resource:
        for resource in self.resources:
            if resource.id == resource_id:
                return resource
        raise KeyError(resource_id)

    def due_for_review(self, today: date | None = None) -> list[Resource]:
        return [r for r in self.resources if r.is_due_for_review(today)]


def state_named_in(text: str) -> str | None:
    """The US state a request names ("help in ohio", "I'm in KY"), as its code, if any."""
    lowered = text.lower()
    # Longest names first, so "west virginia" wins over "virginia".
    for code, name in sorted(US_STATES.items(), key=lambda item: -len(item[1])):
        if re.search(rf"\b{re.escape(name.lower())}\b", lowered):
            return code
    for match in re.finditer(r"(\bin\s+)?\b([A-Za-z]{2})\b", text):
        after_in, token = match.group(1), match.group(2)
        code = token.upper()
        if code not in US_STATES:
            continue
        if token.isupper() and (code not in _WORDLIKE_CODES or after_in):
            return code
        if after_in and token.islower() and code not in _WORDLIKE_CODES:
            return code
    return None


def expand_resource_refs(
    text: str, directory: ResourceDirectory | None = None, today: date | None = None
) -> str:
    """Fill each [[id]] with the entry's contact line; note it if any entry is past review.

    An unknown id is dropped rather than shown raw (tests keep every id in the project valid)."""
    directory = directory or default_directory()
    served: list[Resource] = []

    def contact(match: re.Match[str]) -> str:
        try:
            resource = directory.get(match.group(1))
        except KeyError:
            log.error("unknown resource id in a reply", extra={"resource_id": match.group(1)})
            return ""
        served.append(resource)
        return f"• {resource.contact_line()}"

    expanded = RESOURCE_REF.sub(contact, text)
    if any(r.is_due_for_review(today) for r in served):
        expanded += "\n" + REVIEW_NOTE
    return expanded


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
