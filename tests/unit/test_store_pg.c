/* Postgres-specific store tests against a real PostgreSQL server: concurrent migrators, pipelined
 * requests completing in submit order, LISTEN/NOTIFY wake-ups across handles, a connection killed
 * under the handle (requests fail, the next one reconnects), refused connections and bad URLs,
 * and a claim-100/finish-100 throughput figure. The behaviour every backend shares is in
 * test_store.c (run on Postgres by tests/integration/store_postgres.sh).
 *
 * Uses AIN_TEST_STORE_URL / AIN_TEST_STORE_RESET when set; otherwise starts its own server with
 * tools/pg-test-server.sh for the run and stops it at the end. */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "harness.h"
#include "store/store.h"

static const char *url(void) {
  return getenv("AIN_TEST_STORE_URL");
}

static void reset_schema(void) {
  const char *cmd = getenv("AIN_TEST_STORE_RESET");
  ASSERT_NOT_NULL(cmd);
  ASSERT_EQ(system(cmd), 0);
}

static ain_store_t *open_store(uv_loop_t *loop, const char *u) {
  ain_store_config_t cfg = {.url = u, .sql_dir = ain_test_src("sql")};
  ain_store_t *s = NULL;
  ain_err_t err = {0};
  int rc = ain_store_open(&cfg, loop, &s, &err);
  if (rc != 0)
    fprintf(stderr, "open: %s\n", err.msg);
  ASSERT_OK(rc);
  ASSERT_STR_EQ(ain_store_backend_name(s), "postgres");
  return s;
}

static int closed_count;
static void on_closed(void *data) {
  (void)data;
  closed_count++;
}

static void close_store(uv_loop_t *loop, ain_store_t *s) {
  int before = closed_count;
  ain_store_close(s, on_closed, NULL);
  while (closed_count == before)
    uv_run(loop, UV_RUN_ONCE);
}

static void fresh(uv_loop_t *loop, ain_store_t **s) {
  ain_store_req_t req;
  reset_schema();
  *s = open_store(loop, url());
  ain_store_req_migrate(&req);
  if (ain_store_wait(*s, &req) != 0)
    fprintf(stderr, "migrate: %s\n", req.err.msg);
  ASSERT_OK(req.status);
}

static void make_task(ain_task_t *t, const char *step) {
  memset(t, 0, sizeof(*t));
  ain_uuid7(t->id);
  t->type = "step";
  t->step = (char *)step;
  t->payload = "{\"k\":1}";
}

static void enqueue(ain_store_t *s, ain_task_t *tasks, size_t n, const ain_dep_t *deps,
                    size_t ndeps, ain_dag_t *dag) {
  ain_store_batch_t b = {.dag = dag, .tasks = tasks, .ntasks = n, .deps = deps, .ndeps = ndeps};
  ain_store_req_t req;
  ain_store_req_enqueue(&req, &b);
  req.actor = "test";
  if (ain_store_wait(s, &req) != 0)
    fprintf(stderr, "enqueue: %s\n", req.err.msg);
  ASSERT_OK(req.status);
}

/* ---- migrations ---------------------------------------------------------------------------- */

static int mig_done;
static void on_mig(ain_store_req_t *req) {
  (void)req;
  mig_done++;
}

/* Migrations shipped in sql/postgres: the schema version after migrating, and what 3 racing
 * migrators must apply between them, exactly once each. */
/* How many migration files there are, and (*highest) the largest version among them: numbers
 * are reserved per feature, so there can be gaps while a branch is in flight. */
static int count_migrations(int *highest) {
  glob_t g;
  int n = 0;
  *highest = 0;
  if (glob(ain_test_src("sql/postgres/[0-9][0-9][0-9]_*.sql"), 0, NULL, &g) == 0) {
    n = (int)g.gl_pathc;
    for (size_t i = 0; i < g.gl_pathc; i++) {
      const char *base = strrchr(g.gl_pathv[i], '/');
      int v = atoi(base != NULL ? base + 1 : g.gl_pathv[i]);
      *highest = v > *highest ? v : *highest;
    }
    globfree(&g);
  }
  return n;
}

