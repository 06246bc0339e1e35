/* `ain events [--after ID] [--types T,...] [--follow]`: the state-change events of GET /v1/events
 * as JSON lines ({"id","event","data"}), from the same ops functions (ops/events.h). Without
 * --follow it prints the events after ID (default 0: the whole audit log) and exits; with
 * --follow it starts after ID (default: now) and keeps polling every api.events_poll_ms, node
 * events included, until interrupted.
 * Relies on: cli/internal.h, ops/events.h. */
#include <stdlib.h>
#include <string.h>

#include "cli/internal.h"
#include "ops/events.h"

static void print_events(const ain_ops_events_t *e, unsigned mask) {
  for (size_t i = 0; i < e->n; i++) {
    const ain_ops_event_t *ev = &e->v[i];
    if ((ev->type & mask) == 0) {
      continue;
    }
    if (ev->id > 0) {
      printf("{\"id\":%lld,", (long long)ev->id);
    } else {
      printf("{\"id\":null,");
    }
    printf("\"event\":\"%s\",%s\"data\":%s}\n", ain_ops_event_type_name(ev->type),
           ev->late ? "\"late\":true," : "", ev->data);
  }
  fflush(stdout);
}

int ain_cli_events(ain_cli_t *cli) {
  long long after = -1;
  unsigned mask = AIN_OPS_EV_ALL;
  int follow = 0;
  ain_err_t err;
  ain_err_clear(&err);
  for (int i = 0; i < cli->nargs; i++) {
    const char *a = cli->args[i];
    if (strcmp(a, "--follow") == 0 || strcmp(a, "-f") == 0) {
      follow = 1;
    } else if ((strcmp(a, "--after") == 0 || strcmp(a, "--types") == 0) && i + 1 < cli->nargs) {
      const char *v = cli->args[++i];
      if (a[2] == 'a') {
        char *end;
        after = strtoll(v, &end, 10);
        if (*v == '\0' || *end != '\0' || after < 0) {
          return ain_cli_usage(cli, "--after must be an event id (an integer >= 0), got '%s'", v);
        }
      } else if (ain_ops_event_types_parse(v, "types", &mask, &err) != 0) {
        return ain_cli_usage(cli, "%s", err.msg);
      }
    } else {
      return ain_cli_usage(cli, "unexpected argument '%s'", a);
    }
  }
  if (ain_cli_open_store(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  int rc = 0;
  if (!follow) {
    ain_ops_events_t e = {0};
    int64_t from = after < 0 ? 0 : after;
    do {
      ain_ops_events_free(&e);
      if ((rc = ain_ops_events_read(&cli->ops, from, 0, 1000, &e, &err)) != 0) {
        break;
      }
      print_events(&e, mask);
      from = e.last_id;
    } while (e.more);
    ain_ops_events_free(&e);
  } else {
    ain_ops_tail_t t;
    ain_ops_tail_init(&t, after);
    for (;;) {
      ain_ops_events_t e = {0};
      rc = ain_ops_tail_poll(&cli->ops, &t, (mask & AIN_OPS_EV_NODE) != 0, &e, &err);
      if (rc == 0) {
        print_events(&e, mask);
      }
      int more = e.more;
      ain_ops_events_free(&e);
      if (rc != 0) {
        break;
      }
      if (!more) {
        uv_sleep((unsigned)cli->cfg.api.events_poll_ms);
      }
    }
    ain_ops_tail_free(&t);
  }
  ain_cli_close_store(cli);
  return rc != 0 ? ain_cli_fail(cli, &err) : 0;
}
