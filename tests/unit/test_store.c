/* Store contract tests: written against store.h only, so the same binary runs against SQLite
 * (default: a fresh file per test) and Postgres (AIN_TEST_STORE_URL=postgres://...).
 *
 * Fresh state per test. SQLite gets a new database file each time. For Postgres the URL is used
 * unchanged and, if AIN_TEST_STORE_RESET is set, that shell command runs before every test (e.g.
 * "psql $URL -c 'DROP SCHEMA public CASCADE; CREATE SCHEMA public'"); without it the tests still
 * pass on a shared database because every id is a fresh UUIDv7, but stats assertions are relaxed
 * to "at least".
 *
 * Relies on: store_fixture.h (fixture), store/store.h, libuv, pthreads, the C harness. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "harness.h"
#include "store/store.h"
#include "store_fixture.h"

#define T0 INT64_C(1700000000000) /* a fixed "now": tests pass req->now, no sleeping */
#define LEASE 30000

/* ---- fixture -------------------------------------------------------------------------------- */

/* Exact counts need a database of our own: always true for SQLite, and for Postgres when the
 * reset hook is set. */
/* ---- helpers -------------------------------------------------------------------------------- */

static void mk_task(ain_task_t *t, const char *step) {
  memset(t, 0, sizeof *t);
  ain_uuid7(t->id);
  t->type = "noop";
  t->handler = "noop";
  t->step = (char *)step;
  t->payload = "{\"x\":1}";
}

static void enqueue(fx_t *f, ain_task_t *tasks, size_t n, const ain_dep_t *deps, size_t ndeps,
                    ain_dag_t *dag) {
  ain_store_batch_t b = {.dag = dag, .tasks = tasks, .ntasks = n, .deps = deps, .ndeps = ndeps};
  ain_store_req_t r;
  ain_store_req_enqueue(&r, &b);
  r.now = T0;
  r.actor = "test";
  int rc = ain_store_wait(f->s, &r);
  if (rc != 0) {
    fprintf(stderr, "enqueue: %s\n", r.err.msg);
  }
  ASSERT_OK(rc);
  ain_store_req_cleanup(&r);
}

/* Claims into *r (caller cleans up); returns how many. */
static size_t claim(fx_t *f, ain_store_req_t *r, const char *owner, int max, int64_t now) {
  ain_store_req_claim(r, owner, max, LEASE);
  r->now = now;
  int rc = ain_store_wait(f->s, r);
  if (rc != 0) {
    fprintf(stderr, "claim: %s\n", r->err.msg);
  }
  ASSERT_OK(rc);
  return r->u.claim.ntasks;
}

/* Finishes one task; returns the item (status, new_status, new_version). */
static ain_finish_item_t finish(fx_t *f, const char *id, int64_t version, ain_finish_kind_t kind,
                                const char *text, int64_t now) {
  ain_finish_item_t it = {.task_id = id, .state_version = version, .kind = kind};
  if (kind == AIN_FINISH_SUCCEEDED) {
    it.result = text;
  } else {
    it.error = text;
  }
  ain_store_req_t r;
  ain_store_req_finish(&r, &it, 1);
  r.now = now;
  r.actor = "test";
  int rc = ain_store_wait(f->s, &r);
  if (rc != 0) {
    fprintf(stderr, "finish: %s\n", r.err.msg);
  }
  ASSERT_OK(rc);
  ain_store_req_cleanup(&r);
  return it;
}

/* Reads a task into *out (caller frees with ain_task_free). */
static int get_task(fx_t *f, const char *id, ain_task_t *out) {
  ain_store_req_t r;
  ain_store_req_get_task(&r, id);
  int rc = ain_store_wait(f->s, &r);
  memset(out, 0, sizeof *out);
  if (rc == 0) {
    *out = r.u.get_task.task; /* take ownership of the strings */
    memset(&r.u.get_task.task, 0, sizeof r.u.get_task.task);
  }
  ain_store_req_cleanup(&r);
  return rc;
}

static ain_task_status_t status_of(fx_t *f, const char *id, int64_t *version) {
  ain_task_t t;
  ASSERT_OK(get_task(f, id, &t));
  if (version != NULL) {
    *version = t.state_version;
  }
  ain_task_free(&t);
  return t.status;
}

/* STATS; with open_only, the idle check's cheap form: open statuses as present (1) or not (0),
 * nothing else counted. */
static ain_store_stats_t stats_of(fx_t *f, int open_only) {
  ain_store_req_t r;
  if (open_only) {
    ain_store_req_open_work(&r);
  } else {
    ain_store_req_stats(&r);
  }
  ASSERT_OK(ain_store_wait(f->s, &r));
  ain_store_stats_t st = r.u.stats.stats;
  ain_store_req_cleanup(&r);
  return st;
}

/* ---- tests ---------------------------------------------------------------------------------- */

TEST(migrate_idempotent) {
  fx_t f;
  int applied = -1;
  fx_open_url(&f, fx_fresh_url());
  ASSERT_OK(fx_migrate(&f, &applied));
  if (fx_exclusive_db()) {
    ASSERT_GE(applied, 1);
  }
  ain_store_req_t r;
  ain_store_req_migrate(&r);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.migrate.applied, 0);
  ASSERT_GE(r.u.migrate.version, 1);
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

