/* State-change events from the audit log and the nodes table (events.h): the mapping of audit
 * rows to events, the tail that releases them in id order without skipping late commits, and the
 * node diff.
 * Relies on: ops/events.h, ops/admin.h (nodes), store/store.h, cJSON. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "ops/admin.h"
#include "ops/events.h"

/* ---- types ----------------------------------------------------------------------------------- */

static const char *const type_names[] = {"task", "dag", "review", "node", "publisher"};
#define NTYPES (sizeof type_names / sizeof type_names[0])

const char *ain_ops_event_type_name(unsigned type) {
  for (size_t i = 0; i < NTYPES; i++) {
    if (type == (1u << i)) {
      return type_names[i];
    }
  }
  return "unknown";
}

int ain_ops_event_types_parse(const char *s, const char *field, unsigned *mask, ain_err_t *err) {
  *mask = 0;
  const char *p = s;
  for (;;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    unsigned bit = 0;
    for (size_t i = 0; i < NTYPES; i++) {
      if (strlen(type_names[i]) == len && strncmp(type_names[i], p, len) == 0) {
        bit = 1u << i;
      }
    }
    if (bit == 0) {
      return ain_err_field(err, AIN_EINVAL, field,
                           "'%s': unknown event type '%.*s' (task, dag, review, node, publisher)",
                           field, (int)(len > 32 ? 32 : len), p);
    }
    *mask |= bit;
    if (comma == NULL) {
      return 0;
    }
    p = comma + 1;
  }
}

/* ---- events ---------------------------------------------------------------------------------- */

static void events_push(ain_ops_events_t *e, ain_ops_event_t ev) {
  if (e->n == e->cap) {
    e->cap = e->cap ? e->cap * 2 : 32;
    e->v = realloc(e->v, e->cap * sizeof *e->v);
    if (e->v == NULL) {
      abort(); /* as ain_strdup: OOM is fatal */
    }
  }
  e->v[e->n++] = ev;
}

void ain_ops_events_free(ain_ops_events_t *e) {
  for (size_t i = 0; i < e->n; i++) {
    free(e->v[i].data);
  }
  free(e->v);
  memset(e, 0, sizeof *e);
}

static void add_str(cJSON *o, const char *k, const char *v) {
  if (v != NULL && v[0] != '\0') {
    cJSON_AddStringToObject(o, k, v);
  } else {
    cJSON_AddNullToObject(o, k);
  }
}

/* "review:approved" -> "approved"; NULL stays NULL. */
static const char *unprefix(const char *s) {
  const char *colon = s ? strchr(s, ':') : NULL;
  return colon ? colon + 1 : s;
}

/* "setting:publishers.paused=true" -> "paused", anything else "running". */
static const char *publisher_state(const char *s) {
  const char *eq = s ? strchr(s, '=') : NULL;
  return eq && strcmp(eq + 1, "true") == 0 ? "paused" : "running";
}

#define PAUSE_SETTING "setting:publishers.paused="

int ain_ops_event_of_audit(const ain_audit_t *a, ain_ops_event_t *ev) {
  memset(ev, 0, sizeof *ev);
  const char *to = a->to_status ? a->to_status : "";
  int has_dag = a->dag_id != NULL && a->dag_id[0] != '\0';
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "audit_id", (double)a->id);
  if (a->task_id != NULL && a->task_id[0] != '\0') {
    ev->type = AIN_OPS_EV_TASK;
    add_str(o, "task_id", a->task_id);
    add_str(o, "dag_id", a->dag_id);
    add_str(o, "type", a->task_type); /* null when the row's task is gone: not invented */
    add_str(o, "from", a->from_status);
    add_str(o, "to", to);
    add_str(o, "actor", a->actor);
    cJSON_AddNumberToObject(o, "state_version", (double)a->state_version);
  } else if (strncmp(to, "review:", 7) == 0 || strcmp(to, "video:published") == 0 ||
             strncmp(to, "post:", 5) == 0 || strcmp(to, "video:unpublished") == 0 ||
             strcmp(to, "video:flagged") == 0) {
    /* a video entering review, a decision, a publish receipt, a post taken down or a manual
     * takedown raised (post:takedown_required), a video flagged by compensation; the video id
     * is in detail */
    ev->type = AIN_OPS_EV_REVIEW;
    cJSON *d = a->detail ? cJSON_Parse(a->detail) : NULL;
    cJSON *vid = cJSON_GetObjectItemCaseSensitive(d, "video_id");
    add_str(o, "video_id", cJSON_IsString(vid) ? vid->valuestring : NULL);
    cJSON_Delete(d);
    add_str(o, "dag_id", a->dag_id);
    add_str(o, "from", unprefix(a->from_status));
    add_str(o, "to", unprefix(to));
    add_str(o, "actor", a->actor);
    cJSON_AddNumberToObject(o, "state_version", (double)a->state_version);
  } else if (strncmp(to, PAUSE_SETTING, strlen(PAUSE_SETTING)) == 0) {
    ev->type = AIN_OPS_EV_PUBLISHER;
    cJSON_AddNullToObject(o, "channel"); /* the pause is global: every channel */
    add_str(o, "from", publisher_state(a->from_status));
    add_str(o, "to", publisher_state(to));
    add_str(o, "actor", a->actor);
  } else if (has_dag && strchr(to, ':') == NULL && to[0] != '\0') {
    ev->type = AIN_OPS_EV_DAG;
    add_str(o, "dag_id", a->dag_id);
    add_str(o, "from", a->from_status);
    add_str(o, "to", to);
    add_str(o, "actor", a->actor);
  } else {
    cJSON_Delete(o); /* other settings, pins, purges, other video statuses */
    return 0;
  }
  cJSON_AddNumberToObject(o, "ts", (double)a->ts);
  ev->id = a->id;
  ev->data = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  if (ev->data == NULL) {
    abort(); /* as ain_strdup: OOM is fatal */
  }
  return 1;
}

