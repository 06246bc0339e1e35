#!/usr/bin/env bash
# Who is calling, by client certificate (mTLS), with certificates made here by openssl: our CA's
# certificate for a mapped subject passes (CN, or a DNS SAN) and is the audit actor, over HTTP/2;
# no certificate, another CA's certificate (same CN) and an expired one are refused at the
# handshake (no HTTP response at all); a valid certificate whose subject has no role gets 403;
# a bearer token still works over the same TLS listener. The subject is read through the h2o
# 2.2.5 SSL* layout shim (engine/api/tls.c): this test fails if that layout changes.
. "$(dirname "$0")/lib.bash"
FIX=$AIN_SOURCE_DIR/tests/fixtures/engine
export AIN_SECRET_API_JWT=0123456789abcdef0123456789abcdef-it-key
P=$T/pki; mkdir -p "$P"; cd "$P"

ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2> /dev/null; }
# ca NAME: a self-signed CA
ca() { ec "$1.key"; openssl req -x509 -new -key "$1.key" -out "$1.crt" -subj "/CN=$1" -days 3 2> /dev/null; }
# leaf CA NAME SUBJECT [EXT]: a certificate signed by CA, valid now
leaf() {
  ec "$2.key"
  openssl req -new -key "$2.key" -out "$2.csr" -subj "$3" 2> /dev/null
  if [ -n "${4:-}" ]; then printf '%s\n' "$4" > "$2.ext"; else : > "$2.ext"; fi
  openssl x509 -req -in "$2.csr" -CA "$1.crt" -CAkey "$1.key" -CAcreateserial -out "$2.crt" \
    -days 2 -extfile "$2.ext" 2> /dev/null
}
ca ours; ca theirs
leaf ours server /CN=localhost 'subjectAltName=IP:127.0.0.1'
leaf ours alice /CN=alice
leaf ours bob /CN=bob
leaf ours bot /CN=robot-7 'subjectAltName=DNS:ops.example'
leaf theirs eve /CN=alice
# an expired certificate of our CA for a mapped subject: dates set with `openssl ca`
ec old.key; openssl req -new -key old.key -out old.csr -subj /CN=alice 2> /dev/null
: > index.txt; echo 01 > serial
printf '[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n' > ca.cnf
openssl ca -batch -config ca.cnf -cert ours.crt -keyfile ours.key -in old.csr -out old.crt \
  -startdate 20200101000000Z -enddate 20200201000000Z > /dev/null 2>&1
openssl verify -CAfile ours.crt old.crt > /dev/null 2>&1 && fail "the expired certificate verifies"
cd - > /dev/null

C=$T/ain.lua; LOG=$T/e.err
write_config "$C" "$FIX" "api = { listen = \"127.0.0.1:0\", jwt = { alg = \"HS256\", secret = \"api_jwt\" }, tls = { cert = \"$P/server.crt\", key = \"$P/server.key\", client_ca = \"$P/ours.crt\", roles = { alice = \"reviewer\", [\"ops.example\"] = \"operator\" } } }"
"$AIN_BIN" run -c "$C" --no-progress > /dev/null 2> "$LOG" &
pid=$!; CLEANUP_PIDS+=("$pid")
port=""
for _ in $(seq 200); do
  port=$(grep -o 'api: listening on [^ ]* (port [0-9]*' "$LOG" | grep -o '[0-9]*$' || true)
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { cat "$LOG" >&2; fail "no api port"; }
grep -q 'client certificates required' "$LOG" || fail "mTLS not announced"
U=https://127.0.0.1:$port
# call NAME [curl args]: "<curl exit> <http version> <status> <body>"
call() {
  local n=$1; shift
  set +e
  curl -s --cacert "$P/ours.crt" -o "$T/body" -w '%{http_version} %{http_code}' "$@" "$U/v1/whoami" > "$T/w"
  local rc=$?
  set -e
  echo "$rc $(cat "$T/w") $(cat "$T/body" 2>/dev/null)"
  rm -f "$T/body"
}

r=$(call alice --http2 --cert "$P/alice.crt" --key "$P/alice.key")
assert_eq "$(cut -d' ' -f1-3 <<< "$r")" "0 2 200" "our CA, CN alice, HTTP/2"
assert_eq "$(cut -d' ' -f4- <<< "$r" | jq -c '[.actor,.role,.via]')" '["operator:alice","reviewer","mtls"]' "alice's identity"
r=$(call bot --cert "$P/bot.crt" --key "$P/bot.key")
assert_eq "$(cut -d' ' -f4- <<< "$r" | jq -c '[.actor,.role]')" '["operator:ops.example","operator"]' "a DNS SAN mapped"
ok "client certificates of our CA: CN and SAN mapped to roles, the actor named, HTTP/2"

for c in none eve old; do
  case $c in
    none) r=$(call none) ;;
    *) r=$(call "$c" --cert "$P/$c.crt" --key "$P/$c.key") ;;
  esac
  rc=${r%% *}
  [ "$rc" -ne 0 ] || fail "$c: a response came back: $r"
  case "$r" in *'{'*) fail "$c: got a body: $r" ;; esac
done
for _ in $(seq 20); do grep -q 'certificate has expired' "$LOG" && break; sleep 0.05; done
grep -q 'refused at handshake: certificate has expired' "$LOG" || fail "expired not logged"
grep -q 'refused at handshake: unable to get local issuer certificate' "$LOG" || fail "other CA not logged"
ok "no certificate, another CA's certificate (CN alice), an expired one: refused at the handshake"

r=$(call bob --cert "$P/bob.crt" --key "$P/bob.key")
assert_eq "$(cut -d' ' -f1,3 <<< "$r")" "0 403" "a subject without a role"
assert_eq "$(cut -d' ' -f4- <<< "$r" | jq -r .error.code)" EFORBIDDEN "403 code"
tok=$("$AIN_BIN" token issue -c "$C" --sub dana --role viewer --ttl 5m)
r=$(call bob-with-token --cert "$P/bob.crt" --key "$P/bob.key" -H "Authorization: Bearer $tok")
assert_eq "$(cut -d' ' -f4- <<< "$r" | jq -c '[.actor,.via]')" '["operator:dana","jwt"]' "a token over mTLS names its own subject"
r=$(curl -s --cacert "$P/ours.crt" --cert "$P/bob.crt" --key "$P/bob.key" -o /dev/null -w '%{http_code}' "$U/healthz")
assert_eq "$r" 200 "/healthz needs no role (the handshake still needs a certificate)"
kill -TERM "$pid"; wait "$pid"
ok "a certificate without a role: 403; a bearer token over mTLS; healthz unauthenticated"
