/* The source scheduler (sources.h): per source a timer on the main loop, one attempt at a time
 * (fetch.c on the pool, or the Redis consumer), backoff and rate limit, the pending records, and
 * the row write after every change of health. Relies on: internal.h, obs/obs.h, core/log.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "obs/obs.h"
#include "sources/internal.h"

static void schedule(ain__src_t *s, int64_t delay_ms);

/* ---- teardown -------------------------------------------------------------------------------- */

static void free_src(ain__src_t *s) {
  for (size_t i = 0; i < s->n; i++) {
    free(s->lines[i]);
    free(s->ids[i]);
  }
  free(s->lines);
  free(s->ids);
  free(s->etag);
  free(s->lm);
  free(s->pend_etag);
  free(s->pend_lm);
  ain_source_state_free(&s->st);
  ain_source_state_free(&s->wst);
}

static void on_fin_closed(uv_handle_t *h) {
  ain_sources_t *set = h->data;
  for (size_t i = 0; i < set->n; i++) {
    free_src(&set->src[i]);
  }
  free(set->src);
  free(set);
}

void ain__src_unbusy(ain_sources_t *set) {
  set->busy--;
  if (set->stopping && set->busy == 0 && !set->freeing) {
    set->freeing = 1;
    uv_close((uv_handle_t *)&set->fin, on_fin_closed);
  }
}

static void on_timer_closed(uv_handle_t *h) {
  ain__src_t *s = h->data;
  ain__src_unbusy(s->set);
}

void ain_sources_stop(ain_sources_t *set) {
  if (set == NULL || set->stopping) {
    return;
  }
  set->stopping = 1;
  for (size_t i = 0; i < set->n; i++) {
    ain__src_t *s = &set->src[i];
    uv_close((uv_handle_t *)&s->timer, on_timer_closed);
    if (s->redis != NULL) {
      ain__src_redis_stop(s);
    }
  }
  set->busy++;
  ain__src_unbusy(set); /* frees now when nothing else is out */
}

/* ---- the row ----------------------------------------------------------------------------------- */

static void copy_state(ain_source_state_t *dst, const ain_source_state_t *src) {
  ain_source_state_free(dst);
  *dst = *src;
  char **strs[] = {&dst->name,          &dst->kind,   &dst->url,       &dst->etag,
                   &dst->last_modified, &dst->cursor, &dst->last_error};
  for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
    *strs[i] = *strs[i] != NULL ? ain_strdup(*strs[i]) : NULL;
  }
}

static void on_saved(ain_store_req_t *req) {
  ain__src_t *s = req->data;
  if (req->status != 0) {
    ain_log_warn("source %s: writing its row: %s", s->cfg->name, req->err.msg);
  }
  ain_store_req_cleanup(req);
  s->writing = 0;
  ain__src_unbusy(s->set);
  if (s->dirty && !s->set->stopping) {
    ain__src_save(s);
  }
}

void ain__src_save(ain__src_t *s) {
  if (s->writing) {
    s->dirty = 1;
    return;
  }
  s->dirty = 0;
  copy_state(&s->wst, &s->st);
  ain_store_req_source_put(&s->req, &s->wst);
  s->req.data = s;
  s->req.cb = on_saved;
  s->req.actor = "sources";
  s->writing = 1;
  s->set->busy++;
  if (ain_store_submit(s->set->o.store, &s->req) != 0) {
    ain_log_warn("source %s: writing its row: %s", s->cfg->name, s->req.err.msg);
    s->writing = 0;
    ain__src_unbusy(s->set);
  }
}

/* ---- outcomes ---------------------------------------------------------------------------------- */

static void set_str(char **slot, const char *v) {
  free(*slot);
  *slot = v != NULL ? ain_strdup(v) : NULL;
}

static void count(ain__src_t *s, const char *result) {
  const char *labels[2] = {s->cfg->name, result};
  ain_obs_inc(AIN_M_SOURCE_FETCHES, labels);
}

