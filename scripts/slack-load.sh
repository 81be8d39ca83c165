#!/usr/bin/env bash
# Slack load figures (docs/benchmarks.md, section "Slack"), bot and load tool on one machine.
#
# Builds the release binaries, then runs `peerpulse-load` against the real `peerpulse run`:
#   1. answers: signed block_actions clicks from distinct members, RATE/s for DURATION s
#      (default 2,000/s for 60 s; the team has RATE x DURATION members, set up over HTTP);
#   2. warm fan-out: `/pulse start` for FANOUT members (default 10,000) whose DM channels are
#      known, against a sink that enforces Slack's rate limits;
#   3. cold fan-out: COLD members (default 200) with no DM channel known, so every prompt
#      needs conversations.open (Tier 3, 50/min): about four minutes.
# LADDER="500 1000" adds answer runs at those rates (same DURATION), to find the sustainable
# rate. Each run prints its figures and whether its targets were met; the script exits 1 if
# any target was missed.
#
# Usage: bash scripts/slack-load.sh        (env RATE, DURATION, FANOUT, COLD, LADDER)
set -euo pipefail

cd "$(dirname "$0")/.."
RATE="${RATE:-2000}"
DURATION="${DURATION:-60}"
FANOUT="${FANOUT:-10000}"
COLD="${COLD:-200}"
LADDER="${LADDER:-}"

cargo build --release --bins --quiet
LOAD="$PWD/target/release/peerpulse-load"
status=0

run() {
    echo
    echo "\$ peerpulse-load $*"
    "$LOAD" "$@" || status=1
}

echo "$(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
run --rate "$RATE" --duration "$DURATION"
for rate in $LADDER; do
    run --rate "$rate" --duration "$DURATION"
done
run --fanout "$FANOUT"
run --fanout "$COLD" --cold
exit "$status"
