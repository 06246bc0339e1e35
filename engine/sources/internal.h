/* Private to engine/sources/: one source's state shared by the scheduler (sources.c), the HTTP and
 * file fetcher that runs on the thread pool (fetch.c) and the Redis Streams consumer (redis.c).
 * Threading: everything here belongs to the main loop, except the f_* fields, which the pool's
 * fetch owns while `fetching` is set (the loop reads them only in the after-work callback).
 * Relies on: sources.h, feed.h. */
#ifndef AIN_SOURCES_INTERNAL_H
#define AIN_SOURCES_INTERNAL_H

#include "sources/feed.h"
#include "sources/sources.h"

typedef struct ain__redis ain__redis_t;

typedef struct ain__src {
  ain_sources_t *set;
  const ain_source_cfg_t *cfg;
  ain_source_state_t st;     /* the row: validators as committed, health, counts */
  char *etag, *lm;           /* validators of the last answer (the next request sends them) */
  char *pend_etag, *pend_lm; /* validators of the fetch whose records are pending */
  uv_timer_t timer;
  int attempted; /* at least one attempt finished */
  int fetching;  /* a uv_work_t is out */
  int64_t last_request_ms;
  /* pending records: JSON lines, with the Redis entry id of each (NULL for the others) */
  char **lines, **ids;
  size_t n, cap, taken;
  /* one fetch on the pool */
  uv_work_t work;
  int f_rc;          /* 0, or AIN_E* with f_err */
  char f_err[512];
  int f_not_modified;
  ain_feed_result_t f_out;
  char *f_etag, *f_lm;
  /* the row write in flight (a snapshot, so the loop may change st meanwhile) */
  ain_store_req_t req;
  ain_source_state_t wst;
  int writing, dirty;
  ain__redis_t *redis;
} ain__src_t;

struct ain_sources {
  uv_loop_t *loop;
  ain_sources_opts_t o;
  ain__src_t *src;
  size_t n;
  ain_store_req_t list_req;
  int listing;
  int stopping, freeing;
  int busy; /* handles open, works, writes and Redis connections not yet finished */
  uv_idle_t fin;
};

/* fetch.c, on the pool: the request (conditional) and the parse, results in s->f_*. */
void ain__src_fetch(uv_work_t *w);

/* sources.c, on the loop. */
void ain__src_push(ain__src_t *s, cJSON *record, const char *id); /* takes nothing: copies */
void ain__src_notify(ain__src_t *s);                              /* records are pending */
void ain__src_error(ain__src_t *s, const char *msg);              /* a failed attempt */
void ain__src_ok(ain__src_t *s, int64_t records, int64_t refused); /* a good attempt */
void ain__src_save(ain__src_t *s);                                /* write the row */
void ain__src_unbusy(ain_sources_t *set);                         /* something finished */

/* redis.c: connect and consume (0 or AIN_E* with err), ack entries, disconnect (unbusy when
 * closed). */
int ain__src_redis_start(ain__src_t *s, ain_err_t *err);
void ain__src_redis_ack(ain__src_t *s, char **ids, size_t n);
void ain__src_redis_stop(ain__src_t *s);
/* The consumer may read again (the planner took records). */
void ain__src_redis_resume(ain__src_t *s);

#endif
