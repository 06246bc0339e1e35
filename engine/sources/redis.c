/* The Redis Streams source (sources.h): a consumer group read with hiredis on the main loop
 * through its libuv adapter (no thread, no blocking call). Two connections: one sits in
 * XREADGROUP ... BLOCK, the other carries XGROUP, XAUTOCLAIM and XACK, so an ack never waits
 * behind a blocked read.
 *
 * Delivery: an entry is in the group's pending list (PEL) from the moment XREADGROUP hands it to
 * us until XACK, and XACK is sent only from ain_sources_ack, i.e. after the planner's commit.
 * After a crash the entries are still pending: a restarted engine with the same consumer name
 * re-reads its own PEL first (XREADGROUP from id 0), and any consumer claims entries idle longer
 * than claim_idle_ms from dead consumers (XAUTOCLAIM). An entry planned but not yet acked when
 * the engine died comes back too, and PLAN_COMMIT's (persona, trend) pairs skip it: it is
 * planned once.
 *
 * An entry is either one field `json` holding a trend object, or flat fields (title, summary,
 * url, id, ts, score, tags as "a,b,c"). A refused entry is logged and acked at once (it would
 * otherwise come back forever).
 * Relies on: hiredis (+ adapters/libuv.h), internal.h, core/log.h. */
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-function"
#include <hiredis/adapters/libuv.h>
#pragma GCC diagnostic pop

#include "core/log.h"
#include "core/util.h"
#include "sources/internal.h"

#define BLOCK_MS 2000
#define MAX_PENDING_BATCHES 10 /* stop reading while this many batches wait for the planner */

typedef struct conn {
  ain__redis_t *r;
  redisAsyncContext *ac;
  int up;   /* connected */
  int dead; /* freed or being freed: no more commands */
} conn_t;

struct ain__redis {
  ain__src_t *s;
  char host[256];
  int port;
  conn_t *rd, *cmd;
  int group_ready;
  int reading;        /* an XREADGROUP is out */
  int claiming;       /* an XAUTOCLAIM is out */
  int own_done;       /* our own PEL has been re-read */
  char pel_from[64];  /* own PEL: the next XREADGROUP starts after this id */
  int64_t last_claim; /* ms */
  int stopping;
  int epoch; /* bumped on every reconnect: replies of an older connection are dropped */
  /* Connect deadline. hiredis 0.14's libuv adapter drops a poll error (a refused connect on some
   * kernels), so a connect can otherwise wait forever: past timeout_ms it counts as failed. */
  uv_timer_t deadline;
};

static void read_next(ain__redis_t *r);
static void reconnect(ain__redis_t *r, const char *why);

/* ---- connections ------------------------------------------------------------------------------ */

static void on_deadline_closed(uv_handle_t *h) {
  ain__redis_t *r = h->data;
  ain_sources_t *set = r->s->set;
  r->s->redis = NULL;
  free(r);
  ain__src_unbusy(set);
}

static void conn_gone(conn_t *c) {
  ain__redis_t *r = c->r;
  if (r->rd == c) {
    r->rd = NULL;
  }
  if (r->cmd == c) {
    r->cmd = NULL;
  }
  ain_sources_t *set = r->s->set;
  free(c);
  if (r->stopping && r->rd == NULL && r->cmd == NULL &&
      !uv_is_closing((uv_handle_t *)&r->deadline)) {
    uv_close((uv_handle_t *)&r->deadline, on_deadline_closed); /* frees r */
  }
  ain__src_unbusy(set);
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
  (void)status;
  conn_gone(ac->data);
}

static void drop(conn_t *c) {
  if (c == NULL || c->dead) {
    return;
  }
  c->dead = 1;
  if (c->up) {
    redisAsyncFree(c->ac); /* pending callbacks get NULL, then on_disconnect */
  } else {
    redisAsyncFree(c->ac); /* not connected: hiredis calls nothing more */
    conn_gone(c);
  }
}