char *ain_ops_event_sse(const ain_ops_event_t *ev, size_t *len) {
  size_t cap = strlen(ev->data) + 64;
  char *out = malloc(cap);
  if (out == NULL) {
    abort();
  }
  int n = ev->id > 0 ? snprintf(out, cap, "id: %lld\nevent: %s\ndata: %s\n\n", (long long)ev->id,
                                ain_ops_event_type_name(ev->type), ev->data)
                     : snprintf(out, cap, "event: %s\ndata: %s\n\n",
                                ain_ops_event_type_name(ev->type), ev->data);
  *len = (size_t)n;
  return out;
}

/* ---- the tail -------------------------------------------------------------------------------- */

struct ain_ops_node_seen {
  char *id;
  char status[16];
  int shards, running;
};

void ain_ops_tail_init(ain_ops_tail_t *t, int64_t after) {
  memset(t, 0, sizeof *t);
  t->hold_ms = AIN_OPS_TAIL_HOLD_MS;
  t->late_ms = AIN_OPS_TAIL_LATE_MS;
  if (after >= 0) {
    t->started = 1;
    t->released = t->high = after;
  }
}

static void free_nodes(ain_ops_tail_t *t) {
  for (size_t i = 0; i < t->nnodes; i++) {
    free(t->nodes[i].id);
  }
  free(t->nodes);
  t->nodes = NULL;
  t->nnodes = 0;
}

void ain_ops_tail_free(ain_ops_tail_t *t) {
  for (size_t i = 0; i < t->npending; i++) {
    free(t->pending[i].ev.data);
  }
  free(t->pending);
  free(t->gaps);
  free(t->late);
  free_nodes(t);
  memset(t, 0, sizeof *t);
}

static void *grow(void *v, size_t *cap, size_t n, size_t size) {
  if (n < *cap) {
    return v;
  }
  *cap = *cap ? *cap * 2 : 64;
  v = realloc(v, *cap * size);
  if (v == NULL) {
    abort();
  }
  return v;
}

/* Index of id in a sorted gap array, or -1. */
static long find_gap(const ain_ops_gap_t *g, size_t n, int64_t id) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (g[mid].id < id) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo < n && g[lo].id == id ? (long)lo : -1;
}

static void remove_at(void *v, size_t *n, size_t i, size_t size) {
  char *b = v;
  memmove(b + i * size, b + (i + 1) * size, (*n - i - 1) * size);
  (*n)--;
}

/* The oldest gaps past the cap are given up at once (a jump of thousands of ids is a bulk
 * rollback, not a commit in flight). */
static void add_gap(ain_ops_tail_t *t, int64_t id, int64_t now_ms) {
  if (t->ngaps >= AIN_OPS_TAIL_MAX_GAPS) {
    remove_at(t->gaps, &t->ngaps, 0, sizeof *t->gaps);
    t->given_up++;
  }
  t->gaps = grow(t->gaps, &t->capgaps, t->ngaps, sizeof *t->gaps);
  t->gaps[t->ngaps++] = (ain_ops_gap_t){id, now_ms};
}

