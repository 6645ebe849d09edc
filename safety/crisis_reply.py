"""The immediate crisis reply: calm words, what to do now, and the right numbers.

Pure: built from `data/replies.yml` (wording, per language) and the resource directory
(numbers, with each entry's Spanish line), with no I/O after loading, so it works with Rasa, the
network and even the database down. Every category, severity, resource and language is checked
when loading, so a gap fails at start-up, never in a crisis.

Languages: "en" and "es". An unknown language (or none) gets English; "es-MX", "es_PR" and "ES"
count as Spanish.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

from community.resources import ResourceDirectory, default_directory
from safety.screen import Screening, Severity

REPLIES_PATH = Path(__file__).resolve().parent / "data" / "replies.yml"
DISCREET_NAME = "A confidential helpline"  # English; each language names its own in replies.yml
DEFAULT_LANGUAGE = "en"
FALLBACK_CATEGORY = "suicide"

CheckAnswer = Literal["safe", "help", "person"]
CHECK_ANSWERS: tuple[CheckAnswer, ...] = ("safe", "help", "person")
CHECK_PAYLOADS: dict[CheckAnswer, str] = {
    "safe": "/check_safe",
    "help": "/check_help",
    "person": "/check_person",
}


def check_answer_for(payload: str) -> CheckAnswer | None:
    """The check answer a button payload stands for ("/check_help" -> "help"), if any."""
    for answer, known in CHECK_PAYLOADS.items():
        if payload.strip() == known:
            return answer
    return None


@dataclass(frozen=True)
class CrisisReply:
    text: str
    resource_ids: tuple[str, ...]


@dataclass(frozen=True)
class CheckMessage:
    """The "are you safe right now?" question, its resources and its three buttons."""

    text: str
    buttons: tuple[tuple[str, str], ...]  # (title, payload), in the order safe, help, person
    resource_ids: tuple[str, ...]


@dataclass(frozen=True)
class _Category:
    resources: dict[str, tuple[str, ...]]  # by severity label
    discreet: bool


@dataclass(frozen=True)
class _CategoryWords:
    opening: str
    now: dict[str, str]  # by severity label
    after: str | None
    # What to do when it is someone with her, by severity label (optional; `now` then speaks
    # to her about herself).
    for_someone: dict[str, str] | None = None


@dataclass(frozen=True)
class _Language:
    closing: str
    discreet_name: str
    help_coming: str
    check_question: str
    check_intro: str
    check_no_answer: str
    check_buttons: dict[CheckAnswer, str]
    check_answers: dict[CheckAnswer, str]
    categories: dict[str, _CategoryWords]


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"replies.yml: {where} must be non-empty text")
    return value.strip()


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"replies.yml: {where} must be a mapping")
    return value


def _ids(value: Any, where: str, directory: ResourceDirectory) -> tuple[str, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ValueError(f"replies.yml: {where} must be a list of resource ids")
    for resource_id in value:
        try:
            directory.get(resource_id)
        except KeyError:
            raise ValueError(
                f"replies.yml: {where} names unknown resource {resource_id!r}"
            ) from None
    return tuple(value)


def normalize_language(language: str | None) -> str:
    """The primary subtag in lower case: "es-MX" -> "es"; None -> "en"."""
    if not language:
        return DEFAULT_LANGUAGE
    return language.strip().replace("_", "-").split("-")[0].lower() or DEFAULT_LANGUAGE


class CrisisReplies:
    def __init__(self, data: dict[str, Any], directory: ResourceDirectory) -> None:
        self._directory = directory
        # Fail at load, not in a crisis: every category, severity, resource and language must
        # resolve.
        self._categories = self._load_categories(_mapping(data.get("categories"), "categories"))
        if FALLBACK_CATEGORY not in self._categories:
            raise ValueError(f"replies.yml: the fallback category {FALLBACK_CATEGORY} is missing")
        self._help_coming_ids = _ids(
            _mapping(data.get("help_coming"), "help_coming").get("resources", []),
            "help_coming.resources",
            directory,
        )
        check = _mapping(data.get("check"), "check")
        self._check_ids = _ids(check.get("resources"), "check.resources", directory)
        answers = _mapping(check.get("answers"), "check.answers")
        self._check_answer_ids: dict[CheckAnswer, tuple[str, ...]] = {
            answer: _ids(answers.get(answer), f"check.answers.{answer}", directory)
            for answer in CHECK_ANSWERS
        }
        languages = _mapping(data.get("languages"), "languages")
        if DEFAULT_LANGUAGE not in languages:
            raise ValueError(f"replies.yml: languages has no {DEFAULT_LANGUAGE!r}")
        self._languages = {
            str(code): self._load_language(str(code), _mapping(block, f"languages.{code}"))
            for code, block in languages.items()
        }
        self._check_afters()

    def _load_categories(self, raw: Mapping[str, Any]) -> dict[str, _Category]:
        categories = {}
        for name, block in raw.items():
            where = f"categories.{name}"
            block = _mapping(block, where)
            resources = _mapping(block.get("resources"), f"{where}.resources")
            by_severity = {}
            for severity in Severity:
                if severity.label not in resources:
                    raise ValueError(f"replies.yml: {name} has no resources for {severity.label}")
                by_severity[severity.label] = _ids(
                    resources[severity.label],
                    f"{where}.resources.{severity.label}",
                    self._directory,
                )
            categories[str(name)] = _Category(by_severity, bool(block.get("discreet", False)))
        return categories

    def _load_language(self, code: str, raw: Mapping[str, Any]) -> _Language:
        where = f"languages.{code}"
        check = _mapping(raw.get("check"), f"{where}.check")
        buttons = _mapping(check.get("buttons"), f"{where}.check.buttons")
        answers = _mapping(check.get("answers"), f"{where}.check.answers")
        words = _mapping(raw.get("categories"), f"{where}.categories")
        extra = set(words) - set(self._categories)
        if extra:
            raise ValueError(f"replies.yml: {where} has unknown categories {sorted(extra)}")
        categories = {}
        for name in self._categories:
            if name not in words:
                raise ValueError(f"replies.yml: {where} has no words for {name}")
            block = _mapping(words[name], f"{where}.categories.{name}")
            now = _mapping(block.get("now"), f"{where}.categories.{name}.now")
            by_severity = {}
            for severity in Severity:
                if severity.label not in now:
                    raise ValueError(
                        f"replies.yml: {name} has no 'now' for {severity.label} in {code}"
                    )
                by_severity[severity.label] = _text(
                    now[severity.label], f"{where}.categories.{name}.now.{severity.label}"
                )
            after = block.get("after")
            categories[name] = _CategoryWords(
                opening=_text(block.get("opening"), f"{where}.categories.{name}.opening"),
                now=by_severity,
                after=None if after is None else _text(after, f"{where}.categories.{name}.after"),
                for_someone=self._for_someone(block, f"{where}.categories.{name}"),
            )
        return _Language(
            closing=_text(raw.get("closing"), f"{where}.closing"),
            discreet_name=_text(raw.get("discreet_name"), f"{where}.discreet_name"),
            help_coming=_text(raw.get("help_coming"), f"{where}.help_coming"),
            check_question=_text(check.get("question"), f"{where}.check.question"),
            check_intro=_text(check.get("intro"), f"{where}.check.intro"),
            check_no_answer=_text(check.get("no_answer"), f"{where}.check.no_answer"),
            check_buttons={
                a: _text(buttons.get(a), f"{where}.check.buttons.{a}") for a in CHECK_ANSWERS
            },
            check_answers={
                a: _text(answers.get(a), f"{where}.check.answers.{a}") for a in CHECK_ANSWERS
            },
            categories=categories,
        )

    @staticmethod
    def _for_someone(block: Mapping[str, Any], where: str) -> dict[str, str] | None:
        """Words for someone with her, for every severity, or None when the category has none."""
        raw = block.get("for_someone")
        if raw is None:
            return None
        words = _mapping(raw, f"{where}.for_someone")
        return {
            s.label: _text(words.get(s.label), f"{where}.for_someone.{s.label}") for s in Severity
        }

    def _check_afters(self) -> None:
        """A category that says something last, or something for someone with her, says it in
        every language."""
        for name in self._categories:
            for key in ("after", "for_someone"):
                present = {
                    code
                    for code, lang in self._languages.items()
                    if getattr(lang.categories[name], key)
                }
                if present and present != set(self._languages):
                    missing = sorted(set(self._languages) - present)
                    raise ValueError(f"replies.yml: {name} has no {key!r} in {missing}")

    @property
    def categories(self) -> frozenset[str]:
        return frozenset(self._categories)

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self._languages)

    def _language(self, language: str | None) -> tuple[str, _Language]:
        code = normalize_language(language)
        if code not in self._languages:
            code = DEFAULT_LANGUAGE
        return code, self._languages[code]

    def _lines(self, ids: Sequence[str], code: str, discreet_name: str | None = None) -> list[str]:
        lines = []
        for resource_id in ids:
            resource = self._directory.get(resource_id)
            line = resource.contact_line(code)
            name = resource.display_name(code)
            if discreet_name and line.startswith(f"{name}:"):
                line = discreet_name + line[len(name) :]
            lines.append(f"• {line}")
        return lines

    def compose(self, screening: Screening, language: str = DEFAULT_LANGUAGE) -> CrisisReply:
        """The crisis reply for `screening`, in `language` (English when it is unknown)."""
        code, lang = self._language(language)
        name = screening.category if screening.category in self._categories else FALLBACK_CATEGORY
        category = self._categories[name]
        words = lang.categories[name]
        severity = (screening.severity or Severity.HIGH).label
        ids = category.resources[severity]
        discreet_name = lang.discreet_name if category.discreet else None
        lines = [words.opening, words.now[severity]]
        if words.for_someone:
            lines.append(words.for_someone[severity])
        lines += self._lines(ids, code, discreet_name)
        lines.append(lang.closing)
        if words.after:
            lines.append(words.after)
        return CrisisReply("\n".join(lines), ids)

    def compose_help_coming(self, language: str = DEFAULT_LANGUAGE) -> CrisisReply:
        """She says help is on the way or already there ("I called 911", "ya llamé al 911")."""
        code, lang = self._language(language)
        ids = self._help_coming_ids
        return CrisisReply("\n".join([lang.help_coming, *self._lines(ids, code)]), ids)

    def compose_check(self, language: str = DEFAULT_LANGUAGE) -> CheckMessage:
        """The short question asked when the screen is unsure, with 988 and three buttons."""
        code, lang = self._language(language)
        ids = self._check_ids
        text = "\n".join([lang.check_question, lang.check_intro, *self._lines(ids, code)])
        buttons = tuple((lang.check_buttons[a], CHECK_PAYLOADS[a]) for a in CHECK_ANSWERS)
        return CheckMessage(text, buttons, ids)

    def compose_check_no_answer(self, language: str = DEFAULT_LANGUAGE) -> str:
        """Told to her when she did not answer the check and a person is asked to look."""
        return self._language(language)[1].check_no_answer

    def compose_check_answer(
        self, answer: CheckAnswer, language: str = DEFAULT_LANGUAGE
    ) -> CrisisReply:
        """The reply to a button of the check: "safe", "help" or "person"."""
        if answer not in CHECK_PAYLOADS:
            raise ValueError(f"unknown check answer {answer!r}; expected one of {CHECK_ANSWERS}")
        code, lang = self._language(language)
        ids = self._check_answer_ids[answer]
        return CrisisReply("\n".join([lang.check_answers[answer], *self._lines(ids, code)]), ids)


@cache
def default_crisis_replies() -> CrisisReplies:
    with REPLIES_PATH.open(encoding="utf-8") as handle:
        return CrisisReplies(yaml.safe_load(handle), default_directory())


def crisis_reply_for(screening: Screening, language: str = DEFAULT_LANGUAGE) -> CrisisReply:
    return default_crisis_replies().compose(screening, language)
