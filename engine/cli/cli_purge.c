/* `ain purge --older-than DURATION [--dry-run] [--batch N]`: deletes finished DAGs (and finished
 * tasks outside any DAG) that ended more than DURATION ago, with their payloads, results,
 * checkpoints and videos, and the object-store files only they referenced; audit rows stay and
 * the purge itself is audited with the operator as actor (store/purge.h). Batches of N DAGs, one
 * transaction each; a line per batch on a terminal, a summary at the end. --dry-run lists what
 * would go and changes nothing. Relies on: cli/internal.h, store/purge.h, privacy/retention.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/internal.h"
#include "privacy/retention.h"
#include "store/purge.h"

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

static void print_json_list(char **list, size_t n) {
  putchar('[');
  for (size_t i = 0; i < n; i++) {
    if (i > 0) {
      putchar(',');
    }
    ain_cli_json_string(stdout, list[i]);
  }
  putchar(']');
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
      char *end = NULL;
      long v = strtol(cli->args[++i], &end, 10);
      if (*end != '\0' || v < 1 || v > AIN_STORE_PURGE_LIMIT_MAX) {
        return ain_cli_usage(cli, "--batch must be 1..10000, got '%s'", cli->args[i]);
      }
      batch = (int)v;
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
  char actor[300], objects[4200];
  const char *user = getenv("USER");
  snprintf(actor, sizeof actor, "operator:%s", user != NULL && user[0] ? user : "cli");
  snprintf(objects, sizeof objects, "%s/objects", cli->cfg.data_dir ? cli->cfg.data_dir : "var");
  int64_t before = ain_now_ms() - age;
  int tty = isatty(STDERR_FILENO) && !cli->json;
  long long dags = 0, tasks = 0, artifacts = 0, videos = 0, objs = 0, batches = 0;
  int rc = 0;
  ain_store_purge_t p;
  ain_store_req_t req;
  for (;;) {
    /* a dry run changes nothing, so one (large) batch is the whole answer */
    ain_store_req_purge(&req, &p, before, dry ? AIN_STORE_PURGE_LIMIT_MAX : batch, dry);
    req.actor = actor;
    if (ain_store_wait(cli->store, &req) != 0) {
      rc = ain_cli_fail(cli, &req.err);
      ain_store_req_cleanup(&req);
      break;
    }
    batches++;
    dags += p.dags;
    tasks += p.tasks;
    artifacts += p.artifacts;
    videos += p.videos;
    if (dry) {
      objs = (long long)p.nkeys;
      if (cli->json) {
        printf("{\"ok\":true,\"dry_run\":true,\"older_than\":%lld,\"dags\":%d,\"tasks\":%d,"
               "\"artifacts\":%d,\"videos\":%d,\"dag_ids\":",
               (long long)before, p.dags, p.tasks, p.artifacts, p.videos);
        print_json_list(p.dag_ids, p.ndag_ids);
        printf(",\"objects\":");
        print_json_list(p.keys, p.nkeys);
        printf("}\n");
      } else {
        for (size_t i = 0; i < p.ndag_ids; i++) {
          printf("dag %s\n", p.dag_ids[i]);
        }
        for (size_t i = 0; i < p.nkeys; i++) {
          printf("object %s\n", p.keys[i]);
        }
      }
      ain_store_req_cleanup(&req);
      break;
    }
    size_t deleted = 0;
    ain_err_t derr;
    ain_err_clear(&derr);
    if (ain_retention_delete_objects(objects, p.keys, p.nkeys, &deleted, &derr) != 0) {
      fprintf(stderr, "ain purge: %s (the rows are purged; the file stays)\n", derr.msg);
    }
    objs += (long long)deleted;
    if (tty) {
      fprintf(stderr, "batch %lld: %d DAG(s), %d task(s), %zu object(s) deleted\n", batches, p.dags,
              p.tasks, deleted);
    }
    int full = p.dags >= batch || p.tasks >= batch;
    ain_store_req_cleanup(&req);
    if (!full) {
      break;
    }
  }
  if (rc == 0 && !(dry && cli->json)) {
    time_t s = (time_t)(before / 1000);
    struct tm tm;
    char when[40];
    gmtime_r(&s, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (cli->json) {
      printf("{\"ok\":true,\"dry_run\":false,\"older_than\":%lld,\"batches\":%lld,\"dags\":%lld,"
             "\"tasks\":%lld,\"artifacts\":%lld,\"videos\":%lld,\"objects\":%lld}\n",
             (long long)before, batches, dags, tasks, artifacts, videos, objs);
    } else {
      printf("%s %lld DAG(s), %lld task(s), %lld checkpoint(s), %lld video(s) and %lld object(s) "
             "finished before %s\n",
             dry ? "would purge" : "purged", dags, tasks, artifacts, videos, objs, when);
    }
  }
  ain_cli_close_store(cli);
  return rc;
}
