#!/usr/bin/env bash
# docs/openapi.yaml is true (api_openapi.js does the checking):
#   (a) it is valid OpenAPI 3.1 (@seriousme/openapi-schema-validator) and every schema in it
#       compiles in ajv (2020-12, strict);
#   (b) its (method, path, role) set equals the route table of engine/api/routes.c, and its error
#       codes and statuses equal the C tables, so a route added without documentation fails here;
#   (c) a real engine (the review pipeline: two videos in review, one approved and published)
#       answers every GET of the document, several POSTs and many refusals, and each recorded
#       response (status, content type, headers, JSON body, Server-Sent Events) validates against
#       the document; a request body the server refused is refused by the document too;
#   (d) mutated copies of those responses, of the route table and of the document are each
#       refused, so the checks above can fail.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/api_common.bash"
JS=$AIN_SOURCE_DIR/tests/integration/api_openapi.js
[ -f "$AIN_SOURCE_DIR/tools/node/node_modules/@seriousme/openapi-schema-validator/package.json" ] ||
  fail "the OpenAPI validator is not installed (tools/setup.sh --test, or: cd tools/node && npm install)"

node "$JS" doc "$AIN_SOURCE_DIR" || fail "docs/openapi.yaml (validity, route table, error codes)"

# --- an engine with videos in review ------------------------------------------------------------
review_engine_config # S, C: the fixture judge, the outbox channel, the API (api_common.bash)
head -c 20000 /dev/urandom > "$T/v.mp4"; head -c 500 /dev/urandom > "$T/t.jpg"
VK=$(put_object "$T/v.mp4" mp4); TK=$(put_object "$T/t.jpg" jpg)
video_msg() { # VIDEO_ID DECISION
  task_msg generate_video "{\"video_id\":\"$1\",\"decision\":\"$2\",\"confidence\":0.6,\"video_key\":\"$VK\",\"thumbnail_key\":\"$TK\"}" techie_tina
}
{ video_msg vid-a review; video_msg vid-b review; } > "$T/msg.jsonl"
"$AIN_BIN" enqueue -c "$C" "$T/msg.jsonl" > /dev/null
timeout 60 "$AIN_BIN" run -c "$C" --until-idle --no-progress > /dev/null 2> "$T/run.err" || fail "run: $(tail -5 "$T/run.err")"
assert_eq "$(sql "select count(*) from videos where status='in_review'")" 2 "two videos in review"
api_start "$C"

# --- recording ----------------------------------------------------------------------------------
D=$T/rec
mkdir -p "$D"
# rec NAME TOKEN|- METHOD PATH [curl args...]: records one exchange as D/NAME.{meta.json,hdr,body}
# (and D/NAME.req with REQ=file, sent as REQ_TYPE, default application/json; BAD_BODY=true marks
# a body the server must refuse); prints the status.
rec() {
  local name=$1 tok=$2 method=$3 p=$4; shift 4
  local a=(-s -D "$D/$name.hdr" -o "$D/$name.body")
  [ "$tok" = - ] || a+=(-H "Authorization: Bearer $tok")
  if [ "$method" = HEAD ]; then a+=(-I); else a+=(-X "$method"); fi
  if [ -n "${REQ:-}" ]; then
    cp "$REQ" "$D/$name.req"
    a+=(--data-binary @"$REQ" -H "Content-Type: ${REQ_TYPE:-application/json}")
  fi
  local rc=0
  curl "${a[@]}" "$@" "$U$p" || rc=$?
  [ "$rc" = 0 ] || [ "$rc" = 28 ] || fail "$name: curl exit $rc" # 28: --max-time ended a stream
  [ "$method" != HEAD ] && [ -f "$D/$name.body" ] || : > "$D/$name.body" # curl writes no file for no body
  jq -n --arg m "$method" --arg p "$p" --arg t "${REQ_TYPE:-}" --argjson bad "${BAD_BODY:-false}" \
    '{method: $m, path: $p, req_type: (if $t == "" then null else $t end), bad_request_body: $bad}' \
    > "$D/$name.meta.json"
  grep -o '^HTTP/[0-9.]* [0-9]*' "$D/$name.hdr" | tail -1 | awk '{print $2}'
}
body() { cat "$D/$1.body"; }
req() { printf '%s' "$1" > "$T/req.json"; echo "$T/req.json"; }

