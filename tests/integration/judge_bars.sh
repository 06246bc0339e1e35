#!/usr/bin/env bash
# The bars of issue 13 on the shipped judge: `ain judge eval` of the labelled set
# (tests/fixtures/judge/*.jsonl) against the real scripts/ must reach recall >= 0.95 for every
# reject category, >= 0.90 for every review category, and stop at most 5 % of the benign items.
# The report (matrix, per-category figures, misses) is printed, so a failure says what missed.
. "$(dirname "$0")/lib.bash"

shopt -s nullglob
files=("$AIN_SOURCE_DIR"/tests/fixtures/judge/*.jsonl)
[ "${#files[@]}" -gt 0 ] || fail "no labelled set in tests/fixtures/judge/*.jsonl"
C=$T/ain.lua
write_config "$C" "$AIN_SOURCE_DIR/scripts"
set +e; out=$("$AIN_BIN" judge eval -c "$C" "${files[@]}" 2>&1); rc=$?; set -e
printf '%s\n' "$out"
case $rc in
  0) ok "the shipped judge meets the bars on ${#files[@]} file(s)" ;;
  1) fail "the shipped judge is below the bars (see the report above)" ;;
  *) fail "ain judge eval failed (exit $rc)" ;;
esac