static void start_group(ain__redis_t *r);

static void on_connect(const redisAsyncContext *ac, int status) {
  conn_t *c = ac->data;
  ain__redis_t *r = c->r;
  if (status != REDIS_OK) {
    char why[300];
    snprintf(why, sizeof why, "cannot connect to redis://%s:%d: %s", r->host, r->port,
             ac->errstr);
    c->dead = 1;
    conn_gone(c); /* hiredis frees the context after this callback */
    if (!r->stopping) {
      reconnect(r, why);
    }
    return;
  }
  c->up = 1;
  if (r->rd != NULL && r->rd->up && r->cmd != NULL && r->cmd->up) {
    uv_timer_stop(&r->deadline);
    start_group(r);
  }
}

static conn_t *connect_one(ain__redis_t *r) {
  redisAsyncContext *ac = redisAsyncConnect(r->host, r->port);
  if (ac == NULL) {
    abort();
  }
  conn_t *c = calloc(1, sizeof *c);
  if (c == NULL) {
    abort();
  }
  c->r = r;
  c->ac = ac;
  ac->data = c;
  r->s->set->busy++;
  if (ac->err != 0 || redisLibuvAttach(ac, r->s->set->loop) != REDIS_OK) {
    c->dead = 1;
    redisAsyncFree(ac);
    conn_gone(c);
    return NULL;
  }
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  return c;
}

static void on_deadline(uv_timer_t *t) {
  ain__redis_t *r = t->data;
  char why[300];
  snprintf(why, sizeof why, "cannot connect to redis://%s:%d: no answer within %lld ms", r->host,
           r->port, (long long)r->s->cfg->timeout_ms);
  reconnect(r, why);
}

static void connect_both(ain__redis_t *r) {
  uv_timer_start(&r->deadline, on_deadline, (uint64_t)r->s->cfg->timeout_ms, 0);
  r->epoch++;
  r->group_ready = r->reading = r->claiming = 0;
  r->own_done = 0;
  snprintf(r->pel_from, sizeof r->pel_from, "0");
  r->rd = connect_one(r);
  r->cmd = connect_one(r);
  if (r->rd == NULL || r->cmd == NULL) {
    reconnect(r, "cannot create a redis connection");
  }
}

static void on_retry_timer(uv_timer_t *t) {
  ain__src_t *s = t->data;
  if (s->redis != NULL && !s->redis->stopping) {
    connect_both(s->redis);
  }
}

/* A failure: both connections go, the source backs off, then connects again. The records already
 * pending stay (their entries are still in our PEL; XACK after the commit works on any
 * connection). */
static void reconnect(ain__redis_t *r, const char *why) {
  conn_t *rd = r->rd, *cmd = r->cmd;
  if (uv_is_active((uv_handle_t *)&r->s->timer)) {
    return; /* already backing off */
  }
  ain__src_error(r->s, why);
  uv_timer_stop(&r->deadline);
  r->epoch++;
  drop(rd);
  drop(cmd);
  int64_t delay = r->s->st.backoff_until - ain_now_ms();
  uv_timer_start(&r->s->timer, on_retry_timer, delay > 0 ? (uint64_t)delay : 0, 0);
}

/* ---- entries ----------------------------------------------------------------------------------- */