TEST(concurrent_migrators_apply_once) {
  int highest = 0, nmig = count_migrations(&highest);
  ASSERT_GE(nmig, 1);
  uv_loop_t loop;
  ain_store_t *s[3];
  ain_store_req_t req[3];
  int i, applied = 0;
  uv_loop_init(&loop);
  reset_schema();
  for (i = 0; i < 3; i++) {
    s[i] = open_store(&loop, url());
    ain_store_req_migrate(&req[i]);
    req[i].cb = on_mig;
    ASSERT_OK(ain_store_submit(s[i], &req[i]));
  }
  ASSERT_EQ(mig_done, 0); /* never from inside submit */
  while (mig_done < 3)
    uv_run(&loop, UV_RUN_ONCE);
  for (i = 0; i < 3; i++) {
    if (req[i].status)
      fprintf(stderr, "migrate %d: %s\n", i, req[i].err.msg);
    ASSERT_OK(req[i].status);
    ASSERT_EQ(req[i].u.migrate.version, highest);
    applied += req[i].u.migrate.applied;
  }
  ASSERT_EQ(applied, nmig);
  ain_store_req_migrate(&req[0]);
  ASSERT_OK(ain_store_wait(s[0], &req[0]));
  ASSERT_EQ(req[0].u.migrate.applied, 0);
  for (i = 0; i < 3; i++)
    close_store(&loop, s[i]);
  ASSERT_EQ(uv_loop_close(&loop), 0);
}

TEST(migration_errors_are_reported) {
  uv_loop_t loop;
  ain_store_config_t cfg = {.url = url(), .sql_dir = ain_test_tmpdir()};
  ain_store_t *s = NULL;
  ain_store_req_t req;
  ain_err_t err = {0};
  char path[1024];
  FILE *f;
  uv_loop_init(&loop);
  reset_schema();
  ASSERT_OK(ain_store_open(&cfg, &loop, &s, &err));
  ain_store_req_migrate(&req);
  ASSERT_EQ(ain_store_wait(s, &req), AIN_ECONFIG); /* no postgres/ folder */
  snprintf(path, sizeof(path), "%s/postgres", ain_test_tmpdir());
  ASSERT_OK(uv_fs_mkdir(NULL, &(uv_fs_t){0}, path, 0755, NULL));
  snprintf(path, sizeof(path), "%s/postgres/001_bad.sql", ain_test_tmpdir());
  f = fopen(path, "w");
  ASSERT_NOT_NULL(f);
  fputs("CREATE TABLE ok_table (x int);\nCREATE TABLE broken (;\n", f);
  fclose(f);
  ain_store_req_migrate(&req);
  ASSERT_EQ(ain_store_wait(s, &req), AIN_ESTORE);
  ASSERT_STR_CONTAINS(req.err.msg, "001_bad.sql");
  /* the failed file rolled back entirely: its first table does not exist either, and the
   * handle is usable afterwards */
  ain_store_req_stats(&req);
  ASSERT_EQ(ain_store_wait(s, &req), AIN_ESTORE);
  ASSERT_STR_CONTAINS(req.err.msg, "tasks");
  close_store(&loop, s);
  ASSERT_EQ(uv_loop_close(&loop), 0);
}

/* ---- pipelining ---------------------------------------------------------------------------- */

static int order_next, order_bad;
static void on_ordered(ain_store_req_t *req) {
  if ((int)(intptr_t)req->data != order_next)
    order_bad++;
  order_next++;
}

TEST(pipelined_requests_complete_in_submit_order) {
  uv_loop_t loop;
  ain_store_t *s;
  ain_task_t t;
  enum { N = 300 };
  static ain_store_req_t reqs[N];
  int i;
  uv_loop_init(&loop);
  fresh(&loop, &s);
  make_task(&t, "a");
  enqueue(s, &t, 1, NULL, 0, NULL);
  for (i = 0; i < N; i++) {
    if (i % 3 == 0)
      ain_store_req_get_task(&reqs[i], t.id);
    else if (i % 3 == 1)
      ain_store_req_get_task(&reqs[i], "no-such-task"); /* an error mid-pipeline */
    else
      ain_store_req_stats(&reqs[i]);
    reqs[i].data = (void *)(intptr_t)i;
    reqs[i].cb = on_ordered;
    ASSERT_OK(ain_store_submit(s, &reqs[i]));
  }
  while (order_next < N)
    uv_run(&loop, UV_RUN_ONCE);
  ASSERT_EQ(order_bad, 0);
  for (i = 0; i < N; i++) {
    if (i % 3 == 0) {
      ASSERT_OK(reqs[i].status);
      ASSERT_STR_EQ(reqs[i].u.get_task.task.payload, "{\"k\":1}");
    } else if (i % 3 == 1) {
      ASSERT_EQ(reqs[i].status, AIN_ENOTFOUND);
      ASSERT_STR_CONTAINS(reqs[i].err.msg, "no-such-task");
    } else {
      ASSERT_OK(reqs[i].status);
      ASSERT_EQ(reqs[i].u.stats.stats.tasks[AIN_TASK_READY], 1);
    }
    ain_store_req_cleanup(&reqs[i]);
  }
  close_store(&loop, s);
  ASSERT_EQ(uv_loop_close(&loop), 0);
}

