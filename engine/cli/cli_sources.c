/* `ain sources`: the trend sources and their health, from the configuration and the sources
 * table (ops/trend_sources.h): kind, health (ok | failing | backoff | never | unconfigured | file),
 * records handed to the planner, 304s, errors, the last success and the last error.
 * Relies on: cli/internal.h, ops/trend_sources.h. */
#include <stdio.h>
#include <string.h>

#include "cli/internal.h"
#include "ops/trend_sources.h"

static void age(char *buf, size_t cap, int64_t now, int64_t at) {
  if (at <= 0) {
    snprintf(buf, cap, "-");
  } else {
    snprintf(buf, cap, "%.1fs ago", (double)(now - at) / 1000.0);
  }
}

static void print_table(const ain_ops_trend_sources_t *s) {
  if (s->n == 0) {
    printf("no trend sources configured (config keys trends.source and sources)\n");
    return;
  }
  printf("%-16s %-6s %-12s %7s %7s %7s %7s %-12s %s\n", "NAME", "KIND", "HEALTH", "ITEMS",
         "FETCHES", "304S", "ERRORS", "LAST OK", "LAST ERROR");
  for (size_t i = 0; i < s->n; i++) {
    const ain_ops_trend_source_t *x = &s->list[i];
    const ain_source_state_t *r = x->row;
    char ok[32];
    age(ok, sizeof ok, s->now, r ? r->last_success_at : 0);
    char err[300] = "";
    if (r != NULL && r->last_error != NULL && r->failures > 0) {
      char when[32];
      age(when, sizeof when, s->now, r->last_error_at);
      snprintf(err, sizeof err, "%s: %s", when, r->last_error);
      if (r->backoff_until > s->now) {
        size_t l = strlen(err);
        snprintf(err + l, sizeof err - l, " (retry in %.1fs)",
                 (double)(r->backoff_until - s->now) / 1000.0);
      }
    }
    printf("%-16s %-6s %-12s %7lld %7lld %7lld %7lld %-12s %s\n", x->name, x->kind, x->health,
           (long long)(r ? r->items : 0), (long long)(r ? r->fetches : 0),
           (long long)(r ? r->not_modified : 0), (long long)(r ? r->errors : 0), ok, err);
  }
}

int ain_cli_sources(ain_cli_t *cli) {
  ain_err_t err;
  ain_err_clear(&err);
  if (cli->nargs > 0) {
    return ain_cli_usage(cli, "unexpected argument '%s'", cli->args[0]);
  }
  if (ain_cli_open_store(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  ain_ops_trend_sources_t s;
  int rc = ain_ops_trend_sources(&cli->ops, &s, &err);
  ain_cli_close_store(cli);
  if (rc != 0) {
    return ain_cli_fail(cli, &err);
  }
  if (cli->json) {
    ain_cli_print_json(ain_ops_trend_sources_json(&s));
  } else {
    print_table(&s);
  }
  ain_ops_trend_sources_free(&s);
  return 0;
}
