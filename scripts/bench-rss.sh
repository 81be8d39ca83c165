#!/usr/bin/env bash
# Idle memory of `peerpulse chat` holding a team of 10,000 members.
#
# Builds the release binary, then feeds `peerpulse chat` (reading stdin, as a person typing
# would) through a FIFO in two phases, sampling /proc/PID/status while it idles after each:
#   1. `/pulse setup` by user0, then `/as userN` + `/pulse join` for user1..user9999
#      (10,000 members in all);
#   2. `/clock next mon 10:00`, which prompts all 10,000 members (and delivers the prompts).
# A sentinel `/as` line after each phase tells when the bot has worked through it.
#
# Usage: bash scripts/bench-rss.sh [MEMBERS]   (default 10000; env IDLE_SECONDS, default 5)
set -euo pipefail

cd "$(dirname "$0")/.."
MEMBERS="${1:-10000}"
IDLE_SECONDS="${IDLE_SECONDS:-5}"

cargo build --release --quiet
BIN="$PWD/target/release/peerpulse"

WORK="$(mktemp -d)"
PID=""
cleanup() {
    exec 3>&- 2>/dev/null || true
    if [[ -n "$PID" ]] && kill -0 "$PID" 2>/dev/null; then kill "$PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

{
    echo "/pulse setup"
    for ((i = 1; i < MEMBERS; i++)); do
        echo "/as user$i"
        echo "/pulse join"
    done
    echo "/as joined-sentinel"
} >"$WORK/join.txt"
{
    echo "/as user0"
    echo "/clock next mon 10:00"
    echo "/as prompted-sentinel"
} >"$WORK/prompt.txt"

mkfifo "$WORK/in"
# The config file is not read (nothing in it matters here); the default user is `me`, so the
# first line switches to user0 before the setup.
(cd "$WORK" && exec "$BIN" chat --db "$WORK/rss.db" --now 2026-11-29T12:00 <"$WORK/in" >"$WORK/out.txt" 2>"$WORK/err.txt") &
PID=$!
exec 3>"$WORK/in"
echo "/as user0" >&3

status() { grep -E "^$1:" "/proc/$PID/status" | awk '{print $2}'; }
mib() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }

wait_for() {
    local needle="$1" started=$SECONDS
    until grep -q -- "$needle" "$WORK/out.txt" 2>/dev/null; do
        if ! kill -0 "$PID" 2>/dev/null; then
            echo "peerpulse exited early:" >&2
            tail -5 "$WORK/err.txt" >&2
            exit 1
        fi
        sleep 0.2
    done
    echo "  worked through in $((SECONDS - started)) s"
}

# Samples VmRSS every 0.5 s for IDLE_SECONDS while the bot idles; prints the last sample
# (after the allocator settles) and the high-water mark so far.
sample() {
    local label="$1" rss=0 n
    n=$(awk -v s="$IDLE_SECONDS" 'BEGIN { print int(s * 2) }')
    for ((k = 0; k < n; k++)); do
        sleep 0.5
        rss=$(status VmRSS)
    done
    local hwm
    hwm=$(status VmHWM)
    printf '%-34s VmRSS %7s MiB   VmHWM (peak so far) %7s MiB\n' "$label" "$(mib "$rss")" "$(mib "$hwm")"
}

echo "peerpulse chat, $MEMBERS members ($(nproc) cores, $(date -u +%Y-%m-%d))"
echo "phase 1: setup + $((MEMBERS - 1)) joins"
cat "$WORK/join.txt" >&3
wait_for "(you are @joined-sentinel)"
sample "idle after $MEMBERS members joined:"

echo "phase 2: /clock next mon 10:00 (prompts everyone)"
cat "$WORK/prompt.txt" >&3
wait_for "(you are @prompted-sentinel)"
sample "idle after $MEMBERS prompts:"

joins=$(grep -c "You're in " "$WORK/out.txt" || true)
prompts=$(grep -c "Weekly check-in" "$WORK/out.txt" || true)
db_kib=$(du -sk "$WORK"/rss.db* | awk '{ s += $1 } END { print s }')
echo "joins confirmed: $joins; prompts printed: $prompts; database on disk: $(mib "$db_kib") MiB"

exec 3>&-
wait "$PID"
PID=""
