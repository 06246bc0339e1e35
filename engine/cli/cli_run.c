/* `ain run`: runs the engine and prints the summary (DAGs done/failed, tasks, wall time). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/internal.h"
#include "sched/engine.h"

int ain_cli_run(ain_cli_t *cli) {
  ain_run_opts_t opts = {.until_idle = 0, .progress = isatty(STDERR_FILENO)};
  int shards = -1;
  for (int i = 0; i < cli->nargs; i++) {
    const char *a = cli->args[i];
    if (strcmp(a, "--until-idle") == 0) {
      opts.until_idle = 1;
    } else if (strcmp(a, "--no-progress") == 0) {
      opts.progress = 0;
    } else if (strcmp(a, "--progress") == 0) {
      opts.progress = 1;
    } else if (strcmp(a, "--shards") == 0 && i + 1 < cli->nargs) {
      char *end = NULL;
      long v = strtol(cli->args[++i], &end, 10);
      if (end == NULL || *end != '\0' || v < 1 || v > 256) {
        return ain_cli_usage(cli, "--shards wants 1..256, got '%s'", cli->args[i]);
      }
      shards = (int)v;
    } else {
      return ain_cli_usage(cli, "unexpected argument '%s'", a);
    }
  }
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_cli_load_config(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  if (shards > 0) {
    cli->cfg.shards = shards;
  }
  ain_run_summary_t sum;
  memset(&sum, 0, sizeof sum);
  int rc = ain_engine_run(&cli->cfg, &opts, &sum, &err);
  if (rc != 0) {
    return ain_cli_fail(cli, &err);
  }
  const ain_store_stats_t *s = &sum.store;
  if (cli->json) {
    printf("{\"ok\":true,\"wall_s\":%.3f,\"steps_run\":%lld,\"conflicts\":%lld,"
           "\"interrupted\":%s,\"dags\":{\"succeeded\":%lld,\"failed\":%lld,\"running\":%lld,"
           "\"cancelled\":%lld},\"tasks\":{\"succeeded\":%lld,\"dead\":%lld,\"ready\":%lld,"
           "\"pending\":%lld,\"running\":%lld,\"cancelled\":%lld}}\n",
           sum.wall_s, (long long)sum.steps_run, (long long)sum.conflicts,
           sum.interrupted ? "true" : "false", (long long)s->dags[AIN_DAG_SUCCEEDED],
           (long long)s->dags[AIN_DAG_FAILED], (long long)s->dags[AIN_DAG_RUNNING],
           (long long)s->dags[AIN_DAG_CANCELLED], (long long)s->tasks[AIN_TASK_SUCCEEDED],
           (long long)s->tasks[AIN_TASK_DEAD], (long long)s->tasks[AIN_TASK_READY],
           (long long)s->tasks[AIN_TASK_PENDING], (long long)s->tasks[AIN_TASK_RUNNING],
           (long long)s->tasks[AIN_TASK_CANCELLED]);
  } else {
    printf("\nAIN run summary (%s)\n", sum.interrupted ? "interrupted" : "idle");
    printf("  DAGs       %lld done, %lld failed, %lld running, %lld cancelled\n",
           (long long)s->dags[AIN_DAG_SUCCEEDED], (long long)s->dags[AIN_DAG_FAILED],
           (long long)s->dags[AIN_DAG_RUNNING], (long long)s->dags[AIN_DAG_CANCELLED]);
    printf("  tasks      %lld succeeded, %lld dead-lettered, %lld waiting, %lld cancelled\n",
           (long long)s->tasks[AIN_TASK_SUCCEEDED], (long long)s->tasks[AIN_TASK_DEAD],
           (long long)(s->tasks[AIN_TASK_READY] + s->tasks[AIN_TASK_PENDING]),
           (long long)s->tasks[AIN_TASK_CANCELLED]);
    printf("  this run   %lld steps in %.1f s", (long long)sum.steps_run, sum.wall_s);
    if (sum.conflicts) {
      printf(", %lld stale results refused", (long long)sum.conflicts);
    }
    printf("\n  store      %s\n", cli->cfg.store.url);
  }
  return AIN_EXIT_OK;
}
