/* libFuzzer target: the message contracts (message/message.c). One input is read four ways, each as
 * an untrusted producer would send it: a single task message, a batch (JSON array or JSON Lines),
 * and a worker response. A task that parses must print back to a message that parses again to the
 * same row (ain_message_task_to_json checks that itself; here a mismatch aborts), and an error must
 * name a field within its message. Crashes, sanitizer reports and aborts are the findings. Relies
 * on: message/message.h, message/task.h (ain_task_free). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "message/message.h"
#include "message/task.h"

/* An error must say what is wrong: a non-empty message that starts with the field it names. */
static void check_err(int rc, const ain_err_t *err) {
  if (rc == 0) {
    return;
  }
  if (err->msg[0] == '\0' || (err->field[0] != '\0' && strstr(err->msg, err->field) == NULL)) {
    fprintf(stderr, "error without a field in its message: field=\"%s\" msg=\"%s\"\n", err->field,
            err->msg);
    abort();
  }
}

static int same(const char *a, const char *b) {
  return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* A parsed task printed as a message parses back to the same row. */
static void round_trip(const ain_task_t *t) {
  char *json = NULL;
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_message_task_to_json_ex(t, &json, &err) != 0) {
    return; /* a row with no message form (e.g. no persona) is refused with a reason, fine */
  }
  ain_task_t back;
  memset(&back, 0, sizeof back);
  if (ain_message_parse_task(json, strlen(json), &back, &err) != 0) {
    fprintf(stderr, "printed message does not parse: %s\n%s\n", err.msg, json);
    abort();
  }
  if (strcmp(back.id, t->id) != 0 || !same(back.type, t->type) ||
      !same(back.persona_id, t->persona_id) || !same(back.payload, t->payload) ||
      back.priority != t->priority || back.run_at != t->run_at ||
      back.max_attempts != t->max_attempts) {
    fprintf(stderr, "round trip changed the task:\n%s\n", json);
    abort();
  }
  ain_task_free(&back);
  free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  ain_err_t err;

  ain_task_t t;
  memset(&t, 0, sizeof t);
  ain_err_clear(&err);
  int rc = ain_message_parse_task(s, size, &t, &err);
  check_err(rc, &err);
  if (rc == 0) {
    round_trip(&t);
    ain_task_free(&t);
  }

  ain_task_t *tasks = NULL;
  size_t n = 0;
  ain_message_pos_t where = {0, 0};
  ain_err_clear(&err);
  rc = ain_message_parse_tasks(s, size, NULL, NULL, &tasks, &n, &where, &err);
  if (rc == 0) {
    for (size_t i = 0; i < n; i++) {
      ain_task_free(&tasks[i]);
    }
    free(tasks);
  } else if (where.line == 0 || err.msg[0] == '\0') {
    fprintf(stderr, "batch error without a line: %s\n", err.msg);
    abort();
  }

  ain_err_clear(&err);
  check_err(ain_message_validate_response(s, size, &err), &err);
  return 0;
}
