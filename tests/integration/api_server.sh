#!/usr/bin/env bash
# The operator API server, black box: /healthz and /readyz (unauthenticated; /readyz 503 with a
# pending migration and while shutting down), 404 and 405 (Allow) in the one error shape, 413 on
# a 2 MiB body, 431 on oversized headers, keep-alive, h2c and HTTP/2 over TLS (ALPN), a
# slow-header client cut off by request_timeout_ms while another client is served, the
# connection limit, a taken port failing `ain run`, and SIGTERM draining the server.
. "$(dirname "$0")/lib.bash"
FIX=$AIN_SOURCE_DIR/tests/fixtures/engine
C=$T/ain.lua
export AIN_SECRET_API_JWT=0123456789abcdef0123456789abcdef-it-key
mkdir -p "$T/sql" && cp -r "$AIN_SOURCE_DIR/sql/sqlite" "$T/sql/"

# start_engine CONFIG LOG: runs `ain run` in the background; sets pid and port.
start_engine() {
  "$AIN_BIN" run -c "$1" --no-progress > /dev/null 2> "$2" &
  pid=$!; CLEANUP_PIDS+=("$pid")
  port=""
  for _ in $(seq 200); do
    port=$(grep -o 'api: listening on [^ ]* (port [0-9]*' "$2" | grep -o '[0-9]*$' || true)
    [ -n "$port" ] && grep -q 'engine started' "$2" && break
    kill -0 "$pid" 2>/dev/null || { cat "$2" >&2; fail "ain run exited early"; }
    sleep 0.05
  done
  [ -n "$port" ] || fail "no api port in $2"
  U=http://127.0.0.1:$port
}
# code URL [curl args...] -> "<status> <body>"
req() { local u=$1; shift; curl -s -o "$T/body" -w '%{http_code}' "$@" "$u"; echo " $(cat "$T/body")"; }

API='api = { listen = "127.0.0.1:0", request_timeout_ms = 1500, max_connections = 6, jwt = { alg = "HS256", secret = "api_jwt" } }'
write_config "$C" "$FIX" "store = { url = \"sqlite:$T/ain.db\", sql_dir = \"$T/sql\" }" "$API" \
  'shutdown = { grace_ms = 15000 }' 'queue = { poll_ms = 20 }' 'shards = 2' 'shard_nice = 4'
