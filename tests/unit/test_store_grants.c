/* Contract tests of the GRANTS op (store/grants.h: publish grants and quota buckets), run against
 * SQLite (a fresh file per test) and Postgres (tests/integration/store_postgres.sh): grants
 * upsert with a generation, a jti is spent once; a bucket write expecting a stale version is
 * AIN_ECONFLICT; and takers on several store handles (threads, as engines on several nodes) that
 * race for one account never take more than it holds. Names are fresh per test (f->ns).
 * Relies on: store_fixture.h, store/grants.h, publish/quota.h, the C harness. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "publish/quota.h"
#include "store/grants.h"
#include "store_fixture.h"

static int run(fx_t *f, ain_store_grants_t *g) {
  ain_store_req_t r;
  ain_store_req_grants(&r, g);
  int rc = ain_store_wait(f->s, &r);
  /* outputs stay in g (the caller cleans them); the request itself holds nothing else */
  return rc;
}

TEST(grant_put_get_use) {
  fx_t f;
  fx_open(&f);
  char jti[80], jti2[80];
  snprintf(jti, sizeof jti, "%s-a", f.ns);
  snprintf(jti2, sizeof jti2, "%s-b", f.ns);
  ain_store_grant_t in[2] = {
      {.jti = jti, .video_id = "v1", .channel = "outbox", .token = "t1", .granted_by = "judge",
       .reason = "pass", .exp = 1000},
      {.jti = jti2, .video_id = "v1", .channel = "webhook", .token = "t2", .granted_by = "judge",
       .reason = "pass", .exp = 1000}};
  ain_store_grants_t g = {.op = AIN_STORE_GRANT_PUT, .in = in, .nin = 2};
  ASSERT_OK(run(&f, &g));
  ASSERT_EQ(g.ngrants, 2);
  ASSERT_EQ(g.grants[0].generation, 1);
  ASSERT_EQ(g.grants[0].used_at, 0);
  ain_store_grants_cleanup(&g);

  /* A re-approval: the same jti gets the new token and generation 2. */
  in[0].token = "t1-again";
  in[0].granted_by = "alice";
  in[0].reason = "approved";
  g = (ain_store_grants_t){.op = AIN_STORE_GRANT_PUT, .in = in, .nin = 1};
  ASSERT_OK(run(&f, &g));
  ASSERT_EQ(g.grants[0].generation, 2);
  ain_store_grants_cleanup(&g);

  g = (ain_store_grants_t){.op = AIN_STORE_GRANT_GET, .jti = jti};
  ASSERT_OK(run(&f, &g));
  ASSERT_STR_EQ(g.grants[0].token, "t1-again");
  ASSERT_STR_EQ(g.grants[0].granted_by, "alice");
  ASSERT_STR_EQ(g.grants[0].reason, "approved");
  ASSERT_STR_EQ(g.grants[0].channel, "outbox");
  ASSERT_EQ(g.grants[0].exp, 1000);
  ain_store_grants_cleanup(&g);

  /* Spent once: the first use sets used_at, a second keeps it. */
  g = (ain_store_grants_t){.op = AIN_STORE_GRANT_USE, .jti = jti};
  ASSERT_OK(run(&f, &g));
  int64_t used = g.grants[0].used_at;
  ASSERT_TRUE(used > 0);
  ain_store_grants_cleanup(&g);
  g = (ain_store_grants_t){.op = AIN_STORE_GRANT_USE, .jti = jti};
  ASSERT_OK(run(&f, &g));
  ASSERT_EQ(g.grants[0].used_at, used);
  ain_store_grants_cleanup(&g);

  char nope[96];
  snprintf(nope, sizeof nope, "%s-none", f.ns);
  g = (ain_store_grants_t){.op = AIN_STORE_GRANT_GET, .jti = nope};
  ASSERT_EQ(run(&f, &g), AIN_ENOTFOUND);
  ain_store_grants_cleanup(&g);
  g = (ain_store_grants_t){.op = AIN_STORE_GRANT_PUT, .in = in, .nin = 0};
  ASSERT_EQ(run(&f, &g), AIN_EINVAL);
  fx_close(&f);
}

