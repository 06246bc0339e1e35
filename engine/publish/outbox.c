/* The outbox-directory channel kind (the embedded default) and the request check every kind
 * shares. The outbox writes dir/<idempotency_key>/{files, <video_id>.json} atomically
 * (temporary folder, every file and the folder fsynced, rename, parent fsynced). The rename is
 * the commit point: a folder named by the key exists only complete, so "it exists" means "it was
 * published", and a retry or a racing second publisher finds it and writes nothing.
 * It keeps no session state: the folder is its own record (post id = the key, url = the folder).
 * Relies on: kinds.h, objstore (source paths), POSIX file I/O (blocking: thread pool only). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "publish/after.h"
#include "publish/kinds.h"

typedef struct {
  char *dir;
} outbox_t;

static int sys_fail(ain_err_t *err, const char *what, const char *path) {
  return ain_err_field(err, AIN_EIO, "channels.outbox.dir", "outbox: %s %s: %s", what, path,
                       strerror(errno));
}

static int fsync_path(const char *path, int dir, ain_err_t *err) {
  int fd = open(path, (dir ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return sys_fail(err, "opening", path);
  }
  int rc = fsync(fd) != 0 ? sys_fail(err, "fsync", path) : 0;
  close(fd);
  return rc;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) {
        continue;
      }
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Copies src to dst (new file), fsynced. */
static int copy_file(const char *src, const char *dst, ain_err_t *err) {
  int in = -1, out = -1, rc = 0;
  char buf[1 << 16];
  if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0) {
    rc = sys_fail(err, "reading", src);
    goto done;
  }
  if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
    rc = sys_fail(err, "creating", dst);
    goto done;
  }
  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      rc = sys_fail(err, "reading", src);
      goto done;
    }
    if (n == 0) {
      break;
    }
    if (write_all(out, buf, (size_t)n) != 0) {
      rc = sys_fail(err, "writing", dst);
      goto done;
    }
  }
  if (fsync(out) != 0) {
    rc = sys_fail(err, "fsync", dst);
  }
done:
  if (in >= 0) {
    close(in);
  }
  if (out >= 0 && close(out) != 0 && rc == 0) {
    rc = sys_fail(err, "closing", dst);
  }
  return rc;
}

static int write_text(const char *path, const char *text, ain_err_t *err) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    return sys_fail(err, "creating", path);
  }
  int rc = 0;
  if (write_all(fd, text, strlen(text)) != 0 || write_all(fd, "\n", 1) != 0) {
    rc = sys_fail(err, "writing", path);
  } else if (fsync(fd) != 0) {
    rc = sys_fail(err, "fsync", path);
  }
  if (close(fd) != 0 && rc == 0) {
    rc = sys_fail(err, "closing", path);
  }
  return rc;
}

/* Best effort: the temporary folder of a failed attempt holds only plain files. */
static void remove_tmp(const char *path) {
  DIR *d = opendir(path);
  if (d != NULL) {
    struct dirent *e;
    char p[PATH_MAX];
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
          snprintf(p, sizeof p, "%s/%s", path, e->d_name) < (int)sizeof p) {
        unlink(p);
      }
    }
    closedir(d);
  }
  rmdir(path);
}

static int is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int outbox_write(outbox_t *o, const ain_publish_req_t *req, char *location, size_t cap,
                        int *already, ain_err_t *err) {
  char final[PATH_MAX], tmp[PATH_MAX], path[PATH_MAX], src[PATH_MAX];
  int rc = 0, made_tmp = 0;
  *already = 0;
  if (snprintf(final, sizeof final, "%s/%s", o->dir, req->idempotency_key) >= (int)sizeof final) {
    return ain_err_set(err, AIN_EINVAL, "outbox: path too long under %s", o->dir);
  }
  snprintf(location, cap, "%s", final);
  if (is_dir(final)) { /* published before: the rename made it whole */
    *already = 1;
    return 0;
  }
  if ((rc = ain_mkdir_p(o->dir)) != 0) {
    errno = -rc;
    return sys_fail(err, "creating", o->dir);
  }
  char uuid[AIN_UUID_LEN + 1];
  ain_uuid7(uuid);
  snprintf(tmp, sizeof tmp, "%s/.tmp-%s-%s", o->dir, req->idempotency_key, uuid);
  if (mkdir(tmp, 0755) != 0) {
    return sys_fail(err, "creating", tmp);
  }
  made_tmp = 1;
  for (size_t i = 0; i < req->nfiles; i++) {
    const ain_publish_file_t *f = &req->files[i];
    if ((rc = ain_objstore_get_path(req->objects, f->key, src, sizeof src, err)) != 0) {
      ain_err_prefix(err, "outbox: %s file", f->role != NULL ? f->role : "a");
      goto fail;
    }
    snprintf(path, sizeof path, "%s/%s", tmp, f->name);
    if ((rc = copy_file(src, path, err)) != 0) {
      goto fail;
    }
  }
  snprintf(path, sizeof path, "%s/%s.json", tmp, req->video_id);
  if ((rc = write_text(path, req->sidecar_json, err)) != 0 ||
      (rc = fsync_path(tmp, 1, err)) != 0) {
    goto fail;
  }
  if (rename(tmp, final) != 0) {
    if ((errno == EEXIST || errno == ENOTEMPTY) && is_dir(final)) {
      *already = 1; /* another publisher of the same key won the race: theirs stands */
      remove_tmp(tmp);
      return 0;
    }
    rc = sys_fail(err, "renaming into", final);
    goto fail;
  }
  made_tmp = 0;
  return fsync_path(o->dir, 1, err);
fail:
  if (made_tmp) {
    remove_tmp(tmp);
  }
  return rc;
}

