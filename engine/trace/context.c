/* W3C trace context: parsing and formatting `traceparent`, and new trace and span ids.
 * Ids come from a per-thread xorshift generator seeded from getrandom(2): ids need to be unique,
 * not secret, and a system call per step would be waste on the hot path. */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/util.h"
#include "trace/trace.h"

static int hexval(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1; /* upper case too: the spec's HEXDIGLC */
}

/* n bytes from 2n lower-case hex characters; -1 at the first bad one (its offset in *bad). */
static int unhex(const char *s, uint8_t *out, size_t n, size_t *bad) {
  for (size_t i = 0; i < 2 * n; i++) {
    if (hexval(s[i]) < 0) {
      *bad = i;
      return -1;
    }
  }
  for (size_t i = 0; i < n; i++) {
    out[i] = (uint8_t)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
  }
  return 0;
}

static int all_zero(const uint8_t *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (b[i] != 0) {
      return 0;
    }
  }
  return 1;
}

int ain_trace_parse(const char *s, ain_trace_ctx_t *out, ain_err_t *err) {
  if (s == NULL) {
    return ain_err_field(err, AIN_EINVAL, "traceparent", "traceparent: missing");
  }
  size_t len = strlen(s), bad = 0;
  uint8_t version = 0;
  if (len < 2 || unhex(s, &version, 1, &bad) != 0) {
    return ain_err_field(err, AIN_EINVAL, "traceparent",
                         "traceparent: the version must be two lower-case hex digits, got '%.2s'",
                         s);
  }
  if (version == 0xff) {
    return ain_err_field(err, AIN_EINVAL, "traceparent",
                         "traceparent: version ff is forbidden by W3C Trace Context");
  }
  /* Version 00 is exactly 55 bytes; a later version may append fields after a dash. */
  if (version == 0 ? len != AIN_TRACEPARENT_LEN
                   : len < AIN_TRACEPARENT_LEN ||
                         (len > AIN_TRACEPARENT_LEN && s[AIN_TRACEPARENT_LEN] != '-')) {
    return ain_err_field(err, AIN_EINVAL, "traceparent",
                         "traceparent: version %02x must be %d bytes "
                         "(00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>), got %zu",
                         version, AIN_TRACEPARENT_LEN, len);
  }
  if (s[2] != '-' || s[35] != '-' || s[52] != '-') {
    return ain_err_field(err, AIN_EINVAL, "traceparent",
                         "traceparent: dashes expected at offsets 2, 35 and 52");
  }
  ain_trace_ctx_t c;
  uint8_t flags;
  if (unhex(s + 3, c.trace_id, 16, &bad) != 0) {
    return ain_err_field(err, AIN_EINVAL, "traceparent",
                         "traceparent: the trace id must be 32 lower-case hex digits "
                         "(bad character at offset %zu)",
                         3 + bad);
  }
  if (unhex(s + 36, c.span_id, 8, &bad) != 0) {
    return ain_err_field(err, AIN_EINVAL, "traceparent",
                         "traceparent: the parent id must be 16 lower-case hex digits "
                         "(bad character at offset %zu)",
                         36 + bad);
  }
  if (unhex(s + 53, &flags, 1, &bad) != 0) {
    return ain_err_field(err, AIN_EINVAL, "traceparent",
                         "traceparent: the flags must be 2 lower-case hex digits");
  }
  if (all_zero(c.trace_id, 16)) {
    return ain_err_field(err, AIN_EINVAL, "traceparent",
                         "traceparent: the trace id must not be all zeros");
  }
  if (all_zero(c.span_id, 8)) {
    return ain_err_field(err, AIN_EINVAL, "traceparent",
                         "traceparent: the parent id must not be all zeros");
  }
  c.flags = flags;
  *out = c;
  return 0;
}

void ain_trace_hex(const uint8_t *b, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[b[i] >> 4];
    out[2 * i + 1] = digits[b[i] & 15];
  }
  out[2 * n] = '\0';
}

void ain_trace_format(const ain_trace_ctx_t *c, char *out) {
  char trace[33], span[17];
  ain_trace_hex(c->trace_id, 16, trace);
  ain_trace_hex(c->span_id, 8, span);
  snprintf(out, AIN_TRACEPARENT_LEN + 1, "00-%s-%s-%02x", trace, span, c->flags);
}

static _Thread_local uint64_t rng_state;

static uint64_t next_u64(void) {
  if (rng_state == 0) {
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)(uintptr_t)&seed;
    }
    rng_state = seed | 1; /* xorshift's state must not be zero */
  }
  /* xorshift64*, then a splitmix finaliser so neighbouring outputs share no bits */
  uint64_t x = rng_state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng_state = x;
  uint64_t z = x * 0x2545F4914F6CDD1DULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  return z ^ (z >> 31);
}

static void fill_nonzero(uint8_t *b, size_t n) {
  do {
    for (size_t i = 0; i < n; i += 8) {
      uint64_t v = next_u64();
      memcpy(b + i, &v, n - i < 8 ? n - i : 8);
    }
  } while (all_zero(b, n));
}

void ain_trace_child(const ain_trace_ctx_t *parent, ain_trace_ctx_t *out) {
  if (parent != NULL) {
    memcpy(out->trace_id, parent->trace_id, sizeof out->trace_id);
  } else {
    fill_nonzero(out->trace_id, sizeof out->trace_id);
  }
  fill_nonzero(out->span_id, sizeof out->span_id);
  out->flags = 0x01;
}

int64_t ain_trace_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
