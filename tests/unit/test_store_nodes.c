/* Contract tests of the node and archive store ops (NODE_BEAT, NODES, ARCHIVE) on both backends:
 * SQLite by default, Postgres with AIN_TEST_STORE_URL=postgres://... (and AIN_TEST_STORE_RESET,
 * as in store_fixture.h). Node ids are fresh per test, so a shared database still works.
 * Relies on: store_fixture.h, store/store.h, the C harness. */
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "harness.h"
#include "store/store.h"
#include "store_fixture.h"

#define T0 INT64_C(1700000000000)
#define LEASE 30000
#define TIMEOUT 5000

static ain_store_req_t beat(fx_t *f, const ain_node_t *n, int64_t now, int stopping) {
  ain_store_req_t r;
  ain_store_req_node_beat(&r, n, TIMEOUT, stopping);
  r.now = now;
  r.actor = n->id;
  int rc = ain_store_wait(f->s, &r);
  if (rc != 0) {
    fprintf(stderr, "beat: %s\n", r.err.msg);
  }
  ASSERT_OK(rc);
  ain_store_req_cleanup(&r);
  return r;
}

/* Finds id in a NODES listing (copied out; the strings are not kept). */
static int find_node(fx_t *f, const char *id, ain_node_t *out) {
  ain_store_req_t r;
  ain_store_req_nodes(&r);
  ASSERT_OK(ain_store_wait(f->s, &r));
  int found = 0;
  for (size_t i = 0; i < r.u.nodes.nnodes; i++) {
    if (strcmp(r.u.nodes.nodes[i].id, id) == 0) {
      *out = r.u.nodes.nodes[i];
      ASSERT_STR_EQ(out->host, "test-host");
      ASSERT_STR_EQ(out->version, "9.9.9");
      ASSERT_STR_EQ(out->node, "test-node");
      out->id = out->node = out->host = out->version = NULL;
      found = 1;
    }
  }
  ain_store_req_cleanup(&r);
  return found;
}

static void mk_task(ain_task_t *t) {
  memset(t, 0, sizeof *t);
  ain_uuid7(t->id);
  t->type = "noop";
  t->handler = "noop";
  t->payload = "{}";
}

static void enqueue(fx_t *f, ain_task_t *tasks, size_t n, const ain_dep_t *deps, size_t nd,
                    ain_dag_t *dag, int64_t now) {
  ain_store_batch_t b = {.dag = dag, .tasks = tasks, .ntasks = n, .deps = deps, .ndeps = nd};
  ain_store_req_t r;
  ain_store_req_enqueue(&r, &b);
  r.now = now;
  ASSERT_OK(ain_store_wait(f->s, &r));
  ain_store_req_cleanup(&r);
}

/* Claims the one ready task id as owner; returns its fencing token. */
static int64_t claim_one(fx_t *f, const char *id, const char *owner, int64_t now) {
  ain_store_req_t r;
  ain_store_req_claim(&r, owner, 1, LEASE); /* claim order: priority, run_at, id (uuid7) */
  r.now = now;
  ASSERT_OK(ain_store_wait(f->s, &r));
  int64_t v = -1;
  for (size_t i = 0; i < r.u.claim.ntasks; i++) {
    if (strcmp(r.u.claim.tasks[i].id, id) == 0) {
      v = r.u.claim.tasks[i].state_version;
    }
  }
  ain_store_req_cleanup(&r);
  ASSERT_GE(v, 1);
  return v;
}

static int finish_one(fx_t *f, const char *id, int64_t ver, int64_t now) {
  ain_finish_item_t it = {.task_id = id, .state_version = ver, .kind = AIN_FINISH_SUCCEEDED,
                          .result = "{\"ok\":true}"};
  ain_store_req_t r;
  ain_store_req_finish(&r, &it, 1);
  r.now = now;
  ASSERT_OK(ain_store_wait(f->s, &r));
  ain_store_req_cleanup(&r);
  return it.status;
}

