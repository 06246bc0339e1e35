/* The outbox kind's takedown and metrics (channel.h `unpublish`, `metrics`), kept apart from
 * outbox.c so that the kind's table (whoever ports outbox.c to channel.h) points at them:
 *   unpublish = a call of ain_publish_outbox_unpublish(<the channel's dir>, post_id, err)
 *   metrics   = NULL (a folder has no audience: the analytics pull skips the kind).
 * A takedown is atomic for readers: dir/<key> is renamed to dir/.unpublished-<key>-<uuid> (one
 * rename: the folder is there complete or gone), the parent is fsynced, and only then are the
 * files deleted. A crash between the rename and the deletion leaves a hidden folder that the next
 * takedown of the same key removes; a folder already gone is success (idempotent).
 * Relies on: publish/after.h, core/util.h (uuid), POSIX file I/O (blocking: never a loop thread). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "publish/after.h"

static int io_fail(ain_err_t *err, const char *what, const char *path) {
  return ain_err_field(err, AIN_EIO, "channels.outbox.dir", "outbox: %s %s: %s", what, path,
                       strerror(errno));
}

static int key_ok(const char *s) {
  size_t n = strlen(s);
  return n >= 8 && n <= 128 &&
         s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")] == '\0';
}

/* Deletes a published folder's files (flat: the outbox writes no subfolders) and the folder. */
static int remove_folder(const char *path, ain_err_t *err) {
  DIR *d = opendir(path);
  if (d == NULL) {
    return errno == ENOENT ? 0 : io_fail(err, "opening", path);
  }
  char p[4096];
  struct dirent *e;
  int rc = 0;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
      continue;
    }
    snprintf(p, sizeof p, "%s/%s", path, e->d_name);
    if (unlink(p) != 0 && errno != ENOENT) {
      rc = io_fail(err, "deleting", p);
    }
  }
  closedir(d);
  if (rc == 0 && rmdir(path) != 0 && errno != ENOENT) {
    rc = io_fail(err, "deleting", path);
  }
  return rc;
}

/* Leftovers of a takedown of key interrupted between its rename and its deletion. */
static int remove_leftovers(const char *dir, const char *key, ain_err_t *err) {
  DIR *d = opendir(dir);
  if (d == NULL) {
    return errno == ENOENT ? 0 : io_fail(err, "opening", dir);
  }
  char prefix[160], p[4096];
  snprintf(prefix, sizeof prefix, ".unpublished-%s-", key);
  struct dirent *e;
  int rc = 0;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      rc = remove_folder(p, err);
    }
  }
  closedir(d);
  return rc;
}

int ain_publish_outbox_unpublish(const char *dir, const char *post_id, ain_err_t *err) {
  if (dir == NULL || dir[0] == '\0') {
    return ain_err_field(err, AIN_ECONFIG, "channels.outbox.dir", "outbox has no dir");
  }
  /* post_id: the key, or the folder (the receipt's location), which must be under dir. */
  const char *slash = post_id != NULL ? strrchr(post_id, '/') : NULL;
  const char *key = slash != NULL ? slash + 1 : post_id;
  if (key == NULL || !key_ok(key)) {
    return ain_err_field(err, AIN_EINVAL, "post_id", "outbox: '%s' is not a published folder",
                         post_id != NULL ? post_id : "");
  }
  if (slash != NULL) {
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') {
      n--;
    }
    if ((size_t)(slash - post_id) != n || strncmp(post_id, dir, n) != 0) {
      return ain_err_field(err, AIN_EINVAL, "post_id", "outbox: %s is not under the outbox dir %s",
                           post_id, dir);
    }
  }
  char path[4096], trash[4096], uuid[AIN_UUID_LEN + 1];
  snprintf(path, sizeof path, "%s/%s", dir, key);
  ain_uuid7(uuid);
  snprintf(trash, sizeof trash, "%s/.unpublished-%s-%s", dir, key, uuid);
  if (rename(path, trash) != 0) {
    if (errno != ENOENT) {
      return io_fail(err, "renaming", path);
    }
    return remove_leftovers(dir, key, err); /* gone already: only finish an interrupted one */
  }
  int fd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return io_fail(err, "opening", dir);
  }
  int rc = fsync(fd) != 0 ? io_fail(err, "fsync", dir) : 0;
  close(fd);
  return rc != 0 ? rc : remove_leftovers(dir, key, err);
}
