#!/usr/bin/env bash
# Configures and builds into build/ (Release with debug info, -Werror). Extra args go to cmake.
# Fails when the build fails: the progress lines are filtered out of a pipeline whose status is
# cmake's (pipefail; the filter itself never fails, even when it prints nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DAIN_WERROR=ON "$@" >/dev/null
cmake --build build -j"$(nproc)" 2>&1 | { grep -v '^\[' || true; }
test -x build/ain