/* SQLite only: a broken migration rolls back and names its file; earlier ones stay. */
TEST(migrate_failure_rolls_back) {
  if (!fx_exclusive_db() || !fx_is_sqlite(fx_fresh_url())) {
    return;
  }
  char dir[600], cmd[1400];
  snprintf(dir, sizeof dir, "%s/sqlbad", ain_test_tmpdir());
  snprintf(cmd, sizeof cmd,
           "mkdir -p %s/sqlite && echo 'CREATE TABLE a1 (x INTEGER);' > %s/sqlite/001_a.sql && "
           "echo 'CREATE TABLE b2 (x INTEGER); SELEC nonsense;' > %s/sqlite/002_b.sql && "
           "echo 'not a migration' > %s/sqlite/README",
           dir, dir, dir, dir);
  ASSERT_EQ(system(cmd), 0);
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  ain_store_config_t cfg = {.url = fx_fresh_url(), .sql_dir = dir, .synchronous_full = 1};
  ain_store_t *s = NULL;
  ain_err_t err;
  ASSERT_OK(ain_store_open(&cfg, &loop, &s, &err));
  for (int pass = 0; pass < 2; pass++) {
    ain_store_req_t r;
    ain_store_req_migrate(&r);
    ASSERT_EQ(ain_store_wait(s, &r), AIN_ESTORE);
    ASSERT_STR_CONTAINS(r.err.msg, "002_b.sql");
    ASSERT_STR_CONTAINS(r.err.msg, "SELEC");
    ASSERT_EQ(r.u.migrate.applied, pass == 0 ? 1 : 0);
    ASSERT_EQ(r.u.migrate.version, 1);
    ain_store_req_cleanup(&r);
  }
  int closed = 0;
  ain_store_close(s, fx_on_closed, &closed);
  while (!closed) {
    uv_run(&loop, UV_RUN_ONCE);
  }
  ASSERT_EQ(uv_loop_close(&loop), 0);

  /* A missing folder is a configuration error, not a silent no-op. */
  ASSERT_OK(uv_loop_init(&loop));
  cfg.sql_dir = "/nonexistent/ain-sql";
  ASSERT_OK(ain_store_open(&cfg, &loop, &s, &err));
  ain_store_req_t r;
  ain_store_req_migrate(&r);
  ASSERT_EQ(ain_store_wait(s, &r), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(r.err.msg, "/nonexistent/ain-sql/sqlite");
  closed = 0;
  ain_store_close(s, fx_on_closed, &closed);
  while (!closed) {
    uv_run(&loop, UV_RUN_ONCE);
  }
  ASSERT_EQ(uv_loop_close(&loop), 0);
}

/* SQLite only: a file numbered below one already applied (a branch merged late) still runs, and
 * the read-only probe counts it as pending first. */
TEST(migrate_applies_a_late_lower_file) {
  if (!fx_exclusive_db() || !fx_is_sqlite(fx_fresh_url())) {
    return;
  }
  char dir[600], cmd[1400];
  snprintf(dir, sizeof dir, "%s/sqlgap", ain_test_tmpdir());
  snprintf(cmd, sizeof cmd,
           "mkdir -p %s/sqlite && echo 'CREATE TABLE a1 (x INTEGER);' > %s/sqlite/001_a.sql && "
           "echo 'CREATE TABLE c3 (x INTEGER);' > %s/sqlite/003_c.sql",
           dir, dir, dir);
  ASSERT_EQ(system(cmd), 0);
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  ain_store_config_t cfg = {.url = fx_fresh_url(), .sql_dir = dir, .synchronous_full = 1};
  ain_store_t *s = NULL;
  ain_err_t err;
  ASSERT_OK(ain_store_open(&cfg, &loop, &s, &err));
  ain_store_req_t r;
  ain_store_req_migrate(&r);
  ASSERT_OK(ain_store_wait(s, &r));
  ASSERT_EQ(r.u.migrate.applied, 2);
  ASSERT_EQ(r.u.migrate.version, 3);
  ain_store_req_cleanup(&r);

  snprintf(cmd, sizeof cmd, "echo 'CREATE TABLE b2 (x INTEGER);' > %s/sqlite/002_b.sql", dir);
  ASSERT_EQ(system(cmd), 0);
  ain_store_req_migrate(&r);
  r.u.migrate.check_only = 1;
  ASSERT_OK(ain_store_wait(s, &r));
  ASSERT_EQ(r.u.migrate.pending, 1);
  ain_store_req_cleanup(&r);
  for (int pass = 0; pass < 2; pass++) {
    ain_store_req_migrate(&r);
    ASSERT_OK(ain_store_wait(s, &r));
    ASSERT_EQ(r.u.migrate.applied, pass == 0 ? 1 : 0);
    ASSERT_EQ(r.u.migrate.version, 3);
    ain_store_req_cleanup(&r);
  }
  int closed = 0;
  ain_store_close(s, fx_on_closed, &closed);
  while (!closed) {
    uv_run(&loop, UV_RUN_ONCE);
  }
  ASSERT_EQ(uv_loop_close(&loop), 0);
}

TEST(happy_path_audit_versions) {
  fx_t f;
  fx_open(&f);
  ain_task_t t;
  mk_task(&t, NULL);
  t.priority = 3;
  enqueue(&f, &t, 1, NULL, 0, NULL);

  ain_store_req_t r;
  ASSERT_EQ(claim(&f, &r, "node1/0", 10, T0 + 10), 1);
  ain_task_t *c = &r.u.claim.tasks[0];
  ASSERT_STR_EQ(c->id, t.id);
  ASSERT_EQ(c->status, AIN_TASK_RUNNING);
  ASSERT_EQ(c->attempts, 1);
  ASSERT_EQ(c->max_attempts, 3);
  ASSERT_EQ(c->state_version, 1);
  ASSERT_EQ(c->priority, 3);
  ASSERT_EQ(c->lease_until, T0 + 10 + LEASE);
  ASSERT_STR_EQ(c->lease_owner, "node1/0");
  ASSERT_STR_EQ(c->payload, "{\"x\":1}");
  ASSERT_STR_EQ(c->type, "noop");
  ASSERT_NULL(c->deps_result);
  int64_t v = c->state_version;
  ain_store_req_cleanup(&r);
  ASSERT_EQ(claim(&f, &r, "node1/1", 10, T0 + 20), 0);
  ain_store_req_cleanup(&r);

  ain_finish_item_t it = {.task_id = t.id,
                          .state_version = v,
                          .kind = AIN_FINISH_SUCCEEDED,
                          .result = "{\"ok\":true}",
                          .detail = "{\"policy\":\"abc\"}"};
  ain_store_req_finish(&r, &it, 1);
  r.now = T0 + 30;
  r.actor = "node1/0";
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(it.status, 0);
  ASSERT_EQ(it.new_status, AIN_TASK_SUCCEEDED);
  ASSERT_EQ(it.new_version, 2);
  ain_store_req_cleanup(&r);

  ain_task_t got;
  ASSERT_OK(get_task(&f, t.id, &got));
  ASSERT_EQ(got.status, AIN_TASK_SUCCEEDED);
  ASSERT_EQ(got.state_version, 2);
  ASSERT_STR_EQ(got.result, "{\"ok\":true}");
  ASSERT_NULL(got.lease_owner);
  ain_task_free(&got);

  ain_store_req_audit(&r, t.id, NULL);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.audit.nrows, 3);
  const char *to[] = {"ready", "running", "succeeded"};
  for (size_t i = 0; i < 3; i++) {
    ain_audit_t *a = &r.u.audit.rows[i];
    ASSERT_STR_EQ(a->task_id, t.id);
    ASSERT_STR_EQ(a->to_status, to[i]);
    ASSERT_EQ(a->state_version, (int64_t)i);
    if (i > 0) {
      ASSERT_STR_EQ(a->from_status, to[i - 1]);
      ASSERT_TRUE(a->id > r.u.audit.rows[i - 1].id);
    }
  }
  ASSERT_NULL(r.u.audit.rows[0].from_status);
  ASSERT_STR_EQ(r.u.audit.rows[1].actor, "node1/0");
  ASSERT_STR_CONTAINS(r.u.audit.rows[2].detail, "abc");
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

TEST(occ_conflict_stale_version) {
  fx_t f;
  fx_open(&f);
  ain_task_t t;
  mk_task(&t, NULL);
  enqueue(&f, &t, 1, NULL, 0, NULL);
  ain_store_req_t r;
  ASSERT_EQ(claim(&f, &r, "w", 1, T0), 1);
  int64_t v = r.u.claim.tasks[0].state_version;
  ain_store_req_cleanup(&r);

  ain_finish_item_t it = finish(&f, t.id, v - 1, AIN_FINISH_SUCCEEDED, "{}", T0 + 1);
  ASSERT_EQ(it.status, AIN_ECONFLICT);
  int64_t now_v;
  ASSERT_EQ(status_of(&f, t.id, &now_v), AIN_TASK_RUNNING);
  ASSERT_EQ(now_v, v);
  it = finish(&f, t.id, v, AIN_FINISH_SUCCEEDED, "{}", T0 + 2);
  ASSERT_EQ(it.status, 0);
  /* Finishing twice with the same token is fenced out too. */
  it = finish(&f, t.id, v, AIN_FINISH_SUCCEEDED, "{}", T0 + 3);
  ASSERT_EQ(it.status, AIN_ECONFLICT);
  fx_close(&f);
}

TEST(lease_expiry_reap_and_late_finish) {
  fx_t f;
  fx_open(&f);
  ain_task_t t;
  mk_task(&t, NULL);
  enqueue(&f, &t, 1, NULL, 0, NULL);
  ain_store_req_t r;
  ASSERT_EQ(claim(&f, &r, "old-owner", 1, T0), 1);
  int64_t v_old = r.u.claim.tasks[0].state_version;
  ain_store_req_cleanup(&r);

  ain_store_req_reap(&r);
  r.now = T0 + LEASE - 1; /* not yet expired */
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.reap.reclaimed, 0);
  ain_store_req_reap(&r);
  r.now = T0 + LEASE + 1;
  r.actor = "reaper";
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.reap.reclaimed, 1);
  ASSERT_EQ(r.u.reap.dead, 0);
  ain_store_req_cleanup(&r);

  ain_task_t got;
  ASSERT_OK(get_task(&f, t.id, &got));
  ASSERT_EQ(got.status, AIN_TASK_READY);
  ASSERT_EQ(got.state_version, v_old + 1);
  ASSERT_NULL(got.lease_owner);
  ain_task_free(&got);

  ASSERT_EQ(claim(&f, &r, "new-owner", 1, T0 + LEASE + 2), 1);
  int64_t v_new = r.u.claim.tasks[0].state_version;
  ASSERT_EQ(r.u.claim.tasks[0].attempts, 2);
  ain_store_req_cleanup(&r);

  ain_finish_item_t it =
      finish(&f, t.id, v_old, AIN_FINISH_SUCCEEDED, "{\"by\":\"old\"}", T0 + LEASE + 3);
  ASSERT_EQ(it.status, AIN_ECONFLICT);
  ASSERT_OK(get_task(&f, t.id, &got));
  ASSERT_EQ(got.status, AIN_TASK_RUNNING);
  ASSERT_EQ(got.state_version, v_new);
  ASSERT_STR_EQ(got.lease_owner, "new-owner");
  ASSERT_NULL(got.result);
  ain_task_free(&got);

  it = finish(&f, t.id, v_new, AIN_FINISH_SUCCEEDED, "{\"by\":\"new\"}", T0 + LEASE + 4);
  ASSERT_EQ(it.status, 0);
  ASSERT_OK(get_task(&f, t.id, &got));
  ASSERT_STR_EQ(got.result, "{\"by\":\"new\"}");
  ain_task_free(&got);

  ain_store_req_audit(&r, t.id, NULL);
  ASSERT_OK(ain_store_wait(f.s, &r));
  int found = 0;
  for (size_t i = 0; i < r.u.audit.nrows; i++) {
    ain_audit_t *a = &r.u.audit.rows[i];
    if (a->actor != NULL && strcmp(a->actor, "reaper") == 0) {
      ASSERT_STR_EQ(a->from_status, "running");
      ASSERT_STR_EQ(a->to_status, "ready");
      ASSERT_STR_CONTAINS(a->detail, "lease expired");
      ASSERT_STR_CONTAINS(a->detail, "old-owner");
      found++;
    }
  }
  ASSERT_EQ(found, 1);
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

