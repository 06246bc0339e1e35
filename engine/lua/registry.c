/* The script registry (lua/registry.h): watch, check, record, publish.
 * State per module lives on the registry's loop; what shards read (the serving source of every
 * module and the generation number) changes only under mu, and shards copy it into their own
 * Lua state when a call starts (ain__lua_registry_sync). A new version is published only after
 * the store has recorded it, so every sha an audit row names can be replayed.
 * Checks run on worker threads (a hub delivers their outcome to the loop); the loop keeps one
 * record per check in flight with its deadline, and a timer rejects the version whose check
 * passed it. Only the newest check of a module counts (entry_t.check_seq); an older one's outcome
 * is dropped when it arrives. A check abandoned at its deadline keeps its thread until it returns:
 * past REG_MAX_STUCK of those, new checks are refused until they return (or a restart).
 * Relies on: libuv (fs events, timers, mutex), loop/worker.h, lua/internal.h,
 * lua/registry_check.c, store/store.h, core/log.h. */
#include "lua/registry.h"
#include "obs/obs.h"

#include <dirent.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/utf8.h"
#include "core/util.h"
#include "loop/worker.h"
#include "lua/internal.h"

#define REG_DEFAULT_DEBOUNCE_MS 20
#define REG_DEFAULT_PIN_POLL_MS 1000
#define REG_MAX_STUCK 4 /* abandoned checks whose thread has not returned */
#define NDIRS 3         /* agents, personas, safety: the folders scanned */
#define NWATCH (NDIRS + 1) /* those and scripts_dir itself (a Kubernetes ..data swap) */

typedef struct {
  char module[128];
  char rel[200];       /* "agents/judge.lua" */
  char disk_sha[65];   /* content last seen on disk, valid or not; "" when the file is gone */
  char latest_sha[65]; /* newest valid version */
  char *latest_src;
  size_t latest_len;
  char pin_sha[65]; /* operator pin ("" = none) and its source once fetched */
  char *pin_src;
  size_t pin_len;
  char *error; /* why the disk version was rejected; NULL when it serves */
  int deleted;
  /* the check whose outcome counts (the newest): its seq, version and a copy of its source */
  int checking;
  uint64_t check_seq;
  char check_sha[65];
  char *check_src;
  size_t check_len;
  /* published: read by shards under mu */
  char serve_sha[65];
  char *serve_src;
  size_t serve_len;
} entry_t;

/* A check in flight, as the loop sees it (the job itself belongs to its thread meanwhile). */
typedef struct {
  uint64_t seq, deadline_ns;
  size_t idx;
  int abandoned; /* its deadline passed; its thread has not returned */
} check_rec_t;

struct ain_lua_registry {
  uv_loop_t *loop;
  ain_lua_registry_opts_t o;
  char *scripts_dir;
  uv_fs_event_t ev[NWATCH]; /* ev[NDIRS] watches scripts_dir itself */
  int watch_ok[NWATCH];      /* armed at the last try: a failure is logged once, not per event */
  uv_timer_t debounce, pin_timer;
  int handles_open;
  uv_mutex_t mu;
  atomic_uint_fast64_t gen;
  entry_t *e; /* grows; referred to by index from requests in flight */
  size_t n, cap;
  int inflight; /* store requests whose callback has not run */
  int pin_inflight;
  ain_worker_hub_t *hub; /* checks on worker threads report here */
  uv_timer_t deadline;   /* the earliest deadline of a check in flight */
  check_rec_t *checks;   /* every check started and not returned, newest or not */
  size_t nchecks, checks_cap;
  uint64_t next_seq;
  int closing;
  void (*close_cb)(void *data);
  void *close_data;
};

typedef struct {
  ain_store_req_t req;
  ain_lua_registry_t *r;
  size_t idx;
  char sha[65];
  char *src;
  size_t len;
  int valid;
} put_op_t;

static const char *const dirs[NDIRS] = {"agents", "personas", "safety"};

static void maybe_free(ain_lua_registry_t *r);
static void fallback_from_store(ain_lua_registry_t *r, size_t idx);

