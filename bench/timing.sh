# timing.sh — sourced by the bench scripts that time one command against another, in turn.
#
# bench_setup SIZE TARGET...: sets repo, build (BUILD_DIR, default build/), bench (BENCH_DIR,
# default /tmp/mr-bench), reps (REPS, default 3), mr and corpus (the SIZE corpus of
# make_corpus.sh, made if missing and read once into the page cache); builds TARGETs unless
# SKIP_BUILD=1. The script sets `here` (its directory) first.
bench_setup() {
  local size=$1
  shift
  repo=$(dirname "$here")
  build=${BUILD_DIR:-$repo/build}
  bench=${BENCH_DIR:-/tmp/mr-bench}
  reps=${REPS:-3}
  mr=$build/client/mr
  if [[ ${SKIP_BUILD:-0} != 1 ]]; then cmake --build "$build" --target "$@" >&2; fi
  mkdir -p "$bench"
  corpus=$bench/corpus-$size.txt
  "$here/make_corpus.sh" "$size" "$corpus" >&2
  cat "$corpus" > /dev/null
}
#
# timed LABEL SIZE N TIMES LOG CMD...: runs CMD (its stdout and stderr to LOG), appends its
# "wall cpu" seconds (CPU: user + system of everything it waited for) to the file TIMES, and
# prints the markdown row "| LABEL | SIZE | N | wall | CPU |". A failing CMD stops the script.
timed() {
  local label=$1 size=$2 n=$3 times=$4 log=$5
  shift 5
  local t0 t1 cpu0 cpu1 wall cpu
  t0=$(date +%s.%N)
  cpu0=$(awk '{print $14 + $15 + $16 + $17}' /proc/$$/stat)
  "$@" > "$log" 2>&1
  t1=$(date +%s.%N)
  cpu1=$(awk '{print $14 + $15 + $16 + $17}' /proc/$$/stat)
  wall=$(echo "$t1 - $t0" | bc -l)
  cpu=$(echo "($cpu1 - $cpu0) / $(getconf CLK_TCK)" | bc -l)
  printf '%.3f %.2f\n' "$wall" "$cpu" >> "$times"
  printf '| %s | %s | %d | %.2f s | %.1f CPU-s |\n' "$label" "$size" "$n" "$wall" "$cpu"
}

# median FILE K: the median of column K of FILE (the middle value; of an even count, the upper).
median() { sort -n -k"$2" "$1" | awk -v k="$2" '{ v[NR] = $k } END { print v[int((NR + 1) / 2)] }'; }