/* ---- LISTEN/NOTIFY ------------------------------------------------------------------------- */

static int woken;
static void on_wake(void *data) {
  (void)data;
  woken++;
}

static void on_wake_a(void *data) {
  (*(int *)data)++;
}

TEST(notify_wakes_other_handles) {
  uv_loop_t loop;
  ain_store_t *a, *b;
  ain_store_req_t req;
  ain_task_t t;
  uv_loop_init(&loop);
  fresh(&loop, &a);
  b = open_store(&loop, url());
  static int woken_a;
  ain_store_on_wakeup(b, on_wake, NULL);
  ain_store_on_wakeup(a, on_wake_a, &woken_a);
  ain_store_req_stats(&req); /* b is connected and listening once this returns */
  ASSERT_OK(ain_store_wait(b, &req));
  ASSERT_EQ(woken, 1); /* (re)connecting wakes once: commits before LISTEN were not announced */
  woken = 0;
  make_task(&t, "a");
  enqueue(a, &t, 1, NULL, 0, NULL);
  for (int i = 0; i < 2000 && !woken; i++)
    uv_run(&loop, UV_RUN_NOWAIT), uv_sleep(1);
  ASSERT_GE(woken, 1);
  ASSERT_EQ(woken_a, 0); /* not by its own commit */
  close_store(&loop, a);
  close_store(&loop, b);
  ASSERT_EQ(uv_loop_close(&loop), 0);
}

/* ---- connection loss ----------------------------------------------------------------------- */

static void psql(const char *sql) {
  char cmd[1024];
  snprintf(cmd, sizeof(cmd), "psql -X -q -d '%s' -c \"%s\" >/dev/null", url(), sql);
  ASSERT_EQ(system(cmd), 0);
}

TEST(lost_connection_fails_requests_then_reconnects) {
  uv_loop_t loop;
  ain_store_t *s;
  ain_store_req_t req;
  ain_task_t t;
  uv_loop_init(&loop);
  fresh(&loop, &s);
  make_task(&t, "a");
  enqueue(s, &t, 1, NULL, 0, NULL);
  psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ain'");
  ain_store_req_get_task(&req, t.id);
  ASSERT_EQ(ain_store_wait(s, &req), AIN_ESTORE);
  ASSERT_STR_CONTAINS(req.err.msg, "connection lost");
  ain_store_req_get_task(&req, t.id); /* reconnects after the backoff */
  if (ain_store_wait(s, &req) != 0)
    fprintf(stderr, "after reconnect: %s\n", req.err.msg);
  ASSERT_OK(req.status);
  ASSERT_STR_EQ(req.u.get_task.task.id, t.id);
  ain_store_req_cleanup(&req);
  close_store(&loop, s);
  ASSERT_EQ(uv_loop_close(&loop), 0);
}

static int refused_cb;
static void on_refused(ain_store_req_t *req) {
  (void)req;
  refused_cb++;
}

TEST(refused_connection_and_bad_url) {
  uv_loop_t loop;
  ain_store_t *s = NULL;
  ain_store_req_t req;
  ain_err_t err = {0};
  ain_store_config_t bad = {.url = "postgres://ain@127.0.0.1:99999999/x?bogus_option=1"};
  uv_loop_init(&loop);
  ASSERT_EQ(ain_store_open(&bad, &loop, &s, &err), AIN_ECONFIG);
  ASSERT_NULL(s);
  /* port 1 on loopback: nobody listens, the connect is refused */
  s = open_store(&loop, "postgres://ain@127.0.0.1:1/ain?connect_timeout=2");
  ain_store_req_stats(&req);
  req.cb = on_refused;
  ASSERT_OK(ain_store_submit(s, &req));
  ASSERT_EQ(refused_cb, 0);
  while (!req.done)
    uv_run(&loop, UV_RUN_ONCE);
  ASSERT_EQ(refused_cb, 1);
  ASSERT_EQ(req.status, AIN_ESTORE);
  ASSERT_STR_CONTAINS(req.err.msg, "connect failed");
  ASSERT_STR_CONTAINS(req.err.msg, "refused"); /* libpq's own reason, not a poll error */
  close_store(&loop, s);
  ASSERT_EQ(uv_loop_close(&loop), 0);
}

