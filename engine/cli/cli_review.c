/* `ain review list|show|approve|reject`: the human review queue (DESIGN §1, §7).
 *   list [--status pending|approved|rejected|all] [--limit N]   videos sent to review (default
 *        pending; "all" lists every judged video)
 *   show VIDEO_ID          the safety report: checks, confidence, decision, files
 *   approve|reject VIDEO_ID [--reason TEXT] [--reviewer NAME] [--version N]
 * A decision is an OCC update of the review: it expects the review's state_version (the one just
 * read, or --version), so of two reviewers racing on one video one succeeds and the other gets
 * exit 6 (conflict) naming the version it expected and the one it found. Approving returns the
 * parked review_gate task to ready in the same transaction; `ain run` then publishes.
 * `ain video show VIDEO_ID` prints the same view plus the video's publish receipts and object
 * sizes (ops/video.h, the function of GET /v1/videos/{id}).
 * Relies on: cli/internal.h, ops/review.h, ops/video.h (the operations; this file parses and
 * prints). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/internal.h"
#include "objstore/open.h"
#include "ops/review.h"
#include "ops/video.h"

static const char *opt(const ain_cli_t *cli, const char *name, int *bad) {
  for (int i = 0; i < cli->nargs; i++) {
    if (strcmp(cli->args[i], name) == 0) {
      if (i + 1 >= cli->nargs) {
        *bad = 1;
        return NULL;
      }
      return cli->args[i + 1];
    }
  }
  return NULL;
}

/* The positional arguments (options and their values skipped). */
static int positional(const ain_cli_t *cli, const char **out, int max) {
  int n = 0;
  for (int i = 0; i < cli->nargs; i++) {
    if (strncmp(cli->args[i], "--", 2) == 0) {
      i++; /* every option of this verb takes a value */
      continue;
    }
    if (n == max) {
      return -1;
    }
    out[n++] = cli->args[i];
  }
  return n;
}

static int do_list(ain_cli_t *cli, const char *status, int limit) {
  ain_err_t err;
  ain_err_clear(&err);
  ain_ops_reviews_t r;
  if (ain_ops_review_list(&cli->ops, status, limit, &r, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  if (cli->json) {
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < r.nrows; i++) {
      cJSON_AddItemToArray(arr, ain_ops_review_json(&cli->ops, &r.rows[i], 0));
    }
    ain_cli_print_json(arr);
  } else if (r.nrows == 0) {
    printf("no videos %s%s\n", status ? "with review status " : "judged yet",
           status ? status : "");
  } else {
    printf("%-40s %-14s %-9s %6s %-9s %4s %s\n", "VIDEO", "PERSONA", "STATUS", "CONF", "REVIEW",
           "VER", "REVIEWER");
    for (size_t i = 0; i < r.nrows; i++) {
      const ain_video_review_t *v = &r.rows[i];
      printf("%-40s %-14s %-9s %6.2f %-9s %4lld %s\n", v->video_id, v->persona_id ? v->persona_id : "-",
             v->status ? v->status : "", v->confidence, v->review_status ? v->review_status : "-",
             (long long)v->review_version, v->reviewer ? v->reviewer : "");
    }
  }
  ain_ops_reviews_free(&r);
  return 0;
}

static void print_show(const ain_cli_t *cli, const ain_video_review_t *v) {
  printf("video       %s\n", v->video_id);
  printf("persona     %s\n", v->persona_id ? v->persona_id : "-");
  printf("dag         %s\n", v->dag_id ? v->dag_id : "-");
  printf("status      %s (judge: %s, confidence %.2f)\n", v->status, v->decision, v->confidence);
  if (v->review_status) {
    printf("review      %s, version %lld%s%s%s%s\n", v->review_status, (long long)v->review_version,
           v->reviewer ? " by " : "", v->reviewer ? v->reviewer : "", v->reason ? ": " : "",
           v->reason ? v->reason : "");
  }
  if (v->video_key) {
    printf("file        %s/objects/%s\n", cli->cfg.data_dir, v->video_key);
  }
  if (v->thumbnail_key) {
    printf("thumbnail   %s/objects/%s\n", cli->cfg.data_dir, v->thumbnail_key);
  }
  cJSON *checks = v->checks ? cJSON_Parse(v->checks) : NULL;
  printf("\n%-16s %-6s %5s  %s\n", "CHECK", "PASSED", "SCORE", "DETAIL");
  const cJSON *c;
  cJSON_ArrayForEach(c, checks) {
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
    const cJSON *detail = cJSON_GetObjectItemCaseSensitive(c, "detail");
    const cJSON *score = cJSON_GetObjectItemCaseSensitive(c, "score");
    printf("%-16s %-6s %5.2f  %s\n", cJSON_IsString(name) ? name->valuestring : "?",
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "passed")) ? "yes" : "NO",
           cJSON_IsNumber(score) ? score->valuedouble : 0.0,
           cJSON_IsString(detail) ? detail->valuestring : "");
  }
  cJSON_Delete(checks);
}

