/* `ain task show|list|retry` and `ain cancel`: parse, call the ops layer (ops/tasks.h), print.
 *   task show TASK_ID [--json | --response]
 *   task list [--status S] [--type T] [--dag D] [--limit N] [--after CURSOR] [--json]
 *   task retry TASK_ID [--json]
 *   cancel TASK_ID|DAG_ID [--reason TEXT] [--json]
 * Relies on: cli/internal.h, ops/tasks.h, message/message.h (the task and response messages). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/internal.h"
#include "message/message.h"
#include "ops/tasks.h"

static void print_task_human(const ain_task_t *t) {
  char run_at[40], upd[40], lease[40];
  ain_ops_fmt_time(t->run_at, run_at, sizeof run_at);
  ain_ops_fmt_time(t->updated_at, upd, sizeof upd);
  ain_ops_fmt_time(t->lease_until, lease, sizeof lease);
  printf("task          %s\n", t->id);
  printf("type          %s\n", t->type ? t->type : "");
  if (t->dag_id[0]) {
    printf("dag           %s (step %s)\n", t->dag_id, t->step ? t->step : "?");
  }
  char *handler = ain_ops_task_handler(t);
  printf("handler       %s\n", handler ? handler : "");
  free(handler);
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

static int cmd_show(ain_cli_t *cli) {
  int response = 0;
  const char *id = NULL;
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
  ain_task_t t;
  int rc = ain_ops_task_get(&cli->ops, id, &t, &err);
  ain_cli_close_store(cli);
  if (rc != 0) {
    return ain_cli_fail(cli, &err);
  }
  char *out = NULL;
  if (response) {
    rc = ain_message_response_to_json_ex(&t, &out, &err);
  } else if (cli->json) {
    rc = ain_message_task_to_json_ex(&t, &out, &err);
  } else {
    print_task_human(&t);
  }
  if (rc != 0) {
    rc = ain_cli_fail(cli, &err);
  } else if (out) {
    printf("%s\n", out);
  }
  free(out);
  ain_task_free(&t);
  return rc;
}

static int cmd_list(ain_cli_t *cli) {
  ain_ops_task_query_t q = {0};
  for (int i = 1; i < cli->nargs; i++) {
    const char *a = cli->args[i], *v = NULL;
    if (strcmp(a, "--limit") == 0) {
      int rc = ain_cli_int_arg(cli, a, ain_cli_opt_value(cli, &i), 1, AIN_OPS_LIST_MAX, &q.limit);
      if (rc != 0) {
        return rc;
      }
      continue;
    }
    const char **slot = strcmp(a, "--status") == 0  ? &q.status
                        : strcmp(a, "--type") == 0  ? &q.type
                        : strcmp(a, "--dag") == 0   ? &q.dag_id
                        : strcmp(a, "--after") == 0 ? &q.after
                                                    : NULL;
    if (slot == NULL) {
      return ain_cli_usage(cli, "unexpected argument '%s'", a);
    }
    if ((v = ain_cli_opt_value(cli, &i)) == NULL) {
      return ain_cli_usage(cli, "%s needs a value", a);
    }
    *slot = v;
  }
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_cli_open_store(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  ain_ops_task_page_t page;
  int rc = ain_ops_task_list(&cli->ops, &q, &page, &err);
  ain_cli_close_store(cli);
  if (rc != 0) {
    return ain_cli_fail(cli, &err);
  }
  if (cli->json) {
    ain_cli_print_json(ain_ops_task_page_json(&page));
  } else if (page.ntasks == 0) {
    printf("no tasks%s\n", q.after != NULL ? " after this cursor" : "");
  } else {
    printf("%-36s %-16s %-9s %-5s %-24s %-12s %s\n", "TASK", "TYPE", "STATUS", "TRY", "CREATED",
           "STEP", "DAG");
    for (size_t i = 0; i < page.ntasks; i++) {
      const ain_task_t *t = &page.tasks[i];
      char created[40];
      ain_ops_fmt_time(t->created_at, created, sizeof created);
      printf("%-36s %-16.16s %-9s %2d/%-2d %-24s %-12.12s %s\n", t->id, t->type ? t->type : "",
             ain_task_status_name(t->status), t->attempts, t->max_attempts, created,
             t->step ? t->step : "-", t->dag_id[0] ? t->dag_id : "-");
    }
    if (page.next[0]) {
      printf("next page: ain task list --after %s  (with the same filters)\n", page.next);
    }
  }
  ain_ops_task_page_free(&page);
  return 0;
}

static int cmd_retry(ain_cli_t *cli) {
  if (cli->nargs != 2 || cli->args[1][0] == '-') {
    return ain_cli_usage(cli, "retry expects one TASK_ID%s", NULL);
  }
  const char *id = cli->args[1];
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_cli_open_store(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  ain_ops_retry_t r;
  int rc = ain_ops_task_retry(&cli->ops, id, cli->actor, &r, &err);
  ain_cli_close_store(cli);
  if (rc != 0) {
    return ain_cli_fail(cli, &err);
  }
  if (cli->json) {
    cJSON *o = ain_ops_retry_json(id, &r);
    cJSON_AddBoolToObject(o, "ok", 1);
    ain_cli_print_json(o);
  } else {
    printf("task %s is ready again (state_version %lld; it had used %d attempt(s))\n", id,
           (long long)r.state_version, r.attempts_before);
    if (r.dag_reopened) {
      printf("its DAG is running again; %d cancelled task(s) of it returned to the queue\n",
             r.revived);
    }
  }
  return 0;
}

int ain_cli_task(ain_cli_t *cli) {
  const char *sub = cli->nargs > 0 ? cli->args[0] : "";
  if (strcmp(sub, "show") == 0) {
    return cmd_show(cli);
  }
  if (strcmp(sub, "list") == 0) {
    return cmd_list(cli);
  }
  if (strcmp(sub, "retry") == 0) {
    return cmd_retry(cli);
  }
  return ain_cli_usage(cli, "expects show, list or retry%s", NULL);
}

int ain_cli_cancel(ain_cli_t *cli) {
  const char *id = NULL, *reason = NULL;
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
  int cancelled = 0;
  int rc = ain_ops_cancel(&cli->ops, id, reason, cli->actor, &cancelled, &err);
  ain_cli_close_store(cli);
  if (rc != 0) {
    return ain_cli_fail(cli, &err);
  }
  if (cli->json) {
    printf("{\"ok\":true,\"cancelled\":%d}\n", cancelled);
  } else {
    printf("cancelled %d task(s)\n", cancelled);
  }
  return 0;
}
