/* `ain purge --older-than DURATION [--dry-run] [--batch N]`: deletes finished DAGs (and finished
 * tasks outside any DAG) that ended more than DURATION ago, with their payloads, results,
 * checkpoints and videos, and the object-store files only they referenced; audit rows stay and
 * the purge itself is audited with the operator as actor (store/purge.h). Batches of N DAGs, one
 * transaction each; a line per batch on a terminal, a summary at the end. --dry-run lists what
 * would go and changes nothing. Relies on: cli/internal.h, ops/admin.h (ain_ops_purge),
 * privacy/retention.h (the default batch). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/internal.h"
#include "core/util.h"
#include "ops/admin.h"
#include "privacy/retention.h"

int ain_cli_parse_duration(const char *s, int64_t *ms) {
  char *end = NULL;
  if (s == NULL || s[0] < '0' || s[0] > '9') {
    return -1;
  }
  long long v = strtoll(s, &end, 10);
  static const struct {
    const char *unit;
    int64_t ms;
  } units[] = {{"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}, {"w", 604800000}};
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strcmp(end, units[i].unit) == 0) {
      if (v > INT64_MAX / units[i].ms / 2) {
        return -1;
      }
      *ms = v * units[i].ms;
      return 0;
    }
  }
  return -1;
}

static void print_json_list(char *const *list, size_t n) {
  putchar('[');
  for (size_t i = 0; i < n; i++) {
    if (i > 0) {
      putchar(',');
    }
    ain_cli_json_string(stdout, list[i]);
  }
  putchar(']');
}

typedef struct {
  int tty; /* a line per batch on a terminal */
} progress_t;

static void on_batch(void *data, const ain_ops_purge_batch_t *b) {
  const progress_t *pr = data;
  if (b->object_error != NULL) {
    fprintf(stderr, "ain purge: %s (the rows are purged; the file stays)\n", b->object_error);
  }
  if (pr->tty) {
    fprintf(stderr, "batch %lld: %d DAG(s), %d task(s), %zu object(s) deleted\n", b->batch,
            b->dags, b->tasks, b->deleted);
  }
}

int ain_cli_purge(ain_cli_t *cli) {
  const char *older = NULL;
  int dry = 0, batch = AIN_RETENTION_BATCH;
  for (int i = 0; i < cli->nargs; i++) {
    const char *a = cli->args[i];
    if (strcmp(a, "--older-than") == 0 && i + 1 < cli->nargs) {
      older = cli->args[++i];
    } else if (strcmp(a, "--dry-run") == 0) {
      dry = 1;
    } else if (strcmp(a, "--batch") == 0 && i + 1 < cli->nargs) {
      int rc = ain_cli_int_arg(cli, a, cli->args[++i], 1, AIN_STORE_PURGE_LIMIT_MAX, &batch);
      if (rc != 0) {
        return rc;
      }
    } else {
      return ain_cli_usage(cli, "unexpected argument '%s'", a);
    }
  }
  int64_t age = 0;
  if (older == NULL) {
    return ain_cli_usage(cli, "--older-than DURATION is required (e.g. 30d)%s", NULL);
  }
  if (ain_cli_parse_duration(older, &age) != 0) {
    return ain_cli_usage(cli, "--older-than: '%s' is not a duration (a number and s, m, h, d or w)",
                         older);
  }
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_cli_open_store(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  progress_t pr = {.tty = isatty(STDERR_FILENO) && !cli->json};
  ain_ops_purge_opts_t o = {.older_than = ain_now_ms() - age, .batch = batch, .dry_run = dry,
                            .actor = cli->actor, .on_batch = on_batch, .data = &pr};
  ain_ops_purge_result_t r;
  int rc = ain_ops_purge(&cli->ops, &o, &r, &err);
  ain_cli_close_store(cli);
  if (rc != 0) {
    return ain_cli_fail(cli, &err);
  }
  if (dry && cli->json) {
    printf("{\"ok\":true,\"dry_run\":true,\"older_than\":%lld,\"dags\":%lld,\"tasks\":%lld,"
           "\"artifacts\":%lld,\"videos\":%lld,\"dag_ids\":",
           (long long)o.older_than, r.dags, r.tasks, r.artifacts, r.videos);
    print_json_list(r.dag_ids, r.ndag_ids);
    printf(",\"objects\":");
    print_json_list(r.keys, r.nkeys);
    printf("}\n");
    ain_ops_purge_free(&r);
    return 0;
  }
  if (dry) {
    for (size_t i = 0; i < r.ndag_ids; i++) {
      printf("dag %s\n", r.dag_ids[i]);
    }
    for (size_t i = 0; i < r.nkeys; i++) {
      printf("object %s\n", r.keys[i]);
    }
  }
  time_t s = (time_t)(o.older_than / 1000);
  struct tm tm;
  char when[40];
  gmtime_r(&s, &tm);
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (cli->json) {
    printf("{\"ok\":true,\"dry_run\":false,\"older_than\":%lld,\"batches\":%lld,\"dags\":%lld,"
           "\"tasks\":%lld,\"artifacts\":%lld,\"videos\":%lld,\"objects\":%lld}\n",
           (long long)o.older_than, r.batches, r.dags, r.tasks, r.artifacts, r.videos, r.objects);
  } else {
    printf("%s %lld DAG(s), %lld task(s), %lld checkpoint(s), %lld video(s) and %lld object(s) "
           "finished before %s\n",
           dry ? "would purge" : "purged", r.dags, r.tasks, r.artifacts, r.videos, r.objects, when);
  }
  ain_ops_purge_free(&r);
  return 0;
}
