"""Issue #19's six examples, played through POST /api/chat of the real stack: each gets a
fitting answer in context (the topic she is on, her state, a feeling said twice). Then issue
#20's: with her language sent as the message's metadata (language=es), Rasa answers a topic, a
follow-up, the resource finder and a feeling with their Spanish variations; without it, or with
"en", with the English ones."""

from __future__ import annotations

import uuid
from typing import Any, cast

import httpx
import pytest

from actions.resources import ASK_STATE
from community.resources import expand_resource_refs, load_directory
from tests.conftest import Stack
from tests.test_content import domain
from tests.test_content import language_of as content_language
from tests.test_heldout import domain_texts

pytestmark = pytest.mark.rasa


def chat(client: httpx.Client, *turns: str) -> list[list[dict[str, object]]]:
    user = uuid.uuid4().hex
    played = []
    for turn in turns:
        response = client.post("/api/chat", json={"user": user, "text": turn})
        assert response.status_code == 200, response.text
        played.append(response.json()["replies"])
    return played


def text(replies: list[dict[str, object]]) -> str:
    return "\n".join(str(r.get("text") or "") for r in replies)


def answer(name: str) -> str:
    return expand_resource_refs(domain_texts()[name])


def test_housing_then_her_state(app_client: httpx.Client) -> None:
    first, second = chat(app_client, "i need help finding housing", "i'm in ohio")
    assert text(first) == ASK_STATE
    assert "Ohio" in text(second) and "211" in text(second) and "housing" in text(second)


def test_narcan_then_her_state(app_client: httpx.Client) -> None:
    first, second = chat(app_client, "where can i get narcan", "ohio")
    assert text(first) == answer("utter_faq_naloxone")
    reply = text(second)
    assert "Ohio" in reply and "211" in reply
    assert answer("utter_greet") not in reply


def test_cps_then_only_methadone(app_client: httpx.Client) -> None:
    first, second = chat(app_client, "will cps take my baby", "what about if its only methadone")
    assert text(first) == answer("utter_faq_cps")
    assert text(second) == answer("utter_faq_cps")


def test_nicu_withdrawal_then_how_long(app_client: httpx.Client) -> None:
    first, second = chat(app_client, "my baby has withdrawal in the nicu", "how long does it last")
    assert text(first) == answer("utter_faq_nas")
    assert text(second) == answer("utter_faq_nas")


def test_unsure_of_another_topic_she_is_read_against_hers(app_client: httpx.Client) -> None:
    """policies/topic_continuity.py: a message the classifier reads as another topic, but
    unsurely, is more about the topic she is on; a clear new topic still answers itself."""
    privacy = answer("utter_faq_privacy")
    # Read as "how researchers decide" (about 0.4): after the privacy answer, it is about privacy.
    first, second = chat(app_client, "who can see what i type here", "even the researchers??")
    assert text(first) == privacy and text(second) == privacy
    # Unsure between readings (the FallbackClassifier would ask), privacy among the best three.
    _, unsure = chat(app_client, "who can see what i type here", "do the researchers see it too")
    assert text(unsure) == privacy
    # The same words as her first question: no topic to lean on, so not privacy's answer.
    (alone,) = chat(app_client, "even the researchers??")
    assert text(alone) != privacy
    _, switched = chat(app_client, "who can see what i type here", "whats a plan of safe care")
    assert text(switched) == answer("utter_faq_safe_care")


def test_a_sure_reading_her_words_do_not_name_is_read_against_her_topic(
    app_client: httpx.Client,
) -> None:
    """policies/data/topic_words.yml: the classifier is sure of another topic (family trust
    on "family", privacy on "who"), but the message names none of its words; it points back,
    so it is more about the topic she is on. A message naming the new topic still switches."""
    bupe = answer("utter_faq_buprenorphine")
    _, doc = chat(
        app_client,
        "can my family doctor prescribe bupe",
        "she's just a family practice doc in a small town",
    )
    assert text(doc) == bupe
    _, who = chat(app_client, "what is a plan of safe care", "who do i make that with")
    assert text(who) == answer("utter_faq_safe_care")
    _, named = chat(app_client, "what is a plan of safe care", "can i breastfeed on methadone")
    assert text(named) == answer("utter_faq_breastfeeding")