void ain__src_error(ain__src_t *s, const char *msg) {
  int64_t now = ain_now_ms();
  s->attempted = 1;
  s->st.failures++;
  s->st.errors++;
  s->st.last_error_at = now;
  set_str(&s->st.last_error, msg);
  int64_t delay = ain_feed_backoff_ms(s->cfg->backoff_base_ms, s->cfg->backoff_max_ms,
                                      s->st.failures, (double)(ain_mono_ns() % 1000) / 1000.0);
  s->st.backoff_until = now + delay;
  const char *name[1] = {s->cfg->name};
  ain_obs_set(AIN_M_SOURCE_UP, name, 0);
  count(s, "error");
  ain_log_error("source %s (%s): %s; next attempt in %lld ms (%lld consecutive failure(s))",
                s->cfg->name, ain_source_kind_name(s->cfg->kind), msg, (long long)delay,
                (long long)s->st.failures);
  ain__src_save(s);
}

void ain__src_ok(ain__src_t *s, int64_t records, int64_t refused) {
  s->attempted = 1;
  s->st.failures = 0;
  s->st.backoff_until = 0;
  s->st.last_success_at = ain_now_ms();
  s->st.refused += refused;
  const char *name[1] = {s->cfg->name};
  ain_obs_set(AIN_M_SOURCE_UP, name, 1);
  if (records > 0) {
    ain_obs_add(AIN_M_SOURCE_RECORDS, name, (double)records);
  }
  ain__src_save(s);
}

/* ---- pending records ------------------------------------------------------------------------- */

void ain__src_push(ain__src_t *s, cJSON *record, const char *id) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 64;
    char **l = realloc(s->lines, s->cap * sizeof *l), **d = l ? realloc(s->ids, s->cap * sizeof *d)
                                                              : NULL;
    if (l == NULL || d == NULL) {
      abort();
    }
    s->lines = l;
    s->ids = d;
  }
  s->lines[s->n] = cJSON_PrintUnformatted(record);
  s->ids[s->n] = id != NULL ? ain_strdup(id) : NULL;
  if (s->lines[s->n] == NULL) {
    abort();
  }
  s->n++;
}

void ain__src_notify(ain__src_t *s) {
  if (s->n > s->taken && s->set->o.on_records != NULL && !s->set->stopping) {
    s->set->o.on_records(s->set->o.data);
  }
}

/* Drops pending records after the first `keep` (a newer snapshot of the same feed replaces
 * records that no run has taken yet). */
static void truncate_pending(ain__src_t *s, size_t keep) {
  for (size_t i = keep; i < s->n; i++) {
    free(s->lines[i]);
    free(s->ids[i]);
  }
  if (s->n > keep) {
    s->n = keep;
  }
}

void ain_sources_take(ain_sources_t *set, char **jsonl, size_t *len, size_t *n) {
  *jsonl = NULL;
  *len = 0;
  *n = 0;
  size_t total = 0;
  for (size_t i = 0; set != NULL && i < set->n; i++) {
    ain__src_t *s = &set->src[i];
    if (s->taken != 0) {
      return; /* a batch is out: nothing until ack/release */
    }
    for (size_t k = 0; k < s->n; k++) {
      total += strlen(s->lines[k]) + 1;
    }
  }
  if (total == 0) {
    return;
  }
  char *out = malloc(total + 1), *p = out;
  if (out == NULL) {
    abort();
  }
  for (size_t i = 0; i < set->n; i++) {
    ain__src_t *s = &set->src[i];
    for (size_t k = 0; k < s->n; k++) {
      size_t l = strlen(s->lines[k]);
      memcpy(p, s->lines[k], l);
      p += l;
      *p++ = '\n';
    }
    s->taken = s->n;
    *n += s->n;
  }
  *p = '\0';
  *jsonl = out;
  *len = (size_t)(p - out);
}

void ain_sources_ack(ain_sources_t *set) {
  for (size_t i = 0; set != NULL && i < set->n; i++) {
    ain__src_t *s = &set->src[i];
    if (s->taken == 0) {
      continue;
    }
    if (s->redis != NULL) {
      ain__src_redis_ack(s, s->ids, s->taken);
      set_str(&s->st.cursor, s->ids[s->taken - 1]);
    }
    for (size_t k = 0; k < s->taken; k++) {
      free(s->lines[k]);
      free(s->ids[k]);
    }
    memmove(s->lines, s->lines + s->taken, (s->n - s->taken) * sizeof *s->lines);
    memmove(s->ids, s->ids + s->taken, (s->n - s->taken) * sizeof *s->ids);
    s->st.items += (int64_t)s->taken;
    s->n -= s->taken;
    s->taken = 0;
    if (s->n == 0) {
      /* every record of the fetch behind these validators is committed: a restart may now be
       * told "not modified" */
      set_str(&s->st.etag, s->pend_etag);
      set_str(&s->st.last_modified, s->pend_lm);
    }
    ain__src_save(s);
    if (s->redis != NULL) {
      ain__src_redis_resume(s);
    }
  }
}

