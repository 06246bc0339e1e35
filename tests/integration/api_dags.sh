#!/usr/bin/env bash
# GET /v1/dags (engine/ops/dags.h, the function `ain dag list` calls): DAGs newest first
# (created_at, then id, descending), filtered by status and persona; keyset pages that neither
# repeat nor skip a DAG while new ones are created between pages; the last page says next null
# (a page that comes out exactly full is followed by an empty one); the CLI prints the same JSON.
# Refusals: a bad status, limit or cursor, an unknown or empty parameter (400 naming it), a wrong
# method (405), no caller (401), a token whose role is not a role (401).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/api_common.bash"
S=$T/scripts
cp -r "$AIN_SOURCE_DIR/tests/fixtures/engine" "$S"
add_persona "$S" other
C=$T/ain.lua
write_config "$C" "$S" "$API_LINE" 'queue = { poll_ms = 20, retry_base_ms = 20, retry_max_ms = 50 }' \
  'shutdown = { grace_ms = 300 }'
{
  for _ in 1 2 3; do task_msg generate_video '{"shape":"diamond"}'; done
  for _ in 1 2; do task_msg generate_video '{"shape":"diamond"}' other; done
  task_msg generate_video '{"shape":"failing"}'
} > "$T/t.jsonl"
slow=$(task_msg generate_video '{"shape":"slow","sleep_ms":30000,"timeout_ms":60000}')
printf '%s\n' "$slow" >> "$T/t.jsonl"
slow_id=$(jq -r .task_id <<< "$slow")
"$AIN_BIN" migrate -c "$C" > /dev/null
"$AIN_BIN" enqueue -c "$C" "$T/t.jsonl" > /dev/null
api_start "$C"
# settled: seven DAGs, only the slow one still running
for _ in $(seq 600); do
  [ "$(sql "select count(*) from dags")" = 7 ] &&
    [ "$(sql "select count(*) from dags where status='running'")" = 1 ] &&
    [ "$(sql "select count(*) from dags where status='failed'")" = 1 ] && break
  sleep 0.05
done
assert_eq "$(sql "select count(*) from dags where status='running'")" 1 "the slow DAG runs"
slow_dag=$(sql "select id from dags where root_task_id='$slow_id'")
r=$(call "$O" "/v1/tasks/$slow_dag/cancel" -X POST); expect "$r" 200 - "cancel the slow DAG"
order() { sql "select id from dags $1 order by created_at desc, id desc" | tr '\n' ' ' | sed 's/ $//'; }
all=$(order "")

