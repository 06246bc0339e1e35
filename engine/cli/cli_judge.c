/* `ain judge eval FILE.jsonl... [--policy-sha SHA]... [--scripts DIR]` and
 * `ain judge shadow --policy-sha SHA [--policy-sha SHA]... [--since 7d] [--limit N]`: argument
 * parsing and printing only; the work is engine/ops/judge_eval.c and judge_shadow.c, and --json
 * prints their report object as it is.
 * Relies on: cli/internal.h, ops/judge.h, cJSON. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/internal.h"
#include "core/util.h"
#include "ops/judge.h"

static void print_report_json(const cJSON *r) {
  char *s = cJSON_PrintUnformatted(r);
  printf("%s\n", s ? s : "{}");
  free(s);
}

static const char *str(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : "";
}

static double num(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* "[a, b]" of an array of strings. */
static void print_ids(const cJSON *arr) {
  putchar('[');
  for (const cJSON *e = cJSON_IsArray(arr) ? arr->child : NULL; e != NULL; e = e->next) {
    printf("%s%s", e == arr->child ? "" : ", ", cJSON_IsString(e) ? e->valuestring : "?");
  }
  putchar(']');
}

/* One line per finding: category/rule "match" action. */
static void print_findings(const cJSON *findings, const char *indent) {
  if (cJSON_GetArraySize(findings) == 0) {
    printf("%sno finding\n", indent);
  }
  for (const cJSON *f = findings ? findings->child : NULL; f != NULL; f = f->next) {
    printf("%s%s/%s \"%.60s\" %s\n", indent, str(f, "category"), str(f, "rule"), str(f, "match"),
           str(f, "action"));
  }
}

static void print_versions(const cJSON *policies) {
  for (const cJSON *p = policies ? policies->child : NULL; p != NULL; p = p->next) {
    printf("%s%s %.12s", p == policies->child ? "" : ", ", p->string,
           cJSON_IsString(p) ? p->valuestring : "?");
  }
}

static void print_eval(const cJSON *r) {
  const cJSON *judge = cJSON_GetObjectItem(r, "judge");
  printf("judge: files of %s (", str(judge, "scripts_dir"));
  print_versions(cJSON_GetObjectItem(judge, "policies"));
  printf(")\n");
  const cJSON *cand = cJSON_GetObjectItem(judge, "candidates");
  for (const cJSON *c = cand ? cand->child : NULL; c != NULL; c = c->next) {
    printf("candidate: %s %s\n", str(c, "module"), str(c, "sha"));
  }
  const cJSON *rej = cJSON_GetObjectItem(judge, "rejected_files");
  for (const cJSON *e = rej ? rej->child : NULL; e != NULL; e = e->next) {
    printf("left out (rejected as the registry would): %s\n", e->valuestring);
  }
  printf("items: %.0f\n\ndecisions (rows: expected, columns: got)\n", num(r, "items"));
  const cJSON *m = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "confusion"), "matrix");
  printf("  %-8s %8s %8s %8s\n", "", "pass", "review", "reject");
  for (int e = 0; e < AIN_JUDGE_NDECISIONS; e++) {
    const cJSON *row = cJSON_GetArrayItem(m, e);
    printf("  %-8s %8d %8d %8d\n", ain_ops_judge_decision_name(e),
           cJSON_GetArrayItem(row, 0)->valueint, cJSON_GetArrayItem(row, 1)->valueint,
           cJSON_GetArrayItem(row, 2)->valueint);
  }
  printf("\n  %-16s %-7s %7s %6s %9s %7s %9s %5s\n", "category", "action", "support", "found",
         "predicted", "recall", "precision", "bar");
  const cJSON *cats = cJSON_GetObjectItem(r, "categories");
  for (const cJSON *c = cats ? cats->child : NULL; c != NULL; c = c->next) {
    char recall[16] = "-", precision[16] = "-", bar[16] = "-";
    if (num(c, "recall") >= 0) {
      snprintf(recall, sizeof recall, "%.3f", num(c, "recall"));
    }
    if (num(c, "precision") >= 0) {
      snprintf(precision, sizeof precision, "%.3f", num(c, "precision"));
    }
    if (num(c, "bar") >= 0) {
      snprintf(bar, sizeof bar, "%.2f", num(c, "bar"));
    }
    printf("  %-16s %-7s %7.0f %6.0f %9.0f %7s %9s %5s%s\n", str(c, "id"),
           str(c, "action")[0] ? str(c, "action") : "?", num(c, "support"), num(c, "found"),
           num(c, "predicted"), recall, precision, bar,
           cJSON_IsTrue(cJSON_GetObjectItem(c, "below_bar")) ? "  BELOW" : "");
  }
  const cJSON *b = cJSON_GetObjectItem(r, "benign");
  printf("\nbenign wrongly stopped: %.0f/%.0f = %.1f %% (bar <= %.0f %%)\n", num(b, "stopped"),
         num(b, "items"), num(b, "rate") * 100, num(b, "bar") * 100);
  const cJSON *misses = cJSON_GetObjectItem(r, "misses");
  printf("\nmissed items: %d\n", cJSON_GetArraySize(misses));
  for (const cJSON *x = misses ? misses->child : NULL; x != NULL; x = x->next) {
    const cJSON *e = cJSON_GetObjectItem(x, "expected"), *g = cJSON_GetObjectItem(x, "got");
    printf("  %s (%s:%.0f): expected %s ", str(x, "id"), str(x, "file"), num(x, "line"),
           str(e, "decision"));
    print_ids(cJSON_GetObjectItem(e, "categories"));
    printf(", got %s ", str(g, "decision"));
    print_ids(cJSON_GetObjectItem(g, "categories"));
    putchar('\n');
    print_findings(cJSON_GetObjectItem(x, "findings"), "      ");
  }
  const cJSON *bars = cJSON_GetObjectItem(r, "bars");
  if (cJSON_IsTrue(cJSON_GetObjectItem(bars, "ok"))) {
    printf("\nbars: met\n");
  } else {
    printf("\nbars: NOT met\n");
    const cJSON *f = cJSON_GetObjectItem(bars, "failed");
    for (const cJSON *e = f ? f->child : NULL; e != NULL; e = e->next) {
      printf("  %s\n", e->valuestring);
    }
  }
}

