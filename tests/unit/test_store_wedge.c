/* Contract tests of the WEDGE store op (the watchdog's record of a wedged step) on both backends:
 * SQLite by default, Postgres with AIN_TEST_STORE_URL=postgres://... (and AIN_TEST_STORE_RESET,
 * as in store_fixture.h). Ids are fresh per test, so a shared database still works.
 * Relies on: store_fixture.h, store/store.h, the C harness. */
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "harness.h"
#include "store/store.h"
#include "store_fixture.h"

#define T0 INT64_C(1700000000000)
#define LEASE 30000
#define ERR "EWEDGED: t.run held n/1/shard-0 for 2000 ms in one call"

static void beat(fx_t *f, const ain_node_t *n, int64_t now) {
  ain_store_req_t r;
  ain_store_req_node_beat(&r, n, 5000, 0);
  r.now = now;
  ASSERT_OK(ain_store_wait(f->s, &r));
  ain_store_req_cleanup(&r);
}

static ain_node_state_t node_state(fx_t *f, const char *id) {
  ain_store_req_t r;
  ain_store_req_nodes(&r);
  ASSERT_OK(ain_store_wait(f->s, &r));
  int state = -1;
  for (size_t i = 0; i < r.u.nodes.nnodes; i++) {
    if (strcmp(r.u.nodes.nodes[i].id, id) == 0) {
      state = (int)r.u.nodes.nodes[i].state;
    }
  }
  ain_store_req_cleanup(&r);
  ASSERT_GE(state, 0);
  return (ain_node_state_t)state;
}

static void enqueue_task(fx_t *f, ain_task_t *t, int max_attempts) {
  memset(t, 0, sizeof *t);
  ain_uuid7(t->id);
  t->type = "wedge";
  t->handler = "lua:wedge.run";
  t->payload = "{}";
  t->max_attempts = max_attempts;
  ain_store_batch_t b = {.tasks = t, .ntasks = 1};
  ain_store_req_t r;
  ain_store_req_enqueue(&r, &b);
  r.now = T0;
  ASSERT_OK(ain_store_wait(f->s, &r));
  ain_store_req_cleanup(&r);
}

/* Claims ready tasks as owner until id is among them; returns its fencing token. */
static int64_t claim(fx_t *f, const char *id, const char *owner, int64_t now) {
  int64_t v = -1;
  for (int round = 0; round < 50 && v < 0; round++) {
    ain_store_req_t r;
    ain_store_req_claim(&r, owner, 16, LEASE);
    r.now = now;
    ASSERT_OK(ain_store_wait(f->s, &r));
    for (size_t i = 0; i < r.u.claim.ntasks; i++) {
      if (strcmp(r.u.claim.tasks[i].id, id) == 0) {
        v = r.u.claim.tasks[i].state_version;
      }
    }
    ain_store_req_cleanup(&r);
  }
  ASSERT_GE(v, 1);
  return v;
}

static ain_store_req_t wedge(fx_t *f, const char *id, int64_t ver, int poison_after,
                             const char *node_id, int64_t now) {
  ain_store_req_t r;
  ain_store_req_wedge(&r, id, ver, "n/1/shard-0", ERR, 2000, poison_after, node_id);
  r.now = now;
  r.actor = "n/1/watchdog";
  int rc = ain_store_wait(f->s, &r);
  if (rc != 0) {
    fprintf(stderr, "wedge: %s\n", r.err.msg);
  }
  ASSERT_OK(rc);
  ain_store_req_cleanup(&r);
  return r;
}

static ain_task_t get_task(fx_t *f, const char *id) {
  ain_store_req_t r;
  ain_store_req_get_task(&r, id);
  ASSERT_OK(ain_store_wait(f->s, &r));
  ain_task_t t = r.u.get_task.task;
  memset(&r.u.get_task.task, 0, sizeof r.u.get_task.task);
  ain_store_req_cleanup(&r);
  return t;
}

