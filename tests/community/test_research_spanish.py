"""The research side in Spanish, on both databases: a mother whose language is Spanish opts in,
gets a question in Spanish (the version a reviewer added), answers in Spanish, consents, and is
asked the Mothers 101 question in Spanish; without a Spanish version she gets the English words
with a line in Spanish before them; her answer is kept as she wrote it (de-identified) with its
language noted for researchers. Also: the wording file has both languages for every key, and
migration 0018 upgrades and downgrades without losing rows."""

from __future__ import annotations

import re

import pytest
import yaml
from alembic import command
from sqlalchemy import create_engine, inspect, select, text

from bots.research_flow import ResearchFlow, parse_command
from community.db import Database, alembic_config
from community.members import resolve_member
from community.messages import InboundMessage, Reply
from community.models import Member, OutboxMessage, Staff, utcnow
from community.research import member_questions as mq
from community.research import texts
from community.research.answers import answers_for_researcher, export_csv
from community.research.deidentify import deidentify
from community.research.models import (
    MothersLibraryEntry,
    ResearchAnswer,
    ResearchQuestion,
)
from community.research.publication import community_post_text, fan_out_due, queue_due
from community.research.questions import QuestionConflict, approve, schedule, set_spanish, submit
from community.settings import Settings, sync_database_url
from community.staff import add_staff

KEY = b"s" * 32
QUESTION = "What helps you feel safe to talk about your recovery?"
CONTEXT = "We are a university team that studies how moms find support."
QUESTION_ES = "¿Qué te ayuda a sentirte segura para hablar de tu recuperación?"
CONTEXT_ES = "Somos un equipo de una universidad que estudia cómo las mamás encuentran apoyo."
ANSWER_ES = (
    "Me llamo Ana López y vivo en Querétaro. Lo que más me ayuda es que me escuchen sin "
    "juzgarme, como en el Centro de Salud Esperanza."
)
ONLY_IN_ENGLISH = "Esta pregunta solo está en inglés por ahora. Puedes responder en español."


# -- the wording file ------------------------------------------------------------------------


def test_every_key_has_english_and_spanish_with_the_same_fields() -> None:
    with texts.WORDING_PATH.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    checked = texts.validate_wording(raw)
    assert checked == texts.wording()
    assert len(checked) > 50
    for key, languages in checked.items():
        assert set(languages) == {"en", "es"}, key
        assert languages["es"].strip() and languages["en"].strip(), key


@pytest.mark.parametrize(
    "broken",
    [
        {"greeting": {"en": "Hi"}},  # no Spanish
        {"greeting": {"en": "Hi", "es": ""}},  # empty Spanish
        {"greeting": {"en": "Hi {name}", "es": "Hola"}},  # different fields
        {"greeting": {"en": "Hi", "es": "Hola", "fr": "Salut"}},  # a language nobody reads
        {},
    ],
)
def test_a_broken_wording_file_is_refused(broken: object) -> None:
    with pytest.raises(texts.WordingError):
        texts.validate_wording(broken)


STIGMA_ES = re.compile(
    r"\b(adict[oa]s?|drogadict[oa]s?|limpi[oa]s?|abuso de sustancias|drogata|yonqui)\b",
    re.IGNORECASE,
)


STIGMA_EN = re.compile(
    r"\b(addicts?|junkies?|substance abuse|drug abuse|abusers?|dirty|clean|druggies?)\b",
    re.IGNORECASE,
)


def test_both_languages_are_person_first() -> None:
    for key, languages in texts.wording().items():
        assert not STIGMA_ES.search(languages["es"]), key
        assert not STIGMA_EN.search(languages["en"]), key


def test_her_language_decides_and_anything_else_is_english() -> None:
    assert texts.opted_in("questions", "es").startswith("Listo")
    assert texts.opted_in("questions", None).startswith("Done")
    assert texts.opted_in("questions", "fr").startswith("Done")
    body, buttons = texts.consent(7, False, "es")
    assert "No van a citarte" in body and "voluntario" in body
    assert buttons == [("Sí, estoy de acuerdo", "/consent_7"), ("No", "/noconsent_7")]
    assert texts.opted_out(["questions", "results"], "es") == (
        "Listo: ya no recibirás preguntas de investigadores ni resultados de estudios en los "
        "que participaste. Envía /research para cambiarlo."
    )


