#!/usr/bin/env bash
# terasort.sh SIZE [WORKERS] — `mr run --job terasort` against GNU sort on the same records, pair
# by pair (SIZE e.g. 1g, 4g: SIZE / 100 rows).
#
# Steps: builds `mr`, writes SIZE of ASCII TeraSort records with `mr teragen ROWS DIR --ascii`
# under $BENCH_DIR (once; reused), concatenates the parts into one file for sort, then REPS times:
# `LC_ALL=C sort -S 256M --parallel=2` of that file, and `mr run --job terasort --workers WORKERS
# --reducers WORKERS` of the same records. Each mr output is checked with `mr teravalidate --input`
# and compared byte for byte with sort's output (cmp; keys are random, so ties do not matter).
# Prints one markdown row per run: wall s, MiB/s, CPU s (user + sys of all processes), peak RSS
# (every mr process), the other CPU the machine used meanwhile, and the check.
#
# Environment: BENCH_DIR (default /tmp/mr-bench), BUILD_DIR (default <repo>/build), REPS (default
# 3), MR_FLAGS (extra `mr run` flags), SKIP_BUILD=1, WAIT_IDLE=1 (wait until the machine is >= 90%
# idle before each timed run), KEEP=1 (keep the outputs of the last run).
# Exit status: 0 when every mr run succeeded and validated, 1 otherwise.
set -eu

[[ $# -ge 1 && $# -le 2 ]] || { echo "usage: $0 SIZE [WORKERS]   (SIZE e.g. 1g, 4g)" >&2; exit 2; }
size_arg=$1
workers=${2:-2}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${BUILD_DIR:-$repo/build}
bench=${BENCH_DIR:-/tmp/mr-bench}
reps=${REPS:-3}
mr_flags=${MR_FLAGS:-}
mr=$build/client/mr

if [[ ${SKIP_BUILD:-0} != 1 ]]; then cmake --build "$build" --target mr >&2; fi
case $size_arg in
  *[kK]) bytes=$(( ${size_arg%?} * 1024 )) ;;
  *[mM]) bytes=$(( ${size_arg%?} * 1024 * 1024 )) ;;
  *[gG]) bytes=$(( ${size_arg%?} * 1024 * 1024 * 1024 )) ;;
  *) bytes=$size_arg ;;
esac
rows=$(( bytes / 100 ))
bytes=$(( rows * 100 ))
mkdir -p "$bench"
gen=$bench/teragen-ascii-$size_arg
flat=$bench/teragen-ascii-$size_arg.txt
if [[ ! -f $gen/_SUCCESS ]]; then
  rm -rf "$gen"
  "$mr" teragen "$rows" "$gen" --ascii --workers "$workers" > /dev/null
fi
[[ -f $flat ]] || cat "$gen"/part-r-* > "$flat"
cat "$gen"/part-r-* "$flat" > /dev/null  # from the page cache from now on

work=$(mktemp -d "$bench/terasort-XXXXXX")
[[ ${KEEP:-0} == 1 ]] || trap 'rm -rf "$work"' EXIT

busy() { awk '/^cpu / { printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / 100 }' /proc/stat; }
wait_idle() {
  [[ ${WAIT_IDLE:-0} == 1 ]] || return 0
  local i a b
  for ((i = 0; i < 300; i++)); do
    a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
    sleep 1
    b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
    if awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
           exit !((y[2] - x[2]) >= 0.9 * ((y[1] - x[1]) + (y[2] - x[2]))) }'; then return 0; fi
  done
  echo "$0: the machine stayed busy; timing anyway" >&2
}
row() {  # row PROGRAM WALL USER SYS PEAK OTHER CHECK
  awk -v p="$1" -v w="$2" -v u="$3" -v s="$4" -v m="$5" -v o="$6" -v c="$7" -v b="$bytes" -v sz="$size_arg" \
    'BEGIN { printf "| %s | %s | %.2f | %.0f | %.2f | %s | %.2f | %s |\n", sz, p, w, b / 1048576 / w, u + s, m, o, c }'
}

echo "| input | program | wall s | MiB/s | CPU s | peak RSS | other CPU s | check |"
echo "|---|---|---|---|---|---|---|---|"
ok=1
for ((r = 0; r < reps; r++)); do
  rm -f "$work/sorted.txt"
  wait_idle
  b0=$(busy)
  /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" env LC_ALL=C sort -S 256M --parallel=2 -o "$work/sorted.txt" "$flat"
  b1=$(busy)
  read -r wall user sys rss < "$work/time.txt"
  other=$(awk -v a="$b0" -v b="$b1" -v u="$user" -v s="$sys" 'BEGIN { o = b - a - u - s; printf "%.2f", o < 0 ? 0 : o }')
  row "sort -S 256M --parallel=2" "$wall" "$user" "$sys" "$(awk -v k="$rss" 'BEGIN { printf "%.0f MiB", k / 1024 }')" "$other" "reference"

  rm -rf "$work/out"
  wait_idle
  b0=$(busy)
  # shellcheck disable=SC2086  # MR_FLAGS is a list of flags.
  if ! /usr/bin/time -f '%e %U %S' -o "$work/time.txt" "$mr" run --job terasort --input "$gen" --output "$work/out" \
      --workers "$workers" --reducers "$workers" $mr_flags > "$work/mr.txt" 2>&1; then
    cat "$work/mr.txt" >&2
    ok=0
    continue
  fi
  b1=$(busy)
  read -r wall user sys < "$work/time.txt"
  other=$(awk -v a="$b0" -v b="$b1" -v u="$user" -v s="$sys" 'BEGIN { o = b - a - u - s; printf "%.2f", o < 0 ? 0 : o }')
  peak=$(sed -n 's/^peak memory: //p' "$work/mr.txt")
  check=ok
  if ! "$mr" teravalidate "$work/out" --input "$gen" > "$work/validate.txt" 2>&1; then check="teravalidate FAILED"; ok=0; fi
  if ! cat "$work/out"/part-r-* | cmp -s - "$work/sorted.txt"; then check="$check; differs from sort"; ok=0; fi
  row "mr run --workers $workers (terasort, $workers reducers)" "$wall" "$user" "$sys" "$peak" "$other" "$check"
done
[[ $ok == 1 ]]