/* s without its spaces (Postgres prints jsonb as {"a": 1}, SQLite as {"a":1}). Static buffer. */
static const char *squeeze(const char *s) {
  static char buf[2048];
  size_t n = 0;
  for (; *s != '\0' && n + 1 < sizeof buf; s++) {
    if (*s != ' ') {
      buf[n++] = *s;
    }
  }
  buf[n] = '\0';
  return buf;
}

/* The audit row (task_id, from -> to) written by the watchdog; asserts there is exactly one. */
static void assert_audited(fx_t *f, const char *id, const char *to, const char *detail_has) {
  ain_store_req_t r;
  ain_store_req_audit(&r, id, NULL);
  ASSERT_OK(ain_store_wait(f->s, &r));
  int n = 0;
  for (size_t i = 0; i < r.u.audit.nrows; i++) {
    const ain_audit_t *a = &r.u.audit.rows[i];
    if (strcmp(a->actor, "n/1/watchdog") == 0 && strcmp(a->to_status, to) == 0) {
      ASSERT_STR_EQ(a->from_status, "running");
      ASSERT_NOT_NULL(a->detail);
      ASSERT_STR_CONTAINS(squeeze(a->detail), detail_has);
      n++;
    }
  }
  ain_store_req_cleanup(&r);
  ASSERT_EQ(n, 1);
}

/* First wedge: back to ready at once with the error; second: dead-lettered with EPOISON. */
TEST(wedge_returns_to_ready_then_poison) {
  fx_t f;
  fx_open(&f);
  ain_task_t t;
  enqueue_task(&f, &t, 5);
  int64_t v = claim(&f, t.id, "n/1/shard-0", T0 + 10);
  ain_store_req_t r = wedge(&f, t.id, v, 2, NULL, T0 + 20);
  ASSERT_EQ(r.u.wedge.wedges, 1);
  ASSERT_EQ(r.u.wedge.applied, 1);
  ASSERT_EQ(r.u.wedge.new_status, AIN_TASK_READY);
  ASSERT_TRUE(r.u.wedge.new_version > v);
  ain_task_t got = get_task(&f, t.id);
  ASSERT_EQ(got.status, AIN_TASK_READY);
  ASSERT_EQ(got.run_at, T0 + 20); /* at once: another node retries it now */
  ASSERT_STR_EQ(got.last_error, ERR);
  ASSERT_NULL(got.lease_owner);
  ain_task_free(&got);
  assert_audited(&f, t.id, "ready", "\"wedges\":1");

  v = claim(&f, t.id, "n/2/shard-0", T0 + 30);
  r = wedge(&f, t.id, v, 2, NULL, T0 + 40);
  ASSERT_EQ(r.u.wedge.wedges, 2);
  ASSERT_EQ(r.u.wedge.applied, 1);
  ASSERT_EQ(r.u.wedge.new_status, AIN_TASK_DEAD);
  got = get_task(&f, t.id);
  ASSERT_EQ(got.status, AIN_TASK_DEAD);
  ASSERT_STR_CONTAINS(got.last_error, "EPOISON: wedged a shard 2 times");
  ASSERT_STR_CONTAINS(got.last_error, ERR); /* the last wedge is named */
  ain_task_free(&got);
  assert_audited(&f, t.id, "dead", "EPOISON");
  fx_close(&f);
}

