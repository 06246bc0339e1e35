/* The planner loop (see plan.h). One run is a chain of asynchronous steps on the main loop:
 *   take the records the trend sources hold (sources/sources.h), read the source file + list
 *   persona ids (thread pool: blocking file I/O)
 *   -> PLANNED_LIST (pairs planned before, for the policy's already_planned)
 *   -> planner.run({text}, {personas, already_planned}) in a policy host on this loop
 *   -> PLAN_COMMIT of the tasks it returned (the store skips pairs planned meanwhile)
 * Triggers that arrive while a run is in flight coalesce into one more run after it.
 * The source text and the sources' records are scrubbed of PII on the pool (privacy/privacy.h).
 * After the run the sources' records are acked (committed, or nothing new in them) or released
 * (the run failed: the next run sees them again).
 * Each planned trend starts a trace: its generate_video task carries a traceparent whose parent
 * is the trend's "plan" span (the trace's root), exported once the commit says it was new.
 * Relies on: plan.h, lua/host.h, privacy/privacy.h, sources/sources.h, store/store.h,
 * trace/trace.h, cJSON. */
#include "plan/plan.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "lua/host.h"
#include "privacy/privacy.h"
#include "sources/sources.h"
#include "trace/trace.h"

#define DEBOUNCE_MS 250

struct ain_plan {
  uv_loop_t *loop;
  ain_plan_opts_t o;
  char *actor;
  char path[4096]; /* the source file */
  char dir[4096];  /* its folder (watched) */
  char base[512];  /* its name within dir */
  uv_timer_t interval, debounce;
  uv_fs_event_t watch;
  uv_idle_t fin; /* closed last: its close callback frees the planner */
  int handles_open;
  int watching;
  ain_lua_host_t *lua;
  ain_lua_call_t *call;
  uv_work_t work;
  ain_store_req_t req;
  int running, again, stopping, freeing;
  int last_failed; /* the last run failed: records it left pending do not hold --until-idle */
  ain_plan_stats_t st;
  ain_sources_t *sources; /* NULL without config key `sources` */
  /* the run in flight */
  char *text;
  size_t len;
  int read_rc;
  char read_err[512];
  ain_privacy_stats_t pii; /* what the source scrub replaced */
  char *feeds;             /* the sources' records taken for this run (JSON Lines), or NULL */
  size_t feeds_len, nfeeds;
  cJSON *feeds_arr;        /* the same, scrubbed, as one array (built on the pool) */
  int run_ok;              /* committed, or nothing to commit: the records are acked */
  char **personas;
  size_t npersonas;
  cJSON *result;
  ain_plan_item_t *items;
  ain_task_t *tasks;
  ain_trace_ctx_t *spans; /* per item: its trend's plan span */
  size_t nitems;
  int64_t run_start_ns; /* wall clock: the plan spans' start */
  char *versions;       /* the policy versions the run's call used (span attributes) */
};

static void trigger(ain_plan_t *p);

/* ---- teardown -------------------------------------------------------------------------------- */

static void on_fin_closed(uv_handle_t *h) {
  ain_plan_t *p = h->data;
  if (p->lua != NULL) {
    ain_lua_host_free(p->lua);
  }
  free(p->actor);
  free(p);
}

static void maybe_free(ain_plan_t *p) {
  if (p->stopping && !p->running && p->handles_open == 0 && !p->freeing) {
    p->freeing = 1;
    uv_close((uv_handle_t *)&p->fin, on_fin_closed); /* runs after the current callback */
  }
}

static void on_handle_closed(uv_handle_t *h) {
  ain_plan_t *p = h->data;
  p->handles_open--;
  maybe_free(p);
}

void ain_plan_stop(ain_plan_t *p) {
  if (p == NULL || p->stopping) {
    return;
  }
  p->stopping = 1;
  uv_close((uv_handle_t *)&p->interval, on_handle_closed);
  uv_close((uv_handle_t *)&p->debounce, on_handle_closed);
  if (p->watching) {
    uv_close((uv_handle_t *)&p->watch, on_handle_closed);
  }
  if (p->call != NULL) {
    ain_lua_call_cancel(p->call, AIN_ESHUTDOWN, "the engine is stopping");
  }
  ain_sources_stop(p->sources);
  p->sources = NULL;
  maybe_free(p);
}

