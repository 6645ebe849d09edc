"""Her language (#20): decided from her choice, a run of what she writes and her platform's
hint; stored on her row, shown in "my data", sent to Rasa; and the app's own words in it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import select

from bots.dialogue import DialogueClient
from bots.gateway import Gateway, GatewayConfig
from bots.member_language import (
    CHOSEN,
    HINT,
    WRITTEN,
    MemberLanguage,
    asks_for_language,
    chosen_language,
    hint_language,
)
from community.db import Database
from community.messages import InboundMessage
from community.models import Member
from community.phrases import LANGUAGES, phrase, phrases
from community.resources import default_directory
from safety.language import default_detector
from tests.bots.rasa_standin import RasaStandIn, rasa_standin

KEY = b"k" * 48
DEAD_RASA = "http://127.0.0.1:9"


# -- The rules, alone -----------------------------------------------------------------------


def test_one_message_in_the_other_language_does_not_switch_a_run_does() -> None:
    spanish = MemberLanguage("es", WRITTEN, 0)
    once = spanish.after("en", None)
    assert once.language == "es" and once.run == 1
    assert once.after("es", None) == MemberLanguage("es", WRITTEN, 0)  # the run is broken
    assert once.after("en", None) == MemberLanguage("en", WRITTEN, 0)  # two in a row switch
    assert once.after(None, None) == MemberLanguage("es", WRITTEN, 0)  # unclear breaks it too


def test_her_choice_holds_longer_and_her_words_beat_her_phone() -> None:
    chosen = MemberLanguage("en", CHOSEN, 0)
    assert chosen.after("es", None).after("es", None).language == "en"
    assert chosen.after("es", None).after("es", None).after("es", None).language == "es"
    hinted = MemberLanguage().after(None, "es-MX")
    assert hinted == MemberLanguage("es", HINT, 0)
    assert hinted.after("en", None) == MemberLanguage("en", WRITTEN, 0)
    assert MemberLanguage().after(None, "pt-BR") == MemberLanguage()
    assert MemberLanguage().answer_in("pt-BR") == "en"
    assert MemberLanguage().after("es", "en-US") == MemberLanguage("es", WRITTEN, 0)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("/language es", "es"),
        ("/language EN", "en"),
        ("/language es-MX", "es"),
        ("/language español", "es"),
        ("en español", "es"),
        ("En Español por favor!", "es"),
        ("¿hablas español?", "es"),
        ("English please", "en"),
        ("en ingles", "en"),
        ("I speak Spanish at home with my mom", None),  # in passing: not a choice
        ("/language", None),
        ("/language fr", None),
        ("spanish rice recipe for my toddler please help", None),
    ],
)
def test_a_choice_is_a_whole_message(text: str, language: str | None) -> None:
    assert chosen_language(text) == language


def test_hints_and_asking() -> None:
    assert [hint_language(h) for h in ("es", "es_PR", "ES-419", "en-GB", "fr", "", None)] == [
        "es",
        "es",
        "es",
        "en",
        None,
        None,
        None,
    ]
    assert asks_for_language("/language") and asks_for_language("/language@peerbot")
    assert not asks_for_language("/language es")


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("hola, ¿puedo amamantar si tomo metadona?", "es"),
        ("gracias", "es"),
        ("tengo appointment con el doctor mañana", "es"),
        ("can i breastfeed on methadone", "en"),
        ("see ya later", "en"),  # the detector alone reads this short slang as Spanish
        ("nos vemos luego", "es"),
        ("ok", None),  # written in both languages: it never changes hers
        ("ok gracias", "es"),
        ("ok thanks", "en"),
        ("buen dia", "es"),
        ("👍", None),
        ("911", None),
    ],
)
def test_what_she_writes_counts_only_when_clear(text: str, language: str | None) -> None:
    assert default_detector().clear(text) == language


# -- The words ------------------------------------------------------------------------------

_FIELDS = re.compile(r"\{(\w+)\}")
_NUMBERS = re.compile(r"(?<![\w/])\d[\d-]{2,}\d?(?![\w])")


def test_every_phrase_is_in_both_languages_with_the_same_blanks() -> None:
    for key, texts in phrases().items():
        assert set(texts) == set(LANGUAGES), key
        fields = {language: set(_FIELDS.findall(text)) for language, text in texts.items()}
        assert fields["en"] == fields["es"], key


def test_numbers_in_phrases_are_in_the_resource_directory() -> None:
    directory = default_directory()
    known = {r.phone for r in directory.resources if r.phone} | {
        r.text for r in directory.resources if r.text
    }
    for key, texts in phrases().items():
        for text in texts.values():
            for number in _NUMBERS.findall(text.replace("Mothers 101", "")):
                assert number in known, f"{key}: {number} is not in the resource directory"


def test_spanish_phrases_are_spanish() -> None:
    detector = default_detector()
    long_ones = {k: t["es"] for k, t in phrases().items() if len(t["es"].split()) >= 6}
    assert long_ones
    english = [
        k
        for k, t in long_ones.items()
        if detector.clear(t) != "es" and k not in ("language_which", "language_now_en")
    ]
    assert english == [], english


# -- Through the gateway (SQLite and PostgreSQL) ----------------------------------------------


@pytest.fixture
def standin() -> Iterator[RasaStandIn]:
    with rasa_standin() as running:
        yield running


@pytest.fixture
async def gateway(database: Database, standin: RasaStandIn) -> AsyncIterator[Gateway]:
    gateway = Gateway(
        GatewayConfig(pseudonym_key=KEY, max_message_chars=4000),
        database,
        DialogueClient(standin.url, 1.0),
    )
    yield gateway
    gateway.close()


async def _stored(database: Database) -> tuple[str | None, str | None, int]:
    async with database.sessions() as session:
        member = await session.scalar(select(Member))
    assert member is not None
    return member.language, member.language_source, member.language_run


async def test_she_writes_in_spanish_and_rasa_is_asked_in_spanish(
    gateway: Gateway, standin: RasaStandIn, database: Database
) -> None:
    await gateway.handle(InboundMessage("web", "ana", "hola, tengo una pregunta sobre la metadona"))
    assert standin.received[-1]["metadata"] == {"language": "es"}
    assert await _stored(database) == ("es", WRITTEN, 0)
    replies = await gateway.handle(InboundMessage("web", "ana", "ok thanks"))
    assert standin.received[-1]["metadata"] == {"language": "es"}  # one message does not flip
    assert replies[0].language == "es"
    await gateway.handle(InboundMessage("web", "ana", "what about breastfeeding on it"))
    assert standin.received[-1]["metadata"] == {"language": "en"}  # a run does
    assert await _stored(database) == ("en", WRITTEN, 0)


async def test_she_chooses_and_the_choice_is_kept(
    gateway: Gateway, standin: RasaStandIn, database: Database
) -> None:
    asked = await gateway.handle(InboundMessage("telegram", "bea", "/language"))
    assert [b.payload for b in asked[0].buttons] == ["/language en", "/language es"]
    done = await gateway.handle(InboundMessage("telegram", "bea", "en español por favor"))
    assert done[0].text == phrase("language_now_es") and done[0].language == "es"
    assert standin.received == []  # a choice is the app's, not Rasa's
    assert await _stored(database) == ("es", CHOSEN, 0)
    await gateway.handle(InboundMessage("telegram", "bea", "where can i get narcan today"))
    assert standin.received[-1]["metadata"] == {"language": "es"}


async def test_her_platforms_hint_is_a_first_guess(database: Database) -> None:
    gateway = Gateway(
        GatewayConfig(pseudonym_key=KEY, max_message_chars=4000),
        database,
        DialogueClient(DEAD_RASA, 1.0),
    )
    try:
        replies = await gateway.handle(
            InboundMessage("telegram", "cara", "👍", language_hint="es-419")
        )
        assert replies[0].text == phrase(
            "fallback", "es", core_resources=replies[0].text.split("\n", 1)[1].rsplit("\n", 1)[0]
        )
        assert "988" in replies[0].text and replies[0].language == "es"
        assert await _stored(database) == ("es", HINT, 0)
        welcome = await gateway.handle(
            InboundMessage("telegram", "cara", "/start", language_hint="es")
        )
        assert welcome[0].language == "es" and "Hola, soy peerbot" in welcome[0].text
    finally:
        gateway.close()


async def test_her_data_says_her_language_in_it_and_deletion_takes_it(
    gateway: Gateway, database: Database
) -> None:
    await gateway.handle(InboundMessage("discord", "dora", "/language es"))
    mine = await gateway.handle(InboundMessage("discord", "dora", "/my_data"))
    assert "El idioma en que te respondo: español (lo elegiste tú)" in mine[0].text
    assert [b.title for b in mine[0].buttons] == ["Borrar mis datos", "Hablar con una persona"]
    await gateway.handle(InboundMessage("discord", "dora", "/delete_my_data"))
    done = await gateway.handle(InboundMessage("discord", "dora", "/confirm_delete"))
    assert done[0].text == phrase("deletion_done", "es")
    async with database.sessions() as session:
        assert await session.scalar(select(Member)) is None
