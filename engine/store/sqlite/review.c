/* SQLite review/publish ops: VIDEO_JUDGED (video + safety report + pending review, once per
 * video), REVIEW_LIST, REVIEW_DECIDE (OCC on the review's state_version; wakes the parked gate
 * task in the same transaction), RECEIPT_PUT (one receipt per idempotency key; marks the video
 * published) and SETTING (resuming publishers wakes parked publish tasks). Every video, review and
 * task transition writes an audit row in its transaction; video and review rows are audited at
 * DAG level with statuses named "video:<status>" / "review:<status>" and the video id in detail.
 * Statements are prepared per request (as kv.c): a few calls per video, and the SQL stays here.
 * Relies on: internal.h (sqlite3, the locked connection), cJSON (audit details). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/internal.h"

#define ROW_COLS                                                                                   \
  "v.id, v.dag_id, v.task_id, v.persona_id, v.status, v.decision, v.confidence, s.checks, "        \
  "s.report, v.video_key, v.thumbnail_key, v.state_version, v.created_at, v.updated_at, "          \
  "r.status, r.reviewer, r.reason, r.state_version, r.decided_at"
#define ROW_FROM                                                                                   \
  " FROM videos v LEFT JOIN safety_reports s ON s.video_id = v.id "                                \
  "LEFT JOIN reviews r ON r.video_id = v.id "

static const char *const SQL_ROW = "SELECT " ROW_COLS ROW_FROM "WHERE v.id = ?1";
static const char *const SQL_LIST = "SELECT " ROW_COLS ROW_FROM
                                    "WHERE (?1 IS NULL OR r.status = ?1) AND (?2 IS NULL OR v.id = ?2) "
                                    "ORDER BY v.created_at, v.id LIMIT ?3";
static const char *const SQL_INS_VIDEO =
    "INSERT INTO videos (id, dag_id, task_id, persona_id, status, decision, confidence, video_key, "
    "thumbnail_key, state_version, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, ?10, ?10) ON CONFLICT (id) DO NOTHING "
    "RETURNING state_version";
static const char *const SQL_INS_REPORT =
    "INSERT INTO safety_reports (video_id, decision, confidence, checks, report, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char *const SQL_INS_REVIEW =
    "INSERT INTO reviews (video_id, task_id, dag_id, status, state_version, created_at, "
    "updated_at) VALUES (?1, ?2, ?3, 'pending', 0, ?4, ?4)";
static const char *const SQL_DECIDE =
    "UPDATE reviews SET status = ?3, reviewer = ?4, reason = ?5, state_version = state_version + 1, "
    "updated_at = ?6, decided_at = ?6 WHERE video_id = ?1 AND state_version = ?2 "
    "AND status = 'pending' RETURNING state_version, task_id, dag_id";
static const char *const SQL_REVIEW_NOW =
    "SELECT status, state_version, reviewer FROM reviews WHERE video_id = ?1";
static const char *const SQL_VIDEO_STATUS =
    "UPDATE videos SET status = ?2, state_version = state_version + 1, updated_at = ?3 "
    "WHERE id = ?1 AND status <> ?2 RETURNING state_version, dag_id";
static const char *const SQL_VIDEO_OLD = "SELECT status FROM videos WHERE id = ?1";
static const char *const SQL_WAKE_TASK =
    "UPDATE tasks SET status = 'ready', state_version = state_version + 1, updated_at = ?2 "
    "WHERE id = ?1 AND status = 'waiting' RETURNING id, dag_id, state_version";
static const char *const SQL_WAKE_PUBLISH =
    "UPDATE tasks SET status = 'ready', state_version = state_version + 1, updated_at = ?1 "
    "WHERE status = 'waiting' AND handler = 'publish' RETURNING id, dag_id, state_version";
static const char *const SQL_INS_RECEIPT =
    "INSERT INTO publish_receipts (video_id, channel, idempotency_key, location, task_id, "
    "state_version, created_at, post_id, url) VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?8) "
    "ON CONFLICT DO NOTHING RETURNING id";
static const char *const SQL_RECEIPT =
    "SELECT id, video_id, channel, idempotency_key, location, task_id, state_version, created_at, "
    "post_id, url FROM publish_receipts WHERE idempotency_key = ?1";
static const char *const SQL_RECEIPTS_OF =
    "SELECT id, video_id, channel, idempotency_key, location, task_id, state_version, created_at, "
    "post_id, url FROM publish_receipts WHERE video_id = ?1 ORDER BY created_at, id";
static const char *const SQL_SETTING_GET =
    "SELECT value, state_version FROM settings WHERE key = ?1";
static const char *const SQL_SETTING_PUT =
    "INSERT INTO settings (key, value, state_version, updated_at) VALUES (?1, ?2, 1, ?3) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
    "state_version = settings.state_version + 1, updated_at = excluded.updated_at "
    "WHERE settings.value IS NOT excluded.value RETURNING state_version";

static int prepare(ain__sq_ctx_t *c, const char *sql, sqlite3_stmt **st) {
  if (sqlite3_prepare_v2(c->db->conn, sql, -1, st, NULL) != SQLITE_OK) {
    /* "no such table: videos" on a store that was not migrated names itself here */
    return ain__store_sq_fail(c, "preparing review statement");
  }
  return 0;
}