void ain_plan_stats(const ain_plan_t *p, ain_plan_stats_t *out) {
  *out = p->st;
  /* records pending in a source or a first attempt still out count as work (--until-idle) */
  out->running = p->running ||
                 (p->sources != NULL && !p->last_failed && !ain_sources_settled(p->sources));
}

/* ---- one run -----------------------------------------------------------------------------------
 */

static void free_run(ain_plan_t *p) {
  free(p->text);
  p->text = NULL;
  free(p->feeds);
  p->feeds = NULL;
  cJSON_Delete(p->feeds_arr);
  p->feeds_arr = NULL;
  p->feeds_len = p->nfeeds = 0;
  p->run_ok = 0;
  for (size_t i = 0; i < p->npersonas; i++) {
    free(p->personas[i]);
  }
  free(p->personas);
  p->personas = NULL;
  p->npersonas = 0;
  for (size_t i = 0; i < p->nitems; i++) {
    free(p->tasks[i].payload);
    free(p->tasks[i].traceparent);
  }
  free(p->items);
  free(p->tasks);
  free(p->spans);
  free(p->versions);
  p->items = NULL;
  p->tasks = NULL;
  p->spans = NULL;
  p->versions = NULL;
  p->nitems = 0;
  cJSON_Delete(p->result);
  p->result = NULL;
}

static void end_run(ain_plan_t *p, int failed) {
  if (p->nfeeds > 0 && p->sources != NULL) {
    if (p->run_ok && !failed) {
      ain_sources_ack(p->sources);
    } else {
      ain_sources_release(p->sources);
    }
  }
  p->last_failed = failed || (p->nfeeds > 0 && !p->run_ok);
  free_run(p);
  p->running = 0;
  p->st.runs++;
  p->st.failures += failed;
  if (p->o.on_run != NULL) {
    p->o.on_run(p->o.data);
  }
  if (p->stopping) {
    maybe_free(p);
  } else if (p->again) {
    p->again = 0;
    trigger(p);
  }
}

/* What a run planned from, for its log lines: the file, the trend sources, or both. */
static const char *inputs_of(const ain_plan_t *p, char *buf, size_t cap) {
  if (p->path[0] == '\0') {
    snprintf(buf, cap, "the trend sources");
  } else {
    snprintf(buf, cap, "%s%s", p->path, p->nfeeds > 0 ? " and the trend sources" : "");
  }
  return buf;
}

/* One root span per newly planned trend (a pair planned before made no task: no trace). */
static void export_spans(ain_plan_t *p) {
  if (p->o.trace == NULL) {
    return;
  }
  int64_t end = ain_trace_now_ns();
  cJSON *v = p->versions ? cJSON_Parse(p->versions) : NULL;
  const cJSON *sha = cJSON_GetObjectItemCaseSensitive(v, "planner");
  for (size_t i = 0; i < p->nitems; i++) {
    if (!p->items[i].planned) {
      continue;
    }
    ain_span_t *s = ain_span_new(&p->spans[i], NULL, "plan", AIN_SPAN_KIND_INTERNAL,
                                 p->run_start_ns);
    s->end_unix_ns = end;
    ain_span_attr_str(s, "ain.task_id", p->tasks[i].id);
    ain_span_attr_str(s, "ain.type", p->tasks[i].type);
    ain_span_attr_str(s, "ain.persona_id", p->items[i].persona_id);
    ain_span_attr_str(s, "ain.trend_key", p->items[i].trend_key);
    ain_span_attr_str(s, "ain.actor", p->actor);
    if (cJSON_IsString(sha)) {
      ain_span_attr_str(s, "ain.policy.planner.sha256", sha->valuestring);
    }
    ain_span_set_status(s, AIN_SPAN_STATUS_OK, NULL);
    ain_trace_submit(p->o.trace, s);
  }
  cJSON_Delete(v);
}

static void on_committed(ain_store_req_t *req) {
  ain_plan_t *p = req->data;
  if (req->status != 0) {
    ain_log_error("planner: committing %zu task(s): %s", p->nitems, req->err.msg);
    ain_store_req_cleanup(req);
    end_run(p, 1);
    return;
  }
  int planned = req->u.plan_commit.planned;
  p->st.planned += planned;
  p->run_ok = 1;
  char what[4200];
  export_spans(p);
  ain_log_info("planner: %d new generate_video task(s) from %s (%zu already planned by another "
               "run)",
               planned, inputs_of(p, what, sizeof what), p->nitems - (size_t)planned);
  ain_store_req_cleanup(req);
  end_run(p, 0);
}