TEST(retry_waits_for_run_at) {
  fx_t f;
  fx_open(&f);
  ain_task_t t;
  mk_task(&t, NULL);
  enqueue(&f, &t, 1, NULL, 0, NULL);
  ain_store_req_t r;
  ASSERT_EQ(claim(&f, &r, "w", 1, T0), 1);
  int64_t v = r.u.claim.tasks[0].state_version;
  ain_store_req_cleanup(&r);

  ain_finish_item_t it = {.task_id = t.id,
                          .state_version = v,
                          .kind = AIN_FINISH_RETRY,
                          .error = "EIO: boom",
                          .retry_at = T0 + 10000};
  ain_store_req_finish(&r, &it, 1);
  r.now = T0 + 1;
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(it.status, 0);
  ASSERT_EQ(it.new_status, AIN_TASK_READY);
  ASSERT_EQ(it.new_version, v + 1);

  ain_task_t got;
  ASSERT_OK(get_task(&f, t.id, &got));
  ASSERT_STR_EQ(got.last_error, "EIO: boom");
  ASSERT_EQ(got.run_at, T0 + 10000);
  ain_task_free(&got);

  ASSERT_EQ(claim(&f, &r, "w", 1, T0 + 9999), 0);
  ain_store_req_cleanup(&r);
  ASSERT_EQ(claim(&f, &r, "w", 1, T0 + 10000), 1);
  ASSERT_EQ(r.u.claim.tasks[0].attempts, 2);
  ain_store_req_cleanup(&r);

  ain_store_req_audit(&r, t.id, NULL);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.audit.nrows, 4);
  ASSERT_STR_EQ(r.u.audit.rows[2].to_status, "ready");
  ASSERT_STR_CONTAINS(r.u.audit.rows[2].detail, "boom");
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

TEST(dead_letter_after_max_attempts) {
  fx_t f;
  fx_open(&f);
  ain_task_t t[2];
  mk_task(&t[0], NULL);
  mk_task(&t[1], NULL);
  t[0].max_attempts = 2;
  t[1].max_attempts = 1;
  t[1].run_at = T0 + 100000; /* claimed later, for the reaper path */
  enqueue(&f, t, 2, NULL, 0, NULL);
  ain_store_req_t r;
  ain_finish_item_t it;
  for (int attempt = 1; attempt <= 2; attempt++) {
    ASSERT_EQ(claim(&f, &r, "w", 1, T0 + attempt), 1);
    ASSERT_STR_EQ(r.u.claim.tasks[0].id, t[0].id);
    int64_t v = r.u.claim.tasks[0].state_version;
    ain_store_req_cleanup(&r);
    it = finish(&f, t[0].id, v, AIN_FINISH_RETRY, "EIO: again", T0 + attempt);
    ASSERT_EQ(it.status, 0);
    ASSERT_EQ(it.new_status, attempt < 2 ? AIN_TASK_READY : AIN_TASK_DEAD);
  }
  ASSERT_EQ(status_of(&f, t[0].id, NULL), AIN_TASK_DEAD);

  /* The reaper dead-letters an expired lease with no attempts left. */
  ASSERT_EQ(claim(&f, &r, "w", 1, T0 + 100000), 1);
  ain_store_req_cleanup(&r);
  ain_store_req_reap(&r);
  r.now = T0 + 100000 + LEASE + 1;
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.reap.reclaimed, 0);
  ASSERT_EQ(r.u.reap.dead, 1);
  ASSERT_EQ(status_of(&f, t[1].id, NULL), AIN_TASK_DEAD);
  if (fx_exclusive_db()) {
    ASSERT_EQ(stats_of(&f, 0).tasks[AIN_TASK_DEAD], 2);
  }
  fx_close(&f);
}

TEST(fail_fails_dag_and_cancels_rest) {
  fx_t f;
  fx_open(&f);
  ain_dag_t dag = {0};
  ain_uuid7(dag.id);
  ain_task_t t[3];
  mk_task(&t[0], "script");
  mk_task(&t[1], "tts");
  mk_task(&t[2], "assets");
  ain_dep_t deps[] = {{t[1].id, t[0].id}};
  enqueue(&f, t, 3, deps, 1, &dag);
  ain_store_req_t r;
  ASSERT_EQ(claim(&f, &r, "w", 10, T0), 2); /* script and assets; tts waits */
  int64_t va = 0, vc = 0;
  for (size_t i = 0; i < 2; i++) {
    ain_task_t *c = &r.u.claim.tasks[i];
    if (strcmp(c->id, t[0].id) == 0) {
      va = c->state_version;
    } else {
      ASSERT_STR_EQ(c->id, t[2].id);
      vc = c->state_version;
    }
  }
  ain_store_req_cleanup(&r);

  ain_finish_item_t it = finish(&f, t[0].id, va, AIN_FINISH_FAIL, "ELUA: bad script", T0 + 1);
  ASSERT_EQ(it.status, 0);
  ASSERT_EQ(it.new_status, AIN_TASK_DEAD);
  ASSERT_EQ(status_of(&f, t[1].id, NULL), AIN_TASK_CANCELLED);
  ASSERT_EQ(status_of(&f, t[2].id, NULL), AIN_TASK_CANCELLED);

  /* The running sibling was cancelled under its worker: its finish is fenced out. */
  it = finish(&f, t[2].id, vc, AIN_FINISH_SUCCEEDED, "{}", T0 + 2);
  ASSERT_EQ(it.status, AIN_ECONFLICT);
  ASSERT_EQ(status_of(&f, t[2].id, NULL), AIN_TASK_CANCELLED);

  ain_store_req_get_dag(&r, dag.id);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.get_dag.dag.status, AIN_DAG_FAILED);
  ASSERT_EQ(r.u.get_dag.dag.state_version, 1);
  ASSERT_STR_CONTAINS(r.u.get_dag.dag.last_error, "script");
  ASSERT_STR_CONTAINS(r.u.get_dag.dag.last_error, "bad script");
  ain_store_req_cleanup(&r);

  ain_store_req_audit(&r, NULL, dag.id);
  ASSERT_OK(ain_store_wait(f.s, &r));
  int dag_rows = 0, cancels = 0;
  for (size_t i = 0; i < r.u.audit.nrows; i++) {
    ain_audit_t *a = &r.u.audit.rows[i];
    if (a->task_id == NULL) {
      dag_rows++;
      ASSERT_STR_EQ(a->to_status, "failed");
    } else if (strcmp(a->to_status, "cancelled") == 0) {
      cancels++;
    }
  }
  ASSERT_EQ(dag_rows, 1);
  ASSERT_EQ(cancels, 2);
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

TEST(diamond_dag) {
  fx_t f;
  fx_open(&f);
  ain_dag_t dag = {0};
  ain_uuid7(dag.id);
  ain_uuid7(dag.root_task_id);
  ain_task_t t[4];
  const char *names[] = {"a", "b", "c", "d"};
  for (int i = 0; i < 4; i++) {
    mk_task(&t[i], names[i]);
  }
  ain_dep_t deps[] = {
      {t[1].id, t[0].id}, {t[2].id, t[0].id}, {t[3].id, t[1].id}, {t[3].id, t[2].id}};
  enqueue(&f, t, 4, deps, 4, &dag);
  ain_task_t got;
  ASSERT_OK(get_task(&f, t[3].id, &got));
  ASSERT_EQ(got.status, AIN_TASK_PENDING);
  ASSERT_EQ(got.deps_pending, 2);
  ain_task_free(&got);

  ain_store_req_t r;
  ASSERT_EQ(claim(&f, &r, "w", 10, T0), 1);
  ASSERT_STR_EQ(r.u.claim.tasks[0].id, t[0].id);
  ASSERT_EQ(
      finish(&f, t[0].id, r.u.claim.tasks[0].state_version, AIN_FINISH_SUCCEEDED, "{\"a\":1}", T0)
          .status,
      0);
  ain_store_req_cleanup(&r);

  ASSERT_EQ(claim(&f, &r, "w", 10, T0 + 1), 2);
  int64_t vb = 0, vc = 0;
  for (size_t i = 0; i < 2; i++) {
    ain_task_t *c = &r.u.claim.tasks[i];
    ASSERT_NOT_NULL(c->deps_result);
    ASSERT_STR_CONTAINS(c->deps_result, "\"a\"");
    if (strcmp(c->id, t[1].id) == 0) {
      vb = c->state_version;
    } else {
      vc = c->state_version;
    }
  }
  ain_store_req_cleanup(&r);
  ASSERT_EQ(finish(&f, t[1].id, vb, AIN_FINISH_SUCCEEDED, "{\"b\":2}", T0 + 2).status, 0);
  ASSERT_OK(get_task(&f, t[3].id, &got));
  ASSERT_EQ(got.status, AIN_TASK_PENDING);
  ASSERT_EQ(got.deps_pending, 1);
  ain_task_free(&got);
  ASSERT_EQ(claim(&f, &r, "w", 10, T0 + 3), 0);
  ain_store_req_cleanup(&r);

  ASSERT_EQ(finish(&f, t[2].id, vc, AIN_FINISH_SUCCEEDED, "{\"c\":3}", T0 + 4).status, 0);
  ASSERT_EQ(claim(&f, &r, "w", 10, T0 + 5), 1);
  ain_task_t *d = &r.u.claim.tasks[0];
  ASSERT_STR_EQ(d->id, t[3].id);
  ASSERT_STR_CONTAINS(d->deps_result, "\"b\"");
  ASSERT_STR_CONTAINS(d->deps_result, "\"c\"");
  ASSERT_STR_CONTAINS(d->deps_result, "3");
  int64_t vd = d->state_version;
  ain_store_req_cleanup(&r);

  ain_store_req_get_dag(&r, dag.id);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.get_dag.dag.status, AIN_DAG_RUNNING);
  ASSERT_EQ(r.u.get_dag.dag.steps_done, 3);
  ain_store_req_cleanup(&r);

  ASSERT_EQ(finish(&f, t[3].id, vd, AIN_FINISH_SUCCEEDED, "{}", T0 + 6).status, 0);
  ain_store_req_get_dag(&r, dag.id);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.get_dag.dag.status, AIN_DAG_SUCCEEDED);
  ASSERT_EQ(r.u.get_dag.dag.steps_total, 4);
  ASSERT_EQ(r.u.get_dag.dag.steps_done, 4);
  ASSERT_EQ(r.u.get_dag.dag.state_version, 1);
  ASSERT_STR_EQ(r.u.get_dag.dag.root_task_id, dag.root_task_id);
  ASSERT_EQ(r.u.get_dag.ntasks, 4);
  for (int i = 0; i < 4; i++) {
    ASSERT_STR_EQ(r.u.get_dag.tasks[i].id, t[i].id); /* creation order */
    ASSERT_STR_EQ(r.u.get_dag.tasks[i].dag_id, dag.id);
  }
  ASSERT_EQ(r.u.get_dag.ndeps, 4);
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