static int judge_eval(ain_cli_t *cli) {
  const char **files = calloc((size_t)cli->nargs + 1, sizeof *files);
  const char **shas = calloc((size_t)cli->nargs + 1, sizeof *shas);
  size_t nfiles = 0, nshas = 0;
  const char *scripts = NULL;
  int rc = 0;
  for (int i = 1; rc == 0 && i < cli->nargs; i++) {
    const char *a = cli->args[i];
    if (strcmp(a, "--policy-sha") == 0 || strcmp(a, "--scripts") == 0) {
      if (i + 1 >= cli->nargs) {
        rc = ain_cli_usage(cli, "%s needs a value", a);
      } else if (a[2] == 'p') {
        shas[nshas++] = cli->args[++i];
      } else {
        scripts = cli->args[++i];
      }
    } else if (a[0] == '-' && a[1] != '\0') {
      rc = ain_cli_usage(cli, "unknown option '%s'", a);
    } else {
      files[nfiles++] = a;
    }
  }
  if (rc == 0 && nfiles == 0) {
    rc = ain_cli_usage(cli, "eval expects a FILE.jsonl%s", NULL);
  }
  if (rc != 0) {
    free(files);
    free(shas);
    return rc;
  }
  ain_err_t err;
  ain_err_clear(&err);
  cJSON *report = NULL;
  int opened = 0, looped = 0;
  /* the store only for recorded versions: the current files need none */
  if (nshas > 0) {
    rc = ain_cli_open_store(cli, &err);
    opened = rc == 0;
  } else if ((rc = ain_cli_load_config(cli, &err)) == 0) {
    /* the ops layer without a store: a loop for the policy host and the config */
    rc = uv_loop_init(&cli->loop) == 0 ? 0 : ain_err_set(&err, AIN_EIO, "cannot create a loop");
    looped = rc == 0;
    cli->ops.cfg = &cli->cfg;
    cli->ops.loop = &cli->loop;
    cli->ops.store = NULL;
  }
  if (rc == 0) {
      ain_judge_eval_opts_t o = {.files = files, .nfiles = nfiles, .shas = shas, .nshas = nshas,
                               .scripts_dir = scripts};
    rc = ain_ops_judge_eval(&cli->ops, &o, &report, &err);
  }
  if (rc != 0) {
    /* a bad dataset line is a bad input of this command: exit 2 (docs/cli.md) */
    int code = ain_cli_fail(cli, &err);
    rc = err.code == AIN_ESCHEMA ? AIN_EXIT_USAGE : code;
  } else {
    if (cli->json) {
      print_report_json(report);
    } else {
      print_eval(report);
    }
    rc = cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(report, "bars"), "ok"))
             ? AIN_EXIT_OK
             : AIN_EXIT_FAILURE;
  }
  cJSON_Delete(report);
  if (opened) {
    ain_cli_close_store(cli);
  } else if (looped) {
    uv_run(&cli->loop, UV_RUN_DEFAULT);
    uv_loop_close(&cli->loop);
  }
  free(files);
  free(shas);
  return rc;
}

