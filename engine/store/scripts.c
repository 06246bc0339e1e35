/* The generic layer of the script registry ops (store/scripts.h): request initialisers, the
 * checks every backend relies on (module names, sha256 hex, source present), and output cleanup.
 * Relies on: store.h. */
#include "store/scripts.h"

#include <stdlib.h>
#include <string.h>

static void req_init(ain_store_req_t *req, ain_store_op_t op) {
  memset(req, 0, sizeof *req);
  req->op = op;
}

void ain_store_req_script_put(ain_store_req_t *req, const char *module, const char *sha,
                              const char *source, const char *error) {
  req_init(req, AIN_STORE_SCRIPT_PUT);
  req->u.script_put.module = module;
  req->u.script_put.sha = sha;
  req->u.script_put.source = source;
  req->u.script_put.error = error;
}

void ain_store_req_script_get(ain_store_req_t *req, const char *sha, const char *module) {
  req_init(req, AIN_STORE_SCRIPT_GET);
  req->u.script_get.sha = sha;
  req->u.script_get.module = module;
}

void ain_store_req_script_list(ain_store_req_t *req, const char *module) {
  req_init(req, AIN_STORE_SCRIPT_LIST);
  req->u.script_list.module = module;
}

void ain_store_req_script_pin(ain_store_req_t *req, const char *module, const char *sha) {
  req_init(req, AIN_STORE_SCRIPT_PIN);
  req->u.script_pin.module = module;
  req->u.script_pin.sha = sha;
}

int ain__store_sha_prefix_ok(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n < 8 || n > 64) {
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
      return 0;
    }
  }
  return 1;
}

/* The module names the Lua host accepts: "judge", "personas/coach_ava". */
static int module_ok(const char *m) {
  size_t n = m ? strlen(m) : 0;
  if (n == 0 || n >= 120) {
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    char ch = m[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '_' || ch == '-' || ch == '/')) {
      return 0;
    }
  }
  return 1;
}

int ain__store_scripts_check(const ain_store_req_t *req, ain_err_t *err) {
  switch (req->op) {
  case AIN_STORE_SCRIPT_PUT:
    if (!module_ok(req->u.script_put.module)) {
      return ain_err_field(err, AIN_EINVAL, "module", "bad module name '%s'",
                           req->u.script_put.module ? req->u.script_put.module : "(null)");
    }
    if (!ain__store_sha_prefix_ok(req->u.script_put.sha) || strlen(req->u.script_put.sha) != 64) {
      return ain_err_field(err, AIN_EINVAL, "sha", "sha must be 64 lowercase hex digits");
    }
    if (req->u.script_put.source == NULL) {
      return ain_err_field(err, AIN_EINVAL, "source", "no source");
    }
    return 0;
  case AIN_STORE_SCRIPT_GET:
    if (!ain__store_sha_prefix_ok(req->u.script_get.sha)) {
      return ain_err_field(err, AIN_EINVAL, "sha", "sha must be 8 to 64 lowercase hex digits");
    }
    if (req->u.script_get.module != NULL && !module_ok(req->u.script_get.module)) {
      return ain_err_field(err, AIN_EINVAL, "module", "bad module name '%s'",
                           req->u.script_get.module);
    }
    return 0;
  case AIN_STORE_SCRIPT_LIST:
    if (req->u.script_list.module != NULL && !module_ok(req->u.script_list.module)) {
      return ain_err_field(err, AIN_EINVAL, "module", "bad module name '%s'",
                           req->u.script_list.module);
    }
    return 0;
  case AIN_STORE_SCRIPT_PIN:
    if (!module_ok(req->u.script_pin.module)) {
      return ain_err_field(err, AIN_EINVAL, "module", "bad module name '%s'",
                           req->u.script_pin.module ? req->u.script_pin.module : "(null)");
    }
    if (req->u.script_pin.sha != NULL && !ain__store_sha_prefix_ok(req->u.script_pin.sha)) {
      return ain_err_field(err, AIN_EINVAL, "sha", "sha must be 8 to 64 lowercase hex digits");
    }
    return 0;
  default:
    return ain_err_field(err, AIN_EINVAL, "op", "not a script op: %d", (int)req->op);
  }
}

static void version_free(ain_script_version_t *v) {
  free(v->module);
  free(v->source);
  free(v->error);
  memset(v, 0, sizeof *v);
}

void ain__store_scripts_cleanup(ain_store_req_t *req) {
  switch (req->op) {
  case AIN_STORE_SCRIPT_GET:
    version_free(&req->u.script_get.version);
    break;
  case AIN_STORE_SCRIPT_LIST:
    for (size_t i = 0; req->u.script_list.versions && i < req->u.script_list.nversions; i++) {
      version_free(&req->u.script_list.versions[i]);
    }
    free(req->u.script_list.versions);
    for (size_t i = 0; req->u.script_list.pins && i < req->u.script_list.npins; i++) {
      free(req->u.script_list.pins[i].module);
    }
    free(req->u.script_list.pins);
    req->u.script_list.versions = NULL;
    req->u.script_list.pins = NULL;
    req->u.script_list.nversions = req->u.script_list.npins = 0;
    break;
  default:
    break;
  }
}