/* Keeps pending sorted: a gap filled lands below rows read earlier. */
static void add_pending(ain_ops_tail_t *t, const ain_audit_t *a) {
  t->pending = grow(t->pending, &t->cappending, t->npending, sizeof *t->pending);
  size_t i = t->npending;
  while (i > 0 && t->pending[i - 1].id > a->id) {
    i--;
  }
  memmove(&t->pending[i + 1], &t->pending[i], (t->npending - i) * sizeof *t->pending);
  t->pending[i].id = a->id;
  if (!ain_ops_event_of_audit(a, &t->pending[i].ev)) {
    t->pending[i].ev.data = NULL;
  }
  t->npending++;
}

void ain_ops_tail_feed(ain_ops_tail_t *t, const ain_audit_t *rows, size_t n, int64_t now_ms,
                       ain_ops_events_t *out) {
  for (size_t i = 0; i < n; i++) {
    const ain_audit_t *a = &rows[i];
    long g;
    if (a->id > t->high) {
      /* ids skipped between the highest read and this one: maybe still in flight */
      int64_t from = t->high + 1;
      if (a->id - from > AIN_OPS_TAIL_MAX_GAPS) {
        t->given_up += a->id - AIN_OPS_TAIL_MAX_GAPS - from;
        from = a->id - AIN_OPS_TAIL_MAX_GAPS;
      }
      for (int64_t k = from; k < a->id; k++) {
        add_gap(t, k, now_ms);
      }
      t->high = a->id;
      add_pending(t, a);
    } else if ((g = find_gap(t->gaps, t->ngaps, a->id)) >= 0) {
      remove_at(t->gaps, &t->ngaps, (size_t)g, sizeof *t->gaps);
      add_pending(t, a);
    } else if ((g = find_gap(t->late, t->nlate, a->id)) >= 0) {
      remove_at(t->late, &t->nlate, (size_t)g, sizeof *t->late);
      t->given_up--;
      ain_ops_event_t ev;
      if (ain_ops_event_of_audit(a, &ev)) {
        ev.late = 1;
        events_push(out, ev);
      }
    } /* else: read before (a re-read of an id already released) */
  }
  /* Release in id order: a row, or a gap held long enough (then given up, but still re-read). */
  size_t p = 0;
  while (t->released < t->high) {
    int64_t next = t->released + 1;
    int64_t row = p < t->npending ? t->pending[p].id : INT64_MAX;
    int64_t gap = t->ngaps > 0 ? t->gaps[0].id : INT64_MAX;
    if (next == row) {
      if (t->pending[p].ev.data != NULL) {
        events_push(out, t->pending[p].ev);
      }
      p++;
    } else if (next == gap) {
      if (now_ms - t->gaps[0].seen_ms < t->hold_ms) {
        break;
      }
      t->late = grow(t->late, &t->caplate, t->nlate, sizeof *t->late);
      t->late[t->nlate++] = t->gaps[0]; /* ascending: gaps leave in id order */
      remove_at(t->gaps, &t->ngaps, 0, sizeof *t->gaps);
      t->given_up++;
    } else {
      /* ids neither read nor missing (dropped past the gap cap): skip to the next known one */
      int64_t known = row < gap ? row : gap;
      t->released = known <= t->high ? known - 1 : t->high;
      continue;
    }
    t->released = next;
  }
  if (p > 0) {
    memmove(t->pending, t->pending + p, (t->npending - p) * sizeof *t->pending);
    t->npending -= p;
  }
  /* Late ids are re-read for late_ms, at most the cap of one read. */
  size_t keep = 0;
  for (size_t i = 0; i < t->nlate; i++) {
    if (now_ms - t->late[i].seen_ms < t->late_ms) {
      t->late[keep++] = t->late[i];
    }
  }
  t->nlate = keep;
  while (t->nlate + t->ngaps > AIN_STORE_AUDIT_ALSO_MAX && t->nlate > 0) {
    remove_at(t->late, &t->nlate, 0, sizeof *t->late);
  }
  out->last_id = t->released;
}

size_t ain_ops_tail_also(const ain_ops_tail_t *t, int64_t *ids, size_t cap) {
  size_t n = 0;
  for (size_t i = 0; i < t->ngaps && n < cap; i++) {
    ids[n++] = t->gaps[i].id;
  }
  for (size_t i = 0; i < t->nlate && n < cap; i++) {
    ids[n++] = t->late[i].id;
  }
  return n;
}

