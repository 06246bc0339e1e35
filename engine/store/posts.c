/* The generic half of AIN_STORE_POSTS (posts.h): the request initialiser and the check store.c
 * runs before a backend sees the request. Relies on: store.h. */
#include "store/posts.h"

#include <string.h>

static const char *const ACTIONS[] = {"receipts", "mark",        "takedowns", "flag",
                                      "recent",   "metrics_put", "metrics"};

void ain_store_req_posts(ain_store_req_t *req, const char *action, const char *args_json) {
  memset(req, 0, sizeof *req);
  req->op = AIN_STORE_POSTS;
  req->u.posts.action = action;
  req->u.posts.args = args_json;
}

int ain__store_posts_check(const ain_store_req_t *req, ain_err_t *err) {
  const char *a = req->u.posts.action;
  int known = 0;
  for (size_t i = 0; a != NULL && i < sizeof ACTIONS / sizeof *ACTIONS; i++) {
    known |= strcmp(a, ACTIONS[i]) == 0;
  }
  if (!known) {
    return ain_err_field(err, AIN_EINVAL, "action", "unknown posts action '%s'", a ? a : "(null)");
  }
  const char *args = req->u.posts.args;
  if (args == NULL || args[strspn(args, " \t\r\n")] != '{') {
    return ain_err_field(err, AIN_EINVAL, "args", "posts %s: args must be a JSON object", a);
  }
  return 0;
}
