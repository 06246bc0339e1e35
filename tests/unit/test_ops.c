/* Tests of the ops layer (engine/ops/), the one implementation of the operator's operations that
 * the CLI and the HTTP API call: task list pages, retry of a dead task (alone and in a failed
 * DAG), cancel and audit with the actor, review decisions refused, the error table, and the bad
 * inputs of each (unknown ids, wrong status, bad cursors, limits out of range).
 * Written against the store fixture: SQLite by default (a fresh file per test), Postgres with
 * AIN_TEST_STORE_URL=postgres://... (tests/integration/store_postgres.sh). On a shared Postgres
 * database every test filters by a task type of its own (f.ns), so its counts stay exact.
 * Relies on: store_fixture.h, the ops headers, store/store.h, the C harness. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "ops/dags.h"
#include "ops/ops.h"
#include "ops/review.h"
#include "ops/tasks.h"
#include "store/store.h"
#include "store_fixture.h"

#define T0 INT64_C(1700000000000)
#define LEASE 30000

typedef struct {
  fx_t f;
  ain_config_t cfg;
  ain_ops_t ops;
} env_t;

static void env_open(env_t *e) {
  fx_open(&e->f);
  ain_config_defaults(&e->cfg);
  e->ops = (ain_ops_t){.cfg = &e->cfg, .loop = &e->f.loop, .store = e->f.s};
}

static void env_close(env_t *e) {
  ain_config_free(&e->cfg);
  fx_close(&e->f);
}

static void mk_task(ain_task_t *t, const char *type, const char *step) {
  memset(t, 0, sizeof *t);
  ain_uuid7(t->id);
  t->type = (char *)type;
  t->handler = "noop";
  t->step = (char *)step;
  t->payload = "{}";
  t->max_attempts = 1;
}

static void enqueue_at(env_t *e, ain_store_batch_t *b, int64_t now) {
  ain_store_req_t r;
  ain_store_req_enqueue(&r, b);
  r.now = now;
  r.actor = "test";
  ASSERT_OK(ain_store_wait(e->f.s, &r));
  ain_store_req_cleanup(&r);
}

/* Claims task id (enqueued with priority 1000: the first claimable) and fails it for good. */
static void kill_task(env_t *e, const char *id) {
  ain_store_req_t r;
  ain_store_req_claim(&r, "test/1/shard-0", 1, LEASE);
  r.now = ain_now_ms(); /* a retried task runs from the real now on */
  ASSERT_OK(ain_store_wait(e->f.s, &r));
  ASSERT_EQ(r.u.claim.ntasks, 1);
  ASSERT_STR_EQ(r.u.claim.tasks[0].id, id);
  ain_finish_item_t it = {.task_id = id,
                          .state_version = r.u.claim.tasks[0].state_version,
                          .kind = AIN_FINISH_FAIL,
                          .error = "ELUA: boom"};
  ain_store_req_cleanup(&r);
  ain_store_req_finish(&r, &it, 1);
  r.now = ain_now_ms();
  ASSERT_OK(ain_store_wait(e->f.s, &r));
  ain_store_req_cleanup(&r);
  ASSERT_EQ(it.status, 0);
  ASSERT_EQ(it.new_status, AIN_TASK_DEAD);
}

static ain_task_status_t status_of(env_t *e, const char *id) {
  ain_task_t t;
  ain_err_t err;
  ASSERT_OK(ain_ops_task_get(&e->ops, id, &t, &err));
  ain_task_status_t st = t.status;
  ain_task_free(&t);
  return st;
}

/* ---- task list ------------------------------------------------------------------------------- */

TEST(list_pages_newest_first_each_task_once) {
  env_t e;
  env_open(&e);
  /* 7 tasks of this test's type: 5 at distinct times, 2 more sharing the newest time (their ids
   * break the tie), and one of another type */
  ain_task_t t[8];
  for (int i = 0; i < 8; i++) {
    mk_task(&t[i], i == 7 ? "other" : e.f.ns, NULL);
    ain_store_batch_t b = {.tasks = &t[i], .ntasks = 1};
    enqueue_at(&e, &b, T0 + (i < 5 ? i : 5) * 1000);
  }
  ain_ops_task_query_t q = {.type = e.f.ns, .limit = 3};
  char seen[7][AIN_UUID_LEN + 1];
  int n = 0, pages = 0;
  char cursor[AIN_OPS_CURSOR_MAX] = "";
  int64_t prev_ts = INT64_MAX;
  for (;;) {
    ain_ops_task_page_t p;
    ain_err_t err;
    q.after = cursor[0] ? cursor : NULL;
    ASSERT_OK(ain_ops_task_list(&e.ops, &q, &p, &err));
    pages++;
    for (size_t i = 0; i < p.ntasks; i++) {
      ASSERT_TRUE(n < 7);
      ASSERT_STR_EQ(p.tasks[i].type, e.f.ns);
      ASSERT_LE(p.tasks[i].created_at, prev_ts); /* newest first */
      prev_ts = p.tasks[i].created_at;
      for (int k = 0; k < n; k++) {
        ASSERT_TRUE(strcmp(seen[k], p.tasks[i].id) != 0); /* never twice */
      }
      memcpy(seen[n++], p.tasks[i].id, AIN_UUID_LEN + 1);
    }
    snprintf(cursor, sizeof cursor, "%s", p.next);
    ain_ops_task_page_free(&p);
    if (!cursor[0]) {
      break;
    }
    ASSERT_LE(pages, 4);
  }
  ASSERT_EQ(n, 7);
  ASSERT_EQ(pages, 3); /* 3 + 3 + 1 */
  /* the two sharing the newest time come first, the larger id first */
  ASSERT_STR_EQ(seen[0], strcmp(t[5].id, t[6].id) > 0 ? t[5].id : t[6].id);
  ASSERT_STR_EQ(seen[6], t[0].id);
  env_close(&e);
}

