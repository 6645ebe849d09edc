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
            "i want dope right now, called my sponsor but he didnt answer",
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
    # 2027-02 families (batches b08-b13).
    "baby hyperbole": (
        [
            "she has been teething for three days straight im gonna die",
            "twins cluster feeding since 7 and i am going to die",
            "toddler had tantrums all morning, i might just die",
        ],
        [
            "the baby wont stop crying and i want to die",
            "im going to die tonight, i already decided",
        ],
    ),
    "denial after a question": (
        [
            "the nurse asked me if i had been having any thoughts of hurting myself and i said no",
            "my ob asked if i ever had a plan to end my life and i told her no",
            "dont get why my therapist thinks im going to hurt myself, im good",
            "what number should i text if i ever have urges to hurt myself again",
        ],
        [
            "my therapist asked if i wanted to hurt myself and i said yes",
            "i keep thinking about hurting myself tonight",
        ],
    ),
    "qualifier": (
        [
            "i wish i could disappear for a few days, a hotel and a nap",
            "some days i want to stop existing. not die. just a pause",
            "took all my pills today like a good girl: prenatal and iron and zoloft",
            "drank a whole bottle of water with my vitamins",
        ],
        [
            "i wish i could disappear forever",
            "took all my pills tonight, the whole bottle",
        ],
    ),
    "past and resolved": (
        [
            "the nurses who revived me when i overdosed still send me cards",
            "remember when i said i wanted to die? its been 4 months since i felt that",
            "i tried to kill myself at 17, now i have two kids and a job i love",
            "my neighbor od'd last week but she is home now and doing better",
            "my friend had a seizure last month, she is fine now",
        ],
        [
            "i tried to kill myself last night",
            "my sister just overdosed and is not breathing",
        ],
    ),
    "information and report": (
        [
            "what should i do if i find someone not breathing at a party",
            "what are the signs somebody is overdosing on fent",
            "can you overdose on methadone or is that a myth",
            "my grandma says ill suffocate the baby with that swaddle lol",
        ],
        [
            "my friend is overdosing right now",
            "i want to smother the baby",
        ],
    ),
    "song quotes": (
        [
            "'so tired of being here' that song was my whole middle school",
            "sang 'i want to disappear' at karaoke, evanescence forever",
            "that chorus 'tired of living' was my entire emo phase",
        ],
        [
            "im so tired of being here, everyone would be better off",
            "i want to disappear and never come back",
        ],
    ),
    "new means and emergencies": (
        [
            "tying off the yarn already, the blanket is almost done",
            "my water broke at 39 weeks with my daughter, easy labor",
            "where do i get narcan training near me",
            "my baby is blue eyed like her dad",
        ],
        [
            "the rope is already tied",
            "water just broke and im only 33 weeks",
            "where is the narcan she is blue",
            "my baby is blue",
            "gave her 2 narcan and she is still out",
        ],
    ),
    # 2027-03: bare topic words and past events narrowed to a now (b14-b18).
    "topic words need a now": (
        [
            "we watched a documentary about suicide in nursing school",
            "my aunt was suicidal after her divorce, she talks about it at thanksgiving",
            "the domestic violence shelter downtown is hiring peer advocates",
            "how long do you stay on subs after you overdose on fent, asking for the group",
            "i relapsed and went back to treatment, that was the turning point for me",
        ],
        [
            "im getting really suicidal again and i dont trust myself",
            "suicidal thoughts all night and the baby finally sleeps",
            "im still in an abusive relationship and he has my car keys",
            "i relapsed again this afternoon and i have more in my purse",
            "i think i overdosed, my chest feels heavy",
        ],
    ),
    "time anchors of a story": (
        [
            "my cousin overdosed a couple of times before she went into rehab, now she coaches",
            "the last time i used was the week before my son was born",
            "i slipped at 2 months pp last time",
            "my brother od'd in october. hes 1 year clean now",
        ],
        [
            "my brother od'd in the bathroom and his lips are blue",
            "he hit me again tonight while the baby was in my arms",
        ],
    ),
    "questions and media": (
        [
            "the hotline for domestic abuse, does it show up on the phone bill",
            "if i tell my therapist im having urges to cut will they call cps",
            "that suicide scene where she screams i want to die stuck with me all day",
            "what are symptoms of an od on fent vs heroin, for my training",
        ],
        [
            "my husband is choking me and the hotline wont pick up",
            "i want to kill myself and the movie is still playing",
        ],
    ),
    "feeding and harm reduction": (
        [
            "he finally took the whole bottle 🍼 first time all week",
            "baby drank a whole 4 oz bottle like a champ",
            "picked up fentanyl test strips and narcan at the library",
            "this cold took all my energy",
        ],
        [
            "she took the whole bottle of her anxiety pills",
            "swallowed all my sleeping pills an hour ago",
            "i just copped some fent and im alone",
        ],
    ),
    "coping after a craving": (
        [
            "cravings so bad today but im at my home group and it helps",
            "urges so bad tonight, just needed to write it down somewhere",
            "craving hard but im sitting in a meeting right now",
        ],
        [
            "craving so bad im walking to my dealers right now",
            "jonesing so bad, the plug is outside",
        ],
    ),
    # 2027-04 (b19-b22): a question whether a product or a medicine harms the baby.
    "product_harms_baby_question": (
        [
            "can naloxone harm the baby if i get it at 30 weeks",
            "will the flu shot hurt my baby",
            "does caffeine affect the baby that much",
        ],
        [
            "i keep thinking about hurting the baby",
            "i want to hurt my baby and i am scared",
        ],
    ),
    # Exasperation at a chore or an errand, named as the subject.
    "chore_exasperation": (
        [
            "medicaid paperwork makes me want to jump off a cliff",
            "this traffic is making me want to jump off a bridge",
            "taxes make me wanna jump off a building ugh",
        ],
        [
            "i am going to jump off a bridge tonight",
            "the bills are piling up and i want to jump off a bridge",
        ],
    ),
    # A goodbye letter to a drug is a recovery exercise; a goodbye letter to her family is not.
    "goodbye_letter_to_a_drug": (
        [
            "my sponsor had me write a goodbye letter to fentanyl",
            "wrote a breakup letter to my addiction in group",
            "reading my goodbye letter to heroin out loud tomorrow",
        ],
        [
            "i wrote a goodbye letter to my kids",
            "the goodbye letter is on the counter",
        ],
    ),
    # A danger taken from a child's hands, and a crisis averted.
    "taken_from_a_child": (
        [
            "grabbed the whole bottle of tylenol away from my sons hands, so scary",
            "snatched the bottle of pills out of her hand before she swallowed any",
            "my toddler got into my purse, took all the pills from his fist, crisis averted",
        ],
        [
            "i took the whole bottle of tylenol",
            "took all my pills at once",
        ],
    ),
    # What to do for anyone, in general; her partner named is still a crisis.
    "what_to_do_for_someone_in_general": (
        [
            "how should you respond if someone turns blue, step by step please",
            "what do i do if a friend stops breathing after using",
            "what would you do if somebody wont wake up at a party",
        ],
        [
            "my husband wont wake up what do i do",
            "someone is not breathing in the bathroom",
        ],
    ),
    # A recent overdose told as over: out of the hospital.
    "out_of_the_hospital": (
        [
            "my brother od'd friday. he is out of the hospital now and staying with us",
            "my friend overdosed on sunday, she got discharged this morning",
            "she od'd last night. she's home from the hospital and wants treatment",
        ],
        [
            "my brother just od'd and he is not breathing",
            "my friend overdosed and the narcan isnt working",
        ],
    ),
    # A memory she goes back to; a present emergency is still one.
    "a_memory_returned_to": (
        [
            "i still think about the day we almost lost him and i can't breathe",
            "remembering the night my water broke early i can't catch my breath for a second",
            "thinking back to that time in the nicu makes it hard to breathe",
        ],
        [
            "i can't breathe and my chest hurts",
            "having trouble breathing and i am 34 weeks",
        ],
    ),
    # "never use alone" is a slogan; a plan to use alone is a crisis.
    "never_use_alone_slogan": (
        [
            "never use alone is a hotline you can call",
            "got a never use alone sticker at the clinic",
            "the never use alone people were at the health fair",
        ],
        [
            "i am going to use alone tonight",
            "gonna shoot by myself in the car",
        ],
    ),
    # 2026-12-05 (rounds 5-7): cravings met are the learned layer's to weigh; recent past,
    # hypotheticals, a letter for later, a custody threat, everyday "someone told me".
    "cravings, recent past, hypotheticals, later": (
        [
            "cravings are bad today tbh. going to a meeting at 7 and my mom has the baby",
            "dope sick memories came back smelling foil today, called my peer support",
            "my cousin od'd last month, shes in a 90 day program now and doing good",
            "if someone is overdosing what do you do in order? narcan first or 911 first?",
            "can u get a protective order if hes never hit u but threatens to take the kids",
            "sometimes i wish i could disappear to a beach for a week where nobody needs a snack",
            "CPS took my first two in 2018, someone told me about this group and it helped",
            "the NICU coffee is so bad i wanna die lol",
            "when i was pregnant w my first i had a placental abruption and lost so much blood",
            "the sky is blue please come outside with us",
            "bye guys im done for tonight, night night",
            "what do you do if a toddler swallows a button battery? we're babyproofing",
        ],
        [
            "i want dope right now, called my sponsor but he didnt answer",
            "craving so bad im walking to my dealers right now",
            "where can i get test strips tonight, im using either way",
            "my brother od'd and hes not breathing",
            "he threatened to take the baby and kill me",
            "the voices keep telling me to hurt the baby",
            "i want to kill myself, ive felt like this for a week",
            "hes blue help",
            "bye guys ❤️ im done",
            "my 3 year old just swallowed one of those button batteries",
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
