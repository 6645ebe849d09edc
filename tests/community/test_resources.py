"""The vetted resource directory: schema, review dates, and the action that serves it."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.resources import ASK_STATE, ASK_STATE_RESPONSE, ActionFindHelp, find_help_text
from bots.dialogue import parse_rasa_messages
from community.resources import (
    DIRECTORY_PATH,
    REVIEW_NOTE,
    REVIEW_NOTE_ES,
    ResourceDirectory,
    expand_resource_refs,
    load_directory,
    state_named_in,
)


def test_directory_loads_and_names_the_core_national_services() -> None:
    directory = load_directory()
    ids = {r.id for r in directory.resources}
    for required in (
        "emergency_911", "lifeline_988", "crisis_text_line", "maternal_mental_health_hotline",
        "psi_helpline", "samhsa_helpline", "findtreatment", "never_use_alone", "poison_help",
        "domestic_violence_hotline", "help_211", "nurse_family_partnership",
    ):  # fmt: skip
        assert required in ids
    assert directory.get("samhsa_helpline").phone == "1-800-662-4357"


def test_no_resource_is_past_its_review_date_today() -> None:
    overdue = [r.id for r in load_directory().due_for_review()]
    assert overdue == [], f"review these entries and update vetted_on/review_by: {overdue}"


def _raw() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(DIRECTORY_PATH.read_text())
    return raw


def test_schema_rejects_an_entry_without_contact() -> None:
    raw = _raw()
    entry = raw["resources"][0]
    for key in ("phone", "text", "url"):
        entry.pop(key, None)
    with pytest.raises(ValidationError, match="needs a phone"):
        ResourceDirectory.model_validate(raw)


def test_schema_rejects_duplicate_ids_and_unknown_fields() -> None:
    raw = _raw()
    raw["resources"].append(dict(raw["resources"][0]))
    with pytest.raises(ValidationError, match="duplicate"):
        ResourceDirectory.model_validate(raw)
    raw = _raw()
    raw["resources"][0]["phone_number"] = "123"
    with pytest.raises(ValidationError):
        ResourceDirectory.model_validate(raw)


async def _run_action(intent: str = "help_resources", text: str = "where can i find help") -> str:
    dispatcher = CollectingDispatcher()
    latest = {"intent": {"name": intent, "confidence": 0.9}, "text": text, "entities": []}
    tracker = Tracker("someone", {}, latest, [], False, None, {}, "action_listen")
    await ActionFindHelp().run(dispatcher, tracker, {})
    message = dispatcher.messages[0]  # a text it wrote, or the response Rasa words for her
    return str(message["text"] or message["response"])


def _stale_directory(tmp_path: Path) -> Path:
    raw = _raw()
    for entry in raw["resources"]:
        entry["vetted_on"] = date.today() - timedelta(days=400)
        entry["review_by"] = date.today() - timedelta(days=30)
    stale = tmp_path / "resources.yml"
    stale.write_text(yaml.safe_dump(raw))
    return stale


async def test_action_warns_when_an_entry_is_past_due(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "re-checking" not in await _run_action()
    stale = _stale_directory(tmp_path)
    monkeypatch.setattr("actions.resources.default_directory", lambda: load_directory(stale))
    text = await _run_action()
    assert "re-checking" in text and "988" in text


def test_resource_references_are_filled_from_the_directory_with_a_review_warning(
    tmp_path: Path,
) -> None:
    text = expand_resource_refs("Call any time:\n[[psi_helpline]]")
    assert "1-800-944-4773" in text and "[[" not in text and REVIEW_NOTE not in text
    stale = load_directory(_stale_directory(tmp_path))
    assert expand_resource_refs("[[psi_helpline]]", stale).endswith(REVIEW_NOTE)
    # A reply without references is never flagged, and an unknown id is dropped, not shown.
    assert expand_resource_refs("Hello.", stale) == "Hello."
    assert expand_resource_refs("See [[no_such_service]]") == "See "


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("find me help with housing in Ohio", "OH"),
        ("i live in west virginia", "WV"),
        ("help in KY please", "KY"),
        ("help in tx", "TX"),
        ("ok thanks, HI", None),
        ("I am IN trouble", None),
        ("me and my baby need a ride", None),
        ("i'm in OR", "OR"),
    ],
)
def test_state_named_in_a_request(text: str, state: str | None) -> None:
    assert state_named_in(text) == state


def _with_local_entry(tmp_path: Path) -> ResourceDirectory:
    raw = _raw()
    raw["resources"].append(
        {
            "id": "ohio_housing_test", "name": "Ohio Test Housing Line", "for": "Housing in Ohio.",
            "phone": "1-555-010-0000", "hours": "24/7", "languages": ["English"], "region": "OH",
            "topics": ["housing"], "source": "https://example.org/", "vetted_by": "test",
            "vetted_on": date.today(), "review_by": date.today() + timedelta(days=30),
        }
    )  # fmt: skip
    path = tmp_path / "local.yml"
    path.write_text(yaml.safe_dump(raw))
    return load_directory(path)


def test_finder_puts_the_states_own_services_first(tmp_path: Path) -> None:
    directory = _with_local_entry(tmp_path)
    ohio = find_help_text("help_housing", "i need housing in ohio", directory).splitlines()
    assert ohio[0] == "For housing, these can help:"
    assert ohio[1].startswith("• Ohio Test Housing Line") and "Call 211" in ohio[2]
    # Elsewhere, the Ohio line is never offered: national entries answer, and the reply says so.
    texas = find_help_text("help_housing", "i need housing in texas", directory)
    assert "Ohio" not in texas and "Call 211" in texas
    assert "I don't have checked local services for Texas yet" in texas


def test_finder_reads_the_topic_from_a_general_request() -> None:
    directory = load_directory()
    # A named local need asks her state once; asked already (or skipped), the list comes.
    assert find_help_text("help_resources", "find me help with rent", directory) == ASK_STATE
    text = find_help_text("help_resources", "find me help with rent", directory, ask=False)
    assert text.splitlines()[0] == "For housing, these can help:" and "211" in text
    core = find_help_text("help_resources", "where can i find help", directory)
    for number in ("988", "1-800-662-4357", "findtreatment.gov"):
        assert number in core


async def test_safety_at_home_is_answered_discreetly() -> None:
    text = await _run_action("help_violence", "how do i leave my abuser")
    assert "1-800-799-7233" in text and "call 911" in text
    assert "Domestic Violence" not in text, "named neutrally, in case someone reads her phone"
    assert "• Call 911" not in text


async def test_every_help_intent_answers_only_with_directory_entries() -> None:
    directory = load_directory()
    contacts = {f"• {r.contact_line()}" for r in directory.resources}
    for intent in ("help_housing", "help_transportation", "help_childcare", "help_benefits"):
        assert await _run_action(intent, "help") == ASK_STATE_RESPONSE  # her state first, once
        lines = find_help_text(intent, "help", directory, ask=False).splitlines()
        assert lines[1:] and all(line in contacts for line in lines[1:]), intent


# --- Spanish lines (`es:`) -------------------------------------------------------------------

SPANISH_IDS = (
    "emergency_911", "lifeline_988", "samhsa_helpline", "domestic_violence_hotline",
    "maternal_mental_health_hotline", "poison_help",
)  # fmt: skip


def _with_spanish(resource_id: str, **changes: Any) -> dict[str, Any]:
    raw = _raw()
    entry = next(r for r in raw["resources"] if r["id"] == resource_id)
    entry["es"] = {**entry["es"], **changes}
    return raw


def test_spanish_lines_come_from_the_directory() -> None:
    directory = load_directory()
    for resource_id in SPANISH_IDS:
        resource = directory.get(resource_id)
        assert resource.es is not None, resource_id
        assert resource.es.vetted_on < resource.es.review_by
        assert "Spanish" in resource.languages or "any" in resource.languages
    assert directory.get("lifeline_988").contact_line("es") == (
        "988 Línea de Prevención del Suicidio y Crisis: llama al 988 y oprime 2, "
        "envía AYUDA por mensaje de texto al 988 o chatea en https://988lineadevida.org"
    )
    assert directory.get("emergency_911").contact_line("es") == "Llama al 911 (hay intérpretes)"
    samhsa = directory.get("samhsa_helpline").contact_line("es")
    assert "1-800-662-4357" in samhsa and "español" in samhsa
    hotline = directory.get("domestic_violence_hotline")
    assert "START" not in hotline.contact_line("es"), "the text line answers in English"
    assert hotline.display_name("es") == "Línea Nacional sobre la Violencia Doméstica"
    assert hotline.description("es").startswith("Ayuda confidencial")


def test_without_a_spanish_line_the_english_one_says_whether_spanish_is_spoken() -> None:
    directory = load_directory()
    crisis_text = directory.get("crisis_text_line")
    assert crisis_text.es is None
    assert crisis_text.contact_line("es") == (
        f"{crisis_text.contact_line()} (servicio en inglés y en español)"
    )
    never_alone = directory.get("never_use_alone")
    assert never_alone.contact_line("es").endswith("(servicio en inglés)")
    assert never_alone.display_name("es") == "Never Use Alone"
    # English stays the default, and a language without lines gets English.
    lifeline = directory.get("lifeline_988")
    assert lifeline.contact_line() == lifeline.contact_line("en") == lifeline.contact_line("fr")
    assert lifeline.contact_line() == "988 Suicide & Crisis Lifeline: call 988 or text 988"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"source": None}, "source"),
        ({"source": "not a url"}, "source"),
        ({"review_by": date(2026, 1, 1)}, "review_by must be after vetted_on"),
        ({"vetted_on": None}, "vetted_on"),
        ({"numero": "988"}, "numero"),
        ({"name": ""}, "name"),
        ({"press": "two"}, "press"),
        ({"keyword": "ayuda por favor"}, "keyword"),
        ({"phone": None, "text": None, "chat_url": None}, "needs a phone"),
    ],
)
def test_schema_rejects_a_malformed_spanish_block(changes: dict[str, Any], message: str) -> None:
    raw = _with_spanish("lifeline_988", **changes)
    entry = next(r for r in raw["resources"] if r["id"] == "lifeline_988")
    entry["es"] = {k: v for k, v in entry["es"].items() if v is not None}
    with pytest.raises(ValidationError, match=message):
        ResourceDirectory.model_validate(raw)


def test_schema_rejects_inconsistent_spanish_lines(tmp_path: Path) -> None:
    raw = _with_spanish("lifeline_988", phone=None, text="988", keyword="AYUDA", press="2")
    entry = next(r for r in raw["resources"] if r["id"] == "lifeline_988")
    del entry["es"]["phone"]
    with pytest.raises(ValidationError, match="'press' needs a phone"):
        ResourceDirectory.model_validate(raw)
    raw = _with_spanish("lifeline_988")
    entry = next(r for r in raw["resources"] if r["id"] == "lifeline_988")
    del entry["es"]["text"]
    with pytest.raises(ValidationError, match="'keyword' needs a text line"):
        ResourceDirectory.model_validate(raw)
    # A Spanish line on a service that does not list Spanish among its languages.
    raw = _raw()
    never_alone = next(r for r in raw["resources"] if r["id"] == "never_use_alone")
    never_alone["es"] = {
        "name": "Never Use Alone", "for": "x", "phone": "1-800-484-3731",
        "source": "https://neverusealone.com/", "vetted_by": "test",
        "vetted_on": date.today(), "review_by": date.today() + timedelta(days=30),
    }  # fmt: skip
    with pytest.raises(ValidationError, match="Spanish is not in its languages"):
        ResourceDirectory.model_validate(raw)
    # And a broken block fails when the file is loaded, not when a reply is composed.
    raw = _with_spanish("poison_help", extra_field="x")
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValidationError, match="extra_field"):
        load_directory(path)


def test_a_spanish_line_past_its_review_date_is_due_for_review() -> None:
    raw = _with_spanish("lifeline_988", vetted_on=date(2026, 12, 1), review_by=date(2027, 1, 1))
    lifeline = ResourceDirectory.model_validate(raw).get("lifeline_988")
    assert lifeline.review_by > date(2027, 2, 1), "the English entry is still current"
    assert not lifeline.is_due_for_review(date(2026, 12, 15))
    assert lifeline.is_due_for_review(date(2027, 2, 1)), "its Spanish line is not"


def test_a_spanish_answer_names_services_by_their_spanish_lines(tmp_path: Path) -> None:
    """Rasa's Spanish variations name services as [[id]] like the English ones; the reply shows
    each entry's Spanish line (or its English line saying whether it answers in Spanish), and
    the review note in Spanish."""
    spanish = expand_resource_refs("[[lifeline_988]]\n[[never_use_alone]]", language="es")
    assert "llama al 988 y oprime 2, envía AYUDA por mensaje de texto al 988" in spanish
    assert "Never Use Alone: call 1-800-484-3731 (servicio en inglés)" in spanish
    stale = load_directory(_stale_directory(tmp_path))
    assert expand_resource_refs("[[psi_helpline]]", stale, language="es").endswith(REVIEW_NOTE_ES)
    result = parse_rasa_messages([{"text": "Llama:\n[[samhsa_helpline]]"}], "es")
    assert result.replies[0].text == "Llama:\n• " + load_directory().get(
        "samhsa_helpline"
    ).contact_line("es")
    english = parse_rasa_messages([{"text": "Call:\n[[samhsa_helpline]]"}])
    assert "SAMHSA National Helpline: call 1-800-662-4357" in english.replies[0].text