TEST(list_cursor_is_stable_under_inserts_and_filters_apply) {
  env_t e;
  env_open(&e);
  ain_task_t t[4];
  for (int i = 0; i < 4; i++) {
    mk_task(&t[i], e.f.ns, NULL);
    t[i].priority = i == 0 ? 1000 : 0; /* the one kill_task takes */
    ain_store_batch_t b = {.tasks = &t[i], .ntasks = 1};
    enqueue_at(&e, &b, T0 + i * 1000);
  }
  ain_ops_task_query_t q = {.type = e.f.ns, .limit = 2};
  ain_ops_task_page_t p;
  ain_err_t err;
  ASSERT_OK(ain_ops_task_list(&e.ops, &q, &p, &err));
  ASSERT_EQ(p.ntasks, 2);
  ASSERT_STR_EQ(p.tasks[0].id, t[3].id);
  char next[AIN_OPS_CURSOR_MAX];
  snprintf(next, sizeof next, "%s", p.next);
  ain_ops_task_page_free(&p);
  /* a newer task arrives between the pages: it shows on the first page, not the second */
  ain_task_t late;
  mk_task(&late, e.f.ns, NULL);
  ain_store_batch_t b = {.tasks = &late, .ntasks = 1};
  enqueue_at(&e, &b, T0 + 9000);
  q.after = next;
  ASSERT_OK(ain_ops_task_list(&e.ops, &q, &p, &err));
  ASSERT_EQ(p.ntasks, 2);
  ASSERT_STR_EQ(p.tasks[0].id, t[1].id);
  ASSERT_STR_EQ(p.tasks[1].id, t[0].id);
  ain_ops_task_page_free(&p);

  /* status: one of them dead */
  kill_task(&e, t[0].id);
  q = (ain_ops_task_query_t){.type = e.f.ns, .status = "dead"};
  ASSERT_OK(ain_ops_task_list(&e.ops, &q, &p, &err));
  ASSERT_EQ(p.ntasks, 1);
  ASSERT_STR_EQ(p.tasks[0].id, t[0].id);
  ASSERT_STR_EQ(p.next, "");
  cJSON *j = ain_ops_task_page_json(&p);
  ASSERT_STR_EQ(
      cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "tasks"), 0), "status")
          ->valuestring,
      "dead");
  ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(j, "next")));
  cJSON_Delete(j);
  ain_ops_task_page_free(&p);
  env_close(&e);
}

TEST(list_dag_filter) {
  env_t e;
  env_open(&e);
  ain_dag_t dag = {0};
  ain_uuid7(dag.id);
  ain_task_t t[3];
  for (int i = 0; i < 3; i++) {
    mk_task(&t[i], e.f.ns, i == 0 ? "a" : "b");
  }
  t[1].step = "b";
  t[2].step = "c";
  memcpy(dag.root_task_id, t[0].id, AIN_UUID_LEN + 1);
  ain_store_batch_t b = {.dag = &dag, .tasks = t, .ntasks = 2};
  enqueue_at(&e, &b, T0);
  ain_store_batch_t lone = {.tasks = &t[2], .ntasks = 1};
  enqueue_at(&e, &lone, T0);
  ain_ops_task_query_t q = {.dag_id = dag.id};
  ain_ops_task_page_t p;
  ain_err_t err;
  ASSERT_OK(ain_ops_task_list(&e.ops, &q, &p, &err));
  ASSERT_EQ(p.ntasks, 2);
  for (size_t i = 0; i < p.ntasks; i++) {
    ASSERT_STR_EQ(p.tasks[i].dag_id, dag.id);
  }
  ain_ops_task_page_free(&p);
  env_close(&e);
}

