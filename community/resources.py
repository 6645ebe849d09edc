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
# The same two in Spanish (awaiting review by a native speaker, as the `es:` lines are).
REVIEW_NOTE_ES = (
    "(Nuestro equipo está volviendo a revisar algunos de estos datos; estaban bien la última vez "
    "que los revisamos.)"
)
DISCREET_NAME_ES = "Una línea de ayuda confidencial"

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
# Her state as a Spanish message names it: the names US Spanish speakers use, matched with or
# without accents ("Nuevo México", "nuevo mexico"); English names are matched in every language.
US_STATES_ES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "Distrito de Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawái", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Luisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Míchigan", "MN": "Minnesota",
    "MS": "Misisipi", "MO": "Misuri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "Nuevo Hampshire", "NJ": "Nueva Jersey", "NM": "Nuevo México", "NY": "Nueva York",
    "NC": "Carolina del Norte", "ND": "Dakota del Norte", "OH": "Ohio", "OK": "Oklahoma",
    "OR": "Oregón", "PA": "Pensilvania", "RI": "Rhode Island", "SC": "Carolina del Sur",
    "SD": "Dakota del Sur", "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont",
    "VA": "Virginia", "WA": "Washington", "WV": "Virginia Occidental", "WI": "Wisconsin",
    "WY": "Wyoming", "PR": "Puerto Rico",
}  # fmt: skip
# Other Spanish spellings she may use, matched but never shown.
_STATE_ALIASES_ES = {"Tenesí": "TN", "Virginia del Oeste": "WV", "Nuevo Méjico": "NM"}
# Two-letter codes are taken in capitals ("help in KY"), or after "in" ("help in ky"); codes that
# are also everyday words only in capitals after "in" ("I'm in OR"), never from "ok" or "hi".
WORDLIKE_CODES = {"IN", "OR", "ME", "OK", "HI", "OH", "LA", "MA", "PA", "DE", "CO", "ID", "AL"}
# In Spanish "en" is the "in" before a state, and a few more codes are everyday words ("en mi
# casa", "se va").
WORDLIKE_CODES_ES = WORDLIKE_CODES | {"MI", "VA"}
_UNACCENTED = str.maketrans("áéíóúüÁÉÍÓÚÜ", "aeiouuAEIOUU")  # ñ stays: "montaña" is not Montana


def without_accents(text: str) -> str:
    """Lowercase, vowels without accents: how names are matched in Spanish messages."""
    return text.translate(_UNACCENTED).lower()


def state_name(code: str, language: str = "en") -> str:
    """The state's name as a reply in `language` says it."""
    return US_STATES_ES[code] if language == "es" else US_STATES[code]


SPANISH = "es"
# Said after the English line when an entry has no Spanish line of its own.
SPANISH_AVAILABLE_NOTE = "servicio en inglés y en español"
ENGLISH_ONLY_NOTE = "servicio en inglés"


def _join_es(ways: list[str]) -> str:
    """Join ways the Spanish way: "a", "a o b", "a, b o c" (no serial comma)."""
    return ways[0] if len(ways) == 1 else f"{', '.join(ways[:-1])} o {ways[-1]}"


