# Shared helpers for the black-box tests: a temp dir removed on exit, assertions that print both
# sides, UUIDv7 generation, task messages, and a config writer. Source it; needs $AIN_BIN.
#
# The store. SQLite ($T/ain.db) unless AIN_IT_STORE=postgres (the *_pg entries of
# tests/tests.cmake set it): then write_config points the store at a throwaway PostgreSQL
# (tools/pg-test-server.sh: its own data dir and a free loopback port; started by the first
# write_config, stopped on every exit path) and sql() asks that database with psql.
set -euo pipefail
: "${AIN_BIN:?AIN_BIN must point at the ain binary}"
: "${AIN_SOURCE_DIR:?AIN_SOURCE_DIR must point at the source tree}"
T=$(mktemp -d "${TMPDIR:-/tmp}/ain-it-XXXXXX")
CLEANUP_PIDS=()
PG_DIR="" PG_URL=""
cleanup() {
  local rc=$?
  for p in "${CLEANUP_PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
  if [ -n "$PG_DIR" ]; then
    "$AIN_SOURCE_DIR/tools/pg-test-server.sh" stop "$PG_DIR" > /dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
  if [ $rc -eq 0 ] && [ -z "${AIN_TEST_KEEP:-}" ]; then rm -rf "$T"; else echo "# kept $T" >&2; fi
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }
assert_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }
# grep that reads all its input: `grep -q` exits at the first match, and under pipefail the
# writer's SIGPIPE (a second file still being cat'ed, a late flush) then fails the pipeline.
grep_all() { grep "$@" > /dev/null; }
assert_contains() { case "$1" in *"$2"*) ;; *) fail "$3: '$2' not found in: $1";; esac; }

# A UUIDv7: 48-bit ms timestamp, version 7, RFC 4122 variant.
uuid7() {
  local ms hex r
  ms=$(date +%s%3N)
  hex=$(printf '%012x' "$ms")
  r=$(od -An -N10 -tx1 /dev/urandom | tr -d ' \n')
  printf '%s-%s-7%s-%x%s-%s\n' "${hex:0:8}" "${hex:8:4}" "${r:0:3}" $(( (0x${r:3:1} & 3) | 8 )) "${r:4:3}" "${r:7:12}"
}

# task_msg TYPE PAYLOAD_JSON [PERSONA] -> one task message on stdout
task_msg() {
  printf '{"task_id":"%s","type":"%s","payload":%s,"persona_id":"%s","state_version":0}\n' \
    "$(uuid7)" "$1" "$2" "${3:-tester}"
}

# add_persona SCRIPTS_DIR [ID]: a minimal valid persona file (default "tester", the persona
# task_msg names). `ain enqueue` and ain.emit refuse a persona the scripts folder does not have.
add_persona() {
  mkdir -p "$1/personas"
  printf 'return { id = "%s", voice = {}, style = {} }\n' "${2:-tester}" > "$1/personas/${2:-tester}.lua"
}

# write_config FILE SCRIPTS_DIR [extra lua lines...]
# The operator API listens on a free port (tests run side by side; 8080 is the default); an extra
# `api = {...}` line replaces that.
write_config() {
  local f=$1 scripts=$2; shift 2
  local url="sqlite:$T/ain.db"
  if [ "${AIN_IT_STORE:-sqlite}" = postgres ]; then
    if [ -z "$PG_DIR" ]; then
      # outside $T: as root the server runs as the postgres user, which must reach its data dir
      PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ain-it-pg-XXXXXX")
      PG_URL=$("$AIN_SOURCE_DIR/tools/pg-test-server.sh" start "$PG_DIR") || fail "no PostgreSQL"
    fi
    url=$PG_URL
  fi
  {
    echo "store = { url = \"$url\" }"
    echo "api = { listen = \"127.0.0.1:0\" }"
    echo "scripts_dir = \"$scripts\""
    echo "data_dir = \"$T/var\""
    echo "log_format = \"json\""
    echo "shards = 2"
    for l in "$@"; do echo "$l"; done
  } > "$f"
}

# sql QUERY: rows as "a|b" lines, from whichever store write_config chose.
sql() {
  if [ -n "$PG_URL" ]; then
    psql -X -q -A -t -v ON_ERROR_STOP=1 "$PG_URL" -c "$1"
  else
    sqlite3 -batch -noheader "$T/ain.db" "$1"
  fi
}

# ocr_findings JUDGE_RESULT: the OCR findings (unexpected_text, captions_not_on_screen,
# title_not_on_screen) in a judge step's result JSON, "rule: detail" each; empty when none. The
# e2e tests assert that a video the judge sent to review went there for no OCR finding: the checks
# do not flag the engine's own pictures, transitions or captions (issue 12), while the
# recogniser's mishearing of an espeak voice ("ten minute HIIT" heard as "get it the") still may.
ocr_findings() {
  printf '%s' "$1" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read() or "{}")
ocr = {"unexpected_text", "captions_not_on_screen", "title_not_on_screen"}
print("; ".join(sorted(f["rule"] + ": " + f.get("detail", "") for f in r.get("findings", []) if f["rule"] in ocr)))'
}
# judge_of_video VIDEO_ID: the judge step's result for that video (sql(): either store).
judge_of_video() {
  sql "SELECT t.result FROM tasks t JOIN videos v ON v.dag_id = t.dag_id WHERE v.id = '$1' AND t.step = 'judge'"
}
