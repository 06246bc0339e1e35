/* `ain scripts list|show|pin|unpin`: the policy versions the store has recorded (every source the
 * script registry ever loaded, rejected ones with their error) and the operator's pins. A running
 * engine applies a pin or unpin within one pin poll (1 s) on every node.
 * Relies on: cli/internal.h, store/store.h (SCRIPT_* ops). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/internal.h"

static void fmt_time(int64_t ms, char *buf, size_t cap) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm);
}

static const char *pin_of(const ain_store_req_t *req, const char *module) {
  for (size_t i = 0; i < req->u.script_list.npins; i++) {
    if (strcmp(req->u.script_list.pins[i].module, module) == 0) {
      return req->u.script_list.pins[i].sha;
    }
  }
  return NULL;
}

static void print_list_json(const ain_store_req_t *req) {
  printf("{\"ok\":true,\"versions\":[");
  for (size_t i = 0; i < req->u.script_list.nversions; i++) {
    const ain_script_version_t *v = &req->u.script_list.versions[i];
    const char *pin = pin_of(req, v->module);
    printf("%s{\"module\":", i ? "," : "");
    ain_cli_json_string(stdout, v->module);
    printf(",\"sha\":\"%s\",\"created_at\":%lld,\"valid\":%s,\"pinned\":%s,\"error\":", v->sha,
           (long long)v->created_at, v->error ? "false" : "true",
           pin && strcmp(pin, v->sha) == 0 ? "true" : "false");
    if (v->error) {
      ain_cli_json_string(stdout, v->error);
    } else {
      printf("null");
    }
    printf("}");
  }
  printf("],\"pins\":[");
  for (size_t i = 0; i < req->u.script_list.npins; i++) {
    printf("%s{\"module\":", i ? "," : "");
    ain_cli_json_string(stdout, req->u.script_list.pins[i].module);
    printf(",\"sha\":\"%s\",\"updated_at\":%lld}", req->u.script_list.pins[i].sha,
           (long long)req->u.script_list.pins[i].updated_at);
  }
  printf("]}\n");
}

/* Newest first per module: the first valid row of a module is what serves unless it is pinned. */
static void print_list(const ain_store_req_t *req) {
  printf("%-26s %-12s  %-19s  %s\n", "MODULE", "VERSION", "RECORDED (UTC)", "STATUS");
  const char *module = "";
  int seen_valid = 0;
  for (size_t i = 0; i < req->u.script_list.nversions; i++) {
    const ain_script_version_t *v = &req->u.script_list.versions[i];
    if (strcmp(v->module, module) != 0) {
      module = v->module;
      seen_valid = 0;
    }
    const char *pin = pin_of(req, v->module);
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
  if (req->u.script_list.nversions == 0) {
    printf("(no versions recorded yet: the engine records them when it loads the policies)\n");
  }
}

static int cmd_list(ain_cli_t *cli) {
  ain_store_req_t req;
  ain_store_req_script_list(&req, cli->nargs > 1 ? cli->args[1] : NULL);
  int rc = ain_cli_wait_or_fail(cli, &req);
  if (rc == 0) {
    if (cli->json) {
      print_list_json(&req);
    } else {
      print_list(&req);
    }
  }
  ain_store_req_cleanup(&req);
  return rc;
}

static int cmd_show(ain_cli_t *cli) {
  if (cli->nargs != 2) {
    return ain_cli_usage(cli, "show expects a SHA%s", NULL);
  }
  ain_store_req_t req;
  ain_store_req_script_get(&req, cli->args[1], NULL);
  int rc = ain_cli_wait_or_fail(cli, &req);
  if (rc == 0) {
    const ain_script_version_t *v = &req.u.script_get.version;
    if (cli->json) {
      printf("{\"ok\":true,\"module\":");
      ain_cli_json_string(stdout, v->module);
      printf(",\"sha\":\"%s\",\"created_at\":%lld,\"error\":", v->sha, (long long)v->created_at);
      if (v->error) {
        ain_cli_json_string(stdout, v->error);
      } else {
        printf("null");
      }
      printf(",\"source\":");
      ain_cli_json_string(stdout, v->source);
      printf("}\n");
    } else {
      fputs(v->source ? v->source : "", stdout);
    }
  }
  ain_store_req_cleanup(&req);
  return rc;
}

static int cmd_pin(ain_cli_t *cli, int pin) {
  if (cli->nargs != (pin ? 3 : 2)) {
    return ain_cli_usage(cli, pin ? "pin expects MODULE SHA%s" : "unpin expects MODULE%s", NULL);
  }
  const char *module = cli->args[1];
  ain_store_req_t req;
  ain_store_req_script_pin(&req, module, pin ? cli->args[2] : NULL);
  int rc = ain_cli_wait_or_fail(cli, &req);
  if (rc == 0) {
    if (cli->json) {
      printf("{\"ok\":true,\"module\":");
      ain_cli_json_string(stdout, module);
      printf(",\"pinned\":%s%s%s,\"changed\":%s}\n", pin ? "\"" : "",
             pin ? req.u.script_pin.pinned : "null", pin ? "\"" : "",
             req.u.script_pin.changed ? "true" : "false");
    } else if (pin) {
      printf("%s pinned to %.12s%s\n", module, req.u.script_pin.pinned,
             req.u.script_pin.changed ? "" : " (already)");
    } else {
      printf("%s %s\n", module,
             req.u.script_pin.changed ? "unpinned: the newest valid version "
                                        "serves"
                                      : "was not pinned");
    }
  }
  ain_store_req_cleanup(&req);
  return rc;
}

int ain_cli_scripts(ain_cli_t *cli) {
  if (cli->nargs < 1) {
    return ain_cli_usage(cli, "expects list, show, pin or unpin%s", NULL);
  }
  const char *sub = cli->args[0];
  if (strcmp(sub, "list") != 0 && strcmp(sub, "show") != 0 && strcmp(sub, "pin") != 0 &&
      strcmp(sub, "unpin") != 0) {
    return ain_cli_usage(cli, "unknown subcommand '%s'", sub);
  }
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_cli_open_store(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  int rc;
  if (strcmp(sub, "list") == 0) {
    rc = cmd_list(cli);
  } else if (strcmp(sub, "show") == 0) {
    rc = cmd_show(cli);
  } else {
    rc = cmd_pin(cli, strcmp(sub, "pin") == 0);
  }
  ain_cli_close_store(cli);
  return rc;
}
