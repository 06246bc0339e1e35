/* JSON-lines logging to stderr: ts, level, msg, and optional context fields (node, shard,
 * task_id, dag_id, actor, state_version, trace_id, span_id). Thread-safe; one line per call. */
#ifndef AIN_CORE_LOG_H
#define AIN_CORE_LOG_H

#include <stdint.h>

typedef enum { AIN_LOG_DEBUG = 0, AIN_LOG_INFO, AIN_LOG_WARN, AIN_LOG_ERROR } ain_log_level_t;

/* Context attached to a log line; any field may be NULL / -1 (omitted). */
typedef struct {
  const char *task_id;
  const char *dag_id;
  const char *actor;
  int64_t state_version; /* -1 = omit */
  const char *trace_id; /* W3C trace id (32 hex) of the step's trace (engine/trace/) */
  const char *span_id;  /* the step's own span id (16 hex) */
} ain_log_ctx_t;

void ain_log_set_level(ain_log_level_t level);
/* Parses "debug|info|warn|error"; returns -1 if unknown. */
int ain_log_level_parse(const char *s);
void ain_log_set_node(const char *node_id);
/* Human-readable lines ("12:00:01 WARN msg") instead of JSON, for terminals. */
void ain_log_set_pretty(int on);
int ain_log_enabled(ain_log_level_t level);

void ain_log(ain_log_level_t level, const ain_log_ctx_t *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define ain_log_debug(...) ain_log(AIN_LOG_DEBUG, NULL, __VA_ARGS__)
#define ain_log_info(...) ain_log(AIN_LOG_INFO, NULL, __VA_ARGS__)
#define ain_log_warn(...) ain_log(AIN_LOG_WARN, NULL, __VA_ARGS__)
#define ain_log_error(...) ain_log(AIN_LOG_ERROR, NULL, __VA_ARGS__)

#endif