def test_a_detail_a_condition_or_a_move_after_a_topic(app_client: httpx.Client) -> None:
    """ "sublocade" alone after NAS is NAS on sublocade; "even if ..." after CPS is still CPS;
    "am i talking to an actual person", unsure between moves, is not the topic again."""
    nas = answer("utter_faq_nas")
    _, detail = chat(app_client, "what is nas", "sublocade")
    assert text(detail) == nas
    _, even = chat(
        app_client,
        "is dcs gonna be called when i deliver",
        "even if its only my methadone from the clinic",
    )
    # Her answer first (the screen may add its "are you safe?" check after it).
    assert text(even).startswith(answer("utter_faq_cps"))
    _, person = chat(app_client, "what is nas", "wait am i talking to an actual person rn")
    assert text(person) != nas


def test_out_of_scope_in_the_middle_of_a_topic_follows_it(app_client: httpx.Client) -> None:
    methadone = answer("utter_faq_methadone")
    _, later = chat(
        app_client,
        "how does the methadone clinic work, is it every day",
        "even with a newborn at home?? like forever??",
    )
    assert text(later) == methadone


def test_while_the_finder_waits_what_she_tells_keeps_her_need(app_client: httpx.Client) -> None:
    """Asked for her state, she says more about the need instead ("just found out im pregnant",
    "somewhere that gives take homes"): the finder keeps her need and asks again; a question
    about another topic is answered."""
    for need, more in (
        ("how do i sign up for medicaid", "just found out im pregnant 😬"),
        ("i need a clinic that does mat", "somewhere that gives take homes eventually"),
    ):
        first, second = chat(app_client, need, more)
        assert text(first) == ASK_STATE and text(second) == ASK_STATE, (need, more)
    _, question = chat(app_client, "how do i sign up for medicaid", "what is methadone?")
    assert text(question) == answer("utter_faq_methadone")


def test_a_few_words_naming_two_topics_are_asked_about(app_client: httpx.Client) -> None:
    """ "narcan n strips": two things named, nothing asked about either; both are offered. A
    medication beside a topic only says more about it ("nursing and bupe" is breastfeeding)."""
    _, asked = chat(app_client, "hi", "narcan n strips")
    assert "Did you mean" in text(asked)
    assert {"/faq_naloxone", "/faq_test_strips"} <= set(payloads_of(asked))
    (one,) = chat(app_client, "nursing and bupe?")
    assert text(one) == answer("utter_faq_breastfeeding")


def test_what_happens_at_the_hospital_is_asked_about(app_client: httpx.Client) -> None:
    """With no topic, "what happens at the hospital when i deliver" could be the testing, the
    baby's first days or CPS: she is asked, and asking leaves no topic behind."""
    _, asked = chat(app_client, "hey", "what happens at the hospital when i deliver")
    assert "Did you mean" in text(asked)
    assert {"/faq_drug_testing", "/faq_nas", "/faq_cps"} <= set(payloads_of(asked))


def test_a_vague_first_question_is_asked_about(app_client: httpx.Client) -> None:
    """ "is it safe for the baby" with no topic yet: which "it" is a guess, so she is asked."""
    _, asked = chat(app_client, "hi", "is it safe for the baby")
    assert "Did you mean" in text(asked)
    buttons = [b for r in asked for b in cast(list[dict[str, str]], r.get("buttons") or [])]
    payloads = [b["payload"] for b in buttons]
    assert "/faq_moud_pregnancy" in payloads and payloads[-1] == "/out_of_scope"


