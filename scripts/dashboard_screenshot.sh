#!/usr/bin/env bash
# Opens the master's dashboard in headless Chromium against a live local cluster and saves a
# screenshot, failing if the page logs anything to the browser console or does not render its
# jobs, tasks, timeline and workers.
#
#   scripts/dashboard_screenshot.sh [PNG]      (default /tmp/mr-dashboard.png)
#
# Starts a master and 2 workers (ports chosen by the system, data under a temporary directory),
# runs a quick job and then a slowed one (failpoint delays, and one failed attempt so failures
# show), takes the screenshot while the slow job runs, and stops every process it started.
# The page must render without a single browser console message.
# Installs Debian's `chromium` when it is missing. MR_BIN overrides the mr binary (default
# build/client/mr, built if absent).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-/tmp/mr-dashboard.png}
mr=${MR_BIN:-$root/build/client/mr}

if [ ! -x "$mr" ]; then
  cmake -S "$root" -B "$root/build" -G Ninja >/dev/null
  cmake --build "$root/build" --target mr
fi
if ! command -v chromium >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "dashboard_screenshot: installing chromium" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mr-dashboard-XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$mr" master --listen 127.0.0.1:0 --http 127.0.0.1:0 --data-dir "$work/master" --worker-timeout 5s \
  --log-file "$work/master.log" 2>/dev/null &
pids+=($!)
for _ in $(seq 100); do
  [ -s "$work/master/ADDRESS" ] && break
  sleep 0.1
done
rpc=$(awk '$1 == "rpc" {print $2}' "$work/master/ADDRESS")
http=$(awk '$1 == "http" {print $2}' "$work/master/ADDRESS")
[ -n "$rpc" ] && [ -n "$http" ] || { echo "dashboard_screenshot: the master did not start" >&2; cat "$work/master.log" >&2; exit 1; }

slow='map.after_read=delay(400ms);reduce.after_fetch=delay(300ms)'
start_worker() {  # NAME [FAILPOINTS]
  MR_FAILPOINTS="$2" "$mr" worker --master "$rpc" --name "$1" --data-dir "$work/$1" --slots 2 --log-file "$work/$1.log" 2>/dev/null &
  pids+=($!)
}

mkdir -p "$work/in/small" "$work/in/big"
python3 "$root/scripts/sample_text.py" 0.1 > "$work/in/small/a.txt"
for i in 1 2 3; do python3 "$root/scripts/sample_text.py" 0.5 > "$work/in/big/part-$i.txt"; done

# A quick job on one worker, then a slow one on two, where the newcomer's first map fails after
# reading its split (a red bar on the timeline, an entry under "Failed attempts").
start_worker w1 "$slow"
"$mr" submit --master "$rpc" --job wordcount --input "$work/in/small" --output "$work/out-small" \
  --split-size 32k --reducers 2 --wait >/dev/null
start_worker w2 "$slow;map.before_spill=1*error"
for _ in $(seq 100); do
  [ "$("$mr" workers --master "$rpc" --json | grep -c '"id"')" -ge 2 ] && break
  sleep 0.1
done
"$mr" submit --master "$rpc" --job wordcount --input "$work/in/big" --output "$work/out-big" \
  --split-size 64k --reducers 4 >/dev/null
sleep 1.2  # the big job is now part-way through its maps (and the browser takes a moment to start)

chrome() {
  local profile
  profile=$(mktemp -d "$work/chrome-XXXXXX")
  timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --window-size=1400,1000 --virtual-time-budget=3000 \
    --enable-logging=stderr --v=0 "$@" "http://$http/"
}
chrome --screenshot="$out" 2>"$work/chrome-shot.log" >/dev/null
chrome --dump-dom 2>"$work/chrome-dom.log" >"$work/dom.html"

status=0
# Any message the page writes to the console (errors, failed loads, uncaught exceptions).
if grep -h ":CONSOLE" "$work/chrome-shot.log" "$work/chrome-dom.log"; then
  echo "dashboard_screenshot: the page logged to the browser console (above)" >&2
  status=1
fi
for want in "Job 2 · wordcount" "<svg" "Timeline" "map 0" "reduce 0" "127.0.0.1" ">w1<" ">w2<" "Failed attempts" "Phases" \
            "map.input.bytes"; do
  if ! grep -qF "$want" "$work/dom.html"; then
    echo "dashboard_screenshot: the rendered page lacks '$want'" >&2
    status=1
  fi
done
[ -s "$out" ] || { echo "dashboard_screenshot: no screenshot written" >&2; status=1; }
[ $status -eq 0 ] && echo "dashboard screenshot: $out"
exit $status