# -- the flow on both databases --------------------------------------------------------------


@pytest.fixture
def open_hours(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"research_quiet_start_hour": 0, "research_quiet_end_hour": 0}
    )


_names = iter(range(1000))


async def _approved_question(
    database: Database, text_es: str | None = None, context_es: str | None = None
) -> int:
    name = f"investigadora-{next(_names)}"
    async with database.transaction() as session:
        await add_staff(session, name, "researcher")
    async with database.transaction() as session:
        staff_id = await session.scalar(select(Staff.id).where(Staff.name == name))
        assert staff_id is not None
        question = await submit(session, staff_id, QUESTION, CONTEXT, False, None)
        await approve(session, question.id, "mia", text_es=text_es, context_es=context_es)
        await schedule(session, question.id, None)
        return question.id


async def _publish(database: Database, settings: Settings) -> None:
    async with database.transaction() as session:
        await fan_out_due(session, (), utcnow())
    async with database.transaction() as session:
        await queue_due(session, settings, utcnow())


async def _set_language(database: Database, user: str, language: str | None) -> int:
    """What the gateway decides and stores for her (`Member.language`)."""
    async with database.transaction() as session:
        member = await resolve_member(session, KEY, "web", user)
        member.language = language
        return member.id


async def _outbox(database: Database, member_id: int) -> list[OutboxMessage]:
    async with database.sessions() as session:
        return list(
            (
                await session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.member_id == member_id)
                    .order_by(OutboxMessage.id)
                )
            ).all()
        )


class Chat:
    """Drives the research flow as the gateway does, with the language it decided."""

    def __init__(self, database: Database) -> None:
        self.flow = ResearchFlow(database, KEY)

    async def say(self, user: str, words: str, language: str | None) -> list[Reply]:
        message = InboundMessage("web", user, words, language=language)
        command = parse_command(words)
        if command is not None:
            return await self.flow.command(message, command)
        return await self.flow.take_input(message, words) or []


async def test_a_spanish_speaking_mother_answers_in_spanish_end_to_end(
    database: Database, open_hours: Settings
) -> None:
    chat = Chat(database)
    member_id = await _set_language(database, "mamá-1", "es")
    [opted] = await chat.say("mamá-1", "/optin_questions", "es")
    assert opted.language == "es"
    assert opted.text.startswith("Listo: vas a recibir preguntas de investigadores")
    [menu] = await chat.say("mamá-1", "/research", "es")
    assert "• preguntas de investigadores: sí" in menu.text
    assert menu.buttons[0].title == "No recibir preguntas"

    question_id = await _approved_question(database, QUESTION_ES, CONTEXT_ES)
    await _publish(database, open_hours)
    [delivered] = await _outbox(database, member_id)
    assert delivered.text is not None
    assert QUESTION_ES in delivered.text and CONTEXT_ES in delivered.text
    assert QUESTION not in delivered.text and ONLY_IN_ENGLISH not in delivered.text
    assert delivered.text.startswith("Una pregunta de investigadores")
    assert delivered.buttons == [
        {"title": "Responder", "payload": f"/answer_{question_id}"},
        {"title": "No es para mí", "payload": f"/skip_{question_id}"},
    ]

    [terms] = await chat.say("mamá-1", f"/answer_{question_id}", "es")
    assert terms.language == "es"
    assert terms.text.startswith("Antes de responder")
    assert "No van a citarte" in terms.text  # the question promised no quotes
    assert [b.payload for b in terms.buttons] == [
        f"/consent_{question_id}",
        f"/noconsent_{question_id}",
    ]
    [write] = await chat.say("mamá-1", f"/consent_{question_id}", "es")
    assert write.text.startswith("Gracias. Escribe tu respuesta")
    saved, share = await chat.say("mamá-1", ANSWER_ES, "es")
    assert (saved.language, share.language) == ("es", "es")
    assert saved.text.startswith("Gracias por compartir")
    assert [b.title for b in saved.buttons] == ["Retirar mi respuesta"]
    assert "Mothers 101" in share.text and share.text.startswith("Una decisión más")
    assert [(b.title, b.payload) for b in share.buttons] == [
        ("Sí, compartirla", f"/share_yes_{question_id}"),
        ("No, que se quede aquí", f"/share_no_{question_id}"),
    ]
    [shared] = await chat.say("mamá-1", f"/share_yes_{question_id}", "es")
    assert shared.text.startswith("Gracias. Alguien de nuestro equipo")

    async with database.sessions() as session:
        answer = await session.scalar(
            select(ResearchAnswer).where(ResearchAnswer.question_id == question_id)
        )
        assert answer is not None
        assert answer.language == "es" and answer.share_consent is True
        # Kept in Spanish as she wrote it, without what identifies her.
        assert "me escuchen sin juzgarme" in answer.text
        for identifier in ("Ana", "López", "Querétaro", "étaro", "Esperanza"):
            assert identifier not in answer.text, answer.text
        question = await session.get(ResearchQuestion, question_id)
        assert question is not None
        [for_researcher] = await answers_for_researcher(session, question)
    assert for_researcher.language == "es"
    assert export_csv(question, [for_researcher]).splitlines()[0].endswith(",language")
    assert export_csv(question, [for_researcher]).splitlines()[1].endswith(",es")

    [withdrawn] = await chat.say("mamá-1", f"/withdraw_{question_id}", "es")
    assert withdrawn.text == "Listo: borramos tu respuesta y los investigadores no la verán."
    [again] = await chat.say("mamá-1", f"/withdraw_{question_id}", "es")
    assert again.text == "No hay una respuesta tuya guardada para esa pregunta."
    [stop] = await chat.say("mamá-1", "/research_stop", "es")
    assert stop.text.startswith("¿Quieres parar")