/* Node events: a node that appeared, or whose state, shards or running count changed. */
static void diff_nodes(ain_ops_tail_t *t, const ain_ops_nodes_t *ns, ain_ops_events_t *out) {
  ain_ops_node_seen_t *now = calloc(ns->nnodes ? ns->nnodes : 1, sizeof *now);
  if (now == NULL) {
    abort();
  }
  for (size_t i = 0; i < ns->nnodes; i++) {
    const ain_node_t *n = &ns->nodes[i];
    now[i].id = ain_strdup(n->id ? n->id : "");
    snprintf(now[i].status, sizeof now[i].status, "%s", ain_ops_node_state(ns, n));
    now[i].shards = n->shards;
    now[i].running = n->running;
    const ain_ops_node_seen_t *was = NULL;
    for (size_t k = 0; k < t->nnodes; k++) {
      if (strcmp(t->nodes[k].id, now[i].id) == 0) {
        was = &t->nodes[k];
      }
    }
    if (!t->nodes_started || (was != NULL && strcmp(was->status, now[i].status) == 0 &&
                              was->shards == n->shards && was->running == n->running)) {
      continue;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "node_id", now[i].id);
    cJSON_AddStringToObject(o, "status", now[i].status);
    cJSON_AddNumberToObject(o, "heartbeat_at", (double)n->last_beat);
    cJSON_AddNumberToObject(o, "shards", n->shards);
    cJSON_AddNumberToObject(o, "running", n->running);
    ain_ops_event_t ev = {.type = AIN_OPS_EV_NODE, .data = cJSON_PrintUnformatted(o)};
    cJSON_Delete(o);
    if (ev.data == NULL) {
      abort();
    }
    events_push(out, ev);
  }
  free_nodes(t);
  t->nodes = now;
  t->nnodes = ns->nnodes;
  t->nodes_started = 1;
}

int ain_ops_tail_poll(ain_ops_t *ops, ain_ops_tail_t *t, int nodes, ain_ops_events_t *out,
                      ain_err_t *err) {
  ain_store_req_t req;
  int rc;
  if (!t->started) {
    ain_store_req_audit_newest(&req);
    if ((rc = ain_ops_wait(ops, &req, NULL, err)) != 0) {
      ain_store_req_cleanup(&req);
      return rc;
    }
    t->released = t->high = req.u.audit.nrows ? req.u.audit.rows[0].id : 0;
    t->started = 1;
    ain_store_req_cleanup(&req);
  }
  int64_t *also = malloc(AIN_STORE_AUDIT_ALSO_MAX * sizeof *also);
  if (also == NULL) {
    abort();
  }
  size_t nalso = ain_ops_tail_also(t, also, AIN_STORE_AUDIT_ALSO_MAX);
  int limit = t->limit > 0 ? t->limit : 1000;
  ain_store_req_audit_tail(&req, t->high, 0, also, nalso, limit);
  rc = ain_ops_wait(ops, &req, NULL, err);
  free(also);
  if (rc != 0) {
    ain_store_req_cleanup(&req);
    return rc;
  }
  size_t fresh = 0;
  for (size_t i = 0; i < req.u.audit.nrows; i++) {
    fresh += req.u.audit.rows[i].id > t->high;
  }
  ain_ops_tail_feed(t, req.u.audit.rows, req.u.audit.nrows, ain_now_ms(), out);
  out->more = fresh >= (size_t)limit;
  ain_store_req_cleanup(&req);
  if (nodes) {
    ain_ops_nodes_t ns;
    if ((rc = ain_ops_nodes(ops, &ns, err)) != 0) {
      return rc;
    }
    diff_nodes(t, &ns, out);
    ain_ops_nodes_free(&ns);
  }
  return 0;
}

int ain_ops_events_read(ain_ops_t *ops, int64_t after, int64_t upto, int limit,
                        ain_ops_events_t *out, ain_err_t *err) {
  ain_store_req_t req;
  ain_store_req_audit_tail(&req, after, upto, NULL, 0, limit);
  int rc = ain_ops_wait(ops, &req, NULL, err);
  if (rc != 0) {
    ain_store_req_cleanup(&req);
    return rc;
  }
  out->last_id = after;
  for (size_t i = 0; i < req.u.audit.nrows; i++) {
    ain_ops_event_t ev;
    if (ain_ops_event_of_audit(&req.u.audit.rows[i], &ev)) {
      events_push(out, ev);
    }
    out->last_id = req.u.audit.rows[i].id;
  }
  out->more = req.u.audit.nrows >= (size_t)(limit > 0 ? limit : 1000);
  ain_store_req_cleanup(&req);
  return 0;
}
