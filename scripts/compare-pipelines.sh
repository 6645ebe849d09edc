#!/usr/bin/env bash
# Compare NLU pipelines by 5-fold cross-validation, held-out accuracy and parse latency.
# Usage: scripts/compare-pipelines.sh [config ...]   (default: config.yml pipelines/diet.yml)
# Writes var/reports/pipelines/<name>/ and prints one summary line per pipeline.
set -euo pipefail
cd "$(dirname "$0")/.."
RASA=.rasa-venv/bin/peerbot-rasa
PY=.rasa-venv/bin/python
export PEERBOT_ACTION_SERVER_URL=http://127.0.0.1:5055/webhook
configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=(config.yml pipelines/diet.yml)
for config in "${configs[@]}"; do
  name=$(basename "$config" .yml)
  out=var/reports/pipelines/$name
  rm -rf "$out" && mkdir -p "$out"
  start=$(date +%s)
  "$RASA" train nlu --config "$config" --nlu nlu --out "$out/model" --fixed-model-name nlu >"$out/train.log" 2>&1
  trained=$(( $(date +%s) - start ))
  start=$(date +%s)
  "$RASA" test nlu --config "$config" --nlu nlu --cross-validation --folds 5 --out "$out/cv" >"$out/cv.log" 2>&1
  cv=$(( $(date +%s) - start ))
  probe=$("$PY" scripts/nlu_probe.py "$out/model/nlu.tar.gz" tests/nlu/heldout.yml 2>/dev/null | tail -1)
  "$PY" - "$out" "$name" "$trained" "$cv" "$probe" <<'PY'
import json, sys
out, name, trained, cv, probe = sys.argv[1:]
report = json.load(open(f"{out}/cv/intent_report.json"))
probe = json.loads(probe)
summary = {
    "pipeline": name, "train_seconds": int(trained), "cv_seconds": int(cv),
    "cv_accuracy": report["accuracy"], "cv_macro_f1": report["macro avg"]["f1-score"],
    **probe,
}
json.dump(summary, open(f"{out}/summary.json", "w"), indent=2)
print(json.dumps(summary))
PY
done
