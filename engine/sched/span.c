/* A step's span, built once its outcome is known (committed, refused or abandoned) and handed to
 * the engine's exporter (trace/trace.h). With tracing off nothing is built: the ids the step
 * already has still reach its log lines and its children. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "sched/internal.h"

/* outcome: the task's status afterwards ("succeeded", "ready", "dead", "waiting", "released"),
 * "fenced" (the lease was lost: the result was refused) or "abandoned"; error: why the attempt
 * failed, NULL when it did not. */
void ain__step_span_end(ain_step_t *step, const char *outcome, const char *error) {
  ain_trace_t *tr = step->shard->engine->trace;
  if (tr == NULL) {
    return;
  }
  const ain_task_t *t = &step->task;
  const char *name = t->step ? t->step : t->type ? t->type : "step";
  ain_span_t *s = ain_span_new(&step->trace, step->has_parent ? step->parent_span : NULL, name,
                               AIN_SPAN_KIND_CONSUMER, step->start_unix_ns);
  s->end_unix_ns = ain_trace_now_ns();
  ain_span_attr_str(s, "ain.task_id", t->id);
  if (t->dag_id[0]) {
    ain_span_attr_str(s, "ain.dag_id", t->dag_id);
  }
  ain_span_attr_str(s, "ain.type", t->type);
  ain_span_attr_str(s, "ain.step", t->step);
  ain_span_attr_str(s, "ain.handler", t->handler);
  ain_span_attr_str(s, "ain.persona_id", t->persona_id);
  ain_span_attr_int(s, "ain.attempt", t->attempts);
  ain_span_attr_int(s, "ain.max_attempts", t->max_attempts);
  ain_span_attr_int(s, "ain.state_version", step->token);
  ain_span_attr_str(s, "ain.shard", step->shard->owner);
  ain_span_attr_str(s, "ain.outcome", outcome);
  /* one attribute per policy module the call ran: ain.policy.<module>.sha256 */
  cJSON *v = step->policies ? cJSON_Parse(step->policies) : NULL, *it;
  cJSON *obj = cJSON_IsObject(v) ? v : NULL;
  cJSON_ArrayForEach(it, obj) {
    if (cJSON_IsString(it)) {
      char key[200];
      snprintf(key, sizeof key, "ain.policy.%s.sha256", it->string);
      ain_span_attr_str(s, key, it->valuestring);
    }
  }
  cJSON_Delete(v);
  if (error != NULL) {
    ain_span_set_status(s, AIN_SPAN_STATUS_ERROR, error);
  } else if (strcmp(outcome, "succeeded") == 0) {
    ain_span_set_status(s, AIN_SPAN_STATUS_OK, NULL);
  }
  ain_trace_submit(tr, s);
}
