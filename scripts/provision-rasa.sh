#!/usr/bin/env bash
# Provision Rasa Open Source 3.6 in its own virtual environment (.rasa-venv), beside the app's.
#
# Rasa 3.6 needs Python 3.8-3.10 and pins libraries that clash with the app (SQLAlchemy 1.4,
# TensorFlow 2.12), so it lives in its own interpreter and the app talks to it over HTTP only.
# Finding an interpreter, in order: PEERBOT_RASA_PYTHON or python3.10/3.9/3.8 on PATH; `uv python
# install 3.10`; Debian 11's python3.9 packages unpacked into var/python39 (no system install).
# Idempotent: a second run with the same lock file returns in well under a second.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.rasa-venv"
LOCK="$ROOT/rasa-runtime.lock"
# Hash-pinned additions the project's own Rasa components need (the sentence encoder).
EXTRAS="$ROOT/rasa-encoder.lock"
APP_PY="$ROOT/.venv/bin/python"
LOCAL_PY39="$ROOT/var/python39"
STAMP="$VENV/.peerbot-lock-sha256"

say() { printf '[provision-rasa] %s\n' "$*" >&2; }
# Some machines' pip configuration names local indexes that do not exist; pip warns per package.
quiet_pip_noise() { grep -v "is ignored: it is neither a file nor a directory" >&2 || true; }

lock_hash() { cat "$LOCK" "$EXTRAS" | sha256sum | cut -d' ' -f1; }

# One entry point for the app: it never needs to know how this interpreter was obtained. Rasa's
# API token comes from PEERBOT_RASA_AUTH_TOKEN, not the command line (where `ps` would show it to
# every local user). Written on every run, so a change here reaches a runtime already installed.
write_wrapper() {
  printf '%s\n' "$LIB_PATH" > "$VENV/.peerbot-lib-path"
  cat > "$VENV/bin/peerbot-rasa" <<WRAP
#!/usr/bin/env bash
export LD_LIBRARY_PATH="$LIB_PATH\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export PYTHONWARNINGS=ignore TF_CPP_MIN_LOG_LEVEL=3 SQLALCHEMY_SILENCE_UBER_WARNING=1 RASA_TELEMETRY_ENABLED=false
if [[ -n "\${PEERBOT_RASA_AUTH_TOKEN:-}" ]]; then
  exec "$VENV/bin/python" -c 'import os, runpy, sys; token = os.environ.pop("PEERBOT_RASA_AUTH_TOKEN"); sys.argv = ["rasa", *sys.argv[1:], *(["--auth-token", token] if sys.argv[1:2] == ["run"] else [])]; runpy.run_module("rasa", run_name="__main__", alter_sys=True)' "\$@"
fi
exec "$VENV/bin/python" -m rasa "\$@"
WRAP
  chmod +x "$VENV/bin/peerbot-rasa"
}

if [[ -x "$VENV/bin/peerbot-rasa" && -f "$STAMP" && "$(cat "$STAMP")" == "$(lock_hash)" ]]; then
  if [[ -f "$VENV/.peerbot-lib-path" ]]; then
    LIB_PATH="$(cat "$VENV/.peerbot-lib-path")"
  else  # a runtime provisioned before the path was kept: read it from the old wrapper
    LIB_PATH="$(sed -n 's/^export LD_LIBRARY_PATH="\([^$]*\)\$.*/\1/p' "$VENV/bin/peerbot-rasa")"
  fi
  write_wrapper
  say "Rasa runtime is ready ($VENV)."
  exit 0
fi

# An interpreter is usable when it runs and reports a version in [3.8, 3.11).
usable_python() {
  local candidate="$1"
  "$candidate" -c 'import sys, venv; sys.exit(0 if (3, 8) <= sys.version_info[:2] < (3, 11) else 1)' >/dev/null 2>&1
}