# health, identity
assert_eq "$(rec healthz - GET /healthz)" 200 healthz
assert_eq "$(rec readyz - GET /readyz)" 200 readyz
assert_eq "$(rec whoami "$V" GET /v1/whoami)" 200 whoami

# tasks
assert_eq "$(rec tasks "$V" GET '/v1/tasks?limit=2')" 200 "task list"
next=$(body tasks | jq -r .next)
[ "$next" != null ] || fail "no second page: $(body tasks)"
assert_eq "$(rec tasks_after "$V" GET "/v1/tasks?limit=2&after=$next&status=succeeded")" 200 "task list page 2"
tid=$(sql "select id from tasks where status='succeeded' order by created_at limit 1")
assert_eq "$(rec task "$V" GET "/v1/tasks/$tid")" 200 "task show"
assert_eq "$(rec task_audit "$V" GET "/v1/tasks/$tid/audit")" 200 "task audit"
new=$(video_msg vid-c pass)
assert_eq "$(REQ=$(req "$new") rec enqueue "$O" POST /v1/tasks)" 201 "enqueue"
assert_eq "$(REQ=$(req "[$new]") rec enqueue_again "$O" POST /v1/tasks)" 200 "enqueue the same again"
assert_eq "$(REQ=$(req "$(jq -c '.payload.decision="review"' <<< "$new")") rec enqueue_conflict "$O" POST /v1/tasks)" 409 "enqueue other content"
assert_eq "$(REQ=$(req "$(jq -c '.colour=1' <<< "$new")") BAD_BODY=true rec enqueue_unknown "$O" POST /v1/tasks)" 400 "an unknown member"
printf '%s\n%s\n' "$(video_msg vid-d pass)" "$(video_msg vid-e pass)" > "$T/lines"
assert_eq "$(REQ=$T/lines REQ_TYPE=application/x-ndjson rec enqueue_lines "$O" POST /v1/tasks)" 201 "enqueue JSON Lines"
assert_eq "$(REQ=$(req "$new") REQ_TYPE=text/plain rec enqueue_texttype "$O" POST /v1/tasks)" 415 "a text/plain body"
assert_eq "$(rec task_missing "$V" GET /v1/tasks/01a24efe-7c72-7a70-a330-62789f55bb14)" 404 "an unknown task"
assert_eq "$(rec task_badid "$V" GET /v1/tasks/nope)" 400 "a bad task id"
assert_eq "$(rec tasks_badlimit "$V" GET '/v1/tasks?limit=0')" 400 "limit 0"
assert_eq "$(rec tasks_unknown "$V" GET '/v1/tasks?colour=red')" 400 "an unknown parameter"
assert_eq "$(rec tasks_noauth - GET /v1/tasks)" 401 "no token"
assert_eq "$(REQ=$(req "$new") rec enqueue_viewer "$V" POST /v1/tasks)" 403 "a viewer enqueueing"
assert_eq "$(rec tasks_delete "$O" DELETE /v1/tasks)" 405 "DELETE /v1/tasks"
assert_eq "$(rec noroute "$V" GET /v1/nothing)" 404 "no route"
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' ' ' > "$T/big"
assert_eq "$(REQ=$T/big rec enqueue_big "$O" POST /v1/tasks)" 413 "a 2 MiB body"
assert_eq "$(rec headers_big "$V" GET /v1/whoami -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)")" 431 "20 kB of headers"
assert_eq "$(REQ=$(req '{"reason":7}') BAD_BODY=true rec cancel_bad "$O" POST "/v1/tasks/$tid/cancel")" 400 "a number as reason"
assert_eq "$(REQ=$(req '{"x":1}') BAD_BODY=true rec retry_unknown "$O" POST "/v1/tasks/$tid/retry")" 400 "retry with a member"
assert_eq "$(rec retry_notdead "$O" POST "/v1/tasks/$tid/retry")" 409 "retry of a task that is not dead"
assert_eq "$(REQ=$(req '{"reason":"not needed"}') rec cancel "$O" POST "/v1/tasks/$tid/cancel")" 200 "cancel"

