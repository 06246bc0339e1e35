/* ain_store_snapshot (store.h): the reads a handle makes while it holds one see a single snapshot,
 * taken at the first of them; a failed read (not found) inside does not end it; ending it shows
 * what was committed meanwhile. SQLite holds one (a read transaction on the handle's reader),
 * Postgres keeps none (returns 1, and its reads see every commit). Against store.h only, like the
 * other store contract tests (AIN_TEST_STORE_URL selects Postgres).
 * Relies on: store_fixture.h, store/store.h, the C harness. */
#include <string.h>

#include "harness.h"
#include "store/store.h"
#include "store_fixture.h"

static void enqueue_one(fx_t *f, ain_task_t *t) {
  memset(t, 0, sizeof *t);
  ain_uuid7(t->id);
  t->type = "noop";
  t->handler = "noop";
  t->payload = "{}";
  ain_store_batch_t b = {.tasks = t, .ntasks = 1};
  ain_store_req_t r;
  ain_store_req_enqueue(&r, &b);
  r.actor = "test";
  ASSERT_OK(ain_store_wait(f->s, &r));
  ain_store_req_cleanup(&r);
}

static int status_of(fx_t *f, const char *id, ain_task_status_t *st) {
  ain_store_req_t r;
  ain_store_req_get_task(&r, id);
  int rc = ain_store_wait(f->s, &r);
  if (rc == 0) {
    *st = r.u.get_task.task.status;
  }
  ain_store_req_cleanup(&r);
  return rc;
}

static size_t audit_rows(fx_t *f, const char *id) {
  ain_store_req_t r;
  ain_store_req_audit(&r, id, NULL);
  ASSERT_OK(ain_store_wait(f->s, &r));
  size_t n = r.u.audit.nrows;
  ain_store_req_cleanup(&r);
  return n;
}

static void cancel(fx_t *f, const char *id) {
  ain_store_req_t r;
  ain_store_req_cancel(&r, id, NULL, "snapshot test");
  r.actor = "test";
  ASSERT_OK(ain_store_wait(f->s, &r));
  ASSERT_EQ(r.u.cancel.cancelled, 1);
  ain_store_req_cleanup(&r);
}

TEST(reads_share_one_snapshot) {
  fx_t w, rd; /* a writer handle and the reading one, on the same database */
  fx_open(&w);
  fx_open_url(&rd, w.url);
  int sqlite = fx_is_sqlite(w.url);
  ain_task_t t;
  enqueue_one(&w, &t);
  ASSERT_EQ(ain_store_snapshot(rd.s, 0), 0); /* ending none: nothing to do */
  ASSERT_EQ(ain_store_snapshot(rd.s, 1), sqlite ? 0 : 1);
  ASSERT_EQ(ain_store_snapshot(rd.s, 1), sqlite ? 0 : 1); /* already held: still one */
  ain_task_status_t st;
  ASSERT_OK(status_of(&rd, t.id, &st)); /* the snapshot is taken here */
  ASSERT_EQ(st, AIN_TASK_READY);
  ASSERT_EQ(audit_rows(&rd, t.id), 1);
  cancel(&w, t.id);
  char unknown[AIN_UUID_LEN + 1];
  ain_uuid7(unknown);
  ASSERT_EQ(status_of(&rd, unknown, &st), AIN_ENOTFOUND); /* a failed read keeps the snapshot */
  ASSERT_OK(status_of(&rd, t.id, &st));
  ASSERT_EQ(st, sqlite ? AIN_TASK_READY : AIN_TASK_CANCELLED);
  ASSERT_EQ(audit_rows(&rd, t.id), sqlite ? 1 : 2); /* a read with its own BEGIN joins it */
  ASSERT_EQ(ain_store_snapshot(rd.s, 0), 0);
  ASSERT_OK(status_of(&rd, t.id, &st)); /* no snapshot: the commit is seen */
  ASSERT_EQ(st, AIN_TASK_CANCELLED);
  ASSERT_EQ(audit_rows(&rd, t.id), 2);
  fx_close(&rd);
  fx_close(&w);
}

TEST(snapshot_is_taken_at_the_first_read) {
  fx_t w, rd;
  fx_open(&w);
  fx_open_url(&rd, w.url);
  ain_task_t t;
  enqueue_one(&w, &t);
  ain_task_status_t st;
  ASSERT_OK(status_of(&rd, t.id, &st)); /* the reader is open, its cache warm */
  int held = ain_store_snapshot(rd.s, 1);
  ASSERT_TRUE(held == 0 || held == 1);
  cancel(&w, t.id); /* committed after the hold began, before any read in it */
  ASSERT_OK(status_of(&rd, t.id, &st));
  ASSERT_EQ(st, AIN_TASK_CANCELLED);
  ASSERT_EQ(ain_store_snapshot(rd.s, 0), 0);
  fx_close(&rd);
  fx_close(&w);
}

TEST(writes_on_a_handle_that_holds_one) {
  /* Writes go to the shared connection, not the reader: they commit while the snapshot is held,
   * and the snapshot's reads do not see them until it ends. */
  fx_t f;
  fx_open(&f);
  ain_task_t t;
  enqueue_one(&f, &t);
  int sqlite = fx_is_sqlite(f.url);
  ASSERT_EQ(ain_store_snapshot(f.s, 1), sqlite ? 0 : 1);
  ain_task_status_t st;
  ASSERT_OK(status_of(&f, t.id, &st));
  cancel(&f, t.id);
  ASSERT_OK(status_of(&f, t.id, &st));
  ASSERT_EQ(st, sqlite ? AIN_TASK_READY : AIN_TASK_CANCELLED);
  ASSERT_EQ(ain_store_snapshot(f.s, 0), 0);
  ASSERT_OK(status_of(&f, t.id, &st));
  ASSERT_EQ(st, AIN_TASK_CANCELLED);
  fx_close(&f);
}

TEST_MAIN(TEST_ENTRY(reads_share_one_snapshot), TEST_ENTRY(snapshot_is_taken_at_the_first_read),
          TEST_ENTRY(writes_on_a_handle_that_holds_one))