def payloads_of(replies: list[dict[str, object]]) -> list[str]:
    buttons = [b for r in replies for b in cast(list[dict[str, str]], r.get("buttons") or [])]
    return [b["payload"] for b in buttons]


@pytest.mark.parametrize(
    ("message", "offered"),
    [
        ("what are strips for", {"/faq_test_strips", "/faq_buprenorphine"}),
        ("tell me about that shot", {"/faq_buprenorphine", "/faq_naloxone"}),
        ("when can i get my results", {"/research_results", "/faq_drug_testing"}),
        ("i want to ask someone something", {"/research_ask", "/request_human"}),
    ],
)
def test_a_word_that_means_two_topics_here_is_asked_about(
    app_client: httpx.Client, message: str, offered: set[str]
) -> None:
    """policies/ambiguous_words.py: however sure the classifier is, "strips" or "the shot" with
    nothing to say which is asked about, with that word's topics as buttons."""
    _, asked = chat(app_client, "hey", message)
    assert "Did you mean" in text(asked)
    assert offered <= set(payloads_of(asked)) and payloads_of(asked)[-1] == "/out_of_scope"


def test_the_words_around_it_or_the_topic_she_is_on_settle_it(app_client: httpx.Client) -> None:
    (settled,) = chat(app_client, "how do fentanyl test strips work")
    assert text(settled) == answer("utter_faq_test_strips")
    _, on_topic = chat(app_client, "how do i use narcan", "and how does the shot work")
    assert text(on_topic) == answer("utter_faq_naloxone")


def test_a_question_naming_a_state_stays_on_her_topic(app_client: httpx.Client) -> None:
    """ "and in texas?" after the answer about CPS asks about CPS there, not for services; a
    bare state after a topic with services, or a question of where, gets them."""
    _, again = chat(app_client, "does the hospital call cps if im on subs", "and what about texas")
    assert text(again) == answer("utter_faq_cps")
    _, where = chat(app_client, "how do i use narcan", "where do i get some in ohio")
    assert "Ohio" in text(where) and "211" in text(where)


def test_her_state_is_heard_however_she_says_it(app_client: httpx.Client) -> None:
    """Asked for her state, a city or a misspelled name is her state, whatever the classifier
    made of it."""
    _, city = chat(app_client, "i need help paying rent", "we live in houston")
    assert "Texas" in text(city) and "211" in text(city)
    _, typo = chat(app_client, "i need help paying rent", "missisippi")
    assert "Mississippi" in text(typo) and "211" in text(typo)


def test_help_near_her_asks_where_she_is(app_client: httpx.Client) -> None:
    (near,) = chat(app_client, "is there any help near me")
    assert text(near) == ASK_STATE
    _, after_topic = chat(app_client, "what is a peer recovery coach", "can you find me one")
    assert text(after_topic) == ASK_STATE


def test_research_follow_ups_and_moving_on(app_client: httpx.Client) -> None:
    """After the answer about joining a study, "what they found" is about results; a message
    that says it moves on ("also ...") gets the new topic's answer, not the old one's."""
    _, found = chat(app_client, "how do i join a study", "do they tell us what they found after")
    assert text(found) == answer("utter_research_results")
    _, moved = chat(app_client, "how do i join a study", "also what is mat")
    assert text(moved) == answer("utter_faq_moud")


def test_her_data_is_a_topic_a_follow_up_points_back_to(app_client: httpx.Client) -> None:
    """After "what do you keep about me" (the app's answer), "can i see it" is her data again,
    not "Did you mean ...?"."""
    first, again = chat(app_client, "what do you guys keep about me", "ok can i see it")
    assert text(first).startswith("Here is what peerbot keeps about you")
    assert text(again).startswith("Here is what peerbot keeps about you")


