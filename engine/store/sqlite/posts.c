/* SQLite AIN_STORE_POSTS (store/posts.h): takedowns, flags and post metrics on tables takedowns
 * and post_metrics (sql/sqlite/025_post_after.sql). Answers are built by SQLite's JSON functions
 * so that they have the shape ain_posts_op() gives on Postgres, field for field. Writes (mark,
 * flag, metrics_put) hold the write lock from their first read to the commit, so two operators
 * unpublishing the same post serialise and the second finds it done.
 * Relies on: internal.h (the locked connection, audit rows, video status), cJSON (arguments). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/posts.h"
#include "store/sqlite/internal.h"

#define POST_OBJ                                                                                   \
  "json_object('receipt_id', r.id, 'video_id', r.video_id, 'channel', r.channel, "                 \
  "'idempotency_key', r.idempotency_key, 'location', r.location, 'post_id', coalesce(r.post_id, r.location), "          \
  "'created_at', r.created_at, 'state', coalesce(t.state, 'live'), 'method', t.method, "           \
  "'reason', t.reason, 'actor', t.actor, 'error', t.error, 'updated_at', t.updated_at, "           \
  "'persona_id', v.persona_id, 'topic', p.trend_key)"
#define POST_FROM                                                                                  \
  " FROM publish_receipts r JOIN videos v ON v.id = r.video_id "                                   \
  "LEFT JOIN takedowns t ON t.receipt_id = r.id LEFT JOIN dags d ON d.id = v.dag_id "              \
  "LEFT JOIN planned p ON p.task_id = d.root_task_id "
#define ARRAY_OF(inner) "SELECT json_group_array(json(o)) FROM (" inner ")"

static const char *const SQL_VIDEO =
    "SELECT json_object('id', id, 'status', status, 'persona_id', persona_id, 'dag_id', dag_id) "
    "FROM videos WHERE id = ?1";
static const char *const SQL_RECEIPTS = ARRAY_OF(
    "SELECT " POST_OBJ " AS o" POST_FROM
    "WHERE r.video_id = ?1 AND (?2 IS NULL OR r.channel = ?2) ORDER BY r.created_at, r.id");
static const char *const SQL_TAKEDOWNS = ARRAY_OF(
    "SELECT " POST_OBJ " AS o" POST_FROM "WHERE t.receipt_id IS NOT NULL "
    "AND (?1 IS NULL OR t.state = ?1) ORDER BY t.created_at, r.id LIMIT ?2");
static const char *const SQL_RECENT =
    ARRAY_OF("SELECT " POST_OBJ " AS o" POST_FROM "WHERE r.created_at >= ?1 AND t.receipt_id IS "
             "NULL ORDER BY r.created_at, r.id LIMIT ?2");
static const char *const SQL_METRICS = ARRAY_OF(
    "SELECT json_object('receipt_id', m.receipt_id, 'video_id', r.video_id, 'channel', m.channel, "
    "'post_id', m.post_id, 'persona_id', v.persona_id, 'topic', p.trend_key, "
    "'published_at', r.created_at, 'fetched_at', m.fetched_at, 'views', m.views, "
    "'likes', m.likes, 'comments', m.comments, 'shares', m.shares) AS o "
    "FROM post_metrics m JOIN publish_receipts r ON r.id = m.receipt_id "
    "JOIN videos v ON v.id = r.video_id LEFT JOIN dags d ON d.id = v.dag_id "
    "LEFT JOIN planned p ON p.task_id = d.root_task_id "
    "WHERE m.id = (SELECT m2.id FROM post_metrics m2 WHERE m2.receipt_id = m.receipt_id "
    "ORDER BY m2.fetched_at DESC, m2.id DESC LIMIT 1) "
    "AND (?1 IS NULL OR v.persona_id = ?1) AND (?2 IS NULL OR p.trend_key = ?2) "
    "AND (?3 IS NULL OR m.channel = ?3) AND r.created_at >= ?4 "
    "ORDER BY r.created_at DESC, m.receipt_id DESC LIMIT ?5");
static const char *const SQL_MARK_FIND =
    "SELECT r.video_id, r.channel, v.dag_id, coalesce(t.state, 'live') FROM publish_receipts r "
    "JOIN videos v ON v.id = r.video_id LEFT JOIN takedowns t ON t.receipt_id = r.id "
    "WHERE r.id = ?1";
static const char *const SQL_MARK_PUT =
    "INSERT INTO takedowns (receipt_id, video_id, channel, state, method, reason, actor, error, "
    "state_version, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?9) "
    "ON CONFLICT (receipt_id) DO UPDATE SET state = excluded.state, method = excluded.method, "
    "reason = excluded.reason, actor = excluded.actor, error = excluded.error, "
    "state_version = takedowns.state_version + 1, updated_at = excluded.updated_at "
    "RETURNING state_version";
static const char *const SQL_LEFT_UP =
    "SELECT count(*) FROM publish_receipts r LEFT JOIN takedowns t ON t.receipt_id = r.id "
    "WHERE r.video_id = ?1 AND coalesce(t.state, 'live') <> 'unpublished'";
static const char *const SQL_VIDEO_STATUS = "SELECT status FROM videos WHERE id = ?1";
static const char *const SQL_METRICS_PUT =
    "INSERT INTO post_metrics (receipt_id, channel, post_id, fetched_at, views, likes, comments, "
    "shares) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 "
    "WHERE EXISTS (SELECT 1 FROM publish_receipts WHERE id = ?1)";

static const char *arg_str(const cJSON *a, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t arg_int(const cJSON *a, const char *k, int64_t dflt) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, k);
  return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : dflt;
}

static int answer(ain__sq_ctx_t *c, const char *fmt, const char *a, const char *b) {
  size_t n = strlen(fmt) + strlen(a) + (b ? strlen(b) : 0) + 1;
  char *s = malloc(n);
  if (s == NULL) {
    return ain_err_set(&c->req->err, AIN_ENOMEM, "out of memory");
  }
  snprintf(s, n, fmt, a, b);
  c->req->u.posts.out = s;
  return 0;
}

/* The first column of the first row as text (NULL for none, or SQL NULL); *out caller frees. */
static int one_text(ain__sq_ctx_t *c, sqlite3_stmt *st, const char *what, char **out) {
  *out = NULL;
  int step = sqlite3_step(st);
  if (step == SQLITE_ROW) {
    *out = ain__store_sq_col_dup(st, 0);
    return 0;
  }
  return step == SQLITE_DONE ? 0 : ain__store_sq_fail(c, what);
}

