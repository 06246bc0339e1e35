/* GET /v1/events: Server-Sent Events of state changes (task, dag, review, node, publisher).
 *
 * One poller per server, not one per client: a job on a worker runs the ops layer's tail
 * (ops/events.h: the audit log in id order without skipping late Postgres commits, and the
 * nodes table's changes) every api.events_poll_ms while a stream is open; its events are fanned
 * out on the server's loop. Each stream is an h2o streaming response: bytes are handed to h2o one
 * batch at a time (h2o_send, then wait for the generator's proceed); what waits meanwhile is the
 * stream's backlog. A backlog past 1 MiB means the client does not read: its socket is shut
 * down (h2o sees the error and frees the request; logged). A ": ping" comment every 15 s keeps
 * proxies from timing the stream out.
 *
 * Resume (Last-Event-ID, or ?after=): the events released recently stay in a ring; a resume
 * inside it is answered from memory, an older one is read from the store on a worker in pages
 * (ops/events.h's plain read) until it reaches the ring, then the stream goes live. Without
 * either the stream starts at "now".
 *
 * Shutdown: every stream gets its final (empty) chunk at once; a stream whose client does not
 * take it within KILL_MS has its socket shut down, so the drain never waits on a reader.
 *
 * Relies on: internal.h (work.c, respond.c, opjob.c's query parser), ops/events.h, h2o. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "api/internal.h"
#include "core/log.h"
#include "ops/events.h"

#define PING_MS 15000
#define BACKLOG_MAX (1u << 20) /* unsent bytes past which a client is disconnected */
#define CATCHUP_LOW (256u << 10) /* a catch-up reads its next page below this backlog */
#define CATCHUP_PAGE 500
#define RING_MAX 8192 /* events kept for resumes */
#define KILL_MS 300   /* at shutdown: time for a client to take its final chunk */

enum { WAITING, CATCHUP, LIVE };

typedef struct {
  int64_t id;
  int late;
  unsigned type;
  char *frame;
  size_t len;
} ring_ev_t;

typedef struct client client_t;
struct client {
  h2o_generator_t gen; /* first: h2o hands it back to proceed and stop */
  h2o_req_t *req;      /* NULL once h2o freed the request */
  struct ain__api_events *ev;
  client_t *prev, *next;
  void **slot; /* in the request's pool: finds us when the request is freed */
  unsigned mask;
  int64_t after; /* resume point; -1 = now */
  int64_t floor; /* live: in-order events at or below it were seen already */
  int state;
  int catchup_running, catchup_wanted;
  char *out; /* the backlog: not yet handed to h2o */
  size_t out_len, out_cap;
  char *wire; /* handed to h2o, kept until proceed */
  size_t wire_len;
  int sending, ending, ended, stopped, killed;
  char peer[64];
};

struct ain__api_events {
  ain_api_t *api;
  client_t *clients;
  int nclients;
  ain_ops_tail_t tail; /* touched by the poll job alone (one at a time) */
  int reset_tail;      /* the next poll starts the tail at "now" again */
  int started;         /* a poll answered since the last reset */
  int64_t released;    /* the tail's watermark after the last poll */
  ring_ev_t *ring;
  size_t ring_head, ring_n;
  int64_t ring_base; /* every in-order event above it released so far is in the ring */
  uv_timer_t poll_timer, ping_timer, kill_timer;
  int timers_on, poll_running, closed;
  uint64_t last_err_log;
};

typedef struct {
  ain__api_job_t job;
  struct ain__api_events *ev;
  int reset;
  int rc;
  ain_err_t err;
  ain_ops_events_t out;
} poll_job_t;

typedef struct {
  ain__api_job_t job;
  client_t *c;
  int64_t after, upto;
  int rc;
  ain_err_t err;
  ain_ops_events_t out;
} catchup_job_t;

static void poll_submit(struct ain__api_events *ev);

/* ---- one stream ------------------------------------------------------------------------------ */

static void client_free(client_t *c) {
  free(c->out);
  free(c->wire);
  free(c);
}

