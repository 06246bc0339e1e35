#!/usr/bin/env bash
# README command 2: set up (runtime and test packages), build (warnings are errors), build the unit
# tests again under ASan+UBSan (build-asan) and the libFuzzer targets with clang (build-fuzz), then
# run the whole suite with ctest: unit, integration, asan.* and a short run of each fuzz target
# (fuzz.*). ctest's summary is the last word. Any failed build stops here with its error.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --test
jobs=$(nproc)
# Filters keep the compiler's messages and drop progress lines; pipefail keeps cmake's status.
cmake -S . -B build-asan -DAIN_WERROR=ON -DAIN_ASAN=ON -DAIN_UBSAN=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs" 2>&1 | { grep -Ev '^\[|^-- ' || true; }
CC=clang cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DAIN_FUZZ=ON -DAIN_WERROR=ON >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz 2>&1 | { grep -Ev '^\[|^-- ' || true; }
tools/build.sh -DAIN_SANITIZER_BUILD_DIR="$PWD/build-asan" -DAIN_FUZZ_BUILD_DIR="$PWD/build-fuzz"
cd build
# ctest starts the longest tests first when it knows how long each took; a clean clone does not
# (the order would be the declared one, and a two-minute test could start last), so it gets the
# durations of a full run on a fresh Debian 12: tests/ctest_costs.txt (refresh it by copying a
# full run's build/Testing/Temporary/CTestCostData.txt). ctest updates its own copy after each run.
mkdir -p Testing/Temporary
[ -s Testing/Temporary/CTestCostData.txt ] || cp ../tests/ctest_costs.txt Testing/Temporary/CTestCostData.txt
exec ctest --output-on-failure --no-label-summary -j"$jobs" --timeout 1200
