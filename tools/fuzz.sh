#!/usr/bin/env bash
# The long fuzzing run (docs/testing.md, "Fuzzing"): builds the libFuzzer targets with clang in
# build-fuzz/ (AIN_FUZZ=ON: ASan + UBSan + coverage) and runs each for DURATION seconds (default 300),
# one after another, or only the TARGETs named (message, config, captions, trends). What the
# fuzzer learns stays in build-fuzz/fuzz-work/TARGET, so the next run resumes from it; a finding
# is saved as build-fuzz/fuzz-work/TARGET-crash-* (or -leak-, -timeout-, -oom-). Fix it, then add
# the input to tests/fuzz/corpus/TARGET/ as regress-<what> so every test run replays it.
# Needs clang and libclang-rt-14-dev (tools/setup.sh --test). Exits 1 if any target found something.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-300}"; shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(message config captions trends)
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DAIN_FUZZ=ON -DAIN_WERROR=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz 2>&1 | { grep -Ev '^\[|^-- ' || true; }
failed=()
for t in "${targets[@]}"; do
  log="build-fuzz/fuzz-work/$t.log"
  mkdir -p build-fuzz/fuzz-work
  echo "fuzz: $t for $secs s (log: $log)" >&2
  if tests/fuzz/run.sh "$t" "$secs" "$PWD/build-fuzz" > "$log" 2>&1; then
    grep -a -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' "$log" | sed "s/^/  $t: /"
  else
    failed+=("$t")
    grep -a -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -5 | sed "s/^/  $t: /"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]}: inputs in build-fuzz/fuzz-work/, logs beside them" >&2
  exit 1
fi
echo "fuzz: no findings"
