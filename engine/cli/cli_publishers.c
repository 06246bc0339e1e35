/* `ain publishers pause|resume|status`: holds and releases publishing (DESIGN §10 incident
 * controls) through the settings row "publishers.paused". A publish step that starts while paused
 * parks (task status waiting; it holds no worker slot and does not use up an attempt); resume
 * returns every parked publish task to ready in the same transaction, so the next claim (on any
 * node) publishes. Every change is audited, in its own transaction, with the operator as actor
 * (--actor, $AIN_ACTOR or the OS user: cli.c).
 * status also shows each channel account's remaining quota and its next refill
 * (ops/publish_quota.h, docs/publish-tokens-quotas.md).
 * Relies on: cli/internal.h, ops/review.h (ain_ops_publishers), ops/publish_quota.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/internal.h"
#include "ops/publish_quota.h"
#include "ops/review.h"

static double num(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* One line per channel with a quota: what is left, and when the next publish fits. */
static void print_quotas(const cJSON *quotas) {
  const cJSON *q;
  int64_t now = ain_now_ms();
  cJSON_ArrayForEach(q, quotas) {
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(q, "channel");
    double left = num(q, "remaining_units"), next = num(q, "next_refill_ms");
    double blocked = num(q, "blocked_until_ms");
    printf("channel %s: ", cJSON_IsString(ch) ? ch->valuestring : "?");
    if (left >= 0) {
      printf("%.0f of %.0f units left (%.0f per publish, window %.0f s)", left,
             num(q, "units_per_day"), num(q, "units_per_publish"), num(q, "window_s"));
    } else {
      printf("no units limit");
    }
    if (num(q, "requests_per_minute") > 0) {
      printf(", %.0f publishes/min", num(q, "requests_per_minute"));
    }
    if (next > 0) {
      printf("; next publish fits in %.1f s", (next - (double)now) / 1000.0);
    } else {
      printf("; a publish fits now");
    }
    if (blocked > 0) {
      printf("; rate-limited by the platform for %.1f s", (blocked - (double)now) / 1000.0);
    }
    printf("\n");
  }
}

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
  cJSON *quotas = NULL;
  int rc = ain_ops_publishers(&cli->ops, action, cli->actor, &p, &err);
  if (rc == 0 && action == AIN_OPS_PUBLISHERS_STATUS) {
    rc = ain_ops_publish_quotas(&cli->ops, cli->actor, &quotas, &err);
  }
  ain_cli_close_store(cli);
  if (rc != 0) {
    return ain_cli_fail(cli, &err);
  }
  if (cli->json) {
    cJSON *o = ain_ops_publishers_json(&p);
    if (quotas != NULL) {
      cJSON_AddItemToObject(o, "quotas", quotas);
    }
    ain_cli_print_json(o);
  } else if (action == AIN_OPS_PUBLISHERS_STATUS) {
    printf("publishers are %s%s; %lld task(s) waiting (parked publish steps and reviews)\n",
           p.paused ? "PAUSED" : "running",
           p.paused && strcmp(p.paused_by, "backlog") == 0 ? " by the review-backlog guard" : "",
           p.waiting);
    print_quotas(quotas);
    cJSON_Delete(quotas);
  } else {
    printf("publishers %s%s\n", p.paused ? "paused" : "resumed", p.changed ? "" : " (already so)");
  }
  return 0;
}
