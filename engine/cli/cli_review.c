/* `ain review list|show|approve|reject`: the human review queue (DESIGN §1, §7).
 *   list [--status pending|approved|rejected|all] [--limit N]   videos sent to review (default
 *        pending; "all" lists every judged video)
 *   show VIDEO_ID          the safety report: checks, confidence, decision, files
 *   approve|reject VIDEO_ID [--reason TEXT] [--reviewer NAME] [--version N]
 * A decision is an OCC update of the review: it expects the review's state_version (the one just
 * read, or --version), so of two reviewers racing on one video one succeeds and the other gets
 * exit 6 (conflict) naming the version it expected and the one it found. Approving returns the
 * parked review_gate task to ready in the same transaction; `ain run` then publishes.
 * Relies on: cli/internal.h, store/store.h (REVIEW_LIST, REVIEW_DECIDE), cJSON. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/internal.h"
#include "core/util.h"

static void json_row(const ain_cli_t *cli, const ain_video_review_t *v, int full) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "video_id", v->video_id ? v->video_id : "");
  if (v->dag_id) {
    cJSON_AddStringToObject(o, "dag_id", v->dag_id);
  }
  if (v->persona_id) {
    cJSON_AddStringToObject(o, "persona_id", v->persona_id);
  }
  cJSON_AddStringToObject(o, "status", v->status ? v->status : "");
  cJSON_AddStringToObject(o, "decision", v->decision ? v->decision : "");
  cJSON_AddNumberToObject(o, "confidence", v->confidence);
  if (v->review_status) {
    cJSON *r = cJSON_AddObjectToObject(o, "review");
    cJSON_AddStringToObject(r, "status", v->review_status);
    cJSON_AddNumberToObject(r, "state_version", (double)v->review_version);
    if (v->reviewer) {
      cJSON_AddStringToObject(r, "reviewer", v->reviewer);
    }
    if (v->reason) {
      cJSON_AddStringToObject(r, "reason", v->reason);
    }
    if (v->decided_at) {
      cJSON_AddNumberToObject(r, "decided_at", (double)v->decided_at);
    }
  }
  cJSON_AddNumberToObject(o, "state_version", (double)v->state_version);
  cJSON_AddNumberToObject(o, "created_at", (double)v->created_at);
  if (full) {
    cJSON *checks = v->checks ? cJSON_Parse(v->checks) : NULL;
    cJSON_AddItemToObject(o, "checks", checks ? checks : cJSON_CreateArray());
    cJSON *report = v->report ? cJSON_Parse(v->report) : NULL;
    cJSON_AddItemToObject(o, "report", report ? report : cJSON_CreateObject());
    char path[4096];
    if (v->video_key) {
      snprintf(path, sizeof path, "%s/objects/%s", cli->cfg.data_dir, v->video_key);
      cJSON_AddStringToObject(o, "video_file", path);
    }
    if (v->thumbnail_key) {
      snprintf(path, sizeof path, "%s/objects/%s", cli->cfg.data_dir, v->thumbnail_key);
      cJSON_AddStringToObject(o, "thumbnail_file", path);
    }
  }
  char *s = cJSON_PrintUnformatted(o);
  fputs(s, stdout);
  free(s);
  cJSON_Delete(o);
}

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
  ain_store_req_t req;
  ain_store_req_review_list(&req, status, NULL, limit);
  req.actor = cli->actor;
  int rc = ain_store_wait(cli->store, &req);
  if (rc != 0) {
    rc = ain_cli_fail(cli, &req.err);
  } else if (cli->json) {
    printf("[");
    for (size_t i = 0; i < req.u.review_list.nrows; i++) {
      printf(i ? "," : "");
      json_row(cli, &req.u.review_list.rows[i], 0);
    }
    printf("]\n");
  } else if (req.u.review_list.nrows == 0) {
    printf("no videos %s%s\n", status ? "with review status " : "judged yet",
           status ? status : "");
  } else {
    printf("%-40s %-14s %-9s %6s %-9s %4s %s\n", "VIDEO", "PERSONA", "STATUS", "CONF", "REVIEW",
           "VER", "REVIEWER");
    for (size_t i = 0; i < req.u.review_list.nrows; i++) {
      const ain_video_review_t *v = &req.u.review_list.rows[i];
      printf("%-40s %-14s %-9s %6.2f %-9s %4lld %s\n", v->video_id, v->persona_id ? v->persona_id : "-",
             v->status ? v->status : "", v->confidence, v->review_status ? v->review_status : "-",
             (long long)v->review_version, v->reviewer ? v->reviewer : "");
    }
  }
  ain_store_req_cleanup(&req);
  return rc;
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

/* Reads one video's row into req (caller cleans up). */
static int read_one(ain_cli_t *cli, const char *video_id, ain_store_req_t *req) {
  ain_store_req_review_list(req, NULL, video_id, 0);
  req->actor = cli->actor;
  return ain_store_wait(cli->store, req);
}

