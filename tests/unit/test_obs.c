/* The metrics registry and its exposition (engine/obs/): label escaping, histogram buckets with
 * _sum and _count, info metrics replacing their value, the bound on label sets, and counters
 * updated by many threads at once losing nothing. `promtool check metrics` on a live scrape is in
 * tests/integration/metrics_scrape.sh. */
#include <math.h>
#include <uv.h>

#include "harness.h"
#include "obs/obs.h"

static char *expose(void) {
  ain_obs_buf_t b = {0};
  ain_obs_expose(&b);
  ASSERT_EQ(b.oom, 0);
  ain_obs_buf_printf(&b, "%s", ""); /* NUL-terminated */
  return b.p;
}

TEST(counter_and_labels) {
  const char *ok[2] = {"noop", "succeeded"};
  ain_obs_inc(AIN_M_TASKS_FINISHED, ok);
  ain_obs_add(AIN_M_TASKS_FINISHED, ok, 2);
  ASSERT_TRUE(ain_obs_get(AIN_M_TASKS_FINISHED, ok) == 3);
  const char *other[2] = {"noop", "dead"};
  ASSERT_TRUE(ain_obs_get(AIN_M_TASKS_FINISHED, other) == 0);
  char *t = expose();
  ASSERT_STR_CONTAINS(t, "# TYPE ain_tasks_finished_total counter\n");
  ASSERT_STR_CONTAINS(t, "ain_tasks_finished_total{type=\"noop\",status=\"succeeded\"} 3\n");
  /* a family without labels shows 0 before any update */
  ASSERT_STR_CONTAINS(t, "\nain_render_slots_busy 0\n");
  ASSERT_STR_CONTAINS(t, "# HELP ain_render_slots_busy Render slots");
  free(t);
}

TEST(escaping) {
  const char *v[2] = {"a\"b\\c\nd", "x"};
  ain_obs_inc(AIN_M_PUBLISHES, v);
  char *t = expose();
  ASSERT_STR_CONTAINS(t, "ain_publishes_total{channel=\"a\\\"b\\\\c\\nd\",result=\"x\"} 1\n");
  /* HELP text escapes backslash and newline but keeps quotes */
  ASSERT_STR_CONTAINS(t, "Updates folded into the \"other\" series");
  free(t);
  /* a value longer than the bound is cut, and the cut value names one series */
  char longv[200];
  memset(longv, 'x', sizeof longv - 1);
  longv[sizeof longv - 1] = '\0';
  const char *l[1] = {longv};
  ain_obs_inc(AIN_M_TASK_RETRIES, l);
  ain_obs_inc(AIN_M_TASK_RETRIES, l);
  ASSERT_TRUE(ain_obs_get(AIN_M_TASK_RETRIES, l) == 2);
}

TEST(histogram) {
  const char *ty[1] = {"render"};
  ain_obs_observe(AIN_M_STEP_DURATION, ty, 0.0005); /* <= 0.001 */
  ain_obs_observe(AIN_M_STEP_DURATION, ty, 0.001);  /* le is inclusive */
  ain_obs_observe(AIN_M_STEP_DURATION, ty, 0.3);    /* <= 0.5 */
  ain_obs_observe(AIN_M_STEP_DURATION, ty, 1000);   /* +Inf only */
  ain_obs_observe(AIN_M_STEP_DURATION, ty, NAN);    /* ignored */
  ASSERT_TRUE(ain_obs_get(AIN_M_STEP_DURATION, ty) == 4);
  char *t = expose();
  ASSERT_STR_CONTAINS(t, "# TYPE ain_step_duration_seconds histogram\n");
  ASSERT_STR_CONTAINS(t, "ain_step_duration_seconds_bucket{type=\"render\",le=\"0.001\"} 2\n");
  ASSERT_STR_CONTAINS(t, "ain_step_duration_seconds_bucket{type=\"render\",le=\"0.25\"} 2\n");
  ASSERT_STR_CONTAINS(t, "ain_step_duration_seconds_bucket{type=\"render\",le=\"0.5\"} 3\n");
  ASSERT_STR_CONTAINS(t, "ain_step_duration_seconds_bucket{type=\"render\",le=\"600\"} 3\n");
  ASSERT_STR_CONTAINS(t, "ain_step_duration_seconds_bucket{type=\"render\",le=\"+Inf\"} 4\n");
  ASSERT_STR_CONTAINS(t, "ain_step_duration_seconds_count{type=\"render\"} 4\n");
  ASSERT_STR_CONTAINS(t, "ain_step_duration_seconds_sum{type=\"render\"} 1000.3015\n");
  free(t);
}

TEST(info_replaces) {
  const char *a[2] = {"judge", "aaaa"};
  const char *b[2] = {"judge", "bbbb"};
  ain_obs_info_set(AIN_M_POLICY_VERSION, a);
  ain_obs_info_set(AIN_M_POLICY_VERSION, b);
  char *t = expose();
  ASSERT_STR_CONTAINS(t, "ain_policy_version_info{module=\"judge\",sha=\"bbbb\"} 1\n");
  ASSERT_NULL(strstr(t, "sha=\"aaaa\""));
  free(t);
}