async def test_without_a_spanish_version_she_gets_the_english_with_a_line_in_spanish(
    database: Database, open_hours: Settings
) -> None:
    chat = Chat(database)
    spanish = await _set_language(database, "mamá-2", "es")
    english = await _set_language(database, "mom-2", "en")
    unknown = await _set_language(database, "mom-3", None)
    for user, language in (("mamá-2", "es"), ("mom-2", "en"), ("mom-3", None)):
        await chat.say(user, "/optin_questions", language)
    question_id = await _approved_question(database)
    await _publish(database, open_hours)

    [to_her] = await _outbox(database, spanish)
    assert to_her.text is not None
    header, note, words, context, _ = to_her.text.split("\n\n")
    assert header.startswith("Una pregunta de investigadores")
    assert (note, words, context) == (ONLY_IN_ENGLISH, QUESTION, CONTEXT)
    for member_id in (english, unknown):
        [message] = await _outbox(database, member_id)
        assert message.text is not None
        assert message.text.startswith("A question from researchers")
        assert "español" not in message.text

    # She answers the English question in Spanish: her replies are Spanish, her answer is kept
    # in Spanish and noted as Spanish.
    await chat.say("mamá-2", f"/answer_{question_id}", "es")
    await chat.say("mamá-2", f"/consent_{question_id}", "es")
    saved, _share = await chat.say("mamá-2", "Me ayuda hablar con otras mamás del grupo.", "es")
    assert saved.text.startswith("Gracias por compartir")
    # An English-speaking mother answers in English; noted as English.
    await chat.say("mom-2", f"/answer_{question_id}", "en")
    await chat.say("mom-2", f"/consent_{question_id}", "en")
    saved_en, _ = await chat.say("mom-2", "Talking with other moms in my group helps me.", "en")
    assert saved_en.text.startswith("Thank you for sharing") and saved_en.language == "en"
    async with database.sessions() as session:
        rows = (
            await session.execute(
                select(ResearchAnswer.member_id, ResearchAnswer.language, ResearchAnswer.text)
            )
        ).all()
    assert {(m, lang) for m, lang, _ in rows} == {(spanish, "es"), (english, "en")}
    assert "Me ayuda hablar con otras mamás del grupo." in {t for _, _, t in rows}


