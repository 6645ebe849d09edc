"""The layered screen: rules always win, the learned layer adds, context adds only when the new
message adds, and every missing part falls back to fewer layers instead of failing."""

from __future__ import annotations

from pathlib import Path

import pytest

from safety import training
from safety.context import RecentMessages
from safety.layered import LayeredScreen, Outcome
from safety.training import build_screen


def test_a_rule_hit_is_a_crisis_whatever_the_learned_score(layered_screen: LayeredScreen) -> None:
    for text in ("i want to die", "me quiero matar", "he has a gun and says he'll kill me"):
        decision = layered_screen.decide(text)
        assert decision.outcome is Outcome.CRISIS and decision.layer == "rules"
        assert decision.evidence
        # The learned layer is not run on a rule's finding (as in the batch path): in a burst
        # of crises each message waits for the one before on the screen's thread.
        assert decision.score is None
    # Without a rule hit it is run, and its score is part of the decision.
    assert layered_screen.decide("what time is group on thursday").score is not None


def test_the_learned_layer_reads_what_no_rule_says(layered_screen: LayeredScreen) -> None:
    candidates = [
        "gave my sister all the baby clothes and my car keys, she will need them more than me",
        "i keep counting the bottles in the cabinet and thinking tonight would be easy",
        "ya les deje cartas a mis hijos, cuidenlos mucho por mi",
        "sorry for everything ill be gone before they wake up",
    ]
    unworded = [t for t in candidates if not layered_screen.screener.screen(t).crisis]
    assert len(unworded) >= 3
    for text in unworded:
        decision = layered_screen.decide(text)
        assert decision.flagged and decision.layer == "learned", (text, decision.as_dict())
    for text in ("what time does the clinic open on saturday", "gracias por la info del wic"):
        assert layered_screen.decide(text).outcome is Outcome.NONE


def test_context_counts_only_when_the_new_message_adds(layered_screen: LayeredScreen) -> None:
    assert layered_screen.learned is not None
    screen = LayeredScreen(
        layered_screen.screener,
        layered_screen._detector,
        layered_screen.learned,
        training.load_thresholds(),
        RecentMessages(),
    )
    screen.decide("everything is too much and nobody would even notice", key="k")
    decision = screen.decide("i have them all lined up on the counter", key="k")
    assert decision.flagged, decision.as_dict()
    # Cheerful messages after it do not drag the window into a finding.
    assert screen.decide("my sister just brought pizza lol", key="k2").outcome is Outcome.NONE
    assert screen.decide("we are watching a movie", key="k2").outcome is Outcome.NONE


def test_spanish_is_read_and_reported(layered_screen: LayeredScreen) -> None:
    decision = layered_screen.decide("mi novio me esta pegando y tiene una pistola")
    assert decision.crisis and decision.language == "es" and decision.category == "violence"


def test_help_coming_is_heard(layered_screen: LayeredScreen) -> None:
    assert layered_screen.decide("i called 911 they are on their way").help_coming
    assert layered_screen.decide("ya viene la ambulancia").help_coming
    assert not layered_screen.decide("i didnt call 911, i dont want cps involved").help_coming


def test_the_learned_reading_of_help_coming_alone_is_marked_as_the_learned_layers(
    layered_screen: LayeredScreen,
) -> None:
    """With no reviewed phrase and no crisis beside it, the learned "help is coming" signal is
    marked as heard by the learned layer only (the gateway asks "are you safe right now?"
    unless it is about her open case); beside a learned crisis it chooses the help-coming
    reply, and a reviewed phrase is heard as before."""
    from safety.learned import Scores
    from safety.screen import Screening

    nothing = Screening(crisis=False)
    coming = Scores(crisis=0.01, categories={"medical": 0.6, "suicide": 0.4}, help_coming=0.99)
    alone = layered_screen.combine(nothing, "en", False, coming)
    assert alone.help_heard_only and alone.answered and alone.category == "medical"
    asked = alone.asked_instead()
    assert (asked.outcome, asked.help_coming, asked.category) == (Outcome.CHECK, False, "medical")
    with_phrase = layered_screen.combine(nothing, "en", True, coming)
    assert with_phrase.help_coming and not with_phrase.help_heard_only
    crisis = Scores(crisis=0.999, categories={"overdose": 1.0}, help_coming=0.99)
    beside = layered_screen.combine(nothing, "en", False, crisis)
    assert beside.crisis and beside.help_coming and not beside.help_heard_only
    quiet = Scores(crisis=0.01, categories={"medical": 1.0}, help_coming=0.01)
    assert not layered_screen.combine(nothing, "en", False, quiet).answered