static void fmt_time(int64_t ms, char *out, size_t n) {
  time_t s = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&s, &tm);
  strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void print_shadow(const cJSON *r, const char *window) {
  char since[32];
  fmt_time((int64_t)num(r, "since_ms"), since, sizeof since);
  printf("candidates:");
  const cJSON *cand = cJSON_GetObjectItem(r, "candidates");
  for (const cJSON *c = cand ? cand->child : NULL; c != NULL; c = c->next) {
    printf(" %s %.12s", str(c, "module"), str(c, "sha"));
  }
  printf("\nre-ran %.0f judge decision(s) recorded since %s (%s)\n", num(r, "decisions"), since,
         window);
  const cJSON *rej = cJSON_GetObjectItem(r, "rejected_files");
  for (const cJSON *e = rej ? rej->child : NULL; e != NULL; e = e->next) {
    printf("left out of the current files (rejected as the registry would): %s\n",
           e->valuestring);
  }
  const cJSON *tr = cJSON_GetObjectItem(r, "transitions");
  printf("\ntransitions:\n");
  for (const cJSON *t = tr ? tr->child : NULL; t != NULL; t = t->next) {
    int same = strcmp(str(t, "from"), str(t, "to")) == 0;
    printf("  %-7s -> %-7s %6.0f%s\n", str(t, "from"), str(t, "to"), num(t, "count"),
           same ? "  (unchanged)" : "");
  }
  if (num(r, "details_changed") > 0) {
    printf("same decision, other fields changed (confidence, findings): %.0f\n",
           num(r, "details_changed"));
  }
  if (num(r, "changed") <= 0 && num(r, "errors") <= 0) {
    printf("\nno decision would change\n");
    return;
  }
  printf("\nchanged: %.0f, could not re-run: %.0f\n", num(r, "changed"), num(r, "errors"));
  const cJSON *items = cJSON_GetObjectItem(r, "items");
  for (const cJSON *x = items ? items->child : NULL; x != NULL; x = x->next) {
    printf("  task %s  dag %s  %s -> %s", str(x, "task_id"), str(x, "dag_id"), str(x, "old"),
           str(x, "new"));
    if (cJSON_GetObjectItem(x, "categories") != NULL) {
      putchar(' ');
      print_ids(cJSON_GetObjectItem(x, "categories"));
    }
    putchar('\n');
    if (str(x, "error")[0]) {
      printf("      %s\n", str(x, "error"));
    } else {
      print_findings(cJSON_GetObjectItem(x, "findings"), "      ");
    }
  }
}

static int judge_shadow(ain_cli_t *cli) {
  const char **shas = calloc((size_t)cli->nargs + 1, sizeof *shas);
  size_t nshas = 0;
  const char *window = "7d";
  int64_t window_ms = 7 * 86400000LL;
  long limit = 1000;
  int rc = 0;
  for (int i = 1; rc == 0 && i < cli->nargs; i++) {
    const char *a = cli->args[i];
    int has_value = i + 1 < cli->nargs;
    if (strcmp(a, "--policy-sha") == 0 && has_value) {
      shas[nshas++] = cli->args[++i];
    } else if (strcmp(a, "--since") == 0 && has_value) {
      window = cli->args[++i];
      if (ain_cli_parse_duration(window, &window_ms) != 0) {
        rc = ain_cli_usage(cli, "--since: '%s' is not a duration (a number and s, m, h, d or w)",
                           window);
      }
    } else if (strcmp(a, "--limit") == 0 && has_value) {
      char *end = NULL;
      limit = strtol(cli->args[++i], &end, 10);
      if (*end != '\0' || limit < 1 || limit > 1000000) {
        rc = ain_cli_usage(cli, "--limit: '%s' is not a number from 1 to 1000000", cli->args[i]);
      }
    } else if (strcmp(a, "--policy-sha") == 0 || strcmp(a, "--since") == 0 ||
               strcmp(a, "--limit") == 0) {
      rc = ain_cli_usage(cli, "%s needs a value", a);
    } else {
      rc = ain_cli_usage(cli, "unexpected argument '%s'", a);
    }
  }
  if (rc == 0 && nshas == 0) {
    rc = ain_cli_usage(cli, "shadow needs --policy-sha SHA (the candidate)%s", NULL);
  }
  if (rc != 0) {
    free(shas);
    return rc;
  }
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_cli_open_store(cli, &err) != 0) {
    free(shas);
    return ain_cli_fail(cli, &err);
  }
  ain_judge_shadow_opts_t o = {.shas = shas, .nshas = nshas,
                               .since_ms = ain_now_ms() - window_ms, .limit = (int)limit};
  cJSON *report = NULL;
  rc = ain_ops_judge_shadow(&cli->ops, &o, &report, &err);
  if (rc != 0) {
    rc = ain_cli_fail(cli, &err);
  } else if (cli->json) {
    print_report_json(report);
  } else {
    print_shadow(report, window);
  }
  cJSON_Delete(report);
  ain_cli_close_store(cli);
  free(shas);
  return rc;
}

int ain_cli_judge(ain_cli_t *cli) {
  const char *sub = cli->nargs > 0 ? cli->args[0] : "";
  if (strcmp(sub, "eval") == 0) {
    return judge_eval(cli);
  }
  if (strcmp(sub, "shadow") == 0) {
    return judge_shadow(cli);
  }
  return ain_cli_usage(cli, "expects eval or shadow, not '%s'", sub);
}