static const char *jstr(cJSON *o, const char *k) {
  cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* "file:line" of a record the policy reported, or a feed record's "source#n". */
static const char *line_of(ain_plan_t *p, cJSON *it, char *buf, size_t cap) {
  cJSON *line = cJSON_GetObjectItemCaseSensitive(it, "line");
  const char *src = jstr(it, "source");
  if (cJSON_IsString(line)) {
    snprintf(buf, cap, "%s", line->valuestring);
  } else {
    snprintf(buf, cap, "%s:%d", src != NULL ? src : p->path,
             cJSON_IsNumber(line) ? (int)line->valuedouble : 0);
  }
  return buf;
}

/* Logs bad lines and skips; turns the policy's tasks into plan items. 0 or AIN_EINVAL. */
static int take_result(ain_plan_t *p, const char *json, ain_err_t *err) {
  p->result = cJSON_Parse(json);
  if (!cJSON_IsObject(p->result)) {
    return ain_err_set(err, AIN_EINVAL, "planner.run returned no object");
  }
  cJSON *it;
  char where[4200];
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(p->result, "bad")) {
    ain_log_warn("trends: %s: line skipped: %s", line_of(p, it, where, sizeof where),
                 jstr(it, "error") ? jstr(it, "error") : "bad line");
    p->st.bad++;
  }
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(p->result, "skipped")) {
    ain_log_debug("trends: %s: not planned: %s", line_of(p, it, where, sizeof where),
                  jstr(it, "reason") ? jstr(it, "reason") : "?");
    p->st.skipped++;
  }
  cJSON *tasks = cJSON_GetObjectItemCaseSensitive(p->result, "tasks");
  int n = cJSON_IsArray(tasks) ? cJSON_GetArraySize(tasks) : 0;
  if (n == 0) {
    return 0;
  }
  p->items = calloc((size_t)n, sizeof *p->items);
  p->tasks = calloc((size_t)n, sizeof *p->tasks);
  p->spans = calloc((size_t)n, sizeof *p->spans);
  if (p->items == NULL || p->tasks == NULL || p->spans == NULL) {
    abort();
  }
  const ain_config_t *cfg = p->o.cfg;
  cJSON_ArrayForEach(it, tasks) {
    cJSON *payload = cJSON_GetObjectItemCaseSensitive(it, "payload");
    const char *persona = jstr(it, "persona_id"), *key = jstr(payload, "trend_key");
    const char *type = jstr(it, "type");
    cJSON *prio = cJSON_GetObjectItemCaseSensitive(it, "priority");
    if (persona == NULL || key == NULL || !cJSON_IsObject(payload)) {
      return ain_err_set(err, AIN_EINVAL,
                         "planner.run: task %zu lacks persona_id or "
                         "payload.trend_key",
                         p->nitems + 1);
    }
    ain_task_t *t = &p->tasks[p->nitems];
    t->type = (char *)(type ? type : "generate_video");
    t->persona_id = (char *)persona;
    t->payload = cJSON_PrintUnformatted(payload);
    t->priority = cJSON_IsNumber(prio) ? (int)prio->valuedouble : 0;
    ain_task_defaults(t, cfg->queue.default_max_attempts);
    /* a new trace per trend; the task's parent is the trend's plan span */
    ain_trace_child(NULL, &p->spans[p->nitems]);
    char tp[AIN_TRACEPARENT_LEN + 1];
    ain_trace_format(&p->spans[p->nitems], tp);
    t->traceparent = ain_strdup(tp);
    ain_plan_item_t *pi = &p->items[p->nitems];
    pi->persona_id = persona;
    pi->trend_key = key;
    pi->trend_json = t->payload;
    pi->task = t;
    p->nitems++;
  }
  return 0;
}

