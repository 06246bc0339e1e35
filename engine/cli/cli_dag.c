/* `ain dag list|show` and `ain audit`: parse, call the ops layer (ops/dags.h), print.
 *   dag list [--status S] [--persona P] [--limit N] [--after CURSOR] [--json]
 *   dag show DAG_ID|ROOT_TASK_ID [--json | --dot]
 *   audit TASK_ID|DAG_ID [--json]; audit --operator [--limit N] [--json]
 * Relies on: cli/internal.h, ops/dags.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/internal.h"
#include "ops/dags.h"

static void print_dag_human(const ain_ops_dag_t *g) {
  const ain_dag_t *d = g->dag;
  printf("dag %s  %s  %d/%d steps done  (root task %s, persona %s, state_version %lld)\n", d->id,
         ain_dag_status_name(d->status), d->steps_done, d->steps_total, d->root_task_id,
         d->persona_id ? d->persona_id : "-", (long long)d->state_version);
  if (d->last_error) {
    printf("error: %s\n", d->last_error);
  }
  printf("%-12s %-10s %-4s %-26s %s\n", "STEP", "STATUS", "TRY", "HANDLER", "AFTER");
  for (size_t i = 0; i < g->ntasks; i++) {
    const ain_task_t *t = &g->tasks[i];
    char after[512] = "";
    size_t n = 0;
    for (size_t k = 0; k < g->ndeps && n + 64 < sizeof after; k++) {
      if (strcmp(g->deps[k].task_id, t->id) == 0) {
        n += (size_t)snprintf(after + n, sizeof after - n, "%s%s", n ? "," : "",
                              ain_ops_dag_step_name(g, g->deps[k].depends_on));
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

static int cmd_list(ain_cli_t *cli) {
  ain_ops_dag_query_t q = {0};
  for (int i = 1; i < cli->nargs; i++) {
    const char *a = cli->args[i], *v = NULL;
    if (strcmp(a, "--limit") == 0) {
      int rc =
          ain_cli_int_arg(cli, a, ain_cli_opt_value(cli, &i), 1, AIN_OPS_DAG_LIST_MAX, &q.limit);
      if (rc != 0) {
        return rc;
      }
      continue;
    }
    const char **slot = strcmp(a, "--status") == 0    ? &q.status
                        : strcmp(a, "--persona") == 0 ? &q.persona_id
                        : strcmp(a, "--after") == 0   ? &q.after
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
  ain_ops_dag_page_t page;
  int rc = ain_ops_dag_list(&cli->ops, &q, &page, &err);
  ain_cli_close_store(cli);
  if (rc != 0) {
    return ain_cli_fail(cli, &err);
  }
  if (cli->json) {
    ain_cli_print_json(ain_ops_dag_page_json(&page));
  } else if (page.ndags == 0) {
    printf("no DAGs%s\n", q.after != NULL ? " after this cursor" : "");
  } else {
    printf("%-36s %-9s %-7s %-24s %-16s %s\n", "DAG", "STATUS", "STEPS", "CREATED", "PERSONA",
           "ERROR");
    for (size_t i = 0; i < page.ndags; i++) {
      const ain_dag_t *d = &page.dags[i];
      char created[40], steps[24];
      ain_ops_fmt_time(d->created_at, created, sizeof created);
      snprintf(steps, sizeof steps, "%d/%d", d->steps_done, d->steps_total);
      printf("%-36s %-9s %-7s %-24s %-16.16s %.80s\n", d->id, ain_dag_status_name(d->status), steps,
             created, d->persona_id ? d->persona_id : "-", d->last_error ? d->last_error : "");
    }
    if (page.next[0]) {
      printf("next page: ain dag list --after %s  (with the same filters)\n", page.next);
    }
  }
  ain_ops_dag_page_free(&page);
  return 0;
}

int ain_cli_dag(ain_cli_t *cli) {
  int dot = 0;
  const char *id = NULL;
  if (cli->nargs >= 1 && strcmp(cli->args[0], "list") == 0) {
    return cmd_list(cli);
  }
  if (cli->nargs < 1 || strcmp(cli->args[0], "show") != 0) {
    return ain_cli_usage(cli, "expects 'list' or 'show DAG_ID'%s", NULL);
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
  ain_ops_dag_t g;
  int rc = ain_ops_dag_get(&cli->ops, id, &g, &err);
  ain_cli_close_store(cli);
  if (rc != 0) {
    return ain_cli_fail(cli, &err);
  }
  if (dot) {
    char *s = ain_ops_dag_dot(&g);
    fputs(s != NULL ? s : "", stdout);
    free(s);
  } else if (cli->json) {
    ain_cli_print_json(ain_ops_dag_json(&g));
  } else {
    print_dag_human(&g);
  }
  ain_ops_dag_free(&g);
  return 0;
}

static void print_audit_human(const ain_ops_audit_t *a) {
  for (size_t i = 0; i < a->nrows; i++) {
    const ain_audit_t *r = &a->rows[i];
    char ts[40];
    ain_ops_fmt_time(r->ts, ts, sizeof ts);
    const char *what = r->task_id ? r->task_id : r->dag_id ? r->dag_id : "(operator)";
    printf("%s  %-36s  %-9s -> %-9s v%-3lld %s%s%s\n", ts, what,
           r->from_status ? r->from_status : "(new)", r->to_status ? r->to_status : "",
           (long long)r->state_version, r->actor ? r->actor : "", r->detail ? "  " : "",
           r->detail ? r->detail : "");
  }
}

/* `ain audit ID`: the rows of task ID, else of DAG ID. `ain audit --operator [--limit N]`: the
 * operator's rows (settings, pins, purges), which belong to no task and no DAG. */
int ain_cli_audit(ain_cli_t *cli) {
  const char *id = NULL;
  int operator_rows = 0, limit = 100;
  for (int i = 0; i < cli->nargs; i++) {
    const char *a = cli->args[i];
    if (strcmp(a, "--operator") == 0) {
      operator_rows = 1;
    } else if (strcmp(a, "--limit") == 0 && i + 1 < cli->nargs) {
      int rc = ain_cli_int_arg(cli, a, cli->args[++i], 1, AIN_OPS_AUDIT_OPERATOR_MAX, &limit);
      if (rc != 0) {
        return rc;
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
  ain_ops_audit_t a;
  int rc = operator_rows ? ain_ops_audit_operator(&cli->ops, limit, &a, &err)
                         : ain_ops_audit(&cli->ops, id, &a, &err);
  ain_cli_close_store(cli);
  if (rc != 0) {
    return ain_cli_fail(cli, &err);
  }
  if (cli->json) {
    ain_cli_print_json(ain_ops_audit_json(&a));
  } else {
    print_audit_human(&a);
  }
  ain_ops_audit_free(&a);
  return 0;
}
