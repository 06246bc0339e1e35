/* The secrets provider chain (see secret.h). Relies on: POSIX open/fstat/read, core/err.h. */
#include "core/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ain_secret_name_ok(const char *s, size_t len) {
  if (s == NULL || len == 0 || len > AIN_SECRET_NAME_MAX) {
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

void ain_secret_env_name(const char *name, size_t len, char *env, size_t cap) {
  size_t n = snprintf(env, cap, "AIN_SECRET_");
  for (size_t i = 0; i < len && n + 1 < cap; i++, n++) {
    char c = name[i];
    env[n] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : (c == '-' || c == '.') ? '_' : c;
  }
  env[n < cap ? n : cap - 1] = '\0';
}

const char *ain_secret_env(const char *name) {
  size_t len = strlen(name);
  if (!ain_secret_name_ok(name, len)) {
    return NULL;
  }
  char env[AIN_SECRET_NAME_MAX + 12];
  ain_secret_env_name(name, len, env, sizeof env);
  return getenv(env);
}

void ain_secret_free(char *value, size_t len) {
  if (value != NULL) {
    memset(value, 0, len);
    free(value);
  }
}

/* Opens, then checks mode and type on the open descriptor (no race with a rename), then reads. */
int ain_secret_read_file(const char *secrets_dir, const char *name, char **value, size_t *len,
                         ain_err_t *err) {
  *value = NULL;
  *len = 0;
  if (!ain_secret_name_ok(name, strlen(name))) {
    return ain_err_field(err, AIN_EINVAL, "name",
                         "secret name '%s' is not 1 to 64 of A-Z a-z "
                         "0-9 _ (and - . after the first)",
                         name);
  }
  if (secrets_dir == NULL || secrets_dir[0] == '\0') {
    return ain_err_set(err, AIN_ENOTFOUND, "secret '%s': no secrets_dir is configured", name);
  }
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", secrets_dir, name);
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    int e = errno;
    return ain_err_set(err, e == ENOENT ? AIN_ENOTFOUND : AIN_EIO, "secret '%s': %s", name,
                       e == ENOENT ? "not in the environment nor in secrets_dir" : strerror(e));
  }
  int rc = 0;
  char *buf = NULL;
  size_t got = 0;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    rc = ain_err_set(err, AIN_EIO, "secret '%s': %s is not a regular file", name, path);
    goto fail;
  }
  if ((st.st_mode & 077) != 0) {
    rc = ain_err_set(err, AIN_ECONFIG,
                     "secret '%s': %s is readable or writable by group or others (mode %03o); "
                     "refusing it: chmod 600 it",
                     name, path, (unsigned)(st.st_mode & 0777));
    goto fail;
  }
  if (st.st_size > AIN_SECRET_FILE_MAX) {
    rc = ain_err_set(err, AIN_ETOOBIG, "secret '%s': %s is larger than %d bytes", name, path,
                     AIN_SECRET_FILE_MAX);
    goto fail;
  }
  buf = malloc((size_t)st.st_size + 1);
  if (buf == NULL) {
    rc = ain_err_set(err, AIN_ENOMEM, "secret '%s': out of memory", name);
    goto fail;
  }
  while (got < (size_t)st.st_size) {
    ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r <= 0) {
      break;
    }
    got += (size_t)r;
  }
  if (got != (size_t)st.st_size) {
    rc = ain_err_set(err, AIN_EIO, "secret '%s': short read of %s", name, path);
    goto fail;
  }
  /* editors and `echo > file` add a final newline that is not part of the secret */
  while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == '\r')) {
    got--;
  }
  buf[got] = '\0';
  close(fd);
  *value = buf;
  *len = got;
  return 0;
fail:
  ain_secret_free(buf, got);
  close(fd);
  return rc;
}

int ain_secret_resolve(const char *secrets_dir, const char *name, char **value, size_t *len,
                       ain_err_t *err) {
  const char *v = ain_secret_env(name);
  if (v != NULL) {
    *len = strlen(v);
    *value = malloc(*len + 1);
    if (*value == NULL) {
      return ain_err_set(err, AIN_ENOMEM, "secret '%s': out of memory", name);
    }
    memcpy(*value, v, *len + 1);
    return 0;
  }
  return ain_secret_read_file(secrets_dir, name, value, len, err);
}
