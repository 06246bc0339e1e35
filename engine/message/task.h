/* The task row every producer and consumer shares: what a task message parses into, what the store
 * keeps, what a step runs. It sits below the store so that the message contracts (message.h) and
 * the store (store/store.h) both build on it without either depending on the other. Also the one
 * place where a new task gets its defaults, whoever produces it (enqueue, ain.emit, the planner,
 * DAG expansion).
 * Relies on: core/util.h (AIN_UUID_LEN, ain_uuid7). */
#ifndef AIN_MESSAGE_TASK_H
#define AIN_MESSAGE_TASK_H

#include <stdint.h>

#include "core/util.h"

typedef enum {
  AIN_TASK_PENDING = 0, /* waiting for dependencies */
  AIN_TASK_READY,       /* claimable once run_at <= now */
  AIN_TASK_RUNNING,     /* leased by lease_owner until lease_until */
  AIN_TASK_SUCCEEDED,
  AIN_TASK_DEAD,      /* failed past max_attempts, or failed permanently: the dead letter */
  AIN_TASK_CANCELLED, /* by an operator, or because its DAG failed */
  AIN_TASK_WAITING,   /* parked (AIN_FINISH_PARK): not claimable until woken (a review decision,
                         publishers resumed); holds no worker slot, is not work for --until-idle */
  AIN_TASK_STATUS_COUNT
} ain_task_status_t;

typedef enum {
  AIN_DAG_RUNNING = 0,
  AIN_DAG_SUCCEEDED,
  AIN_DAG_FAILED,
  AIN_DAG_CANCELLED,
  AIN_DAG_STATUS_COUNT
} ain_dag_status_t;

const char *ain_task_status_name(ain_task_status_t s); /* "ready" */
int ain_task_status_parse(const char *s);              /* -1 if unknown */
const char *ain_dag_status_name(ain_dag_status_t s);
int ain_dag_status_parse(const char *s);

/* One task row. Strings are NUL-terminated; NULL = SQL NULL. In outputs the request owns them. */
typedef struct {
  char id[AIN_UUID_LEN + 1];
  char dag_id[AIN_UUID_LEN + 1]; /* "" when not part of a DAG */
  char *type;                    /* "generate_video", "step", "noop", ... */
  char *step;                    /* step name within its DAG, NULL otherwise */
  char *handler;                 /* built-in name ("noop") or "lua:<module>.<function>" */
  char *persona_id;
  char *payload;     /* JSON object text */
  char *result;      /* JSON object text, NULL until succeeded */
  char *last_error;  /* "ECODE: detail" of the last failed attempt */
  char *traceparent; /* W3C trace context, may be NULL */
  char *lease_owner; /* NULL unless running */
  char *deps_result; /* claim output: JSON object {step: result} of its dependencies, or NULL */
  ain_task_status_t status;
  int priority; /* higher runs first */
  int attempts; /* claims so far (incremented by claim, restored by release) */
  int max_attempts;
  int deps_pending;
  int64_t timeout_ms; /* per-attempt timeout; 0 = engine default */
  int64_t run_at;     /* ms since epoch; not claimable before */
  int64_t lease_until;
  int64_t state_version;
  int64_t created_at, updated_at;
} ain_task_t;

/* Frees the strings a task owns and sets them to NULL (the struct itself is the caller's). */
void ain_task_free(ain_task_t *t);

/* Fills what a new task left unset, the same way for every producer: an id (a fresh UUIDv7) when
 * id is empty, max_attempts = default_max_attempts (3 when that is <= 0) when <= 0.
 * The handler is not chosen here: a task without one is run by the handler the scheduler names
 * for its type when it is claimed (sched/handlers.c), so producers below the scheduler never need
 * to know its handler table. */
void ain_task_defaults(ain_task_t *t, int default_max_attempts);

#endif
