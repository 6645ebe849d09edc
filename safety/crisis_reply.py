"""The immediate crisis reply: calm words, what to do now, and the right numbers.

Pure: built from `data/replies.yml` (wording) and the resource directory (numbers), with no I/O
after loading, so it works with Rasa, the network and even the database down.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from community.resources import ResourceDirectory, default_directory
from safety.screen import Screening, Severity

REPLIES_PATH = Path(__file__).resolve().parent / "data" / "replies.yml"
DISCREET_NAME = "A confidential helpline"


@dataclass(frozen=True)
class CrisisReply:
    text: str
    resource_ids: tuple[str, ...]


class CrisisReplies:
    def __init__(self, data: dict[str, Any], directory: ResourceDirectory) -> None:
        self._closing: str = data["closing"]
        self._categories: dict[str, dict[str, Any]] = data["categories"]
        self._directory = directory
        # Fail at load, not in a crisis: every category, severity and resource must resolve.
        for name, category in self._categories.items():
            for severity in Severity:
                if severity.label not in category["now"]:
                    raise ValueError(f"replies.yml: {name} has no 'now' for {severity.label}")
                for resource_id in category["resources"][severity.label]:
                    directory.get(resource_id)

    @property
    def categories(self) -> frozenset[str]:
        return frozenset(self._categories)

    def compose(self, screening: Screening) -> CrisisReply:
        category = self._categories.get(screening.category or "", self._categories["suicide"])
        severity = (screening.severity or Severity.HIGH).label
        lines = [category["opening"], category["now"][severity]]
        ids = tuple(category["resources"][severity])
        for resource_id in ids:
            resource = self._directory.get(resource_id)
            line = resource.contact_line()
            if category.get("discreet") and line.startswith(resource.name):
                line = DISCREET_NAME + line[len(resource.name) :]
            lines.append(f"• {line}")
        lines.append(self._closing)
        if category.get("after"):
            lines.append(category["after"])
        return CrisisReply("\n".join(lines), ids)


@cache
def default_crisis_replies() -> CrisisReplies:
    with REPLIES_PATH.open(encoding="utf-8") as handle:
        return CrisisReplies(yaml.safe_load(handle), default_directory())


def crisis_reply_for(screening: Screening) -> CrisisReply:
    return default_crisis_replies().compose(screening)