static cJSON *entry_record(const redisReply *fields, char *why, size_t cap) {
  cJSON *rec = NULL;
  if (fields == NULL || fields->type != REDIS_REPLY_ARRAY || fields->elements % 2 != 0) {
    snprintf(why, cap, "entry has no fields (deleted?)");
    return NULL;
  }
  for (size_t i = 0; i + 1 < fields->elements; i += 2) {
    const redisReply *k = fields->element[i], *v = fields->element[i + 1];
    if (k->type == REDIS_REPLY_STRING && strcmp(k->str, "json") == 0 &&
        v->type == REDIS_REPLY_STRING) {
      rec = cJSON_ParseWithLength(v->str, v->len);
      if (!cJSON_IsObject(rec)) {
        cJSON_Delete(rec);
        snprintf(why, cap, "field json: not a JSON object");
        return NULL;
      }
      return rec;
    }
  }
  rec = cJSON_CreateObject();
  for (size_t i = 0; i + 1 < fields->elements; i += 2) {
    const redisReply *k = fields->element[i], *v = fields->element[i + 1];
    if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
      continue;
    }
    if (strcmp(k->str, "score") == 0) {
      char *end;
      double d = strtod(v->str, &end);
      if (*end != '\0' || end == v->str) {
        snprintf(why, cap, "score: expected a number");
        cJSON_Delete(rec);
        return NULL;
      }
      cJSON_AddNumberToObject(rec, "score", d);
    } else if (strcmp(k->str, "tags") == 0) {
      cJSON *tags = cJSON_AddArrayToObject(rec, "tags");
      char *copy = ain_strdup(v->str), *save = NULL;
      for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        cJSON_AddItemToArray(tags, cJSON_CreateString(t));
      }
      free(copy);
    } else if (strcmp(k->str, "title") == 0 || strcmp(k->str, "summary") == 0 ||
               strcmp(k->str, "url") == 0 || strcmp(k->str, "id") == 0 ||
               strcmp(k->str, "ts") == 0) {
      cJSON_AddStringToObject(rec, k->str, v->str);
    }
  }
  return rec;
}

/* Entries [[id, [f, v, ...]], ...] -> pending records. Returns how many there were. */
static size_t take_entries(ain__redis_t *r, const redisReply *entries, int own_pel) {
  ain__src_t *s = r->s;
  size_t n = 0, kept = 0;
  int64_t refused = 0;
  if (entries == NULL || entries->type != REDIS_REPLY_ARRAY) {
    return 0;
  }
  for (size_t i = 0; i < entries->elements; i++) {
    const redisReply *e = entries->element[i];
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
        e->element[0]->type != REDIS_REPLY_STRING) {
      continue;
    }
    const char *id = e->element[0]->str;
    n++;
    if (own_pel) {
      snprintf(r->pel_from, sizeof r->pel_from, "%s", id);
    }
    char why[256] = "";
    cJSON *rec = entry_record(e->element[1], why, sizeof why);
    ain_err_t err;
    ain_err_clear(&err);
    if (rec != NULL && ain_feed_check_record(rec, s->cfg->name, &err) != 0) {
      snprintf(why, sizeof why, "%s", err.msg);
      cJSON_Delete(rec);
      rec = NULL;
    }
    if (rec == NULL) {
      ain_log_warn("source %s: entry %s refused: %s (acknowledged, not planned)", s->cfg->name,
                   id, why);
      refused++;
      char *ids[1] = {(char *)id};
      ain__src_redis_ack(s, ids, 1);
      continue;
    }
    ain__src_push(s, rec, id);
    cJSON_Delete(rec);
    kept++;
  }
  if (n > 0) {
    s->st.fetches++;
    ain__src_ok(s, (int64_t)kept, refused);
    ain__src_notify(s);
  }
  return n;
}

/* ---- commands ---------------------------------------------------------------------------------- */

typedef struct {
  ain__redis_t *r;
  int epoch;
} cb_ctx_t;

static cb_ctx_t *ctx_of(ain__redis_t *r) {
  cb_ctx_t *c = malloc(sizeof *c);
  if (c == NULL) {
    abort();
  }
  c->r = r;
  c->epoch = r->epoch;
  return c;
}

/* The reply is for this connection generation and the source still runs; else frees ctx. */
static ain__redis_t *live(cb_ctx_t *c) {
  ain__redis_t *r = c->r;
  int ok = c->epoch == r->epoch && !r->stopping;
  free(c);
  return ok ? r : NULL;
}