def test_services_for_the_topic_she_is_on(app_client: httpx.Client) -> None:
    """ "any services for that near me" after a topic with services waits on her state (for
    naloxone it would not: overdose services never wait on a question)."""
    _, asked = chat(app_client, "what are support groups like", "any services for that near me")
    assert text(asked) == ASK_STATE


def test_a_ride_then_her_state_gets_rides_not_crisis_lines(app_client: httpx.Client) -> None:
    first, second = chat(
        app_client, "how do i get to my clinic, i dont have a car", "i'm in kentucky"
    )
    assert text(first) == ASK_STATE
    reply = text(second)
    assert "Kentucky" in reply and "211" in reply
    lifeline = load_directory().get("lifeline_988").contact_line()
    assert lifeline not in reply


def test_feelings_without_words_and_the_same_feeling_twice(app_client: httpx.Client) -> None:
    (crying,) = chat(app_client, "😭😭😭")
    assert text(crying) != answer("utter_greet")
    assert any(r.get("buttons") for r in crying), "an offer comes with it"
    first, second = chat(app_client, "i feel so alone", "nobody gets it")
    assert text(first) == answer("utter_feeling_alone")
    assert text(second) != text(first)
    assert any(r.get("buttons") for r in second)


# --- Her language, through Rasa's own REST webhook (issue #20) --------------------------------
# The gateway sends her language as the message's metadata; these speak to the stack's Rasa
# server directly, as the gateway does, so each answer is the variation Rasa itself chose.


def rasa_chat(
    stack: Stack, *turns: str, language: str | None = "es", user: str | None = None
) -> list[list[dict[str, Any]]]:
    """Each turn's replies from Rasa, for one conversation; `language` None sends no metadata."""
    user = user or uuid.uuid4().hex
    played = []
    with httpx.Client(base_url=stack.rasa_url, timeout=30.0) as client:
        for turn in turns:
            body: dict[str, Any] = {"sender": user, "message": turn}
            if language is not None:
                body["metadata"] = {"language": language}
            response = client.post("/webhooks/rest/webhook", json=body)
            assert response.status_code == 200, response.text
            played.append(response.json())
    return played


def variation(name: str, language: str, **slots: object) -> dict[str, Any]:
    """The variation of a response written for `language` (and these other slot values)."""
    for candidate in domain()["responses"][name]:
        others = {
            c["name"]: c["value"]
            for c in candidate.get("condition") or []
            if c["name"] != "language"
        }
        if content_language(candidate) == language and others == slots:
            return dict(candidate)
    raise KeyError(f"{name} in {language} with {slots}")


def said(replies: list[dict[str, Any]]) -> tuple[str, list[str], list[str]]:
    """Text, button titles and payloads of one turn's (single) reply."""
    assert len(replies) == 1, replies
    buttons = replies[0].get("buttons") or []
    return (
        str(replies[0].get("text")),
        [b["title"] for b in buttons],
        [b["payload"] for b in buttons],
    )