/* Several hosts: the first refuses, libpq moves on to the next one (what a name with an address
 * nobody listens on, e.g. ::1 first for "localhost", also looks like). */
TEST(refused_host_then_the_next_one) {
  uv_loop_t loop;
  ain_store_t *s;
  ain_store_req_t req;
  char u[512];
  const char *at = strchr(url(), '@');
  ASSERT_NOT_NULL(at);
  snprintf(u, sizeof u, "%.*s127.0.0.1:1,%s", (int)(at - url() + 1), url(), at + 1);
  uv_loop_init(&loop);
  s = open_store(&loop, u);
  ain_store_req_stats(&req);
  if (ain_store_wait(s, &req) != 0)
    fprintf(stderr, "stats via %s: %s\n", u, req.err.msg);
  ASSERT_OK(req.status);
  close_store(&loop, s);
  ASSERT_EQ(uv_loop_close(&loop), 0);
}

/* The URL with its host replaced by `host` (the rest as the test server's URL has it). */
static void url_with_host(char *out, size_t n, const char *host) {
  const char *u = url(), *at = strchr(u, '@'), *colon = at ? strchr(at, ':') : NULL;
  ASSERT_NOT_NULL(colon);
  snprintf(out, n, "%.*s%s%s", (int)(at - u + 1), u, host, colon);
}

static void on_any(ain_store_req_t *req) {
  (void)req;
}

/* A host *name* is looked up on the thread pool (resolve.c), never by libpq on the loop:
 * "localhost" connects (to each of its addresses in turn: ::1 may be first while the server
 * listens on 127.0.0.1 only); a name that does not resolve fails the request with an error naming
 * it; a handle closed while its lookup runs still closes cleanly. */
TEST(host_names_resolved_off_the_loop) {
  uv_loop_t loop;
  ain_store_t *s;
  ain_store_req_t req;
  char u[512];
  uv_loop_init(&loop);
  url_with_host(u, sizeof u, "localhost");
  s = open_store(&loop, u);
  ain_store_req_stats(&req);
  if (ain_store_wait(s, &req) != 0)
    fprintf(stderr, "stats via localhost: %s\n", req.err.msg);
  ASSERT_OK(req.status);
  close_store(&loop, s);

  url_with_host(u, sizeof u, "nosuch-host.invalid");
  s = open_store(&loop, u);
  ain_store_req_stats(&req);
  ASSERT_EQ(ain_store_wait(s, &req), AIN_ESTORE);
  ASSERT_STR_CONTAINS(req.err.msg, "cannot resolve host \"nosuch-host.invalid\"");
  close_store(&loop, s);

  url_with_host(u, sizeof u, "localhost");
  s = open_store(&loop, u); /* the lookup starts at open... */
  ain_store_req_stats(&req);
  req.cb = on_any;
  ASSERT_OK(ain_store_submit(s, &req));
  close_store(&loop, s); /* ...and the handle closes under it */
  ASSERT_EQ(req.status, AIN_ESHUTDOWN);
  ASSERT_EQ(uv_loop_close(&loop), 0);
}

static int shut_cb;
static void on_shut(ain_store_req_t *req) {
  if (req->status == AIN_ESHUTDOWN)
    shut_cb++;
}

TEST(close_fails_queued_requests_with_eshutdown) {
  uv_loop_t loop;
  ain_store_t *s;
  ain_store_req_t req[3];
  uv_loop_init(&loop);
  fresh(&loop, &s);
  for (int i = 0; i < 3; i++) {
    ain_store_req_stats(&req[i]);
    req[i].cb = on_shut;
    ASSERT_OK(ain_store_submit(s, &req[i]));
  }
  close_store(&loop, s);
  ASSERT_EQ(shut_cb, 3);
  ASSERT_EQ(uv_loop_close(&loop), 0);
}

/* ---- throughput ---------------------------------------------------------------------------- */

