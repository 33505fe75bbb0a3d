#!/usr/bin/env bash
# Runs the multihost suite N times in a row (default 3) and checks after every run that it left
# nothing behind: no network namespace of the suite (mrmh-*), no interface of it in the root
# namespace, no lock file under /run/mr-multihost, no process of the mr binary under test, and no
# process in any other network namespace.
#   scripts/multihost_soak.sh 5                          # build/ by default; MR_BUILD_DIR to change
#   scripts/multihost_soak.sh 3 --gtest_filter='*Flapping*'   # extra arguments go to the test binary
# Needs root (the suite makes namespaces). Exit 0 only when every run passed and left nothing.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="${MR_BUILD_DIR:-$root/build}"
runs="${1:-3}"
shift || true
bin="$build/tests/multihost/multihost_test"
mr="$build/client/mr"
[ -x "$bin" ] && [ -x "$mr" ] || { echo "build first: cmake --build $build --target mr multihost_test" >&2; exit 2; }
mr_real=$(readlink -f "$mr")

# Processes running the mr binary under test (read only; this script never kills anything).
mr_processes() {
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/exe" 2>/dev/null)" = "$mr_real" ] && echo "${p#/proc/}"
  done
}

# Processes in a network namespace other than ours: once the suite's namespaces are gone, these
# are processes that escaped into a namespace nobody can name any more.
netns_processes() {
  local mine; mine=$(readlink /proc/self/ns/net)
  for p in /proc/[0-9]*; do
    local n; n=$(readlink "$p/ns/net" 2>/dev/null) || continue
    [ "$n" != "$mine" ] && echo "${p#/proc/}($(tr '\0' ' ' < "$p/cmdline" 2>/dev/null | cut -c1-40))"
  done
}

leftovers() {
  local found=0
  local ns; ns=$(ip netns list 2>/dev/null | awk '{print $1}' | grep '^mrmh-' || true)
  [ -n "$ns" ] && { echo "  namespaces left: $(echo $ns)"; found=1; }
  local links; links=$(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | grep -E '^(mrmh|br-ctl|br-data)|-(ctl|data)(@|$)' || true)
  [ -n "$links" ] && { echo "  interfaces left in the root namespace: $(echo $links)"; found=1; }
  local locks; locks=$(ls /run/mr-multihost 2>/dev/null || true)
  [ -n "$locks" ] && { echo "  lock files left: $(echo $locks)"; found=1; }
  local procs; procs=$(mr_processes)
  [ -n "$procs" ] && { echo "  mr processes left: $(echo $procs)"; found=1; }
  local hidden; hidden=$(netns_processes)
  [ -n "$hidden" ] && { echo "  processes left in other network namespaces: $hidden"; found=1; }
  return $found
}

if ! leftovers >/dev/null; then
  echo "before the first run, something is already there (another run going on?):"; leftovers; exit 2
fi
failed=0
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  MR_BIN="$mr" MR_SOURCE_DIR="$root" "$bin" "$@" > "$build/multihost_soak.$i.log" 2>&1
  rc=$?
  took=$(( $(date +%s) - start ))
  summary=$(grep -E '^\[  (PASSED|FAILED|SKIPPED) ' "$build/multihost_soak.$i.log" | tr '\n' ' ')
  echo "run $i/$runs: exit $rc in ${took}s: $summary"
  [ $rc -eq 0 ] || failed=1
  if ! leftovers; then
    echo "run $i left the above behind"; failed=1
  fi
done
[ $failed -eq 0 ] && echo "soak: $runs run(s) passed, nothing left behind" || echo "soak: FAILED (logs: $build/multihost_soak.*.log)"
exit $failed