static entry_t *entry_for(ain_lua_registry_t *r, const char *module, const char *rel) {
  for (size_t i = 0; i < r->n; i++) {
    if (strcmp(r->e[i].module, module) == 0) {
      return &r->e[i];
    }
  }
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 16;
    uv_mutex_lock(&r->mu); /* shards read the array */
    entry_t *g = realloc(r->e, cap * sizeof *g);
    if (g == NULL) {
      abort();
    }
    r->e = g;
    r->cap = cap;
    uv_mutex_unlock(&r->mu);
  }
  entry_t *e = &r->e[r->n];
  memset(e, 0, sizeof *e);
  snprintf(e->module, sizeof e->module, "%s", module);
  snprintf(e->rel, sizeof e->rel, "%s", rel);
  uv_mutex_lock(&r->mu);
  r->n++;
  uv_mutex_unlock(&r->mu);
  return e;
}

/* Recomputes what every module serves (its pin, else its newest valid version); bumps the
 * generation when anything changed. */
static void publish(ain_lua_registry_t *r) {
  int changed = 0;
  uv_mutex_lock(&r->mu);
  for (size_t i = 0; i < r->n; i++) {
    entry_t *e = &r->e[i];
    int pinned = e->pin_sha[0] && e->pin_src != NULL;
    const char *sha = pinned ? e->pin_sha : e->latest_sha;
    const char *src = pinned ? e->pin_src : e->latest_src;
    size_t len = pinned ? e->pin_len : e->latest_len;
    if (src == NULL || strcmp(sha, e->serve_sha) == 0) {
      continue;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL) {
      abort();
    }
    memcpy(copy, src, len);
    copy[len] = '\0';
    free(e->serve_src);
    e->serve_src = copy;
    e->serve_len = len;
    ain_log_info("policy %s: serving version %.12s (%s)", e->module, sha,
                 pinned ? "pinned" : "newest valid");
    const char *info[2] = {e->module, sha};
    ain_obs_info_set(AIN_M_POLICY_VERSION, info);
    snprintf(e->serve_sha, sizeof e->serve_sha, "%s", sha);
    changed = 1;
  }
  uint64_t g = atomic_load(&r->gen);
  if (changed) {
    g++;
    atomic_store(&r->gen, g);
  }
  uv_mutex_unlock(&r->mu);
  if (changed && r->o.on_publish != NULL) {
    r->o.on_publish(r->o.data, g);
  }
}

void ain__lua_registry_sync(ain_lua_host_t *h) {
  ain_lua_registry_t *r = h->registry;
  if (atomic_load(&r->gen) == h->registry_gen) {
    return;
  }
  lua_State *L = h->L;
  uv_mutex_lock(&r->mu);
  for (size_t i = 0; i < r->n; i++) {
    entry_t *e = &r->e[i];
    if (e->serve_src == NULL) {
      continue;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->sources_ref);
    lua_getfield(L, -1, e->module);
    int same = 0;
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "sha");
      same = lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), e->serve_sha) == 0;
      lua_pop(L, 1);
    }
    lua_pop(L, 2);
    if (!same) {
      ain_lua_host_set_source(h, e->module, e->serve_src, e->serve_len, NULL, NULL);
    }
  }
  h->registry_gen = atomic_load(&r->gen);
  uv_mutex_unlock(&r->mu);
}

/* ---- recording ----------------------------------------------------------------------------- */

static void put_applied(put_op_t *op) {
  ain_lua_registry_t *r = op->r;
  entry_t *e = &r->e[op->idx];
  if (op->valid) {
    free(e->latest_src);
    e->latest_src = op->src;
    e->latest_len = op->len;
    op->src = NULL;
    snprintf(e->latest_sha, sizeof e->latest_sha, "%s", op->sha);
    /* a pin on this very version can use this source */
    if (e->pin_sha[0] && e->pin_src == NULL && strcmp(e->pin_sha, op->sha) == 0) {
      e->pin_src = ain_strdup(e->latest_src);
      e->pin_len = e->latest_len;
    }
    publish(r);
  }
}

static void put_finish(put_op_t *op) {
  ain_store_req_t *req = &op->req;
  ain_lua_registry_t *r = op->r;
  r->inflight--;
  if (req->status != 0) {
    ain_log_error("script registry: recording %s version %.12s: %s", r->e[op->idx].module, op->sha,
                  req->err.msg);
  }
  /* Publish only what the store has: every sha an audit row names must be replayable. */
  if (req->status == 0 && !r->closing) {
    put_applied(op);
  }
  ain_store_req_cleanup(req);
  free(op->src);
  free(op);
  maybe_free(r);
}

