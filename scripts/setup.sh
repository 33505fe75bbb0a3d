#!/usr/bin/env bash
# Installs the Debian packages mr builds against (DESIGN §9) when any is missing.
# Idempotent and quiet when there is nothing to do; uses sudo when not root.
# --with-comparisons also installs what tests compare against or render with when present
# (goaccess for the weblog report, chromium for its HTML page); without them those tests skip.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libboost-dev librocksdb-dev libprotobuf-dev protobuf-compiler
  libgtest-dev libgmock-dev libcli11-dev libspdlog-dev libfmt-dev
  nlohmann-json3-dev libre2-dev libssl-dev libbenchmark-dev python3 clang
  iproute2 python3-yaml zlib1g-dev liblz4-dev libzstd-dev
)
[ "${1:-}" = "--with-comparisons" ] && packages+=(goaccess chromium)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
