/* ain_ops_env_wait: one store request run to completion for an operator operation (env.h). */
#include "ops/env.h"

int ain_ops_env_wait(const ain_ops_env_t *env, ain_store_req_t *req, ain_err_t *err) {
  if (env->store == NULL) {
    return ain_err_set(err, AIN_ESTORE, "this operation needs the store, and none was opened");
  }
  if (req->actor == NULL) {
    req->actor = env->actor;
  }
  int rc = ain_store_wait(env->store, req);
  if (rc != 0) {
    if (req->err.code == 0) {
      ain_err_set(&req->err, rc, "%s", ain_strerror(rc));
    }
    *err = req->err;
  }
  return rc;
}
