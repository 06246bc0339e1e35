/* `ain scripts list|show|pin|unpin`: the policy versions the store has recorded (every source the
 * script registry ever loaded, rejected ones with their error) and the operator's pins. A running
 * engine applies a pin or unpin within one pin poll (1 s) on every node.
 * Relies on: cli/internal.h, ops/admin.h (the operations; this file parses and prints). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/internal.h"
#include "ops/admin.h"

static void fmt_time(int64_t ms, char *buf, size_t cap) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm);
}

/* Newest first per module: the first valid row of a module is what serves unless it is pinned. */
static void print_list(const ain_ops_scripts_t *s) {
  printf("%-26s %-12s  %-19s  %s\n", "MODULE", "VERSION", "RECORDED (UTC)", "STATUS");
  const char *module = "";
  int seen_valid = 0;
  for (size_t i = 0; i < s->nversions; i++) {
    const ain_script_version_t *v = &s->versions[i];
    if (strcmp(v->module, module) != 0) {
      module = v->module;
      seen_valid = 0;
    }
    const char *pin = ain_ops_scripts_pin_of(s, v->module);
    char ts[40];
    fmt_time(v->created_at, ts, sizeof ts);
    char status[64] = "";
    if (v->error) {
      snprintf(status, sizeof status, "rejected");
    } else {
      snprintf(status, sizeof status, "valid%s%s", seen_valid ? "" : ", newest",
               pin && strcmp(pin, v->sha) == 0 ? ", PINNED" : "");
      seen_valid = 1;
    }
    printf("%-26s %.12s  %-19s  %s%s%s\n", v->module, v->sha, ts, status, v->error ? ": " : "",
           v->error ? v->error : "");
  }
  if (s->nversions == 0) {
    printf("(no versions recorded yet: the engine records them when it loads the policies)\n");
  }
}

static int cmd_list(ain_cli_t *cli, ain_err_t *err) {
  ain_ops_scripts_t s;
  int rc = ain_ops_scripts_list(&cli->ops, cli->nargs > 1 ? cli->args[1] : NULL, &s, err);
  if (rc != 0) {
    return rc;
  }
  if (cli->json) {
    ain_cli_print_json(ain_ops_scripts_json(&s));
  } else {
    print_list(&s);
  }
  ain_ops_scripts_free(&s);
  return 0;
}

static int cmd_show(ain_cli_t *cli, ain_err_t *err) {
  ain_ops_script_t s;
  int rc = ain_ops_script_get(&cli->ops, cli->args[1], &s, err);
  if (rc != 0) {
    return rc;
  }
  if (cli->json) {
    ain_cli_print_json(ain_ops_script_json(&s));
  } else {
    fputs(s.version->source ? s.version->source : "", stdout);
  }
  ain_ops_script_free(&s);
  return 0;
}

static int cmd_pin(ain_cli_t *cli, int pin, ain_err_t *err) {
  const char *module = cli->args[1];
  char pinned[65];
  int changed = 0;
  int rc = ain_ops_script_pin(&cli->ops, module, pin ? cli->args[2] : NULL, cli->actor, pinned,
                              &changed, err);
  if (rc != 0) {
    return rc;
  }
  if (cli->json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", 1);
    cJSON_AddStringToObject(o, "module", module);
    if (pin) {
      cJSON_AddStringToObject(o, "pinned", pinned);
    } else {
      cJSON_AddNullToObject(o, "pinned");
    }
    cJSON_AddBoolToObject(o, "changed", changed);
    ain_cli_print_json(o);
  } else if (pin) {
    printf("%s pinned to %.12s%s\n", module, pinned, changed ? "" : " (already)");
  } else {
    printf("%s %s\n", module,
           changed ? "unpinned: the newest valid version serves" : "was not pinned");
  }
  return 0;
}

int ain_cli_scripts(ain_cli_t *cli) {
  if (cli->nargs < 1) {
    return ain_cli_usage(cli, "expects list, show, pin or unpin%s", NULL);
  }
  const char *sub = cli->args[0];
  int list = strcmp(sub, "list") == 0, show = strcmp(sub, "show") == 0;
  int pin = strcmp(sub, "pin") == 0, unpin = strcmp(sub, "unpin") == 0;
  if (!list && !show && !pin && !unpin) {
    return ain_cli_usage(cli, "unknown subcommand '%s'", sub);
  }
  if (show && cli->nargs != 2) {
    return ain_cli_usage(cli, "show expects a SHA%s", NULL);
  }
  if ((pin || unpin) && cli->nargs != (pin ? 3 : 2)) {
    return ain_cli_usage(cli, pin ? "pin expects MODULE SHA%s" : "unpin expects MODULE%s", NULL);
  }
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_cli_open_store(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  int rc = list ? cmd_list(cli, &err) : show ? cmd_show(cli, &err) : cmd_pin(cli, pin, &err);
  ain_cli_close_store(cli);
  return rc != 0 ? ain_cli_fail(cli, &err) : 0;
}
