#!/usr/bin/env bash
# The store contract suite (test_store) and the Postgres-specific tests (test_store_pg) against a
# real PostgreSQL 15 server started for this run on a free loopback port. The server is stopped
# on every exit path (trap), including failures.
set -euo pipefail

src=${AIN_SOURCE_DIR:?AIN_SOURCE_DIR not set}
build=${AIN_BUILD_DIR:?AIN_BUILD_DIR not set}
server="$src/tools/pg-test-server.sh"
for bin in test_store test_store_pg test_store_audit test_store_media test_store_nodes test_store_kv test_store_review test_store_scripts test_store_wedge test_store_purge test_store_metrics test_store_sources test_store_tier test_store_grants test_store_posts test_store_snapshot test_registry test_ops test_vec; do
  [ -x "$build/$bin" ] || { echo "missing $build/$bin (build first)" >&2; exit 1; }
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/ain-pg-it-XXXXXX")
cleanup() {
  "$server" stop "$dir" || echo "store_postgres: could not stop the server in $dir" >&2
  rm -rf "$dir"
}
trap cleanup EXIT

url=$("$server" start "$dir")
export AIN_TEST_STORE_URL="$url"
export AIN_TEST_STORE_RESET="'$server' reset '$dir'"
echo "# store_postgres: $url"

status=0
"$build/test_store" || status=1
"$build/test_store_pg" || status=1
"$build/test_store_audit" || status=1
"$build/test_store_media" || status=1
"$build/test_store_nodes" || status=1
"$build/test_store_review" || status=1
"$build/test_store_kv" || status=1
"$build/test_vec" || status=1 # VEC_PUT / VEC_LOAD on Postgres
"$build/test_store_scripts" || status=1
"$build/test_store_purge" || status=1
"$build/test_store_wedge" || status=1
"$build/test_store_metrics" || status=1
"$build/test_store_sources" || status=1
"$build/test_store_tier" || status=1 # TIER_LIST / TIER_MARK (migration 018)
"$build/test_store_grants" || status=1
"$build/test_store_posts" || status=1
"$build/test_store_snapshot" || status=1
"$build/test_registry" || status=1
"$build/test_ops" || status=1
exit $status