start_engine "$C" "$T/e1.err"
# shard_nice: the two shard threads run 4 nicer than the process (its main thread: the test may
# itself run under nice); the API's thread does not.
base=$(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $17}')
want=$((base + 4 > 19 ? 19 : base + 4))
nices=$(for f in /proc/$pid/task/*/stat; do sed 's/.*) //' "$f" | awk '{print $17}'; done | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}')
case " $nices" in *" $want:2 "*) ;; *) fail "shard_nice = 4 at base nice $base: thread nice values $nices";; esac
case " $nices" in *" $base:"*) ;; *) fail "no thread left at the process's nice $base: $nices";; esac
TOK=$("$AIN_BIN" token issue -c "$C" --sub alice --role viewer --ttl 10m)

# 1. health, readiness, routing, the error shape
r=$(req "$U/healthz"); assert_eq "$r" '200 {"status":"serving"}' "/healthz"
r=$(req "$U/readyz")
assert_eq "${r%% *}" 200 "/readyz of a running engine"
assert_eq "$(jq -c .checks <<< "${r#* }")" '{"engine":"running","registry":"loaded","store":"ok","migrations":"current (version '"$(ls "$T/sql/sqlite" | tail -1 | cut -c1-3 | sed 's/^0*//')"')"}' "/readyz checks"
r=$(req "$U/no/such/thing"); assert_eq "${r%% *}" 404 "unknown path"
assert_eq "$(jq -c . <<< "${r#* }")" '{"error":{"code":"ENOROUTE","field":"path","message":"no route /no/such/thing"}}' "404 body"
curl -s -D "$T/h" -o "$T/body" -X DELETE "$U/healthz"
grep -qi '^HTTP/1.1 405' "$T/h" || fail "DELETE /healthz: $(head -1 "$T/h")"
grep -qi '^allow: GET' "$T/h" || fail "405 without Allow: $(cat "$T/h")"
assert_eq "$(jq -r .error.code "$T/body")" EMETHOD "405 code"
r=$(req "$U/v1/whoami"); assert_eq "${r%% *}" 401 "no token"
assert_eq "$(jq -r .error.code <<< "${r#* }")" EAUTH "401 code"
r=$(req "$U/v1/whoami" -H "Authorization: Bearer $TOK"); assert_eq "${r%% *}" 200 "with a token"
assert_eq "$(jq -r .actor <<< "${r#* }")" operator:alice "the caller's actor"
ok "healthz, readyz, 404, 405 (Allow), 401 and 200, one error shape"

# 2. limits: a 2 MiB body (413, before any handler), 20 KiB of headers (431)
head -c $((2 << 20)) /dev/zero | tr '\0' 'a' > "$T/big"
r=$(req "$U/v1/whoami" -X POST --data-binary @"$T/big" -H "Authorization: Bearer $TOK")
assert_eq "${r%% *}" 413 "2 MiB body"
assert_eq "$(jq -r .error.code <<< "${r#* }")" ETOOBIG "413 code"
r=$(req "$U/healthz" -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' 'b')")
assert_eq "${r%% *}" 431 "20 KiB header"
assert_eq "$(jq -r .error.field <<< "${r#* }")" headers "431 field"
ok "413 on a 2 MiB body, 431 on 20 KiB of headers"

# 3. keep-alive (one connection for three requests, errors included), h2c
n=$(curl -s -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}\n' "$U/healthz" "$U/nope" "$U/readyz" | paste -sd' ')
assert_eq "$n" "1 0 0" "connections opened for three keep-alive requests"
assert_eq "$(curl -s --http2-prior-knowledge -o /dev/null -w '%{http_version}' "$U/healthz")" 2 "h2c"
ok "keep-alive across statuses, HTTP/2 over cleartext"

# 4. a slow-header client is cut off (request_timeout_ms 1500) while another client is served
exec 3<> "/dev/tcp/127.0.0.1/$port"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n' >&3
( trap '' PIPE; for i in $(seq 60); do printf 'X-Slow-%d: y\r\n' "$i" >&3 2>/dev/null || exit 0; sleep 0.2; done ) &
writer=$!
start=$(date +%s%N)
for i in $(seq 5); do
  t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "$U/healthz")
  assert_eq "${t%% *}" 200 "another client during the slow one"
  awk -v t="${t#* }" 'BEGIN { exit !(t < 1.0) }' || fail "another client waited ${t#* } s"
  sleep 0.1
done
set +e; IFS= read -r -t 10 -u 3 line; rc=$?; set -e
el=$(( ($(date +%s%N) - start) / 1000000 ))
kill "$writer" 2>/dev/null || true; exec 3>&-
[ "$rc" -le 128 ] || fail "the slow client was not cut off within 10 s"
[ -z "$line" ] || fail "the slow client got an answer: $line"
[ "$el" -ge 1000 ] && [ "$el" -lt 8000 ] || fail "slow client cut off after ${el} ms (request_timeout_ms 1500)"
ok "slow-header client cut off after ${el} ms; 5 other requests served meanwhile"

# 5. the connection limit (6): idle connections hold slots; the next one is closed at accept
fds=()
for i in $(seq 6); do exec {fd}<> "/dev/tcp/127.0.0.1/$port"; fds+=("$fd"); done
sleep 0.2
set +e; curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$U/healthz" > "$T/over"; crc=$?; set -e
[ "$crc" -ne 0 ] || fail "a 7th connection was served: $(cat "$T/over")"
for fd in "${fds[@]}"; do exec {fd}>&-; done
for _ in $(seq 50); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$U/healthz")" = 200 ] && break
  sleep 0.1
done
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$U/healthz")" 200 "served again once connections closed"
grep -q 'api.max_connections' "$T/e1.err" || fail "the refusal was not logged"
ok "api.max_connections: the 7th connection closed (curl exit $crc), served again after"

# 6. readiness: a migration file the store has not applied makes /readyz 503
echo "CREATE TABLE IF NOT EXISTS api_it_probe (x INTEGER);" > "$T/sql/sqlite/999_api_it.sql"
r=$(req "$U/readyz")
assert_eq "${r%% *}" 503 "/readyz with a pending migration"
assert_eq "$(jq -r .checks.migrations <<< "${r#* }")" "1 pending (schema version $(ls "$T/sql/sqlite" | sed -n '$!p' | tail -1 | cut -c1-3 | sed 's/^0*//'))" "pending named"
[ "$(sql "select count(*) from sqlite_master where name='api_it_probe'")" = 0 ] || fail "the probe applied a migration"
rm "$T/sql/sqlite/999_api_it.sql"
assert_eq "$(req "$U/readyz" | cut -d' ' -f1)" 200 "ready again"
ok "/readyz: 503 naming a pending migration (applied by nobody), 200 again"

# 7. another engine on the same port fails at start, naming the key
write_config "$T/b.lua" "$FIX" "store = { url = \"sqlite:$T/b.db\" }" "api = { listen = \"127.0.0.1:$port\" }"
set +e; "$AIN_BIN" run -c "$T/b.lua" --no-progress > /dev/null 2> "$T/b.err"; brc=$?; set -e
[ "$brc" -ne 0 ] || fail "a second engine started on a taken port"
grep -q 'cannot listen on 127.0.0.1:'"$port" "$T/b.err" || fail "no listen error: $(cat "$T/b.err")"
ok "a taken api.listen port fails ain run (exit $brc)"

# 8. SIGTERM: /readyz says 503 while steps drain, /healthz still serves, then the port closes
task_msg generate_video '{"shape":"slow","sleep_ms":6000,"timeout_ms":20000}' > "$T/slow.jsonl"
"$AIN_BIN" enqueue -c "$C" "$T/slow.jsonl" > /dev/null 2>&1
for _ in $(seq 100); do
  [ "$(sql "select count(*) from tasks where status='running' and step='a'")" -ge 1 ] && break
  sleep 0.05
done
[ "$(sql "select count(*) from tasks where status='running'")" -ge 1 ] || fail "no step running"
exec 4<> "/dev/tcp/127.0.0.1/$port" # an idle keep-alive connection: the drain must close it
kill -TERM "$pid"
for _ in $(seq 40); do grep -q 'SIGTERM: stopping' "$T/e1.err" && break; sleep 0.05; done
r=$(req "$U/readyz")
assert_eq "${r%% *}" 503 "/readyz while shutting down"
assert_eq "$(jq -r .checks.engine <<< "${r#* }")" "shutting down" "shutting down named"
assert_eq "$(req "$U/healthz" | cut -d' ' -f1)" 200 "/healthz while draining"
start=$(date +%s%N)
set +e; wait "$pid"; rc=$?; set -e
el=$(( ($(date +%s%N) - start) / 1000000 ))
exec 4>&-
assert_eq "$rc" 0 "exit code"
[ "$el" -lt 16000 ] || fail "stop took ${el} ms"
set +e; curl -s -o /dev/null --max-time 2 "$U/healthz"; crc=$?; set -e
[ "$crc" -ne 0 ] || fail "the API still answers after the engine stopped"
assert_eq "$(sql "select count(*) from tasks where status='succeeded' and step='a'")" 1 "the running step finished"
ok "SIGTERM: readyz 503 and healthz 200 while draining; stopped in ${el} ms with an idle connection open"

# 9. HTTP/2 over TLS (ALPN) with a certificate made here; TLS 1.1 refused
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/srv.key" \
  -out "$T/srv.crt" -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 -days 2 2> /dev/null
write_config "$T/tls.lua" "$FIX" "store = { url = \"sqlite:$T/ain.db\" }" \
  "api = { listen = \"127.0.0.1:0\", jwt = { alg = \"HS256\", secret = \"api_jwt\" }, tls = { cert = \"$T/srv.crt\", key = \"$T/srv.key\" } }"
start_engine "$T/tls.lua" "$T/e2.err"
S=https://127.0.0.1:$port
assert_eq "$(curl -s --http2 --cacert "$T/srv.crt" -o /dev/null -w '%{http_version} %{http_code}' "$S/healthz")" "2 200" "HTTP/2 by ALPN"
assert_eq "$(curl -s --http1.1 --cacert "$T/srv.crt" -o /dev/null -w '%{http_version} %{http_code}' -H "Authorization: Bearer $TOK" "$S/v1/whoami")" "1.1 200" "HTTP/1.1 over TLS with a token"
set +e; curl -s --tlsv1.1 --tls-max 1.1 --cacert "$T/srv.crt" -o /dev/null "$S/healthz"; crc=$?; set -e
[ "$crc" -ne 0 ] || fail "TLS 1.1 accepted"
kill -TERM "$pid"; wait "$pid"
ok "HTTP/2 over TLS by ALPN, HTTP/1.1 too, TLS 1.1 refused (curl exit $crc)"