# DAGs, audit
dag=$(sql "select id from dags order by created_at limit 1")
assert_eq "$(rec dags "$V" GET '/v1/dags?limit=1')" 200 "DAG list"
# vectors (docs/vectors.md): no planner here, so no trends yet (tests/integration/vectors.sh has
# the planner's); the shape and the refusals are what is recorded
assert_eq "$(rec similar "$V" GET '/v1/similar?q=Apple%20M5%20chip%20benchmarks&k=3')" 200 "similar"
grep -q '"results":\[\]' "$D/similar.body" || fail "similar: $(cat "$D/similar.body")"
assert_eq "$(rec similar_badk "$V" GET '/v1/similar?q=x&k=0')" 400 "similar with k 0"
assert_eq "$(rec similar_noq "$V" GET '/v1/similar?kind=trend')" 400 "similar without q"
assert_eq "$(rec similar_badkind "$V" GET '/v1/similar?q=x&kind=Bad%20Kind')" 400 "similar, bad kind"
dnext=$(body dags | jq -r .next)
assert_eq "$(rec dags_after "$V" GET "/v1/dags?limit=5&after=$dnext")" 200 "DAG list page 2"
assert_eq "$(rec dags_status "$V" GET '/v1/dags?status=running&persona=techie_tina')" 200 "DAG list filtered"
assert_eq "$(rec dags_badstatus "$V" GET '/v1/dags?status=sleeping')" 400 "a bad DAG status"
assert_eq "$(rec dag "$V" GET "/v1/dags/$dag")" 200 "DAG show"
assert_eq "$(rec dag_dot "$V" GET "/v1/dags/$dag?format=dot")" 200 "DAG dot"
assert_eq "$(rec dag_png "$V" GET "/v1/dags/$dag?format=png")" 400 "format=png"
assert_eq "$(rec dag_audit "$V" GET "/v1/tasks/$dag/audit")" 200 "DAG audit"

# reviews: a decision without If-Match, a stale one, then the real one
assert_eq "$(rec reviews "$V" GET /v1/reviews)" 200 "review list"
assert_eq "$(rec reviews_all "$V" GET '/v1/reviews?status=all&limit=5')" 200 "review list, all"
assert_eq "$(rec review "$V" GET /v1/reviews/vid-a)" 200 "review show"
ver=$(body review | jq -r .review.state_version)
assert_eq "$(rec review_missing "$V" GET /v1/reviews/vid-zzz)" 404 "an unknown video"
assert_eq "$(rec approve_noifmatch "$R" POST /v1/reviews/vid-a/approve)" 428 "no If-Match"
assert_eq "$(rec approve_stale "$R" POST /v1/reviews/vid-a/approve -H "If-Match: $((ver + 5))")" 409 "a stale If-Match"
assert_eq "$(REQ=$(req '{}') BAD_BODY=true rec reject_noreason "$R" POST /v1/reviews/vid-b/reject -H "If-Match: $ver")" 400 "reject without a reason"
assert_eq "$(REQ=$(req '{"by":"me"}') BAD_BODY=true rec approve_unknown "$R" POST /v1/reviews/vid-b/approve -H "If-Match: $ver")" 400 "approve with a member"
assert_eq "$(rec approve_viewer "$V" POST /v1/reviews/vid-a/approve -H "If-Match: $ver")" 403 "a viewer approving"
assert_eq "$(REQ=$(req '{"reason":"fine"}') rec approve "$R" POST /v1/reviews/vid-a/approve -H "If-Match: \"$ver\"")" 200 "approve"
for _ in $(seq 400); do
  [ "$(sql "select status from videos where id='vid-a'")" = published ] && break
  sleep 0.05
