#!/usr/bin/env bash
# README command 1: set up (runtime packages only: no database server, Node or test tools), build,
# and run the main job on the embedded default (SQLite + local object store): sample trends in,
# real MP4 files out.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
exec build/ain run -c ain.lua.example --until-idle "$@"