async def test_her_stored_language_answers_when_the_message_has_none(database: Database) -> None:
    """The gateway sets the message's language; if it has not (yet), her stored one is used."""
    chat = Chat(database)
    await _set_language(database, "mamá-4", "es")
    [reply] = await chat.say("mamá-4", "/research_library", None)
    assert reply.language == "es" and reply.text.startswith("Research 101 apenas")
    [reply] = await chat.say("mamá-4", "/ask", "es")
    assert reply.text.startswith("¿Qué te gustaría preguntarles")
    [draft] = await chat.say("mamá-4", "¿Cómo deciden qué estudiar?", "es")
    assert draft.text == (
        "Los investigadores leerán esto, sin tu nombre ni nada que te identifique:\n\n"
        "“¿Cómo deciden qué estudiar?”\n\n¿La envío?"
    )
    [send, drop] = draft.buttons
    assert (send.title, drop.title) == ("Sí, enviarla", "No enviarla")
    [reply] = await chat.say("mamá-4", send.payload, "es")
    assert reply.text.startswith("Gracias, tu pregunta va en camino")
    [reply] = await chat.say("mamá-4", drop.payload, "es")
    assert reply.text.startswith("Esa pregunta ya les llegó a los investigadores")
    [reply] = await chat.say("mamá-4", "/cancel", "es")
    assert reply.text == "Listo, cancelado. No se guardó nada."
    # The message's own language comes first.
    [reply] = await chat.say("mamá-4", "/research_library", "en")
    assert reply.language == "en" and reply.text.startswith("Research 101 is just")


async def test_her_draft_question_dropped_and_pressed_again_in_spanish(database: Database) -> None:
    """What she is shown before anything is sent, and every answer to its buttons, in Spanish."""
    chat = Chat(database)
    await _set_language(database, "mamá-6", "es")
    [draft] = await chat.say("mamá-6", "/ask Me llamo Ana López. ¿Pagan por participar?", "es")
    assert draft.language == "es"
    assert draft.text.startswith("Los investigadores leerán esto, sin tu nombre")
    assert draft.text.endswith("¿La envío?")
    assert "Ana" not in draft.text and "López" not in draft.text
    assert "¿Pagan por participar?”" in draft.text
    send, drop = (button.payload for button in draft.buttons)
    [other] = await chat.say("mamá-7", send, "es")
    assert other.text.startswith("No hay ninguna pregunta tuya sin enviar con ese número")
    [dropped] = await chat.say("mamá-6", drop, "es")
    assert dropped.text.startswith("Listo, no la envié y ya la borré.")
    [again] = await chat.say("mamá-6", send, "es")
    assert again.text.startswith("No hay ninguna pregunta tuya sin enviar con ese número")
    async with database.transaction() as session:
        assert await mq.list_by_status(session, ("draft", "queued")) == []


async def test_a_researchers_answer_reaches_her_in_spanish_and_research_101_reads_spanish(
    database: Database,
) -> None:
    chat = Chat(database)
    member_id = await _set_language(database, "mamá-5", "es")
    [draft] = await chat.say("mamá-5", "/ask ¿Cómo deciden qué estudiar?", "es")
    async with database.transaction() as session:
        assert await mq.list_by_status(session, ("queued",)) == []
    await chat.say("mamá-5", draft.buttons[0].payload, "es")
    async with database.transaction() as session:
        [asked] = await mq.list_by_status(session, ("queued",))
        await mq.answer(session, asked.id, "Rae", "Buscamos lo que todavía no se sabe.")
        await mq.approve_answer(session, asked.id, "mia")
    [message] = await _outbox(database, member_id)
    assert message.text is not None
    assert message.text.startswith("Alguien del equipo de investigación respondió tu pregunta")
    assert "“¿Cómo deciden qué estudiar?”" in message.text
    assert [b["title"] for b in message.buttons or []] == [
        "Sí, compartirla",
        "No, mantenerla privada",
    ]
    [yes] = await chat.say("mamá-5", f"/library_yes_{asked.id}", "es")
    assert yes.text.startswith("¡Gracias! Tu pregunta")
    [library] = await chat.say("mamá-5", "/research_library", "es")
    assert library.text.startswith("Research 101: preguntas que las mamás")
    assert "\nP: ¿Cómo deciden qué estudiar?\nR: Buscamos lo que todavía no se sabe." in (
        library.text
    )