static void put_done(ain_store_req_t *req) {
  put_finish(req->data);
}

/* Records a version (valid or rejected) and, once the store has it, publishes a valid one.
 * Takes ownership of src. */
static void record(ain_lua_registry_t *r, size_t idx, const char *sha, char *src, size_t len,
                   const char *error, int wait) {
  put_op_t *op = calloc(1, sizeof *op);
  if (op == NULL) {
    abort();
  }
  op->r = r;
  op->idx = idx;
  snprintf(op->sha, sizeof op->sha, "%s", sha);
  op->valid = error == NULL;
  if (!op->valid && !ain_utf8_locate(src, len, NULL)) {
    /* a version rejected for its bytes is still recorded (sha, error), with those bytes escaped:
     * a text column refuses them; it never runs, so nothing needs the exact bytes */
    char *text = ain_utf8_escape_invalid(src, len, &len);
    free(src);
    src = text;
  }
  op->src = src;
  op->len = len;
  if (r->o.store == NULL) {
    put_applied(op);
    free(op->src);
    free(op);
    return;
  }
  ain_store_req_script_put(&op->req, r->e[idx].module, op->sha, op->src, error);
  op->req.data = op;
  op->req.cb = put_done;
  op->req.actor = "registry";
  r->inflight++;
  if (wait) { /* start-up: no callback, the request must outlive ain_store_wait */
    op->req.cb = NULL;
    ain_store_wait(r->o.store, &op->req);
    put_finish(op);
  } else if (ain_store_submit(r->o.store, &op->req) != 0) {
    op->req.status = op->req.err.code ? op->req.err.code : AIN_ESTORE;
    put_finish(op);
  }
}

/* ---- checking ------------------------------------------------------------------------------ */

/* A check's outcome for the version on disk (the newest one): log it, record it, and at start-up
 * fall back to the store's last valid version when it was rejected. Takes ownership of src. */
static void checked(ain_lua_registry_t *r, size_t idx, const char *sha, char *src, size_t len,
                    int rc, const ain_err_t *err, int wait) {
  entry_t *e = &r->e[idx];
  free(e->error);
  e->error = NULL;
  const char *reload[2] = {e->module, rc != 0 ? "rejected" : "accepted"};
  ain_obs_inc(AIN_M_POLICY_RELOADS, reload);
  if (rc != 0) {
    size_t n = strlen(err->msg) + 32;
    e->error = malloc(n);
    if (e->error == NULL) {
      abort();
    }
    snprintf(e->error, n, "%s: %s", ain_err_name(rc), err->msg);
    ain_log_error("policy %s: version %.12s rejected: %s; %s%.12s keeps serving", e->module, sha,
                  e->error, e->serve_src ? "version " : "no version",
                  e->serve_src ? e->serve_sha : "");
  } else {
    ain_log_info("policy %s: version %.12s is valid", e->module, sha);
  }
  record(r, idx, sha, src, len, e->error, wait);
  if (rc != 0 && wait && r->o.store != NULL && r->e[idx].latest_src == NULL) {
    fallback_from_store(r, idx);
  }
}

static size_t stuck_count(const ain_lua_registry_t *r) {
  size_t n = 0;
  for (size_t i = 0; i < r->nchecks; i++) {
    n += r->checks[i].abandoned != 0;
  }
  return n;
}

static void on_deadline(uv_timer_t *t);

/* Arms the timer for the earliest deadline of a check not yet abandoned. */
static void arm_deadline(ain_lua_registry_t *r) {
  uint64_t first = UINT64_MAX;
  for (size_t i = 0; i < r->nchecks; i++) {
    if (!r->checks[i].abandoned && r->checks[i].deadline_ns < first) {
      first = r->checks[i].deadline_ns;
    }
  }
  if (first == UINT64_MAX || r->closing) {
    uv_timer_stop(&r->deadline);
    return;
  }
  uint64_t now = ain_mono_ns();
  /* +1: the loop's cached time may lag the clock, and an early wake-up just re-arms */
  uint64_t ms = first > now ? (first - now) / 1000000 + 1 : 0;
  uv_timer_start(&r->deadline, on_deadline, ms, 0);
}