TEST(bounded) {
  char v[32];
  for (int i = 0; i < AIN_OBS_MAX_SERIES + 10; i++) {
    snprintf(v, sizeof v, "type%d", i);
    const char *l[1] = {v};
    ain_obs_inc(AIN_M_TASKS_CLAIMED, l);
  }
  const char *other[1] = {"other"};
  const char *name[1] = {"ain_tasks_claimed_total"};
  ASSERT_TRUE(ain_obs_get(AIN_M_SERIES_OVERFLOW, name) == 10);
  char *t = expose();
  ASSERT_STR_CONTAINS(t, "ain_tasks_claimed_total{type=\"other\"} 10\n");
  int n = 0;
  for (const char *p = t; (p = strstr(p, "\nain_tasks_claimed_total{")) != NULL; p++) {
    n++;
  }
  ASSERT_EQ(n, AIN_OBS_MAX_SERIES + 1);
  free(t);
  (void)other;
}

TEST(disabled) {
  const char *l[1] = {"x"};
  ain_obs_enable(0);
  ain_obs_inc(AIN_M_TASK_RETRIES, l);
  ain_obs_enable(1);
  ASSERT_TRUE(ain_obs_get(AIN_M_TASK_RETRIES, l) == 0);
}

#define THREADS 8
#define PER_THREAD 100000

static void hammer(void *arg) {
  (void)arg;
  char v[16];
  for (int i = 0; i < PER_THREAD; i++) {
    snprintf(v, sizeof v, "t%d", i % 4); /* four series raced into existence by every thread */
    const char *l[1] = {v};
    ain_obs_inc(AIN_M_TASK_RETRIES, l);
    ain_obs_observe(AIN_M_QUEUE_LATENCY, l, 0.002);
  }
}

static void scrape(void *arg) {
  for (int i = 0; i < 50; i++) { /* expositions while the counters move */
    ain_obs_buf_t b = {0};
    ain_obs_expose(&b);
    ain_obs_buf_free(&b);
  }
  (void)arg;
}

TEST(concurrent) {
  uv_thread_t t[THREADS + 1];
  for (int i = 0; i < THREADS; i++) {
    ASSERT_OK(uv_thread_create(&t[i], hammer, NULL));
  }
  ASSERT_OK(uv_thread_create(&t[THREADS], scrape, NULL));
  for (int i = 0; i <= THREADS; i++) {
    uv_thread_join(&t[i]);
  }
  double total = 0, count = 0;
  for (int k = 0; k < 4; k++) {
    char v[16];
    snprintf(v, sizeof v, "t%d", k);
    const char *l[1] = {v};
    total += ain_obs_get(AIN_M_TASK_RETRIES, l);
    count += ain_obs_get(AIN_M_QUEUE_LATENCY, l);
  }
  ASSERT_EQ((long long)total, (long long)THREADS * PER_THREAD);
  ASSERT_EQ((long long)count, (long long)THREADS * PER_THREAD);
  char *e = expose();
  ASSERT_STR_CONTAINS(e, "ain_task_queue_latency_seconds_count{type=\"t0\"} 200000\n");
  ASSERT_STR_CONTAINS(e, "ain_task_queue_latency_seconds_bucket{type=\"t0\",le=\"0.005\"} 200000\n");
  ASSERT_STR_CONTAINS(e, "ain_task_queue_latency_seconds_bucket{type=\"t0\",le=\"0.001\"} 0\n");
  free(e);
}

TEST(catalog_names) {
  /* every name is ain_-prefixed; counters end in _total, histograms in a base unit */
  for (int m = 0; m < AIN_M_COUNT; m++) {
    const ain_obs_def_t *d = ain_obs_def((ain_obs_metric_t)m);
    ASSERT_NOT_NULL(d->name);
    ASSERT_EQ(strncmp(d->name, "ain_", 4), 0);
    size_t n = strlen(d->name);
    if (d->kind == AIN_OBS_COUNTER) {
      ASSERT_STR_EQ(d->name + n - 6, "_total");
    } else if (d->kind == AIN_OBS_HISTOGRAM) {
      ASSERT_STR_EQ(d->name + n - 8, "_seconds");
      for (int b = 1; b < d->nbuckets; b++) {
        ASSERT_TRUE(d->buckets[b] > d->buckets[b - 1]);
      }
    } else if (d->kind == AIN_OBS_INFO) {
      ASSERT_STR_EQ(d->name + n - 5, "_info");
    }
  }
  ASSERT_NULL(ain_obs_def(AIN_M_COUNT));
}

TEST_MAIN(TEST_ENTRY(counter_and_labels), TEST_ENTRY(escaping), TEST_ENTRY(histogram),
          TEST_ENTRY(info_replaces), TEST_ENTRY(bounded), TEST_ENTRY(disabled),
          TEST_ENTRY(concurrent), TEST_ENTRY(catalog_names))
