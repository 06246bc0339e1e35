/* The task row's status names, ownership and a new task's defaults (message/task.h).
 * Relies on: core/util.h. */
#include "message/task.h"

#include <stdlib.h>
#include <string.h>

static const char *const task_status_names[AIN_TASK_STATUS_COUNT] = {
    "pending", "ready", "running", "succeeded", "dead", "cancelled", "waiting"};
static const char *const dag_status_names[AIN_DAG_STATUS_COUNT] = {"running", "succeeded", "failed",
                                                                   "cancelled"};

const char *ain_task_status_name(ain_task_status_t s) {
  return (unsigned)s < AIN_TASK_STATUS_COUNT ? task_status_names[s] : "unknown";
}

int ain_task_status_parse(const char *s) {
  for (int i = 0; s != NULL && i < AIN_TASK_STATUS_COUNT; i++) {
    if (strcmp(s, task_status_names[i]) == 0) {
      return i;
    }
  }
  return -1;
}

const char *ain_dag_status_name(ain_dag_status_t s) {
  return (unsigned)s < AIN_DAG_STATUS_COUNT ? dag_status_names[s] : "unknown";
}

int ain_dag_status_parse(const char *s) {
  for (int i = 0; s != NULL && i < AIN_DAG_STATUS_COUNT; i++) {
    if (strcmp(s, dag_status_names[i]) == 0) {
      return i;
    }
  }
  return -1;
}

void ain_task_free(ain_task_t *t) {
  if (t == NULL) {
    return;
  }
  char **owned[] = {&t->type,   &t->step,       &t->handler,     &t->persona_id,  &t->payload,
                    &t->result, &t->last_error, &t->traceparent, &t->lease_owner, &t->deps_result};
  for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) {
    free(*owned[i]);
    *owned[i] = NULL;
  }
}

void ain_task_defaults(ain_task_t *t, int default_max_attempts) {
  if (t->id[0] == '\0') {
    ain_uuid7(t->id);
  }
  if (t->max_attempts <= 0) {
    t->max_attempts = default_max_attempts > 0 ? default_max_attempts : 3;
  }
}
