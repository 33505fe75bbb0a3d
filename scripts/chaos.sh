#!/usr/bin/env bash
# Chaos run (DESIGN §5): starts a local cluster and runs word count jobs back to back for DURATION
# seconds while killing (SIGKILL), freezing (SIGSTOP/SIGCONT) and restarting random workers — and
# the master — on a seeded random schedule. Tasks are slowed by a delay failpoint so that faults
# land mid-task. Every job's output is compared with a fault-free run; it reports what it injected,
# how many attempts ran again, and whether every output was identical.
#
# --hostile also submits, beside each job, one job with a hostile input, in turn: a file whose name
# is not UTF-8, an empty file, a 1 MB line, binary data, a missing input, an existing output
# without --overwrite, a streaming mapper that fails writing binary garbage to stderr. Each must
# succeed with the output of a fault-free run of the same bytes (under a plain name), or, when that
# run fails or the request is refused, fail within HOSTILE_TIMEOUT seconds (default 180) with one
# error line; an existing output is never touched; and the ordinary jobs beside them stay exact.
#
#   scripts/chaos.sh [--seed N] [--duration SECONDS] [--workers N] [--input PATH] [--build DIR] [--hostile]
#
# Exits 0 only when every job succeeded with output byte-identical to the fault-free run (and, with
# --hostile, every hostile job ended as above).
set -euo pipefail

seed=1 duration=60 workers=4 hostile=0
hostile_timeout=${HOSTILE_TIMEOUT:-180}
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build"
input="$root/../shared/data/gutenberg"
while [ $# -gt 0 ]; do
  case "$1" in
    --seed) seed=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --input) input=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --hostile) hostile=1; shift ;;
    *) echo "usage: $0 [--seed N] [--duration S] [--workers N] [--input PATH] [--build DIR] [--hostile]" >&2; exit 2 ;;
  esac
done
mr="$build/client/mr"
[ -x "$mr" ] || { echo "chaos: build mr first (scripts/test.sh or scripts/demo.sh)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/mr-chaos-XXXXXX")
declare -A worker_pid=()
master_pid=""
cleanup() {
  for p in "${worker_pid[@]}" $master_pid; do
    kill -CONT "$p" 2>/dev/null || true
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

if [ ! -e "$input" ]; then
  input="$work/input.txt"
  python3 "$root/scripts/sample_text.py" 8 > "$input"
fi
reducers=4 split=128k

echo "chaos: seed $seed, ${duration}s, $workers workers, input $input"
"$mr" run --job wordcount --input "$input" --output "$work/expected" --reducers $reducers --split-size $split \
  --workers 2 > "$work/expected.log" 2>&1 || { echo "chaos: the fault-free run failed" >&2; exit 1; }

# The hostile cases: the inputs, and for each a fault-free run of the same bytes under a plain name.
hostile_cases=(non-utf8-name empty-file long-line binary missing-input existing-output failing-mapper)
if [ $hostile -eq 1 ]; then
  h="$work/hostile"
  mkdir -p "$h/plain"
  python3 "$root/scripts/sample_text.py" 0.2 > "$h/plain/non-utf8-name"
  cp "$h/plain/non-utf8-name" "$h/"$'name-\xff\xfe-\x80.txt'
  : > "$h/plain/empty-file"
  python3 -c 'import random, sys; r = random.Random(7); w = ["alpha", "beta", "gamma", "δέλτα", "東京"]
sys.stdout.write(" ".join(r.choice(w) for _ in range(200000))[: 1 << 20] + "\n")' > "$h/plain/long-line"
  python3 -c 'import random, sys; sys.stdout.buffer.write(random.Random(9).randbytes(1 << 20))' > "$h/plain/binary"
  python3 "$root/scripts/sample_text.py" 0.05 > "$h/small.txt"
  mkdir -p "$h/existing-output" && echo precious > "$h/existing-output/keep"
  for c in non-utf8-name empty-file long-line binary; do
    "$mr" run --job wordcount --input "$h/plain/$c" --output "$h/expected-$c" --reducers $reducers \
      --split-size $split --workers 2 > "$h/expected-$c.log" 2>&1 || rm -rf "$h/expected-$c"
  done
fi
# The submit arguments of hostile case $1 (one per line).
hostile_args() {
  case "$1" in
    non-utf8-name) printf '%s\n' --job wordcount --input "$h/"$'name-\xff\xfe-\x80.txt' ;;
    empty-file|long-line|binary) printf '%s\n' --job wordcount --input "$h/plain/$1" ;;
    missing-input) printf '%s\n' --job wordcount --input "$h/does-not-exist" ;;
    existing-output) printf '%s\n' --job wordcount --input "$h/small.txt" ;;
    failing-mapper) printf '%s\n' --mapper 'head -c 3000 /dev/urandom >&2; printf "\377\376\n" >&2; exit 3' \
      --input "$h/small.txt" ;;
  esac
}
hostile_out() { [ "$1" = existing-output ] && echo "$h/existing-output" || echo "$work/hostile-out-$2"; }
hostile_good=0 hostile_jobs=0 hostile_bad=()
# Judges hostile case $1 (job id $2, or "" when the submission was refused with stderr $3) whose
# output is $4: exact output when the fault-free run succeeded, else one clear error.
# True when the job status JSON $1 has an error that is one line (no newline in the decoded text).
one_line_error() {
  printf '%s' "$1" | python3 -c 'import json, sys; e = json.load(sys.stdin).get("error", ""); sys.exit(0 if e and "\n" not in e else 1)'
}
hostile_judge() {
  local c=$1 id=$2 err=$3 out=$4 verdict="" state="" error=""
  if [ -z "$id" ]; then
    if [ "$(printf '%s' "$err" | grep -c .)" -eq 1 ]; then verdict=ok; else verdict="refused without one error line"; fi
    state=refused error=$err
  else
    local json
    json=$("$mr" status "$id" --master "$address" --json 2>/dev/null || true)
    # (awk may exit before echo has written everything: a SIGPIPE there is not a failure)
    state=$(echo "$json" | awk -F'"' '/"state"/ {print $4; exit}' || true)
    error=$(echo "$json" | awk -F'"error": ' 'NF > 1 {print $2; exit}' || true)
    if [ -d "$h/expected-$c" ]; then
      if [ "$state" = succeeded ] && diff -r "$h/expected-$c" "$out" > /dev/null; then verdict=ok
      else verdict="ended $state, not with the fault-free output"; fi
    elif [ "$state" = failed ] && [ -n "$error" ] && [ "$error" != '""' ] && one_line_error "$json"; then
      verdict=ok
      # A task's own failure is charged to the task: it must not cost the workers it ran on.
      if printf '%s' "$error" | grep -q 'lost with its worker'; then verdict="failed by losing its workers"; fi
    else
      verdict="ended $state without one clear error"
    fi
  fi
  if [ "$c" = existing-output ] && [ "$(cat "$h/existing-output/keep" 2>/dev/null)" != precious ]; then
    verdict="the existing output was touched"
  fi
  hostile_jobs=$((hostile_jobs + 1))
  if [ "$verdict" = ok ]; then
    hostile_good=$((hostile_good + 1))
    [ "$state" = succeeded ] && error="output identical to the fault-free run"
    echo "chaos: hostile $c: $state: ${error:0:160}"
  else
    hostile_bad+=("$c")
    echo "chaos: hostile $c: $verdict (${error:0:300})" >&2
  fi
  [ "$c" = existing-output ] || rm -rf "$out"
}

