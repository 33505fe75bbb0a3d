#!/usr/bin/env bash
# Builds mr, runs word count with `mr run` (a master and 2 workers on loopback) over the
# public-domain books beside the checkout (../shared/data/gutenberg), or over generated text when
# they are absent, and prints the 20 most frequent words.
set -euo pipefail
root=$(cd -P "$(dirname "$0")/.." && pwd)  # -P: the checkout, also when scripts/ is a link
build="${MR_BUILD_DIR:-$root/build}"

bash "$root/scripts/setup.sh"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target mr

work=$(mktemp -d "${TMPDIR:-/tmp}/mr-demo-XXXXXX")
trap 'rm -rf "$work"' EXIT
input="$root/../shared/data/gutenberg"
if [ ! -d "$input" ]; then
  input="$work/sample"
  mkdir -p "$input"
  python3 "$root/scripts/sample_text.py" 4 > "$input/sample.txt"
fi

"$build/client/mr" run --job wordcount --input "$input" --output "$work/out" --workers 2 \
  --reducers 2 --split-size 256k
echo
echo "top 20 words:"
# Sorted into a file first: `sort | head` would end sort with SIGPIPE, a failure under pipefail.
sort -t$'\t' -k2,2nr -k1,1 "$work/out"/part-r-* > "$work/top.txt"
head -20 "$work/top.txt"