void ain_sources_release(ain_sources_t *set) {
  for (size_t i = 0; set != NULL && i < set->n; i++) {
    set->src[i].taken = 0;
  }
}

int ain_sources_settled(const ain_sources_t *set) {
  for (size_t i = 0; set != NULL && i < set->n; i++) {
    const ain__src_t *s = &set->src[i];
    if (!s->attempted || s->fetching || s->n > 0) {
      return 0;
    }
  }
  return 1;
}

/* ---- one attempt ------------------------------------------------------------------------------- */

static void after_fetch(uv_work_t *w, int status) {
  ain__src_t *s = w->data;
  s->fetching = 0;
  ain__src_unbusy(s->set);
  if (status != 0 || s->set->stopping) {
    cJSON_Delete(s->f_out.items);
    free(s->f_etag);
    free(s->f_lm);
    return;
  }
  s->st.fetches++;
  int64_t next = s->cfg->interval_ms;
  if (s->f_rc != 0) {
    ain__src_error(s, s->f_err);
    next = s->st.backoff_until - ain_now_ms();
  } else if (s->f_not_modified) {
    s->st.not_modified++;
    count(s, "not_modified");
    if (s->n == 0 && s->taken == 0) {
      set_str(&s->st.etag, s->etag);
      set_str(&s->st.last_modified, s->lm);
    }
    ain__src_ok(s, 0, 0);
  } else {
    int nrec = cJSON_GetArraySize(s->f_out.items);
    if (s->f_out.refused > 0) {
      ain_log_warn("source %s: %lld item(s) refused, first: %s", s->cfg->name,
                   (long long)s->f_out.refused, s->f_out.first_refusal);
    }
    truncate_pending(s, s->taken);
    cJSON *rec;
    cJSON_ArrayForEach(rec, s->f_out.items) {
      ain__src_push(s, rec, NULL);
    }
    set_str(&s->etag, s->f_etag);
    set_str(&s->lm, s->f_lm);
    set_str(&s->pend_etag, s->f_etag);
    set_str(&s->pend_lm, s->f_lm);
    if (s->n == 0 && s->taken == 0) {
      set_str(&s->st.etag, s->f_etag);
      set_str(&s->st.last_modified, s->f_lm);
    }
    count(s, "ok");
    ain_log_info("source %s: %d record(s)%s", s->cfg->name, nrec,
                 s->f_out.refused > 0 ? " (some refused)" : "");
    ain__src_ok(s, nrec, s->f_out.refused);
    ain__src_notify(s);
  }
  cJSON_Delete(s->f_out.items);
  s->f_out.items = NULL;
  free(s->f_etag);
  free(s->f_lm);
  s->f_etag = s->f_lm = NULL;
  schedule(s, next);
}

static void on_timer(uv_timer_t *t) {
  ain__src_t *s = t->data;
  if (s->fetching || s->set->stopping) {
    return;
  }
  int64_t now = ain_now_ms();
  /* the rate limit: never two requests closer than min_interval_ms */
  if (s->last_request_ms != 0 && now - s->last_request_ms < s->cfg->min_interval_ms) {
    schedule(s, s->cfg->min_interval_ms - (now - s->last_request_ms));
    return;
  }
  s->last_request_ms = now;
  s->fetching = 1;
  s->set->busy++;
  s->work.data = s;
  int rc = uv_queue_work(s->set->loop, &s->work, ain__src_fetch, after_fetch);
  if (rc != 0) {
    s->fetching = 0;
    ain__src_unbusy(s->set);
    ain__src_error(s, uv_strerror(rc));
    schedule(s, s->st.backoff_until - now);
  }
}

static void schedule(ain__src_t *s, int64_t delay_ms) {
  if (s->set->stopping) {
    return;
  }
  if (delay_ms < 0) {
    delay_ms = 0;
  }
  uv_timer_start(&s->timer, on_timer, (uint64_t)delay_ms, 0);
}

