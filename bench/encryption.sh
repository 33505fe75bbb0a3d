#!/usr/bin/env bash
# encryption.sh — what TLS on every connection costs (DESIGN §6, §8: at most 10%): each job run with
# TLS (the default) and with MR_BENCH_PLAINTEXT=1 (TLS off; a measurement switch, loopback only),
# in turn, REPS pairs (default 3), on `mr run --workers 2`:
#   wordcount 1 GiB (the corpus of make_corpus.sh), terasort 1 GiB (mr teragen), grep pattern=. 512 MiB
# (the shuffle-heaviest: its map output is as large as its input). Prints a markdown row per run and,
# per job, the median wall and CPU seconds of each mode and their ratio.
# Environment: BENCH_DIR (default /tmp/mr-bench), BUILD_DIR, REPS, SKIP_BUILD=1, JOBS (a subset of
# "wordcount terasort grep").
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${BUILD_DIR:-$repo/build}
bench=${BENCH_DIR:-/tmp/mr-bench}
reps=${REPS:-3}
jobs=${JOBS:-"wordcount terasort grep"}
mr=$build/client/mr

if [[ ${SKIP_BUILD:-0} != 1 ]]; then cmake --build "$build" --target mr >&2; fi
mkdir -p "$bench"
"$here/make_corpus.sh" 1g "$bench/corpus-1g.txt" >&2
"$here/make_corpus.sh" 512m "$bench/corpus-512m.txt" >&2
if [[ ! -f "$bench/tera-1g/_SUCCESS" ]]; then
  rm -rf "$bench/tera-1g"
  "$mr" teragen 10737418 "$bench/tera-1g" >&2
fi
work=$(mktemp -d "$bench/encryption-XXXXXX")
trap 'rm -rf "$work"' EXIT

command_of() {  # the mr run command line of a job
  case $1 in
    wordcount) echo run --job wordcount --input "$bench/corpus-1g.txt" ;;
    terasort) echo run --job terasort --input "$bench/tera-1g" --reducers 2 ;;
    grep) echo run --job grep --arg pattern=. --input "$bench/corpus-512m.txt" --reducers 2 ;;
  esac
}

echo "| job | mode | wall s | CPU s |"
echo "|---|---|---|---|"
for job in $jobs; do
  read -r -a args <<< "$(command_of "$job")"
  : > "$work/$job.tls"
  : > "$work/$job.plain"
  for ((r = 0; r < reps; r++)); do
    for mode in tls plain; do
      rm -rf "$work/out"
      env_args=()
      [[ $mode == plain ]] && env_args=(MR_BENCH_PLAINTEXT=1)
      env "${env_args[@]}" /usr/bin/time -f '%e %U %S' -o "$work/time.txt" \
        "$mr" "${args[@]}" --output "$work/out" --workers 2 --show 0 > "$work/cmd.txt" 2>&1 ||
        { cat "$work/cmd.txt" >&2; exit 1; }
      read -r wall user sys < "$work/time.txt"
      cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
      echo "$wall $cpu" >> "$work/$job.$mode"
      echo "| $job | $mode | $wall | $cpu |"
    done
  done
done
echo
echo "| job | TLS wall s (median) | plaintext wall s | TLS / plaintext wall | TLS CPU s | plaintext CPU s | TLS / plaintext CPU |"
echo "|---|---|---|---|---|---|---|"
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for job in $jobs; do
  tw=$(cut -d' ' -f1 "$work/$job.tls" | median)
  pw=$(cut -d' ' -f1 "$work/$job.plain" | median)
  tc=$(cut -d' ' -f2 "$work/$job.tls" | median)
  pc=$(cut -d' ' -f2 "$work/$job.plain" | median)
  awk -v j="$job" -v tw="$tw" -v pw="$pw" -v tc="$tc" -v pc="$pc" \
    'BEGIN { printf "| %s | %.2f | %.2f | %.3f | %.2f | %.2f | %.3f |\n", j, tw, pw, tw / pw, tc, pc, tc / pc }'
done
