/* Shared fixture of the store contract tests: see store_fixture.h.
 * Relies on: store/store.h, libuv, the C harness, LeakSanitizer's interface under ASan. */
#include "store_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#define CHECK_LEAKS() ASSERT_EQ(__lsan_do_recoverable_leak_check(), 0)
#else
#define CHECK_LEAKS() ((void)0)
#endif

int fx_is_sqlite(const char *url) {
  return strncmp(url, "postgres://", 11) != 0 && strncmp(url, "postgresql://", 13) != 0;
}

int fx_exclusive_db(void) {
  const char *env = getenv("AIN_TEST_STORE_URL");
  return env == NULL || *env == '\0' || fx_is_sqlite(env) ||
         getenv("AIN_TEST_STORE_RESET") != NULL;
}

const char *fx_fresh_url(void) {
  static char buf[1024];
  static int n;
  const char *env = getenv("AIN_TEST_STORE_URL");
  if (env != NULL && *env != '\0' && !fx_is_sqlite(env)) {
    const char *reset = getenv("AIN_TEST_STORE_RESET");
    if (reset != NULL && *reset != '\0') {
      ASSERT_EQ(system(reset), 0);
    }
    return env;
  }
  snprintf(buf, sizeof buf, "sqlite:%s/t%d.db", ain_test_tmpdir(), n++);
  return buf;
}

void fx_open_url(fx_t *f, const char *url) {
  memset(f, 0, sizeof *f);
  snprintf(f->url, sizeof f->url, "%s", url);
  char id[AIN_UUID_LEN + 1];
  ain_uuid7(id);
  snprintf(f->ns, sizeof f->ns, "t-%s", id);
  ASSERT_OK(uv_loop_init(&f->loop));
  ain_store_config_t cfg = {.url = f->url, .busy_timeout_ms = 5000, .synchronous_full = 1};
  ain_err_t err = {0};
  int rc = ain_store_open(&cfg, &f->loop, &f->s, &err);
  if (rc != 0) {
    fprintf(stderr, "open %s: %s\n", f->url, err.msg);
  }
  ASSERT_OK(rc);
}

void fx_node(ain_node_t *n, char *buf, size_t len, int pid, int shards) {
  char u[AIN_UUID_LEN + 1];
  ain_uuid7(u);
  snprintf(buf, len, "t-%s/%d", u, pid);
  memset(n, 0, sizeof *n);
  n->id = buf;
  n->node = "test-node";
  n->host = "test-host";
  n->version = "9.9.9";
  n->pid = pid;
  n->shards = shards;
}

int fx_migrate(fx_t *f, int *applied) {
  ain_store_req_t r;
  ain_store_req_migrate(&r);
  r.actor = "test";
  int rc = ain_store_wait(f->s, &r);
  if (applied != NULL) {
    *applied = r.u.migrate.applied;
  }
  if (rc != 0) {
    fprintf(stderr, "migrate: %s\n", r.err.msg);
  }
  ain_store_req_cleanup(&r);
  return rc;
}

void fx_open(fx_t *f) {
  fx_open_url(f, fx_fresh_url());
  ASSERT_OK(fx_migrate(f, NULL));
}

void fx_on_closed(void *data) {
  (*(int *)data)++;
}

void fx_close(fx_t *f) {
  int closed = 0;
  ain_store_close(f->s, fx_on_closed, &closed);
  while (!closed) {
    uv_run(&f->loop, UV_RUN_ONCE);
  }
  ASSERT_EQ(closed, 1);
  ASSERT_EQ(uv_loop_close(&f->loop), 0);
  CHECK_LEAKS();
}