/* ---- start ------------------------------------------------------------------------------------- */

static void begin(ain_sources_t *set) {
  int64_t now = ain_now_ms();
  for (size_t i = 0; i < set->n; i++) {
    ain__src_t *s = &set->src[i];
    if (s->cfg->kind == AIN_SOURCE_REDIS) {
      ain_err_t err;
      ain_err_clear(&err);
      if (ain__src_redis_start(s, &err) != 0) {
        ain__src_error(s, err.msg);
      }
      continue;
    }
    /* a source that was backing off when the engine stopped keeps backing off */
    schedule(s, s->st.backoff_until > now ? s->st.backoff_until - now : 0);
  }
}

static void on_listed(ain_store_req_t *req) {
  ain_sources_t *set = req->data;
  set->listing = 0;
  if (req->status != 0) {
    ain_log_warn("sources: reading their rows: %s (starting without saved state)", req->err.msg);
  }
  for (size_t r = 0; req->status == 0 && r < req->u.source.nrows; r++) {
    ain_source_state_t *row = &req->u.source.rows[r];
    for (size_t i = 0; i < set->n; i++) {
      ain__src_t *s = &set->src[i];
      if (strcmp(row->name, s->cfg->name) != 0) {
        continue;
      }
      /* the configured kind and URL win; validators only carry over for the same URL */
      int same = row->url != NULL && strcmp(row->url, s->st.url) == 0 &&
                 strcmp(row->kind, s->st.kind) == 0;
      s->st.fetches = row->fetches;
      s->st.not_modified = row->not_modified;
      s->st.errors = row->errors;
      s->st.items = row->items;
      s->st.refused = row->refused;
      s->st.failures = row->failures;
      s->st.backoff_until = row->backoff_until;
      s->st.last_success_at = row->last_success_at;
      s->st.last_error_at = row->last_error_at;
      set_str(&s->st.last_error, row->last_error);
      if (same) {
        set_str(&s->st.etag, row->etag);
        set_str(&s->st.last_modified, row->last_modified);
        set_str(&s->st.cursor, row->cursor);
        set_str(&s->etag, row->etag);
        set_str(&s->lm, row->last_modified);
      }
    }
  }
  ain_store_req_cleanup(req);
  ain__src_unbusy(set);
  if (!set->stopping) {
    begin(set);
  }
}

int ain_sources_start(uv_loop_t *loop, const ain_sources_opts_t *opts, ain_sources_t **out,
                      ain_err_t *err) {
  *out = NULL;
  const ain_sources_config_t *sc = &opts->cfg->sources;
  if (sc->n == 0) {
    return ain_err_set(err, AIN_EINVAL, "no sources configured");
  }
  ain_sources_t *set = calloc(1, sizeof *set);
  if (set == NULL || (set->src = calloc(sc->n, sizeof *set->src)) == NULL) {
    abort();
  }
  set->loop = loop;
  set->o = *opts;
  set->n = sc->n;
  uv_idle_init(loop, &set->fin);
  set->fin.data = set;
  for (size_t i = 0; i < sc->n; i++) {
    ain__src_t *s = &set->src[i];
    s->set = set;
    s->cfg = &sc->list[i];
    s->st.name = ain_strdup(s->cfg->name);
    s->st.kind = ain_strdup(ain_source_kind_name(s->cfg->kind));
    s->st.url = ain_strdup(s->cfg->kind == AIN_SOURCE_JSONL ? s->cfg->path : s->cfg->url);
    uv_timer_init(loop, &s->timer);
    s->timer.data = s;
    set->busy++;
    const char *name[1] = {s->cfg->name};
    ain_obs_set(AIN_M_SOURCE_UP, name, 0);
  }
  ain_store_req_source_list(&set->list_req);
  set->list_req.data = set;
  set->list_req.cb = on_listed;
  set->listing = 1;
  set->busy++;
  if (ain_store_submit(opts->store, &set->list_req) != 0) {
    ain_log_warn("sources: reading their rows: %s", set->list_req.err.msg);
    set->listing = 0;
    ain__src_unbusy(set);
    begin(set);
  }
  ain_log_info("sources: %zu trend source(s) started", sc->n);
  *out = set;
  return 0;
}
