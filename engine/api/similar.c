/* GET /v1/similar?q=TEXT&kind=K&k=N: ops/similar.h on an API worker (the embedding may be a
 * network call and the search scans memory: neither belongs on the server's loop), the same
 * answer as `ain similar --json`. q is at most 511 bytes here (the query decoder's bound); the
 * ops layer checks kind and k and answers 400 naming them. Relies on: internal.h (opjob.c),
 * ops/similar.h. */
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "ops/similar.h"

static int run_similar(ain__api_opjob_t *j, ain_ops_t *ops) {
  ain_ops_similar_t s;
  int rc = ain_ops_similar(ops, j->arg, j->arg2[0] ? j->arg2 : "trend", (long)j->n, &s, &j->err);
  if (rc == 0) {
    j->out = ain_ops_similar_json(&s);
    ain_ops_similar_free(&s);
  }
  return rc;
}

static int similar_query(ain__api_opjob_t *j, const char *key, const char *value,
                         ain__api_call_t *call) {
  if (strcmp(key, "k") == 0) {
    char *end = NULL;
    long long k = strtoll(value, &end, 10);
    if (end == value || *end != '\0' || k < 1 || k > 1000) {
      ain__api_send_error(call->req, "EINVAL", "k", "'k' must be an integer in 1..1000");
      return -1;
    }
    j->n = k;
    return 0;
  }
  if (strcmp(key, "kind") == 0) {
    return ain__api_query_copy(call, key, value, j->arg2, sizeof j->arg2);
  }
  return ain__api_query_copy(call, key, value, j->arg, sizeof j->arg);
}

int ain__api_similar(ain__api_call_t *call) {
  static const char *const keys[] = {"q", "kind", "k", NULL};
  ain__api_opjob_t *j = ain__api_opjob_new(call, run_similar);
  if (j == NULL) {
    return 0;
  }
  j->n = 10;
  if (ain__api_query(call, keys, similar_query, j) != 0) {
    ain__api_opjob_free(j);
    return 0;
  }
  return ain__api_opjob_submit(call, j);
}
