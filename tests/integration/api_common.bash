# Shared by the api_*.sh contract tests (sourced after lib.bash): api_start CONFIG starts `ain run`
# on a free port and sets U (base URL), pid; tokens V (viewer), R (reviewer), O (operator),
# A (admin); call TOKEN PATH [curl args...] prints "STATUS BODY".
export AIN_SECRET_API_JWT=0123456789abcdef0123456789abcdef-it-key
API_LINE='api = { listen = "127.0.0.1:0", jwt = { alg = "HS256", secret = "api_jwt" } }'

api_start() {
  local c=$1 log=$T/e.err
  "$AIN_BIN" run -c "$c" --no-progress > /dev/null 2> "$log" &
  pid=$!; CLEANUP_PIDS+=("$pid")
  local port=""
  for _ in $(seq 300); do
    port=$(grep -o 'api: listening on [^ ]* (port [0-9]*' "$log" | grep -o '[0-9]*$' || true)
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { cat "$log" >&2; fail "no api port"; }
  U=http://127.0.0.1:$port
  V=$("$AIN_BIN" token issue -c "$c" --sub val --role viewer)
  R=$("$AIN_BIN" token issue -c "$c" --sub rita --role reviewer)
  O=$("$AIN_BIN" token issue -c "$c" --sub bob --role operator)
  A=$("$AIN_BIN" token issue -c "$c" --sub ada --role admin)
}

call() {
  local tok=$1 path=$2; shift 2
  local out; out=$(mktemp "$T/body.XXXXXX") # its own file: calls may run side by side
  curl -s -o "$out" -w '%{http_code}' -H "Authorization: Bearer $tok" "$@" "$U$path"
  echo " $(cat "$out")"
  rm -f "$out"
}

# expect "STATUS BODY" CODE FIELD WHAT: the status, and the error's field when FIELD is not "-".
expect() {
  assert_eq "${1%% *}" "$2" "$4 (status; body ${1#* })"
  if [ "$3" != - ]; then
    assert_eq "$(jq -r .error.field <<< "${1#* }")" "$3" "$4 (error field)"
  fi
}

# The refusals every endpoint shares: traversal in the id, a wrong method, no token.
common_refusals() {
  local method=$1 path=$2 wrong=$3 tok=$4
  local bad=${path//\{id\}/..%2f..%2fetc}
  local r; r=$(call "$tok" "$bad" -X "$method")
  case "${r%% *}" in 400|404) ;; *) fail "$method $bad: expected 400 or 404, got $r";; esac
  r=$(call "$tok" "${path//\{id\}/x}" -X "$wrong")
  expect "$r" 405 method "$wrong ${path}"
  r=$(curl -s -o /dev/null -w '%{http_code}' -X "$method" "$U${path//\{id\}/x}")
  assert_eq "$r" 401 "$method $path without a token"
}

# The engine of the review tests: the fixture judge (tests/fixtures/review: a video's decision comes
# from its task message), the real publisher and personas, an outbox channel and the API. Sets S
# (scripts) and C (config) and migrates the store.
review_engine_config() {
  S=$T/scripts
  mkdir -p "$S/agents"
  cp "$AIN_SOURCE_DIR"/tests/fixtures/review/agents/*.lua "$S/agents/"
  cp "$AIN_SOURCE_DIR/scripts/agents/publisher.lua" "$AIN_SOURCE_DIR/scripts/agents/persona.lua" "$S/agents/"
  cp -r "$AIN_SOURCE_DIR/scripts/personas" "$S/"
  C=$T/ain.lua
  write_config "$C" "$S" "$API_LINE" 'queue = { retry_base_ms = 50, retry_max_ms = 200, poll_ms = 50 }' \
    "channels = { outbox = { kind = \"outbox\", dir = \"$T/outbox\" } }" 'trends = { source = "" }' \
    'shutdown = { grace_ms = 300 }'
  "$AIN_BIN" migrate -c "$C" > /dev/null
}

# Puts FILE into the engine's object store as render leaves it; prints its key.
put_object() { # FILE EXT -> key
  local h; h=$(sha256sum "$1" | cut -c1-64)
  local key="sha256/${h:0:2}/${h:2}.$2"
  mkdir -p "$T/var/objects/sha256/${h:0:2}"
  cp "$1" "$T/var/objects/$key"
  echo "$key"
}
