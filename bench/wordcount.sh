#!/usr/bin/env bash
# wordcount.sh SIZE [WORKERS] — benchmarks `mr run --job wordcount` against the sequential
# baseline (bench/wc_baseline) on a SIZE corpus (e.g. 256m, 1g) and checks that both agree.
#
# Steps: builds `mr` and `wc_baseline` (cmake --build), makes the corpus with make_corpus.sh under
# $BENCH_DIR, runs mr REPS times (default flags = the `mr run` defaults with --workers WORKERS,
# default 2), runs wc_baseline REPS times, compares the sorted concatenation of mr's part files
# with the baseline output byte for byte (cmp), and prints markdown table rows for RESULTS.md.
# The input is read from the page cache (the corpus is made, or read once, before timing).
#
# Environment:
#   BENCH_DIR   where the corpus and the temporary outputs live (default /tmp/mr-bench)
#   BUILD_DIR   the CMake build directory (default <repo>/build)
#   MR_FLAGS    extra flags for `mr run`, e.g. "--slots 2" or "--threads 2 --split-size 128m"
#   REPS        runs of each program; the table shows the median run (by wall time) and the best
#               wall time (default 3)
#   BASELINE    0 = skip the wc_baseline timing (its output is still made once, for the check)
#   SKIP_BUILD  1 = do not run cmake --build
#   WAIT_IDLE   1 = before each timed run, wait (up to 5 min) until the machine is >= 90% idle over
#               a second; on a shared machine other processes' CPU use makes the wall times noisy.
#               Each run also reports "other CPU": the CPU time the rest of the machine used
#               meanwhile (from /proc/stat, minus the run's own); a run with much of it is suspect.
#
# Exit status: 0 when every mr run succeeded and matched the baseline, 1 otherwise.
set -eu

