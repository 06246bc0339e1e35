/* `ain replay TASK_ID [--policy-sha SHA]`: re-runs a recorded policy decision on its recorded
 * inputs and prints the old and the new decision side by side. The re-run itself (recorded ctx
 * and versions, side effects refused, canonical comparison) is ops/replay.h's, shared with
 * `ain judge shadow`; this file parses and prints.
 * Relies on: cli/internal.h, ops/replay.h, core/json.h, cJSON. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/internal.h"
#include "core/json.h"
#include "core/util.h"
#include "ops/replay.h"

/* Canonical pretty JSON of a decision (keys sorted, so both columns list them in one order), or
 * the error text. Caller frees. */
static char *pretty(const char *json, const char *error) {
  char *s = ain_json_canonical_text(json, 1);
  return s ? s : ain_strdup(error ? error : "(nothing recorded)");
}

/* Two texts in columns of `w` characters. */
static void side_by_side(const char *a, const char *b, int w) {
  printf("%-*s | %s\n", w, "recorded", "replayed");
  for (int i = 0; i < w; i++) {
    putchar('-');
  }
  printf("-+-");
  for (int i = 0; i < w; i++) {
    putchar('-');
  }
  putchar('\n');
  while (*a || *b) {
    size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
    int ca = (int)(la > (size_t)w ? (size_t)w : la), cb = (int)lb;
    const char *mark = (la == lb && strncmp(a, b, la) == 0) ? "|" : "*";
    printf("%-*.*s %s %.*s\n", w, ca, a, mark, cb, b);
    a += la + (a[la] == '\n');
    b += lb + (b[lb] == '\n');
  }
}

static void print_json(const ain_task_t *t, const ain_ops_rerun_t *run) {
  const ain_ops_outcome_t *o = &run->outcome;
  cJSON *root = cJSON_CreateObject();
  cJSON_AddBoolToObject(root, "ok", 1);
  cJSON_AddStringToObject(root, "task_id", t->id);
  cJSON_AddStringToObject(root, "module", run->module);
  cJSON_AddStringToObject(root, "function", run->function);
  cJSON *rec = cJSON_AddObjectToObject(root, "recorded");
  cJSON_AddStringToObject(rec, "status", ain_task_status_name(t->status));
  cJSON *res = t->result ? cJSON_Parse(t->result) : NULL;
  cJSON_AddItemToObject(rec, "result", res ? res : cJSON_CreateNull());
  if (t->last_error && !res) {
    cJSON_AddStringToObject(rec, "error", t->last_error);
  }
  cJSON_AddItemToObject(rec, "policies", cJSON_Duplicate(run->recorded, 1));
  cJSON *rep = cJSON_AddObjectToObject(root, "replayed");
  cJSON_AddStringToObject(rep, "status", o->status == 0 ? "succeeded" : ain_err_name(o->status));
  cJSON *nres = o->result ? cJSON_Parse(o->result) : NULL;
  cJSON_AddItemToObject(rep, "result", nres ? nres : cJSON_CreateNull());
  if (o->error) {
    cJSON_AddStringToObject(rep, "error", o->error);
  }
  cJSON *pv = o->versions ? cJSON_Parse(o->versions) : NULL;
  cJSON_AddItemToObject(rep, "policies", pv ? pv : cJSON_CreateObject());
  cJSON_AddStringToObject(root, "ctx", run->ctx_recorded ? "recorded" : "rebuilt");
  cJSON_AddBoolToObject(root, "changed", run->changed);
  char *s = cJSON_PrintUnformatted(root);
  printf("%s\n", s);
  free(s);
  cJSON_Delete(root);
}

int ain_cli_replay(ain_cli_t *cli) {
  const char *task_id = NULL, *override = NULL;
  for (int i = 0; i < cli->nargs; i++) {
    if (strcmp(cli->args[i], "--policy-sha") == 0 && i + 1 < cli->nargs) {
      override = cli->args[++i];
    } else if (cli->args[i][0] == '-') {
      return ain_cli_usage(cli, "unknown option '%s'", cli->args[i]);
    } else if (task_id == NULL) {
      task_id = cli->args[i];
    } else {
      return ain_cli_usage(cli, "unexpected argument '%s'", cli->args[i]);
    }
  }
  if (task_id == NULL) {
    return ain_cli_usage(cli, "expects a TASK_ID%s", NULL);
  }
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_cli_open_store(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  ain_ops_replay_t r;
  int rc = ain_ops_replay(&cli->ops, task_id, override, &r, &err);
  const ain_task_t *t = &r.task_req.u.get_task.task;
  const ain_ops_rerun_t *run = &r.run;
  if (rc != 0) {
    rc = ain_cli_fail(cli, &err);
  } else if (cli->json) {
    print_json(t, run);
  } else {
    printf("task %s  %s.%s  (recorded: %s)\n", t->id, run->module, run->function,
           ain_task_status_name(t->status));
    printf("ctx:      %s\n", run->ctx_recorded ? "as recorded with the decision"
                                               : "rebuilt from the task, this config and the DAG "
                                                 "(the decision predates recorded contexts)");
    char *rv = cJSON_PrintUnformatted(run->recorded);
    printf("versions: recorded %s\n          replayed %s\n", rv,
           run->outcome.versions ? run->outcome.versions : "{}");
    free(rv);
    char *pa = pretty(t->result, t->last_error);
    char *pb = pretty(run->outcome.result, run->outcome.error);
    side_by_side(pa, pb, 48);
    free(pa);
    free(pb);
    printf("%s\n", run->changed ? "decision CHANGED" : "decision unchanged");
  }
  if (rc == 0) {
    rc = run->changed ? AIN_EXIT_FAILURE : AIN_EXIT_OK;
  }
  ain_ops_replay_free(&r);
  ain_cli_close_store(cli);
  return rc;
}
