/* Token-bucket arithmetic and quota configuration (publish/quota.h). Amounts are int64
 * thousandths; a refill multiplies in double (elapsed ms times a rate can exceed int64 for a
 * large quota), credits whole thousandths and keeps the remainder's time for the next refill,
 * so a bucket is never credited more than it earned.
 * Relies on: config/config.h, cJSON. */
#include "publish/quota.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MU 1000 /* thousandths */

static const char *const keys[] = {"units_per_day", "window_s", "units_per_publish",
                                   "requests_per_minute"};

int ain_publish_quota_parse(const char *name, const cJSON *quota, ain_config_quota_t *out,
                            ain_err_t *err) {
  memset(out, 0, sizeof *out);
  out->window_s = 86400;
  if (quota == NULL) {
    return 0;
  }
  if (!cJSON_IsObject(quota)) {
    char field[128];
    snprintf(field, sizeof field, "channels.%s.quota", name);
    return ain_err_field(err, AIN_ECONFIG, field, "'%s' must be a table", field);
  }
  const int64_t max[] = {1000000000, 86400, 1000000000, 1000000};
  int64_t *slot[] = {&out->units_per_day, &out->window_s, &out->units_per_publish,
                     &out->requests_per_minute};
  const cJSON *v;
  cJSON_ArrayForEach(v, quota) {
    size_t k = 0;
    while (k < 4 && strcmp(v->string, keys[k]) != 0) {
      k++;
    }
    char field[160];
    snprintf(field, sizeof field, "channels.%s.quota.%s", name, k < 4 ? keys[k] : v->string);
    if (k == 4) {
      return ain_err_field(err, AIN_ECONFIG, field,
                           "unknown key '%s' (units_per_day, window_s, units_per_publish, "
                           "requests_per_minute)",
                           field);
    }
    double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
    if (d < 1 || d > (double)max[k] || d != floor(d)) {
      return ain_err_field(err, AIN_ECONFIG, field, "'%s' must be an integer from 1 to %lld",
                           field, (long long)max[k]);
    }
    *slot[k] = (int64_t)d;
  }
  char field[128];
  if (out->units_per_publish != 0 && out->units_per_day == 0) {
    snprintf(field, sizeof field, "channels.%s.quota.units_per_day", name);
    return ain_err_field(err, AIN_ECONFIG, field,
                         "'channels.%s.quota.units_per_publish' needs units_per_day", name);
  }
  if (out->units_per_day != 0 && out->units_per_publish > out->units_per_day) {
    snprintf(field, sizeof field, "channels.%s.quota.units_per_publish", name);
    return ain_err_field(err, AIN_ECONFIG, field,
                         "'channels.%s.quota.units_per_publish' (%lld) is more than "
                         "units_per_day (%lld): no publish could ever run",
                         name, (long long)out->units_per_publish, (long long)out->units_per_day);
  }
  return 0;
}

int ain_publish_quota_check(const char *name, const cJSON *quota, ain_err_t *err) {
  ain_config_quota_t q;
  return ain_publish_quota_parse(name, quota, &q, err);
}

int ain_publish_quota_of(const ain_config_t *cfg, const char *channel, ain_config_quota_t *out) {
  memset(out, 0, sizeof *out);
  const ain_config_channel_t *c =
      channel != NULL ? ain_config_channel(&cfg->channels, channel) : NULL;
  ain_err_t err;
  if (c == NULL ||
      ain_publish_quota_parse(c->name, cJSON_GetObjectItemCaseSensitive(c->opts, "quota"), out,
                              &err) != 0) {
    memset(out, 0, sizeof *out);
    return 0; /* refused at load already: never reached with a loaded config */
  }
  return out->units_per_day > 0 || out->requests_per_minute > 0;
}

ain_quota_state_t ain_publish_quota_state_of(const ain_store_bucket_t *row) {
  return (ain_quota_state_t){.units_mu = row->units_mu,
                             .requests_mu = row->requests_mu,
                             .updated_at = row->updated_at,
                             .blocked_until = row->blocked_until,
                             .taken = row->taken,
                             .exists = row->state_version != 0};
}

ain_store_bucket_t ain_publish_quota_row_of(const char *account, const ain_quota_state_t *s) {
  return (ain_store_bucket_t){.account = (char *)account,
                              .units_mu = s->units_mu,
                              .requests_mu = s->requests_mu,
                              .updated_at = s->updated_at,
                              .blocked_until = s->blocked_until,
                              .taken = s->taken};
}

int64_t ain_publish_quota_cost(const ain_config_quota_t *q, const char *kind) {
  if (q->units_per_publish > 0) {
    return q->units_per_publish;
  }
  return kind != NULL && strcmp(kind, "youtube") == 0 ? AIN_PUBLISH_YOUTUBE_INSERT_UNITS : 1;
}

