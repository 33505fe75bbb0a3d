#!/usr/bin/env bash
# scale.sh — the master at scale, with simulated workers (bench/loadgen) speaking the real protocol.
#
#   scale.sh workers N [CORPUS_SIZE]
#       N simulated workers (1 slot each, 1 Hz heartbeats) hold every slot with a "ballast" job of
#       N maps that never finish (so a job is running and every simulated slot is busy); then over
#       MEASURE_S seconds: the master's CPU (utime+stime from /proc/PID/stat), RSS, the oldest
#       heartbeat age, workers declared dead, and the latency of `mr workers`, /api/workers and
#       /metrics; then 2 real workers join and a real word count over a CORPUS_SIZE corpus (default
#       32m, in SPLIT=4m splits) runs on them with `mr submit --wait`: its wall time. N=0 gives the
#       unloaded time.
#   scale.sh tasks M [SIMS]
#       a job of M tiny map tasks (4 KiB splits of a sparse file; 4 reducers) on SIMS simulated
#       workers (default 200, 4 slots each) that report every task a success at once: the master
#       alone. Prints the map rate in each tenth of the maps (from the master's log), and the
#       master's peak RSS growth per task.
#   scale.sh restart N
#       N simulated workers register; the master is killed (SIGKILL) and restarted on the same data
#       dir and addresses; prints how long until all N are registered again.
#
# Environment: BUILD_DIR (default <repo>/build), BENCH_DIR (default /tmp/mr-bench), MEASURE_S (30),
# PROCS (loadgen processes; default 4, and at least one per 5,000 simulated workers), SPLIT (the
# real job's split size, default 4m), KEEP (set: keep the run's directory, with every log).
#
# Open files: the master needs one per connection, so N simulated workers need a hard limit of at
# least N + 200 (the journal's files, clients, the real workers). When the hard limit is below
# 65,536 and the script may raise it (CAP_SYS_RESOURCE, up to /proc/sys/fs/nr_open), it raises it
# to 65,536 for the processes it starts (`ulimit -Hn`: this shell and its children only); every
# process then raises its soft limit to the hard one. When it may not, N is refused above the
# hard limit - 200.
set -eu

if (( $(ulimit -Hn) < 65536 )); then
  if ulimit -Hn 65536 2> /dev/null; then
    echo "scale.sh: raised the hard open-file limit to 65536 for the processes it starts" >&2
  else
    echo "scale.sh: cannot raise the hard open-file limit (now $(ulimit -Hn)): not permitted" >&2
  fi
fi
ulimit -Sn "$(ulimit -Hn)" 2> /dev/null || true
if [[ ${1:-} == workers ]] && (( ${2:-0} + 200 > $(ulimit -Hn) )); then
  echo "scale.sh: $2 simulated workers need the master's open-file limit >= $(( $2 + 200 )); it is $(ulimit -Hn)" >&2
  exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${BUILD_DIR:-$repo/build}
bench=${BENCH_DIR:-/tmp/mr-bench}
measure_s=${MEASURE_S:-30}
procs=${PROCS:-4}
if [[ ${1:-} == workers ]] && (( ${2:-0} > procs * 5000 )); then procs=$(( (${2} + 4999) / 5000 )); fi
mr=$build/client/mr
loadgen=$build/bench/loadgen

