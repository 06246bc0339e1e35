#!/usr/bin/env bash
# Trend sources (docs/sources.md) against the feeds test server: several sources at once (JSON
# mapped by paths, RSS 2.0, Atom 1.0, an ISO-8859-1 RSS), one unreachable and two hostile (the
# billion-laughs bomb, an external entity) failing without stopping the others; conditional GET
# proven by the server's 304 count, also across a restart (the validators live in the sources
# table); bad answers (5xx, truncated, huge, not UTF-8, not JSON, wrong types, slow past the
# timeout) refused with an error naming source and problem while nothing planned is lost; new
# items planned once; `ain sources` shows it all.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/sources_common.bash"
command -v node > /dev/null || { echo "skip: node not installed"; exit 77; }

test_scripts "$T/scripts"
start_feeds
feeds_post /items '{"path":"/rss.xml","items":[{"title":"New AI chip doubles laptop speed","summary":"ai chips","tags":["ai","chips"],"id":"r1"},{"title":"Pasta recipe with five ingredients","tags":["food","recipe"],"id":"r2"}]}'
feeds_post /items '{"path":"/atom.xml","items":[{"title":"Marathon training plan for beginners","summary":"fitness workout running","tags":["fitness","workout"]}]}'
feeds_post /items '{"path":"/feed.json","items":[{"title":"Kyoto travel guide for the festival","summary":"travel japan","tags":["travel","japan"],"id":"j1","score":90,"ts":"2026-12-01T10:00:00Z"}]}'
feeds_post /items '{"path":"/latin1.xml","items":[{"title":"Café bread baking for beginners","tags":["food","baking"]}]}'

