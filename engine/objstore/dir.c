/* Local-directory object store: objects live at <root>/<key>. put copies the source into
 * <root>/tmp/ while hashing it in the same pass, fsyncs, and renames into place, so a reader never
 * sees a partial object and a crash leaves only a temp file. Content addressing makes a second put
 * of the same bytes a no-op (the temp copy is dropped).
 * Relies on: objstore.c (key validation happens in the wrappers; ain_objstore_sha256_copy hashes
 * while copying), POSIX. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "objstore/objstore.h"

typedef struct {
  ain_objstore_t base;
  char root[3072];
} dir_store_t;

static int fsync_dir(const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return -errno;
  }
  int rc = fsync(fd) == 0 ? 0 : -errno;
  close(fd);
  return rc;
}

static int obj_path(dir_store_t *d, const char *key, char *out, size_t cap, ain_err_t *err) {
  int n = snprintf(out, cap, "%s/%s", d->root, key);
  if (n < 0 || (size_t)n >= cap) {
    return ain_err_field(err, AIN_ETOOBIG, "key", "object key \"%.64s\": path too long", key);
  }
  return 0;
}

static int dir_put_file(ain_objstore_t *s, const char *src, const char *ext, char *key_out,
                        size_t cap, ain_err_t *err) {
  dir_store_t *d = (dir_store_t *)s;
  char tmp[4096], id[AIN_UUID_LEN + 1], hex[65], key[128], final[4096], sub[4096];
  ain_uuid7(id);
  snprintf(tmp, sizeof tmp, "%s/tmp/%s.part", d->root, id);
  int rc = 0, fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    return ain_err_set(err, AIN_EIO, "objstore put: %s: %s", tmp, strerror(errno));
  }
  if ((rc = ain_objstore_sha256_copy(src, "src_path", fd, hex, err)) != 0) {
    goto fail;
  }
  if (fsync(fd) != 0) {
    rc = ain_err_set(err, AIN_EIO, "objstore put: fsync: %s", strerror(errno));
    goto fail;
  }
  close(fd);
  fd = -1;
  snprintf(key, sizeof key, "sha256/%.2s/%s%s%s", hex, hex + 2, ext ? "." : "", ext ? ext : "");
  if (strlen(key) + 1 > cap) {
    rc = ain_err_field(err, AIN_ETOOBIG, "key_out", "objstore put: key buffer too small");
    goto fail;
  }
  snprintf(sub, sizeof sub, "%s/sha256/%.2s", d->root, hex);
  snprintf(final, sizeof final, "%s/%s", d->root, key);
  int e = ain_mkdir_p(sub);
  if (e != 0) {
    rc = ain_err_set(err, AIN_EIO, "objstore put: mkdir %s: %s", sub, strerror(-e));
    goto fail;
  }
  if (rename(tmp, final) != 0) {
    rc = ain_err_set(err, AIN_EIO, "objstore put: rename to %s: %s", final, strerror(errno));
    goto fail;
  }
  /* The rename is durable only once the directory entry is. */
  fsync_dir(sub);
  memcpy(key_out, key, strlen(key) + 1);
  return 0;
fail:
  if (fd >= 0) {
    close(fd);
  }
  unlink(tmp);
  return rc;
}

static int dir_get_path(ain_objstore_t *s, const char *key, char *out, size_t cap,
                        ain_err_t *err) {
  int rc = obj_path((dir_store_t *)s, key, out, cap, err);
  if (rc != 0) {
    return rc;
  }
  struct stat st;
  if (stat(out, &st) != 0 || !S_ISREG(st.st_mode)) {
    return ain_err_field(err, AIN_ENOTFOUND, "key", "object %s not found", key);
  }
  return 0;
}