def test_without_the_encoder_the_ngram_layer_answers(
    monkeypatch: pytest.MonkeyPatch, trained_screen_models: Path
) -> None:
    monkeypatch.setattr(training, "load_encoder", lambda: None)
    screen = build_screen(trained_screen_models)
    assert screen.layers == "rules+learned(ngram)"
    assert screen.decide("i want to die").crisis


def test_without_a_current_artifact_the_rules_answer(tmp_path: Path) -> None:
    screen = build_screen(tmp_path)  # nothing trained here
    assert screen.layers == "rules"
    assert screen.decide("i took all my pills").crisis
    assert screen.decide("hello").outcome is Outcome.NONE


def test_a_corrupt_artifact_means_rules_only(tmp_path: Path, trained_screen_models: Path) -> None:
    artifact = training.artifact_path(trained_screen_models)
    (tmp_path / artifact.name).write_bytes(artifact.read_bytes()[:1000])
    screen = build_screen(tmp_path)
    assert screen.layers == "rules"
    assert screen.decide("i want to kill myself").crisis


def test_each_language_has_its_own_cutoffs(layered_screen: LayeredScreen, tmp_path: Path) -> None:
    """The same learned score is a check in one language and nothing in another when the
    reviewed thresholds say so; a language without a pair uses the pair for every language."""
    assert layered_screen.learned is not None
    variant = layered_screen.learned.variant
    path = tmp_path / "thresholds.yml"
    path.write_text(
        "chosen_on: 2026-12-05\n"
        "variants:\n"
        f"  {variant}:\n"
        "    crisis: 0.99999\n"
        "    check: 0.000000001\n"
        "    help_coming: 0.99999\n"
        "    languages:\n"
        "      es: {crisis: 0.999999, check: 0.99999}\n"
    )
    thresholds = training.load_thresholds(path)
    screen = LayeredScreen(
        layered_screen.screener, layered_screen._detector, layered_screen.learned, thresholds
    )
    english = screen.decide("the bus was late again and the baby cried the whole way")
    spanish = screen.decide("el camion llego tarde otra vez y el bebe lloro todo el camino")
    assert english.language == "en" and english.outcome is Outcome.CHECK
    assert spanish.language == "es" and spanish.outcome is Outcome.NONE
    # A rule hit is a crisis whatever the language's cut-offs.
    assert screen.decide("me quiero matar").crisis


def test_thresholds_for_a_language_must_be_ordered(tmp_path: Path) -> None:
    path = tmp_path / "thresholds.yml"
    path.write_text(
        "chosen_on: 2026-12-05\nvariants:\n  full:\n    crisis: 0.8\n    check: 0.2\n"
        "    help_coming: 0.5\n    languages:\n      es: {crisis: 0.3, check: 0.6}\n"
    )
    with pytest.raises(ValueError, match="full es"):
        training.load_thresholds(path)


def test_help_coming_counts_as_the_gateway_answers_it() -> None:
    """A crisis answered with the help-coming reply is detected; an ordinary message given it
    is a false alarm of the gentle kind, counted with the checks."""
    from safety.corpus import Example
    from safety.layered import Decision

    crisis = Example("the ambulance is here", frozenset({"help_coming"}), "en", "", "crisis", "b")
    ordinary = Example(
        "called 911 for my neighbor's cat lol", frozenset(), "en", "", "ordinary", "b"
    )
    heard = Decision(Outcome.NONE, "en", help_coming=True)
    tally = training.Tally()
    tally.add(crisis, heard)
    tally.add(ordinary, heard)
    assert (tally.detected, tally.false_crisis, tally.false_check) == (1, 0, 1)
