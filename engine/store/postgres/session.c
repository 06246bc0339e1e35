/* The Postgres PUBLISH_SESSION: a read by key, or one fenced upsert whose fence (the publishing
 * task still running under the same lease) is part of the statement, on table publish_sessions
 * (sql/postgres/023_publish_sessions.sql). Relies on: internal.h, cJSON. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/internal.h"

int ain__pg_plan_session(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now) {
  if (req->u.publish_session.state_json == NULL) {
    ain__pg_cmd_t *c = ain__pg_cmd(plan, AIN__PG_SESSION_GET);
    c->params[0] = ain_strdup(req->u.publish_session.idempotency_key);
    return 0;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "channel", req->u.publish_session.channel ? req->u.publish_session.channel : "");
  cJSON_AddStringToObject(o, "video_id",
                          req->u.publish_session.video_id ? req->u.publish_session.video_id : "");
  cJSON_AddStringToObject(o, "state", req->u.publish_session.state_json);
  cJSON_AddStringToObject(o, "owner", req->u.publish_session.owner);
  cJSON_AddNumberToObject(o, "attempts", req->u.publish_session.attempts);
  char *json = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  if (json == NULL) {
    return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
  }
  char buf[32];
  snprintf(buf, sizeof buf, "%" PRId64, now);
  ain__pg_cmd_t *c = ain__pg_cmd(plan, AIN__PG_SESSION_SAVE);
  c->params[0] = ain_strdup(req->u.publish_session.idempotency_key);
  c->params[1] = ain_strdup(req->u.publish_session.task_id);
  c->params[2] = ain_strdup(buf);
  c->params[3] = json;
  return 0;
}

int ain__pg_parse_session(ain_store_req_t *req, ain__pg_plan_t *plan) {
  const PGresult *r = plan->res[0];
  int n = r != NULL ? PQntuples(r) : 0;
  if (req->u.publish_session.state_json == NULL) {
    if (n == 1) {
      req->u.publish_session.saved =
          PQgetisnull(r, 0, 0) ? NULL : ain_strdup(PQgetvalue(r, 0, 0));
      req->u.publish_session.version = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    }
    return 0;
  }
  if (n != 1) {
    return ain_err_field(&req->err, AIN_ELEASE, "task_id",
                         "publish session %s not saved: task %s no longer holds its lease",
                         req->u.publish_session.idempotency_key, req->u.publish_session.task_id);
  }
  req->u.publish_session.version = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  return 0;
}