static int extend_one(fx_t *f, const char *id, int64_t ver, int64_t now) {
  ain_extend_item_t it = {.task_id = id, .state_version = ver, .lease_until = now + LEASE};
  ain_store_req_t r;
  ain_store_req_extend(&r, &it, 1);
  r.now = now;
  ASSERT_OK(ain_store_wait(f->s, &r));
  ain_store_req_cleanup(&r);
  return it.status;
}

static ain_task_t get_task(fx_t *f, const char *id) {
  ain_store_req_t r;
  ain_store_req_get_task(&r, id);
  int rc = ain_store_wait(f->s, &r);
  if (rc != 0) {
    fprintf(stderr, "get_task %s: %s\n", id, r.err.msg);
  }
  ASSERT_OK(rc);
  ain_task_t t = r.u.get_task.task;
  memset(&r.u.get_task.task, 0, sizeof r.u.get_task.task);
  ain_store_req_cleanup(&r);
  return t;
}

/* ---- tests ---------------------------------------------------------------------------------- */

TEST(beat_upserts_and_lists) {
  fx_t f;
  fx_open(&f);
  char id[128];
  ain_node_t n, got;
  fx_node(&n, id, sizeof id, 4242, 2);
  beat(&f, &n, T0, 0);
  ASSERT_TRUE(find_node(&f, id, &got));
  ASSERT_EQ(got.state, AIN_NODE_ALIVE);
  ASSERT_EQ(got.pid, 4242);
  ASSERT_EQ(got.shards, 2);
  ASSERT_EQ(got.running, 0);
  ASSERT_EQ(got.started_at, T0);
  ASSERT_EQ(got.last_beat, T0);
  int64_t v0 = got.state_version;
  n.shards = 3;
  beat(&f, &n, T0 + 1000, 0);
  ASSERT_TRUE(find_node(&f, id, &got));
  ASSERT_EQ(got.last_beat, T0 + 1000);
  ASSERT_EQ(got.started_at, T0);
  ASSERT_EQ(got.shards, 3);
  ASSERT_EQ(got.state_version, v0); /* a beat is not a state change */
  /* a clean stop is a state change, and a stopped node is never declared dead */
  beat(&f, &n, T0 + 2000, 1);
  ASSERT_TRUE(find_node(&f, id, &got));
  ASSERT_EQ(got.state, AIN_NODE_STOPPED);
  ASSERT_EQ(got.state_version, v0 + 1);
  char id2[128];
  ain_node_t m;
  fx_node(&m, id2, sizeof id2, 7, 2);
  beat(&f, &m, T0 + 60000, 0);
  ASSERT_TRUE(find_node(&f, id, &got));
  ASSERT_EQ(got.state, AIN_NODE_STOPPED);
  fx_close(&f);
}

/* A node silent past the timeout is declared dead by another node's beat; its running task is
 * fenced (its finish and extend refused), reaped and run to success by the other node, with
 * strictly increasing versions in the audit and exactly one success. */