/* ain dag list / GET /v1/dags: pages by the shared cursor; refusals name the field. */
TEST(dag_list_pages_and_refusals) {
  env_t e;
  env_open(&e);
  ain_dag_t dag[3];
  ain_task_t t[3];
  for (int i = 0; i < 3; i++) {
    memset(&dag[i], 0, sizeof dag[i]);
    ain_uuid7(dag[i].id);
    dag[i].persona_id = e.f.ns;
    mk_task(&t[i], e.f.ns, "a");
    ain_store_batch_t b = {.dag = &dag[i], .tasks = &t[i], .ntasks = 1};
    enqueue_at(&e, &b, T0 + i);
  }
  ain_ops_dag_query_t q = {.persona_id = e.f.ns, .limit = 2};
  ain_ops_dag_page_t p;
  ain_err_t err;
  ASSERT_OK(ain_ops_dag_list(&e.ops, &q, &p, &err));
  ASSERT_EQ(p.ndags, 2);
  ASSERT_STR_EQ(p.dags[0].id, dag[2].id);
  ASSERT_STR_EQ(p.dags[1].id, dag[1].id);
  char want[AIN_OPS_CURSOR_MAX];
  ain_ops_cursor_format(T0 + 1, dag[1].id, want);
  ASSERT_STR_EQ(p.next, want);
  cJSON *j = ain_ops_dag_page_json(&p);
  ASSERT_STR_EQ(cJSON_GetObjectItem(j, "next")->valuestring, want);
  cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "dags"), 0);
  ASSERT_STR_EQ(cJSON_GetObjectItem(row, "id")->valuestring, dag[2].id);
  ASSERT_STR_EQ(cJSON_GetObjectItem(row, "status")->valuestring, "running");
  ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(row, "last_error")));
  ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(row, "root_task_id")));
  cJSON_Delete(j);
  char after[AIN_OPS_CURSOR_MAX];
  snprintf(after, sizeof after, "%s", p.next);
  ain_ops_dag_page_free(&p);
  q.after = after;
  ASSERT_OK(ain_ops_dag_list(&e.ops, &q, &p, &err));
  ASSERT_EQ(p.ndags, 1);
  ASSERT_STR_EQ(p.dags[0].id, dag[0].id);
  ASSERT_STR_EQ(p.next, "");
  ain_ops_dag_page_free(&p);
  static const struct {
    ain_ops_dag_query_t q;
    const char *field;
  } bad[] = {
      {{.status = "pending"}, "status"},
      {{.status = ""}, "status"},
      {{.persona_id = "a b"}, "persona"},
      {{.persona_id = ""}, "persona"},
      {{.limit = AIN_OPS_DAG_LIST_MAX + 1}, "limit"},
      {{.limit = -1}, "limit"},
      {{.after = "x"}, "after"},
      {{.after = "12.not-a-uuid-not-a-uuid-not-a-uuid-xx"}, "after"},
      {{.after = "1234567890123456789.01a24efe-7c72-7a70-a330-62789f55bb14"}, "after"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ain_err_clear(&err);
    ASSERT_EQ(ain_ops_dag_list(&e.ops, &bad[i].q, &p, &err), AIN_EINVAL);
    ASSERT_STR_EQ(err.field, bad[i].field);
    ain_ops_dag_page_free(&p);
  }
  env_close(&e);
}