static void on_claimed(redisAsyncContext *ac, void *reply, void *priv) {
  (void)ac;
  cb_ctx_t *c = priv;
  c->r->claiming = 0;
  ain__redis_t *r = live(c);
  redisReply *rep = reply;
  if (r == NULL) {
    return;
  }
  if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
    reconnect(r, rep ? rep->str : "redis connection lost (XAUTOCLAIM)");
    return;
  }
  /* [next cursor, entries, deleted ids (7.0+)] */
  if (rep->type == REDIS_REPLY_ARRAY && rep->elements >= 2) {
    size_t n = take_entries(r, rep->element[1], 0);
    if (n > 0) {
      ain_log_info("source %s: claimed %zu pending entr%s idle over %lld ms", r->s->cfg->name, n,
                   n == 1 ? "y" : "ies", (long long)r->s->cfg->claim_idle_ms);
    }
  }
}

static void claim(ain__redis_t *r) {
  if (r->claiming || r->cmd == NULL || r->cmd->dead) {
    return;
  }
  r->claiming = 1;
  r->last_claim = ain_now_ms();
  const ain_source_cfg_t *c = r->s->cfg;
  redisAsyncCommand(r->cmd->ac, on_claimed, ctx_of(r), "XAUTOCLAIM %s %s %s %lld 0-0 COUNT %lld",
                    c->stream, c->group, c->consumer, (long long)c->claim_idle_ms,
                    (long long)c->batch);
}

static void on_read(redisAsyncContext *ac, void *reply, void *priv) {
  (void)ac;
  cb_ctx_t *c = priv;
  c->r->reading = 0;
  ain__redis_t *r = live(c);
  redisReply *rep = reply;
  if (r == NULL) {
    return;
  }
  if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
    reconnect(r, rep ? rep->str : "redis connection lost (XREADGROUP)");
    return;
  }
  size_t n = 0;
  /* [[stream, entries]] or nil on timeout */
  if (rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 &&
      rep->element[0]->type == REDIS_REPLY_ARRAY && rep->element[0]->elements == 2) {
    n = take_entries(r, rep->element[0]->element[1], !r->own_done);
  }
  if (!r->own_done && n == 0) {
    r->own_done = 1; /* our PEL is re-read: from now on only new entries */
  }
  if (!r->s->attempted && r->own_done) {
    r->s->attempted = 1;
    r->s->st.fetches++;
    ain__src_ok(r->s, 0, 0);
  }
  if (n == 0 && ain_now_ms() - r->last_claim >= (r->s->cfg->claim_idle_ms > 1000
                                                     ? r->s->cfg->claim_idle_ms
                                                     : 1000)) {
    claim(r);
  }
  read_next(r);
}

static void read_next(ain__redis_t *r) {
  ain__src_t *s = r->s;
  if (r->reading || !r->group_ready || r->rd == NULL || r->rd->dead || r->stopping) {
    return;
  }
  if (s->n >= (size_t)s->cfg->batch * MAX_PENDING_BATCHES) {
    return; /* back-pressure: resumed by ain__src_redis_resume after an ack */
  }
  r->reading = 1;
  const ain_source_cfg_t *c = s->cfg;
  if (!r->own_done) {
    redisAsyncCommand(r->rd->ac, on_read, ctx_of(r),
                      "XREADGROUP GROUP %s %s COUNT %lld STREAMS %s %s", c->group, c->consumer,
                      (long long)c->batch, c->stream, r->pel_from);
  } else {
    redisAsyncCommand(r->rd->ac, on_read, ctx_of(r),
                      "XREADGROUP GROUP %s %s COUNT %lld BLOCK %d STREAMS %s >", c->group,
                      c->consumer, (long long)c->batch, BLOCK_MS, c->stream);
  }
}