static void read_row(sqlite3_stmt *st, ain_video_review_t *v) {
  memset(v, 0, sizeof *v);
  v->video_id = ain__store_sq_col_dup(st, 0);
  v->dag_id = ain__store_sq_col_dup(st, 1);
  v->task_id = ain__store_sq_col_dup(st, 2);
  v->persona_id = ain__store_sq_col_dup(st, 3);
  v->status = ain__store_sq_col_dup(st, 4);
  v->decision = ain__store_sq_col_dup(st, 5);
  v->confidence = sqlite3_column_double(st, 6);
  v->checks = ain__store_sq_col_dup(st, 7);
  v->report = ain__store_sq_col_dup(st, 8);
  v->video_key = ain__store_sq_col_dup(st, 9);
  v->thumbnail_key = ain__store_sq_col_dup(st, 10);
  v->state_version = sqlite3_column_int64(st, 11);
  v->created_at = sqlite3_column_int64(st, 12);
  v->updated_at = sqlite3_column_int64(st, 13);
  v->review_status = ain__store_sq_col_dup(st, 14);
  v->reviewer = ain__store_sq_col_dup(st, 15);
  v->reason = ain__store_sq_col_dup(st, 16);
  v->review_version = sqlite3_column_int64(st, 17);
  v->decided_at = sqlite3_column_int64(st, 18);
}

/* The video's row into *out; AIN_ENOTFOUND if there is none. */
static int get_row(ain__sq_ctx_t *c, const char *video_id, ain_video_review_t *out) {
  sqlite3_stmt *st = NULL;
  int rc = prepare(c, SQL_ROW, &st);
  if (rc != 0) {
    goto done;
  }
  ain__store_sq_bind_text(st, 1, video_id);
  int step = sqlite3_step(st);
  if (step == SQLITE_ROW) {
    read_row(st, out);
  } else if (step == SQLITE_DONE) {
    rc = ain_err_field(&c->req->err, AIN_ENOTFOUND, "video_id", "video %s not found", video_id);
  } else {
    rc = ain__store_sq_fail(c, "reading video");
  }
done:
  sqlite3_finalize(st);
  return rc;
}

/* Audit detail {"video_id": id, k1: v1, k2: v2} (NULL values left out); caller frees. */
static char *detail(const char *video_id, const char *k1, const char *v1, const char *k2,
                    const char *v2) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "video_id", video_id);
  if (k1 != NULL && v1 != NULL) {
    cJSON_AddStringToObject(o, k1, v1);
  }
  if (k2 != NULL && v2 != NULL) {
    cJSON_AddStringToObject(o, k2, v2);
  }
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return s;
}

static int audit_entity(ain__sq_ctx_t *c, const char *dag_id, const char *kind, const char *from,
                        const char *to, int64_t version, const char *det) {
  char f[64], t[64];
  snprintf(f, sizeof f, "%s:%s", kind, from != NULL ? from : "");
  snprintf(t, sizeof t, "%s:%s", kind, to);
  return ain__store_sq_audit(c, NULL, dag_id, from != NULL ? f : NULL, t, version, det, NULL);
}

/* ---- VIDEO_JUDGED ----------------------------------------------------------------------------- */

