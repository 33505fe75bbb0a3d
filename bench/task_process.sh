#!/usr/bin/env bash
# task_process.sh [SIZE] — what running user code in task processes costs (worker/task_process.h;
# the goal is within 5%): the plugin word count (jobs/examples/wordcount_plugin.cc) with this
# tree's mr against OTHER_MR, an mr built from a tree that ran plugins inside the worker, on the
# same SIZE corpus (default 1g, make_corpus.sh), in turn, REPS pairs (default 3), `mr run
# --workers 2`. Both outputs must be identical. Prints a markdown row per run and the median wall
# and CPU seconds of each with their ratio.
#
#   git worktree add /tmp/mr-before 29bfd35 && cmake -S /tmp/mr-before -B /tmp/mr-before/build \
#     -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build /tmp/mr-before/build --target mr wordcount_plugin
#   OTHER_MR=/tmp/mr-before/build/client/mr OTHER_PLUGIN=/tmp/mr-before/build/jobs/libwordcount_plugin.so \
#     bench/task_process.sh 1g
#
# Environment: OTHER_MR and OTHER_PLUGIN (required), BENCH_DIR (default /tmp/mr-bench), BUILD_DIR,
# REPS, SKIP_BUILD=1.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/timing.sh"
size=${1:-1g}
: "${OTHER_MR:?set OTHER_MR to an mr that runs plugins in the worker (see the top of this script)}"
: "${OTHER_PLUGIN:?set OTHER_PLUGIN to the wordcount_plugin library of that tree}"
bench_setup "$size" mr wordcount_plugin
plugin=$build/jobs/libwordcount_plugin.so
work=$(mktemp -d "$bench/task-process-XXXXXX")
trap 'rm -rf "$work"' EXIT

# run NAME MR PLUGIN N: one timed run; appends "wall cpu" to $work/NAME.times.
run() {
  local name=$1 bin=$2 lib=$3 n=$4 out=$work/$1-$4
  timed "$name" "$size" "$n" "$work/$name.times" "$work/$name.log" \
    "$bin" run --job wc-plugin --job-lib "$lib" --input "$corpus" --output "$out" --workers 2
  cat "$out"/part-* | sort > "$work/$name.sorted"
  rm -rf "$out"
}

echo "| mr | input | run | wall | CPU |"
echo "|---|---|---|---|---|"
for n in $(seq 1 "$reps"); do
  run task-process "$mr" "$plugin" "$n"
  run in-worker "$OTHER_MR" "$OTHER_PLUGIN" "$n"
  cmp -s "$work/task-process.sorted" "$work/in-worker.sorted" || { echo "outputs differ" >&2; exit 1; }
done
tw=$(median "$work/task-process.times" 1); tc=$(median "$work/task-process.times" 2)
iw=$(median "$work/in-worker.times" 1); ic=$(median "$work/in-worker.times" 2)
printf '\nmedian: task processes %.2f s (%.1f CPU-s), in the worker %.2f s (%.1f CPU-s): %.3fx wall, %.3fx CPU\n' \
  "$tw" "$tc" "$iw" "$ic" "$(echo "$tw / $iw" | bc -l)" "$(echo "$tc / $ic" | bc -l)"
