#!/usr/bin/env bash
# Install Debian's Chromium for the console's browser test, when it is missing and we may.
# The test drives it with Playwright's Python package (executable_path), so no browser is
# downloaded from anywhere but Debian's archive. Without root or apt, the test is skipped
# outside CI and fails inside CI (make test sets PEERBOT_REQUIRE_BROWSER there).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  echo "[install-browser] chromium is installed."
  exit 0
fi
if [[ "$(id -u)" != "0" ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[install-browser] chromium is missing; install Debian's 'chromium' package for the browser test."
  exit 0
fi
echo "[install-browser] installing Debian's chromium (about a minute)."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "[install-browser] chromium is installed."
