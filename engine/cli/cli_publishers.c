/* `ain publishers pause|resume|status`: holds and releases publishing (DESIGN §10 incident
 * controls) through the settings row "publishers.paused". A publish step that starts while paused
 * parks (task status waiting; it holds no worker slot and does not use up an attempt); resume
 * returns every parked publish task to ready in the same transaction, so the next claim (on any
 * node) publishes. Every change is audited, in its own transaction, with the operator as actor
 * (--actor, $AIN_ACTOR or the OS user: cli.c).
 * Relies on: cli/internal.h, ops/review.h (ain_ops_publishers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/internal.h"
#include "ops/review.h"

int ain_cli_publishers(ain_cli_t *cli) {
  ain_err_t err;
  ain_err_clear(&err);
  if (cli->nargs != 1) {
    return ain_cli_usage(cli, cli->nargs == 0 ? "missing subcommand%s" : "unexpected argument '%s'",
                         cli->nargs == 0 ? "" : cli->args[1]);
  }
  const char *sub = cli->args[0];
  ain_ops_publishers_action_t action;
  if (strcmp(sub, "pause") == 0) {
    action = AIN_OPS_PUBLISHERS_PAUSE;
  } else if (strcmp(sub, "resume") == 0) {
    action = AIN_OPS_PUBLISHERS_RESUME;
  } else if (strcmp(sub, "status") == 0) {
    action = AIN_OPS_PUBLISHERS_STATUS;
  } else {
    return ain_cli_usage(cli, "unknown subcommand '%s' (pause, resume, status)", sub);
  }
  if (ain_cli_open_store(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  ain_ops_publishers_t p;
  int rc = ain_ops_publishers(&cli->ops, action, cli->actor, &p, &err);
  ain_cli_close_store(cli);
  if (rc != 0) {
    return ain_cli_fail(cli, &err);
  }
  if (cli->json) {
    ain_cli_print_json(ain_ops_publishers_json(&p));
  } else if (action == AIN_OPS_PUBLISHERS_STATUS) {
    printf("publishers are %s%s; %lld task(s) waiting (parked publish steps and reviews)\n",
           p.paused ? "PAUSED" : "running",
           p.paused && strcmp(p.paused_by, "backlog") == 0 ? " by the review-backlog guard" : "",
           p.waiting);
  } else {
    printf("publishers %s%s\n", p.paused ? "paused" : "resumed", p.changed ? "" : " (already so)");
  }
  return 0;
}