/* One bucket of cap thousandths refilled evenly over window_ms, from *since to now: the whole
 * thousandths earned are credited and *since moves by the time that earned them (rounded up),
 * so a fraction earned between two writes carries over instead of being lost, and the bucket is
 * never credited more than it earned. */
static int64_t refilled(int64_t have, int64_t cap, int64_t window_ms, int64_t *since,
                        int64_t now) {
  int64_t elapsed = now - *since;
  if (have >= cap) {
    *since = now; /* full: nothing to earn until something is taken */
    return cap;
  }
  double add = floor((double)elapsed * (double)cap / (double)window_ms);
  if ((double)have + add >= (double)cap) {
    *since = now;
    return cap;
  }
  *since += (int64_t)ceil(add * (double)window_ms / (double)cap);
  if (*since > now) {
    *since = now;
  }
  return have + (int64_t)add;
}

void ain_publish_quota_refill(const ain_config_quota_t *q, ain_quota_state_t *s, int64_t now_ms) {
  int64_t ucap = q->units_per_day * MU, rcap = q->requests_per_minute * MU;
  if (!s->exists) {
    s->units_mu = ucap;
    s->requests_mu = rcap;
    s->updated_at = now_ms;
    s->exists = 1;
    return;
  }
  if (now_ms <= s->updated_at) {
    return; /* a clock behind the row's: nothing earned, and never un-earned */
  }
  /* The two buckets share the row's one time: the units bucket decides it (the requests bucket
   * then loses at most the remainder of one thousandth per write). */
  int64_t su = s->updated_at, sr = s->updated_at;
  s->units_mu =
      q->units_per_day > 0 ? refilled(s->units_mu, ucap, q->window_s * 1000, &su, now_ms) : 0;
  s->requests_mu =
      q->requests_per_minute > 0 ? refilled(s->requests_mu, rcap, 60000, &sr, now_ms) : 0;
  s->updated_at = q->units_per_day > 0 ? su : sr;
}

/* ms until a bucket holding have thousandths of cap (refilled over window_ms) holds need. */
static int64_t wait_for(int64_t have, int64_t need, int64_t cap, int64_t window_ms) {
  if (have >= need) {
    return 0;
  }
  return (int64_t)ceil((double)(need - have) * (double)window_ms / (double)cap);
}

int ain_publish_quota_take(const ain_config_quota_t *q, int64_t cost, ain_quota_state_t *s,
                           int64_t now_ms, int64_t *wait_ms) {
  ain_publish_quota_refill(q, s, now_ms);
  int64_t w = s->blocked_until > now_ms ? s->blocked_until - now_ms : 0;
  if (q->units_per_day > 0) {
    int64_t u = wait_for(s->units_mu, cost * MU, q->units_per_day * MU, q->window_s * 1000);
    w = u > w ? u : w;
  }
  if (q->requests_per_minute > 0) {
    int64_t r = wait_for(s->requests_mu, MU, q->requests_per_minute * MU, 60000);
    w = r > w ? r : w;
  }
  *wait_ms = w;
  if (w > 0) {
    return 0;
  }
  if (q->units_per_day > 0) {
    s->units_mu -= cost * MU;
    s->taken += cost;
  }
  if (q->requests_per_minute > 0) {
    s->requests_mu -= MU;
  }
  return 1;
}

void ain_publish_quota_refuse(const ain_config_quota_t *q, int64_t cost, ain_quota_state_t *s,
                              int64_t now_ms, int64_t retry_after_ms) {
  ain_publish_quota_refill(q, s, now_ms);
  if (q->units_per_day > 0) {
    int64_t cap = q->units_per_day * MU;
    s->units_mu = s->units_mu + cost * MU > cap ? cap : s->units_mu + cost * MU;
    s->taken = s->taken >= cost ? s->taken - cost : 0;
  }
  int64_t until = now_ms + (retry_after_ms > 0 ? retry_after_ms : 0);
  if (until > s->blocked_until) {
    s->blocked_until = until;
  }
}

int64_t ain_publish_quota_remaining(const ain_config_quota_t *q, const ain_quota_state_t *s,
                                    int64_t now_ms, int64_t cost, int64_t *next_ms) {
  ain_quota_state_t t = *s;
  int64_t wait = 0;
  ain_publish_quota_take(q, cost, &t, now_ms, &wait);
  *next_ms = wait > 0 ? now_ms + wait : 0;
  ain_quota_state_t r = *s;
  ain_publish_quota_refill(q, &r, now_ms);
  return q->units_per_day > 0 ? r.units_mu / MU : -1;
}
