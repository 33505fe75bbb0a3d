#!/usr/bin/env bash
# logs.sh [SIZE_MB] — benchmarks the `logs` job (by=status, by=path, by=hour) on generated access
# logs (scripts/gen_logs.py, default 1024 MB) against awk doing the same aggregation on the same
# file, and prints markdown table rows for RESULTS.md.
#
# The awk programs count by whitespace-separated fields ($9 status, $7 path, the local hour of $4)
# without validating lines or converting time zones, so they do less work than `logs` (which
# parses each line fully, rejects impossible dates and buckets hours in UTC); their totals differ
# by the malformed lines. The comparison is of speed, on the same input from the page cache.
#
# Environment: BENCH_DIR (default /tmp/mr-bench), BUILD_DIR (default <repo>/build), MR_FLAGS.
set -eu

size_mb=${1:-1024}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${BUILD_DIR:-$repo/build}
bench=${BENCH_DIR:-/tmp/mr-bench}
mr_bin=$build/client/mr
mkdir -p "$bench"

cmake --build "$build" --target mr > /dev/null
input="$bench/access-${size_mb}m.log"
if [ ! -s "$input" ]; then
  echo "generating $input ..." >&2
  python3 "$repo/scripts/gen_logs.py" "$size_mb" --seed 1 > "$input.tmp"
  mv "$input.tmp" "$input"
fi
cat "$input" > /dev/null  # into the page cache
bytes=$(stat -c %s "$input")
awk_bin=$(readlink -f "$(command -v awk)")

# Prints "wall_seconds" for a command, its stdout to $2.
timed() {
  local out=$1; shift
  local start end
  start=$(date +%s.%N)
  "$@" > "$out"
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }'
}

echo "| input | aggregation | program | wall s | MB/s | peak RSS | notes |"
echo "|---|---|---|---|---|---|---|"
for by in status path hour; do
  out="$bench/logs-out-$by"
  rm -rf "$out"
  wall=$(timed "$bench/logs-run.txt" "$mr_bin" run --job logs --arg by=$by --input "$input" --output "$out" \
    --workers 2 ${MR_FLAGS:-})
  mem=$(awk -F': ' '/^peak memory/ {print $2}' "$bench/logs-run.txt")
  malformed=$(awk '$1 == "logs.malformed" {print $2}' "$bench/logs-run.txt")
  keys=$(cat "$out"/part-r-* | wc -l)
  echo "| $((bytes >> 20)) MiB | by=$by | \`mr run --job logs --workers 2\` | $wall | $(awk -v b="$bytes" -v w="$wall" 'BEGIN { printf "%.0f", b / 1048576 / w }') | $mem | $keys keys, logs.malformed $malformed |"
  rm -rf "$out"
  case $by in
    status) prog='{ c[$9]++ } END { for (k in c) print k "\t" c[k] }' ;;
    path) prog='{ c[$7]++ } END { for (k in c) print k "\t" c[k] }' ;;
    hour) prog='{ split($4, t, /[\[\/:]/); c[t[4] "-" t[3] "-" t[2] "T" t[5]]++ } END { for (k in c) print k "\t" c[k] }' ;;
  esac
  wall=$(timed "$bench/awk-out.txt" "$awk_bin" "$prog" "$input")
  keys=$(wc -l < "$bench/awk-out.txt")
  echo "| $((bytes >> 20)) MiB | by=$by | \`$(basename "$awk_bin")\` (no validation, local hour) | $wall | $(awk -v b="$bytes" -v w="$wall" 'BEGIN { printf "%.0f", b / 1048576 / w }') | - | $keys keys |"
done
rm -f "$bench/logs-run.txt" "$bench/awk-out.txt"