/* Runs a statement answering a JSON array and answers {"<key>": array}. */
static int list(ain__sq_ctx_t *c, sqlite3_stmt *st, const char *key) {
  char *arr = NULL;
  int rc = one_text(c, st, key, &arr);
  if (rc == 0) {
    rc = answer(c, "{\"%s\":%s}", key, arr != NULL ? arr : "[]");
  }
  free(arr);
  return rc;
}

static int receipts(ain__sq_ctx_t *c, const cJSON *a) {
  const char *vid = arg_str(a, "video_id");
  char *video = NULL, *arr = NULL;
  sqlite3_stmt *st = ain__store_sq_prep(c, SQL_VIDEO);
  int rc = st == NULL ? AIN_ESTORE : 0;
  if (rc == 0) {
    ain__store_sq_bind_text(st, 1, vid);
    rc = one_text(c, st, "reading video", &video);
  }
  sqlite3_finalize(st);
  st = NULL;
  if (rc == 0 && video == NULL) {
    rc = ain_err_field(&c->req->err, AIN_ENOTFOUND, "video_id", "video %s not found",
                       vid ? vid : "(none)");
  }
  if (rc == 0 && (st = ain__store_sq_prep(c, SQL_RECEIPTS)) == NULL) {
    rc = AIN_ESTORE;
  }
  if (rc == 0) {
    ain__store_sq_bind_text(st, 1, vid);
    ain__store_sq_bind_text(st, 2, arg_str(a, "channel"));
    rc = one_text(c, st, "listing receipts", &arr);
  }
  if (rc == 0) {
    rc = answer(c, "{\"video\":%s,\"receipts\":%s}", video, arr != NULL ? arr : "[]");
  }
  sqlite3_finalize(st);
  free(video);
  free(arr);
  return rc;
}

static char *mark_detail(const cJSON *a, const char *video, const char *channel, int64_t rid) {
  cJSON *d = cJSON_CreateObject();
  cJSON_AddStringToObject(d, "video_id", video);
  cJSON_AddStringToObject(d, "channel", channel);
  cJSON_AddNumberToObject(d, "receipt_id", (double)rid);
  const char *keys[] = {"reason", "method", "error"};
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
    if (arg_str(a, keys[i]) != NULL) {
      cJSON_AddStringToObject(d, keys[i], arg_str(a, keys[i]));
    }
  }
  char *s = cJSON_PrintUnformatted(d);
  cJSON_Delete(d);
  return s;
}

static int video_status(ain__sq_ctx_t *c, const char *video, char **out) {
  sqlite3_stmt *st = ain__store_sq_prep(c, SQL_VIDEO_STATUS);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, video);
  int rc = one_text(c, st, "reading video status", out);
  sqlite3_finalize(st);
  return rc;
}

