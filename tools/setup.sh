#!/usr/bin/env bash
# Installs what AIN needs to build, run and test, and only what is missing, so it is fast on a
# prepared machine. Debian 12, as root (or with sudo). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(build-essential cmake pkg-config git ca-certificates
  libluajit-5.1-dev luajit libuv1-dev libpq-dev libsqlite3-dev sqlite3 libcjson-dev
  libcurl4-openssl-dev libssl-dev lua-cjson lua-busted
  ffmpeg espeak-ng libespeak-ng-dev fonts-dejavu-core
  postgresql postgresql-contrib procps psmisc jq python3 nodejs npm)

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

# JavaScript test tools (schema validator, S3-protocol server), pinned in tools/node/package.json.
if [ ! -d tools/node/node_modules ] || [ tools/node/package.json -nt tools/node/node_modules ]; then
  echo "setup: installing npm test tools" >&2
  # Trust the system's CA store too (Debian's node bundles its own list; a proxy's CA is in the system's).
  if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
  fi
  (cd tools/node && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  touch tools/node/node_modules
fi