static const char *video_status_for(const char *decision) {
  if (strcmp(decision, "pass") == 0) {
    return "passed";
  }
  return strcmp(decision, "review") == 0 ? "in_review" : "rejected";
}

static int judged(ain__sq_ctx_t *c) {
  const ain_video_review_t *in = c->req->u.video_judged.in;
  const char *status = video_status_for(in->decision);
  sqlite3_stmt *st = NULL;
  char *det = NULL;
  int rc = ain__store_sq_exec(c, SQ_BEGIN_IMMEDIATE);
  if (rc != 0 || (rc = prepare(c, SQL_INS_VIDEO, &st)) != 0) {
    goto done;
  }
  const char *texts[] = {in->video_id, in->dag_id,   in->task_id,  in->persona_id,
                         status,       in->decision};
  for (int i = 0; i < 6; i++) {
    ain__store_sq_bind_text(st, i + 1, texts[i] != NULL && texts[i][0] ? texts[i] : NULL);
  }
  sqlite3_bind_double(st, 7, in->confidence);
  ain__store_sq_bind_text(st, 8, in->video_key);
  ain__store_sq_bind_text(st, 9, in->thumbnail_key);
  sqlite3_bind_int64(st, 10, c->now);
  int step = sqlite3_step(st);
  if (step != SQLITE_ROW && step != SQLITE_DONE) {
    rc = ain__store_sq_fail(c, "inserting video");
    goto done;
  }
  sqlite3_finalize(st);
  st = NULL;
  if (step == SQLITE_ROW) { /* new: its report, its review, their audit rows */
    char conf[32];
    snprintf(conf, sizeof conf, "%.4f", in->confidence);
    det = detail(in->video_id, "decision", in->decision, "confidence", conf);
    if ((rc = audit_entity(c, in->dag_id, "video", NULL, status, 0, det)) != 0 ||
        (rc = prepare(c, SQL_INS_REPORT, &st)) != 0) {
      goto done;
    }
    ain__store_sq_bind_text(st, 1, in->video_id);
    ain__store_sq_bind_text(st, 2, in->decision);
    sqlite3_bind_double(st, 3, in->confidence);
    ain__store_sq_bind_text(st, 4, in->checks);
    ain__store_sq_bind_text(st, 5, in->report);
    sqlite3_bind_int64(st, 6, c->now);
    if ((rc = ain__store_sq_run(c, st, "inserting safety report")) != 0) {
      goto done;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (strcmp(in->decision, "review") == 0) {
      if ((rc = prepare(c, SQL_INS_REVIEW, &st)) != 0) {
        goto done;
      }
      ain__store_sq_bind_text(st, 1, in->video_id);
      ain__store_sq_bind_text(st, 2, in->task_id);
      ain__store_sq_bind_text(st, 3, in->dag_id != NULL && in->dag_id[0] ? in->dag_id : NULL);
      sqlite3_bind_int64(st, 4, c->now);
      if ((rc = ain__store_sq_run(c, st, "inserting review")) != 0 ||
          (rc = audit_entity(c, in->dag_id, "review", NULL, "pending", 0, det)) != 0) {
        goto done;
      }
    }
  }
  if ((rc = get_row(c, in->video_id, &c->req->u.video_judged.row)) == 0) {
    rc = ain__store_sq_exec(c, SQ_COMMIT);
  }
done:
  sqlite3_finalize(st);
  free(det);
  return rc;
}

/* ---- REVIEW_LIST ------------------------------------------------------------------------------ */

static void read_receipt_cols(sqlite3_stmt *st, ain_receipt_t *r) {
  r->id = sqlite3_column_int64(st, 0);
  r->video_id = ain__store_sq_col_dup(st, 1);
  r->channel = ain__store_sq_col_dup(st, 2);
  r->idempotency_key = ain__store_sq_col_dup(st, 3);
  r->location = ain__store_sq_col_dup(st, 4);
  r->task_id = ain__store_sq_col_dup(st, 5);
  r->state_version = sqlite3_column_int64(st, 6);
  r->created_at = sqlite3_column_int64(st, 7);
  r->post_id = ain__store_sq_col_dup(st, 8);
  r->url = ain__store_sq_col_dup(st, 9);
}

/* One video's publish receipts (in the list's read transaction, so they match its row). */
static int list_receipts(ain__sq_ctx_t *c, const char *video_id) {
  ain_store_req_t *req = c->req;
  sqlite3_stmt *st = NULL;
  size_t cap = 0;
  int step, rc = prepare(c, SQL_RECEIPTS_OF, &st);
  if (rc != 0) {
    goto done;
  }
  ain__store_sq_bind_text(st, 1, video_id);
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    if (req->u.review_list.nreceipts == cap) {
      cap = cap ? cap * 2 : 4;
      ain_receipt_t *grown = realloc(req->u.review_list.receipts, cap * sizeof *grown);
      if (grown == NULL) {
        rc = ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
        goto done;
      }
      req->u.review_list.receipts = grown;
    }
    read_receipt_cols(st, &req->u.review_list.receipts[req->u.review_list.nreceipts++]);
  }
  if (step != SQLITE_DONE) {
    rc = ain__store_sq_fail(c, "listing receipts");
  }
done:
  sqlite3_finalize(st);
  return rc;
}