TEST(fan_out_50) {
  fx_t f;
  fx_open(&f);
  enum { N = 50 };
  ain_task_t t[N + 1];
  ain_dep_t deps[N];
  mk_task(&t[0], "root");
  char steps[N][16];
  for (int i = 1; i <= N; i++) {
    snprintf(steps[i - 1], sizeof steps[0], "leaf%d", i);
    mk_task(&t[i], steps[i - 1]);
    deps[i - 1] = (ain_dep_t){t[i].id, t[0].id};
  }
  ain_dag_t dag = {0};
  ain_uuid7(dag.id);
  enqueue(&f, t, N + 1, deps, N, &dag);
  ain_store_req_t r;
  ASSERT_EQ(claim(&f, &r, "w", 100, T0), 1);
  ASSERT_EQ(finish(&f, t[0].id, r.u.claim.tasks[0].state_version, AIN_FINISH_SUCCEEDED,
                   "{\"root\":true}", T0)
                .status,
            0);
  ain_store_req_cleanup(&r);
  ASSERT_EQ(claim(&f, &r, "w", 100, T0 + 1), N);
  ain_finish_item_t items[N];
  for (int i = 0; i < N; i++) {
    ASSERT_STR_CONTAINS(r.u.claim.tasks[i].deps_result, "root");
    items[i] = (ain_finish_item_t){.task_id = r.u.claim.tasks[i].id,
                                   .state_version = r.u.claim.tasks[i].state_version,
                                   .kind = AIN_FINISH_SUCCEEDED};
  }
  ain_store_req_t fr;
  ain_store_req_finish(&fr, items, N);
  fr.now = T0 + 2;
  ASSERT_OK(ain_store_wait(f.s, &fr));
  for (int i = 0; i < N; i++) {
    ASSERT_EQ(items[i].status, 0);
  }
  ain_store_req_cleanup(&fr);
  ain_store_req_cleanup(&r);
  ain_store_req_get_dag(&r, dag.id);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.get_dag.dag.status, AIN_DAG_SUCCEEDED);
  ASSERT_EQ(r.u.get_dag.dag.steps_done, N + 1);
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

TEST(priority_and_run_at_order) {
  fx_t f;
  fx_open(&f);
  ain_task_t t[5];
  for (int i = 0; i < 5; i++) {
    mk_task(&t[i], NULL);
  }
  t[0].priority = 0, t[0].run_at = T0 - 10;
  t[1].priority = 10, t[1].run_at = T0 - 1;
  t[2].priority = 5, t[2].run_at = T0 - 5;
  t[3].priority = 0, t[3].run_at = T0 - 20;
  t[4].priority = 100, t[4].run_at = T0 + 1000; /* not due yet */
  enqueue(&f, t, 5, NULL, 0, NULL);
  const int expect[] = {1, 2, 3, 0};
  ain_store_req_t r;
  for (int i = 0; i < 4; i++) {
    ASSERT_EQ(claim(&f, &r, "w", 1, T0), 1);
    ASSERT_STR_EQ(r.u.claim.tasks[0].id, t[expect[i]].id);
    ain_store_req_cleanup(&r);
  }
  ASSERT_EQ(claim(&f, &r, "w", 1, T0), 0);
  ain_store_req_cleanup(&r);
  /* A batch comes back in claim order too. */
  ASSERT_EQ(claim(&f, &r, "w", 5, T0 + 1000), 1);
  ASSERT_STR_EQ(r.u.claim.tasks[0].id, t[4].id);
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

TEST(cancel_task_and_dag) {
  fx_t f;
  fx_open(&f);
  ain_task_t solo;
  mk_task(&solo, NULL);
  enqueue(&f, &solo, 1, NULL, 0, NULL);
  ain_store_req_t r;
  ain_store_req_cancel(&r, solo.id, NULL, "operator said so");
  r.actor = "operator:cli";
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.cancel.cancelled, 1);
  int64_t v;
  ASSERT_EQ(status_of(&f, solo.id, &v), AIN_TASK_CANCELLED);
  ASSERT_EQ(v, 1);
  ain_store_req_cancel(&r, solo.id, NULL, "again");
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.cancel.cancelled, 0); /* already terminal */

  ain_dag_t dag = {0};
  ain_uuid7(dag.id);
  ain_task_t t[3];
  for (int i = 0; i < 3; i++) {
    mk_task(&t[i], NULL);
  }
  ain_dep_t deps[] = {{t[2].id, t[1].id}};
  enqueue(&f, t, 3, deps, 1, &dag);
  ASSERT_EQ(claim(&f, &r, "w", 1, T0), 1);
  ASSERT_EQ(finish(&f, r.u.claim.tasks[0].id, r.u.claim.tasks[0].state_version,
                   AIN_FINISH_SUCCEEDED, "{}", T0)
                .status,
            0);
  ain_store_req_cleanup(&r);
  ain_store_req_cancel(&r, NULL, dag.id, "changed my mind");
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.cancel.cancelled, 2); /* the succeeded one stays succeeded */
  ain_store_req_get_dag(&r, dag.id);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.get_dag.dag.status, AIN_DAG_CANCELLED);
  int succeeded = 0, cancelled = 0;
  for (size_t i = 0; i < r.u.get_dag.ntasks; i++) {
    succeeded += r.u.get_dag.tasks[i].status == AIN_TASK_SUCCEEDED;
    cancelled += r.u.get_dag.tasks[i].status == AIN_TASK_CANCELLED;
  }
  ASSERT_EQ(succeeded, 1);
  ASSERT_EQ(cancelled, 2);
  ain_store_req_cleanup(&r);

  char unknown[AIN_UUID_LEN + 1];
  ain_uuid7(unknown);
  ain_store_req_cancel(&r, unknown, NULL, NULL);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_ENOTFOUND);
  ASSERT_STR_CONTAINS(r.err.msg, unknown);
  ain_store_req_cancel(&r, NULL, unknown, NULL);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_ENOTFOUND);
  ain_store_req_cancel(&r, NULL, NULL, NULL);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  fx_close(&f);
}

TEST(duplicate_id_rejected_nothing_written) {
  fx_t f;
  fx_open(&f);
  ain_task_t x;
  mk_task(&x, NULL);
  enqueue(&f, &x, 1, NULL, 0, NULL);
  ain_task_t b[2];
  mk_task(&b[0], NULL);
  b[1] = x;
  ain_dag_t dag = {0};
  ain_uuid7(dag.id);
  ain_store_batch_t batch = {.dag = &dag, .tasks = b, .ntasks = 2};
  ain_store_req_t r;
  ain_store_req_enqueue(&r, &batch);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EEXIST);
  ASSERT_STR_CONTAINS(r.err.msg, x.id);
  ain_task_t got;
  ASSERT_EQ(get_task(&f, b[0].id, &got), AIN_ENOTFOUND);
  ain_store_req_get_dag(&r, dag.id);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_ENOTFOUND);
  ASSERT_STR_CONTAINS(r.err.msg, dag.id);
  ain_store_req_cleanup(&r);

  /* Twice in one batch. */
  ain_task_t twice[2];
  mk_task(&twice[0], NULL);
  twice[1] = twice[0];
  batch = (ain_store_batch_t){.tasks = twice, .ntasks = 2};
  ain_store_req_enqueue(&r, &batch);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EEXIST);
  ASSERT_EQ(get_task(&f, twice[0].id, &got), AIN_ENOTFOUND);
  if (fx_exclusive_db()) {
    ain_store_stats_t st = stats_of(&f, 0);
    ASSERT_EQ(st.tasks[AIN_TASK_READY], 1);
    ASSERT_EQ(st.dags[AIN_DAG_RUNNING], 0);
  }
  fx_close(&f);
}

/* ---- two threads, two handles, two loops ---------------------------------------------------- */

enum { CONC_TASKS = 2000 };

typedef struct {
  const char *url;
  char (*ids)[AIN_UUID_LEN + 1]; /* what this thread claimed */
  size_t n;
  int conflicts;
} worker_t;

