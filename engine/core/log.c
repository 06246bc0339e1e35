/* JSON-lines logger. Formats into a stack buffer, then one write(2) per line so lines from
 * different shard threads never interleave. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile int log_level = AIN_LOG_INFO;
static volatile int log_pretty = 0;
static char log_node[128] = "";

void ain_log_set_level(ain_log_level_t level) {
  log_level = (int)level;
}

void ain_log_set_pretty(int on) {
  log_pretty = on;
}

int ain_log_level_parse(const char *s) {
  static const char *names[] = {"debug", "info", "warn", "error"};
  for (int i = 0; i < 4; i++) {
    if (s != NULL && strcmp(s, names[i]) == 0) {
      return i;
    }
  }
  return -1;
}

void ain_log_set_node(const char *node_id) {
  snprintf(log_node, sizeof log_node, "%s", node_id ? node_id : "");
}

int ain_log_enabled(ain_log_level_t level) {
  return (int)level >= log_level;
}

/* Appends s as a JSON string body (without quotes), escaping what JSON requires. */
static size_t json_escape(char *out, size_t cap, size_t n, const char *s) {
  for (; s && *s && n + 7 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      out[n++] = '\\';
      out[n++] = (char)c;
    } else if (c == '\n') {
      out[n++] = '\\';
      out[n++] = 'n';
    } else if (c == '\t') {
      out[n++] = '\\';
      out[n++] = 't';
    } else if (c < 0x20) {
      n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
    } else {
      out[n++] = (char)c;
    }
  }
  return n;
}

static size_t add_field(char *out, size_t cap, size_t n, const char *key, const char *val) {
  if (val == NULL || n + strlen(key) + 8 >= cap) {
    return n;
  }
  n += (size_t)snprintf(out + n, cap - n, ",\"%s\":\"", key);
  n = json_escape(out, cap, n, val);
  if (n + 1 < cap) {
    out[n++] = '"';
  }
  return n;
}

void ain_log(ain_log_level_t level, const ain_log_ctx_t *ctx, const char *fmt, ...) {
  static const char *names[] = {"debug", "info", "warn", "error"};
  if (!ain_log_enabled(level)) {
    return;
  }
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);

  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char line[4096];
  size_t cap = sizeof line - 2, n;
  if (log_pretty) {
    n = (size_t)snprintf(line, cap, "%02d:%02d:%02d %-5s %s", tm.tm_hour, tm.tm_min, tm.tm_sec,
                         names[level], msg);
    if (n > cap) {
      n = cap;
    }
    if (ctx && ctx->task_id) {
      n += (size_t)snprintf(line + n, cap - n, " [task %s]", ctx->task_id);
      if (n > cap) {
        n = cap;
      }
    }
  } else {
    n = (size_t)snprintf(line, cap,
                         "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"%s\"",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                         tm.tm_sec, ts.tv_nsec / 1000000, names[level]);
    n = add_field(line, cap, n, "msg", msg);
    if (log_node[0]) {
      n = add_field(line, cap, n, "node", log_node);
    }
    if (ctx) {
      n = add_field(line, cap, n, "task_id", ctx->task_id);
      n = add_field(line, cap, n, "dag_id", ctx->dag_id);
      n = add_field(line, cap, n, "actor", ctx->actor);
      n = add_field(line, cap, n, "trace_id", ctx->trace_id);
      n = add_field(line, cap, n, "span_id", ctx->span_id);
      if (ctx->state_version >= 0 && n + 40 < cap) {
        n += (size_t)snprintf(line + n, cap - n, ",\"state_version\":%lld",
                              (long long)ctx->state_version);
      }
    }
    if (n < cap) {
      line[n++] = '}';
    }
  }
  line[n++] = '\n';
  ssize_t w = write(STDERR_FILENO, line, n);
  (void)w;
}