start_master() {
  local listen=${1:-127.0.0.1:0}
  rm -f "$work/master/ADDRESS"
  local user_code=()
  [ $hostile -eq 0 ] || user_code=(--allow-user-code)
  "$mr" master --listen "$listen" --http 127.0.0.1:0 --data-dir "$work/master" --worker-timeout 2s "${user_code[@]}" \
    >> "$work/master.log" 2>&1 &
  master_pid=$!
  for _ in $(seq 1 200); do [ -s "$work/master/ADDRESS" ] && break; sleep 0.05; done
  if [ ! -s "$work/master/ADDRESS" ]; then
    echo "chaos: the master did not start:" >&2
    tail -3 "$work/master.log" >&2
    exit 1
  fi
  address=$(awk '$1 == "rpc" {print $2}' "$work/master/ADDRESS")
}
next_worker=0
start_worker() {
  local slot=$1
  local user_code=()
  [ $hostile -eq 0 ] || user_code=(--allow-user-code)  # workers enforce it too (the failing mapper)
  "$mr" worker --master "$address" --data-dir "$work/worker-$next_worker" --slots 2 --heartbeat 200ms "${user_code[@]}" \
    >> "$work/worker-$next_worker.log" 2>&1 &
  worker_pid[$slot]=$!
  next_worker=$((next_worker + 1))
}

export MR_FAILPOINTS="map.after_read=delay(300ms);reduce.after_fetch=delay(300ms)"
start_master
for i in $(seq 0 $((workers - 1))); do start_worker "$i"; done

job_state() {
  "$mr" status "$1" --master "$address" --json 2>/dev/null | awk -F'"' '/"state"/ {print $4; exit}' || true
}

