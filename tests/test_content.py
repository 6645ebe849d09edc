"""The content rules of the Rasa domain (responses/*.yml), checked on every answer in English and
in Spanish: short, person-first words, a next step, sources beside medical answers, no advice to
stop medication, and every number or link coming from the vetted directory. Every answer has a
Spanish variation (a condition on the `language` slot) that Rasa picks only for language=es, and
the texts the custom actions compose (actions/data/wording.yml) follow the same rules."""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from actions.resources import ASK_STATE
from actions.wording import WORDING_PATH
from community.resources import RESOURCE_REF, load_directory
from community.settings import PROJECT_ROOT

RESPONSES = PROJECT_ROOT / "responses"
MAX_CHARS = 420  # without the filled-in resource lines
MAX_SENTENCES = 5
# Files whose answers are medical: each utter_faq_* there has a "# Source:" comment above it.
MEDICAL_FILES = ("medication.yml", "pregnancy.yml", "cps.yml", "harm_reduction.yml")
MEDICAL_MENTAL_HEALTH = ("utter_faq_ppd", "utter_faq_baby_blues")
# Answers that end a turn on purpose (no buttons or resources needed), and the "Did you mean"
# question, whose buttons the action adds (the best topics, from actions/data/wording.yml).
NO_NEXT_STEP = {"utter_goodbye", "utter_thanks", "utter_handoff", "utter_ask_affirmation"}
# Words that label people by their substance use, per language; every text is checked against
# every list (Spanish chats mix in English). Spanish: reviewed by engineering, awaiting review by a
# native speaker. "limpia"/"limpio" and "sucia"/"sucio" are stigmatizing when they say whether she
# uses ("estar limpia", "salió sucia", "días limpia"), not of water, supplies or diapers, so those
# are matched in context.
STIGMATIZING = {
    "en": (
        r"\baddicts?\b", r"\bjunkies?\b", r"\bsubstance abuse\b", r"\bdrug abuse\b",
        r"\babusers?\b", r"\bdirty\b", r"\bclean\b", r"\bdruggies?\b", r"\bcrack babies\b",
        r"\bborn addicted\b",
    ),
    "es": (
        r"\badict[oa]s?\b", r"\bdrogadict[oa]s?\b", r"\bdrogadicci[oó]n\b",
        r"\babuso de (sustancias|drogas|opioides)\b", r"\babusador[ae]s?\b", r"\byonquis?\b",
        r"\bjunkies?\b", r"\bviciosa?s?\b", r"\bvicios[oa]s?\b", r"\btecat[oa]s?\b",
        r"\bmarihuaner[oa]s?\b", r"\bnaci[oó] (adict|enganchad)\w*", r"\bbeb[eé]s? adict",
        # limpia/limpio of a person: after a verb of being or staying, or counted in time.
        r"\b(estar|est[aá]s?|estoy|estaba|estuve|estuviste|seguir|sigues|sigo|sigue|mantenerte"
        r"|mantenerse|mantente|quedarte|salir|sal[ií]|sali[oó]|saliste|vuelvo a estar|llevas"
        r"|llevo|lleva)\s+(\w+\s+)?limpi[oa]s?\b",
        r"\blimpi[oa]s? (de (las )?drogas|desde|hace)\b",
        r"\b(d[ií]as|semanas|meses|años|tiempo)\s+limpi[oa]s?\b",
        # sucia/sucio of a person or a test result.
        r"\b(estar|est[aá]s?|estoy|estaba|sali[oó]|saliste|sal[ií]|dio|dar|prueba|orina|muestra"
        r"|resultado)\s+(\w+\s+)?suci[oa]s?\b",
        r"\b(una|la|el|un) suci[oa]\b",
    ),
}  # fmt: skip
# A number in a reply: 3-digit service numbers, dashed phone numbers, 5-6 digit text codes.
NUMBER = re.compile(r"\b\d{3}\b|\d{1,4}(?:-[\dA-Z]{3,4}){2,}|\b\d{5,6}\b")
LINK = re.compile(r"https?://|www\.|\.(gov|org|com)\b", re.IGNORECASE)
# Per language: an answer about medication; speaking of stopping it; saying not to do that
# alone; sending her to her provider.
MEDICATION = {
    "en": re.compile(r"methadone|buprenorphine|medication|\bmeds\b|\bsubs\b|moud", re.I),
    "es": re.compile(
        r"metadona|buprenorfina|medicamento|medicina|\bsubs?\b|suboxone|\bbupe\b", re.I
    ),
}
STOPPING = {
    "en": re.compile(
        r"\b(stop|stopping|quit|taper|come off|get off)\b|lower (your|the) dose", re.I
    ),
    "es": re.compile(
        r"\b(dejar(l[oa]s?)?|dej[ae]s|dejarl[oa]|suspender(l[oa]s?)?|suspendas|parar(l[oa]s?)?"
        r"|desintoxicar(te|se)?|desintoxicaci[oó]n)\b"
        r"|\bbaj(ar|arl[oa]s?|arle|es)\b|\breducir (la|tu) dosis|poco a poco",
        re.I,
    ),
}
STOPPING_SAFE = {
    "en": re.compile(r"don't|do not|before changing anything", re.I),
    "es": re.compile(
        r"\bno (l[oa]s? |te )?(dejes|pares|suspendas|cambies|bajes)\b"
        r"|antes de cambiar (nada|algo)|sin hablar (antes )?con",
        re.I,
    ),
}
SENDS_TO_PROVIDER = {
    "en": re.compile(r"provider|doctor|clinic|prescriber", re.I),
    "es": re.compile(
        r"\btu proveedor|\btu m[eé]dic[oa]\b|\bel m[eé]dico (de tu|que te)|\btu doctor"
        r"|\btu cl[ií]nica|que te (l[oa]s? )?recet",
        re.I,
    ),
}


