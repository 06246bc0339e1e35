/* `ain unpublish`, `ain takedowns` and `ain stats --posts` (issue 14 §5, §6):
 *   unpublish VIDEO [--channel C] --reason TEXT   take the video's posts down (every channel, or
 *             C): the platform's delete call, or a manual takedown raised to the operator
 *   unpublish --pending                           the manual takedowns waiting for a person
 *   takedowns [--all] [--limit N]                 the same (--all: every takedown, done ones too)
 *   takedowns done RECEIPT_ID --reason TEXT       a person took that post down: record it
 *   stats --posts [--persona P] [--topic T] [--channel C] [--since 7d] [--limit N]
 *             the latest pulled metrics of each post, and their totals
 * Writes are audited with the operator as actor (--actor, $AIN_ACTOR or the OS user).
 * Relies on: cli/internal.h, ops/unpublish.h (the operations; this file parses and prints). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/internal.h"
#include "core/util.h"
#include "ops/unpublish.h"

static const char *str_of(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *or_dash(const char *s) {
  return s != NULL && s[0] != '\0' ? s : "-";
}

/* A counter as text: "-" for null (the platform does not report it). */
static const char *count_of(const cJSON *o, const char *k, char *buf, size_t n) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  if (!cJSON_IsNumber(v)) {
    return "-";
  }
  snprintf(buf, n, "%.0f", v->valuedouble);
  return buf;
}

static void print_posts(const cJSON *posts) {
  printf("%-8s %-40s %-12s %-18s %-7s %-20s %s\n", "RECEIPT", "VIDEO", "CHANNEL", "STATE", "METHOD",
         "ACTOR", "REASON");
  const cJSON *p;
  cJSON_ArrayForEach(p, posts) {
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "receipt_id");
    printf("%-8.0f %-40s %-12s %-18s %-7s %-20s %s\n", cJSON_IsNumber(id) ? id->valuedouble : 0,
           or_dash(str_of(p, "video_id")), or_dash(str_of(p, "channel")),
           or_dash(str_of(p, "state")), or_dash(str_of(p, "method")),
           or_dash(str_of(p, "actor")), or_dash(str_of(p, "reason")));
  }
}