static void on_policy(ain_lua_call_t *call, int status, const char *result_json, const char *error,
                      void *data) {
  ain_plan_t *p = data;
  p->call = NULL;
  free(p->versions);
  p->versions = ain_strdup(ain_lua_call_versions(call));
  if (status != 0) {
    ain_log_error("planner: scripts/agents/planner.lua run failed: %s", error);
    end_run(p, 1);
    return;
  }
  ain_err_t err;
  ain_err_clear(&err);
  if (take_result(p, result_json, &err) != 0) {
    ain_log_error("planner: %s", err.msg);
    end_run(p, 1);
    return;
  }
  if (p->nitems == 0 || p->stopping) {
    char what[4200];
    ain_log_info("planner: nothing new to plan in %s", inputs_of(p, what, sizeof what));
    p->run_ok = !p->stopping;
    end_run(p, 0);
    return;
  }
  ain_store_req_plan_commit(&p->req, p->items, p->nitems);
  p->req.data = p;
  p->req.cb = on_committed;
  p->req.actor = p->actor;
  if (ain_store_submit(p->o.store, &p->req) != 0) {
    ain_log_error("planner: %s", p->req.err.msg);
    end_run(p, 1);
  }
}

static void on_pairs(ain_store_req_t *req) {
  ain_plan_t *p = req->data;
  int status = req->status;
  if (status != 0 || p->stopping) {
    if (status != 0) {
      ain_log_error("planner: reading planned pairs: %s", req->err.msg);
    }
    ain_store_req_cleanup(req);
    end_run(p, status != 0);
    return;
  }
  cJSON *ctx = cJSON_CreateObject(), *payload = cJSON_CreateObject();
  cJSON *personas = cJSON_AddArrayToObject(ctx, "personas");
  for (size_t i = 0; i < p->npersonas; i++) {
    cJSON_AddItemToArray(personas, cJSON_CreateString(p->personas[i]));
  }
  /* the vector policy's knobs (vectors.* in the config, docs/vectors.md) */
  cJSON *pc = cJSON_AddObjectToObject(ctx, "config");
  cJSON_AddNumberToObject(pc, "dedup_threshold", p->o.cfg->vectors.dedup_threshold);
  cJSON_AddNumberToObject(pc, "dedup_window_hours", (double)p->o.cfg->vectors.dedup_window_hours);
  cJSON_AddNumberToObject(pc, "persona_min_similarity",
                          p->o.cfg->vectors.persona_min_similarity);
  /* how much what performed weighs (analytics.planner_weight, 0 = off; docs/publishing-after.md) */
  cJSON_AddNumberToObject(pc, "performance_weight", p->o.cfg->analytics.planner_weight);
  cJSON_AddNumberToObject(pc, "performance_days", (double)p->o.cfg->analytics.max_age_days);
  cJSON *done = cJSON_AddArrayToObject(ctx, "already_planned");
  for (size_t i = 0; i < req->u.planned_list.npairs; i++) {
    cJSON_AddItemToArray(done, cJSON_CreateString(req->u.planned_list.pairs[i]));
  }
  ain_store_req_cleanup(req);
  cJSON_AddStringToObject(payload, "text", p->text);
  if (p->feeds_arr != NULL) {
    /* records, not text: the host decodes them with the payload in C, where one ain.json.decode
     * per line in the policy was a third of the planner's time for 10,000 items */
    cJSON_AddItemToObject(payload, "feeds", p->feeds_arr);
    p->feeds_arr = NULL;
  }
  char *ctx_json = cJSON_PrintUnformatted(ctx), *payload_json = cJSON_PrintUnformatted(payload);
  cJSON_Delete(ctx);
  cJSON_Delete(payload);
  ain_lua_call_opts_t o = {
      .module = "planner", .function = "run", .payload_json = payload_json, .ctx_json = ctx_json};
  ain_err_t err;
  ain_err_clear(&err);
  ain_lua_call_t *call = NULL;
  p->call = NULL;
  int rc = ain_lua_call(p->lua, &o, on_policy, p, &call, &err);
  free(ctx_json);
  free(payload_json);
  if (rc != 0) {
    ain_log_error("planner: %s", err.msg);
    end_run(p, 1);
    return;
  }
  if (call != NULL) {
    p->call = call; /* still in flight (NULL when it already finished without yielding) */
  }
}

