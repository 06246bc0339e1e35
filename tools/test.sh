#!/usr/bin/env bash
# README command 2: set up, build (warnings are errors), build the unit tests again under
# ASan+UBSan, then run the whole suite with ctest. ctest's summary is the last word.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
jobs=$(nproc)
cmake -S . -B build-asan -DAIN_WERROR=ON -DAIN_ASAN=ON -DAIN_UBSAN=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs" 2>&1 | grep -Ev '^\[|^-- ' || true
tools/build.sh -DAIN_SANITIZER_BUILD_DIR="$PWD/build-asan"
cd build
exec ctest --output-on-failure --no-label-summary -j"$jobs" --timeout 1200