static int list_takedowns(ain_cli_t *cli, int pending_only, int limit) {
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_cli_open_store(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  cJSON *out = NULL;
  int rc = ain_ops_takedowns(&cli->ops, pending_only, limit, &out, &err);
  ain_cli_close_store(cli);
  if (rc != 0) {
    return ain_cli_fail(cli, &err);
  }
  const cJSON *posts = cJSON_GetObjectItemCaseSensitive(out, "posts");
  if (cli->json) {
    ain_cli_print_json(out);
    return 0;
  }
  if (cJSON_GetArraySize(posts) == 0) {
    printf("%s\n", pending_only ? "no manual takedown pending" : "no takedowns");
  } else {
    print_posts(posts);
    if (pending_only) {
      printf("take each post down on its platform, then: ain takedowns done RECEIPT --reason "
             "TEXT\n");
    }
  }
  cJSON_Delete(out);
  return 0;
}

static int unpublish(ain_cli_t *cli, const char *video, const char *channel, const char *reason) {
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_cli_open_store(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  ain_ops_unpublish_t u = {
      .video_id = video, .channel = channel, .reason = reason, .actor = cli->actor};
  cJSON *out = NULL;
  int rc = ain_ops_unpublish(&cli->ops, &u, &out, &err);
  ain_cli_close_store(cli);
  if (out != NULL && cli->json && rc == 0) {
    ain_cli_print_json(out);
    return 0;
  }
  if (out != NULL && !cli->json) {
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(out, "posts")) {
      const char *outcome = or_dash(str_of(p, "outcome"));
      const char *e = str_of(p, "error");
      printf("%-12s %-18s%s%s\n", or_dash(str_of(p, "channel")), outcome, e ? "  " : "",
             e ? e : "");
      if (strcmp(outcome, "takedown_required") == 0) {
        printf("  %s has no delete call: take the post down by hand, then run "
               "`ain takedowns done %.0f --reason ...`\n",
               or_dash(str_of(p, "channel")),
               cJSON_GetObjectItemCaseSensitive(p, "receipt_id")->valuedouble);
      }
    }
    printf("video %s: %s\n", video, or_dash(str_of(out, "video_status")));
  }
  cJSON_Delete(out);
  return rc != 0 ? ain_cli_fail(cli, &err) : 0;
}

int ain_cli_unpublish(ain_cli_t *cli) {
  const char *video = NULL, *channel = NULL, *reason = NULL;
  int pending = 0;
  for (int i = 0; i < cli->nargs; i++) {
    const char *a = cli->args[i];
    if (strcmp(a, "--pending") == 0) {
      pending = 1;
    } else if (strcmp(a, "--channel") == 0 || strcmp(a, "--reason") == 0) {
      const char *v = ain_cli_opt_value(cli, &i);
      if (v == NULL) {
        return ain_cli_usage(cli, "option %s needs a value", a);
      }
      *(a[2] == 'c' ? &channel : &reason) = v;
    } else if (strncmp(a, "--", 2) == 0) {
      return ain_cli_usage(cli, "unknown option '%s'", a);
    } else if (video == NULL) {
      video = a;
    } else {
      return ain_cli_usage(cli, "unexpected argument '%s'", a);
    }
  }
  if (pending) {
    if (video != NULL || channel != NULL || reason != NULL) {
      return ain_cli_usage(cli, "--pending takes no video, channel or reason%s", "");
    }
    return list_takedowns(cli, 1, 100);
  }
  if (video == NULL) {
    return ain_cli_usage(cli, "missing VIDEO%s", "");
  }
  if (reason == NULL || reason[0] == '\0') {
    return ain_cli_usage(cli, "--reason TEXT is required (it goes into the audit log)%s", "");
  }
  return unpublish(cli, video, channel, reason);
}

static int takedown_done(ain_cli_t *cli, const char *id, const char *reason) {
  char *end = NULL;
  long long rid = strtoll(id, &end, 10);
  if (end == id || *end != '\0' || rid <= 0) {
    return ain_cli_usage(cli, "RECEIPT_ID must be a positive number, got '%s'", id);
  }
  if (reason == NULL || reason[0] == '\0') {
    return ain_cli_usage(cli, "--reason TEXT is required (it goes into the audit log)%s", "");
  }
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_cli_open_store(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  cJSON *out = NULL;
  int rc = ain_ops_takedown_done(&cli->ops, rid, reason, cli->actor, &out, &err);
  ain_cli_close_store(cli);
  if (rc != 0) {
    return ain_cli_fail(cli, &err);
  }
  if (cli->json) {
    ain_cli_print_json(out);
    return 0;
  }
  printf("receipt %lld: unpublished%s\n", rid,
         cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(out, "changed")) ? "" : " (already so)");
  cJSON_Delete(out);
  return 0;
}

int ain_cli_takedowns(ain_cli_t *cli) {
  int all = 0, limit = 100;
  const char *done = NULL, *reason = NULL;
  for (int i = 0; i < cli->nargs; i++) {
    const char *a = cli->args[i];
    if (strcmp(a, "--all") == 0) {
      all = 1;
    } else if (strcmp(a, "--limit") == 0 || strcmp(a, "--reason") == 0) {
      const char *v = ain_cli_opt_value(cli, &i);
      if (v == NULL) {
        return ain_cli_usage(cli, "option %s needs a value", a);
      }
      if (a[2] == 'r') {
        reason = v;
      } else if (ain_cli_int_arg(cli, "--limit", v, 1, 1000, &limit) != 0) {
        return AIN_EXIT_USAGE;
      }
    } else if (strcmp(a, "done") == 0 && done == NULL && i + 1 < cli->nargs) {
      done = cli->args[++i];
    } else {
      return ain_cli_usage(cli, "unexpected argument '%s'", a);
    }
  }
  if (done != NULL) {
    return takedown_done(cli, done, reason);
  }
  if (reason != NULL) {
    return ain_cli_usage(cli, "--reason goes with `done RECEIPT_ID`%s", "");
  }
  return list_takedowns(cli, !all, limit);
}

/* `ain stats --posts ...` (cli_store.c hands over when it sees --posts). */
int ain_cli_post_stats(ain_cli_t *cli) {
  ain_ops_post_stats_t q = {.limit = 50};
  for (int i = 0; i < cli->nargs; i++) {
    const char *a = cli->args[i];
    if (strcmp(a, "--posts") == 0) {
      continue;
    }
    const char *v = strncmp(a, "--", 2) == 0 ? ain_cli_opt_value(cli, &i) : NULL;
    if (v == NULL) {
      return ain_cli_usage(cli, strncmp(a, "--", 2) == 0 ? "option %s needs a value"
                                                         : "unexpected argument '%s'",
                           a);
    }
    if (strcmp(a, "--persona") == 0) {
      q.persona = v;
    } else if (strcmp(a, "--topic") == 0) {
      q.topic = v;
    } else if (strcmp(a, "--channel") == 0) {
      q.channel = v;
    } else if (strcmp(a, "--since") == 0) {
      int64_t ms = 0;
      if (ain_cli_parse_duration(v, &ms) != 0) {
        return ain_cli_usage(cli, "--since wants a duration (7d, 12h), got '%s'", v);
      }
      q.since_ms = ms > 0 ? ain_now_ms() - ms : 0;
    } else if (strcmp(a, "--limit") == 0) {
      if (ain_cli_int_arg(cli, "--limit", v, 1, 1000, &q.limit) != 0) {
        return AIN_EXIT_USAGE;
      }
    } else {
      return ain_cli_usage(cli, "unknown option '%s'", a);
    }
  }
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_cli_open_store(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  cJSON *out = NULL;
  int rc = ain_ops_post_stats(&cli->ops, &q, &out, &err);
  ain_cli_close_store(cli);
  if (rc != 0) {
    return ain_cli_fail(cli, &err);
  }
  if (cli->json) {
    ain_cli_print_json(out);
    return 0;
  }
  const cJSON *posts = cJSON_GetObjectItemCaseSensitive(out, "posts");
  char b[4][32];
  if (cJSON_GetArraySize(posts) == 0) {
    printf("no post metrics pulled yet (config analytics.interval_s; kinds without metrics, "
           "such as the outbox, report none)\n");
  } else {
    printf("%-40s %-12s %-14s %-24s %10s %8s %8s %8s\n", "VIDEO", "CHANNEL", "PERSONA", "TOPIC",
           "VIEWS", "LIKES", "COMMENTS", "SHARES");
    const cJSON *p;
    cJSON_ArrayForEach(p, posts) {
      printf("%-40s %-12s %-14s %-24.24s %10s %8s %8s %8s\n", or_dash(str_of(p, "video_id")),
             or_dash(str_of(p, "channel")), or_dash(str_of(p, "persona_id")),
             or_dash(str_of(p, "topic")), count_of(p, "views", b[0], 32),
             count_of(p, "likes", b[1], 32), count_of(p, "comments", b[2], 32),
             count_of(p, "shares", b[3], 32));
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(out, "totals");
    printf("%d post(s): views=%s likes=%s comments=%s shares=%s\n", cJSON_GetArraySize(posts),
           count_of(t, "views", b[0], 32), count_of(t, "likes", b[1], 32),
           count_of(t, "comments", b[2], 32), count_of(t, "shares", b[3], 32));
  }
  cJSON_Delete(out);
  return 0;
}
