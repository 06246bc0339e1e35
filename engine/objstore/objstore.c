/* Object-store front end: key validation (the one gate every backend relies on), the validating
 * wrappers around the backend table, and file hashing.
 * Relies on: OpenSSL EVP, core/err. */
#include "objstore/objstore.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int ain_objstore_key_valid(const char *key, size_t len, ain_err_t *err) {
  char shown[80];
  snprintf(shown, sizeof shown, "%.*s%s", (int)(len < 64 ? len : 64), key ? key : "",
           len > 64 ? "..." : "");
  if (key == NULL || len == 0) {
    return ain_err_field(err, AIN_EINVAL, "key", "object key is empty");
  }
  if (len > AIN_OBJSTORE_KEY_MAX) {
    return ain_err_field(err, AIN_EINVAL, "key", "object key \"%s\": %zu bytes, max %d", shown,
                         len, AIN_OBJSTORE_KEY_MAX);
  }
  if (memchr(key, '\0', len) != NULL) {
    return ain_err_field(err, AIN_EINVAL, "key", "object key \"%s\": contains NUL", shown);
  }
  if (key[0] == '/') {
    return ain_err_field(err, AIN_EINVAL, "key", "object key \"%s\": absolute path", shown);
  }
  for (size_t i = 0; i < len; i++) {
    char c = key[i];
    if (c == '\\') {
      return ain_err_field(err, AIN_EINVAL, "key", "object key \"%s\": contains a backslash",
                           shown);
    }
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '.' || c == '_' || c == '/' || c == '-';
    if (!ok) {
      return ain_err_field(err, AIN_EINVAL, "key",
                           "object key \"%s\": byte 0x%02x at %zu outside [A-Za-z0-9._/-]", shown,
                           (unsigned char)c, i);
    }
  }
  /* Segments: none empty ("a//b", trailing '/'), none "." or ".." (traversal). */
  size_t start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && key[i] != '/') {
      continue;
    }
    size_t n = i - start;
    if (n == 0) {
      return ain_err_field(err, AIN_EINVAL, "key", "object key \"%s\": empty path segment",
                           shown);
    }
    if ((n == 1 && key[start] == '.') || (n == 2 && key[start] == '.' && key[start + 1] == '.')) {
      return ain_err_field(err, AIN_EINVAL, "key", "object key \"%s\": \".\" or \"..\" segment",
                           shown);
    }
    start = i + 1;
  }
  return 0;
}

static int check(const char *key, ain_err_t *err) {
  return ain_objstore_key_valid(key, key ? strlen(key) : 0, err);
}

int ain_objstore_put_file(ain_objstore_t *s, const char *src_path, const char *ext, char *key_out,
                          size_t cap, ain_err_t *err) {
  if (src_path == NULL || key_out == NULL) {
    return ain_err_set(err, AIN_EINVAL, "objstore put: src_path and key_out are required");
  }
  if (ext != NULL) {
    size_t n = strlen(ext);
    if (n == 0 || n > 10 || strspn(ext, "abcdefghijklmnopqrstuvwxyz0123456789") != n) {
      return ain_err_field(err, AIN_EINVAL, "ext", "objstore put: extension \"%.16s\" must be "
                                                   "1-10 of [a-z0-9]", ext);
    }
  }
  return s->vt->put_file(s, src_path, ext, key_out, cap, err);
}

int ain_objstore_get_path(ain_objstore_t *s, const char *key, char *out, size_t cap,
                          ain_err_t *err) {
  int rc = check(key, err);
  return rc ? rc : s->vt->get_path(s, key, out, cap, err);
}

int ain_objstore_exists(ain_objstore_t *s, const char *key, ain_err_t *err) {
  int rc = check(key, err);
  return rc ? rc : s->vt->exists(s, key, err);
}

int ain_objstore_verify(ain_objstore_t *s, const char *key, ain_err_t *err) {
  int rc = check(key, err);
  return rc ? rc : s->vt->verify(s, key, err);
}

