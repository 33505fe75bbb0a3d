#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (ASan+UBSan) in build-fuzz/ and runs each for a
# bounded time: scripts/fuzz.sh [SECONDS per target, default 60] [TARGET...].
# New inputs go to build-fuzz/corpus/TARGET (the seed corpus in fuzz/corpus/ is only read); a crash
# leaves its input in build-fuzz/crash-* and fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(fuzz_frame fuzz_log_line fuzz_line_reader fuzz_words)

bash scripts/setup.sh
if [ ! -f build-fuzz/build.ninja ]; then
  CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DMR_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
ninja -C build-fuzz "${targets[@]}"

status=0
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t"
  echo "fuzz: $t for ${seconds}s"
  if ! (cd build-fuzz && "./fuzz/$t" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix=./ \
          "corpus/$t" "../fuzz/corpus/$t" 2>"$t.log"); then
    echo "fuzz: $t FAILED; see build-fuzz/$t.log" >&2
    tail -40 "build-fuzz/$t.log" >&2
    status=1
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+ *DONE" "build-fuzz/$t.log" || true
done
exit $status
