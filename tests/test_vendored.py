"""Third-party files served from our own origin are the ones recorded: the manifest beside each
names the package, its version, licence and sha256, and the file must match it byte for byte."""

from __future__ import annotations

import hashlib
import json

from community.settings import PROJECT_ROOT

CHARTJS = PROJECT_ROOT / "bots" / "web" / "static" / "vendor" / "chartjs"


def test_chartjs_is_the_recorded_release() -> None:
    manifest = json.loads((CHARTJS / "MANIFEST.json").read_text(encoding="utf-8"))
    served = (CHARTJS / manifest["file"]).read_bytes()
    assert hashlib.sha256(served).hexdigest() == manifest["sha256"]
    assert f"Chart.js v{manifest['version']}".encode() in served[:200]
    assert manifest["license"] == "MIT"
    assert "The MIT License" in (CHARTJS / "LICENSE.md").read_text(encoding="utf-8")