done
assert_eq "$(sql "select status from videos where id='vid-a'")" published "vid-a published"

# videos and their media (a ticket instead of a token; ranges; HEAD)
assert_eq "$(rec video "$V" GET /v1/videos/vid-a)" 200 "video show"
assert_eq "$(rec video_missing "$V" GET /v1/videos/vid-zzz)" 404 "an unknown video"
murl=$(body video | jq -r .media_url); turl=$(body video | jq -r .thumbnail_url)
assert_eq "$(rec media_ticket - GET "$murl")" 200 "media with its ticket"
assert_eq "$(rec media_range "$V" GET /v1/videos/vid-a/media -H 'Range: bytes=0-99')" 206 "a range"
assert_eq "$(rec media_suffix "$V" GET /v1/videos/vid-a/media -H 'Range: bytes=-10')" 206 "a suffix range"
assert_eq "$(rec media_416 "$V" GET /v1/videos/vid-a/media -H 'Range: bytes=999999-')" 416 "a range past the end"
assert_eq "$(rec media_head "$V" HEAD /v1/videos/vid-a/media)" 200 "HEAD media"
assert_eq "$(rec media_noauth - GET /v1/videos/vid-a/media)" 401 "media without a ticket or token"
assert_eq "$(rec thumb_ticket - GET "$turl")" 200 "thumbnail with its ticket"
assert_eq "$(rec thumb_head "$V" HEAD /v1/videos/vid-a/thumbnail)" 200 "HEAD thumbnail"

# takedowns: refusals, then vid-a's post goes down (the outbox) and a second takedown is "already"
assert_eq "$(REQ=$(req '{}') BAD_BODY=true rec unpublish_noreason "$O" POST /v1/videos/vid-a/unpublish)" 400 "an unpublish without a reason"
assert_eq "$(REQ=$(req '{"reason":"x","channel":"tiktok"}') rec unpublish_channel "$O" POST /v1/videos/vid-a/unpublish)" 404 "a channel vid-a is not on"
assert_eq "$(REQ=$(req '{"reason":"x"}') rec unpublish_missing "$O" POST /v1/videos/vid-zzz/unpublish)" 404 "unpublish an unknown video"
assert_eq "$(REQ=$(req '{"reason":"x"}') rec unpublish_never "$O" POST /v1/videos/vid-b/unpublish)" 409 "a video never published"
assert_eq "$(REQ=$(req '{"reason":"x"}') rec unpublish_viewer "$V" POST /v1/videos/vid-a/unpublish)" 403 "a viewer unpublishing"
assert_eq "$(REQ=$(req '{"reason":"rights claim"}') rec unpublish "$O" POST /v1/videos/vid-a/unpublish)" 200 "unpublish"
assert_eq "$(REQ=$(req '{"reason":"rights claim","channel":"outbox"}') rec unpublish_again "$O" POST /v1/videos/vid-a/unpublish)" 200 "unpublish twice"
assert_eq "$(rec takedowns "$V" GET '/v1/takedowns?all=true&limit=10')" 200 "takedowns"
assert_eq "$(rec takedowns_pending "$V" GET /v1/takedowns)" 200 "pending takedowns"
assert_eq "$(rec takedowns_bad "$V" GET '/v1/takedowns?all=2')" 400 "a bad all"