static int list(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  sqlite3_stmt *st = NULL;
  size_t cap = 0;
  int step, rc = ain__store_sq_exec(c, SQ_BEGIN_READ);
  if (rc != 0 || (rc = prepare(c, SQL_LIST, &st)) != 0) {
    goto done;
  }
  ain__store_sq_bind_text(st, 1, req->u.review_list.status);
  ain__store_sq_bind_text(st, 2, req->u.review_list.video_id);
  sqlite3_bind_int64(st, 3, req->u.review_list.limit > 0 ? req->u.review_list.limit : -1);
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    if (req->u.review_list.nrows == cap) {
      cap = cap ? cap * 2 : 16;
      ain_video_review_t *grown = realloc(req->u.review_list.rows, cap * sizeof *grown);
      if (grown == NULL) {
        rc = ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
        goto done;
      }
      req->u.review_list.rows = grown;
    }
    read_row(st, &req->u.review_list.rows[req->u.review_list.nrows++]);
  }
  if (step != SQLITE_DONE) {
    rc = ain__store_sq_fail(c, "listing reviews");
    goto done;
  }
  if (req->u.review_list.video_id != NULL && req->u.review_list.nrows == 0) {
    rc = ain_err_field(&req->err, AIN_ENOTFOUND, "video_id", "video %s not found",
                       req->u.review_list.video_id);
    goto done;
  }
  if (req->u.review_list.video_id != NULL &&
      (rc = list_receipts(c, req->u.review_list.video_id)) != 0) {
    goto done;
  }
  rc = ain__store_sq_exec(c, SQ_COMMIT);
done:
  sqlite3_finalize(st);
  return rc;
}

/* ---- REVIEW_DECIDE ---------------------------------------------------------------------------- */

/* Zero rows updated: say why, naming the version expected and the one found. */
static int decide_refused(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  const char *vid = req->u.review_decide.video_id;
  sqlite3_stmt *st = NULL;
  int rc = prepare(c, SQL_REVIEW_NOW, &st);
  if (rc != 0) {
    goto done;
  }
  ain__store_sq_bind_text(st, 1, vid);
  int step = sqlite3_step(st);
  if (step == SQLITE_DONE) {
    rc = ain_err_field(&req->err, AIN_ENOTFOUND, "video_id", "video %s has no review", vid);
  } else if (step != SQLITE_ROW) {
    rc = ain__store_sq_fail(c, "reading review");
  } else {
    const unsigned char *status = sqlite3_column_text(st, 0), *by = sqlite3_column_text(st, 2);
    int64_t found = sqlite3_column_int64(st, 1);
    rc = ain_err_field(&req->err, AIN_ECONFLICT, "expect_version",
                       "review of video %s: expected version %lld, found version %lld (%s%s%s)",
                       vid, (long long)req->u.review_decide.expect_version, (long long)found,
                       status ? (const char *)status : "?", by ? " by " : "",
                       by ? (const char *)by : "");
  }
  sqlite3_finalize(st);
  st = NULL;
  ain_video_review_free(&req->u.review_decide.row);
  ain_err_t keep = req->err; /* the row read must not replace the conflict's message */
  if (get_row(c, vid, &req->u.review_decide.row) != 0) {
    ain_video_review_free(&req->u.review_decide.row);
  }
  req->err = keep;
done:
  sqlite3_finalize(st);
  return rc;
}

