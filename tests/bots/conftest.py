"""Fixtures shared by the platform adapter tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.bots.app_harness import faq_rasa
from tests.bots.rasa_standin import RasaStandIn


@pytest.fixture
def rasa() -> Iterator[RasaStandIn]:
    """A Rasa stand-in answering every message with a FAQ and two buttons."""
    with faq_rasa() as server:
        yield server