static void on_deadline(uv_timer_t *t) {
  ain_lua_registry_t *r = t->data;
  uint64_t now = ain_mono_ns();
  uint64_t ms = (r->o.check.timeout_ms ? r->o.check.timeout_ms : AIN_LUA_CHECK_DEFAULT_TIMEOUT_MS) +
                AIN_LUA_CHECK_GRACE_MS;
  for (size_t i = 0; i < r->nchecks; i++) {
    check_rec_t *c = &r->checks[i];
    if (c->abandoned || c->deadline_ns > now) {
      continue;
    }
    c->abandoned = 1;
    entry_t *e = &r->e[c->idx];
    ain_log_warn("policy %s: a check did not return within %llu ms; its thread is abandoned "
                 "(%zu abandoned, at most %d before new checks are refused)",
                 e->module, (unsigned long long)ms, stuck_count(r), REG_MAX_STUCK);
    if (e->checking && e->check_seq == c->seq) {
      e->checking = 0;
      ain_err_t err;
      int rc = ain__lua_check_timed_out(e->module, ms, &err);
      char *src = e->check_src;
      e->check_src = NULL;
      checked(r, c->idx, e->check_sha, src, e->check_len, rc, &err, 0);
    }
  }
  arm_deadline(r);
}

/* A check returned on its thread (the hub runs this on the loop). Owns the job. */
static void on_checked(void *arg, void *data) {
  ain__lua_check_job_t *job = arg;
  ain_lua_registry_t *r = data;
  int abandoned = 0;
  for (size_t i = 0; i < r->nchecks; i++) {
    if (r->checks[i].seq == job->seq) {
      abandoned = r->checks[i].abandoned;
      r->checks[i] = r->checks[--r->nchecks];
      break;
    }
  }
  entry_t *e = &r->e[job->idx];
  if (abandoned) {
    ain_log_info("policy %s: an abandoned check of version %.12s returned; its thread is free",
                 e->module, job->sha);
  } else if (!r->closing && e->checking && e->check_seq == job->seq) {
    e->checking = 0;
    char *src = e->check_src;
    e->check_src = NULL;
    checked(r, job->idx, job->sha, src, e->check_len, job->rc, &job->err, 0);
  } else {
    ain_log_debug("policy %s: version %.12s was checked after a newer one; outcome dropped",
                  e->module, job->sha);
  }
  ain__lua_check_job_free(job);
  arm_deadline(r);
}

/* Checks version sha of entry idx on a worker thread, in a scratch host that has every other
 * module's serving version, so what it requires at load time is what the shards would give it.
 * wait (start-up): blocks up to the check's deadline and handles the outcome before returning.
 * Otherwise the outcome arrives through on_checked or on_deadline. Copies src. */
static void start_check(ain_lua_registry_t *r, size_t idx, const char *sha, const char *src,
                        size_t len, int wait) {
  entry_t *e = &r->e[idx];
  ain__lua_check_job_t *job = ain__lua_check_job_new(&r->o.check, e->module, src, len);
  job->sources_only = 1; /* a module with no valid version must not load from disk either */
  for (size_t i = 0; i < r->n; i++) {
    if (r->e[i].serve_src != NULL && i != idx) {
      ain__lua_check_job_add_dep(job, r->e[i].module, r->e[i].serve_src, r->e[i].serve_len);
    }
  }
  job->idx = idx;
  job->seq = ++r->next_seq;
  snprintf(job->sha, sizeof job->sha, "%s", sha);
  char *copy = malloc(len + 1);
  if (copy == NULL) {
    abort();
  }
  memcpy(copy, src, len);
  copy[len] = '\0';
  if (wait) {
    ain_err_t err;
    ain_err_clear(&err);
    int rc = ain__lua_check_job_wait(job, &err);
    checked(r, idx, sha, copy, len, rc, &err, 1);
    return;
  }
  size_t stuck = stuck_count(r);
  if (stuck >= REG_MAX_STUCK) {
    ain_log_error("policy %s: version %.12s not checked: %zu earlier checks are stuck on their "
                  "threads (restart the engine to reclaim them); it is checked on its next change "
                  "or SIGHUP",
                  e->module, sha, stuck);
    e->disk_sha[0] = '\0'; /* the next event retries */
    ain__lua_check_job_free(job);
    free(copy);
    return;
  }
  uint64_t seq = job->seq;
  uint64_t deadline_ns = ain_mono_ns() + ain__lua_check_job_deadline_ms(job) * 1000000ull;
  if (ain_worker_hub_start(r->hub, ain__lua_check_job_run, job, ain__lua_check_job_free) != 0) {
    ain_log_error("policy %s: version %.12s not checked: cannot start a thread", e->module, sha);
    e->disk_sha[0] = '\0';
    ain__lua_check_job_free(job);
    free(copy);
    return;
  }
  if (r->nchecks == r->checks_cap) {
    size_t cap = r->checks_cap ? r->checks_cap * 2 : 8;
    check_rec_t *g = realloc(r->checks, cap * sizeof *g);
    if (g == NULL) {
      abort();
    }
    r->checks = g;
    r->checks_cap = cap;
  }
  r->checks[r->nchecks++] = (check_rec_t){.seq = seq, .deadline_ns = deadline_ns, .idx = idx};
  e->checking = 1;
  e->check_seq = seq;
  snprintf(e->check_sha, sizeof e->check_sha, "%s", sha);
  free(e->check_src);
  e->check_src = copy;
  e->check_len = len;
  arm_deadline(r);
}

