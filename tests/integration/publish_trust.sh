#!/usr/bin/env bash
# Black-box test of signed publish tokens and publish quotas (docs/publish-tokens-quotas.md) on
# SQLite, and on PostgreSQL as it.publish_trust_pg: the real review_gate (mints a token per
# channel on a pass) and publish built-ins, the real publisher policy, the outbox channel.
#   - quota: 2 units per 3 s window for 4 videos: 2 publish at once, the others PARK (ready again
#     when the window refills, attempt given back) and all 4 land, one receipt each, no more than
#     the bucket allowed at any time; `ain publishers status` shows the quota;
#   - a forged token (signature changed in the grant row) and an expired one whose grant is past
#     publish.token.grant_ttl_s fail the step for good with ETOKEN and an audit row naming the
#     verdict; an expired token whose grant is still good is renewed and publishes;
#   - a replay: the receipt gone, the spent jti refuses a second publish before any call out.
. "$(dirname "$0")/lib.bash"
S=$T/scripts
mkdir -p "$S/agents"
cp "$AIN_SOURCE_DIR/tests/fixtures/review/agents/fixture.lua" "$S/agents/"
cp "$AIN_SOURCE_DIR/tests/fixtures/publish_trust/agents/pipeline.lua" "$S/agents/"
cp "$AIN_SOURCE_DIR/scripts/agents/publisher.lua" "$AIN_SOURCE_DIR/scripts/agents/persona.lua" "$S/agents/"
cp -r "$AIN_SOURCE_DIR/scripts/personas" "$S/"
export AIN_SECRET_PUBLISH_KEY="publish-token-key-for-tests-0123456789abcdef"
C=$T/ain.lua
config() { # UNITS WINDOW_S
  write_config "$C" "$S" 'queue = { retry_base_ms = 50, retry_max_ms = 200, poll_ms = 50 }' \
    "channels = { outbox = { kind = \"outbox\", dir = \"$T/outbox\", quota = { units_per_day = $1, window_s = $2 } } }" \
    'publish = { token = { alg = "HS256", secret = "publish_key", ttl_s = 300 } }' \
    'trends = { source = "" }'
}
config 2 3
"$AIN_BIN" migrate -c "$C" > /dev/null

put_object() { # FILE EXT -> key
  local h; h=$(sha256sum "$1" | cut -c1-64)
  local key="sha256/${h:0:2}/${h:2}.$2"
  mkdir -p "$T/var/objects/sha256/${h:0:2}"
  cp "$1" "$T/var/objects/$key"
  echo "$key"
}
head -c 20000 /dev/urandom > "$T/v.mp4"
head -c 2000 /dev/urandom > "$T/t.jpg"
VK=$(put_object "$T/v.mp4" mp4)
TK=$(put_object "$T/t.jpg" jpg)
enqueue_video() { # VIDEO_ID
  task_msg generate_video "{\"video_id\":\"$1\",\"decision\":\"pass\",\"confidence\":0.95,\"video_key\":\"$VK\",\"thumbnail_key\":\"$TK\"}" techie_tina > "$T/msg.json"
  "$AIN_BIN" enqueue -c "$C" "$T/msg.json" > /dev/null
}
run_idle() { timeout 50 "$AIN_BIN" run -c "$C" --until-idle --no-progress > "$T/run.out" 2> "$T/run.err" || fail "run: $(tail -5 "$T/run.err")"; }
# The publish task of video $1 (an SQL expression), and one row of facts about it.
ptask() { echo "(SELECT id FROM tasks WHERE step = 'publish' AND dag_id = (SELECT dag_id FROM videos WHERE id = '$1'))"; }
facts() { # VIDEO VERDICT -> "status|receipts|audited dead rows naming the verdict"
  sql "SELECT status, (SELECT count(*) FROM publish_receipts WHERE video_id = '$1'),
         (SELECT count(*) FROM audit_log WHERE task_id = $(ptask "$1") AND to_status = 'dead'
            AND detail LIKE '%publish_token%$2%') FROM tasks WHERE id = $(ptask "$1")"
}
error_of() { sql "SELECT last_error FROM tasks WHERE id = $(ptask "$1")"; }

# A token signed with the engine's key (the test knows it) for VIDEO under JTI, issued AGO
# seconds ago with a 60 s life: genuine, but expired.
expired_token() { # VIDEO JTI AGO
  node -e '
    const c = require("crypto"), now = Math.floor(Date.now() / 1000), ago = +process.argv[3];
    const b = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const h = b({ alg: "HS256", typ: "JWT" });
    const p = b({ iss: "ain", sub: process.argv[1], aud: "outbox", jti: process.argv[2],
                  iat: now - ago, exp: now - ago + 60 });
    const s = c.createHmac("sha256", process.env.AIN_SECRET_PUBLISH_KEY).update(h + "." + p)
      .digest("base64url");
    console.log(h + "." + p + "." + s);' "$1" "$2" "$3"
}