def as_written(response: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    buttons = response.get("buttons") or []
    return (
        str(response["text"]),
        [b["title"] for b in buttons],
        [b["payload"] for b in buttons],
    )


def test_a_topic_and_its_follow_up_answer_in_spanish(stack: Stack) -> None:
    topic, follow_up = rasa_chat(stack, "/faq_methadone", "/follow_up")
    spanish = as_written(variation("utter_faq_methadone", "es"))
    assert said(topic) == spanish
    assert said(follow_up) == spanish, "the follow-up, answered by the action, is Spanish too"
    assert spanish[0].startswith("La metadona")


def test_without_her_language_or_in_english_the_answer_is_english(stack: Stack) -> None:
    english = as_written(variation("utter_faq_methadone", "en"))
    for language in (None, "en"):
        topic, follow_up = rasa_chat(stack, "/faq_methadone", "/follow_up", language=language)
        assert said(topic) == english, language
        assert said(follow_up) == english, language


def test_the_language_follows_each_message(stack: Stack) -> None:
    user = uuid.uuid4().hex
    (spanish,) = rasa_chat(stack, "/faq_naloxone", user=user)
    (english,) = rasa_chat(stack, "/faq_naloxone", language="en", user=user)
    assert said(spanish) == as_written(variation("utter_faq_naloxone", "es"))
    assert said(english) == as_written(variation("utter_faq_naloxone", "en"))


def test_the_resource_finder_asks_and_answers_in_spanish(stack: Stack) -> None:
    asked, listed = rasa_chat(stack, "/help_housing", "/inform_state")
    assert said(asked) == as_written(variation("utter_ask_state", "es"))
    text, titles, _ = said(listed)
    assert text.startswith("Para vivienda, estos servicios te pueden ayudar:")
    assert load_directory().get("help_211").contact_line("es") in text
    assert titles == ["Hablar con una persona"]


def test_a_feeling_twice_in_spanish_gets_the_warmer_spanish_answer(stack: Stack) -> None:
    first, second = rasa_chat(stack, "/feeling_alone", "/feeling_alone")
    assert said(first) == as_written(variation("utter_feeling_alone", "es", felt_before=False))
    assert said(second) == as_written(variation("utter_feeling_alone", "es", felt_before=True))
    (low,) = rasa_chat(stack, "/feeling_low")
    assert said(low) == as_written(variation("utter_feeling_low", "es", felt_before=False))
    english_first, english_second = rasa_chat(
        stack, "/feeling_alone", "/feeling_alone", language="en"
    )
    assert said(english_first) == as_written(variation("utter_feeling_alone", "en"))
    assert said(english_second) == as_written(
        variation("utter_feeling_alone", "en", felt_before=True)
    )


def test_a_third_feeling_gets_a_third_answer(stack: Stack) -> None:
    for language in ("en", "es"):
        first, second, third, fourth = rasa_chat(
            stack, "/feeling_low", "/feeling_low", "/feeling_low", "/feeling_low",
            language=language,
        )  # fmt: skip
        assert said(second) == as_written(
            variation("utter_feeling_low", language, felt_before=True)
        )
        assert said(third) == as_written(variation("utter_feeling_low_still", language))
        assert said(fourth) == said(second), "the two warmer answers take turns"
        assert len({str(said(r)) for r in (first, second, third)}) == 3, language


def test_did_you_mean_is_asked_in_spanish(stack: Stack) -> None:
    (asked,) = rasa_chat(stack, "/nlu_fallback")
    # It answers nothing yet: marked so (bots/gateway.py leaves it out beside a check).
    assert asked[-1] == {"recipient_id": asked[0]["recipient_id"], "custom": {"peerbot": "unsure"}}
    text, titles, payloads = said(asked[:-1])
    assert text == variation("utter_ask_affirmation", "es")["text"]
    assert titles[-1] == "Otra cosa" and payloads[-1] == "/out_of_scope"


def test_while_the_finder_waits_for_her_state_her_need_is_kept(stack: Stack) -> None:
    """Right after "Which state are you in?", a message that names none and reads as out of
    scope or as help in general is more about her need: the finder asks once more, and her
    state then brings services for that need."""
    ask_state = as_written(variation("utter_ask_state", "en"))
    for unsure in ("/out_of_scope", "/help_resources", "/help"):
        asked, again, listed = rasa_chat(
            stack, "/help_childcare", unsure, "we're in ohio", language="en"
        )
        assert said(asked) == ask_state
        assert said(again) == ask_state, unsure
        text = said(listed)[0]
        assert "Ohio" in text and "988" not in text, (unsure, text)
    # Without the question just before, out of scope is out of scope.
    _, _, moved_on = rasa_chat(
        stack, "/help_childcare", "i'm in ohio", "/out_of_scope", language="en"
    )
    assert moved_on[0]["text"] == variation("utter_out_of_scope", "en")["text"]
