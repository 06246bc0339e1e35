/* Shared fixture of the store contract tests (tests/unit/test_store*.c): a store opened on its own
 * libuv loop, written against store.h only, so the same binaries run against SQLite (default: a
 * fresh file per open) and Postgres (AIN_TEST_STORE_URL=postgres://...).
 *
 * Fresh state per test. SQLite gets a new database file each time. For Postgres the URL is used
 * unchanged and, if AIN_TEST_STORE_RESET is set, that shell command runs before every open (e.g.
 * "psql $URL -c 'DROP SCHEMA public CASCADE; CREATE SCHEMA public'"); without it the tests still
 * pass on a shared database because ids and f->ns are fresh UUIDv7s, but exact counts are relaxed
 * (fx_exclusive_db()). tests/integration/store_postgres.sh runs the binaries on a real server.
 *
 * Compiled into every unit test binary (tests/tests.cmake). Relies on: store/store.h, libuv, the
 * C harness (failed assertions abort the forked test). */
#ifndef AIN_TEST_STORE_FIXTURE_H
#define AIN_TEST_STORE_FIXTURE_H

#include <uv.h>

#include "core/util.h"
#include "store/store.h"

typedef struct {
  uv_loop_t loop;
  ain_store_t *s;
  char url[1024];
  /* "t-<uuid7>", fresh per open: a namespace/name of this test's own on a shared database. */
  char ns[AIN_UUID_LEN + 8];
} fx_t;

/* Whether url names a SQLite database (anything that is not a postgres:// URL). */
int fx_is_sqlite(const char *url);
/* Exact counts need a database of our own: always true for SQLite, and for Postgres when the
 * reset hook is set. */
int fx_exclusive_db(void);
/* The URL of the next fresh database: a new SQLite file under the test's tmpdir, or
 * AIN_TEST_STORE_URL after running AIN_TEST_STORE_RESET (if set). Static buffer. */
const char *fx_fresh_url(void);
/* Opens url (a copy is kept in f->url) on a new loop, without migrating; asserts success. */
void fx_open_url(fx_t *f, const char *url);
/* Applies the migrations (actor "test"); *applied (may be NULL) gets how many. Returns status. */
int fx_migrate(fx_t *f, int *applied);
/* A nodes row unique to this run: id "t-<uuid7>/<pid>" written into buf (which n->id points at),
 * node "test-node", host "test-host", version "9.9.9". */
void fx_node(ain_node_t *n, char *buf, size_t len, int pid, int shards);
/* fx_open_url(fx_fresh_url()) and fx_migrate(), asserting both. */
void fx_open(fx_t *f);
/* ain_store_close callback: increments *(int *)data (for stores opened without the fixture). */
void fx_on_closed(void *data);
/* Closes the store and its loop (asserting both), then checks for leaks under ASan: the harness
 * ends each test with _exit(), which skips LeakSanitizer. */
void fx_close(fx_t *f);

#endif