static int outbox_publish(ain_channel_t *ch, const ain_publish_req_t *req,
                          ain_channel_session_t *session, ain_channel_result_t *res,
                          ain_err_t *err) {
  (void)session; /* the rename is the commit point: nothing to resume */
  int rc = outbox_write(ch->impl, req, res->url, sizeof res->url, &res->already, err);
  if (rc == 0) {
    snprintf(res->post_id, sizeof res->post_id, "%s", req->idempotency_key);
  }
  return rc;
}

static int outbox_unpublish(ain_channel_t *ch, const char *post_id, ain_err_t *err) {
  return ain_publish_outbox_unpublish(((outbox_t *)ch->impl)->dir, post_id, err);
}

static int outbox_check(const char *name, const cJSON *opts, ain_err_t *err) {
  static const char *const keys[] = {"dir", NULL};
  int rc = ain_channel_check_keys(name, opts, keys, err);
  return rc != 0 ? rc : ain_channel_check_str(name, opts, "dir", 1, PATH_MAX - 200, err);
}

static int outbox_open(const ain_channel_open_t *op, ain_channel_t **out, ain_err_t *err) {
  const char *dir = ain_channel_opt_str(op->opts, "dir", NULL);
  if (dir == NULL || dir[0] == '\0') {
    return ain_err_field(err, AIN_ECONFIG, "channels.outbox.dir", "outbox channel %s has no dir",
                         op->name);
  }
  outbox_t *o = calloc(1, sizeof *o);
  ain_channel_t *ch = o != NULL ? ain_channel_new(&ain_channel_outbox, op->name, o) : NULL;
  if (ch == NULL) {
    free(o);
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  o->dir = ain_strdup(dir);
  *out = ch;
  return 0;
}

static void outbox_close(ain_channel_t *ch) {
  outbox_t *o = ch->impl;
  free(o->dir);
  free(o);
  ain_channel_free(ch);
}

const ain_channel_kind_t ain_channel_outbox = {
    .kind = "outbox",
    .check = outbox_check,
    .open = outbox_open,
    .publish = outbox_publish,
    .unpublish = outbox_unpublish, /* the published folder, atomically (outbox_unpublish.c) */
    .metrics = NULL,
    .close = outbox_close,
};

static int name_ok(const char *s, size_t min, size_t max) {
  size_t n = s != NULL ? strlen(s) : 0;
  return n >= min && n <= max && s[0] != '.' &&
         s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")] == '\0';
}

int ain_publish_req_check(const ain_publish_req_t *req, ain_err_t *err) {
  if (!name_ok(req->idempotency_key, 8, 128) || strchr(req->idempotency_key, '.') != NULL) {
    return ain_err_field(err, AIN_EINVAL, "idempotency_key",
                         "idempotency key must be 8..128 characters of [A-Za-z0-9_-]");
  }
  if (!name_ok(req->video_id, 1, 128)) {
    return ain_err_field(err, AIN_EINVAL, "video_id", "video_id '%s' is not a safe file name",
                         req->video_id ? req->video_id : "");
  }
  if (req->nfiles == 0 || req->objects == NULL) {
    return ain_err_field(err, AIN_EINVAL, "files", "nothing to publish");
  }
  for (size_t i = 0; i < req->nfiles; i++) {
    if (!name_ok(req->files[i].name, 1, 200) || req->files[i].key == NULL) {
      return ain_err_field(err, AIN_EINVAL, "files[].name", "file %zu: bad name '%s'", i,
                           req->files[i].name ? req->files[i].name : "");
    }
  }
  if (req->sidecar_json == NULL || req->sidecar_json[0] != '{') {
    return ain_err_field(err, AIN_EINVAL, "sidecar", "sidecar must be a JSON object");
  }
  return 0;
}