static int mark_answer(ain__sq_ctx_t *c, int changed, const char *state, const char *video) {
  char *status = NULL;
  int rc = video_status(c, video, &status);
  if (rc == 0) {
    char buf[160];
    snprintf(buf, sizeof buf, "{\"changed\":%s,\"state\":\"%s\",\"video_status\":\"%%s\"}",
             changed ? "true" : "false", state);
    rc = answer(c, buf, status ? status : "", NULL);
  }
  free(status);
  return rc;
}

static int mark(ain__sq_ctx_t *c, const cJSON *a) {
  int64_t rid = arg_int(a, "receipt_id", 0);
  const char *to = arg_str(a, "state");
  char *video = NULL, *channel = NULL, *dag = NULL, *from = NULL, *det = NULL;
  int changed = 0;
  sqlite3_stmt *st = NULL;
  int rc = ain__store_sq_exec(c, SQ_BEGIN_IMMEDIATE);
  if (rc != 0 || (st = ain__store_sq_prep(c, SQL_MARK_FIND)) == NULL) {
    rc = rc != 0 ? rc : AIN_ESTORE;
    goto done;
  }
  sqlite3_bind_int64(st, 1, rid);
  int step = sqlite3_step(st);
  if (step == SQLITE_DONE) {
    rc = ain_err_field(&c->req->err, AIN_ENOTFOUND, "receipt_id", "no receipt %lld",
                       (long long)rid);
    goto done;
  }
  if (step != SQLITE_ROW) {
    rc = ain__store_sq_fail(c, "reading receipt");
    goto done;
  }
  video = ain__store_sq_col_dup(st, 0);
  channel = ain__store_sq_col_dup(st, 1);
  dag = ain__store_sq_col_dup(st, 2);
  from = ain__store_sq_col_dup(st, 3);
  sqlite3_finalize(st);
  st = NULL;
  if (strcmp(from, to) != 0 && strcmp(from, AIN_POSTS_UNPUBLISHED) != 0) {
    changed = 1;
    if ((st = ain__store_sq_prep(c, SQL_MARK_PUT)) == NULL) {
      rc = AIN_ESTORE;
      goto done;
    }
    sqlite3_bind_int64(st, 1, rid);
    const char *texts[] = {video, channel, to, arg_str(a, "method"), arg_str(a, "reason"),
                           c->actor, arg_str(a, "error")};
    for (int i = 0; i < 7; i++) {
      ain__store_sq_bind_text(st, i + 2, texts[i]);
    }
    sqlite3_bind_int64(st, 9, c->now);
    if (sqlite3_step(st) != SQLITE_ROW) {
      rc = ain__store_sq_fail(c, "writing takedown");
      goto done;
    }
    int64_t ver = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    char f[64], t[64];
    snprintf(f, sizeof f, "post:%s", from);
    snprintf(t, sizeof t, "post:%s", to);
    det = mark_detail(a, video, channel, rid);
    if ((rc = ain__store_sq_audit(c, NULL, dag, f, t, ver, det, NULL)) != 0) {
      goto done;
    }
    if ((st = ain__store_sq_prep(c, SQL_LEFT_UP)) == NULL) {
      rc = AIN_ESTORE;
      goto done;
    }
    ain__store_sq_bind_text(st, 1, video);
    if (sqlite3_step(st) != SQLITE_ROW) {
      rc = ain__store_sq_fail(c, "counting live receipts");
      goto done;
    }
    if (sqlite3_column_int64(st, 0) == 0 &&
        (rc = ain__store_sq_video_status(c, video, AIN_POSTS_UNPUBLISHED, det)) != 0) {
      goto done;
    }
  }
  if ((rc = mark_answer(c, changed, changed ? to : from, video)) == 0) {
    rc = ain__store_sq_exec(c, SQ_COMMIT);
  }
done:
  sqlite3_finalize(st);
  free(video);
  free(channel);
  free(dag);
  free(from);
  free(det);
  return rc;
}

static int flag(ain__sq_ctx_t *c, const cJSON *a) {
  const char *vid = arg_str(a, "video_id");
  char *before = NULL, *det = NULL;
  int rc = ain__store_sq_exec(c, SQ_BEGIN_IMMEDIATE);
  if (rc == 0) {
    rc = video_status(c, vid, &before);
  }
  if (rc == 0 && before == NULL) {
    rc = ain_err_field(&c->req->err, AIN_ENOTFOUND, "video_id", "video %s not found",
                       vid ? vid : "(none)");
  }
  if (rc == 0) {
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "video_id", vid);
    if (arg_str(a, "channel") != NULL) {
      cJSON_AddStringToObject(d, "channel", arg_str(a, "channel"));
    }
    cJSON_AddStringToObject(d, "reason", arg_str(a, "reason") ? arg_str(a, "reason") : "");
    det = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    rc = ain__store_sq_video_status(c, vid, "flagged", det);
  }
  if (rc == 0) {
    rc = answer(c, "{\"changed\":%s,\"video_status\":\"flagged\"%s}",
                strcmp(before, "flagged") != 0 ? "true" : "false", "");
  }
  if (rc == 0) {
    rc = ain__store_sq_exec(c, SQ_COMMIT);
  }
  free(before);
  free(det);
  return rc;
}

