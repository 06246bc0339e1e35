/* The generic half of the key-value ops (KV_GET / KV_PUT / KV_DELETE): request initialisers and
 * the input checks store.c runs before a backend sees a request. The rows live in table kv
 * (sql/<backend>/003_kv.sql); the backends' kv.c files hold the SQL.
 * A namespace is one policy module (ain.store in Lua passes the calling module's name), so two
 * policies never see each other's keys. Relies on: store.h. */
#include <string.h>

#include "store/store.h"

static void kv_init(ain_store_req_t *req, ain_store_op_t op, const char *ns, const char *key) {
  memset(req, 0, sizeof *req);
  req->op = op;
  req->u.kv.ns = ns;
  req->u.kv.key = key;
  req->u.kv.expect_version = -1;
}

void ain_store_req_kv_get(ain_store_req_t *req, const char *ns, const char *key) {
  kv_init(req, AIN_STORE_KV_GET, ns, key);
}

void ain_store_req_kv_put(ain_store_req_t *req, const char *ns, const char *key,
                          const char *value_json, int64_t expect_version) {
  kv_init(req, AIN_STORE_KV_PUT, ns, key);
  req->u.kv.value = value_json;
  req->u.kv.expect_version = expect_version;
}

void ain_store_req_kv_delete(ain_store_req_t *req, const char *ns, const char *key,
                             int64_t expect_version) {
  kv_init(req, AIN_STORE_KV_DELETE, ns, key);
  req->u.kv.expect_version = expect_version;
}

int ain__store_kv_check(const ain_store_req_t *req, ain_err_t *err) {
  const char *ns = req->u.kv.ns, *key = req->u.kv.key;
  if (ns == NULL || ns[0] == '\0' || strlen(ns) > AIN_STORE_KV_NS_MAX) {
    return ain_err_field(err, AIN_EINVAL, "ns", "namespace must be 1 to %d bytes",
                         AIN_STORE_KV_NS_MAX);
  }
  if (key == NULL || key[0] == '\0' || strlen(key) > AIN_STORE_KV_KEY_MAX) {
    return ain_err_field(err, AIN_EINVAL, "key", "key must be 1 to %d bytes",
                         AIN_STORE_KV_KEY_MAX);
  }
  if (req->u.kv.expect_version < -1) {
    return ain_err_field(err, AIN_EINVAL, "expect_version",
                         "expect_version must be -1 (any), 0 (absent) or a version, got %lld",
                         (long long)req->u.kv.expect_version);
  }
  if (req->op == AIN_STORE_KV_DELETE && req->u.kv.expect_version == 0) {
    return ain_err_field(err, AIN_EINVAL, "expect_version",
                         "delete with expect_version 0 (absent) makes no sense");
  }
  if (req->op == AIN_STORE_KV_PUT) {
    if (req->u.kv.value == NULL || req->u.kv.value[0] == '\0') {
      return ain_err_field(err, AIN_EINVAL, "value", "put needs a JSON value");
    }
    if (strlen(req->u.kv.value) > AIN_STORE_KV_VALUE_MAX) {
      return ain_err_field(err, AIN_ETOOBIG, "value", "value is larger than %u bytes",
                           AIN_STORE_KV_VALUE_MAX);
    }
  }
  return 0;
}