/* ---- scanning ------------------------------------------------------------------------------ */

/* Start-up with a rejected file: the newest valid version the store recorded keeps serving, as it
 * would have in the process that recorded it. */
static void fallback_from_store(ain_lua_registry_t *r, size_t idx) {
  entry_t *e = &r->e[idx];
  ain_store_req_t list, get;
  ain_store_req_script_list(&list, e->module);
  if (ain_store_wait(r->o.store, &list) == 0) {
    for (size_t i = 0; i < list.u.script_list.nversions; i++) {
      const ain_script_version_t *v = &list.u.script_list.versions[i];
      if (v->error != NULL) {
        continue;
      }
      ain_store_req_script_get(&get, v->sha, e->module);
      if (ain_store_wait(r->o.store, &get) == 0 && get.u.script_get.version.source != NULL) {
        free(e->latest_src);
        e->latest_src = ain_strdup(get.u.script_get.version.source);
        e->latest_len = strlen(e->latest_src);
        snprintf(e->latest_sha, sizeof e->latest_sha, "%s", v->sha);
        ain_log_warn("policy %s: serving the last valid version %.12s from the store", e->module,
                     v->sha);
        publish(r);
      }
      ain_store_req_cleanup(&get);
      break;
    }
  }
  ain_store_req_cleanup(&list);
}

static void consider(ain_lua_registry_t *r, const char *rel, int force, int wait, char *seen) {
  char module[128];
  if (ain_lua_module_for_path(rel, module, sizeof module) != 0) {
    return;
  }
  char path[4400];
  snprintf(path, sizeof path, "%s/%s", r->scripts_dir, rel);
  char *src = NULL;
  size_t len = 0;
  if (ain_read_file(path, &src, &len) != 0) {
    return; /* vanished between readdir and open: the next event sees it gone */
  }
  entry_t *e = entry_for(r, module, rel);
  size_t idx = (size_t)(e - r->e);
  seen[idx] = 1;
  char sha[65];
  ain__lua_sha256_hex(src, len, sha);
  if (!force && !e->deleted && strcmp(sha, e->disk_sha) == 0) {
    free(src);
    return;
  }
  if (e->deleted) {
    ain_log_info("policy %s: %s is back", module, rel);
  }
  e->deleted = 0;
  snprintf(e->disk_sha, sizeof e->disk_sha, "%s", sha);
  if (!force && strcmp(sha, e->latest_sha) == 0) { /* back to the version that serves */
    free(e->error);
    e->error = NULL;
    e->checking = 0; /* the newest wins: a check of what was there in between no longer counts */
    free(src);
    return;
  }
  start_check(r, idx, sha, src, len, wait);
  free(src);
}

