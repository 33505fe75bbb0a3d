#!/usr/bin/env bash
# codecs.sh [SIZE] — what compressing map output costs where the network is free: the
# shuffle-heavy jobs with each intermediate codec (none, lz4, zstd), in turn, REPS rounds
# (default 3), `mr run --workers 2 --reducers 2` on loopback:
#   grep      `--job grep --arg pattern=.` over the SIZE corpus (make_corpus.sh; default 512m)
#   terasort  over SIZE of `mr teragen --ascii` rows
# Each codec's output must be the same bytes as the first one's. Prints a markdown row per run
# and the median wall and CPU seconds of each (job, codec) with its ratio to `none`.
# (bench/network_shuffle.sh runs the same jobs across hosts whose links are limited.)
#
# Environment: BENCH_DIR (default /tmp/mr-bench), BUILD_DIR, REPS, SKIP_BUILD=1.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/timing.sh"
size=${1:-512m}
bench_setup "$size" mr
codecs=(none lz4 zstd)
tera=$bench/teragen-$size
if [[ ! -f $tera/_SUCCESS ]]; then
  rm -rf "$tera"
  "$mr" teragen $(($(stat -c %s "$corpus") / 100)) "$tera" --ascii --workers 2 >&2
fi
cat "$tera"/part-* > /dev/null
work=$(mktemp -d "$bench/codecs-XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "| job, codec | input | run | wall | CPU |"
echo "|---|---|---|---|---|"
for n in $(seq 1 "$reps"); do
  for job in grep terasort; do
    for codec in "${codecs[@]}"; do
      if [[ $job == grep ]]; then args=(--job grep --arg pattern=. --input "$corpus"); else args=(--job terasort --input "$tera"); fi
      out=$work/$job-$codec
      timed "$job, $codec" "$size" "$n" "$work/$job-$codec.times" "$work/$job-$codec.log" \
        "$mr" run "${args[@]}" --output "$out" --workers 2 --reducers 2 --intermediate-codec "$codec" --show 0
      cat "$out"/part-* | md5sum > "$work/$job-$codec.sum"
      rm -rf "$out"
      cmp -s "$work/$job-${codecs[0]}.sum" "$work/$job-$codec.sum" || { echo "$job: $codec's output differs" >&2; exit 1; }
    done
  done
done
echo
for job in grep terasort; do
  bw=$(median "$work/$job-none.times" 1); bc_=$(median "$work/$job-none.times" 2)
  for codec in "${codecs[@]}"; do
    w=$(median "$work/$job-$codec.times" 1); c=$(median "$work/$job-$codec.times" 2)
    printf 'median %s, %s: %.2f s (%.1f CPU-s), %.2fx the wall and %.2fx the CPU of none\n' "$job" "$codec" "$w" "$c" \
      "$(echo "$w / $bw" | bc -l)" "$(echo "$c / $bc_" | bc -l)"
  done
done