/* One task_id twice in a batch: refused before any store, naming both indexes. */
TEST(enqueue_refuses_a_task_id_twice) {
  ain_config_t cfg;
  ain_config_defaults(&cfg);
  const char *src = getenv("AIN_SOURCE_DIR");
  ASSERT_NOT_NULL(src);
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/tests/fixtures/engine", src);
  free(cfg.scripts_dir);
  cfg.scripts_dir = strdup(dir);
  char id[3][AIN_UUID_LEN + 1], buf[2048];
  for (int i = 0; i < 3; i++) {
    ain_uuid7(id[i]);
  }
  const char *fmt = "{\"task_id\":\"%s\",\"type\":\"noop\",\"payload\":{},"
                    "\"persona_id\":\"tester\",\"state_version\":0}\n";
  size_t n = 0;
  const char *order[] = {id[0], id[1], id[2], id[1], id[0]};
  for (int i = 0; i < 5; i++) {
    n += (size_t)snprintf(buf + n, sizeof buf - n, fmt, order[i]);
  }
  ain_ops_batch_t b;
  ain_err_t err;
  ain_err_clear(&err);
  ASSERT_EQ(ain_ops_enqueue_prepare(&cfg, buf, n, "t.jsonl", &b, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "[3].task_id"); /* the first repeat in batch order */
  ASSERT_STR_CONTAINS(err.msg, "tasks[3].task_id duplicates tasks[1]");
  ASSERT_NULL(b.tasks);
  /* without the repeats it passes */
  size_t three = 0;
  for (int i = 0; i < 3; i++) {
    three += strlen(fmt) - 2 + AIN_UUID_LEN;
  }
  ASSERT_OK(ain_ops_enqueue_prepare(&cfg, buf, three, "t.jsonl", &b, &err));
  ASSERT_EQ(b.ntasks, 3);
  ain_ops_batch_free(&b);
  ain_config_free(&cfg);
}

TEST(list_refuses_bad_input_naming_the_field) {
  env_t e;
  env_open(&e);
  static const struct {
    ain_ops_task_query_t q;
    const char *field, *says;
  } bad[] = {
      {{.status = "zombie"}, "status", "unknown task status 'zombie'"},
      {{.limit = AIN_OPS_LIST_MAX + 1}, "limit", "limit must be 1..1000"},
      {{.limit = -1}, "limit", "got -1"},
      {{.after = "not-a-cursor"}, "after", "is not a page cursor"},
      {{.after = "123.xyz"}, "after", "is not a page cursor"},
      {{.after = "12a.0190a000-0000-7000-8000-000000000000"}, "after", "not a page cursor"},
      {{.after = ".0190a000-0000-7000-8000-000000000000"}, "after", "not a page cursor"},
      {{.dag_id = "../../etc/passwd"}, "dag_id", "must be a DAG id"},
      {{.type = "has space"}, "type", "printable"},
      {{.type = ""}, "type", "printable"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ain_ops_task_page_t p;
    ain_err_t err;
    ain_err_clear(&err);
    ASSERT_EQ(ain_ops_task_list(&e.ops, &bad[i].q, &p, &err), AIN_EINVAL);
    ASSERT_STR_EQ(err.field, bad[i].field);
    ASSERT_STR_CONTAINS(err.msg, bad[i].says);
    ASSERT_EQ(p.ntasks, 0);
    ain_ops_task_page_free(&p); /* safe on a refused page */
  }
  /* a well-formed cursor past every task: an empty last page */
  ain_ops_task_query_t q = {.type = e.f.ns, .after = "1.0190a000-0000-7000-8000-000000000000"};
  ain_ops_task_page_t p;
  ain_err_t err;
  ASSERT_OK(ain_ops_task_list(&e.ops, &q, &p, &err));
  ASSERT_EQ(p.ntasks, 0);
  ASSERT_STR_EQ(p.next, "");
  ain_ops_task_page_free(&p);
  env_close(&e);
}

/* ---- retry ----------------------------------------------------------------------------------- */

/* The audit row of task id that went from -> to, or NULL; rows owned by a. */
static const ain_audit_t *audit_row(const ain_ops_audit_t *a, const char *from, const char *to) {
  for (size_t i = 0; i < a->nrows; i++) {
    const ain_audit_t *r = &a->rows[i];
    if (r->from_status && strcmp(r->from_status, from) == 0 && strcmp(r->to_status, to) == 0) {
      return r;
    }
  }
  return NULL;
}

TEST(retry_a_dead_task_is_a_new_attempt_audited_with_the_actor) {
  env_t e;
  env_open(&e);
  ain_task_t t;
  mk_task(&t, e.f.ns, NULL);
  t.priority = 1000;
  ain_store_batch_t b = {.tasks = &t, .ntasks = 1};
  enqueue_at(&e, &b, T0);
  kill_task(&e, t.id);
  ain_ops_retry_t r;
  ain_err_t err;
  ASSERT_OK(ain_ops_task_retry(&e.ops, t.id, "operator:alice", &r, &err));
  ASSERT_EQ(r.attempts_before, 1);
  ASSERT_EQ(r.dag_reopened, 0);
  ain_task_t got;
  ASSERT_OK(ain_ops_task_get(&e.ops, t.id, &got, &err));
  ASSERT_EQ(got.status, AIN_TASK_READY);
  ASSERT_EQ(got.attempts, 0);
  ASSERT_EQ(got.state_version, r.state_version);
  ASSERT_NULL(got.lease_owner);
  ain_task_free(&got);
  ain_ops_audit_t a;
  ASSERT_OK(ain_ops_audit(&e.ops, t.id, &a, &err));
  const ain_audit_t *row = audit_row(&a, "dead", "ready");
  ASSERT_NOT_NULL(row);
  ASSERT_STR_EQ(row->actor, "operator:alice");
  ASSERT_STR_CONTAINS(row->detail, "\"attempts_before\":1");
  ASSERT_EQ(row->state_version, r.state_version);
  ain_ops_audit_free(&a);
  /* it runs again: claimable, and once dead again it can be retried again */
  kill_task(&e, t.id);
  ASSERT_OK(ain_ops_task_retry(&e.ops, t.id, "operator:alice", &r, &err));

  /* not dead now: refused, naming the status */
  ain_err_clear(&err);
  ASSERT_EQ(ain_ops_task_retry(&e.ops, t.id, "operator:alice", &r, &err), AIN_ECONFLICT);
  ASSERT_STR_EQ(err.field, "status");
  ASSERT_STR_CONTAINS(err.msg, "is ready: only a dead task can be retried");
  ASSERT_EQ(ain_ops_exit_code(err.code), AIN_EXIT_CONFLICT);
  ASSERT_EQ(ain_ops_http_status(err.code), 409);
  /* unknown and empty ids */
  char ghost[AIN_UUID_LEN + 1];
  ain_uuid7(ghost);
  ain_err_clear(&err);
  ASSERT_EQ(ain_ops_task_retry(&e.ops, ghost, "operator:alice", &r, &err), AIN_ENOTFOUND);
  ASSERT_STR_CONTAINS(err.msg, ghost);
  ASSERT_EQ(ain_ops_task_retry(&e.ops, "", "operator:alice", &r, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "task_id");
  int n = 0; /* leave nothing claimable behind on a shared database */
  ASSERT_OK(ain_ops_cancel(&e.ops, t.id, NULL, "operator:alice", &n, &err));
  env_close(&e);
}

TEST(retry_in_a_failed_dag_reopens_it_and_its_cancelled_steps) {
  env_t e;
  env_open(&e);
  ain_dag_t dag = {0};
  ain_uuid7(dag.id);
  ain_task_t t[3]; /* bad; after (needs bad); side */
  mk_task(&t[0], e.f.ns, "bad");
  mk_task(&t[1], e.f.ns, "after");
  mk_task(&t[2], e.f.ns, "side");
  t[0].priority = 1000; /* bad is claimed first */
  memcpy(dag.root_task_id, t[0].id, AIN_UUID_LEN + 1);
  dag.steps_total = 3;
  ain_dep_t deps[] = {{t[1].id, t[0].id}};
  ain_store_batch_t b = {.dag = &dag, .tasks = t, .ntasks = 3, .deps = deps, .ndeps = 1};
  enqueue_at(&e, &b, T0);
  kill_task(&e, t[0].id);
  ain_ops_dag_t g;
  ain_err_t err;
  ASSERT_OK(ain_ops_dag_get(&e.ops, dag.id, &g, &err));
  ASSERT_EQ(g.dag->status, AIN_DAG_FAILED);
  ain_ops_dag_free(&g);
  ASSERT_EQ(status_of(&e, t[1].id), AIN_TASK_CANCELLED);
  ASSERT_EQ(status_of(&e, t[2].id), AIN_TASK_CANCELLED);

  ain_ops_retry_t r;
  ASSERT_OK(ain_ops_task_retry(&e.ops, t[0].id, "operator:bob", &r, &err));
  ASSERT_EQ(r.dag_reopened, 1);
  ASSERT_EQ(r.revived, 2);
  ASSERT_EQ(status_of(&e, t[0].id), AIN_TASK_READY);
  ASSERT_EQ(status_of(&e, t[1].id), AIN_TASK_PENDING); /* still waits for bad */
  ASSERT_EQ(status_of(&e, t[2].id), AIN_TASK_READY);
  ASSERT_OK(ain_ops_dag_get(&e.ops, dag.id, &g, &err));
  ASSERT_EQ(g.dag->status, AIN_DAG_RUNNING);
  ASSERT_NULL(g.dag->last_error);
  cJSON *j = ain_ops_dag_json(&g);
  ASSERT_STR_EQ(cJSON_GetObjectItem(j, "status")->valuestring, "running");
  cJSON_Delete(j);
  char *dot = ain_ops_dag_dot(&g);
  ASSERT_STR_CONTAINS(dot, "\"bad\" -> \"after\"");
  free(dot);
  ain_ops_dag_free(&g);
  /* every change is audited as the operator, the DAG's too */
  ain_ops_audit_t a;
  ASSERT_OK(ain_ops_audit(&e.ops, dag.id, &a, &err));
  int by_bob = 0;
  for (size_t i = 0; i < a.nrows; i++) {
    by_bob += a.rows[i].actor != NULL && strcmp(a.rows[i].actor, "operator:bob") == 0;
  }
  ASSERT_EQ(by_bob, 4); /* bad dead->ready, the DAG failed->running, after and side revived */
  ASSERT_NOT_NULL(audit_row(&a, "failed", "running"));
  ain_ops_audit_free(&a);
  int n = 0;
  ASSERT_OK(ain_ops_cancel(&e.ops, dag.id, NULL, "operator:bob", &n, &err));
  ASSERT_EQ(n, 3);
  env_close(&e);
}

/* ---- cancel, audit --------------------------------------------------------------------------- */

TEST(cancel_and_audit_name_the_actor_and_refuse_unknown_ids) {
  env_t e;
  env_open(&e);
  ain_task_t t;
  mk_task(&t, e.f.ns, NULL);
  ain_store_batch_t b = {.tasks = &t, .ntasks = 1};
  enqueue_at(&e, &b, T0);
  int n = 0;
  ain_err_t err;
  ASSERT_OK(ain_ops_cancel(&e.ops, t.id, NULL, "operator:dora", &n, &err));
  ASSERT_EQ(n, 1);
  ain_ops_audit_t a;
  ASSERT_OK(ain_ops_audit(&e.ops, t.id, &a, &err));
  const ain_audit_t *row = audit_row(&a, "ready", "cancelled");
  ASSERT_NOT_NULL(row);
  ASSERT_STR_EQ(row->actor, "operator:dora");
  cJSON *j = ain_ops_audit_json(&a);
  ASSERT_EQ(cJSON_GetArraySize(j), (int)a.nrows);
  cJSON_Delete(j);
  ain_ops_audit_free(&a);

  char ghost[AIN_UUID_LEN + 1];
  ain_uuid7(ghost);
  ain_err_clear(&err);
  ASSERT_EQ(ain_ops_cancel(&e.ops, ghost, NULL, "operator:dora", &n, &err), AIN_ENOTFOUND);
  ain_err_clear(&err);
  ASSERT_EQ(ain_ops_audit(&e.ops, ghost, &a, &err), AIN_ENOTFOUND);
  ASSERT_STR_EQ(err.field, "id");
  ASSERT_EQ(ain_ops_http_status(err.code), 404);
  ASSERT_EQ(ain_ops_exit_code(err.code), AIN_EXIT_NOTFOUND);
  ain_ops_dag_t g;
  ain_err_clear(&err);
  ASSERT_EQ(ain_ops_dag_get(&e.ops, ghost, &g, &err), AIN_ENOTFOUND);
  ain_err_clear(&err);
  ASSERT_EQ(ain_ops_audit_operator(&e.ops, 0, &a, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "limit");
  ain_task_t got;
  ASSERT_EQ(ain_ops_task_get(&e.ops, ghost, &got, &err), AIN_ENOTFOUND);
  env_close(&e);
}

/* ---- reviews, publishers --------------------------------------------------------------------- */

TEST(review_decisions_refused_before_the_store_and_by_it) {
  env_t e;
  env_open(&e);
  ain_ops_reviews_t r;
  ain_err_t err;
  ain_ops_decision_t d = {.video_id = "v-1",
                          .approve = 0,
                          .reviewer = "eve",
                          .expect_version = -1,
                          .actor = "operator:eve"};
  ASSERT_EQ(ain_ops_review_decide(&e.ops, &d, &r, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "reason");
  d.reason = "off brand";
  d.expect_version = -5;
  ASSERT_EQ(ain_ops_review_decide(&e.ops, &d, &r, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "expect_version");
  char ghost[AIN_UUID_LEN + 1];
  ain_uuid7(ghost);
  d.video_id = ghost;
  d.expect_version = -1;
  ain_err_clear(&err);
  ASSERT_EQ(ain_ops_review_decide(&e.ops, &d, &r, &err), AIN_ENOTFOUND);
  ASSERT_EQ(ain_ops_review_get(&e.ops, ghost, &r, &err), AIN_ENOTFOUND);
  ASSERT_EQ(ain_ops_review_list(&e.ops, "maybe", 0, &r, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "status");
  env_close(&e);
}

TEST(publishers_pause_resume_audited_with_the_actor) {
  env_t e;
  env_open(&e);
  ain_ops_publishers_t p;
  ain_err_t err;
  ASSERT_OK(ain_ops_publishers(&e.ops, AIN_OPS_PUBLISHERS_PAUSE, "operator:fay", &p, &err));
  ASSERT_EQ(p.paused, 1);
  ASSERT_OK(ain_ops_publishers(&e.ops, AIN_OPS_PUBLISHERS_STATUS, "operator:fay", &p, &err));
  ASSERT_EQ(p.paused, 1);
  ASSERT_EQ(p.changed, 0);
  ASSERT_OK(ain_ops_publishers(&e.ops, AIN_OPS_PUBLISHERS_RESUME, "operator:fay", &p, &err));
  ASSERT_EQ(p.paused, 0);
  ASSERT_EQ(p.changed, 1);
  ain_ops_audit_t a;
  ASSERT_OK(ain_ops_audit_operator(&e.ops, 10, &a, &err));
  int fay = 0;
  for (size_t i = 0; i < a.nrows; i++) {
    fay += a.rows[i].actor != NULL && strcmp(a.rows[i].actor, "operator:fay") == 0;
  }
  ASSERT_GE(fay, 2);
  ain_ops_audit_free(&a);
  env_close(&e);
}

/* ---- the handle and the error table ---------------------------------------------------------- */

TEST(open_migrate_close_and_a_store_that_cannot_open) {
  ain_config_t cfg;
  ain_config_defaults(&cfg);
  free(cfg.store.url);
  cfg.store.url = ain_strdup(fx_fresh_url());
  uv_loop_t loop;
  ain_ops_t ops;
  ain_err_t err;
  ASSERT_OK(ain_ops_open(&ops, &cfg, &loop, &err));
  int applied = -1, version = 0;
  ASSERT_OK(ain_ops_migrate(&ops, "operator:test", &applied, &version, &err));
  ASSERT_GE(version, 13);
  ain_store_stats_t st;
  ASSERT_OK(ain_ops_stats(&ops, &st, &err));
  cJSON *j = ain_ops_stats_json(&st);
  ASSERT_NOT_NULL(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "tasks"), "dead"));
  cJSON_Delete(j);
  ain_ops_close(&ops);
  ain_ops_close(&ops); /* twice is harmless */
  ain_err_clear(&err);
  ASSERT_EQ(ain_ops_stats(&ops, &st, &err), AIN_EINVAL); /* closed */

  free(cfg.store.url);
  cfg.store.url = ain_strdup("mysql://nope");
  ain_err_clear(&err);
  ASSERT_NE(ain_ops_open(&ops, &cfg, &loop, &err), 0);
  ASSERT_TRUE(err.msg[0] != '\0');
  ASSERT_NULL(ops.store);
  ain_config_free(&cfg);
}

TEST(error_table_maps_codes_to_exit_codes_and_http) {
  static const struct {
    int code, exit_code, http;
  } want[] = {
      {0, 0, 200},
      {AIN_EINVAL, AIN_EXIT_INVALID, 400},
      {AIN_ESCHEMA, AIN_EXIT_INVALID, 400},
      {AIN_ETOOBIG, AIN_EXIT_INVALID, 413},
      {AIN_EMEDIATYPE, AIN_EXIT_INVALID, 415},
      {AIN_ENOTFOUND, AIN_EXIT_NOTFOUND, 404},
      {AIN_ECONFLICT, AIN_EXIT_CONFLICT, 409},
      {AIN_ECONFIG, AIN_EXIT_CONFIG, 500},
      {AIN_ESTORE, AIN_EXIT_FAILURE, 500},
      {AIN_ESHUTDOWN, AIN_EXIT_FAILURE, 503},
      {-999, AIN_EXIT_FAILURE, 500},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    ASSERT_EQ(ain_ops_exit_code(want[i].code), want[i].exit_code);
    ASSERT_EQ(ain_ops_http_status(want[i].code), want[i].http);
  }
  /* names back to codes: the API maps a code name through this table */
  ASSERT_EQ(ain_err_code("EMEDIATYPE"), AIN_EMEDIATYPE);
  ASSERT_EQ(ain_err_code(ain_err_name(AIN_ECONFLICT)), AIN_ECONFLICT);
  ASSERT_EQ(ain_err_code("EAUTH"), 0); /* the API's own */
  ASSERT_EQ(ain_err_code(NULL), 0);
  ain_err_t err;
  ain_err_field(&err, AIN_ECONFLICT, "expect_version", "expected 2, found 3");
  cJSON *j = ain_ops_error_json(&err);
  char *s = cJSON_PrintUnformatted(j);
  ASSERT_STR_EQ(s, "{\"code\":\"ECONFLICT\",\"field\":\"expect_version\","
                   "\"message\":\"expected 2, found 3\"}");
  free(s);
  cJSON_Delete(j);
}

/* ---- enqueue --------------------------------------------------------------------------------- */

static void write_persona(const char *dir, const char *body) {
  char p[512];
  snprintf(p, sizeof p, "%s/personas/ann.lua", dir);
  FILE *f = fopen(p, "w");
  ASSERT_NOT_NULL(f);
  fputs(body, f);
  fclose(f);
}

/* Validates one task message naming persona "ann" (nothing is stored). */
static int prepare_one(env_t *e, ain_ops_batch_t *b, ain_err_t *err) {
  char msg[256], id[AIN_UUID_LEN + 1];
  ain_uuid7(id);
  snprintf(msg, sizeof msg,
           "{\"task_id\":\"%s\",\"type\":\"noop\",\"payload\":{},\"persona_id\":\"ann\","
           "\"state_version\":0}",
           id);
  return ain_ops_enqueue_prepare(&e->cfg, msg, strlen(msg), "body", b, err);
}

/* A persona that passed once is not checked again while its file is unchanged; any change to the
 * file (here: an invalid version, then a valid one again) is checked by the next batch. */
TEST(enqueue_rechecks_a_persona_whose_file_changed) {
  env_t e;
  env_open(&e);
  char dir[] = "/tmp/ain-ops-personas-XXXXXX", p[256];
  ASSERT_NOT_NULL(mkdtemp(dir));
  snprintf(p, sizeof p, "%s/personas", dir);
  ASSERT_OK(mkdir(p, 0700));
  free(e.cfg.scripts_dir);
  e.cfg.scripts_dir = ain_strdup(dir);
  write_persona(dir, "return { id = \"ann\", voice = {}, style = {} }\n");
  ain_ops_batch_t b;
  ain_err_t err;
  for (int i = 0; i < 2; i++) {
    ASSERT_OK(prepare_one(&e, &b, &err));
    ASSERT_EQ((int)b.ntasks, 1);
    ain_ops_batch_free(&b);
  }
  write_persona(dir, "return { id = \"someone_else\", voice = {}, style = {} }\n");
  ASSERT_EQ(prepare_one(&e, &b, &err), AIN_ESCHEMA);
  ASSERT_STR_CONTAINS(err.msg, "persona 'ann' has no valid version");
  write_persona(dir, "return { id = \"ann\", voice = {}, style = {} }\n");
  ASSERT_OK(prepare_one(&e, &b, &err));
  ain_ops_batch_free(&b);
  snprintf(p, sizeof p, "%s/personas/ann.lua", dir);
  unlink(p);
  ASSERT_EQ(prepare_one(&e, &b, &err), AIN_ESCHEMA); /* gone: unknown, not remembered */
  snprintf(p, sizeof p, "%s/personas", dir);
  rmdir(p);
  rmdir(dir);
  env_close(&e);
}

static void batch_of(env_t *e, ain_ops_batch_t *b, ain_task_t *t, size_t n) {
  memset(b, 0, sizeof *b);
  b->tasks = t;
  b->ntasks = n;
  for (size_t i = 0; i < n; i++) {
    ain_task_defaults(&t[i], 3);
    t[i].persona_id = "tester";
    (void)e;
  }
}

/* New ids go in with one insert; a batch holding stored ids (same content) is sorted out id by
 * id: stored ones count as existing, new ones are stored; other content is a conflict naming the
 * index, and nothing of that batch is stored. */
TEST(enqueue_commit_new_existing_and_conflicting_ids) {
  env_t e;
  env_open(&e);
  ain_task_t t[3];
  for (int i = 0; i < 3; i++) {
    mk_task(&t[i], e.f.ns, NULL);
  }
  ain_ops_batch_t b;
  ain_err_t err;
  size_t existing = 99;
  batch_of(&e, &b, t, 2);
  ASSERT_OK(ain_ops_enqueue_commit(&e.ops, &b, "operator:test", &existing, &err));
  ASSERT_EQ((int)existing, 0);
  ASSERT_OK(ain_ops_enqueue_commit(&e.ops, &b, "operator:test", &existing, &err));
  ASSERT_EQ((int)existing, 2); /* a re-post: a no-op */
  batch_of(&e, &b, t + 1, 2);   /* t[1] stored, t[2] new */
  ASSERT_OK(ain_ops_enqueue_commit(&e.ops, &b, "operator:test", &existing, &err));
  ASSERT_EQ((int)existing, 1);
  ASSERT_EQ(status_of(&e, t[2].id), AIN_TASK_READY);
  ain_task_t t4[2];
  t4[0] = t[0];
  t4[0].payload = "{\"other\":1}";
  mk_task(&t4[1], e.f.ns, NULL);
  batch_of(&e, &b, t4, 2);
  ASSERT_EQ(ain_ops_enqueue_commit(&e.ops, &b, "operator:test", &existing, &err), AIN_ECONFLICT);
  ASSERT_STR_EQ(err.field, "[0].task_id");
  ain_task_t got;
  ASSERT_EQ(ain_ops_task_get(&e.ops, t4[1].id, &got, &err), AIN_ENOTFOUND);
  env_close(&e);
}

TEST_MAIN(TEST_ENTRY(list_pages_newest_first_each_task_once),
          TEST_ENTRY(list_cursor_is_stable_under_inserts_and_filters_apply),
          TEST_ENTRY(list_dag_filter), TEST_ENTRY(list_refuses_bad_input_naming_the_field),
          TEST_ENTRY(dag_list_pages_and_refusals), TEST_ENTRY(enqueue_refuses_a_task_id_twice),
          TEST_ENTRY(retry_a_dead_task_is_a_new_attempt_audited_with_the_actor),
          TEST_ENTRY(retry_in_a_failed_dag_reopens_it_and_its_cancelled_steps),
          TEST_ENTRY(cancel_and_audit_name_the_actor_and_refuse_unknown_ids),
          TEST_ENTRY(review_decisions_refused_before_the_store_and_by_it),
          TEST_ENTRY(publishers_pause_resume_audited_with_the_actor),
          TEST_ENTRY(open_migrate_close_and_a_store_that_cannot_open),
          TEST_ENTRY(error_table_maps_codes_to_exit_codes_and_http),
          TEST_ENTRY(enqueue_rechecks_a_persona_whose_file_changed),
          TEST_ENTRY(enqueue_commit_new_existing_and_conflicting_ids))
