/* The generic layer of the WEDGE op (store.h): its initialiser and the checks every backend
 * relies on. The SQL lives in sqlite/wedge.c and sql/postgres/010_wedges.sql.
 * Relies on: store.h. */
#include "store/wedge.h"

#include <string.h>

void ain_store_req_wedge(ain_store_req_t *req, const char *task_id, int64_t state_version,
                         const char *owner, const char *error, int64_t elapsed_ms,
                         int poison_after, const char *node_id) {
  memset(req, 0, sizeof *req);
  req->op = AIN_STORE_WEDGE;
  req->u.wedge.task_id = task_id;
  req->u.wedge.state_version = state_version;
  req->u.wedge.owner = owner;
  req->u.wedge.error = error;
  req->u.wedge.elapsed_ms = elapsed_ms;
  req->u.wedge.poison_after = poison_after;
  req->u.wedge.node_id = node_id;
}

int ain__store_wedge_check(const ain_store_req_t *req, ain_err_t *err) {
  const char *id = req->u.wedge.task_id;
  if (id == NULL || id[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "task_id", "a wedge names the task it was running");
  }
  if (req->u.wedge.state_version < 0) {
    return ain_err_field(err, AIN_EINVAL, "state_version", "state_version must be >= 0, got %lld",
                         (long long)req->u.wedge.state_version);
  }
  const char *e = req->u.wedge.error;
  if (e == NULL || strncmp(e, "EWEDGED: ", 9) != 0) {
    return ain_err_field(err, AIN_EINVAL, "error", "a wedge's error must start with 'EWEDGED: '");
  }
  if (req->u.wedge.poison_after < 1) {
    return ain_err_field(err, AIN_EINVAL, "poison_after", "poison_after must be >= 1, got %d",
                         req->u.wedge.poison_after);
  }
  if (req->u.wedge.elapsed_ms < 0) {
    return ain_err_field(err, AIN_EINVAL, "elapsed_ms", "elapsed_ms must be >= 0");
  }
  /* The id is the prefix of this node's lease owners: a '%' or '_' would widen the match. */
  const char *n = req->u.wedge.node_id;
  if (n != NULL && (n[0] == '\0' || strpbrk(n, "%_\\") != NULL)) {
    return ain_err_field(err, AIN_EINVAL, "node_id", "node id '%s' is empty or contains %%, _ or \\",
                         n);
  }
  return 0;
}
