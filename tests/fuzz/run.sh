#!/usr/bin/env bash
# Runs one libFuzzer target for a while: tests/fuzz/run.sh TARGET SECONDS [FUZZ_BUILD_DIR]
# (TARGET = message, config, captions, trends). The seed corpus tests/fuzz/corpus/TARGET is read
# only; what the fuzzer learns goes to FUZZ_BUILD_DIR/fuzz-work/TARGET (kept between runs, so a
# longer run resumes), a crashing input to FUZZ_BUILD_DIR/fuzz-work/TARGET-crash-*. Exits non-zero
# on a finding (crash, sanitizer report, leak, timeout, out of memory). Used by ctest
# (tests/tests.cmake, fuzz.*) and tools/fuzz.sh.
set -euo pipefail
target="$1"; secs="$2"
src="$(cd "$(dirname "$0")/../.." && pwd)"
bdir="${3:-${AIN_FUZZ_BUILD_DIR:-$src/build-fuzz}}"
bin="$bdir/fuzz_$target"
[ -x "$bin" ] || { echo "run.sh: no $bin: cmake -DAIN_FUZZ=ON -DCMAKE_C_COMPILER=clang, then --target fuzz" >&2; exit 2; }
seeds="$src/tests/fuzz/corpus/$target"
work="$bdir/fuzz-work/$target"
mkdir -p "$work"
dict=()
[ -f "$src/tests/fuzz/$target.dict" ] && dict=(-dict="$src/tests/fuzz/$target.dict")
# -timeout: one input slower than this is a hang (a finding); -rss_limit_mb: a blow-up is one too.
# Leak checks stay on (ASan's default under libFuzzer).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:abort_on_error=0"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
cd "$work/.."
exec "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$work-" "${dict[@]}" "$work" "$seeds"