static void client_unlink(client_t *c) {
  struct ain__api_events *ev = c->ev;
  if (c->prev) {
    c->prev->next = c->next;
  } else if (ev->clients == c) {
    ev->clients = c->next;
  }
  if (c->next) {
    c->next->prev = c->prev;
  }
  c->prev = c->next = NULL;
  ev->nclients--;
}

/* h2o freed the request (the client left, the response ended, or the connection closed). */
static void on_req_disposed(void *obj) {
  client_t *c = *(client_t **)obj;
  if (c == NULL) {
    return;
  }
  c->req = NULL;
  client_unlink(c);
  if (!c->catchup_running) {
    client_free(c);
  } /* else the catch-up's done frees it */
}

/* Hands the backlog to h2o when it is not busy with the previous batch. */
static void flush(client_t *c) {
  if (c->req == NULL || c->stopped || c->ended || c->killed || c->sending) {
    return;
  }
  if (c->out_len == 0 && !c->ending) {
    return;
  }
  free(c->wire);
  c->wire = c->out;
  c->wire_len = c->out_len;
  c->out = NULL;
  c->out_len = c->out_cap = 0;
  h2o_iovec_t buf = h2o_iovec_init(c->wire, c->wire_len);
  c->sending = 1;
  if (c->ending) {
    c->ended = 1;
  }
  h2o_send(c->req, &buf, c->wire_len ? 1 : 0,
           c->ended ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
}

/* The client does not read: shut its socket down. h2o's pending write fails, and h2o frees the
 * request through its own error path (a close here would pull the socket from under it). */
static void kill_client(client_t *c, const char *why) {
  if (c->killed || c->req == NULL) {
    return;
  }
  c->killed = 1;
  if (why != NULL) {
    ain_log_warn("api: event stream to %s closed: %s", c->peer, why);
  }
  h2o_socket_t *sock = c->req->conn->callbacks->get_socket(c->req->conn);
  if (sock != NULL) {
    shutdown(h2o_socket_get_fd(sock), SHUT_RDWR);
  }
  if (!c->sending) {
    /* nothing in flight for the error to surface on: end the stream instead */
    c->ending = 1;
    c->killed = 0;
    flush(c);
    c->killed = 1;
  }
}

static void client_send(client_t *c, const char *frame, size_t len) {
  if (c->req == NULL || c->stopped || c->ended || c->killed || c->ending) {
    return;
  }
  if (c->out_len + c->wire_len + len > BACKLOG_MAX) {
    char why[128];
    snprintf(why, sizeof why, "%zu bytes unsent (more than %u): the client does not read",
             c->out_len + c->wire_len + len, BACKLOG_MAX);
    kill_client(c, why);
    return;
  }
  if (c->out_len + len > c->out_cap) {
    size_t cap = c->out_cap ? c->out_cap : 4096;
    while (cap < c->out_len + len) {
      cap *= 2;
    }
    char *grown = realloc(c->out, cap);
    if (grown == NULL) {
      kill_client(c, "out of memory");
      return;
    }
    c->out = grown;
    c->out_cap = cap;
  }
  memcpy(c->out + c->out_len, frame, len);
  c->out_len += len;
  flush(c);
}

static void catchup_submit(client_t *c);

static void on_proceed(h2o_generator_t *g, h2o_req_t *req) {
  (void)req;
  client_t *c = (client_t *)g;
  c->sending = 0;
  free(c->wire);
  c->wire = NULL;
  c->wire_len = 0;
  if (c->catchup_wanted && c->out_len < CATCHUP_LOW) {
    c->catchup_wanted = 0;
    catchup_submit(c);
  }
  flush(c);
}

static void on_stop(h2o_generator_t *g, h2o_req_t *req) {
  (void)req;
  ((client_t *)g)->stopped = 1; /* the request is being freed: send nothing more */
}

/* ---- joining: the ring, a catch-up from the store, live ------------------------------------- */

static int wants(const client_t *c, unsigned type) {
  return (c->mask & type) != 0;
}

static void go_live(client_t *c, int64_t floor) {
  c->state = LIVE;
  c->floor = floor;
}

static void join(client_t *c);

static void catchup_run(ain__api_job_t *job, ain__api_worker_t *w) {
  catchup_job_t *j = (catchup_job_t *)job;
  if (!w->ops_open) {
    j->rc = ain_err_set(&j->err, AIN_ESTORE, "no store handle: %s", w->open_err.msg);
    return;
  }
  j->rc = ain_ops_events_read(&w->ops, j->after, j->upto, CATCHUP_PAGE, &j->out, &j->err);
}

static void catchup_done(ain__api_job_t *job, int cancelled) {
  catchup_job_t *j = (catchup_job_t *)job;
  client_t *c = j->c;
  c->catchup_running = 0;
  if (c->req == NULL) {
    client_free(c); /* the client left meanwhile */
  } else if (cancelled || j->rc != 0) {
    if (!cancelled) {
      ain_log_warn("api: event stream to %s: catching up failed: %s", c->peer, j->err.msg);
    }
    kill_client(c, cancelled ? "shutting down" : "catching up failed");
  } else {
    for (size_t i = 0; i < j->out.n; i++) {
      if (wants(c, j->out.v[i].type)) {
        size_t len;
        char *frame = ain_ops_event_sse(&j->out.v[i], &len);
        client_send(c, frame, len);
        free(frame);
      }
    }
    c->after = j->out.last_id;
    if (j->out.more || c->after < c->ev->ring_base) {
      if (c->out_len + c->wire_len < CATCHUP_LOW) {
        catchup_submit(c);
      } else {
        c->catchup_wanted = 1; /* proceed asks again once the client has read */
      }
    } else {
      join(c);
    }
  }
  ain_ops_events_free(&j->out);
  free(j);
}

static void catchup_submit(client_t *c) {
  if (c->req == NULL || c->killed || c->ev->closed) {
    return;
  }
  catchup_job_t *j = calloc(1, sizeof *j);
  if (j == NULL) {
    kill_client(c, "out of memory");
    return;
  }
  j->c = c;
  j->after = c->after;
  j->upto = c->ev->ring_base;
  j->job.run = catchup_run;
  j->job.done = catchup_done;
  int rc = ain__api_pool_submit(c->ev->api, &j->job);
  if (rc != 0) {
    free(j);
    kill_client(c, rc == AIN_EBUSY ? "every worker is busy" : "shutting down");
    return;
  }
  c->catchup_running = 1;
}

static ring_ev_t *ring_at(struct ain__api_events *ev, size_t i) {
  return &ev->ring[(ev->ring_head + i) % RING_MAX];
}

/* Once the tail has started: where the client's stream begins. */
static void join(client_t *c) {
  struct ain__api_events *ev = c->ev;
  if (c->state == WAITING) {
    /* The first bytes, once "now" is known: a client that saw them misses nothing after. */
    static const char hello[] = ": events\nretry: 2000\n\n";
    client_send(c, hello, sizeof hello - 1);
  }
  if (c->after < 0) {
    go_live(c, 0); /* now: every event released from here on is new */
  } else if (c->after >= ev->released) {
    go_live(c, c->after); /* ids up to after were seen (another node's API may be ahead) */
  } else if (c->after >= ev->ring_base) {
    for (size_t i = 0; i < ev->ring_n; i++) {
      ring_ev_t *r = ring_at(ev, i);
      if (r->id > c->after && wants(c, r->type)) {
        client_send(c, r->frame, r->len);
      }
    }
    go_live(c, 0);
  } else {
    c->state = CATCHUP;
    catchup_submit(c);
  }
}

/* ---- the poller ------------------------------------------------------------------------------ */

static void ring_push(struct ain__api_events *ev, const ain_ops_event_t *e, char *frame,
                      size_t len) {
  if (ev->ring == NULL) {
    ev->ring = calloc(RING_MAX, sizeof *ev->ring);
    if (ev->ring == NULL) {
      free(frame);
      return;
    }
  }
  if (ev->ring_n == RING_MAX) {
    ring_ev_t *old = ring_at(ev, 0);
    if (!old->late && old->id > ev->ring_base) {
      ev->ring_base = old->id;
    }
    free(old->frame);
    ev->ring_head = (ev->ring_head + 1) % RING_MAX;
    ev->ring_n--;
  }
  *ring_at(ev, ev->ring_n) = (ring_ev_t){e->id, e->late, e->type, frame, len};
  ev->ring_n++;
}

static void ring_clear(struct ain__api_events *ev) {
  for (size_t i = 0; i < ev->ring_n; i++) {
    free(ring_at(ev, i)->frame);
  }
  ev->ring_head = ev->ring_n = 0;
}

static void poll_run(ain__api_job_t *job, ain__api_worker_t *w) {
  poll_job_t *j = (poll_job_t *)job;
  if (!w->ops_open) {
    j->rc = ain_err_set(&j->err, AIN_ESTORE, "no store handle: %s", w->open_err.msg);
    return;
  }
  if (j->reset) {
    ain_ops_tail_free(&j->ev->tail);
    ain_ops_tail_init(&j->ev->tail, -1);
  }
  j->rc = ain_ops_tail_poll(&w->ops, &j->ev->tail, 1, &j->out, &j->err);
}

static void poll_done(ain__api_job_t *job, int cancelled) {
  poll_job_t *j = (poll_job_t *)job;
  struct ain__api_events *ev = j->ev;
  ev->poll_running = 0;
  if (cancelled || ev->closed) {
    ain_ops_events_free(&j->out);
    free(j);
    return;
  }
  if (j->rc != 0) {
    uint64_t now = uv_now(&ev->api->loop);
    if (now - ev->last_err_log > 30000 || ev->last_err_log == 0) {
      ev->last_err_log = now;
      ain_log_warn("api: events: reading the audit log failed: %s", j->err.msg);
    }
    if (j->reset) {
      ev->reset_tail = 1; /* the tail may be half reset: start over */
    }
    ain_ops_events_free(&j->out);
    free(j);
    return;
  }
  for (size_t i = 0; i < j->out.n; i++) {
    ain_ops_event_t *e = &j->out.v[i];
    size_t len;
    char *frame = ain_ops_event_sse(e, &len);
    client_t *next;
    for (client_t *c = ev->clients; c != NULL; c = next) {
      next = c->next; /* a send may end c */
      if (c->state == LIVE && wants(c, e->type) &&
          (e->id == 0 || e->late || e->id > c->floor)) {
        client_send(c, frame, len);
      }
    }
    if (e->id > 0) {
      ring_push(ev, e, frame, len); /* node events have no id: nothing to resume */
    } else {
      free(frame);
    }
  }
  ev->released = j->out.last_id;
  if (!ev->started) {
    ev->started = 1;
    ev->ring_base = ev->released;
    client_t *next;
    for (client_t *c = ev->clients; c != NULL; c = next) {
      next = c->next;
      if (c->state == WAITING) {
        join(c);
      }
    }
  }
  int more = j->out.more;
  ain_ops_events_free(&j->out);
  free(j);
  if (more) {
    poll_submit(ev); /* a full page: the rest at once */
  }
}

static void poll_submit(struct ain__api_events *ev) {
  if (ev->poll_running || ev->closed) {
    return;
  }
  poll_job_t *j = calloc(1, sizeof *j);
  if (j == NULL) {
    return;
  }
  j->ev = ev;
  j->reset = ev->reset_tail;
  j->job.run = poll_run;
  j->job.done = poll_done;
  if (ain__api_pool_submit(ev->api, &j->job) != 0) {
    free(j); /* busy or stopping: the next tick tries again */
    return;
  }
  ev->reset_tail = 0;
  ev->poll_running = 1;
}

/* Has the client closed its end? h2o does not read an HTTP/1 connection while it answers, so a
 * client that leaves would hold its stream (and a slot of api.max_event_streams) until the next
 * write fails. A client sends nothing on an event stream: a peek that sees the end is final. */
static int peer_gone(client_t *c) {
  if (c->req == NULL || c->killed) {
    return 0;
  }
  h2o_socket_t *sock = c->req->conn->callbacks->get_socket(c->req->conn);
  int fd = sock != NULL ? h2o_socket_get_fd(sock) : -1;
  if (fd < 0) {
    return 0;
  }
  char b;
  ssize_t r = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
  return r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static void on_poll_timer(uv_timer_t *t) {
  struct ain__api_events *ev = t->data;
  client_t *next;
  for (client_t *c = ev->clients; c != NULL; c = next) {
    next = c->next;
    if (peer_gone(c)) {
      kill_client(c, NULL); /* h2o then frees the request */
    }
  }
  if (ev->nclients == 0) {
    /* Nobody listens: stop reading. The next stream starts the tail at "now" again (a resume
     * older than that is read from the store). Not while a poll runs: its answer would start
     * the streams that come meanwhile on the old tail. */
    if (ev->started && !ev->poll_running) {
      ev->started = 0;
      ev->reset_tail = 1;
      ring_clear(ev);
    }
    return;
  }
  poll_submit(ev);
}

static void on_ping_timer(uv_timer_t *t) {
  struct ain__api_events *ev = t->data;
  static const char ping[] = ": ping\n\n";
  client_t *next;
  for (client_t *c = ev->clients; c != NULL; c = next) {
    next = c->next;
    if (c->state != WAITING) {
      client_send(c, ping, sizeof ping - 1);
    }
  }
}

static struct ain__api_events *events_of(ain_api_t *api) {
  if (api->events == NULL) {
    struct ain__api_events *ev = calloc(1, sizeof *ev);
    if (ev == NULL) {
      return NULL;
    }
    ev->api = api;
    ev->reset_tail = 1;
    ain_ops_tail_init(&ev->tail, -1);
    uv_timer_init(&api->loop, &ev->poll_timer);
    uv_timer_init(&api->loop, &ev->ping_timer);
    uv_timer_init(&api->loop, &ev->kill_timer);
    ev->poll_timer.data = ev->ping_timer.data = ev->kill_timer.data = ev;
    api->events = ev;
  }
  return api->events;
}

/* ---- the route ------------------------------------------------------------------------------- */

typedef struct {
  int64_t after;
  unsigned mask;
} query_t;

static int parse_id(const char *s, size_t n, int64_t *out) {
  if (n == 0 || n > 15) {
    return -1; /* ids stay below 2^53 (JSON numbers) */
  }
  int64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') {
      return -1;
    }
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

static int events_query(ain__api_opjob_t *j, const char *key, const char *value,
                        ain__api_call_t *call) {
  query_t *q = (query_t *)j->body; /* the scratch space of the parse */
  if (strcmp(key, "after") == 0) {
    if (parse_id(value, strlen(value), &q->after) != 0) {
      ain__api_send_error(call->req, "EINVAL", "after",
                          "'after' must be an event id (a non-negative integer), got '%.32s'",
                          value);
      return -1;
    }
    return 0;
  }
  ain_err_t err;
  if (ain_ops_event_types_parse(value, "types", &q->mask, &err) != 0) {
    ain__api_send_err(call->req, &err);
    return -1;
  }
  return 0;
}

int ain__api_events(ain__api_call_t *call) {
  static const char *const keys[] = {"after", "types", NULL};
  ain_api_t *api = call->api;
  h2o_req_t *req = call->req;
  query_t q = {-1, AIN_OPS_EV_ALL};
  ain__api_opjob_t scratch;
  memset(&scratch, 0, sizeof scratch);
  scratch.body = (char *)&q;
  if (ain__api_query(call, keys, events_query, &scratch) != 0) {
    return 0;
  }
  ssize_t h = h2o_find_header_by_str(&req->headers, H2O_STRLIT("last-event-id"), -1);
  if (h >= 0) {
    h2o_iovec_t v = req->headers.entries[h].value;
    if (parse_id(v.base, v.len, &q.after) != 0) {
      ain__api_send_error(req, "EINVAL", "Last-Event-ID",
                          "'Last-Event-ID' must be an event id (a non-negative integer)");
      return 0;
    }
  }
  if (api->stopping) {
    ain__api_send_error(req, "ESHUTDOWN", NULL, "the server is shutting down");
    return 0;
  }
  struct ain__api_events *ev = events_of(api);
  if (ev == NULL) {
    ain__api_send_error(req, "EBUSY", NULL, "out of memory");
    return 0;
  }
  if (ev->nclients >= api->cfg->api.max_event_streams) {
    ain__api_send_error(req, "EBUSY", NULL,
                        "%d event streams are open (api.max_event_streams); retry later",
                        ev->nclients);
    return 0;
  }
  client_t *c = calloc(1, sizeof *c);
  if (c == NULL) {
    ain__api_send_error(req, "EBUSY", NULL, "out of memory");
    return 0;
  }
  c->gen.proceed = on_proceed;
  c->gen.stop = on_stop;
  c->req = req;
  c->ev = ev;
  c->mask = q.mask;
  c->after = q.after;
  c->state = WAITING;
  struct sockaddr_storage ss;
  socklen_t len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
  snprintf(c->peer, sizeof c->peer, "?");
  if (len > 0 && ss.ss_family == AF_INET) {
    uv_ip4_name((struct sockaddr_in *)&ss, c->peer, sizeof c->peer);
  } else if (len > 0 && ss.ss_family == AF_INET6) {
    uv_ip6_name((struct sockaddr_in6 *)&ss, c->peer, sizeof c->peer);
  }
  client_t **slot = h2o_mem_alloc_shared(&req->pool, sizeof *slot, on_req_disposed);
  *slot = c;
  c->slot = (void **)slot;
  c->next = ev->clients;
  if (ev->clients) {
    ev->clients->prev = c;
  }
  ev->clients = c;
  ev->nclients++;

  req->res.status = 200;
  req->res.reason = "OK";
  h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE,
                 H2O_STRLIT("text/event-stream"), 0);
  h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, H2O_STRLIT("no-store"),
                 0);
  h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-accel-buffering"), 0, NULL,
                        H2O_STRLIT("no"));
  h2o_start_response(req, &c->gen);

  if (!ev->timers_on) {
    ev->timers_on = 1;
    uint64_t poll_ms = (uint64_t)api->cfg->api.events_poll_ms;
    uv_timer_start(&ev->poll_timer, on_poll_timer, poll_ms, poll_ms);
    uv_timer_start(&ev->ping_timer, on_ping_timer, PING_MS, PING_MS);
  }
  if (ev->started) {
    join(c);
  } else {
    poll_submit(ev); /* the first stream: start the tail now rather than at the next tick */
  }
  return 0;
}