/* A stale token (the lease was taken over): the wedge counts, the task is left as it is. */
TEST(fenced_out_wedge_is_counted_not_applied) {
  fx_t f;
  fx_open(&f);
  ain_task_t t;
  enqueue_task(&f, &t, 5);
  int64_t v = claim(&f, t.id, "n/1/shard-0", T0 + 10);
  ain_store_req_t r = wedge(&f, t.id, v - 1, 2, NULL, T0 + 20);
  ASSERT_EQ(r.u.wedge.wedges, 1);
  ASSERT_EQ(r.u.wedge.applied, 0);
  ASSERT_EQ(r.u.wedge.new_status, AIN_TASK_RUNNING);
  ASSERT_EQ(r.u.wedge.new_version, v);
  ain_task_t got = get_task(&f, t.id);
  ASSERT_EQ(got.status, AIN_TASK_RUNNING);
  ASSERT_EQ(got.state_version, v);
  ain_task_free(&got);
  /* the next wedge, fenced correctly, is the second: a poison pill */
  r = wedge(&f, t.id, v, 2, NULL, T0 + 30);
  ASSERT_EQ(r.u.wedge.wedges, 2);
  ASSERT_EQ(r.u.wedge.new_status, AIN_TASK_DEAD);
  fx_close(&f);
}

/* Out of attempts before it is a poison pill: dead with the wedge's own error. */
TEST(wedge_without_attempts_left_is_dead) {
  fx_t f;
  fx_open(&f);
  ain_task_t t;
  enqueue_task(&f, &t, 1);
  int64_t v = claim(&f, t.id, "n/1/shard-0", T0 + 10);
  ain_store_req_t r = wedge(&f, t.id, v, 5, NULL, T0 + 20);
  ASSERT_EQ(r.u.wedge.wedges, 1);
  ASSERT_EQ(r.u.wedge.new_status, AIN_TASK_DEAD);
  ain_task_t got = get_task(&f, t.id);
  ASSERT_STR_EQ(got.last_error, ERR);
  ain_task_free(&got);
  fx_close(&f);
}

/* node_id: the wedged node is dead and its other leases are fenced; other nodes' are not. */
TEST(wedged_node_is_dead_and_fenced) {
  fx_t f;
  fx_open(&f);
  char idn[128], ido[128], own_n[200], own_o[200];
  ain_node_t n, o;
  fx_node(&n, idn, sizeof idn, 1, 1);
  fx_node(&o, ido, sizeof ido, 2, 1);
  snprintf(own_n, sizeof own_n, "%s/shard-0", idn);
  snprintf(own_o, sizeof own_o, "%s/shard-0", ido);
  beat(&f, &n, T0);
  beat(&f, &o, T0);
  ain_task_t w, mine, theirs;
  enqueue_task(&f, &w, 5); /* one at a time: a claim takes every ready task */
  int64_t vw = claim(&f, w.id, own_n, T0 + 10);
  enqueue_task(&f, &mine, 5);
  int64_t vm = claim(&f, mine.id, own_n, T0 + 10);
  enqueue_task(&f, &theirs, 5);
  int64_t vt = claim(&f, theirs.id, own_o, T0 + 10);
  ain_store_req_t r = wedge(&f, w.id, vw, 2, idn, T0 + 20);
  ASSERT_EQ(r.u.wedge.applied, 1);
  ASSERT_EQ(r.u.wedge.fenced, 1);
  ASSERT_EQ(node_state(&f, idn), AIN_NODE_DEAD);
  ASSERT_EQ(node_state(&f, ido), AIN_NODE_ALIVE);
  ain_task_t got = get_task(&f, mine.id);
  ASSERT_EQ(got.status, AIN_TASK_RUNNING);
  ASSERT_TRUE(got.state_version > vm); /* the fence: its late finish is refused */
  ASSERT_TRUE(got.lease_until < T0 + 20);
  ain_task_free(&got);
  got = get_task(&f, theirs.id);
  ASSERT_EQ(got.state_version, vt);
  ain_task_free(&got);
  /* the reaper hands the fenced lease out at once */
  ain_store_req_t rp;
  ain_store_req_reap(&rp);
  rp.now = T0 + 30;
  ASSERT_OK(ain_store_wait(f.s, &rp));
  ASSERT_GE(rp.u.reap.reclaimed, 1);
  ain_store_req_cleanup(&rp);
  got = get_task(&f, mine.id);
  ASSERT_EQ(got.status, AIN_TASK_READY);
  ain_task_free(&got);
  fx_close(&f);
}