static void on_group(redisAsyncContext *ac, void *reply, void *priv) {
  (void)ac;
  ain__redis_t *r = live(priv);
  redisReply *rep = reply;
  if (r == NULL) {
    return;
  }
  if (rep == NULL ||
      (rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "BUSYGROUP", 9) != 0)) {
    reconnect(r, rep ? rep->str : "redis connection lost (XGROUP CREATE)");
    return;
  }
  r->group_ready = 1;
  ain_log_info("source %s: consumer %s of group %s on stream %s (redis://%s:%d)",
               r->s->cfg->name, r->s->cfg->consumer, r->s->cfg->group, r->s->cfg->stream,
               r->host, r->port);
  claim(r);
  read_next(r);
}

static void start_group(ain__redis_t *r) {
  const ain_source_cfg_t *c = r->s->cfg;
  /* from 0: entries added before the group existed are trends too */
  redisAsyncCommand(r->cmd->ac, on_group, ctx_of(r), "XGROUP CREATE %s %s 0 MKSTREAM", c->stream,
                    c->group);
}

static void on_acked(redisAsyncContext *ac, void *reply, void *priv) {
  (void)ac;
  redisReply *rep = reply;
  ain__src_t *s = priv;
  if (rep != NULL && rep->type == REDIS_REPLY_ERROR) {
    ain_log_warn("source %s: XACK: %s (the entries will be claimed again and skipped as planned)",
                 s->cfg->name, rep->str);
  }
}

/* ---- the interface ------------------------------------------------------------------------------ */

void ain__src_redis_ack(ain__src_t *s, char **ids, size_t n) {
  ain__redis_t *r = s->redis;
  if (r == NULL || r->cmd == NULL || r->cmd->dead || n == 0) {
    return; /* not connected: the entries stay pending and come back after the reconnect */
  }
  const char **argv = malloc((n + 3) * sizeof *argv);
  if (argv == NULL) {
    abort();
  }
  argv[0] = "XACK";
  argv[1] = s->cfg->stream;
  argv[2] = s->cfg->group;
  size_t argc = 3;
  for (size_t i = 0; i < n; i++) {
    if (ids[i] != NULL) {
      argv[argc++] = ids[i];
    }
  }
  if (argc > 3) {
    redisAsyncCommandArgv(r->cmd->ac, on_acked, s, (int)argc, argv, NULL);
  }
  free(argv);
}

void ain__src_redis_resume(ain__src_t *s) {
  if (s->redis != NULL) {
    read_next(s->redis);
  }
}

int ain__src_redis_start(ain__src_t *s, ain_err_t *err) {
  const char *url = s->cfg->url + strlen("redis://");
  ain__redis_t *r = calloc(1, sizeof *r);
  if (r == NULL) {
    abort();
  }
  r->s = s;
  const char *colon = strrchr(url, ':');
  size_t hl = colon != NULL ? (size_t)(colon - url) : strcspn(url, "/");
  r->port = colon != NULL ? atoi(colon + 1) : 6379;
  if (hl == 0 || hl >= sizeof r->host || r->port <= 0 || r->port > 65535) {
    free(r);
    return ain_err_field(err, AIN_ECONFIG, "url", "source %s: url must be redis://host:port",
                         s->cfg->name);
  }
  memcpy(r->host, url, hl);
  r->host[hl] = '\0';
  s->redis = r;
  uv_timer_init(s->set->loop, &r->deadline);
  r->deadline.data = r;
  s->set->busy++; /* the deadline timer: until its close callback */
  connect_both(r);
  return 0;
}

void ain__src_redis_stop(ain__src_t *s) {
  ain__redis_t *r = s->redis;
  if (r == NULL) {
    return;
  }
  r->stopping = 1;
  conn_t *rd = r->rd, *cmd = r->cmd;
  if (rd == NULL && cmd == NULL) {
    uv_close((uv_handle_t *)&r->deadline, on_deadline_closed); /* frees r */
    return;
  }
  drop(rd);
  drop(cmd);
}
