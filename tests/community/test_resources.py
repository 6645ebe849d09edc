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

import community.resources as resources_module
from actions.resources import ActionCoreResources
from community.resources import DIRECTORY_PATH, ResourceDirectory, load_directory


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


async def _run_action() -> str:
    dispatcher = CollectingDispatcher()
    tracker = Tracker("someone", {}, {}, [], False, None, {}, "action_listen")
    await ActionCoreResources().run(dispatcher, tracker, {})
    return str(dispatcher.messages[0]["text"])


async def test_action_warns_when_an_entry_is_past_due(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "re-checking" not in await _run_action()
    raw = _raw()
    for entry in raw["resources"]:
        entry["vetted_on"] = date.today() - timedelta(days=400)
        entry["review_by"] = date.today() - timedelta(days=30)
    stale = tmp_path / "resources.yml"
    stale.write_text(yaml.safe_dump(raw))
    monkeypatch.setattr(resources_module, "default_directory", lambda: load_directory(stale))
    monkeypatch.setattr("actions.resources.default_directory", lambda: load_directory(stale))
    text = await _run_action()
    assert "re-checking" in text and "988" in text
