/* Store contract tests of the audit log, written against store.h only, so the same binary runs
 * against SQLite (a fresh file per test) and Postgres (AIN_TEST_STORE_URL, as store_fixture.h):
 * - one clock: a row's ts is the store's clock when it is written, never the request's `now`, so
 *   a task's rows are in time order even when the nodes that wrote them disagree about the time;
 * - a DAG id asked as a task is ENOTFOUND, and then found as a DAG (what `ain audit` relies on);
 * - pins, unpins and settings changes leave operator rows naming the actor, only when something
 *   changed, read back newest-last by AUDIT with operator_rows;
 * - the decision rows of a handler (`ain judge shadow`): its tasks' moves to succeeded in a window,
 *   the newest `limit`, oldest first; other handlers' and other transitions' rows are not among
 *   them, and a bad request is EINVAL naming the field;
 * - the tail of GET /v1/events: rows by id after a cursor, bounded, limited, plus ids re-read.
 * Relies on: store_fixture.h, store/store.h, core/util.h, libuv, the C harness. */
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "harness.h"
#include "store/store.h"
#include "store_fixture.h"

#define HOUR INT64_C(3600000)

static int wait_as(fx_t *f, ain_store_req_t *r, const char *actor) {
  r->actor = actor;
  int rc = ain_store_wait(f->s, r);
  if (rc != 0 && rc != AIN_ENOTFOUND) {
    fprintf(stderr, "store: %s\n", r->err.msg);
  }
  return rc;
}

static void mk_task(ain_task_t *t, const char *dag_id, const char *step) {
  memset(t, 0, sizeof *t);
  ain_uuid7(t->id);
  if (dag_id != NULL) {
    snprintf(t->dag_id, sizeof t->dag_id, "%s", dag_id);
  }
  t->type = "noop";
  t->handler = "noop";
  t->step = (char *)step;
  t->payload = "{}";
}

/* Claims the one ready task as `owner` with the owner's idea of the time; returns its version. */
static int64_t claim_one(fx_t *f, const char *owner, int64_t now, const char *want_id) {
  ain_store_req_t r;
  ain_store_req_claim(&r, owner, 1, 30000);
  r.now = now;
  ASSERT_OK(wait_as(f, &r, owner));
  ASSERT_EQ(r.u.claim.ntasks, (size_t)1);
  ASSERT_STR_EQ(r.u.claim.tasks[0].id, want_id);
  int64_t v = r.u.claim.tasks[0].state_version;
  ain_store_req_cleanup(&r);
  return v;
}

static void succeed(fx_t *f, const char *id, int64_t version, int64_t now) {
  ain_finish_item_t it = {.task_id = id, .state_version = version, .kind = AIN_FINISH_SUCCEEDED,
                          .result = "{}"};
  ain_store_req_t r;
  ain_store_req_finish(&r, &it, 1);
  r.now = now;
  ASSERT_OK(wait_as(f, &r, "node-b/0"));
  ASSERT_OK(it.status);
  ain_store_req_cleanup(&r);
}

/* Node a's clock runs an hour ahead, node b's is right: a claims, b finishes (its lease was
 * fenced over, say). Stamped with each node's `now`, the task's rows went back an hour. */