async def test_the_spanish_version_needs_its_context_and_can_be_added_after_publication(
    database: Database,
) -> None:
    question_id = await _approved_question(database)
    async with database.transaction() as session:
        with pytest.raises(QuestionConflict, match="context in Spanish"):
            await set_spanish(session, question_id, QUESTION_ES, "")
    async with database.transaction() as session:
        await fan_out_due(session, (), utcnow())  # published
        question = await set_spanish(session, question_id, QUESTION_ES, CONTEXT_ES)
        assert (question.text_es, question.context_es) == (QUESTION_ES, CONTEXT_ES)
        post = community_post_text(question)
    english, spanish = post.split("\n\nEn español:\n\n")
    assert QUESTION in english and f"/answer_{question_id}" in english
    assert QUESTION_ES in spanish and f"envíame /answer_{question_id}" in spanish
    async with database.transaction() as session:
        question = await set_spanish(session, question_id, "", "")
        assert (question.text_es, question.context_es) == (None, None)
        assert "En español" not in community_post_text(question)


# -- de-identification of Spanish answers ----------------------------------------------------


@pytest.mark.parametrize(
    ("words", "gone", "kept"),
    [
        ("Me llamo Ana López y mi hijo se llama José.", ["Ana", "López", "José", "é"],
         ["Me llamo", "mi hijo"]),
        ("Mi nombre es María José, vivo en Querétaro.", ["María", "José", "Querétaro", "étaro"],
         ["vivo en"]),
        ("Soy Ana.", ["Ana"], ["Soy"]),
        ("Mi consejera Rocío me ayudó en la Clínica San José de Dayton.",
         ["Rocío", "San José", "Dayton"], ["me ayudó"]),
        ("La Dra. Martínez y la Sra. Gómez del Centro de Salud Esperanza",
         ["Martínez", "Gómez", "Esperanza"], []),
        ("Nació el 5 de enero de 2024 y vivimos en Toledo, Ohio.",
         ["5 de enero", "2024", "Toledo", "Ohio"], ["Nació"]),
        ("Soy de Puebla y me mudé a Nueva York.", ["Puebla", "Nueva York"], ["me mudé a"]),
        ("Vivo en el condado de Montgomery.", ["Montgomery"], ["condado de"]),
        ("Mi dirección es Calle Olmo 42, apartamento 3B.", ["Olmo", "42", "3B"], []),
        ("Mi esposo Andrés y mi bebé Sofía están bien.", ["Andrés", "Sofía"], ["están bien"]),
        ("Gracias por preguntar.\nSaludos, Lucía", ["Lucía"], ["Gracias por preguntar"]),
        ("Estoy con metadona desde Marzo y voy al grupo en Navidad.", [],
         ["metadona desde Marzo", "en Navidad"]),
        ("El departamento de servicios sociales me ayudó.", [], ["departamento de servicios"]),
        ("Voy a la clínica San José cada mañana.", ["San José"], ["cada mañana"]),
        ("El programa WIC y el programa de Suboxone me ayudan.", [],
         ["programa WIC", "programa de Suboxone"]),
    ],
)  # fmt: skip
def test_deidentify_spanish(words: str, gone: list[str], kept: list[str]) -> None:
    result = deidentify(words)
    for part in gone:
        assert part not in result, result
    for part in kept:
        assert part in result, result


# -- migration 0018 --------------------------------------------------------------------------


async def test_migration_0018_upgrades_and_downgrades_keeping_rows(
    database_url: str,
) -> None:
    database = Database.connect(database_url)
    try:
        chat = Chat(database)
        await _set_language(database, "mamá-6", "es")
        await chat.say("mamá-6", "/optin_questions", "es")
        question_id = await _approved_question(database, QUESTION_ES, CONTEXT_ES)
        async with database.transaction() as session:
            await fan_out_due(session, (), utcnow())
        async with database.transaction() as session:
            member = await session.scalar(select(Member).where(Member.language == "es"))
            assert member is not None
            session.add(
                ResearchAnswer(
                    question_id=question_id, member_id=member.id, text="Me ayuda.",
                    language="es", share_consent=True,
                )
            )  # fmt: skip
            await session.flush()
            answer_id = await session.scalar(select(ResearchAnswer.id))
            session.add(
                MothersLibraryEntry(
                    answer_id=answer_id, question_id=question_id, text="Me ayuda.",
                    theme="apoyo", added_by="mia",
                )
            )  # fmt: skip
    finally:
        await database.dispose()

    config = alembic_config(database_url)
    engine = create_engine(sync_database_url(database_url))

    def columns(table: str) -> set[str]:
        with engine.connect() as connection:
            return {c["name"] for c in inspect(connection).get_columns(table)}

    def count(table: str) -> int:
        with engine.connect() as connection:
            return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())

    try:
        command.downgrade(config, "0017")
        assert not {"text_es", "context_es"} & columns("research_questions")
        assert "language" not in columns("research_answers")
        # Nothing else went with the columns (the recreated tables keep their rows).
        kept = ("research_questions", "research_answers", "mothers_library")
        assert [count(table) for table in kept] == [1, 1, 1]
        command.upgrade(config, "head")
        assert {"text_es", "context_es"} <= columns("research_questions")
        assert "language" in columns("research_answers")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT text_es FROM research_questions")).all() == [
                (None,)
            ]
    finally:
        engine.dispose()


