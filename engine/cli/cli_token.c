/* `ain token issue --sub NAME --role ROLE [--ttl 15m]`: mints a bearer token for the operator
 * API from the configured key (api.jwt) and prints it (or {"token","expires_in"} with --json).
 * Relies on: api/api.h (the minting, next to the verification it must pass). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cli/internal.h"
#include "config/api.h"

int ain_cli_token(ain_cli_t *cli) {
  if (cli->nargs < 1 || strcmp(cli->args[0], "issue") != 0) {
    return ain_cli_usage(cli, "expected 'issue', got '%s'", cli->nargs ? cli->args[0] : "");
  }
  const char *sub = NULL, *role = NULL, *ttl = "15m";
  for (int i = 1; i < cli->nargs; i++) {
    const char *a = cli->args[i];
    if (i + 1 >= cli->nargs) {
      return ain_cli_usage(cli, "'%s' needs a value (or is not an option)", a);
    }
    if (strcmp(a, "--sub") == 0) {
      sub = cli->args[++i];
    } else if (strcmp(a, "--role") == 0) {
      role = cli->args[++i];
    } else if (strcmp(a, "--ttl") == 0) {
      ttl = cli->args[++i];
    } else {
      return ain_cli_usage(cli, "unexpected argument '%s'", a);
    }
  }
  if (sub == NULL || role == NULL) {
    return ain_cli_usage(cli, "--sub and --role are required%s", "");
  }
  int64_t ttl_s = ain_duration_s(ttl);
  if (ttl_s < 0) {
    return ain_cli_usage(cli, "--ttl wants a duration like 90s, 15m, 2h, got '%s'", ttl);
  }
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_cli_load_config(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  char *token = NULL;
  if (ain_api_token_issue(&cli->cfg, sub, role, ttl_s, &token, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  if (cli->json) {
    printf("{\"ok\":true,\"token\":\"%s\",\"expires_in\":%lld}\n", token, (long long)ttl_s);
  } else {
    printf("%s\n", token);
  }
  free(token);
  return AIN_EXIT_OK;
}
