#!/usr/bin/env bash
# Contract test of the message schemas with an independent validator (ajv 8, JSON Schema
# draft 2020-12, strict mode; tests/integration/contract_schemas.js), so that docs/schemas/*.json and the engine's C validator
# (engine/message/message.c) cannot drift apart unnoticed:
#   1. both schemas compile, and the examples they carry validate;
#   2. every good fixture in tests/fixtures/messages/{task,response}/good validates and every bad
#      one fails, except those listed in tests/fixtures/messages/c-only.txt (faults that JSON
#      Schema cannot express; test_message.c covers them);
#   3. what the engine itself emits validates: the real CLI enqueues the good task fixtures
#      (`ain enqueue`), runs them (`ain run --until-idle`) and prints them back as task messages
#      (`ain task show ID --json`) and worker responses (`ain task show ID --response`); the bad
#      fixtures are refused by `ain enqueue` with exit code 4 and the field named.
# Part 3 is skipped, saying so, only when `$AIN_BIN enqueue --help` fails (a build without the CLI).
# Env: AIN_BIN, AIN_SOURCE_DIR (set by ctest).
set -euo pipefail

SRC=${AIN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
FIX="$SRC/tests/fixtures/messages"
SCHEMAS="$SRC/docs/schemas"
AJV_JS="$SRC/tools/node/node_modules/ajv/dist/2020.js"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ain-contract.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

fails=0
checks=0
fail() {
  echo "FAIL: $*" >&2
  fails=$((fails + 1))
}
pass() { checks=$((checks + 1)); }

if ! command -v node >/dev/null || [ ! -f "$AJV_JS" ]; then
  echo "FAIL: ajv not found at $AJV_JS (run tools/setup.sh, or: cd tools/node && npm install)" >&2
  exit 1
fi

# ajv <schema> <data files...>: exit 0 iff every file is valid (messages in $TMP/ajv.out).
ajv() { node "$SRC/tests/integration/contract_schemas.js" validate "$@" >"$TMP/ajv.out" 2>&1; }

# ---- 1. schemas compile, examples validate; 2. fixtures (one Node process: contract_schemas.js) -
if node "$SRC/tests/integration/contract_schemas.js" fixtures "$SCHEMAS" "$FIX" >"$TMP/fixtures.out" 2>&1; then
  pass
else
  fail "schemas and fixtures (below)"
fi
cat "$TMP/fixtures.out"

# ---- 3. messages emitted by the engine --------------------------------------------------------
if [ -z "${AIN_BIN:-}" ] || ! "$AIN_BIN" enqueue --help >/dev/null 2>&1; then
  echo "SKIP: engine part: '${AIN_BIN:-\$AIN_BIN} enqueue --help' failed (no CLI in this build);" \
    "schemas and fixtures were still checked" >&2
  [ "$fails" -eq 0 ] || exit 1
  exit 0
fi

cfg="$TMP/ain.lua"
# The personas the fixtures name live in $FIX/scripts/personas (`ain enqueue` refuses others).
cat >"$cfg" <<EOF
return { store = { url = "sqlite:$TMP/ain.db" }, scripts_dir = "$FIX/scripts" }
EOF
"$AIN_BIN" migrate -c "$cfg" >"$TMP/migrate.out" 2>&1 || { cat "$TMP/migrate.out" >&2; fail "ain migrate"; }

# Bad fixtures: refused with exit 4 (invalid input), nothing stored, the field named.
for f in "$FIX/task/bad"/*.json; do
  name=$(basename "$f" .json)
  field=${name%%--*}
  set +e
  "$AIN_BIN" enqueue -c "$cfg" "$f" >"$TMP/enq.out" 2>"$TMP/enq.err"
  rc=$?
  set -e
  if [ "$rc" -ne 4 ]; then
    fail "ain enqueue $name: exit $rc, expected 4 ($(head -c 300 "$TMP/enq.err"))"
  elif [ "$field" != "_" ] && ! grep -qF "$field" "$TMP/enq.err"; then
    fail "ain enqueue $name: the error does not name '$field': $(head -c 300 "$TMP/enq.err")"
  else
    pass
  fi
done

# Good fixtures share one task_id; give each a fresh UUIDv7-shaped id so that all can be stored.
ids=()
i=0
for f in "$FIX/task/good"/*.json; do
  i=$((i + 1))
  id=$(printf '01920f3e-7b5a-7c3d-9e4f-%012x' "$i")
  node -e '
    const fs = require("fs");
    const m = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    m.task_id = process.argv[2];
    m.type = "noop"; // a built-in that succeeds, so that a response exists
    delete m.dag_id; // no DAG row exists for these
    delete m.run_at; // run now
    fs.writeFileSync(process.argv[3], JSON.stringify(m));' "$f" "$id" "$TMP/good-$i.json"
  ids+=("$id")
done
# A policy that does not exist: the attempt fails; with one attempt the task is dead ("failed").
failid=01920f3e-7b5a-7c3d-9e4f-0000000000ff
printf '{"task_id":"%s","type":"no_such_policy","payload":{},"persona_id":"tina","state_version":0,"max_attempts":1}\n' \
  "$failid" >"$TMP/fail.json"
# One JSON Lines stream through stdin: exercises the batch parser too.
for f in "$TMP"/good-*.json "$TMP/fail.json"; do
  cat "$f"
  echo
done >"$TMP/all.jsonl"
if "$AIN_BIN" enqueue -c "$cfg" - <"$TMP/all.jsonl" >"$TMP/enq.out" 2>"$TMP/enq.err"; then
  pass
  for id in "${ids[@]}" "$failid"; do
    grep -qF "$id" "$TMP/enq.out" || fail "ain enqueue did not print $id"
  done
else
  fail "ain enqueue of the good fixtures: $(cat "$TMP/enq.err")"
fi

# Before running: task messages as stored.
for id in "${ids[@]}" "$failid"; do
  if "$AIN_BIN" task show -c "$cfg" "$id" --json >"$TMP/task-$id.json" 2>"$TMP/show.err"; then
    pass
  else
    fail "ain task show $id --json: $(cat "$TMP/show.err")"
  fi
done
ajv "$SCHEMAS/task.json" "$TMP"/task-*.json || { cat "$TMP/ajv.out" >&2; fail "an engine-emitted task message is invalid"; }
# The engine's message carries what was enqueued (payload byte for byte, minus whitespace).
node -e '
  const fs = require("fs");
  const a = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  const b = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  for (const k of ["task_id", "type", "persona_id", "payload", "priority", "traceparent"])
    if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) { console.error(k, a[k], b[k]); process.exit(1); }' \
  "$TMP/good-1.json" "$TMP/task-${ids[0]}.json" || fail "task show --json differs from what was enqueued"

# No attempt has ended yet: --response refuses.
if "$AIN_BIN" task show -c "$cfg" "${ids[0]}" --response >/dev/null 2>&1; then
  fail "ain task show --response printed a response for a task that has not run"
else
  pass
fi

# Run everything, then the responses.
timeout 120 "$AIN_BIN" run -c "$cfg" --until-idle >"$TMP/run.out" 2>&1 || true
for id in "${ids[@]}" "$failid"; do
  if "$AIN_BIN" task show -c "$cfg" "$id" --response >"$TMP/resp-$id.json" 2>"$TMP/show.err"; then
    pass
  else
    fail "ain task show $id --response: $(cat "$TMP/show.err") (run log: $(tail -c 400 "$TMP/run.out"))"
    rm -f "$TMP/resp-$id.json"
  fi
done
if ls "$TMP"/resp-*.json >/dev/null 2>&1; then
  ajv "$SCHEMAS/response.json" "$TMP"/resp-*.json || { cat "$TMP/ajv.out" >&2; fail "an engine-emitted response is invalid"; }
  grep -q '"status":"succeeded"' "$TMP/resp-${ids[0]}.json" || fail "noop task: $(cat "$TMP/resp-${ids[0]}.json")"
  grep -q '"status":"failed"' "$TMP/resp-$failid.json" || fail "failing task: $(cat "$TMP/resp-$failid.json")"
fi

echo "contract_schemas: $checks checks, $fails failures"
[ "$fails" -eq 0 ]
