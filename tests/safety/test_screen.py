"""Crisis screening: normalization, guards, severity, and robustness on any input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safety.screen import Screener, Severity, default_screener


@pytest.fixture(scope="module")
def screener() -> Screener:
    return default_screener()


@pytest.mark.parametrize(
    ("text", "category", "severity"),
    [
        ("i took a handful of pills", "overdose", Severity.IMMINENT),
        ("my partner choked me", "violence", Severity.HIGH),
        ("my baby is limp", "baby_danger", Severity.IMMINENT),
        ("my friend won't wake up", "overdose", Severity.IMMINENT),
        ("iwanttodie", "suicide", Severity.HIGH),
        ("k1ll mys3lf", "suicide", Severity.HIGH),
        ("i wanna diiiiie", "suicide", Severity.HIGH),
        ("і wаnt tо diе", "suicide", Severity.HIGH),  # Cyrillic look-alikes
        ("i want to\u200b die", "suicide", Severity.HIGH),  # zero-width space
        ("I'm soaking a pad every hour", "medical", Severity.IMMINENT),
        ("gonna use tonight", "intent_to_use", Severity.HIGH),
        ("i relapsed after 2 years clean", "intent_to_use", Severity.ELEVATED),
        ("can't stop thinking about killing myself", "suicide", Severity.HIGH),
        ("im not okay, i want to die", "suicide", Severity.HIGH),
        ("had to narcan him", "overdose", Severity.IMMINENT),
    ],
)
def test_crises_are_found(screener: Screener, text: str, category: str, severity: Severity) -> None:
    result = screener.screen(text)
    assert result.crisis, text
    assert (result.category, result.severity) == (category, severity)
    assert result.evidence


@pytest.mark.parametrize(
    "text",
    [
        "this diaper blowout killed me lol",
        "picked up my subs today",
        "where can i get narcan just in case",
        "I would never hurt my baby",
        "was suicidal years ago",
        "2 years clean today!",
        "dying to see her",
        "killed it at work",
        "my feet are killing me",
        "my cousin OD'd two years ago",
        "baby blues are real",
        "how do I give narcan?",
        "going to use the bathroom",
        "",
        "   ",
    ],
)
def test_everyday_talk_is_not_a_crisis(screener: Screener, text: str) -> None:
    assert not screener.screen(text).crisis, screener.screen(text)


def test_several_signs_of_one_kind_raise_the_severity(screener: Screener) -> None:
    one = screener.screen("i have been saving up my pills")
    both = screener.screen("i have been saving up my pills. this is goodbye")
    assert one.severity == Severity.HIGH
    assert both.severity == Severity.IMMINENT


def test_verdict_as_json_fields(screener: Screener) -> None:
    verdict = screener.screen("i want to die").as_dict()
    assert set(verdict) == {"crisis", "category", "severity", "evidence"}
    assert verdict["severity"] == "high"


@settings(max_examples=300, deadline=1000)
@given(st.text(max_size=3000))
def test_any_unicode_is_screened_without_error(text: str) -> None:
    result = default_screener().screen(text)
    assert result.crisis in (True, False)


@settings(max_examples=30, deadline=2000)
@given(st.text(min_size=1, max_size=300), st.integers(min_value=10_000, max_value=20_000))
def test_long_inputs_finish(fragment: str, length: int) -> None:
    text = (fragment * (length // len(fragment) + 1))[:length]
    assert default_screener().screen(text).crisis in (True, False)


# Guard families added to make every rule hit a real crisis: for each, messages the rules must
# now leave to the learned layer, and crises next to the same words that must still be caught.
GUARD_FAMILIES = {
    "dream": (
        [
            "had a nightmare i left the baby in the car, woke up crying",
            "i dreamed i relapsed and woke up so relieved it wasnt real",
            "i had a bad dream that i shook the baby and now i cant fall back asleep",
        ],
        [
            "had a dream about my dealer and now i want to use so bad",
            "i had a nightmare, woke up and i want to kill myself",
        ],
    ),
    "denial": (
        [
            "no suicidal thoughts, just exhausted and weepy all day",
            "my midwife asked whether i ever think of killing myself and i said no",
            "no urges to use this week, feeling steady on my dose",
        ],
        [
            "no plan yet but i want to die",
            "my therapist asked if i want to die and i said yes",
            "no one asked if i was ok, i want to die",
        ],
    ),
    "report": (
        [
            "the article said suicide rates go up in the first year postpartum",
            "my mom keeps telling everyone i will hurt the baby because of my past",
            "the podcast talked about suicide after birth and it made me cry",
        ],
        [
            "the news said a mom killed herself and honestly i want to kill myself too",
            "my husband keeps saying im crazy and i want to die",
        ],
    ),
    "retrospect": (
        [
            "i swallowed a whole bottle of pills once. that was 8 years ago, im a different person",
            "overdosed on fentanyl in a parking lot. that was in 2019",
            "i was so sure my kids would be better off without me. that was 3 yrs ago",
        ],
        [
            "i took all my pills. just sharing so someone knows",
            "i want to die. that was the only thought all day",
            "everyone says it gets better. i still want to kill myself",
        ],
    ),
    "coping": (
        [
            "i want to get high so bad tonight but im not going to",
            "the urge to burn myself hit hard tonight. held an ice cube til it passed",
            "my old plug hit me up today. blocked his number and told my counselor",
        ],
        [
            "craving dope so bad, called my sponsor but he didnt answer",
            "the urge to cut is not passing, i cant stop",
            "i want to use tonight and im not going to stop myself",
        ],
    ),
    "resolved": (
        [
            "my son rolled off the bed but he is totally fine, just startled",
            "my daughter fell off the sofa last night, ran around like nothing happened",
            "goodbye all!! leaving for my scheduled c section in the morning",
        ],
        [
            "my baby fell off the bed and now she is not waking up",
            "my son fell off the changing table, he seemed fine but now hes throwing up",
            "goodbye everyone, im leaving this world",
        ],
    ),
    "info": (
        [
            "what are the signs that someone is suicidal? worried about my cousin",
            "how can you tell if someone is overdosing on fentanyl",
            "how do you know if the baby has stopped moving or is just sleeping",
            "what happens if you mix subs with xanax by accident",
        ],
        [
            "how do i tell if im overdosing, i took 20 pills",
            "my boyfriend is not breathing what are the signs of overdose",
            "i mixed my subs with xanax, what happens if i fall asleep",
        ],
    ),
    "intrusive": (
        [
            "i keep having intrusive thoughts of drowning the baby in the bath",
            "the images of hurting my son make me sick, my therapist says its pp ocd",
            "thoughts of smothering her pop into my head and it makes me sick to my stomach",
        ],
        [
            "i keep thinking about hurting the baby and i dont feel bad about it",
            "i want to hurt my baby and it doesnt scare me anymore",
        ],
    ),
    "idiom": (
        [
            "my boyfriend is gonna kill me when he finds out i crashed his car",
            "i feel like such a burden asking my sister to babysit again",
            "i'd jump off a bridge if my toddler sings baby shark one more time",
            "morning sickness is so bad today i feel like im dying",
        ],
        [
            "my boyfriend is gonna kill me, he said so with the knife out",
            "i feel like such a burden, everyone would be better off without me",
        ],
    ),
    "past and recovery": (
        [
            "when i was deep in my addiction i would use alone every night",
            "i remember wanting to kill myself in my first pregnancy",
            "300 days no self harm and counting",
        ],
        [
            "i remember nothing, i want to kill myself",
            "3 days no sleep and i want to die",
        ],
    ),
}
FAMILY_NEGATIVES = [(family, text) for family, (neg, _) in GUARD_FAMILIES.items() for text in neg]
FAMILY_CRISES = [(family, text) for family, (_, pos) in GUARD_FAMILIES.items() for text in pos]


@pytest.mark.parametrize(("family", "text"), FAMILY_NEGATIVES)
def test_guard_families_leave_non_crises_alone(screener: Screener, family: str, text: str) -> None:
    assert not screener.screen(text).crisis, (family, screener.screen(text))


@pytest.mark.parametrize(("family", "text"), FAMILY_CRISES)
def test_guard_families_keep_the_crises(screener: Screener, family: str, text: str) -> None:
    assert screener.screen(text).crisis, (family, text)


def test_a_coda_counts_only_in_the_next_clauses(screener: Screener) -> None:
    coda = "its passing"
    assert not screener.screen(f"the urge to cut came back. {coda}").crisis
    far = "the urge to cut came back. i am home. kids are asleep. tv is on. " + coda
    assert screener.screen(far).crisis
