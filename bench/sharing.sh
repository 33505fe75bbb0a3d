#!/usr/bin/env bash
# sharing.sh — a small job's latency on a cluster a large job keeps busy (README "Sharing the
# cluster"). One master and two workers of 2 slots on loopback. Each of REPS rounds (default 5):
#   small alone   `mr submit --wait` of a word count of SMALL (default 10m) on the idle cluster;
#   large alone   a word count of LARGE (default 1g, --split-size 32m), its elapsed time;
#   large + small the large one again, and once its first map is done (every slot busy) the
#                 small one, timed as above; then the large one's elapsed time beside it.
# Prints a row per round and the medians, with the large job's median map task time (one task of
# it is what a new job waits for at most before its first slot).
# Environment: BENCH_DIR (default /tmp/mr-bench), BUILD_DIR, REPS, SMALL, LARGE, SKIP_BUILD=1.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${BUILD_DIR:-$repo/build}
bench=${BENCH_DIR:-/tmp/mr-bench}
reps=${REPS:-5}
small_size=${SMALL:-10m}
large_size=${LARGE:-1g}
mr=$build/client/mr

if [[ ${SKIP_BUILD:-0} != 1 ]]; then cmake --build "$build" --target mr >&2; fi
mkdir -p "$bench"
small=$bench/corpus-$small_size.txt
large=$bench/corpus-$large_size.txt
"$here/make_corpus.sh" "$small_size" "$small" >&2
"$here/make_corpus.sh" "$large_size" "$large" >&2

work=$(mktemp -d "$bench/sharing-XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2> /dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

"$mr" master --listen 127.0.0.1:0 --http 127.0.0.1:0 --data-dir "$work/master" --history-jobs 1000 \
  > "$work/master.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -s $work/master/ADDRESS ]] && break; sleep 0.1; done
rpc=$(awk '$1 == "rpc" { print $2 }' "$work/master/ADDRESS")
for w in 1 2; do
  "$mr" worker --master "$rpc" --data-dir "$work/w$w" --slots 2 > "$work/w$w.log" 2>&1 &
  pids+=($!)
done
for _ in $(seq 100); do
  [[ $("$mr" workers --master "$rpc" --json | grep -c '"shuffle_address"') -ge 2 ]] && break
  sleep 0.1
done

now_ms() { date +%s%3N; }
field() {  # field JOB KEY: a top-level value of `mr status JOB --json`
  "$mr" status "$1" --master "$rpc" --json | python3 -c "import json, sys; print(json.load(sys.stdin)['$2'])"
}
run_small() {  # run_small OUT: prints the wall ms of `mr submit --wait` of the small job
  local t0 t1
  t0=$(now_ms)
  "$mr" submit --master "$rpc" --job wordcount --input "$small" --output "$work/$1" --wait --show 0 > /dev/null
  t1=$(now_ms)
  echo $((t1 - t0))
}
submit_large() {  # submit_large OUT: prints the job id
  "$mr" submit --master "$rpc" --job wordcount --input "$large" --output "$work/$1" --split-size 32m --quiet
}
large_elapsed() {  # waits for the job; prints its elapsed ms
  "$mr" wait "$1" --master "$rpc" --show 0 > /dev/null
  field "$1" elapsed_ms
}

echo "| round | small alone ms | small behind large ms | large alone s | large beside small s |"
echo "|---|---|---|---|---|"
: > "$work/rows"
large_ids=()
for ((r = 1; r <= reps; r++)); do
  alone=$(run_small "small-alone-$r")
  id=$(submit_large "large-alone-$r")
  large_alone=$(large_elapsed "$id")
  large_ids+=("$id")
  id=$(submit_large "large-$r")
  for _ in $(seq 600); do
    done_maps=$("$mr" status "$id" --master "$rpc" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["maps"]["done"])')
    [[ ${done_maps:-0} -ge 1 ]] && break
    sleep 0.1
  done
  behind=$(run_small "small-behind-$r")
  large_beside=$(large_elapsed "$id")
  echo "$alone $behind $large_alone $large_beside" >> "$work/rows"
  awk -v r="$r" -v a="$alone" -v b="$behind" -v la="$large_alone" -v lb="$large_beside" \
    'BEGIN { printf "| %d | %d | %d | %.2f | %.2f |\n", r, a, b, la / 1000, lb / 1000 }'
done

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# The large job's map task times, from its history in the API.
http=$(awk '$1 == "http" { print $2 }' "$work/master/ADDRESS")
task_ms=$(for id in "${large_ids[@]}"; do
  curl -s "http://$http/api/jobs/$id" |
    python3 -c 'import json, sys; [print(t["duration_ms"]) for t in json.load(sys.stdin)["tasks"] if t["kind"] == "map"]'
done | median)
echo
echo "| small alone ms (median) | small behind large ms | large map task ms | goal: 2 x alone + one task | large alone s | large beside small s |"
echo "|---|---|---|---|---|---|"
a=$(cut -d' ' -f1 "$work/rows" | median)
b=$(cut -d' ' -f2 "$work/rows" | median)
la=$(cut -d' ' -f3 "$work/rows" | median)
lb=$(cut -d' ' -f4 "$work/rows" | median)
awk -v a="$a" -v b="$b" -v t="$task_ms" -v la="$la" -v lb="$lb" \
  'BEGIN { printf "| %d | %d | %d | %d | %.2f | %.2f |\n", a, b, t, 2 * a + t, la / 1000, lb / 1000 }'