LIB_PATH=""
find_on_path() {
  local c candidates=("${PEERBOT_RASA_PYTHON:-}" python3.10 python3.9 python3.8)
  # pyenv installs versions that its shims only run when selected; look at them directly too.
  if command -v pyenv >/dev/null 2>&1; then
    candidates+=("$(pyenv root)"/versions/3.10*/bin/python3.10 "$(pyenv root)"/versions/3.9*/bin/python3.9
                 "$(pyenv root)"/versions/3.8*/bin/python3.8)
  fi
  for c in "${candidates[@]}"; do
    [[ -n "$c" ]] || continue
    if command -v "$c" >/dev/null 2>&1 && usable_python "$(command -v "$c")"; then
      "$(command -v "$c")" -c 'import sys; print(sys.executable)'
      return 0
    fi
  done
  return 1
}

find_with_uv() {
  local uv
  uv="$(command -v uv || true)"
  [[ -n "$uv" ]] || uv="$ROOT/.venv/bin/uv"
  [[ -x "$uv" ]] || return 1
  say "No Python 3.8-3.10 on PATH; trying 'uv python install 3.10' (needs the internet)."
  timeout 300 "$uv" python install 3.10 >&2 || return 1
  "$uv" python find 3.10 2>/dev/null
}

find_from_debian() {
  command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1 || return 1
  local py="$LOCAL_PY39/usr/bin/python3.9"
  if [[ ! -x "$py" ]]; then
    say "Fetching Debian 11 Python 3.9 packages into var/python39 (no system-wide install)."
    local apt="$ROOT/var/apt-bullseye"
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs" "$LOCAL_PY39"
    echo "deb http://deb.debian.org/debian bullseye main" > "$apt/sources.list"
    local opts=(-oDir::Etc::SourceList="$apt/sources.list" -oDir::Etc::SourceParts=/dev/null
                -oDir::State::Lists="$apt/lists" -oDir::Cache="$apt/cache")
    apt-get "${opts[@]}" update >&2 || return 1
    (cd "$apt/debs" && apt-get "${opts[@]}" download python3.9-minimal libpython3.9-minimal \
        libpython3.9-stdlib python3.9 libssl1.1 libffi7 libmpdec3 \
        python3-distutils=3.9.2-1 python3-lib2to3=3.9.2-1 >&2) || return 1
    local deb
    for deb in "$apt/debs"/*.deb; do dpkg -x "$deb" "$LOCAL_PY39"; done
  fi
  LIB_PATH="$LOCAL_PY39/usr/lib/x86_64-linux-gnu"
  LD_LIBRARY_PATH="$LIB_PATH" usable_python "$py" || return 1
  echo "$py"
}

say "Step 1/3: finding a Python 3.8-3.10 for Rasa."
PY="$(find_on_path || true)"
[[ -n "$PY" ]] || PY="$(find_with_uv || true)"
[[ -n "$PY" ]] || PY="$(find_from_debian || true)"
if [[ -z "$PY" ]]; then
  say "ERROR: could not find or obtain Python 3.8-3.10. Install one (e.g. python3.10) or set"
  say "PEERBOT_RASA_PYTHON to its path, then run 'make install' again."
  exit 1
fi
say "Using $PY ($(LD_LIBRARY_PATH="$LIB_PATH" "$PY" --version 2>&1))."

say "Step 2/3: creating $VENV."
rm -rf "$VENV"
if [[ -n "$LIB_PATH" ]]; then
  # Debian's unpacked interpreter has no ensurepip; virtualenv (from the app's venv) brings pip.
  LD_LIBRARY_PATH="$LIB_PATH" "$APP_PY" -m virtualenv -q -p "$PY" "$VENV" >&2
else
  "$PY" -m venv "$VENV"
fi

write_wrapper

say "Step 3/3: installing Rasa 3.6.21 from rasa-runtime.lock (about 80 s, 2.7 GB)."
export LD_LIBRARY_PATH="$LIB_PATH${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
"$VENV/bin/python" -m pip install -q --upgrade "pip==24.0" 2> >(quiet_pip_noise)
"$VENV/bin/python" -m pip install -q --no-deps -r "$LOCK" 2> >(quiet_pip_noise)
"$VENV/bin/python" -m pip install -q --no-deps --require-hashes -r "$EXTRAS" 2> >(quiet_pip_noise)
"$VENV/bin/python" -m pip check >&2 || say "warning: pip check reported issues (see above)."
lock_hash > "$STAMP"
say "Rasa runtime is ready ($VENV)."