static void *claim_worker(void *arg) {
  worker_t *w = arg;
  fx_t f;
  fx_open_url(&f, w->url);
  char owner[32];
  snprintf(owner, sizeof owner, "thread-%p", (void *)w);
  for (;;) {
    ain_store_req_t r;
    ain_store_req_claim(&r, owner, 37, LEASE);
    ASSERT_OK(ain_store_wait(f.s, &r));
    size_t n = r.u.claim.ntasks;
    if (n == 0) {
      ain_store_req_cleanup(&r);
      break;
    }
    ain_finish_item_t items[37];
    for (size_t i = 0; i < n; i++) {
      memcpy(w->ids[w->n++], r.u.claim.tasks[i].id, AIN_UUID_LEN + 1);
      items[i] = (ain_finish_item_t){.task_id = r.u.claim.tasks[i].id,
                                     .state_version = r.u.claim.tasks[i].state_version,
                                     .kind = AIN_FINISH_SUCCEEDED};
    }
    ain_store_req_t fr;
    ain_store_req_finish(&fr, items, n);
    ASSERT_OK(ain_store_wait(f.s, &fr));
    for (size_t i = 0; i < n; i++) {
      w->conflicts += items[i].status != 0;
    }
    ain_store_req_cleanup(&r);
  }
  fx_close(&f);
  return NULL;
}

static int cmp_id(const void *a, const void *b) {
  return strcmp(a, b);
}

TEST(concurrent_claims_never_twice) {
  fx_t f;
  fx_open(&f);
  ain_task_t *t = calloc(CONC_TASKS, sizeof *t);
  for (int i = 0; i < CONC_TASKS; i++) {
    mk_task(&t[i], NULL);
  }
  ain_store_batch_t b = {.tasks = t, .ntasks = CONC_TASKS};
  ain_store_req_t r;
  ain_store_req_enqueue(&r, &b);
  r.now = T0; /* in the past, so claimable at the workers' real now */
  ASSERT_OK(ain_store_wait(f.s, &r));
  worker_t w[2];
  pthread_t th[2];
  char(*all)[AIN_UUID_LEN + 1] = calloc(2 * CONC_TASKS, AIN_UUID_LEN + 1);
  for (int i = 0; i < 2; i++) {
    w[i] = (worker_t){.url = f.url, .ids = all + i * CONC_TASKS};
    ASSERT_OK(pthread_create(&th[i], NULL, claim_worker, &w[i]));
  }
  for (int i = 0; i < 2; i++) {
    ASSERT_OK(pthread_join(th[i], NULL));
  }
  fprintf(stderr, "# thread claims: %zu + %zu\n", w[0].n, w[1].n);
  ASSERT_EQ(w[0].n + w[1].n, CONC_TASKS);
  ASSERT_EQ(w[0].conflicts + w[1].conflicts, 0);
  /* Pack and sort: any id claimed twice would sit next to itself. */
  memmove(all + w[0].n, all + CONC_TASKS, w[1].n * (AIN_UUID_LEN + 1));
  qsort(all, CONC_TASKS, AIN_UUID_LEN + 1, cmp_id);
  for (int i = 1; i < CONC_TASKS; i++) {
    ASSERT_TRUE(strcmp(all[i - 1], all[i]) != 0);
  }
  if (fx_exclusive_db()) {
    ASSERT_EQ(stats_of(&f, 0).tasks[AIN_TASK_SUCCEEDED], CONC_TASKS);
  }
  free(all);
  free(t);
  fx_close(&f);
}

TEST(extend_is_fenced) {
  fx_t f;
  fx_open(&f);
  ain_task_t t;
  mk_task(&t, NULL);
  enqueue(&f, &t, 1, NULL, 0, NULL);
  ain_store_req_t r;
  ASSERT_EQ(claim(&f, &r, "w", 1, T0), 1);
  int64_t v1 = r.u.claim.tasks[0].state_version;
  ain_store_req_cleanup(&r);

  ain_extend_item_t ex[2] = {{.task_id = t.id, .state_version = v1, .lease_until = T0 + 99999},
                             {.task_id = t.id, .state_version = v1, .lease_until = T0 + 5}};
  ain_store_req_extend(&r, ex, 2);
  r.now = T0 + 10;
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(ex[0].status, 0);
  ASSERT_EQ(ex[0].new_version, v1 + 1);
  ASSERT_EQ(ex[1].status, AIN_ECONFLICT); /* same token, already used */
  ain_task_t got;
  ASSERT_OK(get_task(&f, t.id, &got));
  ASSERT_EQ(got.lease_until, T0 + 99999);
  ASSERT_EQ(got.state_version, v1 + 1);
  ain_task_free(&got);

  /* The reaper respects the extension. */
  ain_store_req_reap(&r);
  r.now = T0 + LEASE + 1;
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.reap.reclaimed, 0);
  ASSERT_EQ(finish(&f, t.id, v1, AIN_FINISH_SUCCEEDED, "{}", T0 + 11).status, AIN_ECONFLICT);
  ASSERT_EQ(finish(&f, t.id, v1 + 1, AIN_FINISH_SUCCEEDED, "{}", T0 + 12).status, 0);
  /* Extending a finished task is a conflict as well. */
  ex[0].state_version = v1 + 2;
  ain_store_req_extend(&r, ex, 1);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(ex[0].status, AIN_ECONFLICT);
  fx_close(&f);
}

/* The cancel watch's read-only check: it sees a cancel from elsewhere and writes nothing. */
TEST(lease_check_sees_cancel) {
  fx_t f;
  fx_open(&f);
  ain_task_t t[2];
  mk_task(&t[0], NULL);
  mk_task(&t[1], NULL);
  enqueue(&f, t, 2, NULL, 0, NULL);
  ain_store_req_t r;
  ASSERT_EQ(claim(&f, &r, "w", 2, T0), 2);
  int64_t v[2];
  for (int i = 0; i < 2; i++) {
    int k = strcmp(r.u.claim.tasks[i].id, t[0].id) == 0 ? 0 : 1;
    v[k] = r.u.claim.tasks[i].state_version;
  }
  ain_store_req_cleanup(&r);
  ain_extend_item_t ck[4] = {{.task_id = t[0].id, .state_version = v[0]},
                             {.task_id = t[1].id, .state_version = v[1]},
                             {.task_id = t[1].id, .state_version = v[1] - 1},
                             {.task_id = "01890000-0000-7000-8000-000000000000", .state_version = 1}};
  ain_store_req_lease_check(&r, ck, 4);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(ck[0].status, 0);
  ASSERT_EQ(ck[1].status, 0);
  ASSERT_EQ(ck[2].status, AIN_ECONFLICT); /* an old token */
  ASSERT_EQ(ck[3].status, AIN_ECONFLICT); /* no such task */
  ain_task_t got;
  ASSERT_OK(get_task(&f, t[0].id, &got));
  ASSERT_EQ(got.state_version, v[0]); /* read only: no version bump, lease untouched */
  ASSERT_EQ(got.lease_until, T0 + LEASE);
  ain_task_free(&got);

  ain_store_req_cancel(&r, t[0].id, NULL, "operator");
  ASSERT_OK(ain_store_wait(f.s, &r));
  ain_store_req_cleanup(&r);
  ain_store_req_lease_check(&r, ck, 2);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(ck[0].status, AIN_ECONFLICT); /* cancelled */
  ASSERT_EQ(ck[1].status, 0);
  fx_close(&f);
}

TEST(release_gives_attempt_back) {
  fx_t f;
  fx_open(&f);
  ain_task_t t;
  mk_task(&t, NULL);
  enqueue(&f, &t, 1, NULL, 0, NULL);
  ain_store_req_t r;
  ASSERT_EQ(claim(&f, &r, "w", 1, T0), 1);
  ASSERT_EQ(r.u.claim.tasks[0].attempts, 1);
  int64_t v = r.u.claim.tasks[0].state_version;
  ain_store_req_cleanup(&r);
  ain_finish_item_t it = finish(&f, t.id, v, AIN_FINISH_RELEASE, NULL, T0 + 1);
  ASSERT_EQ(it.status, 0);
  ASSERT_EQ(it.new_status, AIN_TASK_READY);
  ASSERT_EQ(it.new_version, v + 1);
  ain_task_t got;
  ASSERT_OK(get_task(&f, t.id, &got));
  ASSERT_EQ(got.attempts, 0);
  ASSERT_NULL(got.lease_owner);
  ain_task_free(&got);
  ASSERT_EQ(claim(&f, &r, "w2", 1, T0 + 2), 1);
  ASSERT_EQ(r.u.claim.tasks[0].attempts, 1);
  ASSERT_EQ(r.u.claim.tasks[0].state_version, v + 2);
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

TEST(stats_and_list) {
  fx_t f;
  fx_open(&f);
  ain_dag_t dag = {0};
  ain_uuid7(dag.id);
  ain_task_t t[4];
  for (int i = 0; i < 4; i++) {
    mk_task(&t[i], NULL);
  }
  t[3].run_at = T0 + 500;
  ain_dep_t deps[] = {{t[2].id, t[1].id}};
  enqueue(&f, t, 4, deps, 1, &dag);
  ain_store_req_t r;
  ASSERT_EQ(claim(&f, &r, "w", 1, T0), 1); /* t[0] or t[1] (same priority/run_at: by id) */
  ain_store_req_cleanup(&r);
  if (fx_exclusive_db()) {
    ain_store_stats_t st = stats_of(&f, 0);
    ASSERT_EQ(st.tasks[AIN_TASK_RUNNING], 1);
    ASSERT_EQ(st.tasks[AIN_TASK_READY], 2);
    ASSERT_EQ(st.tasks[AIN_TASK_PENDING], 1);
    ASSERT_EQ(st.dags[AIN_DAG_RUNNING], 1);
    ASSERT_EQ(st.next_run_at, T0);
  }
  ain_store_req_list(&r, AIN_TASK_READY, dag.id, 10);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.list.ntasks, 2);
  for (size_t i = 0; i < r.u.list.ntasks; i++) {
    ASSERT_EQ(r.u.list.tasks[i].status, AIN_TASK_READY);
  }
  ASSERT_STR_EQ(r.u.list.tasks[0].id, t[3].id); /* newest first */
  ain_store_req_cleanup(&r);
  ain_store_req_list(&r, -1, dag.id, 2);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.list.ntasks, 2);
  ain_store_req_cleanup(&r);
  ain_store_req_list(&r, 99, NULL, 2);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  fx_close(&f);
}

