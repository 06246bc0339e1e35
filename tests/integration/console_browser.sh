#!/usr/bin/env bash
# The web console (web/console/, served at /console) in a real headless Chromium (Debian's
# `chromium`, driven by playwright-core from tools/node): first the static files over curl (ETag
# and 304, no-cache, CSP, unknown file 404, traversal refused, HEAD); then, against a real engine
# whose pipeline (tests/fixtures/review: the real review_gate, publish built-ins and publisher
# policy) left two videos in review and published a third, console_browser.mjs signs in with
# tokens from `ain token issue`, refuses a bad token, plays a video (readyState, duration > 0),
# approves it and watches it get published through the live events (no reload), loses a race
# with another reviewer (the 409's versions on screen), checks role-disabled buttons, pauses and
# resumes publishing, pins and unpins a policy, and screenshots every page at 1440 and 390 px.
# Any console error, page error or failed request fails it.
#
# Screenshots: $AIN_CONSOLE_ARTIFACTS, default <build dir>/Testing/console/ (docs/console.md).
# Without chromium (AIN_CHROMIUM names another binary) the browser part skips (exit 77, ctest's
# "Skipped", after the static files were checked) unless CI is set: under CI a missing browser is
# a failure.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/api_common.bash"

# AIN_CHROMIUM names another browser binary (a path that does not exist acts as "not installed").
CHROMIUM=$(command -v "${AIN_CHROMIUM:-chromium}" || { [ -z "${AIN_CHROMIUM:-}" ] && command -v chromium-browser; } || true)
if [ -z "$CHROMIUM" ] && [ -n "${CI:-}" ] && [ "${CI}" != false ] && [ "${CI}" != 0 ]; then
  fail "chromium is not installed and CI=$CI: the console's browser test must run here (tools/setup.sh --test installs chromium)"
fi
PW="$AIN_SOURCE_DIR/tools/node/node_modules/playwright-core"
[ -z "$CHROMIUM" ] || [ -f "$PW/package.json" ] || fail "playwright-core not found at $PW (run tools/setup.sh --test, or: cd tools/node && npm install)"
command -v ffmpeg > /dev/null || fail "ffmpeg is needed to make the test's video"
ART=${AIN_CONSOLE_ARTIFACTS:-${AIN_BUILD_DIR:-$T}/Testing/console}
rm -rf "$ART"; mkdir -p "$ART"

review_engine_config # S, C: the fixture judge, the outbox channel, the API (api_common.bash)

# A real (tiny) H.264 + AAC video and its thumbnail in the object store, as render leaves them.
ffmpeg -v error -f lavfi -i testsrc2=size=180x320:rate=15 -f lavfi -i sine=frequency=440 -t 3 \
  -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -movflags +faststart -y "$T/v.mp4"
ffmpeg -v error -f lavfi -i testsrc2=size=180x320 -frames:v 1 -y "$T/t.jpg"
VK=$(put_object "$T/v.mp4" mp4); TK=$(put_object "$T/t.jpg" jpg)
video_msg() { # VIDEO_ID DECISION CONFIDENCE PERSONA
  task_msg generate_video "{\"video_id\":\"$1\",\"decision\":\"$2\",\"confidence\":$3,\"video_key\":\"$VK\",\"thumbnail_key\":\"$TK\"}" "$4"
}
{ video_msg vid-passed pass 0.93 chef_marco; video_msg vid-approve review 0.64 techie_tina
  video_msg vid-race review 0.58 coach_ava; } > "$T/msg.jsonl"
"$AIN_BIN" enqueue -c "$C" "$T/msg.jsonl" > /dev/null
api_start "$C"
R2=$("$AIN_BIN" token issue -c "$C" --sub rob --role reviewer)
for _ in $(seq 300); do
  [ "$(sql "select count(*) from videos where status='in_review'")|$(sql "select count(*) from videos where status='published'")" = "2|1" ] && break
  sleep 0.1
done
assert_eq "$(sql "select count(*) from videos where status='in_review'")" 2 "videos in review before the browser starts"
ok "engine up: 2 videos in review, 1 published"