# publishers, nodes, stats, scripts and pins
assert_eq "$(rec publishers "$V" GET /v1/publishers)" 200 "publishers"
assert_eq "$(REQ=$(req '{"action":"pause"}') rec pause "$O" POST /v1/publishers)" 200 "pause"
assert_eq "$(REQ=$(req '{"action":"resume"}') rec resume "$O" POST /v1/publishers)" 200 "resume"
assert_eq "$(REQ=$(req '{"action":"stop"}') BAD_BODY=true rec publishers_bad "$O" POST /v1/publishers)" 400 "an unknown action"
assert_eq "$(REQ=$(req '{"action":"pause","now":1}') BAD_BODY=true rec publishers_unknown "$O" POST /v1/publishers)" 400 "a member too many"
assert_eq "$(rec audit "$V" GET '/v1/audit?limit=5')" 200 "operator audit"
assert_eq "$(rec nodes "$V" GET /v1/nodes)" 200 nodes
assert_eq "$(rec nodes_query "$V" GET '/v1/nodes?x=1')" 400 "nodes with a parameter"
assert_eq "$(rec stats "$V" GET /v1/stats)" 200 stats
assert_eq "$(rec scripts "$V" GET /v1/scripts)" 200 scripts
assert_eq "$(rec scripts_module "$V" GET '/v1/scripts?module=personas/techie_tina')" 200 "scripts of a module"
sha=$(body scripts_module | jq -r '[.versions[] | select(.valid)][0].sha')
assert_eq "$(REQ=$(req "{\"sha\":\"$sha\"}") rec pin "$O" POST /v1/scripts/personas/techie_tina/pin)" 200 pin
assert_eq "$(rec unpin "$O" POST /v1/scripts/personas/techie_tina/unpin)" 200 unpin
assert_eq "$(REQ=$(req '{"sha":7}') BAD_BODY=true rec pin_bad "$O" POST /v1/scripts/personas/techie_tina/pin)" 400 "a number as sha"
assert_eq "$(REQ=$(req '{"sha":"deadbeefdeadbeef"}') rec pin_unknown "$O" POST /v1/scripts/personas/techie_tina/pin)" 404 "an unknown sha"
assert_eq "$(REQ=$(req '{}') rec unpin_top "$O" POST /v1/scripts/pipeline/unpin)" 200 "unpin a top-level module"

# events (from the first audit row: every kind the log holds), console, metrics
assert_eq "$(rec events "$V" GET '/v1/events?after=0' --max-time 3)" 200 "events"
assert_eq "$(rec events_types "$V" GET '/v1/events?types=task,review' -H 'Last-Event-ID: 1' --max-time 2)" 200 "events of two types"
assert_eq "$(rec events_badtype "$V" GET '/v1/events?types=weather')" 400 "an unknown event type"
[ "$(grep -c '^event: ' "$D/events.body")" -ge 5 ] || fail "few events from after=0: $(head -c 600 "$D/events.body")"
assert_eq "$(rec console - GET /console)" 200 console
assets=$(grep -o '/console/[A-Za-z0-9_.-]*' "$D/console.body" | sort -u)
[ "$(wc -w <<< "$assets")" -ge 2 ] || fail "the console page names few files: $assets"
n=0
for a in $assets; do # each kind of file the page loads (script, style sheet, icon)
  n=$((n + 1))
  assert_eq "$(rec "console_file_$n" - GET "$a")" 200 "console file $a"
done
etag=$(grep -i '^etag:' "$D/console.hdr" | cut -d' ' -f2- | tr -d '\r')
assert_eq "$(rec console_304 - GET /console -H "If-None-Match: $etag")" 304 "console revalidated"
assert_eq "$(rec console_head - HEAD /console)" 200 "HEAD console"
assert_eq "$(rec console_missing - GET /console/nothing.js)" 404 "an unknown console file"
assert_eq "$(rec metrics "$V" GET /metrics)" 200 metrics
assert_eq "$(rec metrics_noauth - GET /metrics)" 401 "metrics without a caller (api.metrics_public is false)"
ok "recorded $(ls "$D"/*.meta.json | wc -l) exchanges with a running engine"

node "$JS" live "$AIN_SOURCE_DIR" "$D" || fail "live responses differ from docs/openapi.yaml"
node "$JS" selftest "$AIN_SOURCE_DIR" "$D" || fail "a deliberately wrong response passed"
kill -TERM "$pid"; wait "$pid" || true
