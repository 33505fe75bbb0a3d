#!/usr/bin/env bash
# shuffle.sh SIZE [WORKERS] — shuffle-heavy identity jobs, whose map output is as large as their
# input, beside `LC_ALL=C sort` of the same text (SIZE e.g. 512m; the corpus of make_corpus.sh):
#   grep   `mr run --job grep --arg pattern=.` (every non-empty line, keyed by file and offset)
#   cat    `mr run --mapper cat` (streaming pass-through: each line, without a trailing CR, is a
#          key; each part holds its hash partition's lines in sorted order)
# Each program runs REPS times (default 2). Checks: grep writes one line per non-empty input line;
# the streaming output has one line per input line, each part in order (sort -c). Prints markdown
# rows: wall s, MiB/s, CPU s (user + sys of all processes), peak RSS, other CPU, check.
# Environment: BENCH_DIR, BUILD_DIR, REPS, SKIP_BUILD=1 (as in wordcount.sh).
set -eu

[[ $# -ge 1 && $# -le 2 ]] || { echo "usage: $0 SIZE [WORKERS]   (SIZE e.g. 512m)" >&2; exit 2; }
size_arg=$1
workers=${2:-2}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${BUILD_DIR:-$repo/build}
bench=${BENCH_DIR:-/tmp/mr-bench}
reps=${REPS:-2}
mr=$build/client/mr

if [[ ${SKIP_BUILD:-0} != 1 ]]; then cmake --build "$build" --target mr >&2; fi
mkdir -p "$bench"
corpus=$bench/corpus-$size_arg.txt
"$here/make_corpus.sh" "$size_arg" "$corpus" >&2
bytes=$(stat -c %s "$corpus")
nonempty=$(grep -c . "$corpus" || true)
cat "$corpus" > /dev/null
work=$(mktemp -d "$bench/shuffle-XXXXXX")
trap 'rm -rf "$work"' EXIT

busy() { awk '/^cpu / { printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / 100 }' /proc/stat; }
row() {  # row PROGRAM WALL USER SYS PEAK OTHER CHECK
  awk -v p="$1" -v w="$2" -v u="$3" -v s="$4" -v m="$5" -v o="$6" -v c="$7" -v b="$bytes" -v sz="$size_arg" \
    'BEGIN { printf "| %s | %s | %.2f | %.0f | %.2f | %s | %.2f | %s |\n", sz, p, w, b / 1048576 / w, u + s, m, o, c }'
}
timed() {  # timed LABEL COMMAND... -> sets wall user sys rss other
  local b0 b1
  b0=$(busy)
  /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" "$@" > "$work/cmd.txt" 2>&1 || { cat "$work/cmd.txt" >&2; return 1; }
  b1=$(busy)
  read -r wall user sys rss < "$work/time.txt"
  other=$(awk -v a="$b0" -v b="$b1" -v u="$user" -v s="$sys" 'BEGIN { o = b - a - u - s; printf "%.2f", o < 0 ? 0 : o }')
}

echo "| input | program | wall s | MiB/s | CPU s | peak RSS | other CPU s | check |"
echo "|---|---|---|---|---|---|---|---|"
ok=1
for ((r = 0; r < reps; r++)); do
  rm -f "$work/sorted.txt"
  timed env LC_ALL=C sort -S 256M --parallel=2 -o "$work/sorted.txt" "$corpus"
  row "LC_ALL=C sort -S 256M --parallel=2" "$wall" "$user" "$sys" "$(awk -v k="$rss" 'BEGIN { printf "%.0f MiB", k / 1024 }')" "$other" reference

  rm -rf "$work/grep"
  if timed "$mr" run --job grep --arg pattern=. --input "$corpus" --output "$work/grep" --workers "$workers" --reducers "$workers"; then
    lines=$(cat "$work/grep"/part-r-* | wc -l)
    check=ok; [[ $lines == "$nonempty" ]] || { check="$lines lines, want $nonempty"; ok=0; }
    row "mr grep pattern=. ($workers workers, $workers reducers)" "$wall" "$user" "$sys" "$(sed -n 's/^peak memory: //p' "$work/cmd.txt")" "$other" "$check"
  else ok=0; fi

  rm -rf "$work/cat"
  if timed "$mr" run --mapper cat --input "$corpus" --output "$work/cat" --workers "$workers" --reducers "$workers"; then
    check=ok
    lines=$(cat "$work/cat"/part-r-* | wc -l)
    [[ $lines == $(wc -l < "$corpus") ]] || { check="$lines lines"; ok=0; }
    for part in "$work/cat"/part-r-*; do
      LC_ALL=C sort -c "$part" 2> /dev/null || { check="$(basename "$part") out of order"; ok=0; }
    done
    row "mr streaming --mapper cat ($workers workers, $workers reducers)" "$wall" "$user" "$sys" "$(sed -n 's/^peak memory: //p' "$work/cmd.txt")" "$other" "$check"
  else ok=0; fi
done
[[ $ok == 1 ]]