# --- quota: 4 videos, 2 units per 3 s -------------------------------------------------------------
for i in 1 2 3 4; do enqueue_video "vq$i"; done
start=$(date +%s%3N)
run_idle
took=$(( $(date +%s%3N) - start ))
got=$(sql "SELECT (SELECT count(DISTINCT video_id) FROM publish_receipts WHERE video_id LIKE 'vq%'),
  (SELECT count(*) FROM publish_receipts WHERE video_id LIKE 'vq%'),
  (SELECT count(*) FROM publish_grants WHERE video_id LIKE 'vq%'),
  (SELECT count(*) FROM publish_grants WHERE video_id LIKE 'vq%' AND used_at IS NOT NULL),
  (SELECT taken FROM quota_buckets WHERE account = 'outbox'),
  (SELECT max(attempts) FROM tasks WHERE step = 'publish'),
  (SELECT count(*) FROM audit_log WHERE detail LIKE '%parked%quota%') >= 2")
# videos published | receipts | grants | spent jtis | units taken | most attempts | parked >= 2
assert_eq "$got" "4|4|4|4|4|1|$( [ -n "$PG_URL" ] && echo t || echo 1)" "4 published once each, every jti spent, 4 units taken, parks gave their attempts back"
# 2 at once, then one unit every 1.5 s: the 4th cannot land before 3 s.
[ "$took" -ge 2900 ] || fail "4 publishes on 2 units per 3 s took only $took ms"
# The receipts never ran ahead of the bucket: at most 2 + elapsed/1.5 s by any receipt's time
# (receipts land some time after their take: up to 1 s of lag is allowed for).
sql "SELECT created_at - (SELECT min(created_at) - 1000 FROM publish_receipts WHERE video_id LIKE 'vq%')
     FROM publish_receipts WHERE video_id LIKE 'vq%' ORDER BY created_at" > "$T/times"
n=0
while read -r dt; do
  n=$((n + 1))
  [ "$n" -le $(( 2 + dt * 2 / 3000 )) ] || fail "receipt $n at +$((dt - 1000)) ms: more than the bucket held"
done < "$T/times"
st=$("$AIN_BIN" publishers status -c "$C" --json)
jq -e '.quotas[0].channel == "outbox" and .quotas[0].units_per_day == 2 and .quotas[0].taken_units == 4 and .quotas[0].remaining_units >= 0' <<< "$st" > /dev/null || fail "status --json: $st"
"$AIN_BIN" publishers status -c "$C" | grep_all "channel outbox: .* of 2 units left" || fail "status text"
ok "quota: 4 publishes on 2 units per 3 s parked and all landed in $took ms, never ahead of the bucket"

# --- forged and expired tokens; renewal from a live grant ---------------------------------------
config 1000 60 # quota out of the way
"$AIN_BIN" publishers pause -c "$C" > /dev/null
for v in vf-forged vf-old vf-renew; do enqueue_video "$v"; done
run_idle # gates mint the grants; the publish steps park (paused)
sql "SELECT video_id, jti, token FROM publish_grants WHERE video_id LIKE 'vf-%' ORDER BY video_id" > "$T/grants"
assert_eq "$(wc -l < "$T/grants")" 3 "grants minted by the gates"
while IFS='|' read -r v jti tok; do
  case $v in
    vf-forged) # the signature's letters shifted: our header and claims, not our signature
      sig=${tok##*.}; forged="${tok%.*}.$(printf '%s' "$sig" | tr 'A-Za-z' 'B-ZAb-za')"
      upd="UPDATE publish_grants SET token = '$forged' WHERE jti = '$jti';" ;;
    vf-old) # genuine but expired, and its grant past publish.token.grant_ttl_s (a day)
      upd="$upd UPDATE publish_grants SET token = '$(expired_token "$v" "$jti" 400)', created_at = 1000 WHERE jti = '$jti';" ;;
    vf-renew) # genuine but expired, its grant recent: the engine renews it
      upd="$upd UPDATE publish_grants SET token = '$(expired_token "$v" "$jti" 400)' WHERE jti = '$jti';" ;;
  esac
done < "$T/grants"
sql "$upd" > /dev/null
"$AIN_BIN" publishers resume -c "$C" > /dev/null
run_idle
assert_eq "$(facts vf-forged forged)" "dead|0|1" "forged: dead at once, no receipt, audited"
assert_contains "$(error_of vf-forged)" "publish token forged: the signature does not verify" "forged: clear error"
assert_eq "$(facts vf-old expired)" "dead|0|1" "expired past its grant: dead, no receipt, audited"
err=$(error_of vf-old)
assert_contains "$err" "ETOKEN: video vf-old on channel outbox: publish token expired" "expired: clear error"
assert_contains "$err" "approve the video again" "expired: what to do"
assert_eq "$(facts vf-renew none)" "succeeded|1|0" "expired token of a live grant renewed and published"
! grep -rqF "$forged" "$T/outbox" "$T/run.err" || fail "the forged token's bytes leaked into the outbox or the log"
ok "forged and expired-past-grant tokens fail the step with ETOKEN and an audit row; a live grant renews"

# --- replay: the receipt gone, the spent jti refuses another publish ----------------------------
sql "DELETE FROM publish_receipts WHERE video_id = 'vq1';
     UPDATE tasks SET status = 'ready', state_version = state_version + 1 WHERE id = $(ptask vq1);" > /dev/null
run_idle
assert_eq "$(facts vq1 replayed)" "dead|0|1" "replayed publish: dead, nothing published again, audited"
assert_contains "$(error_of vq1)" "publish token replayed" "replay: clear error"
ok "a spent jti refuses a replayed publish before any call out"
