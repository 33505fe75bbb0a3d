#!/usr/bin/env bash
# small_files.sh [FILES] [RUNS] — times `mr run --job wordcount` over FILES one-line files (default
# 20000) in one directory, RUNS times (default 3), and prints each run's wall seconds, the job's map
# task count and the peak RSS of the processes, as `mr run` reports it. The files are generated
# under BENCH_DIR and never committed.
#
# Environment: BENCH_DIR (default /tmp/mr-bench), BUILD_DIR (default <repo>/build), MR_FLAGS.
set -eu

files=${1:-20000}
runs=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${BUILD_DIR:-$repo/build}
bench=${BENCH_DIR:-/tmp/mr-bench}
mr_bin=$build/client/mr
input="$bench/small-$files"

if [ ! -f "$input/.complete" ]; then
  echo "generating $files one-line files in $input ..." >&2
  rm -rf "$input" && mkdir -p "$input"
  (cd "$input" && for ((i = 0; i < files; i++)); do
     printf 'line %d of a small file\n' "$i" > "f$(printf %06d "$i").txt"
   done)
  touch "$input/.complete"  # hidden: not an input
fi

for ((r = 1; r <= runs; r++)); do
  out="$bench/small-out"
  start=$(date +%s.%N)
  "$mr_bin" run --job wordcount --input "$input" --output "$out" --overwrite --workers 2 ${MR_FLAGS:-} \
    > "$bench/small-run.txt"
  end=$(date +%s.%N)
  wall=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }')
  maps=$(grep -o '[0-9]* maps' "$bench/small-run.txt" | head -1 || true)
  mem=$(awk -F': ' '/^peak memory/ {print $2}' "$bench/small-run.txt")
  echo "run $r: ${wall} s, ${maps:-? maps}, peak memory ${mem:-?}"
done
