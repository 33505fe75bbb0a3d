#!/usr/bin/env bash
# weblog.sh [SIZE_MB] — benchmarks the one-pass `weblog` report next to GoAccess on the same file:
# generated clean Combined logs (scripts/gen_logs.py --clean: every line valid for both, IP
# clients only), default 1024 MB. Prints markdown table rows for RESULTS.md and the `general`
# totals of both, which must agree.
#
# mr: `mr run --job weblog --workers 2` then `mr report --json`, each run REPS times (default 3;
# the fastest and all times are shown, as the machine is shared). GoAccess: one run of
# `goaccess FILE --log-format=COMBINED -o report.json` (single-threaded; its default settings).
# CPU seconds (user + sys, all processes) are shown too: on a shared machine they are the steadier
# figure, and "CPU ratio" compares GoAccess's CPU time with mr's spread over its 2 workers.
#
# Environment: BENCH_DIR (default /tmp/mr-bench), BUILD_DIR (default <repo>/build), REPS.
set -eu

size_mb=${1:-1024}
reps=${REPS:-3}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${BUILD_DIR:-$repo/build}
bench=${BENCH_DIR:-/tmp/mr-bench}
mr_bin=$build/client/mr
mkdir -p "$bench"
command -v goaccess > /dev/null || { echo "weblog.sh: goaccess is not installed (apt-get install goaccess)" >&2; exit 2; }

cmake --build "$build" --target mr > /dev/null
input="$bench/access-clean-${size_mb}m.log"
if [ ! -s "$input" ]; then
  echo "generating $input ..." >&2
  python3 "$repo/scripts/gen_logs.py" "$size_mb" --seed 1 --clean > "$input.tmp"
  mv "$input.tmp" "$input"
fi
cat "$input" > /dev/null  # into the page cache
bytes=$(stat -c %s "$input")
lines=$(wc -l < "$input")

now() { date +%s.%N; }
secs() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.2f", e - s }'; }
rate() { awk -v b="$bytes" -v w="$1" 'BEGIN { printf "%.0f", b / 1048576 / w }'; }

out="$bench/weblog-out"
times=()
best=""
for i in $(seq "$reps"); do
  rm -rf "$out"
  start=$(now)
  /usr/bin/time -f "%U %S" -o "$bench/weblog-cpu.txt" \
    "$mr_bin" run --job weblog --input "$input" --output "$out" --workers 2 --reducers 2 > "$bench/weblog-run.txt"
  /usr/bin/time -f "%U %S" -a -o "$bench/weblog-cpu.txt" "$mr_bin" report "$out" --json > "$bench/weblog-report.json"
  end=$(now)
  t=$(secs "$start" "$end")
  times+=("$t")
  if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then
    best=$t
    mem=$(awk -F': ' '/^peak memory/ {print $2}' "$bench/weblog-run.txt")
    cpu=$(awk '{ c += $1 + $2 } END { printf "%.2f", c }' "$bench/weblog-cpu.txt")
  fi
done

start=$(now)
/usr/bin/time -f "%M %U %S" -o "$bench/goaccess-rss.txt" goaccess "$input" --log-format=COMBINED --no-progress \
  -o "$bench/goaccess.json" > /dev/null 2>&1
end=$(now)
ga=$(secs "$start" "$end")
ga_rss=$(awk '{ printf "%.1f MiB", $1 / 1024 }' "$bench/goaccess-rss.txt")
ga_cpu=$(awk '{ printf "%.2f", $2 + $3 }' "$bench/goaccess-rss.txt")

echo "| input | program | wall s | MiB/s | CPU s | peak RSS | notes |"
echo "|---|---|---|---|---|---|---|"
echo "| $((bytes >> 20)) MiB, $lines lines | \`mr run --job weblog --workers 2\` + \`mr report --json\` | **$best** (best of $reps: ${times[*]}) | $(rate "$best") | $cpu | $mem | every panel, one pass |"
echo "| $((bytes >> 20)) MiB, $lines lines | \`goaccess --log-format=COMBINED -o report.json\` | $ga | $(rate "$ga") | $ga_cpu | $ga_rss | GoAccess $(goaccess --version | head -1 | awk '{print $3}') |"
echo
awk -v g="$ga" -v m="$best" -v gc="$ga_cpu" -v mc="$cpu" \
  'BEGIN { printf "wall-clock speed-up: %.1fx; CPU ratio (GoAccess CPU / (mr CPU / 2)): %.1fx\n", g / m, gc / (mc / 2) }'
python3 - "$bench/weblog-report.json" "$bench/goaccess.json" <<'PY'
import json, sys
mr, ga = (json.load(open(p))['general'] for p in sys.argv[1:3])
fields = ['total_requests', 'valid_requests', 'failed_requests', 'unique_visitors', 'unique_files',
          'unique_static_files', 'unique_not_found', 'bandwidth']
for f in fields:
    print('%-20s mr %-14s goaccess %-14s %s' % (f, mr[f], ga[f], 'ok' if mr[f] == ga[f] else 'DIFFERENT'))
PY
rm -rf "$out" "$bench/weblog-run.txt" "$bench/weblog-cpu.txt"
