#!/usr/bin/env bash
# Configures and builds into build/ (Release with debug info, -Werror). Extra args go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DAIN_WERROR=ON "$@" >/dev/null
cmake --build build -j"$(nproc)" 2>&1 | grep -v '^\[' || true
test -x build/ain
