#!/usr/bin/env bash
# Runs one fuzz target for a bounded time on its corpus.
#   run.sh BINARY CORPUS SECONDS          new inputs go to a temporary dir (make test)
#   run.sh BINARY CORPUS SECONDS --keep   new inputs are added to CORPUS (make fuzz)
# A crash, sanitizer report, leak or timeout fails the run; the input that
# caused it is left in <binary dir>/findings/.
set -euo pipefail
bin=$1 corpus=$2 secs=$3 keep=${4:-}
mkdir -p "$corpus"
findings="$(dirname "$bin")/findings"
mkdir -p "$findings"
if [[ "$keep" == --keep ]]; then
  dirs=("$corpus")
else
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  dirs=("$scratch" "$corpus")
fi
log=$(mktemp)
status=0
"$bin" -max_total_time="$secs" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$findings/" -print_final_stats=1 "${dirs[@]}" >"$log" 2>&1 || status=$?
grep -v -E '^#[0-9]+' "$log" | tail -40 || true
rm -f "$log"
if [[ $status -ne 0 ]]; then
  echo "fuzz: $(basename "$bin") failed (exit $status); the input is in $findings" >&2
  exit "$status"
fi
echo "fuzz: $(basename "$bin") ran ${secs}s with no finding"
