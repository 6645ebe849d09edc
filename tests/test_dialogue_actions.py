"""The conversation actions (actions/dialogue.py, actions/resources.py): which topic answers a
follow-up, her state in a reply, asking for it once, and the "Did you mean" options; in English
and in Spanish (the `language` slot), run directly on a tracker, without Rasa."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.dialogue import (
    ActionAskAffirmation,
    ActionClarify,
    ActionFollowUp,
    clarify_buttons,
    clarify_options,
    feeling_response,
    follow_up_topic,
    gives_her_state,
    is_follow_up_in_context,
    medication_named_in,
    refers_back,
)
from actions.resources import (
    ASK_STATE,
    ActionFindHelp,
    asks_more_than_her_state,
    asks_where_in_a_state,
    find_help_text,
    state_in_reply,
)
from actions.wording import say, title
from community.resources import Resource, ResourceDirectory, load_directory, state_named_in


def test_a_follow_up_is_read_against_the_topic_she_is_on() -> None:
    assert follow_up_topic("faq_nas", "how long does it last") == "faq_nas"
    assert follow_up_topic("faq_cps", "what about if its only methadone") == "faq_cps"
    assert follow_up_topic("faq_methadone", "and in pregnancy?") == "faq_moud_pregnancy"
    assert follow_up_topic("faq_methadone", "can i breastfeed on it") == "faq_breastfeeding"
    assert follow_up_topic("faq_drug_testing", "can i stay with him") == "faq_nas"
    assert follow_up_topic("faq_moud", "what about subs") == "faq_buprenorphine"
    assert follow_up_topic("faq_moud", "and the done?") == "faq_methadone"
    assert follow_up_topic(None, "how long does it last") is None


def test_the_medication_she_names_is_a_detail_kept() -> None:
    assert medication_named_in("what if its just the done") == "methadone"
    assert medication_named_in("im on bupe") == "buprenorphine"
    assert medication_named_in("how long does it last") is None


def test_her_state_is_understood_in_a_reply() -> None:
    for text, code in (
        ("ohio", "OH"), ("OH", "OH"), ("oh", "OH"), ("in kentucky", "KY"), ("ky", "KY"),
        ("i'm in new york city", "NY"), ("im in west virginia", "WV"),
        ("i'm in nyc", "NY"), ("im in philly", "PA"), ("in oh", "OH"), ("in OR", "OR"),
    ):  # fmt: skip
        assert state_in_reply(text) == code, text
    # Words that are also state codes are not a state in lower case ("in" is not Indiana).
    for text in ("/inform_state", "ok", "in", "me", "i live in me", "hi"):
        assert state_in_reply(text) is None, text


def test_a_local_need_asks_for_her_state_once() -> None:
    directory = load_directory()
    assert find_help_text("help_housing", "i need help finding housing", directory) == ASK_STATE
    assert "Which state are you in?" in ASK_STATE
    ohio = find_help_text("help_housing", "i need housing in ohio", directory)
    assert "Ohio" in ohio and "211" in ohio
    remembered = find_help_text("help_housing", "i need housing", directory, state="OH")
    assert remembered == ohio
    not_asked_again = find_help_text("help_housing", "", directory, ask=False)
    assert not_asked_again != ASK_STATE
    # Safety at home never waits on a question.
    assert find_help_text("help_violence", "he hits me", directory) != ASK_STATE


def test_a_ride_gets_rides_not_crisis_lines() -> None:
    directory = load_directory()
    reply = find_help_text(
        "inform_state", "", directory, state="KY", topics=["transportation"], ask=False
    )
    assert "Kentucky" in reply and "211" in reply
    assert directory.get("lifeline_988").contact_line() not in reply


def test_did_you_mean_offers_the_two_best_topics() -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.6},
        {"name": "faq_test_strips", "confidence": 0.2},
        {"name": "greet", "confidence": 0.19},
        {"name": "faq_buprenorphine", "confidence": 0.18},
        {"name": "faq_nas", "confidence": 0.1},
    ]
    assert clarify_options(ranking) == ["faq_test_strips", "faq_buprenorphine"]


def test_unsure_between_a_follow_up_and_a_topic_the_conversation_decides() -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.9},
        {"name": "faq_nas", "confidence": 0.2},
        {"name": "follow_up", "confidence": 0.19},
    ]
    assert is_follow_up_in_context(ranking, "faq_nas")
    assert not is_follow_up_in_context(ranking, None), "with no topic, it asks"
    assert not is_follow_up_in_context(ranking[:2], "faq_nas")


def test_a_general_request_for_help_gets_the_24_7_lines_at_once() -> None:
    directory = load_directory()
    reply = find_help_text("help_resources", "where can i find help", directory)
    assert reply != ASK_STATE
    assert directory.get("lifeline_988").contact_line() in reply
    assert find_help_text("help_resources", "i need a daycare", directory) == ASK_STATE


# --- In Spanish -------------------------------------------------------------------------------


def _tracker(intent: str, text: str, language: str | None = "es", **slots: object) -> Tracker:
    latest = {
        "intent": {"name": intent, "confidence": 0.9},
        "text": text,
        "entities": [],
        "intent_ranking": slots.pop("ranking", []),
    }
    filled = {**slots, **({"language": language} if language else {})}
    return Tracker("someone", filled, latest, [], False, None, {}, "action_listen")


async def _run(action: Action, tracker: Tracker) -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    await action.run(dispatcher, tracker, {})
    return dispatcher.messages


def test_spanish_follow_ups_move_to_the_neighbouring_topic() -> None:
    for topic, text, expected in (
        ("faq_methadone", "y si estoy embarazada?", "faq_moud_pregnancy"),
        ("faq_buprenorphine", "y estando en estado?", "faq_moud_pregnancy"),
        ("faq_moud", "y antes del parto?", "faq_moud_pregnancy"),
        ("faq_methadone", "puedo amamantar con eso", "faq_breastfeeding"),
        ("faq_moud_pregnancy", "y puedo dar pecho?", "faq_breastfeeding"),
        ("faq_nas", "y la lactancia?", "faq_breastfeeding"),
        ("faq_drug_testing", "me puedo quedar con el? quiero quedarme con el", "faq_nas"),
        ("faq_hospital_stigma", "tienen alojamiento conjunto?", "faq_nas"),
        ("faq_moud", "y la metadona?", "faq_methadone"),
        ("faq_moud_compare", "y si es solo la done", "faq_methadone"),
        ("faq_moud", "y el sub?", "faq_buprenorphine"),
        ("faq_methadone", "y el suboxone", "faq_buprenorphine"),
        ("faq_moud", "y la bupe", "faq_buprenorphine"),
        ("faq_methadone", "y la buprenorfina?", "faq_buprenorphine"),
        ("faq_nas", "cuanto dura?", "faq_nas"),
    ):
        assert follow_up_topic(topic, text) == expected, text
    assert medication_named_in("solo tomo metadona") == "methadone"
    assert medication_named_in("estoy con el sub") == "buprenorphine"
    assert medication_named_in("cuanto dura") is None


def test_her_state_is_understood_in_spanish() -> None:
    for text, code in (
        ("Nueva York", "NY"), ("vivo en carolina del norte", "NC"), ("en nuevo mexico", "NM"),
        ("estoy en Nuevo México", "NM"), ("Pensilvania", "PA"), ("luisiana", "LA"),
        ("misisipi", "MS"), ("Misuri", "MO"), ("hawai", "HI"), ("Hawái", "HI"),
        ("virginia occidental", "WV"), ("Dakota del Sur", "SD"), ("ohio", "OH"),
        ("tx", "TX"), ("en ky", "KY"), ("estoy en OH", "OH"), ("la", "LA"),
        ("i'm in new york city", "NY"),
    ):  # fmt: skip
        assert state_in_reply(text, "es") == code, text
    # Everyday Spanish words that are also state codes are not her state.
    for text in ("vivo en mi casa", "estoy en la casa de mi mamá", "oh no, no se", "me va mal"):
        assert state_in_reply(text, "es") is None, text
        assert state_named_in(text, "es") is None, text
    assert state_named_in("necesito vivienda en Nueva York", "es") == "NY"
    assert state_named_in("vivo en la montaña") is None, "montaña is not Montana"


def test_the_finder_answers_in_spanish_with_spanish_speaking_services_first() -> None:
    directory = load_directory()
    ask = find_help_text("help_housing", "necesito ayuda con la vivienda", directory, language="es")
    assert ask == ASK_STATE, "asking is a response, worded in Spanish by Rasa"
    reply = find_help_text(
        "help_housing", "necesito vivienda en Ohio", directory, language="es"
    ).splitlines()
    assert reply[0].startswith("Todavía no tengo servicios locales revisados para Ohio")
    assert "de vivienda" in reply[0] and "211" in reply[0]
    assert reply[1:] == [f"• {r.contact_line('es')}" for r in _listed(directory, reply)]
    nueva_york = find_help_text("help_housing", "en nueva york", directory, language="es")
    assert "Nueva York" in nueva_york and "New York" not in nueva_york
    # A general request in Spanish is read from its words, and asks for her state.
    general = "necesito ayuda con la renta"
    assert find_help_text("help_resources", general, directory, language="es") == ASK_STATE
    # In Spanish, services that answer in Spanish come first.
    for topics in (["overdose"], ["harm_reduction", "overdose"], ["peer_support"], ["treatment"]):
        found = directory.for_topics(topics, language="es")
        spanish = [r.answers_in_spanish for r in found]
        assert spanish == sorted(spanish, reverse=True), (topics, [r.id for r in found])
    english = directory.for_topics(["harm_reduction", "overdose"])
    assert english[0].id == "never_use_alone", "English order unchanged"
    assert directory.for_topics(["harm_reduction", "overdose"], language="es")[-1].id == (
        "never_use_alone"
    )


def _listed(directory: ResourceDirectory, lines: list[str]) -> list[Resource]:
    """The entries a finder reply lists, by their Spanish line."""
    by_line = {f"• {r.contact_line('es')}": r for r in directory.resources}
    return [by_line[line] for line in lines[1:] if line in by_line]


def test_safety_at_home_in_spanish_is_discreet() -> None:
    directory = load_directory()
    reply = find_help_text("help_violence", "mi pareja me pega", directory, language="es")
    assert reply.startswith("Si es seguro hablar") and "911" in reply
    assert "1-800-799-7233" in reply and "Una línea de ayuda confidencial" in reply
    assert "Violencia Doméstica" not in reply and "Domestic Violence" not in reply


async def test_the_actions_write_in_her_language() -> None:
    directory = load_directory()
    # Asking for her state: the response, which Rasa words in her language.
    (asked,) = await _run(ActionFindHelp(), _tracker("help_housing", "necesito vivienda"))
    assert asked["response"] == "utter_ask_state" and not asked["text"]
    # Her state in Spanish, after the question: the list in Spanish, with a Spanish button.
    after = _tracker("inform_state", "estoy en Kentucky", need="help_transportation")
    (listed,) = await _run(ActionFindHelp(), after)
    assert listed["text"].startswith("Todavía no tengo servicios locales revisados para Kentucky")
    assert "transporte" in listed["text"]
    assert listed["buttons"] == [{"title": "Hablar con una persona", "payload": "/request_human"}]
    assert directory.get("help_211").contact_line("es") in listed["text"]
    # The same in English, without the slot or with "en".
    for language in (None, "en"):
        tracker = _tracker("inform_state", "in Kentucky", language, need="help_transportation")
        (english,) = await _run(ActionFindHelp(), tracker)
        assert english["text"].startswith("I don't have checked local services for Kentucky")
        assert english["buttons"] == [{"title": "Talk to a person", "payload": "/request_human"}]
    # A follow-up answers with the topic's response (Rasa picks its Spanish variation).
    follow = _tracker("follow_up", "y si estoy embarazada?", topic="faq_methadone")
    (answer,) = await _run(ActionFollowUp(), follow)
    assert answer["response"] == "utter_faq_moud_pregnancy"


async def test_did_you_mean_is_asked_in_her_language() -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.6},
        {"name": "faq_test_strips", "confidence": 0.2},
        {"name": "faq_buprenorphine", "confidence": 0.18},
    ]
    (spanish,) = await _run(
        ActionAskAffirmation(), _tracker("nlu_fallback", "tiras", ranking=ranking)
    )
    assert spanish["response"] == "utter_ask_affirmation"
    assert [b["title"] for b in spanish["buttons"]] == [
        "Tiras de prueba", "Buprenorfina (el sub)", "Otra cosa",
    ]  # fmt: skip
    assert [b["payload"] for b in spanish["buttons"]] == [
        "/faq_test_strips", "/faq_buprenorphine", "/out_of_scope",
    ]  # fmt: skip
    (english,) = await _run(
        ActionAskAffirmation(), _tracker("nlu_fallback", "strips", None, ranking=ranking)
    )
    assert [b["title"] for b in english["buttons"]] == [
        "Test strips", "Buprenorphine (subs)", "Something else",
    ]  # fmt: skip


def test_every_did_you_mean_topic_has_a_title_in_each_language() -> None:
    for intent in ("faq_moud", "faq_nas", "help_housing", "request_human", "help"):
        assert title(intent, "en") and title(intent, "es"), intent
        assert title(intent, "es") != title(intent, "en"), intent
    assert title("greet", "es") is None
    assert clarify_buttons([], "es") == [{"title": "Otra cosa", "payload": "/out_of_scope"}]
    assert say("finder.for_topic", "es", label="vivienda") == (
        "Para vivienda, estos servicios te pueden ayudar:"
    )


async def test_a_follow_up_with_nothing_to_follow_asks_which_she_means() -> None:
    """ "is it safe for the baby" as her first question: the classifier reads a follow-up, and
    no topic says what "it" is. A clear best topic answers; a guess becomes "Did you mean?"."""
    vague = [
        {"name": "follow_up", "confidence": 0.63},
        {"name": "faq_moud_pregnancy", "confidence": 0.22},
        {"name": "thanks", "confidence": 0.05},
        {"name": "faq_taper_pregnancy", "confidence": 0.03},
        {"name": "faq_breastfeeding", "confidence": 0.02},
        {"name": "faq_nas", "confidence": 0.01},
    ]
    tracker = _tracker("follow_up", "is it safe for the baby", None, ranking=vague)
    (asked,) = await _run(ActionFollowUp(), tracker)
    assert asked["response"] == "utter_ask_affirmation"
    assert [b["payload"] for b in asked["buttons"]] == [
        "/faq_moud_pregnancy", "/faq_taper_pregnancy", "/faq_breastfeeding", "/out_of_scope",
    ]  # fmt: skip
    clear = [
        {"name": "follow_up", "confidence": 0.5},
        {"name": "faq_naloxone", "confidence": 0.4},
        {"name": "faq_test_strips", "confidence": 0.05},
    ]
    tracker = _tracker("follow_up", "where do i get it, the narcan", None, ranking=clear)
    (answered,) = await _run(ActionFollowUp(), tracker)
    assert answered["response"] == "utter_faq_naloxone"
    # With a topic, the conversation says what "it" is: no question.
    on_topic = _tracker(
        "follow_up", "is it safe for the baby", topic="faq_methadone", ranking=vague
    )
    (answer,) = await _run(ActionFollowUp(), on_topic)
    assert answer["response"] == "utter_faq_methadone"


def test_switching_medication_after_a_medication_answer_is_the_comparison() -> None:
    assert follow_up_topic("faq_moud_compare", "so should i switch to subs then") == (
        "faq_moud_compare"
    )
    assert follow_up_topic("faq_methadone", "thinking of changing to bupe") == "faq_moud_compare"
    assert follow_up_topic("faq_methadone", "y si me quiero cambiar al sub?") == "faq_moud_compare"
    assert follow_up_topic("faq_methadone", "what about subs") == "faq_buprenorphine"
    assert follow_up_topic("faq_cps", "should i switch to subs") == "faq_cps"


async def test_a_state_she_named_earlier_is_used_without_asking() -> None:
    events = [
        {"event": "session_started"},
        {"event": "user", "text": "im in massachusetts and pregnant w my 2nd"},
        {"event": "bot", "text": "..."},
        {"event": "user", "text": "is there help with childcare for my toddler"},
    ]
    latest = {
        "intent": {"name": "help_childcare", "confidence": 0.9},
        "text": "is there help with childcare for my toddler",
        "entities": [],
    }
    tracker = Tracker("someone", {}, latest, events, False, None, {}, "action_listen")
    (reply,) = await _run(ActionFindHelp(), tracker)
    assert "Massachusetts" in reply["text"] and "211" in reply["text"]
    # What came before the session started is not hers to carry over.
    old = [{"event": "user", "text": "i live in ohio"}, *events]
    tracker = Tracker("someone", {}, latest, old[:1] + events, False, None, {}, "action_listen")
    (reply,) = await _run(ActionFindHelp(), tracker)
    assert "Ohio" not in str(reply.get("text"))


# --- Her state in a question, near her, misspelled; what a word leaves open -------------------


def test_a_misspelled_state_is_understood_in_a_reply_or_a_request() -> None:
    for text, code in (
        ("tennesee", "TN"), ("missisippi", "MS"), ("im in conneticut", "CT"),
        ("kentuky", "KY"), ("we're in pensylvania", "PA"),
        ("we're in pensylvania, is there anything for housing?", "PA"),
    ):  # fmt: skip
        assert state_in_reply(text) == code, text
    directory = load_directory()
    for text, state in (
        ("is there anything for rent help in conneticut", "Connecticut"),
        ("where can she find treatment in massachusets", "Massachusetts"),
    ):
        reply = find_help_text("help_housing", text, directory)
        assert reply != ASK_STATE and state in reply, text
    # A short name as a reply, a code after a comma at the end, a city.
    for text, code in (("mass", "MA"), ("in cali", "CA"), ("we're in spokane", "WA")):
        assert state_in_reply(text) == code, text
    assert state_named_in("is there childcare help for single moms, nj") == "NJ"
    assert state_named_in("i go to mass on sundays and need a ride to church") is None
    # Ordinary words are not taken for a state.
    for text in ("indian", "im so tired", "my daughter goes to kindergarten in the fall now"):
        assert state_in_reply(text) is None, text


def test_a_question_that_names_a_state_is_more_than_her_state() -> None:
    for text in (
        "is it the same in florida",
        "are they legal in tennessee",
        "y en texas es igual?",
    ):
        assert asks_more_than_her_state(text), text
    for text in ("ohio", "i'm in ohio", "what about in pa", "estoy en texas", "y en KY?"):
        assert not asks_more_than_her_state(text), text
    assert state_in_reply("what about in pa") == "PA"
    assert state_in_reply("y en la clinica?", "es") is None
    assert asks_where_in_a_state("where can i get it in ohio")
    assert not asks_where_in_a_state("where can i get it")
    assert not asks_where_in_a_state("are they legal in ohio")


def test_help_near_her_waits_on_her_state() -> None:
    directory = load_directory()
    assert find_help_text("help_resources", "any services near me?", directory) == ASK_STATE
    assert find_help_text("help_resources", "ayuda cerca de mi casa", directory) == ASK_STATE
    near_ohio = find_help_text("help_resources", "help near me in ohio", directory)
    assert "Ohio" in near_ohio


async def test_after_a_topic_with_services_help_means_that_kind_of_help() -> None:
    tracker = _tracker(
        "help_resources", "can you find me some", language="en", topic="faq_peer_support"
    )
    dispatcher = CollectingDispatcher()
    events = await ActionFindHelp().run(dispatcher, tracker, {})
    assert dispatcher.messages[0].get("response") == "utter_ask_state"
    assert {
        "event": "slot",
        "timestamp": None,
        "name": "need",
        "value": "faq_peer_support",
    } in events


async def test_a_clarify_offers_the_topics_the_policy_chose() -> None:
    tracker = _tracker(
        "faq_test_strips", "how do the strips work", language="en",
        clarify_options=["faq_test_strips", "faq_buprenorphine", "delete_my_data"],
    )  # fmt: skip
    dispatcher = CollectingDispatcher()
    events = await ActionClarify().run(dispatcher, tracker, {})
    (message,) = dispatcher.messages
    assert message["response"] == "utter_ask_affirmation"
    payloads = [b["payload"] for b in message["buttons"]]
    # Deleting her data is never a button offered on a guess.
    assert payloads == ["/faq_test_strips", "/faq_buprenorphine", "/out_of_scope"]
    # Asking settles nothing: the topic stays what it was before (none here).
    assert events == [
        {"event": "slot", "timestamp": None, "name": "clarify_options", "value": None},
        {"event": "slot", "timestamp": None, "name": "topic", "value": None},
    ]


async def test_unsure_but_most_likely_a_feeling_is_acknowledged() -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.25},
        {"name": "feeling_low", "confidence": 0.35},
        {"name": "faq_nas", "confidence": 0.31},
    ]
    tracker = _tracker("nlu_fallback", "long night 😮‍💨", language="en", ranking=ranking)
    messages = await _run(ActionAskAffirmation(), tracker)
    assert messages[0].get("response") == "utter_feeling_low"


def test_every_open_word_offers_topics_with_titles_and_its_patterns_compile() -> None:
    """policies/data/ambiguous_words.yml: each group offers at least two topics that can be
    buttons, in English and Spanish, and its patterns are valid (the policy itself needs Rasa,
    so it is exercised through the stack in tests/test_dialogue_stack.py)."""
    import re

    import yaml

    from actions.dialogue import NEVER_SUGGESTED
    from community.settings import PROJECT_ROOT

    path = PROJECT_ROOT / "policies" / "data" / "ambiguous_words.yml"
    groups = yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
    for name, group in groups.items():
        offered = [t for t in group["topics"] if t not in NEVER_SUGGESTED]
        assert len(offered) >= 2, name
        for topic in offered:
            assert title(topic, "en") and title(topic, "es"), (name, topic)
        for key in ("words", "unless"):
            re.compile(group[key], re.I)


def test_the_cities_the_classifier_knows_are_the_cities_the_finder_reads() -> None:
    import yaml

    from community.resources import CITY_STATES
    from community.settings import PROJECT_ROOT

    nlu = yaml.safe_load((PROJECT_ROOT / "nlu" / "dialogue.yml").read_text(encoding="utf-8"))
    (lookup,) = [b for b in nlu["nlu"] if b.get("lookup") == "us_city"]
    cities = {line.strip()[2:] for line in lookup["examples"].splitlines() if line.strip()}
    assert cities <= set(CITY_STATES)
    # Every city except the ones that carry their state ("lexington ky") or a dot.
    plain = {c for c in CITY_STATES if len(c.split()[-1]) > 2 and c != "columbus ohio"}
    assert plain - {c for c in plain if "." in c} <= cities


def test_a_short_message_that_points_back_follows_the_topic() -> None:
    """ "any online ones?" points back at the groups just described; up to 15 words may."""
    assert refers_back("any online ones? hard to leave the house with a newborn")
    assert refers_back("can any doctor prescribe it or do i need to find like a special one")
    long = "can any doctor prescribe it or do i need to find like a special one around here ok"
    assert len(long.split()) > 15 and not refers_back(long)
    assert not refers_back("also what about online ones")  # she says she moves on
    assert not refers_back("what is mat")  # nothing points back


def test_turning_research_questions_off_is_opting_out() -> None:
    for text in ("can i turn those off", "how do i opt out", "puedo dejar de recibirlas?"):
        assert follow_up_topic("research_opt_in", text) == "research_opt_out", text
    assert follow_up_topic("research_opt_in", "how often do they come") == "research_opt_in"
    assert follow_up_topic("faq_methadone", "can i turn it off") == "faq_methadone"


def test_stopping_or_erasing_after_a_topic_is_read_against_it() -> None:
    assert follow_up_topic("faq_privacy", "ok how do i erase everything then") == "delete_my_data"
    assert follow_up_topic("my_data", "can u delete it") == "delete_my_data"
    assert follow_up_topic("faq_privacy", "who sees it") == "faq_privacy"
    assert follow_up_topic("research_opt_in", "what if i want to stop") == "research_opt_out"
    assert follow_up_topic("faq_methadone", "what if i want to stop") == "faq_taper_pregnancy"
    assert follow_up_topic("faq_methadone", "how long does it take") == "faq_methadone"


def test_her_state_alone_is_where_she_wants_the_services() -> None:
    for text in ("tennesee", "im in ohio", "massachusets", "we live in ohio"):
        assert gives_her_state(text, "en"), text
    assert gives_her_state("where can i get it in ohio", "en")
    for text in ("is it the same in florida", "my sister lives in ohio and has a car", "ok"):
        assert not gives_her_state(text, "en"), text


async def test_her_state_after_a_treatment_answer_lists_treatment_there() -> None:
    tracker = _tracker("follow_up", "tennesee", language="en", topic="faq_moud_pregnancy")
    (reply,) = await _run(ActionFollowUp(), tracker)
    assert "Tennessee" in str(reply.get("text")), reply
    assert reply.get("response") != "utter_faq_moud_pregnancy"
    # After a topic without services, her state is a detail of that topic's answer.
    tracker = _tracker("follow_up", "tennesee", language="en", topic="faq_cps")
    (reply,) = await _run(ActionFollowUp(), tracker)
    assert reply.get("response") == "utter_faq_cps"


def test_feelings_never_get_the_same_answer_twice_in_a_row() -> None:
    said = [feeling_response(heard) for heard in range(7)]
    # The first and the second are utter_feeling_low's two variations (felt_before).
    assert said[:3] == ["utter_feeling_low", "utter_feeling_low", "utter_feeling_low_still"]
    assert all(said[n] != said[n + 1] for n in range(1, 6))
