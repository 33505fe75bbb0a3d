#!/usr/bin/env bash
# Builds mr and runs every test. Extra arguments go to ctest, e.g. `scripts/test.sh -L unit`
# (labels: unit, integration).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="${MR_BUILD_DIR:-$root/build}"

bash "$root/scripts/setup.sh"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)"
cd "$build"
ctest --output-on-failure -j 2 "$@"
