/* ain similar TEXT [--kind K] [--k N] [--json]: the items of a kind (trends by default: each
 * planned trend is one video) nearest to TEXT, through ops/similar.h, the same search as
 * GET /v1/similar. Relies on: internal.h, ops/similar.h. */
#include <stdio.h>
#include <string.h>

#include "cli/internal.h"
#include "ops/similar.h"

int ain_cli_similar(ain_cli_t *cli) {
  ain_err_t err;
  ain_err_clear(&err);
  const char *text = NULL, *kind = "trend";
  int k = 10;
  for (int i = 0; i < cli->nargs; i++) {
    const char *a = cli->args[i];
    if (strcmp(a, "--kind") == 0) {
      if ((kind = ain_cli_opt_value(cli, &i)) == NULL) {
        return ain_cli_usage(cli, "--kind needs a value%s", "");
      }
    } else if (strcmp(a, "--k") == 0) {
      int rc = ain_cli_int_arg(cli, a, ain_cli_opt_value(cli, &i), 1, 1000, &k);
      if (rc != 0) {
        return rc;
      }
    } else if (a[0] == '-' && a[1] != '\0') {
      return ain_cli_usage(cli, "unknown option %s", a);
    } else if (text != NULL) {
      return ain_cli_usage(cli, "one TEXT only (quote it): unexpected %s", a);
    } else {
      text = a;
    }
  }
  if (text == NULL) {
    return ain_cli_usage(cli, "usage: ain similar TEXT [--kind K] [--k N]%s", "");
  }
  if (ain_cli_open_store(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  ain_ops_similar_t s;
  int rc = ain_ops_similar(&cli->ops, text, kind, k, &s, &err);
  if (rc != 0) {
    rc = ain_cli_fail(cli, &err);
  } else if (cli->json) {
    ain_cli_print_json(ain_ops_similar_json(&s));
  } else {
    cJSON *o = ain_ops_similar_json(&s);
    const cJSON *r;
    printf("%-7s %-40s %s\n", "SCORE", "ID", "LABEL");
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(o, "results")) {
      printf("%-7.4f %-40s %s\n", cJSON_GetObjectItemCaseSensitive(r, "score")->valuedouble,
             cJSON_GetObjectItemCaseSensitive(r, "id")->valuestring,
             cJSON_GetObjectItemCaseSensitive(r, "label")->valuestring);
    }
    if (s.nresults == 0) {
      printf("(no %s vectors under model %s yet)\n", s.kind, s.model);
    }
    cJSON_Delete(o);
  }
  ain_ops_similar_free(&s);
  ain_cli_close_store(cli);
  return rc;
}