TEST(task_rows_in_time_order_across_skewed_nodes) {
  fx_t f;
  fx_open(&f);
  int64_t before = ain_now_ms();
  ain_task_t t[2];
  mk_task(&t[0], NULL, "first");
  mk_task(&t[1], NULL, "second");
  ain_dep_t dep = {.task_id = t[1].id, .depends_on = t[0].id};
  ain_store_batch_t b = {.tasks = t, .ntasks = 2, .deps = &dep, .ndeps = 1};
  ain_store_req_t r;
  ain_store_req_enqueue(&r, &b);
  r.now = before - HOUR; /* the enqueuing node is an hour behind */
  ASSERT_OK(wait_as(&f, &r, "node-c/0"));
  ain_store_req_cleanup(&r);
  int64_t v = claim_one(&f, "node-a/0", before + HOUR, t[0].id);
  succeed(&f, t[0].id, v, before); /* releases t[1]: pending -> ready, stamped by this request */
  v = claim_one(&f, "node-a/0", before + HOUR, t[1].id);
  succeed(&f, t[1].id, v, before - HOUR);
  int64_t after = ain_now_ms();
  for (int k = 0; k < 2; k++) {
    ain_store_req_audit(&r, t[k].id, NULL);
    ASSERT_OK(wait_as(&f, &r, "test"));
    ASSERT_TRUE(r.u.audit.nrows >= 3); /* created, running, succeeded (+ ready for t[1]) */
    for (size_t i = 0; i < r.u.audit.nrows; i++) {
      const ain_audit_t *a = &r.u.audit.rows[i];
      /* the store's clock, not any node's now (wide margins: a loaded machine, ASan) */
      ASSERT_TRUE(a->ts >= before - 1000);
      ASSERT_TRUE(a->ts <= after + 1000);
      if (i > 0) {
        ASSERT_TRUE(a->ts >= r.u.audit.rows[i - 1].ts);
      }
    }
    ain_store_req_cleanup(&r);
  }
  fx_close(&f);
}