# --- one page, its rows ------------------------------------------------------------------------
r=$(call "$V" /v1/dags); expect "$r" 200 - "list"
b=${r#* }
assert_eq "$(jq -r '[.dags[].id] | join(" ")' <<< "$b")" "$all" "newest first, then by id"
assert_eq "$(jq -r .next <<< "$b")" null "one page: next is null"
assert_eq "$(jq -c '.dags[0] | keys' <<< "$b")" \
  '["created_at","id","last_error","persona_id","root_task_id","state_version","status","steps_done","steps_total","updated_at"]' "row fields"
row=$(jq -c --arg id "$slow_dag" '.dags[] | select(.id == $id)' <<< "$b")
assert_eq "$(jq -c '[.status, .persona_id, .root_task_id, .steps_total]' <<< "$row")" \
  "[\"cancelled\",\"tester\",\"$slow_id\",1]" "the cancelled DAG's row"
assert_eq "$(jq -r '.state_version >= 1 and .updated_at >= .created_at' <<< "$row")" true "its versions and times"
failed=$(jq -c '.dags[] | select(.status == "failed")' <<< "$b")
[ "$(jq -r .last_error <<< "$failed")" != null ] || fail "a failed DAG without last_error: $failed"
assert_eq "$(jq -r '[.dags[] | select(.status == "succeeded") | .last_error] | unique | .[]' <<< "$b")" null "no error on success"
ok "GET /v1/dags: every DAG newest first with the contract's fields"

# --- filters ------------------------------------------------------------------------------------
count() { local x; x=$(call "$V" "/v1/dags?$1"); expect "$x" 200 - "?$1"; jq '.dags | length' <<< "${x#* }"; }
assert_eq "$(count status=succeeded)" 5 "succeeded"
assert_eq "$(count status=failed)" 1 "failed"
assert_eq "$(count status=cancelled)" 1 "cancelled"
assert_eq "$(count status=running)" 0 "running"
assert_eq "$(count persona=other)" 2 "persona other"
assert_eq "$(count 'persona=other&status=succeeded')" 2 "persona and status"
assert_eq "$(count 'persona=other&status=failed')" 0 "persona and another status"
assert_eq "$(count persona=tester)" 5 "persona tester"
assert_eq "$(count persona=nobody)" 0 "an unknown persona is an empty page"
r=$(call "$V" "/v1/dags?status=succeeded&persona=other")
assert_eq "$(jq -r '[.dags[].id] | join(" ")' <<< "${r#* }")" \
  "$(order "where status='succeeded' and persona_id='other'")" "filtered rows in list order"
ok "filters: status, persona, both"

# --- pages while DAGs are created ----------------------------------------------------------------
r=$(call "$V" "/v1/dags?limit=3"); expect "$r" 200 - "page 1"
seen=$(jq -r '[.dags[].id] | join(" ")' <<< "${r#* }")
next=$(jq -r .next <<< "${r#* }")
[ "$next" != null ] || fail "a full page without next"
new=$(task_msg generate_video '{"shape":"diamond"}'); new2=$(task_msg generate_video '{"shape":"diamond"}')
r=$(call "$O" /v1/tasks -X POST -H 'Content-Type: application/json' -d "[$new,$new2]"); expect "$r" 201 - "two more DAGs"
for _ in $(seq 400); do [ "$(sql "select count(*) from dags")" = 9 ] && break; sleep 0.05; done
assert_eq "$(sql "select count(*) from dags")" 9 "two DAGs created between pages"
pages=1
while [ "$next" != null ]; do
  r=$(call "$V" "/v1/dags?limit=3&after=$next"); expect "$r" 200 - "page after $next"
  ids=$(jq -r '[.dags[].id] | join(" ")' <<< "${r#* }")
  [ -n "$ids" ] && seen="$seen $ids"
  next=$(jq -r .next <<< "${r#* }")
  pages=$((pages + 1))
  [ "$pages" -le 5 ] || fail "more pages than DAGs"
done
assert_eq "$seen" "$all" "pages of 3 walk the first seven once each, in order, new DAGs not mixed in"
assert_eq "$pages" 3 "3 + 3 + 1: the short third page ends it"
r=$(call "$V" "/v1/dags?limit=2")
assert_eq "$(jq -r '[.dags[].id] | join(" ")' <<< "${r#* }")" "$(order "" | cut -d' ' -f1-2)" "a fresh first page starts with the new DAGs"
newdags=$(sql "select id from dags where root_task_id in ('$(jq -r .task_id <<< "$new")','$(jq -r .task_id <<< "$new2")') order by id desc" | tr '\n' ' ' | sed 's/ $//')
assert_eq "$(jq -r '[.dags[].id] | sort | reverse | join(" ")' <<< "${r#* }")" "$newdags" "the new ones"
r=$(call "$V" "/v1/dags?limit=9"); assert_eq "$(jq -r .next <<< "${r#* }")" "$(jq -r '.dags[8] | "\(.created_at).\(.id)"' <<< "${r#* }")" "an exactly full page has a cursor"
r=$(call "$V" "/v1/dags?limit=9&after=$(jq -r .next <<< "${r#* }")")
assert_eq "$(jq -c '[.dags, .next]' <<< "${r#* }")" '[[],null]' "and the page after it is empty, next null"
ok "pages: stable while DAGs are created between them; next null at the end"

# --- the CLI on the same function ----------------------------------------------------------------
api=$(curl -s -H "Authorization: Bearer $V" "$U/v1/dags?status=succeeded&limit=4")
cli=$("$AIN_BIN" dag list -c "$C" --status succeeded --limit 4 --json)
assert_eq "$(jq -S -c . <<< "$cli")" "$(jq -S -c . <<< "$api")" "ain dag list --json is the API's body"
cnext=$(jq -r .next <<< "$cli")
"$AIN_BIN" dag list -c "$C" --status succeeded --limit 4 --after "$cnext" > "$T/cli.txt"
assert_contains "$(cat "$T/cli.txt")" "$(jq -r '.dags[0].id' <<< "$(curl -s -H "Authorization: Bearer $V" "$U/v1/dags?status=succeeded&limit=4&after=$cnext")")" "the CLI's next page"
set +e
"$AIN_BIN" dag list -c "$C" --status bogus > /dev/null 2> "$T/cli.err"; rc=$?
set -e
assert_eq "$rc" 4 "the CLI refuses a bad status (exit 4)"
assert_contains "$(cat "$T/cli.err")" "unknown DAG status 'bogus'" "the CLI names it"
set +e; "$AIN_BIN" dag list -c "$C" --limit 501 > /dev/null 2>&1; rc=$?; set -e
assert_eq "$rc" 2 "the CLI refuses --limit 501 (usage)"
ok "ain dag list: the same JSON, pages and refusals"

# --- refusals ------------------------------------------------------------------------------------
r=$(call "$V" "/v1/dags?status=bogus"); expect "$r" 400 status "a bad status"
assert_contains "$(jq -r .error.message <<< "${r#* }")" "running, succeeded, failed, cancelled" "the statuses named"
r=$(call "$V" "/v1/dags?status=pending"); expect "$r" 400 status "a task status is no DAG status"
for l in 0 501 -1 abc 5x ''; do
  r=$(call "$V" "/v1/dags?limit=$l"); expect "$r" 400 limit "limit '$l'"
done
for c in garbage 123 "123.not-a-uuid" "x.01a24efe-7c72-7a70-a330-62789f55bb14" "1234567890123456789.01a24efe-7c72-7a70-a330-62789f55bb14"; do
  r=$(call "$V" "/v1/dags?after=$c"); expect "$r" 400 after "cursor '$c'"
done
r=$(call "$V" "/v1/dags?persona=a%20b"); expect "$r" 400 persona "a persona with a space"
r=$(call "$V" "/v1/dags?persona=$(head -c 200 /dev/zero | tr '\0' p)"); expect "$r" 400 persona "a persona too long"
r=$(call "$V" "/v1/dags?colour=red"); expect "$r" 400 colour "an unknown parameter"
assert_contains "$(jq -r .error.message <<< "${r#* }")" "status, persona, limit, after" "the parameters named"
r=$(call "$V" "/v1/dags?status="); expect "$r" 400 status "an empty value"
r=$(call "$V" "/v1/dags?persona=%zz"); expect "$r" 400 persona "bad percent-encoding"
r=$(call "$O" /v1/dags -X POST -H 'Content-Type: application/json' -d '{}'); expect "$r" 405 method "POST /v1/dags"
allow=$(curl -s -o /dev/null -D - -X DELETE -H "Authorization: Bearer $A" "$U/v1/dags" | tr -d '\r' | grep -i '^allow:' || true)
assert_eq "$allow" "allow: GET" "Allow names GET"
r=$(curl -s -o /dev/null -w '%{http_code}' "$U/v1/dags"); assert_eq "$r" 401 "no token"
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
jwt() { # ROLE: an HS256 token signed with the configured key
  local h p s now; now=$(date +%s)
  h=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
  p=$(printf '{"sub":"eve","role":"%s","aud":"ain-api","exp":%d}' "$1" $((now + 600)) | b64url)
  s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -hmac "$AIN_SECRET_API_JWT" -binary | b64url)
  printf '%s.%s.%s' "$h" "$p" "$s"
}
r=$(call "$(jwt viewer)" "/v1/dags?limit=1"); expect "$r" 200 - "a token made here with role viewer"
r=$(call "$(jwt root)" "/v1/dags?limit=1"); expect "$r" 401 - "role root is no role"
for tok in "$R" "$O" "$A"; do r=$(call "$tok" "/v1/dags?limit=1"); expect "$r" 200 - "every role may read"; done
ok "refusals: status, limit, cursor, persona, unknown and empty parameters (400 naming them), 405, 401"
kill -TERM "$pid" 2>/dev/null || true
set +e; wait "$pid"; set -e