static void scan(ain_lua_registry_t *r, int force, int wait) {
  if (r->closing) {
    return;
  }
  char *seen = calloc(r->n + 256, 1);
  size_t seen_cap = r->n + 256;
  if (seen == NULL) {
    abort();
  }
  for (int d = 0; d < NDIRS; d++) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/%s", r->scripts_dir, dirs[d]);
    DIR *dh = opendir(dir);
    if (dh == NULL) {
      continue;
    }
    struct dirent *de;
    while ((de = readdir(dh)) != NULL) {
      if (r->n + 1 >= seen_cap) { /* entries may be added while scanning */
        char *g = realloc(seen, seen_cap * 2);
        if (g == NULL) {
          abort();
        }
        memset(g + seen_cap, 0, seen_cap);
        seen = g;
        seen_cap *= 2;
      }
      char rel[400];
      snprintf(rel, sizeof rel, "%s/%s", dirs[d], de->d_name);
      consider(r, rel, force, wait, seen);
    }
    closedir(dh);
  }
  for (size_t i = 0; i < r->n; i++) {
    entry_t *e = &r->e[i];
    if (!seen[i] && !e->deleted) {
      e->deleted = 1;
      e->disk_sha[0] = '\0';
      ain_log_warn("policy %s: %s was deleted; %s%.12s keeps serving", e->module, e->rel,
                   e->serve_src ? "version " : "no version", e->serve_src ? e->serve_sha : "");
    }
  }
  free(seen);
}

static void on_fs_event(uv_fs_event_t *ev, const char *filename, int events, int status);

/* (Re)arms watch d on the folder its path names now. inotify watches an inode, not a path: when
 * the folder is replaced (Kubernetes mounts a ConfigMap as `agents -> ..data/agents`, `..data ->
 * ..<timestamp>`, and an update writes a new timestamped folder, renames a new `..data` over the
 * old link and deletes the old folder), the old watch only reports the old folder's deletion and
 * then goes silent. Re-resolving the path after each burst of events follows the swap; the watch on
 * scripts_dir itself sees the `..data` rename even when no old file changed. Returns 1 if armed. */
static int arm_watch(ain_lua_registry_t *r, int d) {
  char dir[4200];
  if (d == NDIRS) {
    snprintf(dir, sizeof dir, "%s", r->scripts_dir);
  } else {
    snprintf(dir, sizeof dir, "%s/%s", r->scripts_dir, dirs[d]);
  }
  if (uv_is_active((uv_handle_t *)&r->ev[d])) {
    uv_fs_event_stop(&r->ev[d]);
  }
  int rc = uv_fs_event_start(&r->ev[d], on_fs_event, dir, 0);
  if (rc != 0 && r->watch_ok[d]) {
    ain_log_warn("script registry: cannot watch %s: %s (SIGHUP still reloads)", dir,
                 uv_strerror(rc));
  } else if (rc == 0 && !r->watch_ok[d]) {
    ain_log_info("script registry: watching %s again", dir);
  }
  r->watch_ok[d] = rc == 0;
  return rc == 0;
}

/* Re-arm before scanning: a change after the re-arm raises an event, one before it is scanned. */
static void rearm_and_scan(ain_lua_registry_t *r, int force, int wait) {
  if (!r->closing) {
    for (int d = 0; d < NWATCH; d++) {
      arm_watch(r, d);
    }
  }
  scan(r, force, wait);
}

static void on_debounce(uv_timer_t *t) {
  rearm_and_scan(t->data, 0, 0);
}

static void on_fs_event(uv_fs_event_t *ev, const char *filename, int events, int status) {
  ain_lua_registry_t *r = ev->data;
  if (status < 0) {
    ain_log_warn("script registry: watching: %s", uv_strerror(status));
    return;
  }
  /* Editors write a temp file and rename it over the policy: one save is several events. */
  uv_timer_start(&r->debounce, on_debounce,
                 (uint64_t)(r->o.debounce_ms > 0 ? r->o.debounce_ms : REG_DEFAULT_DEBOUNCE_MS), 0);
}

/* ---- pins ---------------------------------------------------------------------------------- */

typedef struct {
  ain_store_req_t req;
  ain_lua_registry_t *r;
  size_t idx;
} get_op_t;

static void get_finish(get_op_t *op) {
  ain_store_req_t *req = &op->req;
  ain_lua_registry_t *r = op->r;
  r->inflight--;
  entry_t *e = &r->e[op->idx];
  const ain_script_version_t *v = &req->u.script_get.version;
  if (req->status != 0) {
    ain_log_error("policy %s: pinned version %.12s: %s", e->module, e->pin_sha, req->err.msg);
  } else if (!r->closing && strcmp(v->sha, e->pin_sha) == 0 && v->error == NULL && v->source) {
    free(e->pin_src);
    e->pin_len = strlen(v->source);
    e->pin_src = ain_strdup(v->source);
    publish(r);
  }
  ain_store_req_cleanup(req);
  free(op);
  maybe_free(r);
}