/* Sets the video's status (audited); no-op when it is already so. */
int ain__store_sq_video_status(ain__sq_ctx_t *c, const char *video_id, const char *to,
                            const char *det) {
  sqlite3_stmt *st = NULL;
  char *from = NULL;
  int rc = prepare(c, SQL_VIDEO_OLD, &st);
  if (rc != 0) {
    goto done;
  }
  ain__store_sq_bind_text(st, 1, video_id);
  if (sqlite3_step(st) == SQLITE_ROW) {
    from = ain__store_sq_col_dup(st, 0);
  }
  sqlite3_finalize(st);
  if ((rc = prepare(c, SQL_VIDEO_STATUS, &st)) != 0) {
    goto done;
  }
  ain__store_sq_bind_text(st, 1, video_id);
  ain__store_sq_bind_text(st, 2, to);
  sqlite3_bind_int64(st, 3, c->now);
  int step = sqlite3_step(st);
  if (step == SQLITE_ROW) {
    int64_t ver = sqlite3_column_int64(st, 0);
    char *dag = ain__store_sq_col_dup(st, 1);
    sqlite3_reset(st);
    rc = audit_entity(c, dag, "video", from, to, ver, det);
    free(dag);
  } else if (step != SQLITE_DONE) {
    rc = ain__store_sq_fail(c, "updating video");
  }
done:
  sqlite3_finalize(st);
  free(from);
  return rc;
}

/* Waiting tasks the statement returns (id, dag_id, state_version) go to ready, audited. */
static int wake(ain__sq_ctx_t *c, sqlite3_stmt *st, const char *det, int *woke) {
  struct w {
    char *id, *dag;
    int64_t ver;
  } *ws = NULL;
  size_t n = 0, cap = 0;
  int step, rc = 0;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    if (n == cap) {
      cap = cap ? cap * 2 : 8;
      struct w *g = realloc(ws, cap * sizeof *g);
      if (g == NULL) {
        rc = ain_err_set(&c->req->err, AIN_ENOMEM, "out of memory");
        goto done;
      }
      ws = g;
    }
    ws[n].id = ain__store_sq_col_dup(st, 0);
    ws[n].dag = ain__store_sq_col_dup(st, 1);
    ws[n].ver = sqlite3_column_int64(st, 2);
    n++;
  }
  if (step != SQLITE_DONE) {
    rc = ain__store_sq_fail(c, "waking parked tasks");
    goto done;
  }
  sqlite3_reset(st);
  for (size_t i = 0; i < n && rc == 0; i++) {
    rc = ain__store_sq_audit(c, ws[i].id, ws[i].dag, "waiting", "ready", ws[i].ver, det, NULL);
  }
  *woke += (int)n;
  c->wake |= n > 0;
done:
  for (size_t i = 0; i < n; i++) {
    free(ws[i].id);
    free(ws[i].dag);
  }
  free(ws);
  return rc;
}

static int decide(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  const char *vid = req->u.review_decide.video_id;
  const char *to = req->u.review_decide.approve ? "approved" : "rejected";
  sqlite3_stmt *st = NULL;
  char *det = NULL, *task = NULL, *dag = NULL;
  int rc = ain__store_sq_exec(c, SQ_BEGIN_IMMEDIATE);
  if (rc != 0 || (rc = prepare(c, SQL_DECIDE, &st)) != 0) {
    goto done;
  }
  ain__store_sq_bind_text(st, 1, vid);
  sqlite3_bind_int64(st, 2, req->u.review_decide.expect_version);
  ain__store_sq_bind_text(st, 3, to);
  ain__store_sq_bind_text(st, 4, req->u.review_decide.reviewer);
  ain__store_sq_bind_text(st, 5, req->u.review_decide.reason);
  sqlite3_bind_int64(st, 6, c->now);
  int step = sqlite3_step(st);
  if (step == SQLITE_DONE) {
    rc = decide_refused(c);
    goto done;
  }
  if (step != SQLITE_ROW) {
    rc = ain__store_sq_fail(c, "deciding review");
    goto done;
  }
  int64_t ver = sqlite3_column_int64(st, 0);
  task = ain__store_sq_col_dup(st, 1);
  dag = ain__store_sq_col_dup(st, 2);
  sqlite3_finalize(st);
  st = NULL;
  det = detail(vid, "reviewer", req->u.review_decide.reviewer, "reason",
               req->u.review_decide.reason);
  if ((rc = audit_entity(c, dag, "review", "pending", to, ver, det)) != 0 ||
      (rc = ain__store_sq_video_status(c, vid, to, det)) != 0) {
    goto done;
  }
  if (task != NULL) {
    if ((rc = prepare(c, SQL_WAKE_TASK, &st)) != 0) {
      goto done;
    }
    ain__store_sq_bind_text(st, 1, task);
    sqlite3_bind_int64(st, 2, c->now);
    if ((rc = wake(c, st, det, &req->u.review_decide.woke)) != 0) {
      goto done;
    }
  }
  if ((rc = get_row(c, vid, &req->u.review_decide.row)) == 0) {
    rc = ain__store_sq_exec(c, SQ_COMMIT);
  }
done:
  sqlite3_finalize(st);
  free(det);
  free(task);
  free(dag);
  return rc;
}