usage() { echo "usage: $0 workers N [CORPUS_SIZE] | tasks M [SIMS] | restart N" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
mode=$1
n=$2

mkdir -p "$bench"
work=$(mktemp -d "$bench/scale-XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [[ -n ${KEEP:-} ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

head -c 32 /dev/urandom | base64 > "$work/token"
chmod 600 "$work/token"
"$mr" master --listen 127.0.0.1:0 --http 127.0.0.1:0 --data-dir "$work/master" --token-file "$work/token" \
  --log-file "$work/master.log" 2> /dev/null &
master_pid=$!
pids+=("$master_pid")
for _ in $(seq 100); do [[ -s $work/master/ADDRESS ]] && break; sleep 0.1; done
rpc=$(awk '$1 == "rpc" { print $2 }' "$work/master/ADDRESS")
http=$(awk '$1 == "http" { print $2 }' "$work/master/ADDRESS")
client=(--master "$rpc" --token-file "$work/token")

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$master_pid/stat"; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$master_pid/status"; }
hz=$(getconf CLK_TCK)
metric() { curl -s --max-time 10 "http://$http/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
ms_of() {  # runs a command, prints its wall time in ms
  local t0 t1
  t0=$(date +%s%N)
  "$@" > /dev/null
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 ))
}
# CPU time run and time spent waiting for a CPU (runnable, not running), in seconds, summed over
# the threads of the given processes (/proc/PID/task/*/schedstat): the second says how much the
# machine's other load held them back.
sched_s() {
  local p
  for p in "$@"; do cat /proc/"$p"/task/*/schedstat 2> /dev/null; done |
    awk '{ r += $1; w += $2 } END { printf "%.1f %.1f", r / 1e9, w / 1e9 }'
}
load() { cut -d' ' -f1-3 /proc/loadavg | tr ' ' /; }  # the 1, 5 and 15-minute load averages
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
start_sims() {  # count slots mode
  local per=$(( ($1 + procs - 1) / procs )) left=$1 i=0
  while (( left > 0 )); do
    local k=$(( left < per ? left : per ))
    "$loadgen" --master "$rpc" --token-file "$work/token" --workers "$k" --slots "$2" --mode "$3" \
      --name "sim$i" > "$work/loadgen-$i.log" 2>&1 &
    pids+=("$!")
    left=$(( left - k )); i=$(( i + 1 ))
  done
}
wait_metric() {  # metric value timeout_s
  for _ in $(seq $(( $3 * 2 ))); do
    local v
    v=$(metric "$1")
    [[ -n $v && ${v%.*} -ge $2 ]] && return 0
    sleep 0.5
  done
  echo "timed out waiting for $1 >= $2 (now $(metric "$1"))" >&2
  return 1
}

if [[ $mode == workers ]]; then
  corpus_size=${3:-32m}
  corpus=$bench/corpus-$corpus_size.txt
  "$here/make_corpus.sh" "$corpus_size" "$corpus"
  if (( n > 0 )); then
    start_sims "$n" 1 hold
    wait_metric mr_workers_alive "$n" 300
    truncate -s $(( n * 4096 )) "$work/ballast"
    "$mr" submit "${client[@]}" --job wordcount --input "$work/ballast" --output "$work/ballast-out" \
      --split-size 4k --reducers 1 > /dev/null
    wait_metric mr_slots_busy "$n" 120
    sleep 5  # let the registration burst settle
    c0=$(cpu_ticks); t0=$(date +%s%N); max_age=0
    lost0=$(metric mr_workers_lost_total)
    lat_cli=(); lat_api=(); lat_metrics=()
    end=$(( $(date +%s) + measure_s ))
    while (( $(date +%s) < end )); do
      lat_cli+=("$(ms_of "$mr" workers "${client[@]}")")
      lat_api+=("$(ms_of curl -sf --max-time 60 "http://$http/api/workers?limit=10000")")
      lat_metrics+=("$(ms_of curl -sf --max-time 60 "http://$http/metrics")")
      age=$(metric mr_worker_heartbeat_age_max_seconds)
      max_age=$(awk -v a="$age" -v m="$max_age" 'BEGIN { print (a > m ? a : m) }')
      sleep 2
    done
    c1=$(cpu_ticks); t1=$(date +%s%N)
    lost=$(( $(metric mr_workers_lost_total) - lost0 ))
    cpu=$(awk -v c=$(( c1 - c0 )) -v hz="$hz" -v ns=$(( t1 - t0 )) 'BEGIN { printf "%.1f", 100 * c / hz / (ns / 1e9) }')
    echo "sims=$n load=$(load) master_cpu=${cpu}% rss=$(( $(rss_kb) / 1024 ))MiB lost_during=$lost max_heartbeat_age=${max_age}s" \
      "mr_workers_ms(median/max)=$(printf '%s\n' "${lat_cli[@]}" | median)/$(printf '%s\n' "${lat_cli[@]}" | sort -n | tail -1)" \
      "api_workers_ms=$(printf '%s\n' "${lat_api[@]}" | median) metrics_ms=$(printf '%s\n' "${lat_metrics[@]}" | median)"
  fi
  real=()
  for i in 1 2; do
    "$mr" worker --master "$rpc" --token-file "$work/token" --data-dir "$work/worker$i" --listen 127.0.0.1:0 \
      --slots 2 --threads 1 --log-file "$work/worker$i.log" 2> /dev/null &
    pids+=("$!"); real+=("$!")
  done
  wait_metric mr_workers_alive $(( n + 2 )) 60
  read -r wr0 ww0 <<< "$(sched_s "${real[@]}")"; read -r mr0 mw0 <<< "$(sched_s "$master_pid")"
  c0=$(cpu_ticks); t0=$(date +%s%N)
  "$mr" submit "${client[@]}" --job wordcount --input "$corpus" --output "$work/out" --reducers 4 \
    --split-size "${SPLIT:-4m}" --wait > /dev/null
  t1=$(date +%s%N); c1=$(cpu_ticks)
  echo "sims=$n load=$(load) real_job_s=$(awk -v ns=$(( t1 - t0 )) 'BEGIN { printf "%.1f", ns / 1e9 }')" \
    "master_cpu_during_job=$(awk -v c=$(( c1 - c0 )) -v hz="$hz" -v ns=$(( t1 - t0 )) 'BEGIN { printf "%.1f", 100 * c / hz / (ns / 1e9) }')%" \
    "lost_total=$(metric mr_workers_lost_total) rss=$(( $(rss_kb) / 1024 ))MiB"
  # Where the time went: the real workers' CPU time and their wait for a CPU; the master's wait
  # for a CPU; the maps' mean time from assignment to report, as the master saw it.
  read -r wr1 ww1 <<< "$(sched_s "${real[@]}")"; read -r mr1 mw1 <<< "$(sched_s "$master_pid")"
  job_id=$(( n > 0 ? 2 : 1 ))
  echo "sims=$n workers_cpu_s=$(awk -v a="$wr0" -v b="$wr1" 'BEGIN { printf "%.1f", b - a }')" \
    "workers_cpu_wait_s=$(awk -v a="$ww0" -v b="$ww1" 'BEGIN { printf "%.1f", b - a }')" \
    "master_cpu_wait_s=$(awk -v a="$mw0" -v b="$mw1" 'BEGIN { printf "%.1f", b - a }')" \
    "map_attempt_ms(mean)=$(grep -E "job $job_id map [0-9]+ attempt [0-9]+ on worker .* succeeded in" "$work/master.log" |
      awk '{ s += $(NF - 1) } END { printf "%.0f", NR ? s / NR : 0 }')"
elif [[ $mode == tasks ]]; then
  sims=${3:-200}
  start_sims "$sims" 4 ack
  wait_metric mr_workers_alive "$sims" 120
  sleep 2
  rss0=$(rss_kb)
  truncate -s $(( n * 4096 )) "$work/tiny"
  c0=$(cpu_ticks)
  job=$("$mr" submit "${client[@]}" --job wordcount --input "$work/tiny" --output "$work/out" --split-size 4k \
    --reducers 4 --quiet)
  t0=$(date +%s%N)
  # The job's state and the master's peak RSS, every second.
  : > "$work/progress"
  rss_peak=0
  while :; do
    # /api/jobs, not /api/jobs/ID: the latter lists every task, which would weigh on the master.
    st=$(curl -s "http://$http/api/jobs" | python3 -c '
import json, sys
j = [j for j in json.load(sys.stdin)["jobs"] if j["id"] == int(sys.argv[1])][0]
print(j["state"], j["maps"]["done"])' "$job" 2>/dev/null || echo "? 0")
    now=$(date +%s%N)
    echo "$(( (now - t0) / 1000000 )) ${st#* }" >> "$work/progress"
    r=$(rss_kb); (( r > rss_peak )) && rss_peak=$r
    case $st in JOB_SUCCEEDED*|JOB_FAILED*|JOB_KILLED*|succeeded*|failed*|killed*) break ;; esac
    sleep 1
  done
  t1=$(date +%s%N); c1=$(cpu_ticks)
  # The map rate in each tenth of the maps, from the master's log of each success.
  grep -E "job $job map [0-9]+ attempt [0-9]+ on worker [^ ]+ succeeded" "$work/master.log" |
    awk '
      { split(substr($1, 12), hms, ":"); t[NR] = hms[1] * 3600 + hms[2] * 60 + hms[3] }
      END {
        k = int(NR / 10)
        printf "maps=%d rate_per_tenth/s=", NR
        for (i = 0; i < 10; i++) printf "%s%.0f", (i ? "," : ""), k / (t[(i + 1) * k] - t[i * k + 1])
        printf " "
      }'
  echo "job_s=$(awk -v ns=$(( t1 - t0 )) 'BEGIN { printf "%.1f", ns / 1e9 }')" \
    "master_cpu=$(awk -v c=$(( c1 - c0 )) -v hz="$hz" -v ns=$(( t1 - t0 )) 'BEGIN { printf "%.1f", 100 * c / hz / (ns / 1e9) }')%" \
    "rss_peak=$(( rss_peak / 1024 ))MiB per_task=$(( (rss_peak - rss0) * 1024 / n ))B"
elif [[ $mode == restart ]]; then
  # N simulated workers registered, then the master is killed (SIGKILL) and restarted on the same
  # data dir and addresses: how long until every one of them is registered again (loadgen
  # reconnects 1-2 s after its connection closes, so they come back in one burst).
  start_sims "$n" 1 ack
  wait_metric mr_workers_alive "$n" 300
  sleep 2
  kill -9 "$master_pid"; wait "$master_pid" 2>/dev/null || true
  t0=$(date +%s%N)
  "$mr" master --listen "$rpc" --http "$http" --data-dir "$work/master" --token-file "$work/token" \
    --log-file "$work/master.log" 2> /dev/null &
  master_pid=$!
  pids+=("$master_pid")
  alive=0
  for _ in $(seq 1200); do  # at most ~10 minutes
    alive=$(metric mr_workers_alive); alive=${alive%.*}
    [[ -n $alive && $alive -ge $n ]] && break
    sleep 0.5
  done
  t1=$(date +%s%N)
  echo "sims=$n load=$(load) all_registered_again=$([[ ${alive:-0} -ge $n ]] && echo yes || echo "no (${alive:-0})")" \
    "after_s=$(awk -v ns=$(( t1 - t0 )) 'BEGIN { printf "%.1f", ns / 1e9 }')" \
    "lost_during=$(metric mr_workers_lost_total) rss=$(( $(rss_kb) / 1024 ))MiB"
else
  usage
fi