static void get_done(ain_store_req_t *req) {
  get_finish(req->data);
}

static void apply_pins(ain_lua_registry_t *r, const ain_store_req_t *list, int wait) {
  int changed = 0;
  for (size_t i = 0; i < r->n; i++) {
    entry_t *e = &r->e[i];
    const char *pin = "";
    for (size_t k = 0; k < list->u.script_list.npins; k++) {
      if (strcmp(list->u.script_list.pins[k].module, e->module) == 0) {
        pin = list->u.script_list.pins[k].sha;
      }
    }
    if (strcmp(pin, e->pin_sha) == 0) {
      continue;
    }
    ain_log_info("policy %s: %s%.12s", e->module, pin[0] ? "pinned to " : "unpinned", pin);
    snprintf(e->pin_sha, sizeof e->pin_sha, "%s", pin);
    free(e->pin_src);
    e->pin_src = NULL;
    changed = 1;
    if (pin[0] == '\0') {
      continue;
    }
    if (strcmp(pin, e->latest_sha) == 0 && e->latest_src != NULL) {
      e->pin_src = ain_strdup(e->latest_src);
      e->pin_len = e->latest_len;
      continue;
    }
    get_op_t *op = calloc(1, sizeof *op);
    if (op == NULL) {
      abort();
    }
    op->r = r;
    op->idx = i;
    ain_store_req_script_get(&op->req, e->pin_sha, e->module);
    op->req.data = op;
    op->req.cb = get_done;
    r->inflight++;
    if (wait) {
      op->req.cb = NULL;
      ain_store_wait(r->o.store, &op->req);
      get_finish(op);
    } else if (ain_store_submit(r->o.store, &op->req) != 0) {
      op->req.status = AIN_ESTORE;
      get_finish(op);
    }
  }
  if (changed) {
    publish(r);
  }
}

static void pins_done(ain_store_req_t *req) {
  ain_lua_registry_t *r = req->data;
  r->inflight--;
  r->pin_inflight = 0;
  if (req->status != 0) {
    ain_log_warn("script registry: reading pins: %s", req->err.msg);
  } else if (!r->closing) {
    apply_pins(r, req, 0);
  }
  ain_store_req_cleanup(req);
  free(req);
  maybe_free(r);
}

static void poll_pins(ain_lua_registry_t *r, int wait) {
  if (r->o.store == NULL || r->pin_inflight || r->closing) {
    return;
  }
  ain_store_req_t *req = calloc(1, sizeof *req);
  if (req == NULL) {
    abort();
  }
  ain_store_req_script_list(req, NULL);
  req->u.script_list.pins_only = 1;
  req->data = r;
  req->cb = pins_done;
  r->inflight++;
  r->pin_inflight = 1;
  if (wait) {
    /* start-up: apply with inline fetches, then free through the callback path */
    req->cb = NULL;
    int rc = ain_store_wait(r->o.store, req);
    r->inflight--;
    r->pin_inflight = 0;
    if (rc == 0) {
      apply_pins(r, req, 1);
    } else {
      ain_log_warn("script registry: reading pins: %s", req->err.msg);
    }
    ain_store_req_cleanup(req);
    free(req);
  } else if (ain_store_submit(r->o.store, req) != 0) {
    req->status = AIN_ESTORE;
    pins_done(req);
  }
}

static void on_pin_timer(uv_timer_t *t) {
  poll_pins(t->data, 0);
}

/* ---- life ---------------------------------------------------------------------------------- */