/* ---- shutdown -------------------------------------------------------------------------------- */

static void on_kill_timer(uv_timer_t *t) {
  struct ain__api_events *ev = t->data;
  client_t *next;
  for (client_t *c = ev->clients; c != NULL; c = next) {
    next = c->next;
    kill_client(c, "shutting down: the client did not take the end of the stream");
  }
}

static void on_timer_closed(uv_handle_t *h) {
  (void)h;
}

void ain__api_events_close(ain_api_t *api) {
  struct ain__api_events *ev = api->events;
  if (ev == NULL || ev->closed) {
    return;
  }
  ev->closed = 1;
  uv_close((uv_handle_t *)&ev->poll_timer, on_timer_closed);
  uv_close((uv_handle_t *)&ev->ping_timer, on_timer_closed);
  client_t *next;
  for (client_t *c = ev->clients; c != NULL; c = next) {
    next = c->next; /* a final send may free c */
    c->ending = 1;
    flush(c);
  }
  if (ev->clients != NULL) {
    uv_timer_start(&ev->kill_timer, on_kill_timer, KILL_MS, 0);
  }
  uv_unref((uv_handle_t *)&ev->kill_timer);
}

void ain__api_events_free(ain_api_t *api) {
  struct ain__api_events *ev = api->events;
  if (ev == NULL) {
    return;
  }
  ring_clear(ev);
  free(ev->ring);
  ain_ops_tail_free(&ev->tail);
  free(ev);
  api->events = NULL;
}