/* On the pool: the source text and the persona ids (scripts_dir/personas/<id>.lua). */
static void read_inputs(uv_work_t *w) {
  ain_plan_t *p = w->data;
  int rc = 0;
  if (p->path[0] != '\0') {
    rc = ain_read_file(p->path, &p->text, &p->len);
  } else {
    p->text = ain_strdup(""); /* only the sources of config key `sources` */
    p->len = 0;
  }
  p->read_rc = rc;
  if (rc != 0) {
    snprintf(p->read_err, sizeof p->read_err, "%s", strerror(-rc));
  } else {
    /* Ingest: nothing the policy sees (and so nothing the trends and tasks rows keep) holds PII */
    ain_err_t err;
    ain_err_clear(&err);
    memset(&p->pii, 0, sizeof p->pii);
    p->read_rc = ain_privacy_scrub_lines(p->o.privacy, &p->text, &p->len, &p->pii, &err);
    if (p->read_rc == 0 && p->feeds != NULL) {
      /* the same scrub for every source: nothing from a feed or a stream is stored unscrubbed */
      p->read_rc = ain_privacy_scrub_lines(p->o.privacy, &p->feeds, &p->feeds_len, &p->pii, &err);
    }
    if (p->read_rc == 0 && p->feeds != NULL) {
      p->feeds_arr = cJSON_CreateArray();
      for (char *line = p->feeds, *next; line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        if (next != NULL) {
          *next++ = '\0';
        }
        cJSON *rec = cJSON_Parse(line); /* a source's own output: valid unless the scrub broke it */
        cJSON_AddItemToArray(p->feeds_arr, rec != NULL ? rec : cJSON_CreateString(line));
      }
    }
    if (p->read_rc != 0) {
      snprintf(p->read_err, sizeof p->read_err, "%s", err.msg);
    }
  }
  char dir[4200];
  snprintf(dir, sizeof dir, "%s/personas", p->o.cfg->scripts_dir);
  DIR *d = opendir(dir);
  struct dirent *e;
  size_t cap = 0;
  while (d != NULL && (e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    if (n < 5 || strcmp(e->d_name + n - 4, ".lua") != 0 || e->d_name[0] == '.') {
      continue;
    }
    if (p->npersonas == cap) {
      cap = cap ? cap * 2 : 16;
      char **g = realloc(p->personas, cap * sizeof *g);
      if (g == NULL) {
        abort();
      }
      p->personas = g;
    }
    p->personas[p->npersonas] = ain_strdup(e->d_name);
    p->personas[p->npersonas][n - 4] = '\0';
    p->npersonas++;
  }
  if (d != NULL) {
    closedir(d);
  }
}

static void after_read(uv_work_t *w, int status) {
  ain_plan_t *p = w->data;
  if (status != 0 || p->stopping) {
    end_run(p, 0);
    return;
  }
  if (p->read_rc != 0) {
    ain_log_error("planner: cannot read the trend source %s: %s", p->path, p->read_err);
    end_run(p, 1);
    return;
  }
  if (p->pii.total > 0) {
    ain_log_info("planner: %lld personal data value(s) in %s replaced by %s tokens",
                 (long long)p->pii.total, p->path,
                 ain_privacy_keyed(p->o.privacy) ? "hashed" : "redacted");
  }
  if (p->npersonas == 0) {
    ain_log_error("planner: no persona in %s/personas", p->o.cfg->scripts_dir);
    end_run(p, 1);
    return;
  }
  ain_store_req_planned_list(&p->req);
  p->req.data = p;
  p->req.cb = on_pairs;
  p->req.actor = p->actor;
  if (ain_store_submit(p->o.store, &p->req) != 0) {
    ain_log_error("planner: %s", p->req.err.msg);
    end_run(p, 1);
  }
}

static void trigger(ain_plan_t *p) {
  if (p->stopping) {
    return;
  }
  if (p->running) {
    p->again = 1;
    return;
  }
  p->running = 1;
  ain_sources_take(p->sources, &p->feeds, &p->feeds_len, &p->nfeeds);
  p->run_start_ns = ain_trace_now_ns();
  p->work.data = p;
  int rc = uv_queue_work(p->loop, &p->work, read_inputs, after_read);
  if (rc != 0) {
    ain_log_error("planner: queueing the source read: %s", uv_strerror(rc));
    end_run(p, 1);
  }
}

/* ---- triggers ----------------------------------------------------------------------------------
 */

static void on_timer(uv_timer_t *t) {
  trigger(t->data);
}

/* An editor saves with several events (truncate, write, rename): one run after they settle. */
static void on_fs_event(uv_fs_event_t *h, const char *filename, int events, int status) {
  (void)events;
  ain_plan_t *p = h->data;
  if (status != 0 || p->stopping) {
    return;
  }
  if (filename != NULL && strcmp(filename, p->base) != 0) {
    return;
  }
  uv_timer_start(&p->debounce, on_timer, DEBOUNCE_MS, 0);
}

/* A source has new records: one run once a burst of them settles. */
static void on_records(void *data) {
  ain_plan_t *p = data;
  if (!p->stopping) {
    uv_timer_start(&p->debounce, on_timer, DEBOUNCE_MS, 0);
  }
}

int ain_plan_start(uv_loop_t *loop, const ain_plan_opts_t *opts, ain_plan_t **out, ain_err_t *err) {
  const char *src = opts->cfg->trends.source;
  if (src == NULL) {
    src = "";
  }
  if (src[0] == '\0' && opts->cfg->sources.n == 0) {
    return ain_err_field(err, AIN_ECONFIG, "trends.source", "no trend source configured");
  }
  ain_plan_t *p = calloc(1, sizeof *p);
  if (p == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  p->loop = loop;
  p->o = *opts;
  p->actor = ain_strdup(opts->actor ? opts->actor : "planner");
  snprintf(p->path, sizeof p->path, "%s", src);
  snprintf(p->dir, sizeof p->dir, "%s", src);
  char *slash = strrchr(p->dir, '/');
  if (slash != NULL) {
    snprintf(p->base, sizeof p->base, "%s", slash + 1);
    slash[slash == p->dir ? 1 : 0] = '\0';
  } else {
    snprintf(p->base, sizeof p->base, "%s", src);
    snprintf(p->dir, sizeof p->dir, ".");
  }
  const ain_config_t *cfg = opts->cfg;
  ain_lua_opts_t lo = {.scripts_dir = cfg->scripts_dir,
                       .name = "planner",
                       .mem_limit = (size_t)cfg->lua.mem_limit_mb << 20,
                       .cpu_budget = (uint64_t)cfg->lua.cpu_budget,
                       .allow_ffi = cfg->lua.allow_ffi,
                       .registry = opts->registry,
                       .spawn = &cfg->spawn,
                       .data_dir = cfg->data_dir,
                       /* ain.vectors: the planned trends' vectors and the window's search */
                       .store = opts->store};
  int rc = ain_lua_host_new(loop, &lo, &p->lua, err);
  if (rc != 0) {
    free(p->actor);
    free(p);
    return rc;
  }
  uv_timer_init(loop, &p->interval);
  uv_timer_init(loop, &p->debounce);
  uv_idle_init(loop, &p->fin);
  p->interval.data = p->debounce.data = p->fin.data = p;
  p->handles_open = 2;
  if (src[0] != '\0' && uv_fs_event_init(loop, &p->watch) == 0) {
    p->watch.data = p;
    p->handles_open++;
    p->watching = 1;
    int wrc = uv_fs_event_start(&p->watch, on_fs_event, p->dir, 0);
    if (wrc != 0) {
      ain_log_warn("planner: cannot watch %s (%s); re-planning every %lld ms only", p->dir,
                   uv_strerror(wrc), (long long)cfg->trends.interval_ms);
    }
  }
  uv_timer_start(&p->interval, on_timer, (uint64_t)cfg->trends.interval_ms,
                 (uint64_t)cfg->trends.interval_ms);
  uv_timer_start(&p->debounce, on_timer, 0, 0); /* the first run, on the next loop turn */
  if (src[0] != '\0') {
    ain_log_info("planner: planning from %s (every %lld ms and when it changes)", p->path,
                 (long long)cfg->trends.interval_ms);
  }
  if (cfg->sources.n > 0) {
    ain_sources_opts_t so = {.cfg = cfg, .store = opts->store, .on_records = on_records, .data = p};
    rc = ain_sources_start(loop, &so, &p->sources, err);
    if (rc != 0) {
      ain_log_error("planner: trend sources not started: %s", err->msg);
    }
  }
  *out = p;
  return 0;
}
