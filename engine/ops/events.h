/* State-change events: the audit log (shared by every node) and the nodes table, read as a tail
 * and turned into task, dag, review, publisher and node events. One implementation for GET
 * /v1/events (engine/api/events.c polls it on a worker) and `ain events` (engine/cli/).
 *
 * The tail never skips a row that becomes visible late. On Postgres an audit id is taken when a
 * row is inserted but seen when its transaction commits, so id 41 can appear after 42 (bigserial
 * and concurrent transactions). The tail remembers every id missing below the highest one read
 * (a gap) and re-reads the gaps with each poll. Events are released in id order: an event above
 * an open gap waits until the gap fills or has been open `hold_ms` (then it is given up as a
 * rolled-back id). A given-up id is still re-read for `late_ms`; if it shows up after all, its
 * event is released then, out of order, marked late. So a reader that resumes after the last id
 * it saw misses nothing but such late rows.
 *
 * Relies on: ops/ops.h, ops/admin.h (nodes), store/store.h (AUDIT tail, NODES), cJSON. */
#ifndef AIN_OPS_EVENTS_H
#define AIN_OPS_EVENTS_H

#include "ops/ops.h"

enum {
  AIN_OPS_EV_TASK = 1,
  AIN_OPS_EV_DAG = 2,
  AIN_OPS_EV_REVIEW = 4,
  AIN_OPS_EV_NODE = 8,
  AIN_OPS_EV_PUBLISHER = 16,
  AIN_OPS_EV_ALL = 31,
};

/* "task,dag,review" -> a mask of AIN_OPS_EV_*; an empty or unknown name is AIN_EINVAL naming
 * field (the name and the known ones in the message). */
int ain_ops_event_types_parse(const char *s, const char *field, unsigned *mask, ain_err_t *err);
const char *ain_ops_event_type_name(unsigned type); /* "task" ... */

typedef struct {
  int64_t id;    /* the audit id; 0 for node events (they have none) */
  unsigned type; /* one AIN_OPS_EV_* */
  int late;      /* released after higher ids (its row became visible after the hold) */
  char *data;    /* one line of JSON */
} ain_ops_event_t;

typedef struct {
  ain_ops_event_t *v;
  size_t n, cap;
  int64_t last_id; /* the highest audit id the read covered (events or not) */
  int more;        /* the read stopped at its limit: read again at once */
} ain_ops_events_t;

void ain_ops_events_free(ain_ops_events_t *e);

/* The event of an audit row, or 0 when the row is none (settings other than the publishers'
 * pause, pins, purges, claims are task events though). Pure. Returns 1 and fills *ev (data owned
 * by the caller) or 0. */
int ain_ops_event_of_audit(const ain_audit_t *a, ain_ops_event_t *ev);

/* "id: 7\nevent: task\ndata: {...}\n\n" (no id line for node events) into a malloc'd string. */
char *ain_ops_event_sse(const ain_ops_event_t *ev, size_t *len);

typedef struct {
  int64_t id;
  int64_t seen_ms; /* when it was first missed */
} ain_ops_gap_t;

typedef struct {
  int64_t id;
  ain_ops_event_t ev; /* ev.data NULL: the row is no event */
} ain_ops_pending_t;

typedef struct ain_ops_node_seen ain_ops_node_seen_t;

typedef struct {
  int started;
  int64_t released; /* every id <= released was released or given up */
  int64_t high;     /* the highest id read */
  int64_t hold_ms, late_ms;
  int limit;        /* rows per read (0 = 1000) */
  ain_ops_gap_t *gaps; /* missing ids in (released, high], ascending */
  size_t ngaps, capgaps;
  ain_ops_gap_t *late; /* given up, still re-read until late_ms */
  size_t nlate, caplate;
  ain_ops_pending_t *pending; /* read, waiting for a lower gap; ascending */
  size_t npending, cappending;
  int nodes_started;
  ain_ops_node_seen_t *nodes;
  size_t nnodes;
  int64_t given_up; /* ids given up so far (rolled back, or committed after late_ms) */
} ain_ops_tail_t;

#define AIN_OPS_TAIL_HOLD_MS 3000
#define AIN_OPS_TAIL_LATE_MS 60000
#define AIN_OPS_TAIL_MAX_GAPS 4096 /* missing ids remembered at once; past it, the oldest go */

/* A tail that starts after audit id `after`, or at the newest row when after < 0. */
void ain_ops_tail_init(ain_ops_tail_t *t, int64_t after);
void ain_ops_tail_free(ain_ops_tail_t *t);

/* Feeds the rows of one read (ascending by id, as the store returns them) at time now_ms and
 * appends the events released into out. The pure half of ain_ops_tail_poll (unit-tested). */
void ain_ops_tail_feed(ain_ops_tail_t *t, const ain_audit_t *rows, size_t n, int64_t now_ms,
                       ain_ops_events_t *out);
/* The ids a read must ask for again (gaps and late ids) into ids (cap at least
 * AIN_STORE_AUDIT_ALSO_MAX); returns how many. */
size_t ain_ops_tail_also(const ain_ops_tail_t *t, int64_t *ids, size_t cap);

/* One poll: reads the audit rows after the tail's highest id and its gaps, releases what it can,
 * and (with nodes set) diffs the nodes table against the last poll (node events; the first poll
 * only remembers). Appends to out (out->more when the read was full). */
int ain_ops_tail_poll(ain_ops_t *ops, ain_ops_tail_t *t, int nodes, ain_ops_events_t *out,
                      ain_err_t *err);

/* A plain read for catching up: the events of rows in (after, upto] (upto 0 = no bound), at most
 * limit rows; out->last_id is the last row read (after when none), out->more when full. */
int ain_ops_events_read(ain_ops_t *ops, int64_t after, int64_t upto, int limit,
                        ain_ops_events_t *out, ain_err_t *err);

#endif
