#!/usr/bin/env bash
# make_corpus.sh SIZE OUT — writes a text corpus of about SIZE bytes to OUT for the benchmarks.
#
# SIZE is a byte count with an optional binary suffix: 4096, 64k, 256m, 1g (k/m/g = KiB/MiB/GiB).
# The corpus repeats the public-domain books in <repo>/../shared/data/gutenberg/*.txt (in name
# order, read in place, never copied into the repository) and is cut after the last whole line
# that fits, so it is SIZE bytes minus less than one line, and it always ends with '\n'.
# The output is deterministic; if OUT already exists with the expected size, nothing is done.
set -eu  # no pipefail: `cat | head` ends cat with SIGPIPE by design; the size check below catches errors

usage() { echo "usage: $0 SIZE OUT   (SIZE e.g. 256m, 1g)" >&2; exit 2; }
[[ $# -eq 2 ]] || usage

parse_size() {
  local s=${1,,}
  [[ $s =~ ^([0-9]+)(k|m|g|kb|mb|gb|kib|mib|gib)?$ ]] || { echo "$0: bad size: $1" >&2; exit 2; }
  local n=${BASH_REMATCH[1]} unit=${BASH_REMATCH[2]:0:1}
  case $unit in
    k) n=$((n << 10)) ;;
    m) n=$((n << 20)) ;;
    g) n=$((n << 30)) ;;
  esac
  echo "$n"
}

size=$(parse_size "$1")
out=$2
data_dir=$(cd "$(dirname "$0")/../../shared/data/gutenberg" && pwd)
shopt -s nullglob
books=("$data_dir"/*.txt)
shopt -u nullglob
[[ ${#books[@]} -gt 0 ]] || { echo "$0: no books in $data_dir" >&2; exit 1; }

# One "round" is all books once. The corpus is `rounds` whole rounds plus the first `tail_lines`
# lines of one more round.
round_bytes=$(cat "${books[@]}" | wc -c)
rounds=$((size / round_bytes))
rest=$((size - rounds * round_bytes))
tail_lines=$(cat "${books[@]}" | head -c "$rest" | tr -cd '\n' | wc -c)
tail_bytes=$(cat "${books[@]}" | head -n "$tail_lines" | wc -c)
expected=$((rounds * round_bytes + tail_bytes))
[[ $expected -gt 0 ]] || { echo "$0: SIZE $1 is smaller than the first line" >&2; exit 2; }

if [[ -f $out && $(stat -c %s "$out") -eq $expected ]]; then
  echo "$out: exists ($expected bytes), kept" >&2
  exit 0
fi

mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
{
  for ((i = 0; i < rounds; i++)); do cat "${books[@]}"; done
  if ((tail_lines > 0)); then cat "${books[@]}" | head -n "$tail_lines"; fi
} > "$tmp"
got=$(stat -c %s "$tmp")
[[ $got -eq $expected ]] || { echo "$0: wrote $got bytes, expected $expected" >&2; exit 1; }
mv -f "$tmp" "$out"
trap - EXIT
echo "$out: $expected bytes (${#books[@]} books x $rounds rounds + $tail_lines lines)" >&2
