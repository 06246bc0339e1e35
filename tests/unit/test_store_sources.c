/* Contract tests for the trend-source rows (SOURCE_PUT / SOURCE_LIST), run against SQLite (a fresh
 * file per test) and Postgres (tests/integration/store_postgres.sh). Names are fresh per test
 * (f->ns), so they also pass on a shared database.
 * Relies on: store_fixture.h, store/store.h, the C harness. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "store/store.h"
#include "store_fixture.h"

static int put(fx_t *f, const ain_source_state_t *row) {
  ain_store_req_t r;
  ain_store_req_source_put(&r, row);
  int rc = ain_store_wait(f->s, &r);
  ain_store_req_cleanup(&r);
  return rc;
}

/* The row named name, copied into *out (caller frees with ain_source_state_free); 0 when absent. */
static int find(fx_t *f, const char *name, ain_source_state_t *out) {
  ain_store_req_t r;
  ain_store_req_source_list(&r);
  ASSERT_OK(ain_store_wait(f->s, &r));
  int found = 0;
  for (size_t i = 0; i < r.u.source.nrows; i++) {
    if (strcmp(r.u.source.rows[i].name, name) == 0) {
      *out = r.u.source.rows[i];
      memset(&r.u.source.rows[i], 0, sizeof r.u.source.rows[i]); /* taken */
      found = 1;
    }
  }
  for (size_t i = 1; i < r.u.source.nrows; i++) { /* by name, byte order */
    ASSERT_TRUE(r.u.source.rows[i - 1].name == NULL || r.u.source.rows[i].name == NULL ||
                strcmp(r.u.source.rows[i - 1].name, r.u.source.rows[i].name) < 0);
  }
  ain_store_req_cleanup(&r);
  ASSERT_NULL(r.u.source.rows);
  return found;
}

TEST(put_list_replace) {
  fx_t f;
  fx_open(&f);
  char name[64];
  snprintf(name, sizeof name, "%s", f.ns);
  ain_source_state_t row = {.name = name, .kind = "rss", .url = "http://e.x/feed.xml",
                            .etag = "\"abc\"", .last_modified = "Mon, 07 Dec 2026 10:00:00 GMT",
                            .last_success_at = 1796637600000, .fetches = 3, .not_modified = 2,
                            .items = 7, .refused = 1};
  ASSERT_OK(put(&f, &row));
  ain_source_state_t got;
  ASSERT_TRUE(find(&f, name, &got));
  ASSERT_STR_EQ(got.kind, "rss");
  ASSERT_STR_EQ(got.url, "http://e.x/feed.xml");
  ASSERT_STR_EQ(got.etag, "\"abc\"");
  ASSERT_STR_EQ(got.last_modified, "Mon, 07 Dec 2026 10:00:00 GMT");
  ASSERT_NULL(got.cursor);
  ASSERT_NULL(got.last_error);
  ASSERT_EQ(got.last_success_at, 1796637600000LL);
  ASSERT_EQ(got.fetches, 3);
  ASSERT_EQ(got.not_modified, 2);
  ASSERT_EQ(got.items, 7);
  ASSERT_EQ(got.refused, 1);
  ASSERT_TRUE(got.updated_at > 0);
  ain_source_state_free(&got);
  /* replace: an error, validators cleared, a cursor */
  ain_source_state_t row2 = {.name = name, .kind = "redis", .url = "redis://h:1",
                             .cursor = "1-0", .last_error = "HTTP 503 \"quoted\"",
                             .last_error_at = 1796637700000, .backoff_until = 1796637800000,
                             .failures = 2, .errors = 2, .fetches = 4};
  ASSERT_OK(put(&f, &row2));
  ASSERT_TRUE(find(&f, name, &got));
  ASSERT_STR_EQ(got.kind, "redis");
  ASSERT_NULL(got.etag);
  ASSERT_STR_EQ(got.cursor, "1-0");
  ASSERT_STR_EQ(got.last_error, "HTTP 503 \"quoted\"");
  ASSERT_EQ(got.backoff_until, 1796637800000LL);
  ASSERT_EQ(got.failures, 2);
  ASSERT_EQ(got.items, 0);
  ain_source_state_free(&got);
  fx_close(&f);
}

TEST(bad_rows_are_refused) {
  fx_t f;
  fx_open(&f);
  ain_store_req_t r;
  ain_source_state_t row = {.name = "", .kind = "rss"};
  ain_store_req_source_put(&r, &row);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "name");
  ain_store_req_cleanup(&r);
  ain_source_state_t row2 = {.name = "x"};
  ain_store_req_source_put(&r, &row2);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "kind");
  ain_store_req_cleanup(&r);
  ain_store_req_source_put(&r, NULL);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

TEST_MAIN(TEST_ENTRY(put_list_replace), TEST_ENTRY(bad_rows_are_refused))