# ---- the static files over plain HTTP -------------------------------------------------------
hdr() { curl -s -o "$T/body" -D - "$@" | tr -d '\r' | tr 'A-Z' 'a-z'; } # headers, lower case
h=$(hdr "$U/console")
assert_contains "$h" "http/1.1 200" "GET /console"
assert_contains "$h" "content-type: text/html; charset=utf-8" "index content type"
assert_contains "$h" "cache-control: no-cache" "no-cache"
assert_contains "$h" "content-security-policy: default-src 'self'" "CSP"
assert_contains "$h" "x-content-type-options: nosniff" "nosniff"
cmp -s "$T/body" "$AIN_SOURCE_DIR/web/console/index.html" || fail "GET /console is not web/console/index.html"
etag=$(grep -i '^etag:' <<< "$h" | cut -d' ' -f2)
assert_eq "$etag" "\"$(sha256sum "$AIN_SOURCE_DIR/web/console/index.html" | cut -c1-64)\"" "ETag = sha256 of the file"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$U/console/")" 304 "If-None-Match -> 304"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: \"x\", W/$etag" "$U/console/index.html")" 304 "a weak tag in a list -> 304"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -H 'If-None-Match: "other"' "$U/console")" 200 "another ETag -> 200"
r=$(curl -s -o /dev/null -w '%{http_code} ' -H "If-None-Match: $etag" "$U/console" --next -s -o "$T/body" -w '%{http_code} %{num_connects}' "$U/console/icon.svg")
assert_eq "$r" "304 200 0" "a 304 then a GET on one keep-alive connection"
h=$(hdr "$U/console/app.js"); assert_contains "$h" "content-type: text/javascript; charset=utf-8" "JS content type"
cmp -s "$T/body" "$AIN_SOURCE_DIR/web/console/app.js" || fail "app.js differs from the source"
h=$(curl -s -I "$U/console/console.css" | tr -d '\r' | tr 'A-Z' 'a-z')
assert_contains "$h" "content-length: $(stat -c %s "$AIN_SOURCE_DIR/web/console/console.css")" "HEAD: the length"
# HEAD then GET on one keep-alive connection: a body after the HEAD would garble the second answer
r=$(curl -s -I -o /dev/null -w '%{http_code} ' "$U/console/console.css" --next -s -o "$T/body" -w '%{http_code} %{num_connects}' "$U/console/icon.svg")
assert_eq "$r" "200 200 0" "HEAD then GET on one connection"
cmp -s "$T/body" "$AIN_SOURCE_DIR/web/console/icon.svg" || fail "GET after HEAD: icon.svg differs"
r=$(curl -s -w ' %{http_code}' "$U/console/nope.js"); assert_contains "$r" '"code":"ENOROUTE"' "unknown file"; assert_contains "$r" " 404" "unknown file status"
for bad in '/console/..%2f..%2fetc%2fpasswd' '/console/%2e%2e%2fain.lua' '/console/.hidden' '/console/a%00b'; do
  code=$(curl -s -o "$T/body" -w '%{http_code}' --path-as-is "$U$bad")
  case "$code" in 400|404) ;; *) fail "$bad: expected 400 or 404, got $code: $(cat "$T/body")";; esac
  grep -q root: "$T/body" && fail "$bad served a file from disk"
done
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "$U/console/../v1/whoami")" 401 "dot segments resolve before routing (the API still needs a token)"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$U/console")" 405 "POST /console"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$U/v1/whoami")" 401 "the API still needs a token"
ok "static files: ETag/304, no-cache, CSP, HEAD, 404, traversal refused, no token needed"

# ---- the browser ------------------------------------------------------------------------------
if [ -z "$CHROMIUM" ]; then
  kill -TERM "$pid"; wait "$pid" || true
  trap - EXIT; rm -rf "$T"
  echo "SKIP: chromium is not installed (tools/setup.sh --test installs it): the static files were checked, the console's browser test did not run"
  exit 77
fi
DAG_APPROVE=$(sql "select dag_id from videos where id='vid-approve'")
export BASE_URL=$U CHROMIUM ART PW VIEWER=$V REVIEWER=$R REVIEWER2=$R2 OPERATOR=$O DAG_APPROVE
start=$(date +%s)
timeout 150 node "$AIN_SOURCE_DIR/tests/integration/console_browser.mjs" || fail "the browser run failed (screenshots so far: $ART; engine log: $T/e.err)"
echo "# browser run: $(( $(date +%s) - start )) s; screenshots in $ART"
assert_eq "$(sql "select status from videos where id='vid-approve'")" published "vid-approve after the browser approved it"
assert_eq "$(sql "select reviewer from reviews where video_id='vid-approve'")" rita "the reviewer recorded"
assert_eq "$(sql "select status from reviews where video_id='vid-race'")" rejected "vid-race: the other reviewer's decision stands"
assert_eq "$(sql "select reviewer from reviews where video_id='vid-race'")" rita "vid-race decided by the faster reviewer"
n=$(ls "$ART"/*.png | wc -l)
[ "$n" -ge 16 ] || fail "only $n screenshots in $ART"
ok "browser: sign-in, playback, approve -> published live, lost race, roles, publishers, pins ($n screenshots)"
kill -TERM "$pid"; wait "$pid" || true
