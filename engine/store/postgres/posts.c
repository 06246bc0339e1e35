/* Postgres AIN_STORE_POSTS (store/posts.h): one call of ain_posts_op(action, actor, now, args)
 * from sql/postgres/025_post_after.sql; its JSON answer is the request's output as it is, and a
 * refusal {"error": {code, field, msg}} becomes req->err (not an exception: it must not abort
 * the other requests sharing the pipeline sync). Relies on: internal.h, cJSON. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/internal.h"

int ain__pg_plan_posts(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now) {
  char buf[32];
  snprintf(buf, sizeof buf, "%" PRId64, now);
  ain__pg_cmd_t *c = ain__pg_cmd(plan, AIN__PG_POSTS);
  c->params[0] = ain_strdup(req->u.posts.action);
  c->params[1] = ain_strdup(req->actor != NULL ? req->actor : "store");
  c->params[2] = ain_strdup(buf);
  c->params[3] = ain_strdup(req->u.posts.args);
  if (c->params[0] == NULL || c->params[1] == NULL || c->params[2] == NULL ||
      c->params[3] == NULL) {
    return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
  }
  return 0;
}

int ain__pg_parse_posts(ain_store_req_t *req, ain__pg_plan_t *plan) {
  const PGresult *r = plan->res[0];
  if (r == NULL || PQntuples(r) != 1 || PQgetisnull(r, 0, 0)) {
    return ain_err_set(&req->err, AIN_ESTORE, "postgres: ain_posts_op returned no answer");
  }
  const char *text = PQgetvalue(r, 0, 0);
  cJSON *o = cJSON_Parse(text);
  if (o == NULL) {
    return ain_err_set(&req->err, AIN_ESTORE, "postgres: ain_posts_op answer is not JSON");
  }
  int rc = 0;
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
  if (cJSON_IsObject(e)) {
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "msg");
    const cJSON *field = cJSON_GetObjectItemCaseSensitive(e, "field");
    rc = ain_err_field(&req->err, cJSON_IsNumber(code) ? (int)code->valuedouble : AIN_ESTORE,
                       cJSON_IsString(field) ? field->valuestring : "", "%s",
                       cJSON_IsString(msg) ? msg->valuestring : "refused");
  } else if ((req->u.posts.out = ain_strdup(text)) == NULL) {
    rc = ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
  }
  cJSON_Delete(o);
  return rc;
}