TEST(bucket_occ) {
  fx_t f;
  fx_open(&f);
  ain_store_grants_t g = {.op = AIN_STORE_BUCKET_GET, .account = f.ns};
  ASSERT_OK(run(&f, &g));
  ASSERT_EQ(g.bucket.state_version, 0); /* no row yet */
  ain_store_grants_cleanup(&g);

  g = (ain_store_grants_t){.op = AIN_STORE_BUCKET_PUT, .expect_version = 0,
                           .bucket = {.account = f.ns, .units_mu = 5000, .requests_mu = 1000,
                                      .updated_at = 10, .taken = 1}};
  ASSERT_OK(run(&f, &g));
  ASSERT_EQ(g.bucket.state_version, 1);
  /* A second insert of the same account lost the race. */
  ASSERT_EQ(run(&f, &g), AIN_ECONFLICT);
  g.expect_version = 1;
  g.bucket.units_mu = 4000;
  ASSERT_OK(run(&f, &g));
  ASSERT_EQ(g.bucket.state_version, 2);
  g.expect_version = 1; /* stale */
  ASSERT_EQ(run(&f, &g), AIN_ECONFLICT);

  ain_store_grants_t l = {.op = AIN_STORE_BUCKET_GET, .account = f.ns};
  ASSERT_OK(run(&f, &l));
  ASSERT_EQ(l.bucket.units_mu, 4000);
  ASSERT_EQ(l.bucket.requests_mu, 1000);
  ASSERT_EQ(l.bucket.updated_at, 10);
  ASSERT_EQ(l.bucket.state_version, 2);
  ain_store_grants_cleanup(&l);
  l = (ain_store_grants_t){.op = AIN_STORE_BUCKET_LIST};
  ASSERT_OK(run(&f, &l));
  int seen = 0;
  for (size_t i = 0; i < l.nbuckets; i++) {
    seen += strcmp(l.buckets[i].account, f.ns) == 0;
  }
  ASSERT_EQ(seen, 1);
  ain_store_grants_cleanup(&l);
  fx_close(&f);
}

/* A taker: its own store handle (own connection and loop), taking one publish's units from the
 * shared account until the bucket says wait; counts its takes and the races it lost. */
typedef struct {
  const char *url, *account;
  const ain_config_quota_t *q;
  int64_t now; /* one instant for every taker: no refill between takes */
  int taken, conflicts;
} taker_t;

static void *taker_run(void *arg) {
  taker_t *t = arg;
  fx_t f;
  fx_open_url(&f, t->url);
  for (;;) {
    ain_store_grants_t g = {.op = AIN_STORE_BUCKET_GET, .account = t->account};
    ASSERT_OK(run(&f, &g));
    ain_quota_state_t s = {.units_mu = g.bucket.units_mu, .requests_mu = g.bucket.requests_mu,
                           .updated_at = g.bucket.updated_at, .taken = g.bucket.taken,
                           .exists = g.bucket.state_version != 0};
    int64_t expect = g.bucket.state_version, wait = 0;
    ain_store_grants_cleanup(&g);
    if (!ain_publish_quota_take(t->q, ain_publish_quota_cost(t->q, NULL), &s, t->now, &wait)) {
      break;
    }
    ain_store_grants_t p = {.op = AIN_STORE_BUCKET_PUT, .expect_version = expect,
                            .bucket = {.account = (char *)t->account, .units_mu = s.units_mu,
                                       .requests_mu = s.requests_mu, .updated_at = s.updated_at,
                                       .taken = s.taken}};
    int rc = run(&f, &p);
    if (rc == AIN_ECONFLICT) {
      t->conflicts++; /* another taker wrote first: read again */
      continue;
    }
    ASSERT_OK(rc);
    t->taken++;
  }
  fx_close(&f);
  return NULL;
}

TEST(racing_takers_never_overspend) {
  fx_t f;
  fx_open(&f); /* migrated; the takers open the same database */
  ain_config_quota_t q = {.units_per_day = 100 * 1600, .window_s = 86400};
  q.units_per_publish = 1600; /* youtube's videos.insert: 100 publishes in the bucket */
  enum { N = 4 };
  taker_t t[N];
  pthread_t th[N];
  int64_t now = ain_now_ms();
  for (int i = 0; i < N; i++) {
    t[i] = (taker_t){.url = f.url, .account = f.ns, .q = &q, .now = now};
    ASSERT_OK(pthread_create(&th[i], NULL, taker_run, &t[i]));
  }
  int total = 0, conflicts = 0;
  for (int i = 0; i < N; i++) {
    pthread_join(th[i], NULL);
    total += t[i].taken;
    conflicts += t[i].conflicts;
  }
  fprintf(stderr, "# %d takes, %d lost races\n", total, conflicts);
  ASSERT_EQ(total, 100); /* exactly the bucket: none lost, none spent twice */
  ain_store_grants_t g = {.op = AIN_STORE_BUCKET_GET, .account = f.ns};
  ASSERT_OK(run(&f, &g));
  ASSERT_EQ(g.bucket.units_mu, 0);
  ASSERT_EQ(g.bucket.taken, 100 * 1600);
  ain_store_grants_cleanup(&g);
  fx_close(&f);
}

TEST_MAIN(TEST_ENTRY(grant_put_get_use), TEST_ENTRY(bucket_occ),
          TEST_ENTRY(racing_takers_never_overspend))
