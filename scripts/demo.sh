#!/usr/bin/env bash
# The README demo, offline against the embedded emulator:
#   plan -> apply the reviewed plan -> a person does the manual steps, the customers grant the
#   agency and renew the expired resource -> plan and apply the rest -> plan says "No changes."
# Fails on any unexpected exit code. Run it with `make demo`, or with any installed `reconciler`
# on PATH (e.g. `pipx install partner-reconciler`): `bash scripts/demo.sh` in a clone of the
# repository, which holds the example manifests.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v reconciler >/dev/null; then
  echo "demo: no reconciler command on PATH: run \`make demo\`, or install it (README)" >&2
  exit 1
fi
export RECONCILER_STATE_DIR="${RECONCILER_STATE_DIR:-.reconciler}"
unset RECONCILER_ENDPOINT RECONCILER_JOURNAL RECONCILER_CRASH_AT RECONCILER_PROFILE
MANIFESTS=examples/manifests
STATE="$RECONCILER_STATE_DIR"
PLAN="$STATE/demo-plan.json"

section() { printf '\n==> %s\n\n' "$*"; }

# expect CODE COMMAND...: run COMMAND and stop the demo unless it exits with CODE.
expect() {
  local want=$1 got=0
  shift
  "$@" || got=$?
  if [ "$got" -ne "$want" ]; then
    printf '\ndemo: `%s` exited %s, expected %s\n' "$*" "$got" "$want" >&2
    exit 1
  fi
}

section "Reset the embedded emulator to the demo distributor ($STATE)"
mkdir -p "$STATE"
rm -f "$STATE/journal.sqlite" "$STATE/journal.sqlite-wal" "$STATE/journal.sqlite-shm" "$PLAN"
expect 0 reconciler emulator reset --demo

section "Plan: what would change (saved for review in $PLAN)"
expect 2 reconciler plan "$MANIFESTS" --detailed-exitcode --out "$PLAN"

section "Apply the reviewed plan: every write journalled, verified, exactly once"
expect 0 reconciler apply --plan "$PLAN" --report "$STATE/demo-report.json" \
  --manual-steps "$STATE/demo-manual-steps.md"

section "A person does the manual steps in Partner Center (played on the emulator)"
expect 2 reconciler plan "$MANIFESTS" --detailed-exitcode --format json --out "$PLAN" >/dev/null
python3 - "$PLAN" <<'PY' | while read -r customer manager; do
import json
import sys

for change in json.load(open(sys.argv[1], encoding="utf-8"))["changes"]:
    if change["kind"] == "account-manager":
        print(change["key"].split("/", 1)[1], change["after"]["account_manager"] or "--none")
PY
  expect 0 reconciler emulator assign-manager "$customer" "$manager"
done

section "Two declared states apply cannot reach: the customers do their part (played on the emulator)"
# A customer that has not granted the agency grants it; an expired resource is renewed.
python - "$PLAN" <<'PY' | while read -r action object; do
import json
import sys

for notice in json.load(open(sys.argv[1], encoding="utf-8"))["notices"]:
    if notice["level"] == "not-applicable" and notice["kind"] == "auto-renew":
        _, customer, resource = notice["key"].split("/")
        if "agency" in notice["message"]:
            print("grant-agency", customer)
        elif "expired" in notice["message"] or "frozen" in notice["message"]:
            print("renew-resource", resource)
PY
  if [ "$action" = grant-agency ]; then
    expect 0 reconciler emulator grant-agency "$object"
  else
    expect 0 reconciler emulator renew-resource "$object" --until 2030-01-01T00:00:00Z
  fi
done

section "Plan and apply what is now reachable"
expect 2 reconciler plan "$MANIFESTS" --detailed-exitcode --out "$PLAN"
expect 0 reconciler apply --plan "$PLAN"

section "Plan again: nothing left to do"
expect 0 reconciler plan "$MANIFESTS" --detailed-exitcode
