#!/usr/bin/env bash
# map_only.sh [SIZE] — what a map-only job saves (--reducers 0, DESIGN §3): `grep pattern=.` (every
# line, so all of the input is output) over the SIZE corpus (default 256m, make_corpus.sh), as a
# map-only job and as the same job with one reducer (sorted, spilled to the store, shuffled and
# merged), in turn, REPS pairs (default 3), `mr run --workers 2`. The two outputs must be the same
# bytes: grep's keys (FILE:OFFSET) sort in input order, and a map-only job's parts, concatenated,
# are in input order. Prints a markdown row per run and the median wall and CPU seconds of each.
#
# Environment: BENCH_DIR (default /tmp/mr-bench), BUILD_DIR, REPS, SKIP_BUILD=1.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/timing.sh"
size=${1:-256m}
bench_setup "$size" mr
work=$(mktemp -d "$bench/map-only-XXXXXX")
trap 'rm -rf "$work"' EXIT

# run NAME REDUCERS N: one timed run; appends "wall cpu" to $work/NAME.times.
run() {
  local name=$1 reducers=$2 n=$3 out=$work/$1-$3
  timed "$name" "$size" "$n" "$work/$name.times" "$work/$name.log" \
    "$mr" run --job grep --arg pattern=. --input "$corpus" --output "$out" --reducers "$reducers" --workers 2 --show 0
  cat "$out"/part-* | md5sum > "$work/$name.sum"
  rm -rf "$out"
}

echo "| job | input | run | wall | CPU |"
echo "|---|---|---|---|---|"
for n in $(seq 1 "$reps"); do
  run map-only 0 "$n"
  run one-reducer 1 "$n"
  cmp -s "$work/map-only.sum" "$work/one-reducer.sum" || { echo "outputs differ" >&2; exit 1; }
done
mw=$(median "$work/map-only.times" 1); mc=$(median "$work/map-only.times" 2)
rw=$(median "$work/one-reducer.times" 1); rc=$(median "$work/one-reducer.times" 2)
printf '\nmedian: map-only %.2f s (%.1f CPU-s), one reducer %.2f s (%.1f CPU-s): %.2fx faster, %.2fx less CPU\n' \
  "$mw" "$mc" "$rw" "$rc" "$(echo "$rw / $mw" | bc -l)" "$(echo "$rc / $mc" | bc -l)"