TEST(claim_finish_batches_throughput) {
  uv_loop_t loop;
  ain_store_t *s;
  enum { N = 5000, B = 100 };
  static ain_task_t tasks[N];
  static ain_finish_item_t items[B];
  ain_store_req_t req;
  int done = 0, i;
  uint64_t t0;
  uv_loop_init(&loop);
  fresh(&loop, &s);
  for (i = 0; i < N; i++)
    make_task(&tasks[i], NULL);
  for (i = 0; i < N; i += 1000)
    enqueue(s, tasks + i, 1000, NULL, 0, NULL);
  t0 = ain_mono_ns();
  while (done < N) {
    ain_store_req_claim(&req, "bench/0", B, 30000);
    req.actor = "bench/0";
    ASSERT_OK(ain_store_wait(s, &req));
    ASSERT_EQ(req.u.claim.ntasks, B);
    for (i = 0; i < B; i++)
      items[i] = (ain_finish_item_t){.task_id = req.u.claim.tasks[i].id,
                                     .state_version = req.u.claim.tasks[i].state_version,
                                     .kind = AIN_FINISH_SUCCEEDED,
                                     .result = "{\"ok\":true}"};
    ain_store_req_t fin;
    ain_store_req_finish(&fin, items, B);
    fin.actor = "bench/0";
    ASSERT_OK(ain_store_wait(s, &fin));
    for (i = 0; i < B; i++)
      ASSERT_OK(items[i].status);
    ain_store_req_cleanup(&req);
    done += B;
  }
  double secs = (double)(ain_mono_ns() - t0) / 1e9;
  fprintf(stderr, "# postgres claim-%d/finish-%d: %d tasks in %.2f s = %.0f tasks/s\n", B, B, N,
          secs, N / secs);
  ain_store_req_stats(&req);
  ASSERT_OK(ain_store_wait(s, &req));
  ASSERT_EQ(req.u.stats.stats.tasks[AIN_TASK_SUCCEEDED], N);
  close_store(&loop, s);
  ASSERT_EQ(uv_loop_close(&loop), 0);
}

static const ain_test_t tests[] = {
    TEST_ENTRY(concurrent_migrators_apply_once),
    TEST_ENTRY(migration_errors_are_reported),
    TEST_ENTRY(pipelined_requests_complete_in_submit_order),
    TEST_ENTRY(notify_wakes_other_handles),
    TEST_ENTRY(lost_connection_fails_requests_then_reconnects),
    TEST_ENTRY(refused_connection_and_bad_url),
    TEST_ENTRY(refused_host_then_the_next_one),
    TEST_ENTRY(host_names_resolved_off_the_loop),
    TEST_ENTRY(close_fails_queued_requests_with_eshutdown),
    TEST_ENTRY(claim_finish_batches_throughput),
    {NULL, NULL}};

int main(int argc, char **argv) {
  char dir[600], cmd[1400], line[256];
  int own = 0, rc;
  /* store.c references the backend weakly; naming it here links it into this binary */
  if (strcmp(ain_store_postgres_backend.name, "postgres") != 0)
    return 2;
  if (!url()) {
    FILE *f;
    /* not ain_test_tmpdir(): each passing test removes that one, and the server outlives them */
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/ain-pg-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir))
      return 1;
    snprintf(cmd, sizeof(cmd), "%s start '%s'", ain_test_src("tools/pg-test-server.sh"), dir);
    f = popen(cmd, "r");
    if (!f || !fgets(line, sizeof(line), f) || pclose(f) != 0) {
      fprintf(stderr, "could not start a PostgreSQL server with %s\n", cmd);
      return 1;
    }
    line[strcspn(line, "\n")] = '\0';
    setenv("AIN_TEST_STORE_URL", line, 1);
    snprintf(cmd, sizeof(cmd), "%s reset '%s'", ain_test_src("tools/pg-test-server.sh"), dir);
    setenv("AIN_TEST_STORE_RESET", cmd, 1);
    own = 1;
  }
  rc = ain_test_run(tests, argc, argv);
  if (own) {
    snprintf(cmd, sizeof(cmd), "%s stop '%s' && rm -rf '%s'",
             ain_test_src("tools/pg-test-server.sh"), dir, dir);
    if (system(cmd) != 0)
      fprintf(stderr, "warning: could not stop the server in %s\n", dir);
  }
  return rc;
}
