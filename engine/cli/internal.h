/* Private to engine/cli/: the parsed command line and helpers shared by the verbs. */
#ifndef AIN_CLI_INTERNAL_H
#define AIN_CLI_INTERNAL_H

#include <stdio.h>
#include <uv.h>

#include "cli/cli.h"
#include "config/config.h"
#include "core/err.h"
#include "store/store.h"

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
  ain_store_t *store;
};

int ain_cli_usage(const ain_cli_t *cli, const char *fmt, const char *arg);
/* Prints err (to stderr, and as JSON on stdout with --json) and returns the exit code. */
int ain_cli_fail(const ain_cli_t *cli, const ain_err_t *err);
int ain_cli_exit_for(int code);
void ain_cli_json_string(FILE *f, const char *s);
int ain_cli_load_config(ain_cli_t *cli, ain_err_t *err);
/* Loads the config, opens the store on a private loop and applies migrations. */
int ain_cli_open_store(ain_cli_t *cli, ain_err_t *err);
void ain_cli_close_store(ain_cli_t *cli);
/* Runs one store request to completion on the CLI's loop (actor cli->actor, the operator, unless
 * the request names one). 0, or the AIN_E* code with *err filled (never an empty message). */
int ain_cli_wait(ain_cli_t *cli, ain_store_req_t *req, ain_err_t *err);
/* ain_cli_wait, and on failure prints the error: 0 or the exit code (ain_cli_fail). */
int ain_cli_wait_or_fail(ain_cli_t *cli, ain_store_req_t *req);

int ain_cli_run(ain_cli_t *cli);
int ain_cli_migrate(ain_cli_t *cli);
int ain_cli_enqueue(ain_cli_t *cli);
int ain_cli_task(ain_cli_t *cli);
int ain_cli_dag(ain_cli_t *cli);
int ain_cli_audit(ain_cli_t *cli);
int ain_cli_cancel(ain_cli_t *cli);
int ain_cli_stats(ain_cli_t *cli);
int ain_cli_check(ain_cli_t *cli);
int ain_cli_scripts(ain_cli_t *cli); /* cli_scripts.c */
int ain_cli_replay(ain_cli_t *cli);  /* cli_replay.c */
int ain_cli_test(ain_cli_t *cli);    /* cli_test.c */
int ain_cli_nodes(ain_cli_t *cli); /* cli_nodes.c */
int ain_cli_review(ain_cli_t *cli);     /* cli_review.c */
int ain_cli_publishers(ain_cli_t *cli); /* cli_publishers.c */
int ain_cli_purge(ain_cli_t *cli);      /* cli_purge.c */
int ain_cli_token(ain_cli_t *cli);      /* cli_token.c */

#endif
