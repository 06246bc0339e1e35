#!/usr/bin/env bash
# Contract test of the message schemas with an independent validator (ajv-cli 5, JSON Schema
# draft 2020-12, strict mode), so that docs/schemas/*.json and the engine's C validator
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
AJV_JS="$SRC/tools/node/node_modules/ajv-cli/dist/index.js"
AJV_FORMATS="$SRC/tools/node/node_modules/ajv-formats"
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
  echo "FAIL: ajv-cli not found at $AJV_JS (run tools/setup.sh, or: cd tools/node && npm install)" >&2
  exit 1
fi

# ajv <schema> <data files...>: exit 0 iff every file is valid. Output kept in $TMP/ajv.out.
# strictRequired is off because response.json's if/then "required" names properties declared a
# level up, which that strict rule does not look at.
ajv() {
  local schema=$1
  shift
  local args=()
  for f in "$@"; do args+=(-d "$f"); done
  node "$AJV_JS" validate --spec=draft2020 --strict=true --strict-required=false --all-errors \
    --errors=json -c "$AJV_FORMATS" -s "$schema" "${args[@]}" >"$TMP/ajv.out" 2>&1
  local rc=$?
  # ajv-cli treats -d as a glob and exits 0 when nothing matches: insist that it saw every file.
  for f in "$@"; do
    grep -qF "$f" "$TMP/ajv.out" || { echo "ajv did not report on $f" >>"$TMP/ajv.out"; rc=3; }
  done
  return $rc
}

# After a failed `ajv SCHEMA FILE`: 0 if ajv rejected FILE's data naming FIELD (fixture name
# syntax: "errors.0.code", "_" = anything), or rejected it as unparsable JSON; else 1.
rejected_naming() {
  local f=$1 field=$2
  if grep -q "^error: .*$(basename "$f"): .*JSON" "$TMP/ajv.out"; then
    return 0 # not JSON at all (JSON.parse refused it)
  fi
  grep -qF "$f invalid" "$TMP/ajv.out" || return 1
  node -e '
    const fs = require("fs");
    const out = fs.readFileSync(process.argv[1], "utf8");
    const errs = JSON.parse(out.slice(out.indexOf("\n") + 1));
    const field = process.argv[2];
    if (field === "_") process.exit(0);
    const want = "/" + field.replace(/\./g, "/"); // errors.0.code -> /errors/0/code
    const named = errs.map(e => e.instancePath +
      (e.params.missingProperty !== undefined ? "/" + e.params.missingProperty :
       e.params.additionalProperty !== undefined ? "/" + e.params.additionalProperty : ""));
    if (!named.includes(want)) { console.error(`wanted ${want}, ajv named ${named.join(" ")}`); process.exit(1); }
  ' "$TMP/ajv.out" "$field"
}

is_c_only() { grep -qxF "$1" <(sed -e 's/#.*//' -e 's/[[:space:]].*//' "$FIX/c-only.txt"); }

# ---- 1. schemas compile; their examples validate ---------------------------------------------
for kind in task response; do
  schema="$SCHEMAS/$kind.json"
  node "$AJV_JS" compile --spec=draft2020 --strict=true --strict-required=false -c "$AJV_FORMATS" -s "$schema" \
    >"$TMP/ajv.out" 2>&1 || { cat "$TMP/ajv.out" >&2; fail "$kind.json does not compile"; }
  pass
  # Top-level examples and every property's examples (each must validate on its own property).
  mkdir -p "$TMP/examples/$kind"
  node -e '
    const fs = require("fs");
    const s = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    const dir = process.argv[2];
    let n = 0;
    for (const ex of s.examples || []) fs.writeFileSync(`${dir}/${n++}.json`, JSON.stringify(ex));
    if (n === 0) { console.error("no top-level examples"); process.exit(1); }
    for (const [name, p] of Object.entries(s.properties)) {
      if (!p.description) { console.error(`property ${name} has no description`); process.exit(1); }
    }' "$schema" "$TMP/examples/$kind" || fail "$kind.json: examples/descriptions"
  ajv "$schema" "$TMP/examples/$kind"/*.json || { cat "$TMP/ajv.out" >&2; fail "$kind.json: an example does not validate"; }
  pass
done

# ---- 2. fixtures ------------------------------------------------------------------------------
for kind in task response; do
  schema="$SCHEMAS/$kind.json"
  good=("$FIX/$kind/good"/*.json)
  [ ${#good[@]} -ge 4 ] || fail "$kind: fewer than 4 good fixtures"
  if ajv "$schema" "${good[@]}"; then
    pass
  else
    cat "$TMP/ajv.out" >&2
    fail "$kind: a good fixture does not validate"
  fi
  nbad=0
  for f in "$FIX/$kind/bad"/*.json; do
    rel="$kind/bad/$(basename "$f")"
    if is_c_only "$rel"; then
      # Not for ajv; the test is that ajv really cannot see it (else the list is stale).
      if ! ajv "$schema" "$f"; then
        fail "$rel is listed in c-only.txt but ajv rejects it: move it out of the list"
      fi
      continue
    fi
    nbad=$((nbad + 1))
    name=$(basename "$f" .json)
    if ajv "$schema" "$f"; then
      fail "$rel: accepted by the schema, expected a rejection"
    elif rejected_naming "$f" "${name%%--*}"; then
      pass
    else
      head -c 600 "$TMP/ajv.out" >&2
      fail "$rel: ajv did not reject it for the field its name says"
    fi
  done
  [ "$nbad" -ge 15 ] || fail "$kind: only $nbad bad fixtures checked with ajv (want >= 15)"
done
echo "schemas + fixtures: $checks checks, $fails failures"

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
