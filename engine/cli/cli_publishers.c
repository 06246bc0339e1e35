/* `ain publishers pause|resume|status`: holds and releases publishing (DESIGN §10 incident
 * controls) through the settings row "publishers.paused". A publish step that starts while paused
 * parks (task status waiting; it holds no worker slot and does not use up an attempt); resume
 * returns every parked publish task to ready in the same transaction, so the next claim (on any
 * node) publishes. Every change is audited, in its own transaction, with the operator as actor
 * (--actor, $AIN_ACTOR or the OS user: cli.c).
 * Relies on: cli/internal.h, store/store.h (SETTING, STATS). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/internal.h"

int ain_cli_publishers(ain_cli_t *cli) {
  ain_err_t err;
  ain_err_clear(&err);
  if (cli->nargs != 1) {
    return ain_cli_usage(cli, cli->nargs == 0 ? "missing subcommand%s" : "unexpected argument '%s'",
                         cli->nargs == 0 ? "" : cli->args[1]);
  }
  const char *sub = cli->args[0], *value = NULL;
  if (strcmp(sub, "pause") == 0) {
    value = "true";
  } else if (strcmp(sub, "resume") == 0) {
    value = "false";
  } else if (strcmp(sub, "status") != 0) {
    return ain_cli_usage(cli, "unknown subcommand '%s' (pause, resume, status)", sub);
  }
  if (ain_cli_open_store(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  ain_store_req_t req;
  ain_store_req_setting(&req, "publishers.paused", value);
  req.actor = cli->actor; /* the setting and its audit row commit together (store SETTING) */
  int rc = ain_store_wait(cli->store, &req);
  if (rc != 0) {
    rc = ain_cli_fail(cli, &req.err);
    goto done;
  }
  int paused = req.u.setting.out_value != NULL && strcmp(req.u.setting.out_value, "true") == 0;
  int changed = req.u.setting.changed;
  ain_store_req_cleanup(&req);
  ain_store_req_stats(&req); /* parked tasks (waiting): publish steps and reviews */
  if ((rc = ain_store_wait(cli->store, &req)) != 0) {
    rc = ain_cli_fail(cli, &req.err);
    goto done;
  }
  long long waiting = (long long)req.u.stats.stats.tasks[AIN_TASK_WAITING];
  if (cli->json) {
    printf("{\"ok\":true,\"paused\":%s,\"changed\":%s,\"waiting_tasks\":%lld}\n",
           paused ? "true" : "false", changed ? "true" : "false", waiting);
  } else if (value == NULL) {
    printf("publishers are %s; %lld task(s) waiting (parked publish steps and reviews)\n",
           paused ? "PAUSED" : "running", waiting);
  } else {
    printf("publishers %s%s\n", paused ? "paused" : "resumed", changed ? "" : " (already so)");
  }
done:
  ain_store_req_cleanup(&req);
  ain_cli_close_store(cli);
  return rc;
}