int ain_objstore_delete(ain_objstore_t *s, const char *key, ain_err_t *err) {
  int rc = check(key, err);
  return rc ? rc : s->vt->del(s, key, err);
}

int ain_objstore_stat(ain_objstore_t *s, const char *key, ain_objstore_stat_t *st,
                      ain_err_t *err) {
  int rc = check(key, err);
  return rc ? rc : s->vt->stat(s, key, st, err);
}

int ain_objstore_read_range(ain_objstore_t *s, const char *key, uint64_t offset, void *buf,
                            size_t len, size_t *got, ain_err_t *err) {
  *got = 0;
  int rc = check(key, err);
  return rc ? rc : s->vt->read_range(s, key, offset, buf, len, got, err);
}

void ain_objstore_close(ain_objstore_t *s) {
  if (s != NULL) {
    s->vt->close(s);
  }
}

int ain_objstore_presign_get(ain_objstore_t *s, const char *key, int64_t ttl_s, char *out,
                             size_t cap, ain_err_t *err) {
  int rc = check(key, err);
  if (rc == 0 && s->vt->presign_get == NULL) {
    rc = ain_err_set(err, AIN_EINVAL, "objstore: the %s backend has no presigned URLs",
                     s->vt->name);
  }
  if (rc == 0 && (ttl_s < 1 || ttl_s > 604800)) {
    rc = ain_err_field(err, AIN_EINVAL, "ttl_s", "objstore presign: ttl %lld s outside 1..604800",
                       (long long)ttl_s);
  }
  return rc ? rc : s->vt->presign_get(s, key, ttl_s, out, cap, err);
}

int ain_objstore_set_class(ain_objstore_t *s, const char *key, const char *storage_class,
                           ain_err_t *err) {
  int rc = check(key, err);
  if (rc == 0 && s->vt->set_class == NULL) {
    rc = ain_err_set(err, AIN_EINVAL, "objstore: the %s backend has no storage classes",
                     s->vt->name);
  }
  if (rc == 0 && (storage_class == NULL || storage_class[0] == '\0' ||
                  strspn(storage_class, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != strlen(storage_class))) {
    rc = ain_err_field(err, AIN_EINVAL, "storage_class",
                       "objstore: storage class \"%.32s\" is not [A-Z_]+",
                       storage_class ? storage_class : "");
  }
  return rc ? rc : s->vt->set_class(s, key, storage_class, err);
}

int ain_objstore_sha256_copy(const char *path, const char *field, int dst_fd, char hex[65],
                             ain_err_t *err) {
  int rc = 0;
  EVP_MD_CTX *ctx = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return ain_err_field(err, errno == ENOENT ? AIN_ENOTFOUND : AIN_EIO, field, "%s: %s", path,
                         strerror(errno));
  }
  ctx = EVP_MD_CTX_new();
  if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
    rc = ain_err_set(err, AIN_ENOMEM, "sha256: cannot initialise");
    goto fail;
  }
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      rc = ain_err_field(err, AIN_EIO, field, "%s: read: %s", path, strerror(errno));
      goto fail;
    }
    if (n == 0) {
      break;
    }
    EVP_DigestUpdate(ctx, buf, (size_t)n);
    for (ssize_t off = 0; dst_fd >= 0 && off < n;) {
      ssize_t w = write(dst_fd, buf + off, (size_t)(n - off));
      if (w < 0 && errno == EINTR) {
        continue;
      }
      if (w < 0) {
        rc = ain_err_set(err, AIN_EIO, "objstore put: write: %s", strerror(errno));
        goto fail;
      }
      off += w;
    }
  }
  unsigned char md[32];
  unsigned int mdlen = 0;
  EVP_DigestFinal_ex(ctx, md, &mdlen);
  for (int i = 0; i < 32; i++) {
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
  }
fail:
  EVP_MD_CTX_free(ctx);
  close(fd);
  return rc;
}

int ain_objstore_sha256_file(const char *path, char hex[65], ain_err_t *err) {
  return ain_objstore_sha256_copy(path, "path", -1, hex, err);
}