int ain_lua_registry_new(uv_loop_t *loop, const ain_lua_registry_opts_t *opts,
                         ain_lua_registry_t **out, ain_err_t *err) {
  *out = NULL;
  if (loop == NULL || opts == NULL || opts->check.scripts_dir == NULL) {
    return ain_err_set(err, AIN_EINVAL, "script registry: loop and scripts_dir are required");
  }
  ain_lua_registry_t *r = calloc(1, sizeof *r);
  if (r == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  r->loop = loop;
  r->o = *opts;
  r->scripts_dir = ain_strdup(opts->check.scripts_dir);
  r->o.check.scripts_dir = r->scripts_dir;
  uv_mutex_init(&r->mu);
  atomic_store(&r->gen, 0);
  int rc = ain_worker_hub_new(loop, on_checked, r, &r->hub, err);
  if (rc != 0) {
    uv_mutex_destroy(&r->mu);
    free(r->scripts_dir);
    free(r);
    return rc;
  }
  scan(r, 1, 1);
  poll_pins(r, 1);
  if (atomic_load(&r->gen) == 0) {
    atomic_store(&r->gen, 1); /* shards sync once even with no policy at all */
  }
  uv_timer_init(loop, &r->debounce);
  uv_timer_init(loop, &r->pin_timer);
  uv_timer_init(loop, &r->deadline);
  r->debounce.data = r->pin_timer.data = r->deadline.data = r;
  r->handles_open = 4; /* the timers and the hub; the fs events count themselves below */
  int watching = 0;
  for (int d = 0; d < NWATCH; d++) {
    uv_fs_event_init(loop, &r->ev[d]);
    r->ev[d].data = r;
    r->handles_open++;
    r->watch_ok[d] = 1; /* so that a first failure is logged */
    if (arm_watch(r, d) && d < NDIRS) {
      watching++;
    }
  }
  int poll = opts->pin_poll_ms == 0 ? REG_DEFAULT_PIN_POLL_MS : opts->pin_poll_ms;
  if (opts->store != NULL && poll > 0) {
    uv_timer_start(&r->pin_timer, on_pin_timer, (uint64_t)poll, (uint64_t)poll);
  }
  size_t valid = 0;
  for (size_t i = 0; i < r->n; i++) {
    valid += r->e[i].serve_src != NULL;
  }
  ain_log_info("script registry: %zu of %zu policies valid, watching %d folder(s) of %s", valid,
               r->n, watching, r->scripts_dir);
  *out = r;
  return 0;
}

void ain_lua_registry_reload(ain_lua_registry_t *r) {
  if (r == NULL) {
    return;
  }
  ain_log_info("script registry: reloading every policy");
  rearm_and_scan(r, 1, 0);
  poll_pins(r, 0);
}

int ain_lua_registry_serving(ain_lua_registry_t *r, const char *module, char out[65]) {
  int rc = AIN_ENOTFOUND;
  out[0] = '\0';
  uv_mutex_lock(&r->mu);
  for (size_t i = 0; i < r->n; i++) {
    if (strcmp(r->e[i].module, module) == 0 && r->e[i].serve_src != NULL) {
      memcpy(out, r->e[i].serve_sha, 65);
      rc = 0;
    }
  }
  uv_mutex_unlock(&r->mu);
  return rc;
}

uint64_t ain_lua_registry_generation(ain_lua_registry_t *r) {
  return atomic_load(&r->gen);
}

static void maybe_free(ain_lua_registry_t *r) {
  if (!r->closing || r->handles_open > 0 || r->inflight > 0) {
    return;
  }
  for (size_t i = 0; i < r->n; i++) {
    free(r->e[i].latest_src);
    free(r->e[i].pin_src);
    free(r->e[i].serve_src);
    free(r->e[i].error);
    free(r->e[i].check_src);
  }
  free(r->e);
  free(r->checks);
  free(r->scripts_dir);
  uv_mutex_destroy(&r->mu);
  void (*cb)(void *) = r->close_cb;
  void *data = r->close_data;
  free(r);
  if (cb != NULL) {
    cb(data);
  }
}

static void on_hub_closed(void *data) {
  ain_lua_registry_t *r = data;
  r->handles_open--;
  maybe_free(r);
}

static void on_closed(uv_handle_t *h) {
  on_hub_closed(h->data);
}

void ain_lua_registry_close(ain_lua_registry_t *r, void (*cb)(void *data), void *data) {
  if (r == NULL) {
    if (cb) {
      cb(data);
    }
    return;
  }
  r->closing = 1;
  r->close_cb = cb;
  r->close_data = data;
  uv_close((uv_handle_t *)&r->debounce, on_closed);
  uv_close((uv_handle_t *)&r->pin_timer, on_closed);
  uv_close((uv_handle_t *)&r->deadline, on_closed);
  /* checks still running release their jobs themselves; none reports here any more */
  ain_worker_hub_close(r->hub, on_hub_closed, r);
  for (int d = 0; d < NWATCH; d++) {
    uv_close((uv_handle_t *)&r->ev[d], on_closed);
  }
}