TEST(dead_node_leases_fenced_and_retried) {
  fx_t f;
  fx_open(&f);
  char ida[128], idb[128], owner_a[160], owner_b[160];
  ain_node_t a, b, got;
  fx_node(&a, ida, sizeof ida, 11, 2);
  fx_node(&b, idb, sizeof idb, 12, 2);
  snprintf(owner_a, sizeof owner_a, "%s/shard-0", ida);
  snprintf(owner_b, sizeof owner_b, "%s/shard-1", idb);
  beat(&f, &a, T0, 0);
  beat(&f, &b, T0, 0);
  ain_task_t t;
  mk_task(&t);
  enqueue(&f, &t, 1, NULL, 0, NULL, T0);
  int64_t va = claim_one(&f, t.id, owner_a, T0 + 10);
  ASSERT_TRUE(find_node(&f, ida, &got));
  ASSERT_EQ(got.running, 1);

  /* b beats within a's timeout: nothing happens */
  {
    ain_store_req_t r = beat(&f, &b, T0 + TIMEOUT - 100, 0);
    ASSERT_EQ(r.u.node_beat.expired, 0);
  }
  /* a is silent past the timeout (its lease of 30 s is still valid) */
  ain_store_req_t r = beat(&f, &b, T0 + TIMEOUT + 1000, 0);
  ASSERT_GE(r.u.node_beat.dead_nodes, 1);
  ASSERT_GE(r.u.node_beat.expired, 1);
  ASSERT_TRUE(find_node(&f, ida, &got));
  ASSERT_EQ(got.state, AIN_NODE_DEAD);
  /* a second beat does not declare it again */
  r = beat(&f, &b, T0 + TIMEOUT + 1100, 0);
  ASSERT_EQ(r.u.node_beat.expired, 0);

  /* a wakes up: its late extend and finish are fenced out */
  ASSERT_EQ(extend_one(&f, t.id, va, T0 + TIMEOUT + 1200), AIN_ECONFLICT);
  ASSERT_EQ(finish_one(&f, t.id, va, T0 + TIMEOUT + 1200), AIN_ECONFLICT);

  /* the reaper retries it; b runs it */
  ain_store_req_t rp;
  ain_store_req_reap(&rp);
  rp.now = T0 + TIMEOUT + 1300;
  ASSERT_OK(ain_store_wait(f.s, &rp));
  ASSERT_GE(rp.u.reap.reclaimed, 1);
  ain_store_req_cleanup(&rp);
  int64_t vb = claim_one(&f, t.id, owner_b, T0 + TIMEOUT + 1400);
  ASSERT_EQ(finish_one(&f, t.id, vb, T0 + TIMEOUT + 1500), 0);
  ain_task_t done = get_task(&f, t.id);
  ASSERT_EQ(done.status, AIN_TASK_SUCCEEDED);
  ASSERT_EQ(done.attempts, 2);
  ain_task_free(&done);

  ain_store_req_t au;
  ain_store_req_audit(&au, t.id, NULL);
  ASSERT_OK(ain_store_wait(f.s, &au));
  int successes = 0;
  for (size_t i = 0; i < au.u.audit.nrows; i++) {
    if (i > 0) {
      ASSERT_TRUE(au.u.audit.rows[i].state_version > au.u.audit.rows[i - 1].state_version);
    }
    successes += strcmp(au.u.audit.rows[i].to_status, "succeeded") == 0;
  }
  ASSERT_EQ(successes, 1);
  ain_store_req_cleanup(&au);

  /* a beats again: alive, with nothing running */
  beat(&f, &a, T0 + TIMEOUT + 2000, 0);
  ASSERT_TRUE(find_node(&f, ida, &got));
  ASSERT_EQ(got.state, AIN_NODE_ALIVE);
  ASSERT_EQ(got.running, 0);
  fx_close(&f);
}

/* "n/1" dying must not touch the leases of "n/10" (a prefix, not a pattern). */
TEST(dead_node_prefix_is_exact) {
  fx_t f;
  fx_open(&f);
  char id1[128], id10[160], idw[128], own10[200];
  ain_node_t n1, n10, w;
  fx_node(&n1, id1, sizeof id1, 1, 2);
  snprintf(id10, sizeof id10, "%s0", id1); /* same prefix, pid 10 */
  n10 = n1;
  n10.id = id10;
  fx_node(&w, idw, sizeof idw, 2, 2);
  snprintf(own10, sizeof own10, "%s/shard-0", id10);
  beat(&f, &n1, T0, 0);
  beat(&f, &n10, T0 + TIMEOUT, 0);
  ain_task_t t;
  mk_task(&t);
  enqueue(&f, &t, 1, NULL, 0, NULL, T0);
  int64_t v = claim_one(&f, t.id, own10, T0 + TIMEOUT);
  ain_store_req_t r = beat(&f, &w, T0 + TIMEOUT + 1000, 0); /* n1 is dead, n10 is not */
  ASSERT_GE(r.u.node_beat.dead_nodes, 1);
  ASSERT_EQ(extend_one(&f, t.id, v, T0 + TIMEOUT + 1100), 0);
  fx_close(&f);
}

