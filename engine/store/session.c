/* The generic half of PUBLISH_SESSION: a publish's durable upload state (table
 * publish_sessions, migration 023), read by key or saved under the publishing task's lease.
 * Relies on: store.h. */
#include <string.h>

#include "store/session.h"

void ain_store_req_publish_session(ain_store_req_t *req, const char *idempotency_key,
                                   const char *state_json) {
  memset(req, 0, sizeof *req);
  req->op = AIN_STORE_PUBLISH_SESSION;
  req->u.publish_session.idempotency_key = idempotency_key;
  req->u.publish_session.state_json = state_json;
}

int ain__store_session_check(const ain_store_req_t *req, ain_err_t *err) {
  const char *key = req->u.publish_session.idempotency_key;
  if (key == NULL || key[0] == '\0' || strlen(key) > 128) {
    return ain_err_field(err, AIN_EINVAL, "idempotency_key",
                         "a publish session needs an idempotency key of 1 to 128 bytes");
  }
  const char *st = req->u.publish_session.state_json;
  if (st == NULL) {
    return 0;
  }
  if (st[0] != '{' || strlen(st) > AIN_STORE_SESSION_MAX) {
    return ain_err_field(err, AIN_EINVAL, "state_json",
                         "a publish session's state must be a JSON object of at most %d bytes",
                         AIN_STORE_SESSION_MAX);
  }
  if (req->u.publish_session.task_id == NULL || req->u.publish_session.owner == NULL) {
    return ain_err_field(err, AIN_EINVAL, "task_id",
                         "a publish session save needs the task and lease owner that fence it");
  }
  return 0;
}
