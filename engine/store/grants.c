/* The generic half of the GRANTS op (store/grants.h): the initialiser, input checks and freeing
 * outputs. The SQL is in sqlite/grants.c and postgres/grants.c. Relies on: store.h. */
#include "store/grants.h"

#include <stdlib.h>
#include <string.h>

void ain_store_req_grants(ain_store_req_t *req, ain_store_grants_t *g) {
  memset(req, 0, sizeof *req);
  req->op = AIN_STORE_GRANTS;
  req->u.grants = g;
}

void ain_store_grant_free(ain_store_grant_t *g) {
  if (g == NULL) {
    return;
  }
  free(g->jti);
  free(g->video_id);
  free(g->channel);
  free(g->token);
  free(g->granted_by);
  free(g->reason);
  memset(g, 0, sizeof *g);
}

void ain_store_grants_cleanup(ain_store_grants_t *g) {
  if (g == NULL) {
    return;
  }
  for (size_t i = 0; i < g->ngrants; i++) {
    ain_store_grant_free(&g->grants[i]);
  }
  free(g->grants);
  g->grants = NULL;
  g->ngrants = 0;
  for (size_t i = 0; i < g->nbuckets; i++) {
    free(g->buckets[i].account);
  }
  free(g->buckets);
  g->buckets = NULL;
  g->nbuckets = 0;
  if (g->op == AIN_STORE_BUCKET_GET) {
    free(g->bucket.account);
    g->bucket.account = NULL;
  }
}

static int empty(const char *s) {
  return s == NULL || s[0] == '\0';
}

int ain__store_grants_check(const ain_store_req_t *req, ain_err_t *err) {
  const ain_store_grants_t *g = req->u.grants;
  if (g == NULL) {
    return ain_err_field(err, AIN_EINVAL, "grants", "grants request without its struct");
  }
  switch (g->op) {
  case AIN_STORE_GRANT_PUT:
    if (g->nin == 0 || g->nin > AIN_STORE_GRANTS_PUT_MAX || g->in == NULL) {
      return ain_err_field(err, AIN_EINVAL, "grants", "1 to %d grants per put",
                           AIN_STORE_GRANTS_PUT_MAX);
    }
    for (size_t i = 0; i < g->nin; i++) {
      const ain_store_grant_t *x = &g->in[i];
      if (empty(x->jti) || empty(x->video_id) || empty(x->channel) || empty(x->token) ||
          empty(x->granted_by) || empty(x->reason)) {
        return ain_err_field(err, AIN_EINVAL, "grants",
                             "a grant needs jti, video_id, channel, token, granted_by, reason");
      }
    }
    return 0;
  case AIN_STORE_GRANT_GET:
  case AIN_STORE_GRANT_USE:
    return empty(g->jti) ? ain_err_field(err, AIN_EINVAL, "jti", "no jti") : 0;
  case AIN_STORE_BUCKET_GET:
    return empty(g->account) ? ain_err_field(err, AIN_EINVAL, "account", "no account") : 0;
  case AIN_STORE_BUCKET_PUT:
    if (empty(g->bucket.account)) {
      return ain_err_field(err, AIN_EINVAL, "account", "no account");
    }
    return g->expect_version < 0
               ? ain_err_field(err, AIN_EINVAL, "expect_version", "negative expect_version")
               : 0;
  case AIN_STORE_BUCKET_LIST:
    return 0;
  }
  return ain_err_field(err, AIN_EINVAL, "op", "unknown grants op %d", (int)g->op);
}
