/* Contract tests of the PURGE store op (store/purge.h), written against store.h only: SQLite by
 * default, Postgres with AIN_TEST_STORE_URL (tests/integration/store_postgres.sh). A finished DAG
 * and a lone finished task go with their payloads, results, edges and checkpoints; a running DAG
 * stays; object keys another DAG still holds are not reported for deletion; audit rows stay with
 * only the policy versions left in their detail; a dry run changes nothing; bad inputs name the
 * field. Relies on: store_fixture.h, store/purge.h, the C harness. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "store/purge.h"
#include "store/store.h"
#include "store_fixture.h"

#define T0 INT64_C(1700000000000)

static void mk_task(ain_task_t *t, const char *step) {
  memset(t, 0, sizeof *t);
  ain_uuid7(t->id);
  t->type = "noop";
  t->handler = "noop";
  t->step = (char *)step;
  t->payload = "{\"trend\":\"secret-payload\"}";
}

static void enqueue(fx_t *f, ain_task_t *tasks, size_t n, ain_dag_t *dag) {
  ain_store_batch_t b = {.dag = dag, .tasks = tasks, .ntasks = n};
  ain_store_req_t r;
  ain_store_req_enqueue(&r, &b);
  r.now = T0;
  r.actor = "test";
  ASSERT_OK(ain_store_wait(f->s, &r));
  ain_store_req_cleanup(&r);
}

/* Claims everything ready and finishes the tasks named in ids with success and a detail. */
static void run_tasks(fx_t *f, ain_task_t *tasks, size_t n) {
  ain_store_req_t r;
  ain_store_req_claim(&r, "w", 100, 30000);
  r.now = T0;
  ASSERT_OK(ain_store_wait(f->s, &r));
  size_t done = 0;
  for (size_t i = 0; i < r.u.claim.ntasks; i++) {
    for (size_t k = 0; k < n; k++) {
      if (strcmp(r.u.claim.tasks[i].id, tasks[k].id) != 0) {
        continue;
      }
      ain_finish_item_t it = {.task_id = tasks[k].id,
                              .state_version = r.u.claim.tasks[i].state_version,
                              .kind = AIN_FINISH_SUCCEEDED,
                              .result = "{\"script\":\"secret-result\"}",
                              .detail = "{\"policies\":{\"judge\":\"abc123\"},"
                                        "\"ctx\":\"secret-context\"}"};
      ain_store_req_t fr;
      ain_store_req_finish(&fr, &it, 1);
      fr.now = T0;
      fr.actor = "test";
      ASSERT_OK(ain_store_wait(f->s, &fr));
      ASSERT_EQ(it.status, 0);
      ain_store_req_cleanup(&fr);
      done++;
    }
  }
  ain_store_req_cleanup(&r);
  ASSERT_EQ(done, n);
}

static void put_artifact(fx_t *f, const char *dag, const char *step, const char *task,
                         const char *keys) {
  ain_artifact_t a = {.dag_id = (char *)dag,
                      .step = (char *)step,
                      .task_id = (char *)task,
                      .keys = (char *)keys,
                      .result = "{\"secret\":\"artifact-result\"}"};
  ain_store_req_t r;
  ain_store_req_artifact_put(&r, &a);
  r.now = T0;
  ASSERT_OK(ain_store_wait(f->s, &r));
  ain_store_req_cleanup(&r);
}

static int exists_dag(fx_t *f, const char *id) {
  ain_store_req_t r;
  ain_store_req_get_dag(&r, id);
  int rc = ain_store_wait(f->s, &r);
  ain_store_req_cleanup(&r);
  return rc == 0 ? 1 : rc == AIN_ENOTFOUND ? 0 : rc;
}

static int exists_task(fx_t *f, const char *id) {
  ain_store_req_t r;
  ain_store_req_get_task(&r, id);
  int rc = ain_store_wait(f->s, &r);
  ain_store_req_cleanup(&r);
  return rc == 0 ? 1 : rc == AIN_ENOTFOUND ? 0 : rc;
}

