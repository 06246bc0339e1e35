#!/usr/bin/env bash
# The judge's labelled set (tests/fixtures/judge/*.jsonl) is well formed and labelled by the
# contract's rule: tests/integration/judge_dataset.js must accept the real set, then refuse
# copies of it broken one way at a time (a line that does not parse, a duplicate id, a decision
# that disagrees with its categories, an unknown category, a brand reject without a banned term, a
# benign item carrying its persona's banned term, a note naming a Cyrillic trick the text lacks, a
# kind below its minimum, a missing issue example), each with the fault named. This test does not
# run the judge: `ain judge eval` measures the judge against this set.
# Env: AIN_SOURCE_DIR (set by ctest; defaults to this checkout).
set -euo pipefail

SRC=${AIN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
SET="$SRC/tests/fixtures/judge"
PERSONAS="$SRC/scripts/personas"
CHECK="$SRC/tests/integration/judge_dataset.js"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ain-judge-dataset.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
command -v node >/dev/null || fail "node not found (tools/setup.sh installs nodejs)"
command -v jq >/dev/null || fail "jq not found (tools/setup.sh installs jq)"

node "$CHECK" "$SET" "$PERSONAS" || fail "the labelled set in $SET does not validate"
echo "ok - the labelled set validates"

# broken NAME MESSAGE: the copy in $TMP/NAME must be refused with MESSAGE on stderr.
fresh() { rm -rf "$TMP/$1"; cp -r "$SET" "$TMP/$1"; }
broken() {
  local rc=0
  node "$CHECK" "$TMP/$1" "$PERSONAS" >"$TMP/$1.out" 2>"$TMP/$1.err" || rc=$?
  [ "$rc" -eq 1 ] || fail "$1: validator exit code $rc, want 1 (stderr: $(cat "$TMP/$1.err"))"
  grep -qF -- "$2" "$TMP/$1.err" || fail "$1: stderr lacks '$2': $(cat "$TMP/$1.err")"
  echo "ok - refused $1: $2"
}
# edit NAME FILE JQ_FILTER: rewrite every line of FILE in the copy NAME through jq.
edit() {
  jq -c "$3" "$TMP/$1/$2" >"$TMP/$1/$2.new"
  mv "$TMP/$1/$2.new" "$TMP/$1/$2"
}

fresh truncated
printf '%s\n' '{"id":"pii-999","text":"Call me on' >>"$TMP/truncated/pii.jsonl"
broken truncated "pii.jsonl:$(wc -l <"$TMP/truncated/pii.jsonl"): does not parse"

fresh duplicate
head -n 1 "$SET/violence.jsonl" >>"$TMP/duplicate/violence.jsonl"
broken duplicate 'duplicate id "violence-001"'

fresh decision
edit decision tragedy.jsonl 'if .id == "tragedy-001" then .decision = "pass" else . end'
broken decision 'decision "pass" disagrees with categories [tragedy] (expected "review")'

fresh category
edit category hate.jsonl 'if .id == "hate-003" then .categories = ["hate", "racism"] else . end'
broken category 'unknown category "racism"'

fresh brand
edit brand brand.jsonl 'if .id == "brand-001" then .decision = "reject" else . end'
broken brand 'decision "reject" disagrees with categories [brand] (expected "review")'

fresh banned
printf '%s\n' '{"id":"benign-999","text":"This stretch works like a miracle for tight hips.","persona":"coach_ava","decision":"pass","categories":[],"kind":"benign","note":"x"}' \
  >>"$TMP/banned/benign.jsonl"
broken banned "contains coach_ava's banned term \"miracle\" but is not labelled brand"

fresh trick
edit trick hate.jsonl 'if .id == "hate-014" then .text = "Refugees are parasites, nothing more." else . end'
broken trick 'hate.jsonl:14: note says cyrillic but the text has none'

fresh kinds
edit kinds hate.jsonl 'select(.kind != "evaded")'
broken kinds 'category hate has 0 "evaded" items, want >= 3'

fresh example
grep -v 'Kill them all' "$SET/violence.jsonl" >"$TMP/example/violence.jsonl"
broken example 'no harmful item contains "Kill them all"'

echo "ok - judge_dataset"
