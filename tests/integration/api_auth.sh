#!/usr/bin/env bash
# Who is calling, by bearer token: tokens minted by `ain token issue` pass (HS256 from the secrets
# provider, RS256 and ES256 from key files made here by openssl); hand-made bad ones are refused
# with 401 and the reason in the log, never in the response: alg none, a forged signature, the
# wrong audience, expired, exp past api.max_token_ttl, not yet valid, no exp, an HS256 token
# "signed" with the RSA public key (alg confusion), an ES256 token where RS256 is configured, and
# libjwt accepting node's standard ES256 (R||S) signatures. Roles: a viewer is refused (403) where
# a stronger role is needed.
. "$(dirname "$0")/lib.bash"
FIX=$AIN_SOURCE_DIR/tests/fixtures/engine
export AIN_SECRET_API_JWT=0123456789abcdef0123456789abcdef-it-key

# mint ALG KEY CLAIMS_JSON [HEADER_JSON]: a compact JWS made by node (KEY: a secret or a PEM file)
mint() {
  node -e '
    const c = require("crypto"), fs = require("fs");
    const [alg, key, claims, header] = process.argv.slice(1);
    const b = (s) => Buffer.from(s).toString("base64url");
    const h = header || JSON.stringify({ alg, typ: "JWT" });
    const input = b(h) + "." + b(claims);
    let sig = "";
    if (alg === "HS256") sig = c.createHmac("sha256", fs.existsSync(key) ? fs.readFileSync(key) : key).update(input).digest("base64url");
    else if (alg === "RS256") sig = c.sign("sha256", Buffer.from(input), fs.readFileSync(key)).toString("base64url");
    else if (alg === "ES256") sig = c.sign("sha256", Buffer.from(input), { key: fs.readFileSync(key), dsaEncoding: "ieee-p1363" }).toString("base64url");
    process.stdout.write(input + "." + sig);
  ' "$@"
}
start_engine() {
  "$AIN_BIN" run -c "$1" --no-progress > /dev/null 2> "$2" &
  pid=$!; CLEANUP_PIDS+=("$pid")
  port=""
  for _ in $(seq 200); do
    port=$(grep -o 'api: listening on [^ ]* (port [0-9]*' "$2" | grep -o '[0-9]*$' || true)
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$2" >&2; fail "ain run exited early"; }
    sleep 0.05
  done
  [ -n "$port" ] || fail "no api port in $2"
  U=http://127.0.0.1:$port
}
# who TOKEN -> "<status> <body>"
who() { curl -s -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $1" "$U/v1/whoami"; echo " $(cat "$T/body")"; }
# refused NAME TOKEN LOG_REASON
refused() {
  local r; r=$(who "$2")
  assert_eq "$r" '401 {"error":{"code":"EAUTH","field":"","message":"authentication required"}}' "$1"
  for _ in $(seq 20); do grep -q "$3" "$LOG" && break; sleep 0.05; done
  grep -q "refused (401): token: .*$3" "$LOG" || fail "$1: the log does not say '$3': $(grep refused "$LOG" | tail -1)"
}
now=$(date +%s)
claims() { # claims ROLE EXP [extra json members]
  printf '{"sub":"alice","role":"%s","aud":"ain-api","iat":%d,"exp":%d%s}' "$1" "$now" "$2" "${3:-}"
}

# 1. HS256 (the key from the secrets provider)
C=$T/hs.lua; LOG=$T/hs.err
write_config "$C" "$FIX" 'api = { listen = "127.0.0.1:0", max_token_ttl = "1h", jwt = { alg = "HS256", secret = "api_jwt" } }'
start_engine "$C" "$LOG"
tok=$("$AIN_BIN" token issue -c "$C" --sub alice --role reviewer --ttl 15m)
r=$(who "$tok"); assert_eq "${r%% *}" 200 "ain token issue"
assert_eq "$(jq -c '[.actor,.role,.via]' <<< "${r#* }")" '["operator:alice","reviewer","jwt"]' "caller"
r=$(who "$(mint HS256 "$AIN_SECRET_API_JWT" "$(claims admin $((now + 600)))")")
assert_eq "${r%% *}" 200 "a token made by node with the same key"
set +e; "$AIN_BIN" token issue -c "$C" --sub alice --role reviewer --ttl 2h > /dev/null 2> "$T/ttl.err"; rc=$?; set -e
assert_eq "$rc" 4 "ain token issue past max_token_ttl"
grep -q 'max_token_ttl' "$T/ttl.err" || fail "no reason: $(cat "$T/ttl.err")"
refused "alg none" "$(mint none x "$(claims admin $((now + 600)))" '{"alg":"none","typ":"JWT"}' | sed 's/\.$//').x" "alg none refused"
refused "alg none, empty signature" "$(mint none x "$(claims admin $((now + 600)))" '{"alg":"none"}')" "alg none refused"
refused "forged signature" "$(mint HS256 another-secret-of-thirty-two-bytes-00 "$(claims admin $((now + 600)))")" "signature does not verify"
good=$(mint HS256 "$AIN_SECRET_API_JWT" "$(claims viewer $((now + 600)))")
refused "payload swapped under a valid signature" "$(cut -d. -f1 <<< "$good").$(printf '%s' "$(claims admin $((now + 600)))" | base64 -w0 | tr '+/' '-_' | tr -d '=').$(cut -d. -f3 <<< "$good")" "signature does not verify"
refused "wrong audience" "$(mint HS256 "$AIN_SECRET_API_JWT" '{"sub":"alice","role":"admin","aud":"ain-publish","exp":'$((now + 600))'}')" "aud is not"
refused "expired" "$(mint HS256 "$AIN_SECRET_API_JWT" "$(claims admin $((now - 300)))")" "expired"
refused "exp past max_token_ttl" "$(mint HS256 "$AIN_SECRET_API_JWT" "$(claims admin $((now + 86400)))")" "max_token_ttl"
refused "not yet valid" "$(mint HS256 "$AIN_SECRET_API_JWT" "$(claims admin $((now + 600)) ",\"nbf\":$((now + 300))")")" "not valid for another"
refused "no exp" "$(mint HS256 "$AIN_SECRET_API_JWT" '{"sub":"alice","role":"admin","aud":"ain-api"}')" "no 'exp' claim"
refused "unknown role" "$(mint HS256 "$AIN_SECRET_API_JWT" "$(claims root $((now + 600)))")" "role"
r=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Basic YWxpY2U6eA==" "$U/v1/whoami")
assert_eq "$r" 401 "Basic authorization"
grep -q "$AIN_SECRET_API_JWT" "$LOG" && fail "the key reached the log"
kill -TERM "$pid"; wait "$pid"
ok "HS256: ain token issue and node's tokens pass; alg none, forged, swapped, audience, expired, too long-lived, not yet valid, no exp, bad role: 401, reasons logged only"

# 2. RS256 with key files; alg confusion and the wrong key type are refused
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/rs.key" 2> /dev/null
openssl pkey -in "$T/rs.key" -pubout -out "$T/rs.pub"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/es.key" 2> /dev/null
openssl pkey -in "$T/es.key" -pubout -out "$T/es.pub"
C=$T/rs.lua; LOG=$T/rs.err
write_config "$C" "$FIX" "api = { listen = \"127.0.0.1:0\", jwt = { alg = \"RS256\", public_key = \"$T/rs.pub\", private_key = \"$T/rs.key\" } }"
start_engine "$C" "$LOG"
r=$(who "$("$AIN_BIN" token issue -c "$C" --sub bob --role operator --ttl 5m)"); assert_eq "${r%% *}" 200 "RS256 from ain token issue"
r=$(who "$(mint RS256 "$T/rs.key" "$(claims viewer $((now + 600)))")"); assert_eq "${r%% *}" 200 "RS256 from node"
refused "HS256 keyed with the RSA public key (alg confusion)" "$(mint HS256 "$T/rs.pub" "$(claims admin $((now + 600)))")" "alg HS256 refused"
refused "ES256 where RS256 is configured" "$(mint ES256 "$T/es.key" "$(claims admin $((now + 600)))")" "alg ES256 refused"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/rs2.key" 2> /dev/null
refused "RS256 signed by another key" "$(mint RS256 "$T/rs2.key" "$(claims admin $((now + 600)))")" "signature does not verify"
kill -TERM "$pid"; wait "$pid"
ok "RS256: good tokens pass; alg confusion (HS256 with the public key), ES256, another RSA key: 401"

# 3. ES256: libjwt verifies node's standard signatures and ain's own
C=$T/es.lua; LOG=$T/es.err
write_config "$C" "$FIX" "api = { listen = \"127.0.0.1:0\", jwt = { alg = \"ES256\", public_key = \"$T/es.pub\", private_key = \"$T/es.key\" } }"
start_engine "$C" "$LOG"
r=$(who "$("$AIN_BIN" token issue -c "$C" --sub carol --role admin --ttl 5m)"); assert_eq "${r%% *}" 200 "ES256 from ain token issue"
r=$(who "$(mint ES256 "$T/es.key" "$(claims viewer $((now + 600)))")"); assert_eq "${r%% *}" 200 "ES256 (R||S) from node"
refused "RS256 where ES256 is configured" "$(mint RS256 "$T/rs.key" "$(claims admin $((now + 600)))")" "alg RS256 refused"
kill -TERM "$pid"; wait "$pid"
ok "ES256: ain's and node's tokens pass; an RS256 token is refused"

# 4. a key of the wrong type in the config fails the start, naming the key
write_config "$T/bad.lua" "$FIX" "api = { listen = \"127.0.0.1:0\", jwt = { alg = \"ES256\", public_key = \"$T/rs.pub\" } }"
set +e; "$AIN_BIN" run -c "$T/bad.lua" --no-progress > /dev/null 2> "$T/bad.err"; rc=$?; set -e
[ "$rc" -ne 0 ] || fail "started with an RSA key for ES256"
grep -q 'api.jwt.public_key.*not a PEM P-256 EC public key' "$T/bad.err" || fail "no reason: $(cat "$T/bad.err")"
unset AIN_SECRET_API_JWT
set +e; "$AIN_BIN" run -c "$T/hs.lua" --no-progress > /dev/null 2> "$T/nokey.err"; rc=$?; set -e
[ "$rc" -ne 0 ] || fail "started without the HS256 secret"
grep -q 'api.jwt.secret' "$T/nokey.err" || fail "no reason: $(cat "$T/nokey.err")"
ok "an RSA key for ES256 and a missing HS256 secret fail ain run, naming the key"
