/* Store verbs: migrate, enqueue, task show, dag show, audit, cancel, stats. Each opens the store on
 * a private loop and waits for its requests (never on a shard loop). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/internal.h"
#include "message/message.h"
#include "core/util.h"
#include "lua/personas.h"
#include "privacy/privacy.h"
#include "sched/engine.h"
#include "sched/step.h"

#define MAX_INPUT_BYTES (64u << 20) /* one enqueue input; each message is limited to ~1 MiB */

static void store_closed(void *data) {
  *(int *)data = 1;
}

/* Opens the store of the config already loaded into cli->cfg. */
static int open_loaded_store(ain_cli_t *cli, ain_err_t *err) {
  int rc;
  if (uv_loop_init(&cli->loop) != 0) {
    return ain_err_set(err, AIN_EIO, "cannot create an event loop");
  }
  ain_store_config_t scfg;
  ain_engine_store_config(&cli->cfg, &scfg);
  rc = ain_store_open(&scfg, &cli->loop, &cli->store, err);
  if (rc != 0) {
    uv_loop_close(&cli->loop);
    return rc;
  }
  ain_store_req_t req;
  ain_store_req_migrate(&req);
  req.actor = cli->actor;
  rc = ain_store_wait(cli->store, &req);
  if (rc != 0) {
    *err = req.err;
  }
  ain_store_req_cleanup(&req);
  if (rc != 0) {
    ain_cli_close_store(cli);
  }
  return rc;
}

int ain_cli_open_store(ain_cli_t *cli, ain_err_t *err) {
  int rc = ain_cli_load_config(cli, err);
  return rc != 0 ? rc : open_loaded_store(cli, err);
}

void ain_cli_close_store(ain_cli_t *cli) {
  if (cli->store == NULL) {
    return;
  }
  int closed = 0;
  ain_store_close(cli->store, store_closed, &closed);
  cli->store = NULL;
  uv_run(&cli->loop, UV_RUN_DEFAULT);
  uv_loop_close(&cli->loop);
}

int ain_cli_wait(ain_cli_t *cli, ain_store_req_t *req, ain_err_t *err) {
  if (req->actor == NULL) {
    req->actor = cli->actor;
  }
  int rc = ain_store_wait(cli->store, req);
  if (rc != 0) {
    if (req->err.code == 0) {
      ain_err_set(&req->err, rc, "%s", ain_strerror(rc));
    }
    *err = req->err;
  }
  return rc;
}

ain_ops_env_t ain_cli_env(ain_cli_t *cli) {
  ain_ops_env_t env = {.loop = &cli->loop, .store = cli->store, .cfg = &cli->cfg,
                       .actor = cli->actor};
  return env;
}

int ain_cli_wait_or_fail(ain_cli_t *cli, ain_store_req_t *req) {
  ain_err_t err;
  ain_err_clear(&err);
  return ain_cli_wait(cli, req, &err) != 0 ? ain_cli_fail(cli, &err) : 0;
}

static void fmt_time(int64_t ms, char *out, size_t n) {
  if (ms <= 0) {
    snprintf(out, n, "-");
    return;
  }
  time_t s = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&s, &tm);
  snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

int ain_cli_migrate(ain_cli_t *cli) {
  ain_err_t err;
  ain_err_clear(&err);
  int rc = ain_cli_load_config(cli, &err);
  if (rc != 0) {
    return ain_cli_fail(cli, &err);
  }
  if (uv_loop_init(&cli->loop) != 0) {
    return AIN_EXIT_FAILURE;
  }
  ain_store_config_t scfg;
  ain_engine_store_config(&cli->cfg, &scfg);
  rc = ain_store_open(&scfg, &cli->loop, &cli->store, &err);
  if (rc != 0) {
    uv_loop_close(&cli->loop);
    return ain_cli_fail(cli, &err);
  }
  ain_store_req_t req;
  ain_store_req_migrate(&req);
  rc = ain_cli_wait_or_fail(cli, &req);
  if (rc == 0) {
    if (cli->json) {
      printf("{\"ok\":true,\"applied\":%d,\"version\":%d}\n", req.u.migrate.applied,
             req.u.migrate.version);
    } else {
      printf("schema version %d (%d migration(s) applied)\n", req.u.migrate.version,
             req.u.migrate.applied);
    }
  }
  ain_store_req_cleanup(&req);
  ain_cli_close_store(cli);
  return rc;
}