static int do_show(ain_cli_t *cli, const char *video_id) {
  ain_store_req_t req;
  int rc = read_one(cli, video_id, &req);
  if (rc != 0) {
    rc = ain_cli_fail(cli, &req.err);
  } else if (cli->json) {
    json_row(cli, &req.u.review_list.rows[0], 1);
    printf("\n");
  } else {
    print_show(cli, &req.u.review_list.rows[0]);
  }
  ain_store_req_cleanup(&req);
  return rc;
}

static int do_decide(ain_cli_t *cli, const char *video_id, int approve, const char *reason,
                     const char *reviewer, const char *version) {
  ain_err_t err;
  ain_err_clear(&err);
  int64_t expect = -1;
  if (version != NULL) {
    char *end = NULL;
    long long v = strtoll(version, &end, 10);
    if (end == version || *end != '\0' || v < 0) {
      return ain_cli_usage(cli, "--version wants a number >= 0, not '%s'", version);
    }
    expect = v;
  } else { /* the version this reviewer is looking at: the one stored now */
    ain_store_req_t req;
    int rc = read_one(cli, video_id, &req);
    if (rc == 0) {
      const ain_video_review_t *v = &req.u.review_list.rows[0];
      if (v->review_status == NULL) {
        rc = ain_err_field(&err, AIN_ENOTFOUND, "video_id",
                           "video %s was not sent to review (judge: %s)", video_id,
                           v->decision ? v->decision : "?");
      } else if (strcmp(v->review_status, "pending") != 0) {
        rc = ain_err_field(&err, AIN_ECONFLICT, "expect_version",
                           "review of video %s was already decided: %s by %s (version %lld)",
                           video_id, v->review_status, v->reviewer ? v->reviewer : "?",
                           (long long)v->review_version);
      } else {
        expect = v->review_version;
      }
    } else {
      err = req.err;
    }
    ain_store_req_cleanup(&req);
    if (rc != 0) {
      return ain_cli_fail(cli, &err);
    }
  }
  char actor[300];
  snprintf(actor, sizeof actor, "operator:%s", reviewer);
  ain_store_req_t req;
  ain_store_req_review_decide(&req, video_id, expect, approve, reviewer, reason);
  req.actor = actor;
  int rc = ain_store_wait(cli->store, &req);
  if (rc != 0) {
    rc = ain_cli_fail(cli, &req.err);
  } else if (cli->json) {
    printf("{\"ok\":true,\"woke\":%d,\"video\":", req.u.review_decide.woke);
    json_row(cli, &req.u.review_decide.row, 0);
    printf("}\n");
  } else {
    const ain_video_review_t *v = &req.u.review_decide.row;
    printf("video %s %s by %s (review version %lld)%s\n", video_id,
           approve ? "approved" : "rejected", reviewer, (long long)v->review_version,
           req.u.review_decide.woke ? "; its pipeline continues at the next `ain run`" : "");
  }
  ain_store_req_cleanup(&req);
  return rc;
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
