#!/usr/bin/env bash
# network_shuffle.sh RATE [SIZE] — shuffle-heavy jobs with each intermediate codec (none, lz4,
# zstd) on a cluster of separate hosts (network namespaces: a master and three workers, as the
# multihost tests build them), each worker's data link limited to RATE both ways (tc tbf, e.g.
# 200mbit; "none": not limited), REPS rounds (default 1):
#   grep           `--job grep --arg pattern=.` over the SIZE corpus (make_corpus.sh; default 256m)
#   invertedindex  over the same text cut into 16 files
#   terasort       over SIZE of `mr teragen --ascii` rows
# with 3 reducers. Prints the rows of bench/network_shuffle.cc; each output is compared with the
# first codec's byte for byte. Needs root. Environment: BENCH_DIR (default /tmp/mr-bench),
# BUILD_DIR, REPS, CODECS (default none,lz4,zstd), JOBS (default grep,invertedindex,terasort),
# SKIP_BUILD=1.
set -eu

[[ $# -ge 1 && $# -le 2 ]] || { echo "usage: $0 RATE [SIZE]   (RATE e.g. 200mbit or none; SIZE e.g. 256m)" >&2; exit 2; }
rate=$1
size=${2:-256m}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${BUILD_DIR:-$repo/build}
bench=${BENCH_DIR:-/tmp/mr-bench}
jobs=${JOBS:-grep,invertedindex,terasort}
mr=$build/client/mr

if [[ ${SKIP_BUILD:-0} != 1 ]]; then cmake --build "$build" --target mr network_shuffle >&2; fi
mkdir -p "$bench"
corpus=$bench/corpus-$size.txt
"$here/make_corpus.sh" "$size" "$corpus" >&2
bytes=$(stat -c %s "$corpus")

args=()
if [[ ,$jobs, == *,grep,* ]]; then args+=(--grep "$corpus"); fi
if [[ ,$jobs, == *,invertedindex,* ]]; then
  files=$bench/files-$size
  if [[ ! -f $files/_done ]]; then
    rm -rf "$files" && mkdir -p "$files"
    split -n l/16 -d "$corpus" "$files/part-"
    touch "$files/_done"  # names starting with _ are not input
  fi
  args+=(--invertedindex "$files")
fi
if [[ ,$jobs, == *,terasort,* ]]; then
  rows=$((bytes / 100))
  tera=$bench/teragen-$size
  if [[ ! -f $tera/_SUCCESS ]]; then
    rm -rf "$tera"
    "$mr" teragen "$rows" "$tera" --ascii --workers 2 >&2
  fi
  args+=(--terasort "$tera")
fi

export MR_BIN=$mr MR_SOURCE_DIR=$repo
"$build/bench/network_shuffle" --rate "$rate" --reps "${REPS:-1}" --codecs "${CODECS:-none,lz4,zstd}" "${args[@]}"