C="$T/ain.lua"
write_config "$C" "$T/scripts" 'trends = { source = "", interval_ms = 600000 }' "sources = {
  { name = \"rss\", kind = \"rss\", url = \"$FEEDS/rss.xml\", interval_ms = 300, min_interval_ms = 100 },
  { name = \"atom\", kind = \"atom\", url = \"$FEEDS/atom.xml\", interval_ms = 300 },
  { name = \"json\", kind = \"http\", url = \"$FEEDS/feed.json\", interval_ms = 300, min_interval_ms = 100,
    timeout_ms = 1000, max_bytes = 65536, backoff_base_ms = 100, backoff_max_ms = 400,
    map = { items = \"\$.data.items[*]\", title = \"headline\", summary = \"body.text\", url = \"link\",
            id = \"id\", ts = \"published_at\", tags = \"labels[*].name\", score = \"stats.score\" } },
  { name = \"latin1\", kind = \"rss\", url = \"$FEEDS/latin1.xml\", interval_ms = 60000 },
  { name = \"down\", kind = \"rss\", url = \"http://127.0.0.1:1/feed.xml\", backoff_base_ms = 100, backoff_max_ms = 200 },
  { name = \"bomb\", kind = \"rss\", url = \"$FEEDS/bomb.xml\", backoff_base_ms = 100, backoff_max_ms = 200 },
  { name = \"xxe\", kind = \"rss\", url = \"$FEEDS/xxe.xml\", interval_ms = 60000 },
}"
"$AIN_BIN" migrate -c "$C" > /dev/null || fail "migrate"
start_engine "$C"

# --- several sources at once, the failing ones stop nothing
wait_for 30 "5 videos planned from rss, atom, json, latin1" 'test "$(videos)" -ge 5'
assert_eq "$(videos)" 5 "planned videos"
titles=$(sql "SELECT json_extract(payload, '\$.title') || '|' || json_extract(payload, '\$.source') FROM tasks WHERE type = 'generate_video' ORDER BY 1")
assert_contains "$titles" "Café bread baking for beginners|latin1" "ISO-8859-1 title decoded"
assert_contains "$titles" "Kyoto travel guide for the festival|json" "JSON feed mapped by paths"
assert_contains "$titles" "Marathon training plan for beginners|atom" "Atom entry"
ok "4 sources planned 5 videos while 3 others failed"
wait_for 10 "down has failed" 'test "$(source_field "$C" down errors)" -ge 1'
assert_contains "$(source_field "$C" down last_error)" "Couldn't connect" "down's error"
wait_for 10 "bomb has failed" 'test "$(source_field "$C" bomb errors)" -ge 1'
assert_contains "$(source_field "$C" bomb last_error)" "entity declaration 'lol' refused" "the bomb's error"
assert_contains "$(source_field "$C" xxe last_error)" "external entity 'xxe' refused" "xxe's error"
# exponential backoff: the bomb's attempts are spaced out, not once per interval
wait_for 10 "down backs off repeatedly" 'test "$(source_field "$C" down errors)" -ge 3'
assert_contains "$("$AIN_BIN" sources -c "$C")" "bomb             rss    " "ain sources lists bomb"
ok "unreachable, bomb and external-entity sources fail with their reason"

# --- conditional GET: the feed's body went out once, then 304s
wait_for 20 "three 304s of /rss.xml" 'test "$(feeds_stat /rss.xml not_modified)" -ge 3'
assert_eq "$(feeds_stat /rss.xml ok)" 1 "200s of /rss.xml"
assert_eq "$(feeds_stat /rss.xml rejected)" 0 "requests the server refused"
test "$(source_field "$C" rss not_modified)" -ge 1 || fail "ain sources counts the 304s"
ok "conditional GET: $(feeds_stat /rss.xml not_modified) x 304 after one 200"

# --- bad answers of the json source: refused with the reason, nothing lost, rss keeps polling
before=$(videos)
check_fault() { # FAULT EXPECTED-ERROR
  local n; n=$(source_field "$C" json errors)
  feeds_post /control "{\"path\":\"/feed.json\",\"fault\":\"$1\"}"
  wait_for 20 "json fails on $1" 'test "$(source_field "$C" json errors)" -gt "$n"'
  assert_contains "$(source_field "$C" json last_error)" "$2" "json's error after $1"
}
r304=$(feeds_stat /rss.xml not_modified)
check_fault 500 "HTTP 500"
check_fault truncated "truncated response"
check_fault huge:1000000 "larger than max_bytes (65536 bytes)"
check_fault badutf8 "bad http document: not UTF-8"
check_fault notjson "bad http document: not JSON"
check_fault slow:3000 "Timeout was reached"
refused=$(source_field "$C" json refused)
feeds_post /control '{"path":"/feed.json","fault":"wrongtypes"}'
wait_for 20 "an item with a numeric title refused" 'test "$(source_field "$C" json refused)" -gt "$refused"'
grep -q 'source json: 1 item(s) refused, first: item 1: title: expected a string, got number' "$T/run.err" || fail "the refused item is logged with its reason"
test "$(feeds_stat /rss.xml not_modified)" -gt "$r304" || fail "rss kept polling while json failed"
wait_for 20 "json healthy again" 'test "$(source_field "$C" json health)" = ok'
assert_eq "$(videos)" "$before" "videos after the bad answers (nothing lost, nothing twice)"
ok "bad answers refused with their reason, nothing planned lost, other sources unaffected"

# --- new items: a 200 again, planned once
feeds_post /items '{"path":"/rss.xml","items":[{"title":"New AI chip doubles laptop speed","tags":["ai","chips"],"id":"r1"},{"title":"Robot startup ships home AI assistant","summary":"robots ai, write to jane.doe@example.com","tags":["ai","robots"],"id":"r3"}]}'
wait_for 20 "the new rss item planned" 'test "$(videos)" -ge $((before + 1))'
sleep 1
assert_eq "$(videos)" $((before + 1)) "videos after the feed changed"
assert_eq "$(sql "SELECT count(*) FROM tasks WHERE type = 'generate_video' AND json_extract(payload, '\$.title') = 'New AI chip doubles laptop speed'")" 1 "the old item planned once"
assert_eq "$(sql "SELECT count(*) FROM tasks WHERE payload LIKE '%jane.doe%'")" 0 "an address from a feed stored"
assert_contains "$(sql "SELECT payload FROM tasks WHERE payload LIKE '%Robot startup%'")" "<pii:email" "the address replaced at ingest"
ok "a changed feed plans its new item once, its personal data scrubbed"

# --- restart: the stored validators give a 304 at once
stop_engine
ok200=$(feeds_stat /rss.xml ok)
n304=$(feeds_stat /rss.xml not_modified)
start_engine "$C"
wait_for 20 "a 304 after the restart" 'test "$(feeds_stat /rss.xml not_modified)" -gt "$n304"'
assert_eq "$(feeds_stat /rss.xml ok)" "$ok200" "200s of /rss.xml after the restart"
stop_engine
assert_eq "$(videos)" $((before + 1)) "videos after the restart"
grep -q '"level":"fatal"' "$T/run.err" && fail "fatal in the log"
out=$("$AIN_BIN" sources -c "$C")
assert_contains "$out" "NAME             KIND   HEALTH" "ain sources header"
ok "restart: validators kept, a 304 first, nothing planned twice"
