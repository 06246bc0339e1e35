#!/usr/bin/env bash
# The container image's heavy check (minutes; not in ctest, whose short form is
# tests/integration/deploy_image_lint.sh). As root, with podman from Debian (apt-get install podman
# runc mmdebstrap). Steps, each failing loudly:
#   1. the base image: a Debian 12 minbase root file system made by mmdebstrap from the Debian
#      mirror apt uses (no registry), imported as localhost/ain-debian:bookworm (cached as a tar in
#      $AIN_IMAGE_CACHE, default /var/tmp/ain-image; delete it to rebuild);
#   2. podman build --format docker -f deploy/Containerfile (localhost/ain:test by default);
#   3. the image: runs as uid 10001, every library of `ain` resolves, the HEALTHCHECK is there;
#   4. a container of it serves /healthz and /readyz (200) on a published port, and
#      `podman healthcheck run` says healthy;
#   5. one pipeline run inside a container: a one-trend source, `ain run --until-idle`, at least
#      one MP4 rendered that ffprobe (in the image) reads as H.264 with a duration > 0;
#   6. podman stop (SIGTERM) ends the engine with exit 0 within shutdown.grace_ms.
# Usage: deploy/test-image.sh [IMAGE_TAG]. Env: PODMAN_ARGS (extra global flags, e.g.
# --runtime runc), AIN_IMAGE_CACHE, AIN_KEEP=1 (keep containers and volumes for a look).
#
# On this kind of machine (a VM with cgroup v1 plus an empty v2 "unified" hierarchy, and without
# CAP_SYS_RESOURCE) Debian's crun refuses to start containers ("cgroups in hybrid mode not
# supported") and podman's default rlimits (nofile 1048576) cannot be set; the script notices both
# and uses runc (Debian package runc) and the current limits instead (docs/deploy.md).
set -euo pipefail
cd "$(dirname "$0")/.."
TAG=${1:-localhost/ain:test}
BASE=localhost/ain-debian:bookworm
CACHE=${AIN_IMAGE_CACHE:-/var/tmp/ain-image}
RUN_ID=ain-test-$$
log() { echo "# $(date -u +%H:%M:%S) $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "run as root (rootful podman; mmdebstrap needs it too)"
# Its own tools, installed here rather than by tools/setup.sh --test: the suite never uses them.
missing=()
for t in podman runc mmdebstrap curl; do command -v "$t" >/dev/null || missing+=("$t"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    fail "could not install ${missing[*]}"
fi

cleanup() {
  [ -n "${AIN_KEEP:-}" ] && return
  podman rm -f "$RUN_ID" "$RUN_ID-pipe" >/dev/null 2>&1 || true
  podman volume rm -f "$RUN_ID-data" >/dev/null 2>&1 || true
  rm -rf "${WORK:-}"
}
trap cleanup EXIT
WORK=$(mktemp -d /tmp/ain-image-XXXXXX)
chmod 755 "$WORK"

# --- 1. base image -----------------------------------------------------------------------------
mkdir -p "$CACHE"
if [ ! -s "$CACHE/rootfs.tar" ]; then
  log "mmdebstrap: Debian 12 minbase (a few minutes)"
  mmdebstrap --variant=minbase --format=tar bookworm "$CACHE/rootfs.tar.tmp" \
    "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main" > "$CACHE/mmdebstrap.log" 2>&1 ||
    { tail -20 "$CACHE/mmdebstrap.log" >&2; fail "mmdebstrap failed"; }
  mv "$CACHE/rootfs.tar.tmp" "$CACHE/rootfs.tar"
fi
if ! podman image exists "$BASE" || [ "$CACHE/rootfs.tar" -nt "$CACHE/imported" ]; then
  log "importing the root file system as $BASE"
  podman import --change 'CMD ["/bin/bash"]' "$CACHE/rootfs.tar" "$BASE" > /dev/null
  touch "$CACHE/imported"
fi

# --- how containers can run here -----------------------------------------------------------------
# RUN_ARGS go to podman run and podman build: rlimits the kernel lets us set.
RUN_ARGS=()
hard_nofile=$(ulimit -Hn)
if [ "$hard_nofile" != unlimited ] && [ "$hard_nofile" -lt 1048576 ]; then
  RUN_ARGS+=(--ulimit "nofile=$hard_nofile:$hard_nofile" --ulimit nproc=4096:4096)
fi
read -r -a GLOBAL <<< "${PODMAN_ARGS:-}"
if ! out=$(podman "${GLOBAL[@]}" run --rm "${RUN_ARGS[@]}" "$BASE" true 2>&1); then
  log "podman run with the default runtime failed: $out"
  command -v runc >/dev/null || fail "no usable OCI runtime (apt-get install runc)"
  GLOBAL+=(--runtime runc)
  out=$(podman "${GLOBAL[@]}" run --rm "${RUN_ARGS[@]}" "$BASE" true 2>&1) ||
    fail "podman cannot run a container here, with runc either: $out"
  log "using runc"
fi
P() { podman "${GLOBAL[@]}" "$@"; }

# --- 2. build ----------------------------------------------------------------------------------
log "building $TAG (the build stage compiles ain: several minutes)"
t0=$(date +%s)
P build --format docker "${RUN_ARGS[@]}" --build-arg "BASE=$BASE" -f deploy/Containerfile -t "$TAG" . \
  > "$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log" >&2; fail "podman build failed"; }
log "built in $(( $(date +%s) - t0 )) s; runtime libraries: $(sed -n '/^lib/p' "$WORK/build.log" | sort -u | tr '\n' ' ')"
P image inspect "$TAG" --format '{{.Size}}' | awk '{ printf "# image size %.0f MB\n", $1 / 1e6 }'

# --- 3. the image ------------------------------------------------------------------------------
hc=$(P image inspect "$TAG" --format '{{json .Config.Healthcheck}}')
case $hc in *'/healthz'*) ;; *) fail "the image has no HEALTHCHECK on /healthz: $hc" ;; esac
uid=$(P run --rm "${RUN_ARGS[@]}" --entrypoint id "$TAG" -u)
[ "$uid" = 10001 ] || fail "the image runs as uid $uid, not 10001"
missing=$(P run --rm "${RUN_ARGS[@]}" --entrypoint ldd "$TAG" /usr/local/bin/ain | grep 'not found' || true)
[ -z "$missing" ] || fail "libraries missing in the image: $missing"
for prog in ffmpeg ffprobe espeak-ng tesseract pocketsphinx_continuous festival; do
  P run --rm "${RUN_ARGS[@]}" --entrypoint /bin/bash "$TAG" -c "command -v $prog" > /dev/null ||
    fail "$prog is not in the image"