/* ---- LIST_DAGS ------------------------------------------------------------------------------ */

/* A one-task DAG of persona ns created at now (its id in dag->id). */
static void mk_dag_at(fx_t *f, ain_dag_t *dag, const char *ns, int64_t now) {
  memset(dag, 0, sizeof *dag);
  ain_uuid7(dag->id);
  dag->persona_id = (char *)ns;
  ain_task_t t;
  mk_task(&t, "only");
  ain_store_batch_t b = {.dag = dag, .tasks = &t, .ntasks = 1};
  ain_store_req_t r;
  ain_store_req_enqueue(&r, &b);
  r.now = now;
  r.actor = "test";
  ASSERT_OK(ain_store_wait(f->s, &r));
  ain_store_req_cleanup(&r);
}

/* List order: created_at descending, then id descending (bytes). */
static int cmp_dag_order(const void *a, const void *b) {
  const ain_dag_t *x = a, *y = b;
  if (x->created_at != y->created_at) {
    return x->created_at > y->created_at ? -1 : 1;
  }
  return -strcmp(x->id, y->id);
}

/* One page into ids[*n...]; returns the rows read; *after gets the last row's cursor parts. */
static size_t dag_page(fx_t *f, int status, const char *persona, int limit, int64_t *after_ts,
                       char after_id[AIN_UUID_LEN + 1], char ids[][AIN_UUID_LEN + 1], size_t *n) {
  ain_store_req_t r;
  ain_store_req_list_dags(&r, status, persona, limit);
  if (after_id[0] != '\0') {
    r.u.list_dags.after_created_at = *after_ts;
    r.u.list_dags.after_id = after_id;
  }
  ASSERT_OK(ain_store_wait(f->s, &r));
  size_t got = r.u.list_dags.ndags;
  for (size_t i = 0; i < got; i++) {
    const ain_dag_t *d = &r.u.list_dags.dags[i];
    ASSERT_STR_EQ(d->persona_id, persona);
    snprintf(ids[(*n)++], AIN_UUID_LEN + 1, "%s", d->id);
  }
  if (got > 0) {
    *after_ts = r.u.list_dags.dags[got - 1].created_at;
    snprintf(after_id, AIN_UUID_LEN + 1, "%s", r.u.list_dags.dags[got - 1].id);
  }
  ain_store_req_cleanup(&r);
  return got;
}

TEST(list_dags_filters_and_pages) {
  fx_t f;
  fx_open(&f);
  /* Five DAGs of this test's own persona: three created at T0 (same created_at: the id breaks
   * the tie), two later. */
  ain_dag_t d[6];
  for (int i = 0; i < 5; i++) {
    mk_dag_at(&f, &d[i], f.ns, i < 3 ? T0 : T0 + 10);
    d[i].created_at = i < 3 ? T0 : T0 + 10;
  }
  ain_store_req_t r;
  ain_store_req_cancel(&r, NULL, d[1].id, "test");
  r.now = T0 + 1;
  ASSERT_OK(ain_store_wait(f.s, &r));
  ain_store_req_cleanup(&r);
  ain_dag_t want[5];
  memcpy(want, d, sizeof want);
  qsort(want, 5, sizeof want[0], cmp_dag_order);

  /* Pages of 2 walk the five in list order; a DAG created between pages lands before the
   * first page, so the later pages neither repeat nor skip a row. */
  char ids[8][AIN_UUID_LEN + 1], after_id[AIN_UUID_LEN + 1] = "";
  int64_t after_ts = 0;
  size_t n = 0;
  ASSERT_EQ(dag_page(&f, -1, f.ns, 2, &after_ts, after_id, ids, &n), 2);
  mk_dag_at(&f, &d[5], f.ns, T0 + 20);
  ASSERT_EQ(dag_page(&f, -1, f.ns, 2, &after_ts, after_id, ids, &n), 2);
  ASSERT_EQ(dag_page(&f, -1, f.ns, 2, &after_ts, after_id, ids, &n), 1);
  ASSERT_EQ(dag_page(&f, -1, f.ns, 2, &after_ts, after_id, ids, &n), 0);
  ASSERT_EQ(n, 5);
  for (size_t i = 0; i < 5; i++) {
    ASSERT_STR_EQ(ids[i], want[i].id);
  }
  /* The new DAG is first on a fresh first page. */
  n = 0;
  after_id[0] = '\0';
  ASSERT_EQ(dag_page(&f, -1, f.ns, 1, &after_ts, after_id, ids, &n), 1);
  ASSERT_STR_EQ(ids[0], d[5].id);

  /* By status (and persona): the cancelled one alone; the running ones, newest first. */
  n = 0;
  after_id[0] = '\0';
  ASSERT_EQ(dag_page(&f, AIN_DAG_CANCELLED, f.ns, 10, &after_ts, after_id, ids, &n), 1);
  ASSERT_STR_EQ(ids[0], d[1].id);
  n = 0;
  after_id[0] = '\0';
  ASSERT_EQ(dag_page(&f, AIN_DAG_RUNNING, f.ns, 10, &after_ts, after_id, ids, &n), 5);
  ASSERT_STR_EQ(ids[0], d[5].id);
  n = 0;
  after_id[0] = '\0';
  ASSERT_EQ(dag_page(&f, AIN_DAG_SUCCEEDED, f.ns, 10, &after_ts, after_id, ids, &n), 0);

  /* By status alone (other tests' DAGs may share a Postgres database): in list order, and the
   * cancelled one is among them with its row intact. */
  ain_store_req_list_dags(&r, AIN_DAG_CANCELLED, NULL, 500);
  ASSERT_OK(ain_store_wait(f.s, &r));
  int seen = 0;
  for (size_t i = 0; i < r.u.list_dags.ndags; i++) {
    const ain_dag_t *x = &r.u.list_dags.dags[i];
    ASSERT_EQ(x->status, AIN_DAG_CANCELLED);
    if (i > 0) {
      ASSERT_TRUE(cmp_dag_order(&r.u.list_dags.dags[i - 1], x) < 0);
    }
    if (strcmp(x->id, d[1].id) == 0) {
      seen = 1;
      ASSERT_EQ(x->created_at, T0);
      ASSERT_EQ(x->steps_total, 1);
      ASSERT_EQ(x->steps_done, 0);
      ASSERT_TRUE(x->state_version >= 1);
    }
  }
  ASSERT_TRUE(seen);
  ain_store_req_cleanup(&r);
  /* No filter: the newest first, in list order. */
  ain_store_req_list_dags(&r, -1, NULL, 3);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.list_dags.ndags, 3);
  ASSERT_TRUE(cmp_dag_order(&r.u.list_dags.dags[0], &r.u.list_dags.dags[1]) < 0);
  ASSERT_TRUE(cmp_dag_order(&r.u.list_dags.dags[1], &r.u.list_dags.dags[2]) < 0);
  if (fx_exclusive_db()) {
    ASSERT_STR_EQ(r.u.list_dags.dags[0].id, d[5].id);
  }
  ain_store_req_cleanup(&r);

  /* Refusals, before any backend sees them. */
  ain_store_req_list_dags(&r, AIN_DAG_STATUS_COUNT, NULL, 3);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "status");
  ain_store_req_list_dags(&r, -1, "", 3);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "persona_id");
  ain_store_req_list_dags(&r, -1, NULL, -1);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "limit");
  fx_close(&f);
}