static int read_input(const char *path, char **buf, size_t *len, ain_err_t *err) {
  if (strcmp(path, "-") != 0) {
    int rc = ain_read_file(path, buf, len);
    if (rc != 0) {
      return ain_err_set(err, AIN_EIO, "cannot read %s: %s", path, strerror(-rc));
    }
    if (*len > MAX_INPUT_BYTES) {
      free(*buf);
      return ain_err_set(err, AIN_ETOOBIG, "%s: input is larger than %u bytes", path,
                         MAX_INPUT_BYTES);
    }
    return 0;
  }
  size_t cap = 65536, n = 0;
  char *b = malloc(cap);
  if (b == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  for (;;) {
    if (n + 1 >= cap) {
      if (cap >= MAX_INPUT_BYTES + 2) {
        free(b);
        return ain_err_set(err, AIN_ETOOBIG, "stdin: input is larger than %u bytes",
                           MAX_INPUT_BYTES);
      }
      char *nb = realloc(b, cap * 2);
      if (nb == NULL) {
        free(b);
        return ain_err_set(err, AIN_ENOMEM, "out of memory");
      }
      b = nb;
      cap *= 2;
    }
    ssize_t r = read(STDIN_FILENO, b + n, cap - n - 1);
    if (r < 0) {
      free(b);
      return ain_err_set(err, AIN_EIO, "reading stdin failed");
    }
    if (r == 0) {
      break;
    }
    n += (size_t)r;
  }
  b[n] = '\0';
  *buf = b;
  *len = n;
  return 0;
}

/* Replaces PII in every payload by its token (privacy/privacy.h); says how many on stderr. */
static int scrub_payloads(ain_cli_t *cli, ain_task_t *tasks, size_t n, ain_err_t *err) {
  ain_privacy_t *priv = NULL;
  int rc = ain_privacy_open(cli->cfg.secrets_dir, &priv, err);
  ain_privacy_stats_t st = {0};
  for (size_t i = 0; rc == 0 && i < n; i++) {
    rc = ain_privacy_scrub_json(priv, &tasks[i].payload, &st, err);
  }
  if (rc == 0 && st.total > 0 && !cli->json) {
    fprintf(stderr, "ain enqueue: %lld personal data value(s) replaced by %s tokens\n",
            (long long)st.total, ain_privacy_keyed(priv) ? "hashed" : "redacted");
  }
  ain_privacy_free(priv);
  return rc;
}

/* The personas a batch names, each checked once (a check compiles and runs the file). */
typedef struct {
  ain_lua_check_opts_t opts;
  char **ok; /* ids found valid */
  size_t n, cap;
} persona_cache_t;

static int check_persona(void *data, const ain_task_t *t, ain_err_t *err) {
  persona_cache_t *pc = data;
  for (size_t i = 0; i < pc->n; i++) {
    if (strcmp(pc->ok[i], t->persona_id) == 0) {
      return 0;
    }
  }
  int rc = ain_lua_persona_check(NULL, NULL, &pc->opts, t->persona_id, err);
  if (rc != 0) {
    return rc;
  }
  if (pc->n == pc->cap) {
    size_t cap = pc->cap ? pc->cap * 2 : 8;
    char **g = realloc(pc->ok, cap * sizeof *g);
    if (g == NULL) {
      return 0; /* checked already; only the cache did not grow */
    }
    pc->ok = g;
    pc->cap = cap;
  }
  pc->ok[pc->n++] = ain_strdup(t->persona_id);
  return 0;
}

static void free_tasks(ain_task_t *tasks, size_t n) {
  for (size_t i = 0; i < n; i++) {
    ain_task_free(&tasks[i]);
  }
  free(tasks);
}

int ain_cli_enqueue(ain_cli_t *cli) {
  if (cli->nargs != 1) {
    return ain_cli_usage(cli, "expects exactly one FILE (or - for stdin)%s", NULL);
  }
  ain_err_t err;
  ain_err_clear(&err);
  char *buf = NULL;
  size_t len = 0;
  int rc = read_input(cli->args[0], &buf, &len, &err);
  if (rc != 0) {
    return ain_cli_fail(cli, &err);
  }
  rc = ain_cli_load_config(cli, &err); /* the persona check needs scripts_dir and the budgets */
  if (rc != 0) {
    free(buf);
    return ain_cli_fail(cli, &err);
  }
  persona_cache_t pc = {.opts = {.scripts_dir = cli->cfg.scripts_dir,
                                 .mem_limit = (size_t)cli->cfg.lua.mem_limit_mb << 20,
                                 .cpu_budget = (uint64_t)cli->cfg.lua.cpu_budget,
                                 .allow_ffi = cli->cfg.lua.allow_ffi}};
  ain_task_t *tasks = NULL;
  size_t n = 0;
  /* Validate everything before touching the store: one bad message rejects the input. */
  rc = ain_message_parse_tasks(buf, len, check_persona, &pc, &tasks, &n, NULL, &err);
  free(buf);
  for (size_t i = 0; i < pc.n; i++) {
    free(pc.ok[i]);
  }
  free(pc.ok);
  if (rc != 0) {
    return ain_cli_fail(cli, &err);
  }
  if (n == 0) {
    ain_err_set(&err, AIN_ESCHEMA, "%s: no task message found", cli->args[0]);
    return ain_cli_fail(cli, &err);
  }
  for (size_t i = 0; i < n; i++) {
    ain_task_defaults(&tasks[i], cli->cfg.queue.default_max_attempts);
  }
  rc = scrub_payloads(cli, tasks, n, &err); /* PII leaves before anything is stored */
  if (rc == 0) {
    rc = open_loaded_store(cli, &err);
  }
  if (rc != 0) {
    free_tasks(tasks, n);
    return ain_cli_fail(cli, &err);
  }
  /* One batch, one transaction: either every task is stored or none is. */
  ain_store_batch_t batch = {.tasks = tasks, .ntasks = n};
  ain_store_req_t req;
  ain_store_req_enqueue(&req, &batch);
  rc = ain_cli_wait_or_fail(cli, &req);
  if (rc == 0) {
    if (cli->json) {
      printf("{\"ok\":true,\"enqueued\":[");
      for (size_t i = 0; i < n; i++) {
        printf("%s\"%s\"", i ? "," : "", tasks[i].id);
      }
      printf("]}\n");
    } else {
      for (size_t i = 0; i < n; i++) {
        printf("%s\n", tasks[i].id);
      }
      fprintf(stderr, "enqueued %zu task(s)\n", n);
    }
  }
  ain_store_req_cleanup(&req);
  free_tasks(tasks, n);
  ain_cli_close_store(cli);
  return rc;
}

static void print_task_human(const ain_task_t *t) {
  char run_at[40], upd[40], lease[40];
  fmt_time(t->run_at, run_at, sizeof run_at);
  fmt_time(t->updated_at, upd, sizeof upd);
  fmt_time(t->lease_until, lease, sizeof lease);
  printf("task          %s\n", t->id);
  printf("type          %s\n", t->type ? t->type : "");
  if (t->dag_id[0]) {
    printf("dag           %s (step %s)\n", t->dag_id, t->step ? t->step : "?");
  }
  char *resolved = t->handler == NULL && t->type != NULL ? ain_handler_for_type(t->type) : NULL;
  printf("handler       %s\n", t->handler ? t->handler : resolved ? resolved : "");
  free(resolved);
  printf("persona       %s\n", t->persona_id ? t->persona_id : "");
  printf("status        %s\n", ain_task_status_name(t->status));
  printf("state_version %lld\n", (long long)t->state_version);
  printf("attempts      %d of %d\n", t->attempts, t->max_attempts);
  printf("priority      %d\n", t->priority);
  printf("run_at        %s\n", run_at);
  if (t->lease_owner) {
    printf("lease         %s until %s\n", t->lease_owner, lease);
  }
  printf("updated_at    %s\n", upd);
  printf("payload       %s\n", t->payload ? t->payload : "{}");
  if (t->result) {
    printf("result        %s\n", t->result);
  }
  if (t->last_error) {
    printf("last_error    %s\n", t->last_error);
  }
}

int ain_cli_task(ain_cli_t *cli) {
  int response = 0;
  const char *id = NULL;
  if (cli->nargs < 1 || strcmp(cli->args[0], "show") != 0) {
    return ain_cli_usage(cli, "expects 'show TASK_ID'%s", NULL);
  }
  for (int i = 1; i < cli->nargs; i++) {
    if (strcmp(cli->args[i], "--response") == 0) {
      response = 1;
    } else if (id == NULL && cli->args[i][0] != '-') {
      id = cli->args[i];
    } else {
      return ain_cli_usage(cli, "unexpected argument '%s'", cli->args[i]);
    }
  }
  if (id == NULL) {
    return ain_cli_usage(cli, "expects a TASK_ID%s", NULL);
  }
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_cli_open_store(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  ain_store_req_t req;
  ain_store_req_get_task(&req, id);
  int rc = ain_cli_wait_or_fail(cli, &req);
  if (rc == 0) {
    const ain_task_t *t = &req.u.get_task.task;
    char *out = NULL;
    if (response) {
      rc = ain_message_response_to_json_ex(t, &out, &err);
    } else if (cli->json) {
      rc = ain_message_task_to_json_ex(t, &out, &err);
    } else {
      print_task_human(t);
    }
    if (rc != 0) {
      rc = ain_cli_fail(cli, &err);
    } else if (out) {
      printf("%s\n", out);
    }
    free(out);
  }
  ain_store_req_cleanup(&req);
  ain_cli_close_store(cli);
  return rc;
}

/* Resolves a DAG id given either the DAG's id or the id of the task that expanded into it. */
static int resolve_dag_id(ain_cli_t *cli, const char *id, char out[AIN_UUID_LEN + 1]) {
  ain_store_req_t req;
  ain_store_req_get_task(&req, id);
  req.actor = cli->actor;
  snprintf(out, AIN_UUID_LEN + 1, "%s", id);
  if (ain_store_wait(cli->store, &req) == 0 && req.u.get_task.task.result) {
    cJSON *r = cJSON_Parse(req.u.get_task.task.result);
    cJSON *d = cJSON_GetObjectItemCaseSensitive(r, "dag_id");
    if (cJSON_IsString(d) && strlen(d->valuestring) == AIN_UUID_LEN) {
      snprintf(out, AIN_UUID_LEN + 1, "%s", d->valuestring);
    }
    cJSON_Delete(r);
  }
  ain_store_req_cleanup(&req);
  return 0;
}

static const char *step_name(const ain_store_req_t *req, const char *task_id) {
  for (size_t i = 0; i < req->u.get_dag.ntasks; i++) {
    if (strcmp(req->u.get_dag.tasks[i].id, task_id) == 0) {
      const char *s = req->u.get_dag.tasks[i].step;
      return s ? s : task_id;
    }
  }
  return task_id;
}

/* Fill colour of a task status in `dag show --dot`: one entry per status, by name, so a status
 * added to the enum without a colour fails to compile (the static assert) rather than reading
 * past the table; an out-of-range value from a newer store gets white. */
static const char *const status_colour[] = {
    [AIN_TASK_PENDING] = "grey",        [AIN_TASK_READY] = "lightblue",
    [AIN_TASK_RUNNING] = "gold",        [AIN_TASK_SUCCEEDED] = "palegreen",
    [AIN_TASK_DEAD] = "salmon",         [AIN_TASK_CANCELLED] = "lightgrey",
    [AIN_TASK_WAITING] = "plum",
};
_Static_assert(sizeof status_colour / sizeof status_colour[0] == AIN_TASK_STATUS_COUNT,
               "every task status needs a colour in dag show --dot");

static const char *colour_of(ain_task_status_t s) {
  return (unsigned)s < AIN_TASK_STATUS_COUNT && status_colour[s] != NULL ? status_colour[s]
                                                                           : "white";
}

static void print_dag_dot(const ain_store_req_t *req) {
  printf("digraph \"%s\" {\n  rankdir=LR;\n  node [shape=box, style=filled];\n",
         req->u.get_dag.dag.id);
  for (size_t i = 0; i < req->u.get_dag.ntasks; i++) {
    const ain_task_t *t = &req->u.get_dag.tasks[i];
    printf("  \"%s\" [label=\"%s\\n%s\", fillcolor=%s];\n", t->step ? t->step : t->id,
           t->step ? t->step : t->id, ain_task_status_name(t->status), colour_of(t->status));
  }
  for (size_t i = 0; i < req->u.get_dag.ndeps; i++) {
    printf("  \"%s\" -> \"%s\";\n", step_name(req, req->u.get_dag.deps[i].depends_on),
           step_name(req, req->u.get_dag.deps[i].task_id));
  }
  printf("}\n");
}

static void print_dag_json(const ain_store_req_t *req) {
  const ain_dag_t *d = &req->u.get_dag.dag;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "dag_id", d->id);
  cJSON_AddStringToObject(o, "root_task_id", d->root_task_id);
  cJSON_AddStringToObject(o, "status", ain_dag_status_name(d->status));
  cJSON_AddNumberToObject(o, "state_version", (double)d->state_version);
  cJSON_AddNumberToObject(o, "steps_total", d->steps_total);
  cJSON_AddNumberToObject(o, "steps_done", d->steps_done);
  if (d->persona_id) {
    cJSON_AddStringToObject(o, "persona_id", d->persona_id);
  }
  if (d->last_error) {
    cJSON_AddStringToObject(o, "last_error", d->last_error);
  }
  cJSON *steps = cJSON_AddArrayToObject(o, "steps");
  for (size_t i = 0; i < req->u.get_dag.ntasks; i++) {
    const ain_task_t *t = &req->u.get_dag.tasks[i];
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "task_id", t->id);
    cJSON_AddStringToObject(s, "step", t->step ? t->step : "");
    cJSON_AddStringToObject(s, "handler", t->handler ? t->handler : "");
    cJSON_AddStringToObject(s, "status", ain_task_status_name(t->status));
    cJSON_AddNumberToObject(s, "attempts", t->attempts);
    cJSON_AddNumberToObject(s, "state_version", (double)t->state_version);
    cJSON *deps = cJSON_AddArrayToObject(s, "deps");
    for (size_t k = 0; k < req->u.get_dag.ndeps; k++) {
      if (strcmp(req->u.get_dag.deps[k].task_id, t->id) == 0) {
        cJSON_AddItemToArray(deps,
                             cJSON_CreateString(step_name(req, req->u.get_dag.deps[k].depends_on)));
      }
    }
    if (t->last_error) {
      cJSON_AddStringToObject(s, "last_error", t->last_error);
    }
    cJSON_AddItemToArray(steps, s);
  }
  char *txt = cJSON_PrintUnformatted(o);
  printf("%s\n", txt);
  free(txt);
  cJSON_Delete(o);
}