done
P run --rm "${RUN_ARGS[@]}" "$TAG" check -c /etc/ain/ain.lua > "$WORK/check.out" 2>&1 ||
  { cat "$WORK/check.out" >&2; fail "ain check of the image's policies failed"; }
echo "ok - uid 10001, every library resolves, ffmpeg/espeak-ng/tesseract/pocketsphinx present, HEALTHCHECK on /healthz, shipped policies pass ain check"

# --- 4. serving --------------------------------------------------------------------------------
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
P volume create "$RUN_ID-data" > /dev/null
# --health-interval disable: no systemd timer (there is no systemd here); healthcheck run still works.
P run -d --name "$RUN_ID" "${RUN_ARGS[@]}" --health-interval disable -p "127.0.0.1:$port:8080" -v "$RUN_ID-data:/var/lib/ain" "$TAG" > /dev/null
ready=""
for _ in $(seq 600); do # 60 s: the first start migrates the store
  ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true)
  [ "$ready" = 200 ] && break
  sleep 0.1
done
[ "$ready" = 200 ] || { P logs "$RUN_ID" 2>&1 | tail -20 >&2; fail "/readyz answered '$ready', not 200"; }
[ "$(curl -s "http://127.0.0.1:$port/healthz")" = '{"status":"serving"}' ] || fail "/healthz"
P healthcheck run "$RUN_ID" > /dev/null 2>&1 || fail "podman healthcheck run: unhealthy"
P logs "$RUN_ID" > "$WORK/serve.log" 2>&1
while IFS= read -r line; do
  echo "$line" | jq -e 'type == "object" and (.ts | type) == "string" and (.level | type) == "string" and (.msg | type) == "string"' > /dev/null ||
    fail "a log line is not a JSON object with ts, level and msg: $line"
done < "$WORK/serve.log"
echo "ok - /readyz 200, /healthz serving, podman healthcheck healthy, $(wc -l < "$WORK/serve.log") log lines all JSON"

# --- 6. (before the pipeline frees the store) SIGTERM ---------------------------------------------
t0=$(date +%s%3N)
P stop -t 20 "$RUN_ID" > /dev/null
code=$(P inspect "$RUN_ID" --format '{{.State.ExitCode}}')
[ "$code" = 0 ] || fail "the engine exited $code on SIGTERM"
echo "ok - podman stop (SIGTERM): exit 0 after $(( $(date +%s%3N) - t0 )) ms"

# --- 5. one pipeline run -------------------------------------------------------------------------
head -1 samples/trends.jsonl > "$WORK/trends.jsonl"
cat > "$WORK/ain.lua" <<'LUA'
log_format = "json"
scripts_dir = "/usr/share/ain/scripts"
data_dir = "/var/lib/ain"
store = { url = "sqlite:/var/lib/ain/pipeline.db", sql_dir = "/usr/share/ain/sql" }
trends = { source = "/in/trends.jsonl" }
api = { enabled = false }
LUA
chmod 644 "$WORK/trends.jsonl" "$WORK/ain.lua"
log "pipeline: one trend, ain run --until-idle inside a container"
t0=$(date +%s)
P run --name "$RUN_ID-pipe" "${RUN_ARGS[@]}" -v "$RUN_ID-data:/var/lib/ain" -v "$WORK:/in:ro" "$TAG" \
  run -c /in/ain.lua --until-idle --json > "$WORK/pipe.out" 2> "$WORK/pipe.err" ||
  { tail -20 "$WORK/pipe.err" >&2; fail "the pipeline run failed"; }
log "pipeline ran in $(( $(date +%s) - t0 )) s: $(tail -1 "$WORK/pipe.out")"
mp4s=$(P run --rm "${RUN_ARGS[@]}" -v "$RUN_ID-data:/var/lib/ain" --entrypoint /bin/bash "$TAG" -c \
  'for f in $(find /var/lib/ain -name "*.mp4"); do
     echo "$f $(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name:format=duration -of csv=p=0 "$f" | tr "\n" " ")"
   done')
echo "$mp4s" | sed 's/^/# /'
echo "$mp4s" | awk '$2 == "h264" && $3 + 0 > 0 { n++ } END { exit n > 0 ? 0 : 1 }' ||
  fail "no H.264 MP4 with a duration came out of the pipeline"
echo "ok - pipeline run inside the container rendered $(echo "$mp4s" | grep -c mp4) MP4 file(s)"
echo "test-image: all checks passed ($TAG)"