TEST(dag_id_is_not_a_task_but_a_dag) {
  fx_t f;
  fx_open(&f);
  ain_dag_t dag;
  memset(&dag, 0, sizeof dag);
  ain_uuid7(dag.id);
  ain_task_t t[2];
  mk_task(&t[0], dag.id, "a");
  mk_task(&t[1], dag.id, "b");
  snprintf(dag.root_task_id, sizeof dag.root_task_id, "%s", t[0].id);
  dag.steps_total = 2;
  ain_store_batch_t b = {.dag = &dag, .tasks = t, .ntasks = 2};
  ain_store_req_t r;
  ain_store_req_enqueue(&r, &b);
  ASSERT_OK(wait_as(&f, &r, "test"));
  ain_store_req_cleanup(&r);
  ain_store_req_audit(&r, dag.id, NULL); /* asked as a task */
  ASSERT_EQ(wait_as(&f, &r, "test"), AIN_ENOTFOUND);
  ain_store_req_cleanup(&r);
  ain_store_req_audit(&r, NULL, dag.id);
  ASSERT_OK(wait_as(&f, &r, "test"));
  ASSERT_EQ(r.u.audit.nrows, (size_t)2); /* each task's creation */
  ain_store_req_cleanup(&r);
  char nobody[AIN_UUID_LEN + 1];
  ain_uuid7(nobody);
  ain_store_req_audit(&r, NULL, nobody);
  ASSERT_EQ(wait_as(&f, &r, "test"), AIN_ENOTFOUND);
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

static int pin(fx_t *f, const char *module, const char *sha, const char *actor, int *changed) {
  ain_store_req_t r;
  ain_store_req_script_pin(&r, module, sha);
  int rc = wait_as(f, &r, actor);
  *changed = r.u.script_pin.changed;
  ain_store_req_cleanup(&r);
  return rc;
}

/* The operator rows that mention `needle` in their to_status, oldest first, into rows[]. */
static size_t operator_rows(fx_t *f, const char *needle, ain_store_req_t *r) {
  ain_store_req_audit_operator(r, 1000);
  ASSERT_OK(wait_as(f, r, "test"));
  size_t n = 0;
  for (size_t i = 0; i < r->u.audit.nrows; i++) {
    ASSERT_NULL(r->u.audit.rows[i].task_id);
    ASSERT_NULL(r->u.audit.rows[i].dag_id);
    if (r->u.audit.rows[i].to_status && strstr(r->u.audit.rows[i].to_status, needle)) {
      ain_audit_t keep = r->u.audit.rows[i];
      r->u.audit.rows[i] = r->u.audit.rows[n];
      r->u.audit.rows[n++] = keep;
    }
  }
  return n;
}

TEST(pins_and_settings_audited_with_the_operator) {
  fx_t f;
  fx_open(&f);
  char module[AIN_UUID_LEN + 8], sha1[65], sha2[65], id[AIN_UUID_LEN + 1];
  ain_uuid7(id);
  snprintf(module, sizeof module, "m_%.8s%.4s", id + 24, id + 9);
  memset(sha1, 'a', 64);
  memset(sha2, 'b', 64);
  sha1[64] = sha2[64] = '\0';
  memcpy(sha1, id + 24, 12); /* unique per test on a shared database */
  memcpy(sha2, id + 24, 12);
  ain_store_req_t r;
  const char *shas[] = {sha1, sha2};
  for (int i = 0; i < 2; i++) {
    ain_store_req_script_put(&r, module, shas[i], "return {f = function() end}\n", NULL);
    ASSERT_OK(wait_as(&f, &r, "test"));
    ain_store_req_cleanup(&r);
  }
  int changed = 0;
  ASSERT_OK(pin(&f, module, sha1, "operator:alice", &changed));
  ASSERT_EQ(changed, 1);
  ASSERT_OK(pin(&f, module, sha1, "operator:alice", &changed)); /* no change: no row */
  ASSERT_EQ(changed, 0);
  ASSERT_OK(pin(&f, module, sha2, "operator:bob", &changed));
  ASSERT_OK(pin(&f, module, NULL, "operator:carol", &changed));
  ASSERT_EQ(changed, 1);
  ASSERT_OK(pin(&f, module, NULL, "operator:carol", &changed)); /* not pinned: no row */
  ASSERT_EQ(changed, 0);
  /* refused pins leave nothing either */
  ASSERT_EQ(pin(&f, module, "0123456789abcdef", "operator:mallory", &changed), AIN_ENOTFOUND);

  size_t n = operator_rows(&f, module, &r);
  ASSERT_EQ(n, (size_t)3);
  char want[200];
  const ain_audit_t *a = r.u.audit.rows;
  ASSERT_STR_EQ(a[0].actor, "operator:alice");
  snprintf(want, sizeof want, "pin:%s=", module);
  ASSERT_STR_EQ(a[0].from_status, want);
  snprintf(want, sizeof want, "pin:%s=%s", module, sha1);
  ASSERT_STR_EQ(a[0].to_status, want);
  ASSERT_STR_EQ(a[1].actor, "operator:bob");
  ASSERT_STR_EQ(a[1].from_status, want);
  snprintf(want, sizeof want, "pin:%s=%s", module, sha2);
  ASSERT_STR_EQ(a[1].to_status, want);
  ASSERT_STR_EQ(a[2].actor, "operator:carol");
  ASSERT_STR_EQ(a[2].from_status, want);
  snprintf(want, sizeof want, "pin:%s=", module);
  ASSERT_STR_EQ(a[2].to_status, want);
  ASSERT_TRUE(a[2].detail != NULL && strstr(a[2].detail, sha2) != NULL); /* "previous" */
  ASSERT_TRUE(a[0].ts <= a[1].ts && a[1].ts <= a[2].ts);
  ain_store_req_cleanup(&r);

  /* a setting: changed -> one row naming the operator; unchanged -> none */
  char key[64];
  snprintf(key, sizeof key, "test.%s", module);
  const char *vals[] = {"on", "on", "off"};
  for (int i = 0; i < 3; i++) {
    ain_store_req_setting(&r, key, vals[i]);
    ASSERT_OK(wait_as(&f, &r, "operator:dave"));
    ain_store_req_cleanup(&r);
  }
  n = operator_rows(&f, key, &r);
  ASSERT_EQ(n, (size_t)2);
  ASSERT_STR_EQ(r.u.audit.rows[0].actor, "operator:dave");
  snprintf(want, sizeof want, "setting:%s=off", key);
  ASSERT_STR_EQ(r.u.audit.rows[1].to_status, want);
  ain_store_req_cleanup(&r);

  /* bad input: an operator request naming a task */
  ain_store_req_audit_operator(&r, 10);
  r.u.audit.task_id = id;
  ASSERT_EQ(wait_as(&f, &r, "test"), AIN_EINVAL);
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

/* Enqueues one task run by `handler`, claims it and finishes it as succeeded. */
static void run_one(fx_t *f, const char *handler, char id[AIN_UUID_LEN + 1]) {
  ain_task_t t;
  mk_task(&t, NULL, "judge");
  t.handler = (char *)handler;
  ain_store_batch_t b = {.tasks = &t, .ntasks = 1};
  ain_store_req_t r;
  ain_store_req_enqueue(&r, &b);
  ASSERT_OK(wait_as(f, &r, "node-a/0"));
  ain_store_req_cleanup(&r);
  int64_t v = claim_one(f, "node-a/0", ain_now_ms(), t.id);
  succeed(f, t.id, v, ain_now_ms());
  memcpy(id, t.id, AIN_UUID_LEN + 1);
}

TEST(decision_rows_by_handler_and_window) {
  fx_t f;
  fx_open(&f);
  int64_t before = ain_now_ms() - 1;
  char a[AIN_UUID_LEN + 1], other[AIN_UUID_LEN + 1], b[AIN_UUID_LEN + 1];
  run_one(&f, "lua:judge.decide", a);
  run_one(&f, "noop", other);
  run_one(&f, "lua:judge.decide", b);
  ain_store_req_t r;
  ain_store_req_audit_decisions(&r, "lua:judge.decide", before, 0);
  ASSERT_OK(wait_as(&f, &r, "test"));
  ASSERT_EQ(r.u.audit.nrows, (size_t)2); /* not the creation, claim or the noop's rows */
  ASSERT_STR_EQ(r.u.audit.rows[0].task_id, a);
  ASSERT_STR_EQ(r.u.audit.rows[1].task_id, b);
  ASSERT_STR_EQ(r.u.audit.rows[0].to_status, "succeeded");
  ASSERT_LE(r.u.audit.rows[0].ts, r.u.audit.rows[1].ts);
  ain_store_req_cleanup(&r);
  /* the newest one only */
  ain_store_req_audit_decisions(&r, "lua:judge.decide", before, 1);
  ASSERT_OK(wait_as(&f, &r, "test"));
  ASSERT_EQ(r.u.audit.nrows, (size_t)1);
  ASSERT_STR_EQ(r.u.audit.rows[0].task_id, b);
  ain_store_req_cleanup(&r);
  /* a window that starts later holds none, and an empty list is no "not found" */
  ain_store_req_audit_decisions(&r, "lua:judge.decide", ain_now_ms() + HOUR, 0);
  ASSERT_OK(wait_as(&f, &r, "test"));
  ASSERT_EQ(r.u.audit.nrows, (size_t)0);
  ain_store_req_cleanup(&r);
  ain_store_req_audit_decisions(&r, "", before, 0);
  ASSERT_EQ(wait_as(&f, &r, "test"), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "handler");
  ain_store_req_cleanup(&r);
  ain_store_req_audit_decisions(&r, "lua:judge.decide", before, -1);
  ASSERT_EQ(wait_as(&f, &r, "test"), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "limit");
  ain_store_req_cleanup(&r);
  ain_store_req_audit_decisions(&r, "lua:judge.decide", before, 0);
  r.u.audit.task_id = a;
  ASSERT_EQ(wait_as(&f, &r, "test"), AIN_EINVAL);
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

/* The tail of GET /v1/events: the newest row, the rows after an id (up to another, at most a
 * limit), the rows of ids asked again, each with its task's type; bad input is EINVAL. */
TEST(tail_by_id_with_rereads) {
  fx_t f;
  fx_open(&f);
  ain_store_req_t r;
  ain_store_req_audit_newest(&r);
  ASSERT_OK(wait_as(&f, &r, "test"));
  int64_t base = r.u.audit.nrows ? r.u.audit.rows[0].id : 0;
  ain_store_req_cleanup(&r);
  ain_task_t t[3];
  for (int i = 0; i < 3; i++) {
    mk_task(&t[i], NULL, NULL);
    t[i].type = i == 1 ? "render" : "noop";
  }
  ain_store_batch_t b = {.tasks = t, .ntasks = 3};
  ain_store_req_enqueue(&r, &b);
  ASSERT_OK(wait_as(&f, &r, "node-a/0"));
  ain_store_req_cleanup(&r);
  ain_store_req_audit_newest(&r);
  ASSERT_OK(wait_as(&f, &r, "test"));
  ASSERT_EQ(r.u.audit.nrows, (size_t)1);
  int64_t top = r.u.audit.rows[0].id;
  ASSERT_GE(top, base + 3);
  ain_store_req_cleanup(&r);
  /* our three creation rows, in id order, typed */
  int64_t id[3];
  ain_store_req_audit_tail(&r, base, 0, NULL, 0, 0);
  ASSERT_OK(wait_as(&f, &r, "test"));
  int seen = 0;
  for (size_t i = 0; i < r.u.audit.nrows; i++) {
    const ain_audit_t *a = &r.u.audit.rows[i];
    ASSERT_TRUE(a->id > base);
    if (i > 0) {
      ASSERT_TRUE(a->id > r.u.audit.rows[i - 1].id);
    }
    for (int k = 0; k < 3; k++) {
      if (a->task_id && strcmp(a->task_id, t[k].id) == 0) {
        ASSERT_EQ(k, seen); /* enqueue order is id order */
        ASSERT_STR_EQ(a->task_type, t[k].type);
        ASSERT_NULL(a->from_status);
        id[seen++] = a->id;
      }
    }
  }
  ASSERT_EQ(seen, 3);
  ain_store_req_cleanup(&r);
  /* a limit, and an upper bound */
  ain_store_req_audit_tail(&r, base, 0, NULL, 0, 1);
  ASSERT_OK(wait_as(&f, &r, "test"));
  ASSERT_EQ(r.u.audit.nrows, (size_t)1);
  ain_store_req_cleanup(&r);
  ain_store_req_audit_tail(&r, id[0] - 1, id[1], NULL, 0, 0);
  ASSERT_OK(wait_as(&f, &r, "test"));
  ASSERT_EQ(r.u.audit.nrows, (size_t)(id[1] - id[0] + 1));
  ASSERT_EQ(r.u.audit.rows[0].id, id[0]);
  ASSERT_EQ(r.u.audit.rows[r.u.audit.nrows - 1].id, id[1]);
  ain_store_req_cleanup(&r);
  /* ids asked again come with the rows after the cursor, in id order; unknown ids are no rows */
  int64_t also[] = {id[2], id[0], top + 1000};
  ain_store_req_audit_tail(&r, top, 0, also, 3, 0);
  ASSERT_OK(wait_as(&f, &r, "test"));
  ASSERT_GE(r.u.audit.nrows, (size_t)2);
  ASSERT_EQ(r.u.audit.rows[0].id, id[0]);
  ASSERT_EQ(r.u.audit.rows[1].id, id[2]);
  ASSERT_STR_EQ(r.u.audit.rows[1].task_type, "noop");
  ain_store_req_cleanup(&r);
  /* nothing after the newest: an empty list, not "not found" */
  ain_store_req_audit_tail(&r, top + 1000, 0, NULL, 0, 0);
  ASSERT_OK(wait_as(&f, &r, "test"));
  ASSERT_EQ(r.u.audit.nrows, (size_t)0);
  ain_store_req_cleanup(&r);
  ain_store_req_audit_tail(&r, -1, 0, NULL, 0, 0);
  ASSERT_EQ(wait_as(&f, &r, "test"), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "after_id");
  ain_store_req_cleanup(&r);
  ain_store_req_audit_tail(&r, 0, 0, also, AIN_STORE_AUDIT_ALSO_MAX + 1, 0);
  ASSERT_EQ(wait_as(&f, &r, "test"), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "also_ids");
  ain_store_req_cleanup(&r);
  ain_store_req_audit_tail(&r, 0, 0, NULL, 0, 0);
  r.u.audit.task_id = t[0].id;
  ASSERT_EQ(wait_as(&f, &r, "test"), AIN_EINVAL);
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

TEST_MAIN(TEST_ENTRY(task_rows_in_time_order_across_skewed_nodes), TEST_ENTRY(tail_by_id_with_rereads),
          TEST_ENTRY(decision_rows_by_handler_and_window),
          TEST_ENTRY(dag_id_is_not_a_task_but_a_dag),
          TEST_ENTRY(pins_and_settings_audited_with_the_operator))