async def test_my_data_says_her_answers_keep_their_language(database: Database) -> None:
    from community.my_data import describe, my_data
    from community.research.answers import store_answer

    member_id = await _set_language(database, "mamá-7", "es")
    question_id = await _approved_question(database, QUESTION_ES, CONTEXT_ES)
    async with database.transaction() as session:
        await store_answer(session, question_id, member_id, "Me ayuda mi grupo.", "es")
    async with database.sessions() as session:
        member = await session.get(Member, member_id)
        assert member is not None
        summary = describe(await my_data(session, member))
    assert "answers to researchers' questions: 1" in summary
    assert "in the language you wrote them" in summary


async def test_the_seed_questions_come_with_spanish_versions_for_review(
    database: Database,
) -> None:
    from community.research.mothers101 import seed

    async with database.transaction() as session:
        await add_staff(session, "semilla", "researcher")
    async with database.transaction() as session:
        numbers = await seed(session, "semilla")
    async with database.sessions() as session:
        questions = [await session.get(ResearchQuestion, n) for n in numbers]
    assert [q.status for q in questions if q] == ["submitted", "submitted"]
    spanish = [q.text_es or "" for q in questions if q]
    assert "trastorno por consumo de opioides" in spanish[0]
    assert spanish[1].startswith("Si participas en un proyecto de investigación")
    assert all(q and q.context_es for q in questions)
    assert not any(STIGMA_ES.search(words) for words in spanish)


async def test_the_chat_homes_say_whether_a_question_has_a_spanish_version(
    database: Database,
) -> None:
    from bots import research_review
    from bots.command_grammar import ModeratorCall, Values

    async with database.transaction() as session:
        await add_staff(session, "revisora", "researcher")
    async with database.transaction() as session:
        from community.research.mothers101 import seed

        first, second = await seed(session, "revisora")
        question = await session.get(ResearchQuestion, second)
        assert question is not None
        question.text_es = question.context_es = None
    call = ModeratorCall(database, "tg:1", "Mia")
    listing = await research_review.questions(call, Values({}))
    assert "In Spanish: ¿Qué te hace sentir cómoda" in listing
    assert research_review.NO_SPANISH in listing
    approved = await research_review.approve(call, Values({"number": first, "words": ""}))
    assert "Mothers will see:" in approved and "In Spanish: ¿Qué te hace sentir" in approved


async def test_a_chat_home_adds_and_removes_a_spanish_version(database: Database) -> None:
    from bots import research_review
    from bots.command_grammar import ModeratorCall, Values

    question_id = await _approved_question(database)
    call = ModeratorCall(database, "tg:1", "Mia")
    words = f"{QUESTION_ES} {research_review.SPANISH_SEPARATOR} {CONTEXT_ES}"
    saved = await research_review.spanish(call, Values({"number": question_id, "words": words}))
    assert f"In Spanish: {QUESTION_ES}" in saved
    async with database.transaction() as session:
        question = await session.get(ResearchQuestion, question_id)
        assert question is not None
        assert (question.text_es, question.context_es) == (QUESTION_ES, CONTEXT_ES)
    # The question has a context: a Spanish question alone is refused, as in the console.
    alone = await research_review.spanish(call, Values({"number": question_id, "words": "¿Y?"}))
    assert "context in Spanish" in alone
    removed = await research_review.spanish(call, Values({"number": question_id, "words": "-"}))
    assert research_review.NO_SPANISH in removed
    async with database.transaction() as session:
        question = await session.get(ResearchQuestion, question_id)
        assert question is not None and question.text_es is None
    missing = await research_review.spanish(call, Values({"number": 999, "words": words}))
    assert missing == "There is no number 999."