static int do_show(ain_cli_t *cli, const char *video_id) {
  ain_err_t err;
  ain_err_clear(&err);
  ain_ops_reviews_t r;
  if (ain_ops_review_get(&cli->ops, video_id, &r, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  if (cli->json) {
    ain_cli_print_json(ain_ops_review_json(&cli->ops, &r.rows[0], 1));
  } else {
    print_show(cli, &r.rows[0]);
  }
  ain_ops_reviews_free(&r);
  return 0;
}

static int do_decide(ain_cli_t *cli, const char *video_id, int approve, const char *reason,
                     const char *reviewer, const char *version) {
  ain_err_t err;
  ain_err_clear(&err);
  ain_ops_decision_t d = {.video_id = video_id, .approve = approve, .reason = reason,
                          .reviewer = reviewer, .expect_version = -1, .actor = cli->actor};
  if (version != NULL) {
    char *end = NULL;
    long long v = strtoll(version, &end, 10);
    if (end == version || *end != '\0' || v < 0) {
      return ain_cli_usage(cli, "--version wants a number >= 0, not '%s'", version);
    }
    d.expect_version = v;
  }
  /* --reviewer NAME decides (and is audited) as operator:NAME; otherwise the operator does */
  char actor[300];
  if (strcmp(reviewer, cli->actor + 9) != 0) {
    snprintf(actor, sizeof actor, "operator:%s", reviewer);
    d.actor = actor;
  }
  ain_ops_reviews_t r;
  if (ain_ops_review_decide(&cli->ops, &d, &r, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  if (cli->json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", 1);
    cJSON_AddNumberToObject(o, "woke", r.woke);
    cJSON_AddItemToObject(o, "video", ain_ops_review_json(&cli->ops, &r.rows[0], 0));
    ain_cli_print_json(o);
  } else {
    printf("video %s %s by %s (review version %lld)%s\n", video_id,
           approve ? "approved" : "rejected", reviewer, (long long)r.rows[0].review_version,
           r.woke ? "; its pipeline continues at the next `ain run`" : "");
  }
  ain_ops_reviews_free(&r);
  return 0;
}

int ain_cli_review(ain_cli_t *cli) {
  ain_err_t err;
  ain_err_clear(&err);
  const char *pos[3];
  int bad = 0;
  int n = positional(cli, pos, 3);
  const char *status = opt(cli, "--status", &bad), *limit_s = opt(cli, "--limit", &bad);
  const char *reason = opt(cli, "--reason", &bad), *reviewer = opt(cli, "--reviewer", &bad);
  const char *version = opt(cli, "--version", &bad);
  for (int i = 0; i < cli->nargs; i++) {
    const char *a = cli->args[i];
    if (strncmp(a, "--", 2) == 0 && strcmp(a, "--status") != 0 && strcmp(a, "--limit") != 0 &&
        strcmp(a, "--reason") != 0 && strcmp(a, "--reviewer") != 0 && strcmp(a, "--version") != 0) {
      return ain_cli_usage(cli, "unknown option '%s'", a);
    }
  }
  if (bad || n < 1) {
    return ain_cli_usage(cli, bad ? "an option lacks its value%s" : "missing subcommand%s", "");
  }
  const char *sub = pos[0];
  int is_list = strcmp(sub, "list") == 0, is_show = strcmp(sub, "show") == 0;
  int approve = strcmp(sub, "approve") == 0, reject = strcmp(sub, "reject") == 0;
  if (!is_list && !is_show && !approve && !reject) {
    return ain_cli_usage(cli, "unknown subcommand '%s' (list, show, approve, reject)", sub);
  }
  if (is_list ? n != 1 : n != 2) {
    return ain_cli_usage(cli, is_list ? "list takes no argument%s" : "%s needs one VIDEO_ID",
                         is_list ? "" : sub);
  }
  int limit = 0;
  if (limit_s != NULL && (limit = atoi(limit_s)) <= 0) {
    return ain_cli_usage(cli, "--limit wants a positive number, not '%s'", limit_s);
  }
  if (status != NULL && strcmp(status, "all") == 0) {
    status = NULL;
  } else if (status == NULL && is_list) {
    status = "pending";
  }
  if (reject && (reason == NULL || reason[0] == '\0')) {
    return ain_cli_usage(cli, "reject needs --reason TEXT%s", "");
  }
  if (reviewer == NULL) {
    reviewer = cli->actor + 9; /* "operator:<name>": --actor, $AIN_ACTOR or the OS user */
  }
  if (ain_cli_open_store(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  int rc;
  if (is_list) {
    rc = do_list(cli, status, limit);
  } else if (is_show) {
    rc = do_show(cli, pos[1]);
  } else {
    rc = do_decide(cli, pos[1], approve, reason, reviewer, version);
  }
  ain_cli_close_store(cli);
  return rc;
}

/* ---- ain video show --------------------------------------------------------------------------- */

static void print_bytes(const char *what, int64_t n) {
  if (n >= 0) {
    printf("%-11s %lld bytes\n", what, (long long)n);
  } else {
    printf("%-11s missing\n", what);
  }
}

int ain_cli_video(ain_cli_t *cli) {
  ain_err_t err;
  ain_err_clear(&err);
  if (cli->nargs != 2 || strcmp(cli->args[0], "show") != 0 || cli->args[1][0] == '-') {
    return ain_cli_usage(cli, "usage: ain video show VIDEO_ID%s", "");
  }
  if (ain_cli_open_store(cli, &err) != 0) { /* loads the config: data_dir */
    return ain_cli_fail(cli, &err);
  }
  ain_objstore_t *objects = NULL;
  if (ain_objstore_open(&cli->cfg, &objects, &err) != 0) {
    ain_cli_close_store(cli);
    return ain_cli_fail(cli, &err);
  }
  ain_ops_video_t v;
  int rc = ain_ops_video_get(&cli->ops, objects, cli->args[1], &v, &err);
  if (rc != 0) {
    rc = ain_cli_fail(cli, &err);
  } else if (cli->json) {
    ain_cli_print_json(ain_ops_video_json(&v));
  } else {
    print_show(cli, v.row);
    printf("\n");
    print_bytes("media", v.media_bytes);
    print_bytes("thumbnail", v.thumbnail_bytes);
    for (size_t i = 0; i < v.nreceipts; i++) {
      char at[40];
      ain_ops_fmt_time(v.receipts[i].created_at, at, sizeof at);
      printf("published   %s on %s at %s\n", at, v.receipts[i].channel,
             v.receipts[i].location ? v.receipts[i].location : "-");
    }
  }
  ain_ops_video_free(&v);
  ain_cli_close_store(cli);
  ain_objstore_close(objects);
  return rc;
}