class SpanishContact(BaseModel):
    """An entry's Spanish text and Spanish contact line (`es:` in resources.yml).

    Vetted on its own, with its own source and dates: a service answering in English is not
    proof that it answers in Spanish. `press` is the menu option after calling ("2" for 988);
    `keyword` the word to text ("AYUDA"); `chat_url` a chat in Spanish; `url` a Spanish website,
    named only when there is no other way; `note` a few words said after the line."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1)
    purpose: str = Field(alias="for", min_length=1)
    phone: str | None = None
    press: Annotated[str, Field(pattern=r"^[0-9]$")] | None = None
    text: str | None = None
    keyword: Annotated[str, Field(pattern=r"^[A-ZÁÉÍÓÚÑ0-9]+$")] | None = None
    chat_url: HttpUrl | None = None
    url: HttpUrl | None = None
    hours: str | None = None
    note: str | None = None
    source: HttpUrl
    vetted_by: str = Field(min_length=1)
    vetted_on: date
    review_by: date

    @model_validator(mode="after")
    def _reachable(self) -> SpanishContact:
        if not (self.phone or self.text or self.chat_url or self.url):
            raise ValueError("es: needs a phone, a text line, a chat or a URL")
        if self.press and not self.phone:
            raise ValueError("es: 'press' needs a phone")
        if self.keyword and not self.text:
            raise ValueError("es: 'keyword' needs a text line")
        if self.review_by <= self.vetted_on:
            raise ValueError("es: review_by must be after vetted_on")
        return self

    def contact_line(self) -> str:
        """One short line in Spanish: name, then how to reach it."""
        ways = []
        if self.phone:
            press = f" y oprime {self.press}" if self.press else ""
            ways.append(f"llama al {self.phone}{press}")
        if self.text:
            what = self.keyword if self.keyword else "un mensaje"
            medium = " por mensaje de texto" if self.keyword else " de texto"
            ways.append(f"envía {what}{medium} al {self.text}")
        if self.chat_url:
            ways.append(f"chatea en {str(self.chat_url).rstrip('/')}")
        if self.url and not ways:
            ways.append(str(self.url).rstrip("/"))
        how = _join_es(ways)
        note = f" ({self.note})" if self.note else ""
        if self.phone and self.name == self.phone:  # "Llama al 911", not "911: llama al 911"
            return f"{how[0].upper()}{how[1:]}{note}"
        return f"{self.name}: {how}{note}"


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
    es: SpanishContact | None = None

    @model_validator(mode="after")
    def _reachable(self) -> Resource:
        if not (self.phone or self.text or self.url):
            raise ValueError(f"{self.id}: needs a phone, a text line or a URL")
        if self.review_by <= self.vetted_on:
            raise ValueError(f"{self.id}: review_by must be after vetted_on")
        if self.region != NATIONAL and self.region not in US_STATES:
            raise ValueError(f"{self.id}: region must be 'national' or a US state code")
        if self.es and not {"Spanish", "any"} & set(self.languages):
            raise ValueError(f"{self.id}: has an 'es' line but Spanish is not in its languages")
        return self

    def is_due_for_review(self, today: date | None = None) -> bool:
        """Past review, the entry's own dates or its Spanish line's."""
        today = today or date.today()
        return today > self.review_by or bool(self.es and today > self.es.review_by)

    @property
    def answers_in_spanish(self) -> bool:
        return bool(self.es) or bool({"Spanish", "any"} & set(self.languages))

    def display_name(self, language: str = "en") -> str:
        """The entry's name as a reply in `language` shows it."""
        return self.es.name if language == SPANISH and self.es else self.name

    def description(self, language: str = "en") -> str:
        """What the entry is for, in `language` where the entry has it, else in English."""
        return self.es.purpose if language == SPANISH and self.es else self.purpose

    def contact_line(self, language: str = "en") -> str:
        """One short line in `language`: name, then how to reach it.

        In Spanish: the entry's Spanish line; without one, the English line followed by whether
        the service answers in Spanish. Any other language gets the English line."""
        if language == SPANISH:
            if self.es:
                return self.es.contact_line()
            note = SPANISH_AVAILABLE_NOTE if self.answers_in_spanish else ENGLISH_ONLY_NOTE
            return f"{self._english_line()} ({note})"
        return self._english_line()

    def _english_line(self) -> str:
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
        self,
        topics: Iterable[str],
        state: str | None = None,
        limit: int = 4,
        language: str = "en",
    ) -> list[Resource]:
        """Entries for any of `topics`: the state's own first, then national ones; within each,
        entries mainly about the topic (listed first in their topics) before the rest. For a
        Spanish reply, within each, services that answer in Spanish come first."""
        wanted = set(topics)
        matching = sorted(
            (r for r in self.resources if wanted & set(r.topics)),
            key=lambda r: (
                language == SPANISH and not r.answers_in_spanish,
                r.topics[0] not in wanted,
            ),
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


# Cities people name instead of their state ("i'm in nyc"); only unambiguous ones (no Portland,
# no Kansas City).
CITY_STATES = {
    "nyc": "NY", "new york city": "NY", "brooklyn": "NY", "bronx": "NY", "philly": "PA",
    "philadelphia": "PA", "pittsburgh": "PA", "chicago": "IL", "atlanta": "GA", "houston": "TX",
    "dallas": "TX", "san antonio": "TX", "austin": "TX", "el paso": "TX", "detroit": "MI",
    "baltimore": "MD", "boston": "MA", "phoenix": "AZ", "tucson": "AZ", "seattle": "WA",
    "denver": "CO", "miami": "FL", "orlando": "FL", "tampa": "FL", "jacksonville": "FL",
    "nashville": "TN", "memphis": "TN", "knoxville": "TN", "louisville": "KY",
    "lexington ky": "KY", "cincinnati": "OH", "cleveland": "OH", "columbus ohio": "OH",
    "dayton": "OH", "toledo": "OH", "akron": "OH", "las vegas": "NV", "albuquerque": "NM",
    "milwaukee": "WI", "indianapolis": "IN", "charlotte": "NC", "raleigh": "NC",
    "st louis": "MO", "st. louis": "MO", "saint louis": "MO", "new orleans": "LA",
    "baton rouge": "LA", "los angeles": "CA", "san diego": "CA", "san francisco": "CA",
    "oakland": "CA", "sacramento": "CA", "fresno": "CA", "huntington wv": "WV",
    "charleston wv": "WV", "bangor": "ME", "burlington vt": "VT", "minneapolis": "MN",
    "omaha": "NE", "tulsa": "OK", "oklahoma city": "OK", "okc": "OK", "little rock": "AR",
    "birmingham al": "AL", "salt lake": "UT", "boise": "ID", "anchorage": "AK", "honolulu": "HI",
    "nola": "LA", "spokane": "WA", "tacoma": "WA", "buffalo ny": "NY", "syracuse": "NY",
    "hartford": "CT", "jersey city": "NJ", "trenton": "NJ",
    "harrisburg": "PA", "allentown": "PA", "scranton": "PA",
    "chattanooga": "TN", "huntsville": "AL", "montgomery al": "AL", "fort wayne": "IN",
    "grand rapids": "MI", "flint": "MI", "lansing": "MI", "des moines": "IA", "wichita": "KS",
    "topeka": "KS", "fargo": "ND", "sioux falls": "SD", "reno": "NV", "santa fe": "NM",
    "fort worth": "TX", "corpus christi": "TX", "lubbock": "TX", "san jose": "CA",
    "bakersfield": "CA", "tallahassee": "FL", "pensacola": "FL", "fort lauderdale": "FL",
    "st pete": "FL", "st petersburg fl": "FL", "green bay": "WI", "st paul": "MN",
    "duluth": "MN", "worcester": "MA", "morgantown": "WV",
    "portland oregon": "OR", "portland maine": "ME", "colorado springs": "CO",
}  # fmt: skip


@cache
def _state_names() -> list[tuple[str, str]]:
    """(name without accents, code), English and Spanish, longest first, so "west virginia"
    wins over "virginia" and "carolina del norte" over nothing shorter."""
    names = {without_accents(n): c for c, n in US_STATES.items()}
    names |= {without_accents(n): c for c, n in US_STATES_ES.items()}
    names |= {without_accents(n): c for n, c in _STATE_ALIASES_ES.items()}
    return sorted(names.items(), key=lambda item: -len(item[0]))


def state_named_in(text: str, language: str = "en") -> str | None:
    """The US state a request names ("help in ohio", "I'm in KY", "estoy en Nueva York"), as
    its code, if any. State names count in English and Spanish; a two-letter code after "in"
    (and after "en" in Spanish)."""
    lowered = without_accents(text)
    for name, code in _state_names():
        if re.search(rf"\b{re.escape(name)}\b", lowered):
            return code
    for city, code in CITY_STATES.items():
        if re.search(rf"\b{re.escape(city)}\b", lowered):
            return code
    spanish = language == SPANISH
    wordlike = WORDLIKE_CODES_ES if spanish else WORDLIKE_CODES
    before = r"(\b(?:in|en)\s+)?" if spanish else r"(\bin\s+)?"
    for match in re.finditer(before + r"\b([A-Za-z]{2})\b", text):
        after_in, token = match.group(1), match.group(2)
        code = token.upper()
        if code not in US_STATES:
            continue
        if token.isupper() and (code not in wordlike or after_in):
            return code
        if after_in and token.islower() and code not in wordlike:
            return code
    # "childcare help for single moms, nj": a code after a comma at the end of the message.
    last = re.search(r",\s*([A-Za-z]{2})\W*$", text)
    if last and last.group(1).upper() in US_STATES and last.group(1).upper() not in wordlike:
        return last.group(1).upper()
    return None


def expand_resource_refs(
    text: str,
    directory: ResourceDirectory | None = None,
    today: date | None = None,
    language: str = "en",
) -> str:
    """Fill each [[id]] with the entry's contact line in `language`; note it if any entry is
    past review.

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
        return f"• {resource.contact_line(language)}"

    expanded = RESOURCE_REF.sub(contact, text)
    if any(r.is_due_for_review(today) for r in served):
        expanded += "\n" + (REVIEW_NOTE_ES if language == SPANISH else REVIEW_NOTE)
    return expanded


def load_directory(path: Path = DIRECTORY_PATH) -> ResourceDirectory:
    with path.open(encoding="utf-8") as handle:
        return ResourceDirectory.model_validate(yaml.safe_load(handle))


@cache
def default_directory() -> ResourceDirectory:
    """The project's directory, loaded once per process on first use."""
    return load_directory()


CORE_RESOURCE_IDS = ("lifeline_988", "samhsa_helpline", "findtreatment")


def core_resources_text(directory: ResourceDirectory | None = None, language: str = "en") -> str:
    """The short list named whenever nothing more specific is known (fallbacks, /resources)."""
    directory = directory or default_directory()
    return "\n".join(f"• {directory.get(i).contact_line(language)}" for i in CORE_RESOURCE_IDS)