/* ---- RECEIPT_PUT ------------------------------------------------------------------------------ */

static int read_receipt(ain__sq_ctx_t *c, const char *key, ain_receipt_t *r) {
  sqlite3_stmt *st = NULL;
  int rc = prepare(c, SQL_RECEIPT, &st);
  if (rc != 0) {
    goto done;
  }
  ain__store_sq_bind_text(st, 1, key);
  int step = sqlite3_step(st);
  if (step == SQLITE_ROW) {
    read_receipt_cols(st, r);
  } else if (step == SQLITE_DONE) {
    rc = ain_err_field(&c->req->err, AIN_ENOTFOUND, "idempotency_key", "no receipt for key %s",
                       key);
  } else {
    rc = ain__store_sq_fail(c, "reading receipt");
  }
done:
  sqlite3_finalize(st);
  return rc;
}

static int receipt(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  const ain_receipt_t *in = req->u.receipt_put.in;
  sqlite3_stmt *st = NULL;
  char *det = NULL;
  int rc;
  if (req->u.receipt_put.lookup_only) {
    return read_receipt(c, in->idempotency_key, &req->u.receipt_put.receipt);
  }
  if ((rc = ain__store_sq_exec(c, SQ_BEGIN_IMMEDIATE)) != 0 ||
      (rc = prepare(c, SQL_INS_RECEIPT, &st)) != 0) {
    goto done;
  }
  ain__store_sq_bind_text(st, 1, in->video_id);
  ain__store_sq_bind_text(st, 2, in->channel);
  ain__store_sq_bind_text(st, 3, in->idempotency_key);
  ain__store_sq_bind_text(st, 4, in->location);
  ain__store_sq_bind_text(st, 5, in->task_id);
  sqlite3_bind_int64(st, 6, c->now);
  ain__store_sq_bind_text(st, 7, in->post_id);
  ain__store_sq_bind_text(st, 8, in->url);
  int step = sqlite3_step(st);
  if (step != SQLITE_ROW && step != SQLITE_DONE) {
    rc = ain__store_sq_fail(c, "inserting receipt"); /* e.g. FOREIGN KEY: unknown video */
    goto done;
  }
  req->u.receipt_put.created = step == SQLITE_ROW;
  sqlite3_finalize(st);
  st = NULL;
  if (req->u.receipt_put.created) {
    det = detail(in->video_id, "channel", in->channel, "location", in->location);
    if ((rc = ain__store_sq_video_status(c, in->video_id, "published", det)) != 0) {
      goto done;
    }
  }
  rc = read_receipt(c, in->idempotency_key, &req->u.receipt_put.receipt);
  if (rc == AIN_ENOTFOUND) { /* the insert hit UNIQUE (video_id, channel), not the key */
    rc = ain_err_field(&req->err, AIN_ECONFLICT, "idempotency_key",
                       "video %s already has a receipt on channel %s under another key",
                       in->video_id, in->channel);
    goto done;
  }
  if (rc == 0) {
    rc = ain__store_sq_exec(c, SQ_COMMIT);
  }
done:
  sqlite3_finalize(st);
  free(det);
  return rc;
}

/* ---- SETTING ---------------------------------------------------------------------------------- */