usage() { echo "usage: $0 SIZE [WORKERS]   (SIZE e.g. 256m, 1g)" >&2; exit 2; }
[[ $# -ge 1 && $# -le 2 ]] || usage
size_arg=$1
workers=${2:-2}

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${BUILD_DIR:-$repo/build}
bench=${BENCH_DIR:-/tmp/mr-bench}
reps=${REPS:-3}
mr_flags=${MR_FLAGS:-}
mr_bin=$build/client/mr
wc_bin=$build/bench/wc_baseline

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  cmake --build "$build" --target mr wc_baseline >&2
fi
mkdir -p "$bench"
corpus=$bench/corpus-$size_arg.txt
"$here/make_corpus.sh" "$size_arg" "$corpus"
bytes=$(stat -c %s "$corpus")
cat "$corpus" > /dev/null  # Warm the page cache: every run reads from memory.

have_time=0
[[ -x /usr/bin/time ]] && have_time=1

work=$(mktemp -d "$bench/run-XXXXXX")
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
# Busy CPU seconds of the whole machine so far (all fields of /proc/stat's cpu line but idle, iowait).
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
# other BUSY_BEFORE BUSY_AFTER OWN_CPU -> CPU seconds used by other processes meanwhile.
other() { awk -v a="$1" -v b="$2" -v c="$3" 'BEGIN { o = b - a - c; printf "%.2f", o < 0 ? 0 : o }'; }
# mibps SECONDS -> MiB/s of the corpus.
mibps() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.0f", b / 1048576 / s }'; }

# ---- The baseline output, for the check (and its first timed run). ----
baseline_out=$work/baseline.txt
base_walls=() base_cpus=() base_rss=() base_other=()
run_baseline() {
  local t0 t1 wall user sys rss b0 b1
  wait_idle
  b0=$(busy)
  if ((have_time)); then
    /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" "$wc_bin" "$corpus" > "$baseline_out"
    read -r wall user sys rss < <(tail -n 1 "$work/time.txt")
    base_walls+=("$wall")
    base_cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')")
    base_rss+=("$(awk -v k="$rss" 'BEGIN { printf "%.1f MiB", k / 1024 }')")
  else
    t0=$(now)
    "$wc_bin" "$corpus" > "$baseline_out"
    t1=$(now)
    base_walls+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')")
    base_cpus+=("-")
    base_rss+=("-")
  fi
  b1=$(busy)
  base_other+=("$(other "$b0" "$b1" "${base_cpus[-1]/-/0}")")
}

# ---- mr runs. ----
ok=1
mr_walls=() mr_jobs=() mr_cpus=() mr_mems=() mr_phases=() mr_checks=() mr_other=()
for ((r = 0; r < reps; r++)); do
  out=$work/out
  logs=$work/logs
  rm -rf "$out" "$logs"
  wait_idle
  b0=$(busy)
  # shellcheck disable=SC2086  # MR_FLAGS is a list of flags.
  if ((have_time)); then
    /usr/bin/time -f '%e %U %S' -o "$work/time.txt" \
      "$mr_bin" run --job wordcount --input "$corpus" --output "$out" --workers "$workers" \
      --keep-logs "$logs" $mr_flags > "$work/mr.txt" 2> "$work/mr.err" || { cat "$work/mr.txt" "$work/mr.err" >&2; ok=0; }
    read -r wall user sys < <(tail -n 1 "$work/time.txt")
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  else
    t0=$(now)
    "$mr_bin" run --job wordcount --input "$corpus" --output "$out" --workers "$workers" \
      --keep-logs "$logs" $mr_flags > "$work/mr.txt" 2> "$work/mr.err" || { cat "$work/mr.txt" "$work/mr.err" >&2; ok=0; }
    t1=$(now)
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    cpu=-
  fi
  b1=$(busy)
  oth=$(other "$b0" "$b1" "${cpu/-/0}")
  # "job 1 succeeded in 0.8s: ..." -> 0.8 (the job alone, without cluster start and stop).
  job=$(sed -n 's/^job [0-9]* [a-z]* in \([0-9.]*\)s.*/\1/p' "$work/mr.txt")
  # "peak memory: master 13.7 MiB, worker-0 82.1 MiB, ..." -> "13.7 MiB / 82.1, 82.0 MiB"
  mem=$(sed -n 's/^peak memory: //p' "$work/mr.txt" |
        awk -F', ' '{ m = ""; w = ""; for (i = 1; i <= NF; i++) { split($i, a, " ");
                        if (a[1] == "master") m = a[2] " " a[3]; else w = w (w == "" ? "" : ", ") a[2] }
                      print m " / " w " " a[3] }')
  # The phases, from the worker logs: map = first map assigned .. last map done; reduce likewise;
  # and the mean map task time.
  phases=$(cat "$logs"/worker-*.log 2>/dev/null | awk '
    / job-[0-9]+\/[mr][0-9]+\/a[0-9]+ (assigned|succeeded)/ {
      split(substr($1, 12), a, ":"); t = (a[1] * 3600 + a[2] * 60 + a[3]) * 1000
      # The logger name may hold spaces ("[worker w1]"): find the attempt field itself.
      for (i = 2; i < NF && $i !~ /^job-[0-9]+\/[mr][0-9]+\/a[0-9]+$/; i++) {}
      kind = ($i ~ /\/m[0-9]+\//) ? "m" : "r"
      if ($(i + 1) == "assigned") { if (!(kind in first) || t < first[kind]) first[kind] = t }
      else { if (!(kind in last) || t > last[kind]) last[kind] = t; n[kind]++; sum[kind] += $(NF - 1) }
    }
    END {
      if (n["m"] > 0) printf "map %.2f s (%d tasks, %.0f ms each)", (last["m"] - first["m"]) / 1000, n["m"], sum["m"] / n["m"]
      if (n["r"] > 0) printf "; reduce %.2f s", (last["r"] - first["r"]) / 1000
    }')
  check=FAIL
  if [[ -f $out/_SUCCESS ]]; then
    if ((r == 0)); then run_baseline; fi  # Baseline output for the check (also its first timing).
    if cat "$out"/part-r-* | LC_ALL=C sort | cmp -s - "$baseline_out"; then check=ok; fi
  fi
  [[ $check == ok ]] || ok=0
  mr_walls+=("$wall") mr_jobs+=("${job:--}") mr_cpus+=("$cpu") mr_mems+=("$mem") mr_phases+=("$phases") mr_checks+=("$check") mr_other+=("$oth")
  echo "mr run $((r + 1))/$reps: wall ${wall}s, job ${job:-?}s, cpu ${cpu}s, other CPU ${oth}s, peak $mem; $phases; check $check" >&2
  rm -rf "$out" "$logs"
done
if [[ ${#base_walls[@]} -eq 0 ]]; then run_baseline; fi

if [[ ${BASELINE:-1} != 0 ]]; then
  for ((r = 1; r < reps; r++)); do run_baseline; done
  for ((r = 0; r < ${#base_walls[@]}; r++)); do
    echo "wc_baseline run $((r + 1))/${#base_walls[@]}: wall ${base_walls[r]}s, cpu ${base_cpus[r]}s, other CPU ${base_other[r]}s, peak ${base_rss[r]}" >&2
  done
fi

# The run whose wall time is the median (lower median for an even count).
pick() {
  local -n walls=$1
  local i best=0 sorted med
  sorted=$(printf '%s\n' "${walls[@]}" | sort -g)
  med=$(echo "$sorted" | sed -n "$(( (${#walls[@]} + 1) / 2 ))p")
  for i in "${!walls[@]}"; do [[ ${walls[i]} == "$med" ]] && { best=$i; break; }; done
  echo "$best"
}

size_mib=$(awk -v b="$bytes" 'BEGIN { printf "%.0f MiB", b / 1048576 }')
config="mr run --workers $workers${mr_flags:+ $mr_flags}"
i=$(pick mr_walls)
all_checks=$(printf '%s\n' "${mr_checks[@]}" | sort -u | paste -sd/)
echo
best() { printf '%s\n' "$@" | sort -g | head -1; }
echo "| input | program / config | wall s: median (best) | MiB/s (median) | CPU s (user+sys) | other CPU s | peak RSS master / workers | phases | check |"
echo "|---|---|---|---|---|---|---|---|---|"
echo "| $size_mib | \`$config\` | ${mr_walls[i]} ($(best "${mr_walls[@]}")); job ${mr_jobs[i]} | $(mibps "${mr_walls[i]}") | ${mr_cpus[i]} | ${mr_other[i]} | ${mr_mems[i]} | ${mr_phases[i]} | $all_checks ($reps runs) |"
if [[ ${BASELINE:-1} != 0 ]]; then
  i=$(pick base_walls)
  echo "| $size_mib | \`wc_baseline\` (sequential) | ${base_walls[i]} ($(best "${base_walls[@]}")) | $(mibps "${base_walls[i]}") | ${base_cpus[i]} | ${base_other[i]} | ${base_rss[i]} | - | reference |"
fi
echo
echo "(median of $reps runs by wall time; all mr walls: ${mr_walls[*]} s; baseline walls: ${base_walls[*]} s; corpus $bytes bytes)" >&2
((ok)) || { echo "$0: FAILED: an mr run failed or its output differs from wc_baseline's" >&2; exit 1; }
