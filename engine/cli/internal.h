/* Private to engine/cli/: the parsed command line and helpers shared by the verbs. A verb parses
 * its arguments, calls the ops layer (engine/ops/) and prints what it returns; it never sends a
 * store request itself. */
#ifndef AIN_CLI_INTERNAL_H
#define AIN_CLI_INTERNAL_H

#include <cjson/cJSON.h>
#include <stdio.h>
#include <uv.h>

#include "cli/cli.h"
#include "config/config.h"
#include "core/err.h"
#include "ops/ops.h"

typedef struct ain_cli ain_cli_t;

typedef struct {
  const char *name;
  const char *summary;
  const char *usage;
  int (*fn)(ain_cli_t *cli);
} ain_cli_verb_t;

struct ain_cli {
  const ain_cli_verb_t *verb;
  const char *config_path;
  int json;
  int help;
  char actor[80]; /* "operator:<name>" (--actor, $AIN_ACTOR or the OS user): every write's audit */
  char **args; /* the verb's own arguments and options */
  int nargs;
  ain_config_t cfg;
  uv_loop_t loop;
  ain_ops_t ops;      /* open between ain_cli_open_store and ain_cli_close_store */
};

int ain_cli_usage(const ain_cli_t *cli, const char *fmt, const char *arg);
/* Prints err (to stderr, and as JSON on stdout with --json) and returns the exit code. */
int ain_cli_fail(const ain_cli_t *cli, const ain_err_t *err);
void ain_cli_json_string(FILE *f, const char *s);
/* Prints o unformatted and a newline on stdout, then deletes o. */
void ain_cli_print_json(cJSON *o);

int ain_cli_load_config(ain_cli_t *cli, ain_err_t *err);
/* Loads the config, opens the ops layer's store on a private loop and applies the migrations. */
int ain_cli_open_store(ain_cli_t *cli, ain_err_t *err);
/* The same with the config already in cli->cfg. */
int ain_cli_open_loaded_store(ain_cli_t *cli, ain_err_t *err);
void ain_cli_close_store(ain_cli_t *cli);
/* Parses the value s of option opt into *out: 0, or a usage error (exit 2) naming the option and
 * the range [min, max]. */
int ain_cli_int_arg(ain_cli_t *cli, const char *opt, const char *s, long min, long max, int *out);
/* The value of option args[*i] (advancing *i past it), or NULL when it is the last argument. */
const char *ain_cli_opt_value(ain_cli_t *cli, int *i);
/* "30d", "12h", "90m", "45s", "2w", "0s" -> ms. 0, or -1 when it is not a duration
 * (cli_purge.c). */
int ain_cli_parse_duration(const char *s, int64_t *ms);

int ain_cli_run(ain_cli_t *cli);
int ain_cli_migrate(ain_cli_t *cli);
int ain_cli_enqueue(ain_cli_t *cli);
int ain_cli_stats(ain_cli_t *cli);
int ain_cli_task(ain_cli_t *cli);   /* cli_task.c */
int ain_cli_cancel(ain_cli_t *cli); /* cli_task.c */
int ain_cli_dag(ain_cli_t *cli);    /* cli_dag.c */
int ain_cli_audit(ain_cli_t *cli);  /* cli_dag.c */
int ain_cli_check(ain_cli_t *cli);
int ain_cli_scripts(ain_cli_t *cli); /* cli_scripts.c */
int ain_cli_replay(ain_cli_t *cli);  /* cli_replay.c */
int ain_cli_judge(ain_cli_t *cli);   /* cli_judge.c */
int ain_cli_test(ain_cli_t *cli);    /* cli_test.c */
int ain_cli_events(ain_cli_t *cli);  /* cli_events.c */
int ain_cli_nodes(ain_cli_t *cli); /* cli_nodes.c */
int ain_cli_sources(ain_cli_t *cli); /* cli_sources.c */
int ain_cli_review(ain_cli_t *cli);     /* cli_review.c */
int ain_cli_video(ain_cli_t *cli);      /* cli_review.c */
int ain_cli_similar(ain_cli_t *cli);    /* cli_similar.c */
int ain_cli_publishers(ain_cli_t *cli); /* cli_publishers.c */
int ain_cli_purge(ain_cli_t *cli);      /* cli_purge.c */
int ain_cli_token(ain_cli_t *cli);      /* cli_token.c */
int ain_cli_unpublish(ain_cli_t *cli);  /* cli_unpublish.c */
int ain_cli_takedowns(ain_cli_t *cli);  /* cli_unpublish.c */
int ain_cli_post_stats(ain_cli_t *cli); /* cli_unpublish.c: `ain stats --posts` */

#endif
