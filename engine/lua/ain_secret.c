/* ain.secret(name) and ain.hmac_sha256(key, msg).
 * secret: a provider chain. The environment first (AIN_SECRET_<NAME>, name upper-cased), answered
 * at once; then the file <secrets_dir>/<name>, read on the libuv thread pool (never on the loop)
 * while the call yields. A file that group or others may read is refused: a secret copied with the
 * wrong mode is a leak we report instead of use. The value is never logged by the engine; the
 * error messages name the secret, never its value.
 * hmac_sha256: OpenSSL's one-shot HMAC, hex out.
 * Relies on: OpenSSL (HMAC, EVP_sha256), libuv (uv_queue_work), lua/internal.h. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lua/internal.h"

#define SECRET_NAME_MAX 64
#define SECRET_FILE_MAX 65536

/* ain.hmac_sha256(key, msg) -> lowercase hex */
static int l_hmac_sha256(lua_State *L) {
  size_t klen, mlen;
  const char *key = luaL_checklstring(L, 1, &klen);
  const char *msg = luaL_checklstring(L, 2, &mlen);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, mlen, mac, &n) == NULL) {
    return luaL_error(L, "ain.hmac_sha256: OpenSSL HMAC failed");
  }
  char hex[2 * EVP_MAX_MD_SIZE + 1];
  for (unsigned int i = 0; i < n; i++) {
    snprintf(hex + 2 * i, 3, "%02x", mac[i]);
  }
  lua_pushlstring(L, hex, 2 * (size_t)n);
  return 1;
}

/* ---- ain.secret ---- */

typedef struct {
  uv_work_t work;
  ain_lua_call_t *call; /* NULL once cancelled */
  char path[4200];
  char name[SECRET_NAME_MAX + 1];
  /* results, written by the pool thread */
  int code; /* 0 or AIN_E* */
  char msg[4400];
  char *value;
  size_t len;
} secret_op_t;

/* Pool thread: open, check mode and type on the open descriptor (no race with a rename), read. */
static void secret_read(uv_work_t *w) {
  secret_op_t *op = w->data;
  int fd = open(op->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    int e = errno;
    op->code = e == ENOENT ? AIN_ENOTFOUND : AIN_EIO;
    snprintf(op->msg, sizeof op->msg, "%s: secret '%s': %s", e == ENOENT ? "ENOTFOUND" : "EIO",
             op->name, e == ENOENT ? "not in the environment nor in secrets_dir" : strerror(e));
    return;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    op->code = AIN_EIO;
    snprintf(op->msg, sizeof op->msg, "EIO: secret '%s': %s is not a regular file", op->name,
             op->path);
    goto done;
  }
  if ((st.st_mode & 077) != 0) {
    op->code = AIN_ECONFIG;
    snprintf(op->msg, sizeof op->msg,
             "ECONFIG: secret '%s': %s is readable or writable by group or others (mode %03o); "
             "refusing it: chmod 600 it",
             op->name, op->path, (unsigned)(st.st_mode & 0777));
    goto done;
  }
  if (st.st_size > SECRET_FILE_MAX) {
    op->code = AIN_ETOOBIG;
    snprintf(op->msg, sizeof op->msg, "ETOOBIG: secret '%s': %s is larger than %d bytes",
             op->name, op->path, SECRET_FILE_MAX);
    goto done;
  }
  op->value = malloc((size_t)st.st_size + 1);
  size_t got = 0;
  while (op->value != NULL && got < (size_t)st.st_size) {
    ssize_t r = read(fd, op->value + got, (size_t)st.st_size - got);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r <= 0) {
      break;
    }
    got += (size_t)r;
  }
  if (op->value == NULL || got != (size_t)st.st_size) {
    op->code = AIN_EIO;
    snprintf(op->msg, sizeof op->msg, "EIO: secret '%s': short read of %s", op->name, op->path);
    goto done;
  }
  /* editors and `echo > file` add a final newline that is not part of the secret */
  while (got > 0 && (op->value[got - 1] == '\n' || op->value[got - 1] == '\r')) {
    got--;
  }
  op->len = got;
done:
  close(fd);
}

static void secret_wipe_free(secret_op_t *op) {
  if (op->value != NULL) {
    memset(op->value, 0, op->len);
    free(op->value);
  }
  free(op);
}

static void secret_done(uv_work_t *w, int status) {
  secret_op_t *op = w->data;
  ain_lua_call_t *call = op->call;
  if (call == NULL) {
    secret_wipe_free(op);
    return;
  }
  call->pending.cancel = NULL;
  lua_State *co = call->co;
  int nres;
  if (status != 0) {
    nres = ain__lua_push_fail(co, AIN_EIO, "secret '%s': %s", op->name, uv_strerror(status));
  } else if (op->code != 0) {
    nres = ain__lua_push_fail(co, op->code, "%s", op->msg);
  } else {
    lua_pushlstring(co, op->value, op->len);
    nres = 1;
  }
  secret_wipe_free(op);
  ain__lua_resume(call, nres);
}

static void secret_cancel(void *p) {
  secret_op_t *op = p;
  op->call = NULL; /* the pool job still ends in secret_done, which frees op */
  uv_cancel((uv_req_t *)&op->work);
}

static int name_ok(const char *s, size_t len) {
  if (len == 0 || len > SECRET_NAME_MAX) {
    return 0;
  }
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          (c == '-' && i > 0) || (c == '.' && i > 0))) {
      return 0;
    }
  }
  return 1;
}

/* ain.secret(name) -> value | nil, "ENOTFOUND: ...", "ENOTFOUND" */
static int l_secret(lua_State *L) {
  ain_lua_host_t *h = ain__lua_host_of(L);
  size_t len;
  const char *name = luaL_checklstring(L, 1, &len);
  if (!name_ok(name, len)) {
    return luaL_argerror(L, 1, "secret name must be 1 to 64 of A-Z a-z 0-9 _ (and - . after "
                               "the first)");
  }
  char env[SECRET_NAME_MAX + 12] = "AIN_SECRET_";
  for (size_t i = 0; i < len; i++) {
    char c = name[i];
    env[11 + i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : (c == '-' || c == '.') ? '_' : c;
  }
  env[11 + len] = '\0';
  const char *v = getenv(env);
  if (v != NULL) {
    lua_pushstring(L, v);
    return 1;
  }
  if (h->secrets_dir == NULL || h->secrets_dir[0] == '\0') {
    return ain__lua_push_fail(L, AIN_ENOTFOUND,
                              "secret '%s': %s is not set and no secrets_dir is configured", name,
                              env);
  }
  ain_lua_call_t *call = ain__lua_call_for_yield(L, "ain.secret");
  secret_op_t *op = calloc(1, sizeof *op);
  if (op == NULL) {
    return luaL_error(L, "ain.secret: out of memory");
  }
  op->call = call;
  op->work.data = op;
  snprintf(op->name, sizeof op->name, "%s", name);
  snprintf(op->path, sizeof op->path, "%s/%s", h->secrets_dir, name);
  int rc = uv_queue_work(h->loop, &op->work, secret_read, secret_done);
  if (rc != 0) {
    free(op);
    return luaL_error(L, "ain.secret: uv_queue_work: %s", uv_strerror(rc));
  }
  ain__lua_set_pending(call, secret_cancel, op);
  return lua_yield(L, 0);
}

void ain__lua_add_secret(lua_State *L) {
  lua_pushcfunction(L, l_secret);
  lua_setfield(L, -2, "secret");
  lua_pushcfunction(L, l_hmac_sha256);
  lua_setfield(L, -2, "hmac_sha256");
}