TEST(bad_inputs_refused) {
  fx_t f;
  fx_open(&f);
  ain_store_req_t r;
  ain_store_req_node_beat(&r, NULL, TIMEOUT, 0);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ain_node_t n = {.id = ""};
  ain_store_req_node_beat(&r, &n, TIMEOUT, 0);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  n.id = "evil%/1";
  ain_store_req_node_beat(&r, &n, TIMEOUT, 0);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_CONTAINS(r.err.msg, "evil");
  n.id = "ok/1";
  ain_store_req_node_beat(&r, &n, 0, 0);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ain_store_req_archive(&r, T0, 0);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  fx_close(&f);
}

/* Finished tasks of finished DAGs move to the archive; live ones stay; reads still find them. */
TEST(archive_moves_finished_only) {
  fx_t f;
  fx_open(&f);
  ain_task_t t[2], solo, live;
  mk_task(&t[0]);
  mk_task(&t[1]);
  ain_dep_t d = {.task_id = t[1].id, .depends_on = t[0].id};
  ain_dag_t dag = {0};
  ain_uuid7(dag.id);
  enqueue(&f, t, 2, &d, 1, &dag, T0);
  mk_task(&solo);
  mk_task(&live);
  enqueue(&f, &solo, 1, NULL, 0, NULL, T0);
  int64_t v0 = claim_one(&f, t[0].id, "x/1/shard-0", T0 + 1);
  ASSERT_EQ(finish_one(&f, t[0].id, v0, T0 + 2), 0);
  /* the DAG is still running: its finished step stays */
  ain_store_req_t r;
  ain_store_req_archive(&r, T0 + 1000000, 100);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ain_store_req_cleanup(&r);
  ain_task_t g = get_task(&f, t[0].id);
  ASSERT_EQ(g.status, AIN_TASK_SUCCEEDED);
  ain_task_free(&g);
  int64_t v1 = claim_one(&f, t[1].id, "x/1/shard-0", T0 + 3);
  ASSERT_EQ(finish_one(&f, t[1].id, v1, T0 + 4), 0);
  int64_t vs = claim_one(&f, solo.id, "x/1/shard-0", T0 + 5);
  ASSERT_EQ(finish_one(&f, solo.id, vs, T0 + 6), 0);
  enqueue(&f, &live, 1, NULL, 0, NULL, T0 + 7);
  /* too young: nothing moves */
  ain_store_req_archive(&r, T0, 100);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.archive.archived, 0);
  /* old enough: the 3 finished move, the ready one stays */
  ain_store_req_archive(&r, T0 + 1000, 100);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_GE(r.u.archive.archived, 3);
  ain_store_req_archive(&r, T0 + 1000, 100);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.archive.archived, 0);
  /* reads still see archived tasks, DAGs with their edges, and audit rows */
  g = get_task(&f, solo.id);
  ASSERT_EQ(g.status, AIN_TASK_SUCCEEDED);
  ASSERT_STR_EQ(g.result, "{\"ok\":true}");
  ain_task_free(&g);
  ain_store_req_get_dag(&r, dag.id);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.get_dag.ntasks, 2);
  ASSERT_EQ(r.u.get_dag.ndeps, 1);
  ASSERT_EQ(r.u.get_dag.dag.status, AIN_DAG_SUCCEEDED);
  ain_store_req_cleanup(&r);
  ain_store_req_audit(&r, t[1].id, NULL);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_GE(r.u.audit.nrows, 3);
  ain_store_req_cleanup(&r);
  /* the live task is still claimable */
  claim_one(&f, live.id, "x/1/shard-0", T0 + 8);
  fx_close(&f);
}

TEST_MAIN(TEST_ENTRY(beat_upserts_and_lists), TEST_ENTRY(dead_node_leases_fenced_and_retried),
          TEST_ENTRY(dead_node_prefix_is_exact), TEST_ENTRY(bad_inputs_refused),
          TEST_ENTRY(archive_moves_finished_only))