RANDOM=$seed
kills=0 freezes=0 master_kills=0 jobs=0 good=0 relaunched=0
deadline=$((SECONDS + duration))
while [ $SECONDS -lt $deadline ]; do
  jobs=$((jobs + 1))
  out="$work/out-$jobs"
  job=""
  for _ in $(seq 1 100); do   # the master may be restarting
    job=$("$mr" submit --master "$address" --job wordcount --input "$input" --output "$out" \
      --reducers $reducers --split-size $split --quiet 2>/dev/null) && break
    sleep 0.1
  done
  [ -n "$job" ] || { echo "chaos: cannot submit job $jobs" >&2; break; }
  hcase="" hjob="" herr="" hout="" hdeadline=0
  if [ $hostile -eq 1 ]; then
    hcase=${hostile_cases[$(( (jobs - 1) % ${#hostile_cases[@]} ))]}
    hout=$(hostile_out "$hcase" "$jobs")
    mapfile -t hargs < <(hostile_args "$hcase")
    for _ in $(seq 1 100); do   # retried only while the master cannot be reached (exit 3)
      rc=0
      hjob=$("$mr" submit --master "$address" "${hargs[@]}" --output "$hout" --reducers $reducers \
        --split-size $split --quiet 2> "$work/hostile-submit.err") || rc=$?
      [ $rc -eq 3 ] || break
      sleep 0.1
    done
    [ $rc -eq 0 ] || { hjob=""; herr=$(cat "$work/hostile-submit.err"); }
    hdeadline=$((SECONDS + hostile_timeout))
  fi
  state="" hstate=""
  # Faults while the jobs run (and the time lasts); then let them finish, bounded.
  for _ in $(seq 1 3000); do
    state=$(job_state "$job")
    if [ -n "$hjob" ]; then
      case "$hstate" in succeeded|failed|killed) ;; *) hstate=$(job_state "$hjob") ;; esac
      case "$hstate" in succeeded|failed|killed) ;; *)
        if [ $SECONDS -lt $hdeadline ]; then state=waiting-for-hostile; fi ;;
      esac
    fi
    case "$state" in succeeded|failed|killed) break ;; esac
    sleep "0.$((RANDOM % 8 + 2))"
    [ $SECONDS -lt $deadline ] || continue
    slot=$((RANDOM % workers))
    action=$((RANDOM % 10))
    if [ $action -le 2 ]; then          # 30%: SIGKILL a worker, start a fresh one in its place
      kill -KILL "${worker_pid[$slot]}" 2>/dev/null || true
      wait "${worker_pid[$slot]}" 2>/dev/null || true
      start_worker "$slot"
      kills=$((kills + 1))
    elif [ $action -le 4 ]; then        # 20%: freeze a worker past the timeout, then thaw it
      kill -STOP "${worker_pid[$slot]}" 2>/dev/null || true
      sleep "$((RANDOM % 3 + 1))"
      kill -CONT "${worker_pid[$slot]}" 2>/dev/null || true
      freezes=$((freezes + 1))
    elif [ $action -eq 5 ]; then        # 10%: SIGKILL the master and restart it on the same data dir
      kill -KILL "$master_pid" 2>/dev/null || true
      wait "$master_pid" 2>/dev/null || true
      start_master "$address"
      master_kills=$((master_kills + 1))
    fi                                  # otherwise: let it run
  done
  json=$("$mr" status "$job" --master "$address" --json 2>/dev/null || true)
  launched=$(echo "$json" | awk -F'[:,]' '/"attempts.launched"/ {gsub(/ /, "", $2); print $2; exit}' || true)
  tasks=$(echo "$json" | awk -F':' '/"total"/ {gsub(/[ },]/, "", $2); s += $2} END {print s}')
  relaunched=$((relaunched + ${launched:-0} - ${tasks:-0}))
  if [ "$state" = succeeded ] && diff -r "$work/expected" "$out" > /dev/null; then
    good=$((good + 1))
    echo "chaos: job $job succeeded, output identical (${launched:-?} attempts for ${tasks:-?} tasks)"
  else
    echo "chaos: job $job ended $state: output NOT identical to the fault-free run" >&2
  fi
  rm -rf "$out"
  if [ -n "$hcase" ]; then
    if [ -n "$hjob" ] && [ "$SECONDS" -ge "$hdeadline" ]; then
      case "$(job_state "$hjob")" in succeeded|failed|killed) ;; *)
        echo "chaos: hostile $hcase did not end within ${hostile_timeout}s" >&2 ;;
      esac
    fi
    hostile_judge "$hcase" "$hjob" "$herr" "$hout"
  fi
done

echo "chaos: injected $kills worker kills, $freezes freezes, $master_kills master kills"
echo "chaos: $jobs jobs, $good with output identical to the fault-free run; $relaunched attempts ran again"
if [ $hostile -eq 1 ]; then
  echo "chaos: $hostile_jobs hostile jobs, $hostile_good ended as they must; not: ${hostile_bad[*]:-none}"
  [ "$hostile_good" -eq "$hostile_jobs" ] || exit 1
fi
[ "$good" -eq "$jobs" ]