TEST(bad_inputs) {
  fx_t f;
  fx_open(&f);
  ain_store_req_t r;
  ain_store_req_enqueue(&r, NULL);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_CONTAINS(r.err.msg, "NULL");

  /* An edge to a task that exists nowhere: nothing of the batch is written. */
  ain_task_t t[2];
  mk_task(&t[0], NULL);
  mk_task(&t[1], NULL);
  char ghost[AIN_UUID_LEN + 1];
  ain_uuid7(ghost);
  ain_dep_t deps[] = {{t[1].id, ghost}};
  ain_store_batch_t b = {.tasks = t, .ntasks = 2, .deps = deps, .ndeps = 1};
  ain_store_req_enqueue(&r, &b);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_CONTAINS(r.err.msg, ghost);
  ain_task_t got;
  ASSERT_EQ(get_task(&f, t[0].id, &got), AIN_ENOTFOUND);

  /* Edge whose task is not in the batch, self edge, missing type, missing id. */
  ain_dep_t stray[] = {{ghost, t[0].id}};
  b.deps = stray;
  ain_store_req_enqueue(&r, &b);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ain_dep_t self[] = {{t[0].id, t[0].id}};
  b.deps = self;
  ain_store_req_enqueue(&r, &b);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  b.ndeps = 0;
  t[1].type = NULL;
  ain_store_req_enqueue(&r, &b);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "tasks[].type");
  t[1].type = "noop";
  t[1].id[0] = '\0';
  ain_store_req_enqueue(&r, &b);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  b.ntasks = 0;
  ain_store_req_enqueue(&r, &b);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);

  ain_store_req_claim(&r, "w", 0, LEASE);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ain_store_req_claim(&r, NULL, 5, LEASE);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ain_store_req_claim(&r, "w", 5, 0);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ain_store_req_finish(&r, NULL, 0);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ain_finish_item_t bad_kind = {.task_id = t[0].id, .kind = (ain_finish_kind_t)42};
  ain_store_req_finish(&r, &bad_kind, 1);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ain_extend_item_t ex = {.task_id = t[0].id};
  ain_store_req_extend(&r, &ex, 1);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ain_store_req_get_task(&r, ghost);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_ENOTFOUND);
  ASSERT_STR_CONTAINS(r.err.msg, ghost);
  ain_store_req_get_task(&r, NULL);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ain_store_req_audit(&r, ghost, NULL);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_ENOTFOUND);
  ASSERT_STR_CONTAINS(r.err.msg, ghost);
  ain_store_req_audit(&r, NULL, NULL);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  /* Finishing a task that does not exist is a conflict, like any stale token. */
  ASSERT_EQ(finish(&f, ghost, 1, AIN_FINISH_SUCCEEDED, "{}", T0).status, AIN_ECONFLICT);
  fx_close(&f);

  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  ain_store_t *s = (ain_store_t *)&loop; /* must be overwritten with NULL on failure */
  ain_err_t err = {0};
  ain_store_config_t cfg = {.url = "mysql://localhost/x"};
  ASSERT_EQ(ain_store_open(&cfg, &loop, &s, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "mysql");
  ASSERT_NULL(s);
  cfg.url = "sqlite:";
  ASSERT_EQ(ain_store_open(&cfg, &loop, &s, &err), AIN_ECONFIG);
  cfg.url = "";
  ASSERT_EQ(ain_store_open(&cfg, &loop, &s, &err), AIN_ECONFIG);
  /* A folder that cannot be created (its parent is a file) is a clear error... */
  cfg.url = "sqlite:/dev/null/x/y.db";
  ASSERT_EQ(ain_store_open(&cfg, &loop, &s, &err), AIN_ESTORE);
  ASSERT_STR_CONTAINS(err.msg, "/dev/null/x/y.db");
  ASSERT_STR_CONTAINS(err.msg, "Not a directory");
  /* ...and a missing one is created (a fresh checkout has no var/). */
  char url[1024];
  snprintf(url, sizeof url, "sqlite:%s/new/dir/z.db", ain_test_tmpdir());
  cfg.url = url;
  ASSERT_OK(ain_store_open(&cfg, &loop, &s, &err));
  ain_store_close(s, NULL, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  s = NULL;
  ASSERT_EQ(ain_store_open(NULL, &loop, &s, &err), AIN_EINVAL);
  ASSERT_EQ(uv_loop_close(&loop), 0);
}

/* ---- callbacks, wake-ups, spawn ------------------------------------------------------------- */

static int cb_order[8], cb_count;

static void record_cb(ain_store_req_t *req) {
  ASSERT_EQ(req->done, 1);
  cb_order[cb_count++] = (int)(intptr_t)req->data;
}

TEST(callbacks_deferred_in_order) {
  fx_t f;
  fx_open(&f);
  ain_task_t t;
  mk_task(&t, NULL);
  ain_store_batch_t b = {.tasks = &t, .ntasks = 1};
  ain_store_req_t r[3];
  ain_store_req_enqueue(&r[0], &b);
  ain_store_req_stats(&r[1]);
  ain_store_req_claim(&r[2], "w", 1, LEASE);
  for (int i = 0; i < 3; i++) {
    r[i].cb = record_cb;
    r[i].data = (void *)(intptr_t)i;
    ASSERT_OK(ain_store_submit(f.s, &r[i]));
    ASSERT_EQ(cb_count, 0); /* never from inside submit */
  }
  while (cb_count < 3) {
    uv_run(&f.loop, UV_RUN_ONCE);
  }
  for (int i = 0; i < 3; i++) {
    ASSERT_EQ(cb_order[i], i);
    ASSERT_OK(r[i].status);
  }
  ASSERT_EQ(r[2].u.claim.ntasks, 1);
  for (int i = 0; i < 3; i++) {
    ain_store_req_cleanup(&r[i]);
  }
  fx_close(&f);
}

static void on_wake(void *data) {
  (*(int *)data)++;
}

static void on_timeout(uv_timer_t *t) {
  *(int *)t->data = 1;
}

TEST(wakeup_other_handle) {
  fx_t a, b;
  fx_open(&a);
  ASSERT_OK(uv_loop_init(&b.loop));
  ain_store_config_t cfg = {.url = a.url, .synchronous_full = 1};
  ain_err_t err;
  ASSERT_OK(ain_store_open(&cfg, &b.loop, &b.s, &err));
  int woken_a = 0, woken_b = 0, timed_out = 0;
  ain_store_on_wakeup(a.s, on_wake, &woken_a);
  ain_store_on_wakeup(b.s, on_wake, &woken_b);
  ain_task_t t;
  mk_task(&t, NULL);
  enqueue(&a, &t, 1, NULL, 0, NULL);
  uv_timer_t timer;
  uv_timer_init(&b.loop, &timer);
  timer.data = &timed_out;
  uv_timer_start(&timer, on_timeout, 5000, 0);
  while (!woken_b && !timed_out) {
    uv_run(&b.loop, UV_RUN_ONCE);
  }
  ASSERT_EQ(woken_b, 1);
  uv_close((uv_handle_t *)&timer, NULL);
  uv_run(&a.loop, UV_RUN_NOWAIT);
  ASSERT_EQ(woken_a, 0); /* the committer is not woken by its own commit */
  fx_close(&b);
  fx_close(&a);
}

TEST(finish_spawns_work_atomically) {
  fx_t f;
  fx_open(&f);
  ain_task_t root;
  mk_task(&root, NULL);
  root.type = "generate_video";
  enqueue(&f, &root, 1, NULL, 0, NULL);
  ain_store_req_t r;
  ASSERT_EQ(claim(&f, &r, "w", 1, T0), 1);
  int64_t v = r.u.claim.tasks[0].state_version;
  ain_store_req_cleanup(&r);

  ain_dag_t dag = {0};
  ain_uuid7(dag.id);
  memcpy(dag.root_task_id, root.id, sizeof dag.root_task_id);
  ain_task_t steps[2];
  mk_task(&steps[0], "script");
  mk_task(&steps[1], "tts");
  ain_dep_t deps[] = {{steps[1].id, steps[0].id}};
  ain_store_batch_t spawn = {.dag = &dag, .tasks = steps, .ntasks = 2, .deps = deps, .ndeps = 1};
  /* First a spawn that collides with an existing id: the item fails, the task stays running. */
  ain_task_t clash[1] = {root};
  ain_store_batch_t bad = {.tasks = clash, .ntasks = 1};
  ain_finish_item_t it = {
      .task_id = root.id, .state_version = v, .kind = AIN_FINISH_SUCCEEDED, .spawn = &bad};
  ain_store_req_finish(&r, &it, 1);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_NE(it.status, 0);
  ASSERT_EQ(status_of(&f, root.id, NULL), AIN_TASK_RUNNING);

  it = (ain_finish_item_t){
      .task_id = root.id, .state_version = v, .kind = AIN_FINISH_SUCCEEDED, .spawn = &spawn};
  ain_store_req_finish(&r, &it, 1);
  r.now = T0 + 1;
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(it.status, 0);
  ASSERT_EQ(status_of(&f, root.id, NULL), AIN_TASK_SUCCEEDED);
  ASSERT_EQ(status_of(&f, steps[0].id, NULL), AIN_TASK_READY);
  ASSERT_EQ(status_of(&f, steps[1].id, NULL), AIN_TASK_PENDING);
  ain_store_req_get_dag(&r, dag.id);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_STR_EQ(r.u.get_dag.dag.root_task_id, root.id);
  ASSERT_EQ(r.u.get_dag.dag.steps_total, 2);
  ain_store_req_cleanup(&r);
  /* A spawn on a non-success is refused up front. */
  it.kind = AIN_FINISH_FAIL;
  ain_store_req_finish(&r, &it, 1);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  fx_close(&f);
}

TEST(status_names_roundtrip) {
  for (int i = 0; i < AIN_TASK_STATUS_COUNT; i++) {
    ASSERT_EQ(ain_task_status_parse(ain_task_status_name((ain_task_status_t)i)), i);
  }
  for (int i = 0; i < AIN_DAG_STATUS_COUNT; i++) {
    ASSERT_EQ(ain_dag_status_parse(ain_dag_status_name((ain_dag_status_t)i)), i);
  }
  ASSERT_EQ(ain_task_status_parse("bogus"), -1);
  ASSERT_EQ(ain_task_status_parse(NULL), -1);
  ASSERT_EQ(ain_dag_status_parse("ready"), -1);
  ASSERT_STR_EQ(ain_task_status_name(AIN_TASK_DEAD), "dead");
}

TEST(open_work_probe) {
  fx_t f;
  fx_open(&f);
  if (!fx_exclusive_db()) { /* "nothing open" needs a database of our own */
    fx_close(&f);
    return;
  }
  ain_store_stats_t st = stats_of(&f, 1);
  ASSERT_EQ(st.tasks[AIN_TASK_READY] + st.tasks[AIN_TASK_RUNNING] + st.tasks[AIN_TASK_PENDING] +
                st.tasks[AIN_TASK_WAITING],
            0);
  ain_dag_t dag = {0};
  ain_uuid7(dag.id);
  ain_task_t t[3];
  for (int i = 0; i < 3; i++) {
    mk_task(&t[i], NULL);
  }
  ain_dep_t deps[] = {{t[2].id, t[1].id}};
  enqueue(&f, t, 3, deps, 1, &dag); /* t0, t1 ready; t2 pending on t1 */
  ain_store_req_t r;
  ASSERT_EQ(claim(&f, &r, "w", 1, T0), 1);
  const char *first = r.u.claim.tasks[0].id;
  int64_t v = r.u.claim.tasks[0].state_version;
  ain_finish_item_t it = finish(&f, first, v, AIN_FINISH_PARK, NULL, T0 + 1);
  ASSERT_EQ(it.new_status, AIN_TASK_WAITING);
  ain_store_req_cleanup(&r);
  ASSERT_EQ(claim(&f, &r, "w", 1, T0 + 2), 1); /* the other ready one */
  ain_store_req_cleanup(&r);
  st = stats_of(&f, 1);
  ASSERT_EQ(st.tasks[AIN_TASK_READY], 0);
  ASSERT_EQ(st.tasks[AIN_TASK_RUNNING], 1);
  ASSERT_EQ(st.tasks[AIN_TASK_PENDING], 1);
  ASSERT_EQ(st.tasks[AIN_TASK_WAITING], 1);
  ASSERT_EQ(st.tasks[AIN_TASK_SUCCEEDED], 0); /* not counted */
  ASSERT_EQ(st.dags[AIN_DAG_RUNNING], 0);     /* not counted */
  ASSERT_EQ(st.next_run_at, 0);
  ain_task_t late;
  mk_task(&late, NULL);
  late.run_at = T0 + 5000;
  enqueue(&f, &late, 1, NULL, 0, NULL);
  st = stats_of(&f, 1);
  ASSERT_EQ(st.tasks[AIN_TASK_READY], 1);
  ASSERT_EQ(st.next_run_at, T0 + 5000);
  fx_close(&f);
}

/* One FINISH batch of successes mixing the set-wise case (a plain task nothing depends on) with
 * every case that is not (a plain task with a dependent, a DAG step, a fenced item): each item
 * gets its own outcome at its own position, and text with quotes, backslashes, braces, commas
 * and non-ASCII comes back byte for byte. */
TEST(finish_batch_mixed_successes) {
  fx_t f;
  fx_open(&f);
  ain_task_t plain[3], dagt;
  for (int i = 0; i < 3; i++) {
    mk_task(&plain[i], NULL);
  }
  ain_dep_t deps[] = {{plain[2].id, plain[1].id}}; /* plain[2] waits for plain[1] */
  enqueue(&f, plain, 3, deps, 1, NULL);
  ain_dag_t dag = {0};
  ain_uuid7(dag.id);
  mk_task(&dagt, "only");
  enqueue(&f, &dagt, 1, NULL, 0, &dag);
  ain_task_t stale;
  mk_task(&stale, NULL);
  enqueue(&f, &stale, 1, NULL, 0, NULL);

  ain_store_req_t r;
  ASSERT_EQ(claim(&f, &r, "w", 10, T0), 4); /* plain[0], plain[1], dagt, stale */
  ain_finish_item_t it[4];
  const char *weird = "{\"s\":\"a\\\"b\\\\c {x,y} NULL \xc3\xbc \xe2\x9c\x93\"}";
  const char *order[4] = {plain[0].id, plain[1].id, dagt.id, stale.id};
  for (int k = 0; k < 4; k++) {
    int64_t v = -1;
    for (size_t i = 0; i < r.u.claim.ntasks; i++) {
      if (strcmp(r.u.claim.tasks[i].id, order[k]) == 0) {
        v = r.u.claim.tasks[i].state_version;
      }
    }
    ASSERT_TRUE(v >= 0);
    it[k] = (ain_finish_item_t){.task_id = order[k],
                                .state_version = k == 3 ? v + 7 : v, /* stale: fenced */
                                .kind = AIN_FINISH_SUCCEEDED,
                                .result = k == 0 ? weird : "{\"ok\":true}",
                                .detail = k == 1 ? "{\"policy\":\"p,\\\"q\\\"\"}" : NULL};
  }
  ain_store_req_t fin;
  ain_store_req_finish(&fin, it, 4);
  fin.now = T0 + 1;
  fin.actor = "w";
  ASSERT_OK(ain_store_wait(f.s, &fin));
  ain_store_req_cleanup(&fin);
  ain_store_req_cleanup(&r);
  for (int k = 0; k < 3; k++) {
    ASSERT_EQ(it[k].status, 0);
    ASSERT_EQ(it[k].new_status, AIN_TASK_SUCCEEDED);
    ASSERT_EQ(it[k].new_version, 2);
  }
  ASSERT_EQ(it[3].status, AIN_ECONFLICT);
  ASSERT_EQ(status_of(&f, stale.id, NULL), AIN_TASK_RUNNING);  /* untouched */
  ASSERT_EQ(status_of(&f, plain[2].id, NULL), AIN_TASK_READY); /* released by plain[1] */
  ain_dag_status_t ds;
  ain_store_req_get_dag(&r, dag.id);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ds = r.u.get_dag.dag.status;
  ain_store_req_cleanup(&r);
  ASSERT_EQ(ds, AIN_DAG_SUCCEEDED);
  ain_task_t got;
  ASSERT_OK(get_task(&f, plain[0].id, &got));
  ASSERT_STR_EQ(got.result, weird);
  ain_task_free(&got);
  ain_store_req_audit(&r, plain[1].id, NULL);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.audit.nrows, 3);
  ASSERT_STR_EQ(r.u.audit.rows[2].to_status, "succeeded");
  ASSERT_STR_CONTAINS(r.u.audit.rows[2].detail, "p,\\\"q\\\"");
  ain_store_req_cleanup(&r);
  ain_store_req_audit(&r, plain[0].id, NULL);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.audit.nrows, 3); /* enqueued, claimed, succeeded once */
  ASSERT_EQ(r.u.audit.rows[2].state_version, 2);
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