static int dir_exists(ain_objstore_t *s, const char *key, ain_err_t *err) {
  char p[4096];
  int rc = obj_path((dir_store_t *)s, key, p, sizeof p, err);
  if (rc != 0) {
    return rc;
  }
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int dir_verify(ain_objstore_t *s, const char *key, ain_err_t *err) {
  /* Only content-addressed keys can be verified: "sha256/ab/<62 hex>[.ext]". */
  size_t klen = strlen(key);
  if (klen < 7 + 3 + 62 || strncmp(key, "sha256/", 7) != 0 || key[9] != '/' ||
      strspn(key + 7, "0123456789abcdef") != 2 || strspn(key + 10, "0123456789abcdef") != 62 ||
      (key[72] != '\0' && key[72] != '.')) {
    return ain_err_field(err, AIN_EINVAL, "key", "object key \"%.64s\" is not content-addressed",
                         key);
  }
  char p[4096], hex[65];
  int rc = obj_path((dir_store_t *)s, key, p, sizeof p, err);
  if (rc == 0) {
    rc = ain_objstore_sha256_file(p, hex, err);
  }
  if (rc == AIN_ENOTFOUND) {
    return ain_err_field(err, AIN_ENOTFOUND, "key", "object %s not found", key);
  }
  if (rc != 0) {
    return rc;
  }
  if (memcmp(hex, key + 7, 2) != 0 || memcmp(hex + 2, key + 10, 62) != 0) {
    return ain_err_field(err, AIN_EIO, "key", "object %s is corrupt: content hashes to %s", key,
                         hex);
  }
  return 0;
}

static int dir_del(ain_objstore_t *s, const char *key, ain_err_t *err) {
  char p[4096];
  int rc = obj_path((dir_store_t *)s, key, p, sizeof p, err);
  if (rc != 0) {
    return rc;
  }
  if (unlink(p) != 0) {
    return ain_err_field(err, errno == ENOENT ? AIN_ENOTFOUND : AIN_EIO, "key",
                         "object %s: %s", key, strerror(errno));
  }
  return 0;
}

/* Opens the object for reading and checks it is a regular file (a directory named like a key is
 * not an object). The fd or a negative AIN_E*. */
static int open_object(dir_store_t *d, const char *key, struct stat *st, ain_err_t *err) {
  char p[4096];
  int rc = obj_path(d, key, p, sizeof p, err);
  if (rc != 0) {
    return rc;
  }
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return ain_err_field(err, errno == ENOENT ? AIN_ENOTFOUND : AIN_EIO, "key", "object %s: %s",
                         key, errno == ENOENT ? "not found" : strerror(errno));
  }
  if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
    close(fd);
    return ain_err_field(err, AIN_ENOTFOUND, "key", "object %s not found", key);
  }
  return fd;
}

static int dir_stat(ain_objstore_t *s, const char *key, ain_objstore_stat_t *out, ain_err_t *err) {
  struct stat st;
  int fd = open_object((dir_store_t *)s, key, &st, err);
  if (fd < 0) {
    return fd;
  }
  close(fd);
  out->size = (uint64_t)st.st_size;
  out->mtime_s = (int64_t)st.st_mtime;
  return 0;
}

static int dir_read_range(ain_objstore_t *s, const char *key, uint64_t offset, void *buf,
                          size_t len, size_t *got, ain_err_t *err) {
  struct stat st;
  int fd = open_object((dir_store_t *)s, key, &st, err);
  if (fd < 0) {
    return fd;
  }
  int rc = 0;
  size_t n = 0;
  while (n < len && offset + n < (uint64_t)st.st_size) {
    ssize_t r = pread(fd, (char *)buf + n, len - n, (off_t)(offset + n));
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r < 0) {
      rc = ain_err_field(err, AIN_EIO, "key", "object %s: read at %llu: %s", key,
                         (unsigned long long)(offset + n), strerror(errno));
      break;
    }
    if (r == 0) {
      break; /* shorter than fstat said: the caller sees a short read */
    }
    n += (size_t)r;
  }
  close(fd);
  *got = n;
  return rc;
}

static void dir_close(ain_objstore_t *s) { free(s); }

/* No presigned URLs and no storage classes: a local folder has neither. */
static const ain_objstore_vtab_t dir_vtab = {
    "dir",   dir_put_file, dir_get_path,   dir_exists, dir_verify,
    dir_del, dir_stat,     dir_read_range, dir_close,  NULL,
    NULL};

int ain_objstore_dir_open(const char *root, ain_objstore_t **out, ain_err_t *err) {
  if (root == NULL || root[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "root", "objstore: root directory is required");
  }
  if (strlen(root) >= 3000) {
    return ain_err_field(err, AIN_ETOOBIG, "root", "objstore: root path too long");
  }
  dir_store_t *d = calloc(1, sizeof *d);
  if (d == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "objstore: no memory");
  }
  snprintf(d->root, sizeof d->root, "%s", root);
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s/tmp", root);
  int e = ain_mkdir_p(tmp);
  if (e != 0) {
    free(d);
    return ain_err_field(err, AIN_EIO, "root", "objstore: mkdir %s: %s", tmp, strerror(-e));
  }
  d->base.vt = &dir_vtab;
  d->base.impl = d;
  *out = &d->base;
  return 0;
}
