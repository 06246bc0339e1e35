/* Token-bucket arithmetic of publish quotas (publish/quota.h) and the quota table check: a new
 * bucket is full, takes empty it, the refill is continuous over the window and never exceeds the
 * capacity, the wait names when the next publish fits, the requests-per-minute bucket limits on
 * its own, a 429 gives the units back and blocks the account. Relies on: publish/quota.h, cJSON,
 * the C harness. */
#include <cjson/cJSON.h>
#include <string.h>

#include "harness.h"
#include "publish/quota.h"

TEST(new_bucket_full_then_empty) {
  ain_config_quota_t q = {.units_per_day = 3200, .window_s = 10};
  ain_quota_state_t s = {0};
  int64_t wait = -1;
  ASSERT_EQ(ain_publish_quota_cost(&q, "youtube"), 1600);
  ASSERT_EQ(ain_publish_quota_cost(&q, "outbox"), 1);
  ASSERT_TRUE(ain_publish_quota_take(&q, 1600, &s, 1000, &wait));
  ASSERT_EQ(wait, 0);
  ASSERT_TRUE(ain_publish_quota_take(&q, 1600, &s, 1000, &wait));
  ASSERT_EQ(s.units_mu, 0);
  ASSERT_EQ(s.taken, 3200);
  ASSERT_TRUE(!ain_publish_quota_take(&q, 1600, &s, 1000, &wait));
  /* 3200 units per 10 s refill 320 a second: 1600 take 5 s. */
  ASSERT_EQ(wait, 5000);
  ASSERT_TRUE(!ain_publish_quota_take(&q, 1600, &s, 5999, &wait));
  ASSERT_EQ(wait, 1);
  ASSERT_TRUE(ain_publish_quota_take(&q, 1600, &s, 6000, &wait));
}

TEST(refill_is_continuous_and_capped) {
  ain_config_quota_t q = {.units_per_day = 10000, .window_s = 86400};
  ain_quota_state_t s = {.units_mu = 0, .updated_at = 0, .exists = 1};
  ain_publish_quota_refill(&q, &s, 8640000); /* a tenth of the day */
  ASSERT_EQ(s.units_mu, 1000 * 1000);
  ain_publish_quota_refill(&q, &s, 8640000 + 7); /* 7 ms earn 0.81 thousandths: none yet, */
  ASSERT_EQ(s.units_mu, 1000 * 1000);
  ASSERT_EQ(s.updated_at, 8640000); /* and the 7 ms are kept for later */
  ain_publish_quota_refill(&q, &s, 8640000 + 87); /* 87 ms earn 10.07: 10, for 86.4 -> 87 ms */
  ASSERT_EQ(s.units_mu, 1000 * 1000 + 10);
  ASSERT_EQ(s.updated_at, 8640087);
  ain_publish_quota_refill(&q, &s, 86400000LL * 30); /* a month later: full, not more */
  ASSERT_EQ(s.units_mu, 10000 * 1000);
  ain_quota_state_t back = s;
  ain_publish_quota_refill(&q, &back, 5); /* a clock behind the row's earns nothing */
  ASSERT_EQ(back.units_mu, s.units_mu);
  ASSERT_EQ(back.updated_at, s.updated_at);
  /* Many small refills add up to what one long one gives (rounding only ever down). */
  ain_quota_state_t a = {.units_mu = 0, .updated_at = 0, .exists = 1}, b = a;
  for (int64_t t = 1; t <= 100000; t += 1) {
    ain_publish_quota_refill(&q, &a, t);
  }
  ain_publish_quota_refill(&q, &b, 100000);
  ASSERT_LE(a.units_mu, b.units_mu); /* never more than earned */
  ASSERT_GE(a.units_mu, b.units_mu * 9 / 10); /* and a refill every ms does not starve it */
}

TEST(requests_per_minute_alone) {
  ain_config_quota_t q = {.requests_per_minute = 2, .window_s = 86400};
  ain_quota_state_t s = {0};
  int64_t wait;
  ASSERT_TRUE(ain_publish_quota_take(&q, 1, &s, 0, &wait));
  ASSERT_TRUE(ain_publish_quota_take(&q, 1, &s, 0, &wait));
  ASSERT_TRUE(!ain_publish_quota_take(&q, 1, &s, 0, &wait));
  ASSERT_EQ(wait, 30000); /* one request back every 30 s */
  ASSERT_EQ(s.taken, 0);  /* no units limit: nothing counted */
  int64_t next = 0;
  ASSERT_EQ(ain_publish_quota_remaining(&q, &s, 0, 1, &next), -1);
  ASSERT_EQ(next, 30000);
}

TEST(rate_limited_gives_back_and_blocks) {
  ain_config_quota_t q = {.units_per_day = 3200, .window_s = 86400};
  ain_quota_state_t s = {0};
  int64_t wait;
  ASSERT_TRUE(ain_publish_quota_take(&q, 1600, &s, 0, &wait));
  ain_publish_quota_refuse(&q, 1600, &s, 0, 7000);
  ASSERT_EQ(s.units_mu, 3200 * 1000); /* the refused call's units are back */
  ASSERT_EQ(s.taken, 0);
  ASSERT_TRUE(!ain_publish_quota_take(&q, 1600, &s, 2000, &wait));
  ASSERT_EQ(wait, 5000); /* blocked until Retry-After */
  ain_publish_quota_refuse(&q, 0, &s, 2000, 1000); /* a shorter block does not shorten it */
  ASSERT_EQ(s.blocked_until, 7000);
  ASSERT_TRUE(ain_publish_quota_take(&q, 1600, &s, 7000, &wait));
  int64_t next = -1;
  ASSERT_EQ(ain_publish_quota_remaining(&q, &s, 7000, 1600, &next), 1600);
  ASSERT_EQ(next, 0);
}

TEST(quota_table_check) {
  ain_err_t err;
  cJSON *ok = cJSON_Parse("{\"units_per_day\":10000,\"requests_per_minute\":30}");
  ASSERT_OK(ain_publish_quota_check("yt", ok, &err));
  ain_config_quota_t q;
  ASSERT_OK(ain_publish_quota_parse("yt", ok, &q, &err));
  ASSERT_EQ(q.units_per_day, 10000);
  ASSERT_EQ(q.window_s, 86400);
  cJSON_Delete(ok);
  static const struct {
    const char *json, *field;
  } bad[] = {
      {"{\"units_per_day\":0}", "channels.yt.quota.units_per_day"},
      {"{\"units_per_day\":1.5}", "channels.yt.quota.units_per_day"},
      {"{\"units_per_day\":\"10\"}", "channels.yt.quota.units_per_day"},
      {"{\"window_s\":86401}", "channels.yt.quota.window_s"},
      {"{\"units\":5}", "channels.yt.quota.units"},
      {"{\"units_per_publish\":5}", "channels.yt.quota.units_per_day"},
      {"{\"units_per_day\":5,\"units_per_publish\":6}", "channels.yt.quota.units_per_publish"},
      {"[1]", "channels.yt.quota"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cJSON *j = cJSON_Parse(bad[i].json);
    ain_err_clear(&err);
    ASSERT_EQ(ain_publish_quota_check("yt", j, &err), AIN_ECONFIG);
    ASSERT_STR_EQ(err.field, bad[i].field);
    cJSON_Delete(j);
  }
}

TEST_MAIN(TEST_ENTRY(new_bucket_full_then_empty), TEST_ENTRY(refill_is_continuous_and_capped),
          TEST_ENTRY(requests_per_minute_alone), TEST_ENTRY(rate_limited_gives_back_and_blocks),
          TEST_ENTRY(quota_table_check))
