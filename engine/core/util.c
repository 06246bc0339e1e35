/* Clocks, UUIDv7, UTF-8 validation and file helpers. */
#include "core/util.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int64_t ain_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t ain_mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t ain_random_u64(void) {
  uint64_t v = 0;
  if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) {
    v = ain_mono_ns() * 6364136223846793005ull + 1442695040888963407ull;
  }
  return v;
}

/* Monotonic within the process (RFC 9562 method 1): ids made in the same millisecond take a
 * 12-bit counter in rand_a, so ids sort in creation order and the queue's id tie-break is FIFO. */
void ain_uuid7(char out[AIN_UUID_LEN + 1]) {
  static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  static uint64_t last_ms;
  static unsigned counter;
  unsigned char b[16];
  uint64_t ms = (uint64_t)ain_now_ms();
  uint64_t r2 = ain_random_u64();
  pthread_mutex_lock(&mu);
  if (ms <= last_ms) {
    ms = last_ms;
    if (++counter > 0xfff) { /* 4096 ids in one ms: borrow the next millisecond */
      ms = ++last_ms;
      counter = 0;
    }
  } else {
    last_ms = ms;
    counter = (unsigned)(ain_random_u64() & 0x3ff); /* random start, headroom to count up */
  }
  unsigned seq = counter;
  pthread_mutex_unlock(&mu);
  for (int i = 0; i < 6; i++) {
    b[i] = (unsigned char)(ms >> (40 - 8 * i));
  }
  b[6] = (unsigned char)(seq >> 8);
  b[7] = (unsigned char)(seq & 0xff);
  memcpy(b + 8, &r2, 8);
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x70); /* version 7 */
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
  static const char hex[] = "0123456789abcdef";
  int o = 0;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      out[o++] = '-';
    }
    out[o++] = hex[b[i] >> 4];
    out[o++] = hex[b[i] & 15];
  }
  out[o] = '\0';
}

int ain_uuid_valid(const char *s) {
  if (s == NULL || strlen(s) != AIN_UUID_LEN) {
    return 0;
  }
  for (int i = 0; i < AIN_UUID_LEN; i++) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') {
        return 0;
      }
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return 0;
    }
  }
  return 1;
}

int ain_utf8_valid(const char *buf, size_t len, size_t *bad_at) {
  const unsigned char *s = (const unsigned char *)buf;
  size_t i = 0;
  while (i < len) {
    unsigned c = s[i];
    size_t n;
    unsigned cp;
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      goto bad;
    }
    for (size_t k = 1; k <= n; k++) {
      if (i + k >= len || (s[i + k] & 0xc0) != 0x80) {
        goto bad;
      }
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      goto bad;
    }
    i += n + 1;
  }
  return 1;
bad:
  if (bad_at != NULL) {
    *bad_at = i;
  }
  return 0;
}

int ain_read_file(const char *path, char **out, size_t *len) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return -errno;
  }
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  if (buf == NULL) {
    fclose(f);
    return -ENOMEM;
  }
  for (;;) {
    if (n + 1 >= cap) {
      char *nb = realloc(buf, cap * 2);
      if (nb == NULL) {
        free(buf);
        fclose(f);
        return -ENOMEM;
      }
      buf = nb;
      cap *= 2;
    }
    size_t r = fread(buf + n, 1, cap - n - 1, f);
    n += r;
    if (r == 0) {
      break;
    }
  }
  int rc = ferror(f) ? -EIO : 0;
  fclose(f);
  if (rc != 0) {
    free(buf);
    return rc;
  }
  buf[n] = '\0';
  *out = buf;
  if (len != NULL) {
    *len = n;
  }
  return 0;
}

int ain_write_file_atomic(const char *path, const void *data, size_t len) {
  char tmp[4096];
  int n = snprintf(tmp, sizeof tmp, "%s.tmp.%d.%llx", path, (int)getpid(),
                   (unsigned long long)(ain_random_u64() & 0xffffff));
  if (n < 0 || (size_t)n >= sizeof tmp) {
    return -ENAMETOOLONG;
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    return -errno;
  }
  const char *p = data;
  size_t left = len;
  while (left > 0) {
    ssize_t w = write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR) {
        continue;
      }
      int e = -errno;
      close(fd);
      unlink(tmp);
      return e;
    }
    p += w;
    left -= (size_t)w;
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    int e = -errno;
    unlink(tmp);
    return e;
  }
  if (rename(tmp, path) != 0) {
    int e = -errno;
    unlink(tmp);
    return e;
  }
  return 0;
}

char *ain_strdup(const char *s) {
  if (s == NULL) {
    return NULL;
  }
  char *d = strdup(s);
  if (d == NULL) {
    abort();
  }
  return d;
}

int ain_mkdir_p(const char *path) {
  char buf[4096];
  size_t n = strlen(path);
  if (n == 0 || n >= sizeof buf) {
    return -ENAMETOOLONG;
  }
  memcpy(buf, path, n + 1);
  for (char *p = buf + 1; *p; p++) {
    if (*p == '/') {
      *p = '\0';
      if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
        return -errno;
      }
      *p = '/';
    }
  }
  if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
    return -errno;
  }
  return 0;
}

int ain_mkdir_parent(const char *file_path) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", file_path);
  char *slash = strrchr(buf, '/');
  if (slash == NULL || slash == buf) {
    return 0;
  }
  *slash = '\0';
  return ain_mkdir_p(buf);
}

size_t ain_capbuf_write(char *data, size_t size, size_t nmemb, void *buf) {
  ain_capbuf_t *b = buf;
  size_t len = size * nmemb;
  if (len > b->max || b->n > b->max - len) {
    b->too_big = 1;
    return 0;
  }
  if (b->n + len + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + len + 1) {
      cap *= 2;
    }
    char *g = realloc(b->p, cap);
    if (g == NULL) {
      return 0;
    }
    b->p = g;
    b->cap = cap;
  }
  memcpy(b->p + b->n, data, len);
  b->n += len;
  b->p[b->n] = '\0';
  return len;
}

int ain_strbuf_put(ain_strbuf_t *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    size_t cap = (b->n + n + 1) * 2 + 64;
    char *p = realloc(b->s, cap);
    if (p == NULL) {
      return -1;
    }
    b->s = p;
    b->cap = cap;
  }
  memcpy(b->s + b->n, s, n);
  b->n += n;
  b->s[b->n] = '\0';
  return 0;
}

int ain_fmt_int64(char *buf, long long v) {
  char tmp[24];
  unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
  int n = 0;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u != 0);
  int len = 0;
  if (v < 0) {
    buf[len++] = '-';
  }
  while (n > 0) {
    buf[len++] = tmp[--n];
  }
  buf[len] = '\0';
  return len;
}

void ain_json_add_int(cJSON *obj, const char *name, long long v) {
  char buf[24];
  ain_fmt_int64(buf, v);
  cJSON_AddRawToObject(obj, name, buf);
}

long ain_b64url_decode(const char *in, size_t len, unsigned char *out, size_t cap) {
  unsigned int acc = 0;
  int bits = 0;
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    char c = in[i];
    int v = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '-'             ? 62
            : c == '_'             ? 63
                                   : -1;
    if (v < 0) {
      return -1;
    }
    acc = (acc << 6) | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n >= cap) {
        return -1;
      }
      out[n++] = (unsigned char)(acc >> bits);
    }
  }
  return (long)n;
}
