/* The quota of the platform calls that are not publishes (after.h: ain_post_quota_take): a
 * takedown's delete and an analytics read go through the same account bucket as the publish
 * step's takes (sched/publish_trust.c), so `ain publishers status` and the parks of the next
 * publish see every unit the account spent. Blocking, like the rest of after.h: read the bucket,
 * compute (publish/quota.h), write it back expecting the version read, again on a lost race.
 * Relies on: after.h, publish/quota.h, store/grants.h, obs (the units-left gauge). */
#include <string.h>

#include "core/util.h"
#include "obs/obs.h"
#include "publish/after.h"
#include "publish/quota.h"
#include "store/grants.h"

#define MAX_TRIES 8 /* lost races in a row before giving up (each means another taker won) */

int64_t ain_publish_quota_call_cost(const char *kind, const char *call) {
  if (kind == NULL || strcmp(kind, "youtube") != 0) {
    return 0; /* the other platforms count posts, not calls: a read costs one request only */
  }
  return strcmp(call, "unpublish") == 0 ? AIN_PUBLISH_YOUTUBE_DELETE_UNITS
                                        : AIN_PUBLISH_YOUTUBE_LIST_UNITS;
}

/* One grants request on the caller's loop, waited. */
static int grants(const ain_post_after_t *pa, ain_store_grants_t *g, ain_err_t *err) {
  ain_store_req_t req;
  ain_store_req_grants(&req, g);
  req.actor = pa->actor;
  int rc = ain_store_wait(pa->store, &req);
  if (rc != 0) {
    *err = req.err;
  }
  return rc;
}

int ain_post_quota_take(const ain_post_after_t *pa, const char *channel, const char *call,
                        ain_err_t *err) {
  ain_config_quota_t q;
  if (!ain_publish_quota_of(pa->cfg, channel, &q)) {
    return 0; /* no limit on this channel */
  }
  const ain_config_channel_t *cc = ain_config_channel(&pa->cfg->channels, channel);
  const char *account = cc != NULL && cc->account != NULL ? cc->account : channel;
  int64_t cost = ain_publish_quota_call_cost(cc != NULL ? cc->kind : NULL, call);
  for (int tries = 0; tries < MAX_TRIES; tries++) {
    ain_store_grants_t g = {.op = AIN_STORE_BUCKET_GET, .account = account};
    int rc = grants(pa, &g, err);
    if (rc != 0) {
      ain_store_grants_cleanup(&g);
      return rc;
    }
    ain_quota_state_t s = ain_publish_quota_state_of(&g.bucket);
    int64_t expect = g.bucket.state_version, now = ain_now_ms(), wait = 0;
    ain_store_grants_cleanup(&g);
    if (!ain_publish_quota_take(&q, cost, &s, now, &wait)) {
      const char *v[2] = {channel, "quota"};
      ain_obs_inc(AIN_M_PUBLISH_QUOTA_PARKS, v);
      return ain_err_set(err, AIN_EBUSY,
                         "the quota of account %s (channel %s) has no room for the %s call "
                         "(%lld units) for %lld s: try again then",
                         account, channel, call, (long long)cost, (long long)(wait + 999) / 1000);
    }
    ain_store_grants_t put = {.op = AIN_STORE_BUCKET_PUT,
                              .expect_version = expect,
                              .bucket = ain_publish_quota_row_of(account, &s)};
    rc = grants(pa, &put, err); /* a put has no outputs to free */
    if (rc == AIN_ECONFLICT) {
      continue; /* another taker wrote first: read its result and compute again */
    }
    if (rc == 0 && q.units_per_day > 0) {
      const char *v[1] = {channel};
      ain_obs_set(AIN_M_PUBLISH_QUOTA_LEFT, v, (double)(s.units_mu / 1000));
    }
    return rc;
  }
  return ain_err_set(err, AIN_ECONFLICT,
                     "the quota bucket of account %s changed under %d reads in a row", account,
                     MAX_TRIES);
}
