#!/usr/bin/env bash
# Chaos run (DESIGN §5): starts a local cluster and runs word count jobs back to back for DURATION
# seconds while killing (SIGKILL), freezing (SIGSTOP/SIGCONT) and restarting random workers — and
# the master — on a seeded random schedule. Tasks are slowed by a delay failpoint so that faults
# land mid-task. Every job's output is compared with a fault-free run; it reports what it injected,
# how many attempts ran again, and whether every output was identical.
#
#   scripts/chaos.sh [--seed N] [--duration SECONDS] [--workers N] [--input PATH] [--build DIR]
#
# Exits 0 only when every job succeeded with output byte-identical to the fault-free run.
set -euo pipefail

seed=1 duration=60 workers=4
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
    *) echo "usage: $0 [--seed N] [--duration S] [--workers N] [--input PATH] [--build DIR]" >&2; exit 2 ;;
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

start_master() {
  local listen=${1:-127.0.0.1:0}
  rm -f "$work/master/ADDRESS"
  "$mr" master --listen "$listen" --http 127.0.0.1:0 --data-dir "$work/master" --worker-timeout 2s \
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
  "$mr" worker --master "$address" --data-dir "$work/worker-$next_worker" --slots 2 --heartbeat 200ms \
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
  state=""
  # Faults while the job runs (and the time lasts); then let it finish, bounded.
  for _ in $(seq 1 3000); do
    state=$(job_state "$job")
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
  launched=$(echo "$json" | awk -F'[:,]' '/"attempts.launched"/ {gsub(/ /, "", $2); print $2; exit}')
  tasks=$(echo "$json" | awk -F':' '/"total"/ {gsub(/[ },]/, "", $2); s += $2} END {print s}')
  relaunched=$((relaunched + ${launched:-0} - ${tasks:-0}))
  if [ "$state" = succeeded ] && diff -r "$work/expected" "$out" > /dev/null; then
    good=$((good + 1))
    echo "chaos: job $job succeeded, output identical (${launched:-?} attempts for ${tasks:-?} tasks)"
  else
    echo "chaos: job $job ended $state: output NOT identical to the fault-free run" >&2
  fi
  rm -rf "$out"
done

echo "chaos: injected $kills worker kills, $freezes freezes, $master_kills master kills"
echo "chaos: $jobs jobs, $good with output identical to the fault-free run; $relaunched attempts ran again"
[ "$good" -eq "$jobs" ]