def language_of(variation: dict[str, Any]) -> str:
    """ "es" for a variation conditioned on language=es, else "en" (the default is English)."""
    for condition in variation.get("condition") or []:
        if condition.get("name") == "language":
            return str(condition["value"])
    return "en"


def other_conditions(variation: dict[str, Any]) -> frozenset[tuple[str, object]]:
    """The variation's conditions on slots other than the language."""
    return frozenset(
        (str(c["name"]), c["value"])
        for c in variation.get("condition") or []
        if c.get("name") != "language"
    )


@cache
def domain() -> dict[str, dict[str, Any]]:
    """Every response's variations and every slot, from all of responses/*.yml."""
    found: dict[str, dict[str, Any]] = {"responses": {}, "slots": {}}
    for path in sorted(RESPONSES.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        found["responses"].update(data.get("responses") or {})
        found["slots"].update(data.get("slots") or {})
    return found


@cache
def all_responses() -> dict[str, tuple[Path, dict[str, Any]]]:
    found: dict[str, tuple[Path, dict[str, Any]]] = {}
    for path in sorted(RESPONSES.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variations in (data.get("responses") or {}).items():
            # One reviewed wording per answer; a further variation only for a context a slot
            # names (Rasa's conditional variations: her language, a feeling shared again).
            assert "condition" not in variations[0], f"{name}: the first wording is the default"
            for index, variation in enumerate(variations):
                assert index == 0 or variation.get("condition"), f"{name}: one default wording"
                found[name if index == 0 else f"{name}[{index}]"] = (path, variation)
    return found


RESPONSE_NAMES = sorted(all_responses())
SPANISH_NAMES = [n for n in RESPONSE_NAMES if language_of(all_responses()[n][1]) == "es"]


def text_of(name: str) -> str:
    return str(all_responses()[name][1]["text"])


def language_of_name(name: str) -> str:
    return language_of(all_responses()[name][1])


def initial_context() -> dict[str, object]:
    """The slots as a conversation starts."""
    return {name: slot.get("initial_value") for name, slot in domain()["slots"].items()}


def context_of(variation: dict[str, Any], language: str) -> dict[str, object]:
    """The slots when this variation's conditions hold, in `language`."""
    slots = initial_context()
    slots.update((str(c["name"]), c["value"]) for c in variation.get("condition") or [])
    slots["language"] = language
    return slots


def english_twin(name: str) -> dict[str, Any]:
    """The English variation a Spanish one translates: the one Rasa says in the same context
    with language=en (for "felt_before=false" in Spanish, the English default)."""
    variations = domain()["responses"][name.split("[")[0]]
    chosen = _candidates(variations, context_of(all_responses()[name][1], "en"))
    assert len(chosen) == 1, f"{name}: {len(chosen)} English variations for the same context"
    return dict(variations[chosen[0]])


def is_stigmatizing(text: str) -> str | None:
    """The first stigmatizing pattern (of any language) the text matches."""
    for pattern in itertools.chain.from_iterable(STIGMATIZING.values()):
        if re.search(pattern, text, re.IGNORECASE):
            return pattern
    return None


@pytest.mark.parametrize("name", RESPONSE_NAMES)
def test_answer_is_short_and_plain(name: str) -> None:
    text = RESOURCE_REF.sub("", text_of(name))
    assert len(text) <= MAX_CHARS, f"{name}: {len(text)} characters"
    assert len(re.findall(r"[.!?](?:\s|$)", text)) <= MAX_SENTENCES
    assert not is_stigmatizing(text), f"{name}: {is_stigmatizing(text)}"


@pytest.mark.parametrize("name", RESPONSE_NAMES)
def test_numbers_and_links_come_from_the_directory(name: str) -> None:
    directory = load_directory()
    text = text_of(name)
    for resource_id in RESOURCE_REF.findall(text):
        directory.get(resource_id)  # KeyError names an unknown id
    bare = RESOURCE_REF.sub("", text)
    assert not LINK.search(bare), f"{name}: write links as [[resource_id]]"
    known = " ".join(
        f"{r.phone or ''} {r.text or ''} {r.es.phone or '' if r.es else ''} "
        f"{r.es.text or '' if r.es else ''}"
        for r in directory.resources
    )
    for number in NUMBER.findall(bare):
        assert number in known, f"{name}: {number} is not in the vetted directory"


@pytest.mark.parametrize("name", RESPONSE_NAMES)
def test_every_answer_offers_a_next_step(name: str) -> None:
    if name.split("[")[0] in NO_NEXT_STEP:
        return
    _, variation = all_responses()[name]
    assert variation.get("buttons") or RESOURCE_REF.search(str(variation["text"])), name


@pytest.mark.parametrize("name", RESPONSE_NAMES)
def test_never_advises_stopping_medication(name: str) -> None:
    """An answer about medication that speaks of stopping it says not to do it alone, and every
    answer about medication sends her to her provider."""
    text, language = text_of(name), language_of_name(name)
    if not MEDICATION[language].search(text) or name.split("[")[0] in {"utter_help", "utter_greet"}:
        return
    if STOPPING[language].search(text):
        assert STOPPING_SAFE[language].search(text), name
    if name.startswith("utter_faq_"):
        assert SENDS_TO_PROVIDER[language].search(text), f"{name}: send her to her provider"


def test_medical_answers_keep_their_source_beside_them() -> None:
    checked = 0
    for filename in (*MEDICAL_FILES, "mental_health.yml"):
        lines = (RESPONSES / filename).read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            match = re.match(r"\s+(utter_\w+):$", line)
            if not match:
                continue
            name = match.group(1)
            if filename == "mental_health.yml" and name not in MEDICAL_MENTAL_HEALTH:
                continue
            assert lines[number - 1].strip().startswith("# Source:"), f"{filename}: {name}"
            checked += 1
    assert checked >= 15


def test_the_checks_catch_what_they_are_for() -> None:
    """Each rule above rejects an example of what it forbids, in each language, and the Spanish
    lists leave everyday words alone."""
    assert NUMBER.findall("call 1-800-123-4567 or 311") == ["1-800-123-4567", "311"]
    assert LINK.search("see example.org")
    assert STOPPING["en"].search("You should stop your methadone.")
    assert not STOPPING_SAFE["en"].search("You should stop your methadone.")
    assert not SENDS_TO_PROVIDER["en"].search("Methadone is great, take more.")
    assert is_stigmatizing("moms who are addicts")
    for stopping in ("Puedes dejar la metadona.", "Lo mejor es bajarla poco a poco.", "Suspender"):
        assert STOPPING["es"].search(stopping), stopping
        assert not STOPPING_SAFE["es"].search(stopping), stopping
    assert STOPPING_SAFE["es"].search("No la dejes de golpe.")
    assert STOPPING_SAFE["es"].search("Habla con tu proveedor antes de cambiar nada.")
    assert not SENDS_TO_PROVIDER["es"].search("La metadona es buena, toma más.")
    assert not SENDS_TO_PROVIDER["es"].search("Un plan con atención médica.")
    assert not SENDS_TO_PROVIDER["es"].search("Cualquier proveedor la receta.")
    assert MEDICATION["es"].search("¿Y si solo tomo el sub?")
    for stigma in (
        "mamás adictas", "una drogadicta", "abuso de sustancias", "los yonquis", "es una viciosa",
        "lleva seis meses limpia", "¿estás limpia?", "la prueba salió sucia", "días limpia",
        "mantenerte limpia", "limpia de drogas", "eres una sucia",
    ):  # fmt: skip
        assert is_stigmatizing(stigma), stigma
    for everyday in (
        "agua limpia", "jeringas limpias", "un lugar limpio y tranquilo", "pañales sucios",
        "ropa sucia", "una casa limpia", "en recuperación", "la adicción no define a nadie",
    ):  # fmt: skip
        assert not is_stigmatizing(everyday), everyday


# --- Spanish: a twin for every English wording, chosen only for language=es ---------------------


def test_every_answer_has_a_spanish_variation_for_each_english_one() -> None:
    """Each English wording (the default, and each conditional one) has its own Spanish twin:
    in the context where Rasa says the English one, with language=es it says a Spanish one that
    translates it (and no other)."""
    missing = []
    for name, variations in domain()["responses"].items():
        for index, variation in enumerate(variations):
            if language_of(variation) != "en":
                continue
            chosen = _candidates(variations, context_of(variation, "es"))
            twins = [
                i
                for i in chosen
                if language_of(variations[i]) == "es"
                and _candidates(variations, context_of(variations[i], "en")) == [index]
            ]
            if len(twins) != 1 or twins != chosen:
                missing.append(f"{name}[{index}]")
    assert not missing, f"no Spanish twin: {missing}"
    assert len(SPANISH_NAMES) == len(RESPONSE_NAMES) - len(SPANISH_NAMES) >= 44


def _slot_values(slot: dict[str, Any]) -> list[object]:
    """The values a slot can hold in a conversation: its values, and None only when it has no
    initial value (a slot that starts unset can be unset when a response is chosen)."""
    values: list[object] = {
        "categorical": list(slot.get("values") or []),
        "bool": [True, False],
    }.get(str(slot.get("type")), [])
    return values if "initial_value" in slot else [*values, None]


def _candidates(variations: list[dict[str, Any]], slots: dict[str, object]) -> list[int]:
    """The variations Rasa 3.6 picks among at random for these slot values (no channel set):
    every conditional variation whose conditions all match; only when none does, the defaults
    (rasa/core/nlg/generator.py, ResponseVariationFilter.responses_for_utter_action)."""

    def matches(condition: dict[str, Any]) -> bool:
        value, wanted = slots.get(condition["name"]), condition["value"]
        if isinstance(value, str) and isinstance(wanted, str):
            return value.casefold() == wanted.casefold()
        return bool(value == wanted)

    conditional = [
        i
        for i, v in enumerate(variations)
        if v.get("condition") and all(matches(c) for c in v["condition"])
    ]
    return conditional or [i for i, v in enumerate(variations) if not v.get("condition")]


def _every_context(
    names: list[str], slots: dict[str, dict[str, Any]]
) -> Iterator[dict[str, object]]:
    for values in itertools.product(*(_slot_values(slots[n]) for n in names)):
        yield dict(zip(names, values, strict=True))


def test_spanish_is_chosen_only_for_spanish_and_english_otherwise() -> None:
    """For every value of the slots the conditions name (as a conversation can hold them), Rasa's
    candidates are all in the slot's language: never a random pick between the two."""
    found = domain()
    slots = found["slots"]
    assert slots["language"]["initial_value"] == "en"
    assert set(slots["language"]["values"]) == {"en", "es"}
    for name, variations in found["responses"].items():
        named = sorted({str(c["name"]) for v in variations for c in v.get("condition") or []})
        for context in _every_context(["language", *(n for n in named if n != "language")], slots):
            chosen = _candidates(variations, context)
            assert chosen, f"{name}: nothing to say for {context}"
            languages = {language_of(variations[i]) for i in chosen}
            assert languages == {context["language"]}, f"{name} {context}: {languages}"


@pytest.mark.parametrize("name", SPANISH_NAMES)
def test_a_spanish_variation_keeps_its_english_twins_steps_and_facts(name: str) -> None:
    """Same buttons (payloads), same app request (custom), same directory entries, same numbers
    typed in the text (911), and not the English text left untranslated."""
    spanish, english = all_responses()[name][1], english_twin(name)
    payloads = [b["payload"] for b in spanish.get("buttons") or []]
    assert payloads == [b["payload"] for b in english.get("buttons") or []], name
    assert all(b["title"] for b in spanish.get("buttons") or []), name
    assert spanish.get("custom") == english.get("custom"), name
    assert RESOURCE_REF.findall(spanish["text"]) == RESOURCE_REF.findall(english["text"]), name
    assert NUMBER.findall(spanish["text"]) == NUMBER.findall(english["text"]), name
    assert spanish["text"] != english["text"], name
    titles = [b["title"] for b in spanish.get("buttons") or []]
    assert not set(titles) & {b["title"] for b in english.get("buttons") or []}, name


def test_asking_for_her_state_is_the_response_the_finder_names() -> None:
    (english, *_) = domain()["responses"]["utter_ask_state"]
    assert english["text"] == ASK_STATE


# --- What the custom actions compose (actions/data/wording.yml) -------------------------------


def _leaves(node: object, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f"{path}.{key}" if path else str(key))
    else:
        yield path, str(node)


def wording_texts() -> dict[str, dict[str, str]]:
    data = yaml.safe_load(WORDING_PATH.read_text(encoding="utf-8"))
    return {language: dict(_leaves(data[language])) for language in ("en", "es")}


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_the_actions_wording_is_in_both_languages() -> None:
    """Every text in English has a Spanish one with the same {placeholders} and numbers, and
    every directory topic has a Spanish name (English replies use the directory's labels)."""
    texts = wording_texts()
    english = {k: v for k, v in texts["en"].items() if not k.startswith("topic_labels.")}
    spanish = {k: v for k, v in texts["es"].items() if not k.startswith("topic_labels.")}
    assert set(english) == set(spanish), set(english) ^ set(spanish)
    for key, text in english.items():
        assert _fields(spanish[key]) == _fields(text), key
        assert NUMBER.findall(spanish[key]) == NUMBER.findall(text), key
        assert spanish[key] != text or key.startswith("finder.label"), key
    labels = {k.split(".", 1)[1] for k in texts["es"] if k.startswith("topic_labels.")}
    assert labels == set(load_directory().topics), set(load_directory().topics) ^ labels


def test_the_actions_wording_follows_the_content_rules() -> None:
    for language, texts in wording_texts().items():
        for key, text in texts.items():
            assert not is_stigmatizing(text), f"{language} {key}: {is_stigmatizing(text)}"
            assert not LINK.search(text), f"{language} {key}"
            assert len(text) <= MAX_CHARS and len(re.findall(r"[.!?](?:\s|$)", text)) <= 3, key
