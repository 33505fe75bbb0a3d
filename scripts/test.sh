#!/usr/bin/env bash
# Builds mr and runs every test. Extra arguments go to ctest, e.g. `scripts/test.sh -L unit`
# (labels: unit, integration, fault). MR_SANITIZE=address (ASan+UBSan) or MR_SANITIZE=thread
# builds with that sanitizer, in build-address/ or build-thread/; there a sanitizer report from any
# process a test started fails the test (cmake/MrTest.cmake; TSan reads tests/tsan.supp). The TSan
# run of the README: MR_SANITIZE=thread scripts/test.sh -L 'unit|integration|fault'
set -euo pipefail
root=$(cd -P "$(dirname "$0")/.." && pwd)  # -P: the checkout, also when scripts/ is a link
sanitize="${MR_SANITIZE:-}"
build="${MR_BUILD_DIR:-$root/build${sanitize:+-$sanitize}}"

bash "$root/scripts/setup.sh"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMR_SANITIZE="$sanitize" >/dev/null
cmake --build "$build" -j "$(nproc)"
cd "$build"
ctest --output-on-failure -j 2 "$@"