TEST_MAIN(TEST_ENTRY(status_names_roundtrip), TEST_ENTRY(migrate_idempotent),
          TEST_ENTRY(migrate_failure_rolls_back), TEST_ENTRY(migrate_applies_a_late_lower_file),
          TEST_ENTRY(happy_path_audit_versions),
          TEST_ENTRY(occ_conflict_stale_version), TEST_ENTRY(lease_expiry_reap_and_late_finish),
          TEST_ENTRY(retry_waits_for_run_at), TEST_ENTRY(dead_letter_after_max_attempts),
          TEST_ENTRY(fail_fails_dag_and_cancels_rest), TEST_ENTRY(diamond_dag),
          TEST_ENTRY(fan_out_50), TEST_ENTRY(priority_and_run_at_order),
          TEST_ENTRY(cancel_task_and_dag), TEST_ENTRY(duplicate_id_rejected_nothing_written),
          TEST_ENTRY(concurrent_claims_never_twice), TEST_ENTRY(extend_is_fenced),
          TEST_ENTRY(lease_check_sees_cancel),
          TEST_ENTRY(release_gives_attempt_back), TEST_ENTRY(stats_and_list),
          TEST_ENTRY(list_dags_filters_and_pages),
          TEST_ENTRY(bad_inputs), TEST_ENTRY(callbacks_deferred_in_order),
          TEST_ENTRY(wakeup_other_handle), TEST_ENTRY(finish_spawns_work_atomically),
          TEST_ENTRY(open_work_probe), TEST_ENTRY(finish_batch_mixed_successes))