/* A poison pill in a DAG fails the DAG and cancels its other steps, like any dead letter. */
TEST(poison_pill_fails_its_dag) {
  fx_t f;
  fx_open(&f);
  ain_task_t t[2];
  for (int i = 0; i < 2; i++) {
    memset(&t[i], 0, sizeof t[i]);
    ain_uuid7(t[i].id);
    t[i].type = "step";
    t[i].step = i == 0 ? "wedge" : "after";
    t[i].handler = "lua:wedge.run";
    t[i].payload = "{}";
    t[i].max_attempts = 5;
  }
  ain_dep_t d = {.task_id = t[1].id, .depends_on = t[0].id};
  ain_dag_t dag = {0};
  ain_uuid7(dag.id);
  ain_store_batch_t b = {.dag = &dag, .tasks = t, .ntasks = 2, .deps = &d, .ndeps = 1};
  ain_store_req_t r;
  ain_store_req_enqueue(&r, &b);
  r.now = T0;
  ASSERT_OK(ain_store_wait(f.s, &r));
  ain_store_req_cleanup(&r);
  int64_t v = claim(&f, t[0].id, "n/1/shard-0", T0 + 10);
  r = wedge(&f, t[0].id, v, 1, NULL, T0 + 20);
  ASSERT_EQ(r.u.wedge.new_status, AIN_TASK_DEAD);
  ain_store_req_get_dag(&r, dag.id);
  ASSERT_OK(ain_store_wait(f.s, &r));
  ASSERT_EQ(r.u.get_dag.dag.status, AIN_DAG_FAILED);
  ASSERT_STR_CONTAINS(r.u.get_dag.dag.last_error, "EPOISON");
  ain_store_req_cleanup(&r);
  ain_task_t got = get_task(&f, t[1].id);
  ASSERT_EQ(got.status, AIN_TASK_CANCELLED);
  ain_task_free(&got);
  fx_close(&f);
}

TEST(bad_wedges_refused) {
  fx_t f;
  fx_open(&f);
  ain_store_req_t r;
  ain_store_req_wedge(&r, NULL, 1, "o", ERR, 1, 2, NULL);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "task_id");
  char id[AIN_UUID_LEN + 1];
  ain_uuid7(id);
  ain_store_req_wedge(&r, id, 1, "o", "ELUA: not a wedge", 1, 2, NULL);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "error");
  ain_store_req_wedge(&r, id, 1, "o", ERR, 1, 0, NULL);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "poison_after");
  ain_store_req_wedge(&r, id, -1, "o", ERR, 1, 2, NULL);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "state_version");
  ain_store_req_wedge(&r, id, 1, "o", ERR, 1, 2, "evil%/1");
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_EINVAL);
  ASSERT_STR_EQ(r.err.field, "node_id");
  /* an unknown task: not found, and nothing is written (the node stays alive) */
  char idn[128];
  ain_node_t n;
  fx_node(&n, idn, sizeof idn, 3, 1);
  beat(&f, &n, T0);
  ain_store_req_wedge(&r, id, 1, "o", ERR, 1, 2, idn);
  ASSERT_EQ(ain_store_wait(f.s, &r), AIN_ENOTFOUND);
  ASSERT_STR_CONTAINS(r.err.msg, id);
  ain_store_req_cleanup(&r);
  ASSERT_EQ(node_state(&f, idn), AIN_NODE_ALIVE);
  fx_close(&f);
}

TEST_MAIN(TEST_ENTRY(wedge_returns_to_ready_then_poison),
          TEST_ENTRY(fenced_out_wedge_is_counted_not_applied),
          TEST_ENTRY(wedge_without_attempts_left_is_dead),
          TEST_ENTRY(wedged_node_is_dead_and_fenced), TEST_ENTRY(poison_pill_fails_its_dag),
          TEST_ENTRY(bad_wedges_refused))