int ain_cli_dag(ain_cli_t *cli) {
  int dot = 0;
  const char *id = NULL;
  if (cli->nargs < 1 || strcmp(cli->args[0], "show") != 0) {
    return ain_cli_usage(cli, "expects 'show DAG_ID'%s", NULL);
  }
  for (int i = 1; i < cli->nargs; i++) {
    if (strcmp(cli->args[i], "--dot") == 0) {
      dot = 1;
    } else if (id == NULL && cli->args[i][0] != '-') {
      id = cli->args[i];
    } else {
      return ain_cli_usage(cli, "unexpected argument '%s'", cli->args[i]);
    }
  }
  if (id == NULL) {
    return ain_cli_usage(cli, "expects a DAG_ID%s", NULL);
  }
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_cli_open_store(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  char dag_id[AIN_UUID_LEN + 1];
  resolve_dag_id(cli, id, dag_id);
  ain_store_req_t req;
  ain_store_req_get_dag(&req, dag_id);
  int rc = ain_cli_wait_or_fail(cli, &req);
  if (rc == 0) {
    const ain_dag_t *d = &req.u.get_dag.dag;
    if (dot) {
      print_dag_dot(&req);
    } else if (cli->json) {
      print_dag_json(&req);
    } else {
      printf("dag %s  %s  %d/%d steps done  (root task %s, persona %s, state_version %lld)\n",
             d->id, ain_dag_status_name(d->status), d->steps_done, d->steps_total,
             d->root_task_id, d->persona_id ? d->persona_id : "-", (long long)d->state_version);
      if (d->last_error) {
        printf("error: %s\n", d->last_error);
      }
      printf("%-12s %-10s %-4s %-26s %s\n", "STEP", "STATUS", "TRY", "HANDLER", "AFTER");
      for (size_t i = 0; i < req.u.get_dag.ntasks; i++) {
        const ain_task_t *t = &req.u.get_dag.tasks[i];
        char after[512] = "";
        size_t n = 0;
        for (size_t k = 0; k < req.u.get_dag.ndeps && n + 64 < sizeof after; k++) {
          if (strcmp(req.u.get_dag.deps[k].task_id, t->id) == 0) {
            n += (size_t)snprintf(after + n, sizeof after - n, "%s%s", n ? "," : "",
                                  step_name(&req, req.u.get_dag.deps[k].depends_on));
          }
        }
        printf("%-12s %-10s %d/%-2d %-26s %s\n", t->step ? t->step : "?",
               ain_task_status_name(t->status), t->attempts, t->max_attempts,
               t->handler ? t->handler : "", after[0] ? after : "-");
        if (t->last_error) {
          printf("             last error: %.200s\n", t->last_error);
        }
      }
    }
  }
  ain_store_req_cleanup(&req);
  ain_cli_close_store(cli);
  return rc;
}

/* `ain audit ID`: the rows of task ID, else of DAG ID (the store says ENOTFOUND for an id that is
 * not a task; only then is it tried as a DAG). `ain audit --operator [--limit N]`: the operator's
 * rows (settings, pins), which belong to no task and no DAG. */
int ain_cli_audit(ain_cli_t *cli) {
  const char *id = NULL;
  int operator_rows = 0;
  long limit = 100;
  for (int i = 0; i < cli->nargs; i++) {
    const char *a = cli->args[i];
    if (strcmp(a, "--operator") == 0) {
      operator_rows = 1;
    } else if (strcmp(a, "--limit") == 0 && i + 1 < cli->nargs) {
      char *end = NULL;
      limit = strtol(cli->args[++i], &end, 10);
      if (end == cli->args[i] || *end != '\0' || limit < 1 || limit > 100000) {
        return ain_cli_usage(cli, "--limit wants a number from 1 to 100000, got '%s'",
                             cli->args[i]);
      }
    } else if (a[0] == '-' || id != NULL) {
      return ain_cli_usage(cli, "unexpected argument '%s'", a);
    } else {
      id = a;
    }
  }
  if ((id == NULL) == !operator_rows) {
    return ain_cli_usage(cli, "expects a TASK_ID or DAG_ID, or --operator%s", NULL);
  }
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_cli_open_store(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  ain_store_req_t req;
  int rc;
  if (operator_rows) {
    ain_store_req_audit_operator(&req, (int)limit);
    rc = ain_cli_wait_or_fail(cli, &req);
  } else {
    ain_store_req_audit(&req, id, NULL);
    rc = ain_cli_wait(cli, &req, &err);
    if (rc == AIN_ENOTFOUND || (rc == 0 && req.u.audit.nrows == 0)) { /* not a task: a DAG? */
      ain_store_req_cleanup(&req);
      ain_store_req_audit(&req, NULL, id);
      rc = ain_cli_wait(cli, &req, &err);
      if (rc == AIN_ENOTFOUND) {
        ain_err_field(&err, AIN_ENOTFOUND, "id", "no task or DAG '%s'", id);
      }
    }
    if (rc != 0) {
      rc = ain_cli_fail(cli, &err);
    }
  }
  if (rc == 0 && req.u.audit.nrows == 0 && !operator_rows) {
    ain_err_set(&err, AIN_ENOTFOUND, "no audit rows for '%s'", id);
    rc = ain_cli_fail(cli, &err);
  } else if (rc == 0) {
    if (cli->json) {
      printf("[");
    }
    for (size_t i = 0; i < req.u.audit.nrows; i++) {
      const ain_audit_t *a = &req.u.audit.rows[i];
      char ts[40];
      fmt_time(a->ts, ts, sizeof ts);
      if (cli->json) {
        printf("%s{\"id\":%lld,\"ts\":%lld,\"task_id\":", i ? "," : "", (long long)a->id,
               (long long)a->ts);
        ain_cli_json_string(stdout, a->task_id ? a->task_id : "");
        printf(",\"dag_id\":");
        ain_cli_json_string(stdout, a->dag_id ? a->dag_id : "");
        printf(",\"actor\":");
        ain_cli_json_string(stdout, a->actor ? a->actor : "");
        printf(",\"from\":");
        ain_cli_json_string(stdout, a->from_status ? a->from_status : "");
        printf(",\"to\":");
        ain_cli_json_string(stdout, a->to_status ? a->to_status : "");
        printf(",\"state_version\":%lld,\"detail\":%s}", (long long)a->state_version,
               a->detail && a->detail[0] == '{' ? a->detail : "null");
      } else {
        const char *what = a->task_id ? a->task_id : a->dag_id ? a->dag_id : "(operator)";
        printf("%s  %-36s  %-9s -> %-9s v%-3lld %s%s%s\n", ts, what,
               a->from_status ? a->from_status : "(new)", a->to_status ? a->to_status : "",
               (long long)a->state_version, a->actor ? a->actor : "", a->detail ? "  " : "",
               a->detail ? a->detail : "");
      }
    }
    if (cli->json) {
      printf("]\n");
    }
  }
  ain_store_req_cleanup(&req);
  ain_cli_close_store(cli);
  return rc;
}

int ain_cli_cancel(ain_cli_t *cli) {
  const char *id = NULL, *reason = "cancelled by operator";
  for (int i = 0; i < cli->nargs; i++) {
    if (strcmp(cli->args[i], "--reason") == 0 && i + 1 < cli->nargs) {
      reason = cli->args[++i];
    } else if (id == NULL && cli->args[i][0] != '-') {
      id = cli->args[i];
    } else {
      return ain_cli_usage(cli, "unexpected argument '%s'", cli->args[i]);
    }
  }
  if (id == NULL) {
    return ain_cli_usage(cli, "expects a TASK_ID or DAG_ID%s", NULL);
  }
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_cli_open_store(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  /* A DAG id first; otherwise a task. */
  ain_store_req_t req;
  ain_store_req_cancel(&req, NULL, id, reason);
  req.actor = cli->actor;
  int rc = ain_store_wait(cli->store, &req);
  if (rc == AIN_ENOTFOUND) {
    ain_store_req_cleanup(&req);
    ain_store_req_cancel(&req, id, NULL, reason);
    rc = ain_cli_wait_or_fail(cli, &req);
  } else if (rc != 0) {
    rc = ain_cli_fail(cli, &req.err);
  }
  if (rc == 0) {
    if (cli->json) {
      printf("{\"ok\":true,\"cancelled\":%d}\n", req.u.cancel.cancelled);
    } else {
      printf("cancelled %d task(s)\n", req.u.cancel.cancelled);
    }
  }
  ain_store_req_cleanup(&req);
  ain_cli_close_store(cli);
  return rc;
}

int ain_cli_stats(ain_cli_t *cli) {
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_cli_open_store(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  ain_store_req_t req;
  ain_store_req_stats(&req);
  int rc = ain_cli_wait_or_fail(cli, &req);
  if (rc == 0) {
    const ain_store_stats_t *s = &req.u.stats.stats;
    if (cli->json) {
      printf("{\"tasks\":{");
      for (int i = 0; i < AIN_TASK_STATUS_COUNT; i++) {
        printf("%s\"%s\":%lld", i ? "," : "", ain_task_status_name(i), (long long)s->tasks[i]);
      }
      printf("},\"dags\":{");
      for (int i = 0; i < AIN_DAG_STATUS_COUNT; i++) {
        printf("%s\"%s\":%lld", i ? "," : "", ain_dag_status_name(i), (long long)s->dags[i]);
      }
      printf("}}\n");
    } else {
      printf("tasks:");
      for (int i = 0; i < AIN_TASK_STATUS_COUNT; i++) {
        printf(" %s=%lld", ain_task_status_name(i), (long long)s->tasks[i]);
      }
      printf("\ndags: ");
      for (int i = 0; i < AIN_DAG_STATUS_COUNT; i++) {
        printf(" %s=%lld", ain_dag_status_name(i), (long long)s->dags[i]);
      }
      printf("\n");
    }
  }
  ain_store_req_cleanup(&req);
  ain_cli_close_store(cli);
  return rc;
}