static int setting_read(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  sqlite3_stmt *st = NULL;
  int rc = prepare(c, SQL_SETTING_GET, &st);
  if (rc == 0) {
    ain__store_sq_bind_text(st, 1, req->u.setting.key);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
      free(req->u.setting.out_value);
      req->u.setting.out_value = ain__store_sq_col_dup(st, 0);
      req->u.setting.version = sqlite3_column_int64(st, 1);
    } else if (step != SQLITE_DONE) {
      rc = ain__store_sq_fail(c, "reading setting");
    }
  }
  sqlite3_finalize(st);
  return rc;
}

/* Reads a setting's value into *out (NULL when the row does not exist; caller frees). */
int ain__store_sq_setting_get(ain__sq_ctx_t *c, const char *key, char **out) {
  sqlite3_stmt *st = NULL;
  *out = NULL;
  int rc = prepare(c, SQL_SETTING_GET, &st);
  if (rc == 0) {
    ain__store_sq_bind_text(st, 1, key);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
      *out = ain__store_sq_col_dup(st, 0);
    } else if (step != SQLITE_DONE) {
      rc = ain__store_sq_fail(c, "reading setting");
    }
  }
  sqlite3_finalize(st);
  return rc;
}

int ain__store_sq_setting_put(ain__sq_ctx_t *c, const char *key, const char *value,
                              const char *why, int *changed) {
  sqlite3_stmt *st = NULL;
  char *det = NULL, *old = NULL;
  int rc = ain__store_sq_setting_get(c, key, &old);
  if (rc != 0 || (rc = prepare(c, SQL_SETTING_PUT, &st)) != 0) {
    goto done;
  }
  ain__store_sq_bind_text(st, 1, key);
  ain__store_sq_bind_text(st, 2, value);
  sqlite3_bind_int64(st, 3, c->now);
  int step = sqlite3_step(st);
  if (step != SQLITE_ROW && step != SQLITE_DONE) {
    rc = ain__store_sq_fail(c, "writing setting");
    goto done;
  }
  *changed = step == SQLITE_ROW;
  sqlite3_finalize(st);
  st = NULL;
  cJSON *o = why != NULL ? cJSON_Parse(why) : NULL;
  if (o == NULL) {
    o = cJSON_CreateObject();
  }
  cJSON_AddStringToObject(o, "key", key);
  cJSON_AddStringToObject(o, "value", value);
  det = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  if (*changed) {
    char from[300], to[300];
    snprintf(from, sizeof from, "setting:%s=%s", key, old != NULL ? old : "");
    snprintf(to, sizeof to, "setting:%s=%s", key, value);
    if ((rc = ain__store_sq_audit(c, NULL, NULL, from, to, 0, det, NULL)) != 0) {
      goto done;
    }
  }
  /* Publishing released: parked publish steps go back to the queue in the same commit. */
  if (strcmp(key, "publishers.paused") == 0 && strcmp(value, "true") != 0) {
    int woke = 0;
    if ((rc = prepare(c, SQL_WAKE_PUBLISH, &st)) != 0) {
      goto done;
    }
    sqlite3_bind_int64(st, 1, c->now);
    rc = wake(c, st, det, &woke);
  }
done:
  sqlite3_finalize(st);
  free(old);
  free(det);
  return rc;
}

static int setting(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  if (req->u.setting.value == NULL) {
    return setting_read(c);
  }
  int rc = ain__store_sq_exec(c, SQ_BEGIN_IMMEDIATE);
  if (rc == 0) {
    rc = ain__store_sq_setting_put(c, req->u.setting.key, req->u.setting.value, NULL,
                                   &req->u.setting.changed);
  }
  if (rc == 0) {
    rc = setting_read(c);
  }
  if (rc == 0) {
    rc = ain__store_sq_exec(c, SQ_COMMIT);
  }
  return rc;
}

int ain__store_sq_review(ain__sq_ctx_t *c) {
  switch (c->req->op) {
  case AIN_STORE_VIDEO_JUDGED:
    return judged(c);
  case AIN_STORE_REVIEW_LIST:
    return list(c);
  case AIN_STORE_REVIEW_DECIDE:
    return decide(c);
  case AIN_STORE_RECEIPT_PUT:
    return receipt(c);
  case AIN_STORE_SETTING:
    return setting(c);
  default:
    return ain_err_set(&c->req->err, AIN_EINVAL, "not a review op %d", (int)c->req->op);
  }
}
