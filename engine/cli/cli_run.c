/* `ain run`: runs the engine and prints the summary: DAGs done/failed, videos published / in
 * review / rejected (the review gate's video rows), tasks, wall time, and where the files are
 * (the object store under data_dir/objects, the outbox channel's folder). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "cli/internal.h"
#include "ops/review.h"
#include "sched/engine.h"

/* How long the API may take to answer what is in flight once the engine has stopped. */
#define API_DRAIN_MS 1000

/* The store URL without its password ("postgres://u:***@h/db"): secrets are never printed. */
static void print_url(const char *url) {
  const char *scheme = strstr(url, "://");
  const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
  const char *colon = scheme ? strchr(scheme + 3, ':') : NULL;
  if (at == NULL || colon == NULL || colon > at) {
    printf("%s", url);
    return;
  }
  printf("%.*s:***%s", (int)(colon - url), url, at);
}

/* Videos by status, read after the run from the review gate's rows. */
typedef struct {
  long long rendered, published, in_review, rejected, waiting; /* waiting: passed, not yet out */
  int ok;
} video_counts_t;

static void count_videos(ain_cli_t *cli, video_counts_t *vc) {
  memset(vc, 0, sizeof *vc);
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_cli_open_loaded_store(cli, &err) != 0) {
    return;
  }
  ain_ops_reviews_t r;
  if (ain_ops_review_list(&cli->ops, NULL, 0, &r, &err) == 0) {
    vc->ok = 1;
    for (size_t i = 0; i < r.nrows; i++) {
      const char *st = r.rows[i].status;
      vc->rendered++;
      if (st == NULL) {
        continue;
      }
      vc->published += strcmp(st, "published") == 0;
      vc->in_review += strcmp(st, "in_review") == 0;
      vc->rejected += strcmp(st, "rejected") == 0;
      vc->waiting += strcmp(st, "passed") == 0 || strcmp(st, "approved") == 0;
    }
    ain_ops_reviews_free(&r);
  }
  ain_cli_close_store(cli);
}

