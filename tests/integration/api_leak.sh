#!/usr/bin/env bash
# An engine that served HTTP requests on every path the server has (HTTP/1.1 keep-alive, h2c,
# HTTP/2 and HTTP/1.1 over TLS, client certificates, a deferred store read on a worker, a POST,
# an error answered by h2o itself, a client that goes away mid-request) stops on SIGTERM with
# exit 0. Registered twice: with the plain build, and (asan.it.api_leak, tests/tests.cmake) with
# the ASan+UBSan `ain` and detect_leaks=1, where LeakSanitizer's report at exit (a leak makes the
# process exit non-zero) fails it: the proof that the server's shutdown frees what h2o, OpenSSL
# and the workers allocated.
. "$(dirname "$0")/lib.bash"
FIX=$AIN_SOURCE_DIR/tests/fixtures/engine
export AIN_SECRET_API_JWT=0123456789abcdef0123456789abcdef-it-key

# start CONFIG LOG: `ain run` in the background; sets pid and port.
start() {
  "$AIN_BIN" run -c "$1" --no-progress > /dev/null 2> "$2" &
  pid=$!; CLEANUP_PIDS+=("$pid")
  port=""
  for _ in $(seq 600); do
    port=$(grep -o 'api: listening on [^ ]* (port [0-9]*' "$2" | grep -o '[0-9]*$' || true)
    [ -n "$port" ] && grep -q 'engine started' "$2" && break
    kill -0 "$pid" 2>/dev/null || { cat "$2" >&2; fail "ain run exited early"; }
    sleep 0.05
  done
  [ -n "$port" ] || fail "no api port in $2"
}
# stop LOG WHAT: SIGTERM, exit 0, and no sanitizer report in the log.
stop() {
  kill -TERM "$pid"
  set +e; wait "$pid"; local rc=$?; set -e
  if grep -qE 'LeakSanitizer|AddressSanitizer|runtime error' "$1"; then
    grep -A40 -E 'LeakSanitizer|AddressSanitizer|runtime error' "$1" | head -80 >&2
    fail "$2: a sanitizer report at exit"
  fi
  [ "$rc" -eq 0 ] || { tail -20 "$1" >&2; fail "$2: exit $rc"; }
}

# 1. plain HTTP: HTTP/1.1 keep-alive, h2c, a store read on a worker, a POST, 404, h2o's 413
C=$T/plain.lua
write_config "$C" "$FIX" \
  'api = { listen = "127.0.0.1:0", jwt = { alg = "HS256", secret = "api_jwt" } }'
start "$C" "$T/e1.err"
U=http://127.0.0.1:$port
TOK=$("$AIN_BIN" token issue -c "$C" --sub leak --role operator --ttl 10m)
H="Authorization: Bearer $TOK"
id=$(uuid7)
msg=$(printf '{"task_id":"%s","type":"noop","payload":{},"persona_id":"tester","state_version":0}' "$id")
# each: -o /dev/null URL (curl's -o applies to one URL)
urls() { for u in "$@"; do printf -- '-o\n/dev/null\n%s\n' "$u"; done; }
codes=$(urls "$U/healthz" "$U/healthz" "$U/readyz" "$U/v1/whoami" "$U/v1/tasks?limit=5" \
  "$U/v1/stats" "$U/no/such" | xargs -d '\n' curl -s -w '%{http_code} ' -H "$H")
assert_eq "$codes" "200 200 200 200 200 200 404 " "HTTP/1.1 on one keep-alive connection"
r=$(curl -s -o /dev/null -w '%{http_code}' -H "$H" -H 'Content-Type: application/json' \
  --data "$msg" "$U/v1/tasks")
assert_eq "$r" 201 "POST /v1/tasks"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "$H" "$U/v1/tasks/$id")" 200 "GET the posted task"
head -c $((2 << 20)) /dev/zero | tr '\0' 'a' > "$T/big"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "$H" --data-binary @"$T/big" "$U/v1/tasks")" 413 "h2o's 413"
for p in healthz v1/stats; do
  assert_eq "$(curl -s --http2-prior-knowledge -o /dev/null -w '%{http_version} %{http_code}' \
    -H "$H" "$U/$p")" "2 200" "h2c /$p"
done
# a client that sends half a request and goes away, and one left idle at the stop
printf 'GET /v1/stats HTTP/1.1\r\nHost: x\r\n' | timeout 1 bash -c "cat > /dev/tcp/127.0.0.1/$port" || true
exec 7<>"/dev/tcp/127.0.0.1/$port"
stop "$T/e1.err" "plain HTTP"
exec 7>&-
ok "HTTP/1.1, h2c, worker reads, a POST, 404, 413, an abandoned and an idle connection: exit 0, no leak report"

# 2. TLS with client certificates: HTTP/2 by ALPN and HTTP/1.1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ca.key" \
  -out "$T/ca.crt" -subj /CN=leak-ca -days 2 2> /dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/srv.key" \
  -out "$T/srv.crt" -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 -days 2 2> /dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/cli.key" \
  -out "$T/cli.csr" -subj /CN=leak-bot 2> /dev/null
openssl x509 -req -in "$T/cli.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial \
  -out "$T/cli.crt" -days 2 2> /dev/null
C=$T/tls.lua
write_config "$C" "$FIX" "api = { listen = \"127.0.0.1:0\", tls = { cert = \"$T/srv.crt\", key = \"$T/srv.key\", client_ca = \"$T/ca.crt\", roles = { [\"leak-bot\"] = \"viewer\" } } }"
start "$C" "$T/e2.err"
S=https://127.0.0.1:$port
M=(--cacert "$T/srv.crt" --cert "$T/cli.crt" --key "$T/cli.key")
assert_eq "$(urls "$S/healthz" "$S/v1/whoami" "$S/v1/stats" | xargs -d '\n' curl -s --http2 \
  "${M[@]}" -w '%{http_version} %{http_code} ')" "2 200 2 200 2 200 " "HTTP/2 over TLS, mTLS caller"
assert_eq "$(curl -s --http1.1 "${M[@]}" -o /dev/null -w '%{http_version} %{http_code}' \
  "$S/v1/tasks?limit=1")" "1.1 200" "HTTP/1.1 over TLS"
set +e; curl -s --cacert "$T/srv.crt" -o /dev/null "$S/healthz"; crc=$?; set -e
[ "$crc" -ne 0 ] || fail "a client without a certificate got in"
stop "$T/e2.err" "TLS"
ok "HTTP/2 and HTTP/1.1 over TLS with client certificates, a refused handshake: exit 0, no leak report"