static int has_artifact(fx_t *f, const char *dag, const char *step) {
  ain_store_req_t r;
  ain_store_req_artifact_get(&r, dag, step);
  int rc = ain_store_wait(f->s, &r);
  ain_store_req_cleanup(&r);
  return rc == 0 ? 1 : rc == AIN_ENOTFOUND ? 0 : rc;
}

static int listed(char **list, size_t n, const char *s) {
  for (size_t i = 0; i < n; i++) {
    if (strcmp(list[i], s) == 0) {
      return 1;
    }
  }
  return 0;
}

static void purge(fx_t *f, ain_store_req_t *r, ain_store_purge_t *p, int dry) {
  ain_store_req_purge(r, p, T0 + 1, AIN_STORE_PURGE_LIMIT_MAX, dry);
  r->actor = "operator:test";
  r->now = T0 + 5000;
  int rc = ain_store_wait(f->s, r);
  if (rc != 0) {
    fprintf(stderr, "purge: %s\n", r->err.msg);
  }
  ASSERT_OK(rc);
}

TEST(purge_finished_dags_keep_audit) {
  fx_t f;
  fx_open(&f);
  /* A: finished (two steps); B: still running, shares an object with A; C: cancelled;
   * L: a finished task outside any DAG */
  ain_dag_t a = {0}, b = {0}, c = {0};
  ain_uuid7(a.id);
  ain_uuid7(b.id);
  ain_uuid7(c.id);
  ain_task_t ta[2], tb[1], tc[1], tl[1];
  mk_task(&ta[0], "script");
  mk_task(&ta[1], "tts");
  mk_task(&tb[0], "tts");
  mk_task(&tc[0], "script");
  mk_task(&tl[0], NULL);
  enqueue(&f, ta, 2, &a);
  run_tasks(&f, ta, 2);
  enqueue(&f, tl, 1, NULL);
  run_tasks(&f, tl, 1);
  enqueue(&f, tb, 1, &b); /* after the claims: B stays ready (open) */
  enqueue(&f, tc, 1, &c);
  ain_store_req_t r;
  ain_store_req_cancel(&r, NULL, c.id, "operator said so");
  r.now = T0;
  ASSERT_OK(ain_store_wait(f.s, &r));
  ain_store_req_cleanup(&r);
  put_artifact(&f, a.id, "tts", ta[1].id, "[\"sha256/aa/only-a.wav\",\"sha256/bb/shared.png\"]");
  put_artifact(&f, b.id, "assets", tb[0].id, "[\"sha256/bb/shared.png\"]");

  /* dry run: the answer, and nothing changes */
  ain_store_purge_t p;
  purge(&f, &r, &p, 1);
  ASSERT_TRUE(listed(p.dag_ids, p.ndag_ids, a.id));
  ASSERT_TRUE(listed(p.dag_ids, p.ndag_ids, c.id));
  ASSERT_TRUE(!listed(p.dag_ids, p.ndag_ids, b.id));
  ASSERT_TRUE(listed(p.keys, p.nkeys, "sha256/aa/only-a.wav"));
  ASSERT_TRUE(!listed(p.keys, p.nkeys, "sha256/bb/shared.png")); /* B still holds it */
  if (fx_exclusive_db()) {
    ASSERT_EQ(p.dags, 2);
    ASSERT_EQ(p.tasks, 4); /* A's two, C's one, L */
    ASSERT_EQ(p.artifacts, 1);
    ASSERT_EQ(p.nkeys, 1);
  }
  ain_store_req_cleanup(&r);
  ASSERT_NULL(p.dag_ids);
  ASSERT_EQ(exists_dag(&f, a.id), 1);
  ASSERT_EQ(exists_task(&f, ta[0].id), 1);
  ASSERT_EQ(has_artifact(&f, a.id, "tts"), 1);

  /* the purge */
  purge(&f, &r, &p, 0);
  ASSERT_TRUE(listed(p.dag_ids, p.ndag_ids, a.id));
  ASSERT_TRUE(listed(p.keys, p.nkeys, "sha256/aa/only-a.wav"));
  ASSERT_TRUE(!listed(p.keys, p.nkeys, "sha256/bb/shared.png"));
  ain_store_req_cleanup(&r);
  ASSERT_EQ(exists_dag(&f, a.id), 0);
  ASSERT_EQ(exists_dag(&f, c.id), 0);
  ASSERT_EQ(exists_task(&f, ta[0].id), 0);
  ASSERT_EQ(exists_task(&f, ta[1].id), 0);
  ASSERT_EQ(exists_task(&f, tc[0].id), 0);
  ASSERT_EQ(exists_task(&f, tl[0].id), 0);
  ASSERT_EQ(has_artifact(&f, a.id, "tts"), 0);
  /* the running DAG is untouched */
  ASSERT_EQ(exists_dag(&f, b.id), 1);
  ASSERT_EQ(exists_task(&f, tb[0].id), 1);
  ASSERT_EQ(has_artifact(&f, b.id, "assets"), 1);

  /* audit rows stay: ids, versions, actors, times; detail keeps the policy versions only */
  ain_store_req_audit(&r, ta[1].id, NULL);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_GE(r.u.audit.nrows, 3); /* created, running, succeeded */
  int with_policies = 0;
  for (size_t i = 0; i < r.u.audit.nrows; i++) {
    ain_audit_t *x = &r.u.audit.rows[i];
    ASSERT_STR_EQ(x->task_id, ta[1].id);
    ASSERT_STR_EQ(x->dag_id, a.id);
    ASSERT_NOT_NULL(x->actor);
    ASSERT_TRUE(x->ts > 0);
    if (x->detail != NULL) {
      ASSERT_TRUE(strstr(x->detail, "secret") == NULL);
      with_policies += strstr(x->detail, "abc123") != NULL;
    }
  }
  ASSERT_EQ(with_policies, 1);
  ain_store_req_cleanup(&r);
  ain_store_req_audit(&r, NULL, c.id);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_GE(r.u.audit.nrows, 1);
  ain_store_req_cleanup(&r);

  /* again: nothing left to purge of ours */
  purge(&f, &r, &p, 0);
  ASSERT_TRUE(!listed(p.dag_ids, p.ndag_ids, a.id));
  if (fx_exclusive_db()) {
    ASSERT_EQ(p.dags + p.tasks, 0);
    ASSERT_EQ(p.nkeys, 0);
  }
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

TEST(purge_limit_batches) {
  fx_t f;
  fx_open(&f);
  if (!fx_exclusive_db()) {
    fx_close(&f);
    return; /* exact batch sizes need a database of our own */
  }
  ain_dag_t d[3];
  memset(d, 0, sizeof d);
  ain_task_t t[3];
  for (int i = 0; i < 3; i++) {
    ain_uuid7(d[i].id);
    mk_task(&t[i], "script");
    enqueue(&f, &t[i], 1, &d[i]);
  }
  run_tasks(&f, t, 3);
  ain_store_req_t r;
  ain_store_purge_t p;
  int batches = 0, total = 0;
  do {
    ain_store_req_purge(&r, &p, T0 + 1, 2, 0);
    r.actor = "operator:test";
    ASSERT_OK(ain_store_wait(f.s, &r));
    ASSERT_LE(p.dags, 2);
    total += p.dags;
    batches++;
    ain_store_req_cleanup(&r);
  } while (p.dags > 0 && batches < 10);
  ASSERT_EQ(total, 3);
  ASSERT_EQ(batches, 3); /* 2, 1, 0 */
  fx_close(&f);
}

TEST(purge_bad_inputs) {
  fx_t f;
  fx_open(&f);
  ain_store_req_t r;
  ain_store_purge_t p;
  ain_store_req_purge(&r, &p, T0, 0, 0);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "limit");
  ain_store_req_cleanup(&r);
  ain_store_req_purge(&r, &p, T0, AIN_STORE_PURGE_LIMIT_MAX + 1, 0);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "limit");
  ain_store_req_cleanup(&r);
  ain_store_req_purge(&r, &p, 0, 10, 0);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "older_than");
  ain_store_req_cleanup(&r);
  ain_store_req_purge(&r, NULL, T0, 10, 0);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "purge");
  ain_store_req_cleanup(&r);
  fx_close(&f);
}

TEST_MAIN(TEST_ENTRY(purge_finished_dags_keep_audit), TEST_ENTRY(purge_limit_batches),
          TEST_ENTRY(purge_bad_inputs))