/* The engine's state, for the API's /readyz (main thread). */
static void on_engine_state(void *data, ain_engine_state_t st) {
  ain_api_engine_state(data, st == AIN_ENGINE_RUNNING ? AIN_API_ENGINE_RUNNING
                                                      : AIN_API_ENGINE_STOPPING);
}

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
  /* The operator API: its own thread and loop, bound before the engine starts so a taken port
   * fails the run at once. It serves while the engine drains; it stops after it. */
  ain_api_t *api = NULL;
  if (ain_api_start(&cli->cfg, &api, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  opts.on_state = api ? on_engine_state : NULL;
  opts.state_data = api;
  ain_run_summary_t sum;
  memset(&sum, 0, sizeof sum);
  int rc = ain_engine_run(&cli->cfg, &opts, &sum, &err);
  if (ain_api_stop(api, API_DRAIN_MS) == 0) {
    ain_api_free(api);
  }
  if (rc != 0) {
    return ain_cli_fail(cli, &err);
  }
  const ain_store_stats_t *s = &sum.store;
  video_counts_t vc;
  count_videos(cli, &vc);
  const ain_config_channel_t *ob = ain_config_channel(&cli->cfg.channels, "outbox");
  const char *data = cli->cfg.data_dir, *outbox = ob != NULL ? ain_config_channel_str(ob, "dir") : NULL;
  outbox = outbox != NULL ? outbox : "";
  if (cli->json) {
    printf("{\"ok\":true,\"wall_s\":%.3f,\"steps_run\":%lld,\"conflicts\":%lld,"
           "\"interrupted\":%s,\"dags\":{\"succeeded\":%lld,\"failed\":%lld,\"running\":%lld,"
           "\"cancelled\":%lld},\"tasks\":{\"succeeded\":%lld,\"dead\":%lld,\"ready\":%lld,"
           "\"pending\":%lld,\"running\":%lld,\"waiting\":%lld,\"cancelled\":%lld},",
           sum.wall_s, (long long)sum.steps_run, (long long)sum.conflicts,
           sum.interrupted ? "true" : "false", (long long)s->dags[AIN_DAG_SUCCEEDED],
           (long long)s->dags[AIN_DAG_FAILED], (long long)s->dags[AIN_DAG_RUNNING],
           (long long)s->dags[AIN_DAG_CANCELLED], (long long)s->tasks[AIN_TASK_SUCCEEDED],
           (long long)s->tasks[AIN_TASK_DEAD], (long long)s->tasks[AIN_TASK_READY],
           (long long)s->tasks[AIN_TASK_PENDING], (long long)s->tasks[AIN_TASK_RUNNING],
           (long long)s->tasks[AIN_TASK_WAITING], (long long)s->tasks[AIN_TASK_CANCELLED]);
    printf("\"videos\":{\"rendered\":%lld,\"published\":%lld,\"in_review\":%lld,"
           "\"rejected\":%lld,\"not_yet_published\":%lld},\"files\":{\"objects\":",
           vc.rendered, vc.published, vc.in_review, vc.rejected, vc.waiting);
    char objects[4200];
    snprintf(objects, sizeof objects, "%s/objects", data);
    ain_cli_json_string(stdout, objects);
    printf(",\"outbox\":");
    ain_cli_json_string(stdout, outbox);
    printf("}}\n");
  } else {
    printf("\nAIN run summary (%s)\n", sum.interrupted ? "interrupted" : "idle");
    printf("  DAGs       %lld done, %lld failed, %lld running, %lld cancelled\n",
           (long long)s->dags[AIN_DAG_SUCCEEDED], (long long)s->dags[AIN_DAG_FAILED],
           (long long)s->dags[AIN_DAG_RUNNING], (long long)s->dags[AIN_DAG_CANCELLED]);
    if (vc.ok) {
      printf("  videos     %lld rendered: %lld published, %lld in review, %lld rejected",
             vc.rendered, vc.published, vc.in_review, vc.rejected);
      if (vc.waiting) {
        printf(", %lld not yet published", vc.waiting);
      }
      printf("\n");
    }
    /* Each status by its own name: "waiting" is a parked task (a review, paused publishers),
     * not one that is ready or pending. */
    printf("  tasks      %lld succeeded, %lld dead-lettered, %lld cancelled",
           (long long)s->tasks[AIN_TASK_SUCCEEDED], (long long)s->tasks[AIN_TASK_DEAD],
           (long long)s->tasks[AIN_TASK_CANCELLED]);
    static const ain_task_status_t open[] = {AIN_TASK_READY, AIN_TASK_PENDING, AIN_TASK_RUNNING,
                                             AIN_TASK_WAITING};
    const char *sep = "; still open: ";
    for (size_t i = 0; i < sizeof open / sizeof open[0]; i++) {
      if (s->tasks[open[i]] > 0) {
        printf("%s%lld %s%s", sep, (long long)s->tasks[open[i]], ain_task_status_name(open[i]),
               open[i] == AIN_TASK_WAITING ? " (parked)" : "");
        sep = ", ";
      }
    }
    printf("\n");
    printf("  wall time  %.1f s (%lld steps this run)", sum.wall_s, (long long)sum.steps_run);
    if (sum.conflicts) {
      printf(", %lld stale results refused", (long long)sum.conflicts);
    }
    printf("\n  files      %s/objects (videos, thumbnails, captions, speech; by sha256)\n", data);
    printf("             %s/<key>/ (published: video, thumbnail, sidecar JSON)\n", outbox);
    ain_store_config_t scfg; /* AIN_DATABASE_URL overrides store.url */
    ain_engine_store_config(&cli->cfg, &scfg);
    printf("  store      ");
    print_url(scfg.url);
    printf("\n");
  }
  return AIN_EXIT_OK;
}