static int metrics_put(ain__sq_ctx_t *c, const cJSON *a) {
  const cJSON *rows = cJSON_GetObjectItemCaseSensitive(a, "rows");
  int inserted = 0;
  sqlite3_stmt *st = NULL;
  int rc = ain__store_sq_exec(c, SQ_BEGIN_IMMEDIATE);
  if (rc != 0 || (st = ain__store_sq_prep(c, SQL_METRICS_PUT)) == NULL) {
    rc = rc != 0 ? rc : AIN_ESTORE;
    goto done;
  }
  const cJSON *r;
  cJSON_ArrayForEach(r, rows) {
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, arg_int(r, "receipt_id", 0));
    ain__store_sq_bind_text(st, 2, arg_str(r, "channel") ? arg_str(r, "channel") : "");
    ain__store_sq_bind_text(st, 3, arg_str(r, "post_id") ? arg_str(r, "post_id") : "");
    sqlite3_bind_int64(st, 4, c->now);
    const char *keys[] = {"views", "likes", "comments", "shares"};
    for (int i = 0; i < 4; i++) {
      const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, keys[i]);
      if (cJSON_IsNumber(v)) {
        sqlite3_bind_int64(st, 5 + i, (int64_t)v->valuedouble);
      } else {
        sqlite3_bind_null(st, 5 + i);
      }
    }
    if (sqlite3_step(st) != SQLITE_DONE) {
      rc = ain__store_sq_fail(c, "inserting post metrics");
      goto done;
    }
    inserted += sqlite3_changes(c->db->conn);
  }
  char n[32];
  snprintf(n, sizeof n, "%d", inserted);
  if ((rc = answer(c, "{\"inserted\":%s%s}", n, "")) == 0) {
    rc = ain__store_sq_exec(c, SQ_COMMIT);
  }
done:
  sqlite3_finalize(st);
  return rc;
}

static int limit_of(const cJSON *a, int dflt) {
  int64_t n = arg_int(a, "limit", dflt);
  return n >= 1 && n <= 1000 ? (int)n : dflt;
}

int ain__store_sq_posts(ain__sq_ctx_t *c) {
  const char *action = c->req->u.posts.action;
  cJSON *a = cJSON_Parse(c->req->u.posts.args);
  if (!cJSON_IsObject(a)) {
    cJSON_Delete(a);
    return ain_err_field(&c->req->err, AIN_EINVAL, "args", "posts %s: args are not a JSON object",
                         action);
  }
  int rc;
  sqlite3_stmt *st = NULL;
  if (strcmp(action, "receipts") == 0) {
    rc = receipts(c, a);
  } else if (strcmp(action, "mark") == 0) {
    rc = mark(c, a);
  } else if (strcmp(action, "flag") == 0) {
    rc = flag(c, a);
  } else if (strcmp(action, "metrics_put") == 0) {
    rc = metrics_put(c, a);
  } else if (strcmp(action, "takedowns") == 0) {
    if ((st = ain__store_sq_prep(c, SQL_TAKEDOWNS)) == NULL) {
      rc = AIN_ESTORE;
    } else {
      ain__store_sq_bind_text(st, 1, arg_str(a, "state"));
      sqlite3_bind_int(st, 2, limit_of(a, 100));
      rc = list(c, st, "posts");
    }
  } else if (strcmp(action, "recent") == 0) {
    if ((st = ain__store_sq_prep(c, SQL_RECENT)) == NULL) {
      rc = AIN_ESTORE;
    } else {
      sqlite3_bind_int64(st, 1, arg_int(a, "since", 0));
      sqlite3_bind_int(st, 2, limit_of(a, 1000));
      rc = list(c, st, "posts");
    }
  } else { /* metrics */
    if ((st = ain__store_sq_prep(c, SQL_METRICS)) == NULL) {
      rc = AIN_ESTORE;
    } else {
      ain__store_sq_bind_text(st, 1, arg_str(a, "persona"));
      ain__store_sq_bind_text(st, 2, arg_str(a, "topic"));
      ain__store_sq_bind_text(st, 3, arg_str(a, "channel"));
      sqlite3_bind_int64(st, 4, arg_int(a, "since", 0));
      sqlite3_bind_int(st, 5, limit_of(a, 1000));
      rc = list(c, st, "posts");
    }
  }
  sqlite3_finalize(st);
  cJSON_Delete(a);
  return rc;
}
