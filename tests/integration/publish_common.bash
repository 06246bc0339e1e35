# The platform test servers (tests/servers/youtube.js, tiktok.js) and a pipeline that publishes
# to them (tests/fixtures/publish): source after lib.bash. Provides start_platform NAME (sets
# <NAME>_PORT), start_server NAME SCRIPT ARGS... (a server that prints {"port": N} first, such
# as instagram.js and webhook_receiver.js; sets <NAME>_PORT), spawn_platform / spawn_server and
# await_server NAME (the same in two halves, to start several at once), control NAME JSON, pstats NAME, the scripts folder $S with a persona "pubber"
# publishing to yt, tt and yt_bad, secrets in $T/secrets, put_video FILE -> key, enqueue_video ID,
# run_idle, and the OAuth test credentials.
command -v node > /dev/null || fail "node is required"
S=$T/scripts
mkdir -p "$S/agents" "$S/personas" "$T/secrets"
cp "$AIN_SOURCE_DIR"/tests/fixtures/review/agents/fixture.lua "$S/agents/"
cp "$AIN_SOURCE_DIR"/tests/fixtures/publish/agents/pipeline.lua "$S/agents/"
cp "$AIN_SOURCE_DIR/scripts/agents/publisher.lua" "$AIN_SOURCE_DIR/scripts/agents/persona.lua" "$S/agents/"
printf 'return { id = "pubber", voice = {}, style = {}, channels = { "yt", "tt", "yt_bad" } }\n' > "$S/personas/pubber.lua"
CLIENT_ID="cid-$RANDOM"
CLIENT_SECRET="csecret-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
REFRESH="rtok-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
for kv in "client_id:$CLIENT_ID" "client_secret:$CLIENT_SECRET" "refresh:$REFRESH" "bad_refresh:nope"; do
  printf '%s' "${kv#*:}" > "$T/secrets/${kv%%:*}"
done
chmod 600 "$T/secrets"/*

spawn_platform() { # NAME: youtube | tiktok, started in the background (its port: $T/NAME.port)
  rm -f "$T/$1.port"
  node "$AIN_SOURCE_DIR/tests/servers/$1.js" --port-file "$T/$1.port" --client-id "$CLIENT_ID" \
    --client-secret "$CLIENT_SECRET" --refresh-token "$REFRESH" > "$T/$1.log" 2>&1 &
  CLEANUP_PIDS+=("$!")
}
spawn_server() { # NAME SCRIPT ARGS...: a server that prints {"port": N} on its first line
  local name=$1 script=$2; shift 2
  rm -f "$T/$name.port"
  node "$AIN_SOURCE_DIR/tests/servers/$script" "$@" > "$T/$name.out" 2> "$T/$name.log" &
  CLEANUP_PIDS+=("$!")
}
await_server() { # NAME: waits for a spawned server's port; sets <NAME>_PORT
  for _ in $(seq 1 300); do
    [ -s "$T/$1.port" ] && break
    if grep -q '"port"' "$T/$1.out" 2> /dev/null; then
      grep -o '"port": *[0-9]*' "$T/$1.out" | grep -o '[0-9]*$' > "$T/$1.port"
      break
    fi
    sleep 0.05
  done
  [ -s "$T/$1.port" ] || fail "the $1 test server did not start: $(cat "$T/$1.log")"
  eval "${1^^}_PORT=$(cat "$T/$1.port")"
}
start_platform() { spawn_platform "$1"; await_server "$1"; }
start_server() { spawn_server "$@"; await_server "$1"; }
control() { curl -sf -X POST -d "$2" "http://127.0.0.1:$(cat "$T/$1.port")/__control" > /dev/null; }
pstats() { curl -sf "http://127.0.0.1:$(cat "$T/$1.port")/__stats"; }

put_video() { # FILE -> object-store key (content-addressed, as render leaves it)
  local h; h=$(sha256sum "$1" | cut -c1-64)
  local key="sha256/${h:0:2}/${h:2}.mp4"
  mkdir -p "$T/var/objects/sha256/${h:0:2}"
  cp "$1" "$T/var/objects/$key"
  echo "$key"
}
enqueue_video() { # VIDEO_ID KEY CHANNELS_JSON
  task_msg generate_video "{\"video_id\":\"$1\",\"decision\":\"pass\",\"confidence\":0.95,\"video_key\":\"$2\",\"channels\":$3}" pubber > "$T/msg.json"
  "$AIN_BIN" enqueue -c "$C" "$T/msg.json" > /dev/null
}
run_idle() { timeout 120 "$AIN_BIN" run -c "$C" --until-idle --no-progress > "$T/run.out" 2>> "$T/run.err" || fail "run: $(tail -5 "$T/run.err")"; }
