/* Trend sources (issue 15 §2, docs/sources.md): every source of config key `sources` polled on its
 * own schedule on the engine's main loop, its records held until the planner has committed them.
 *
 *   http / rss / atom  libcurl on the thread pool (a blocking easy handle per request, never on
 *                      the loop), conditional GET (If-None-Match / If-Modified-Since), the body
 *                      capped at max_bytes while it arrives, parsed on the pool (feed.h)
 *   jsonl              a file read on the pool; unchanged (same mtime and size) = nothing to do
 *   redis              a Redis Stream read by a consumer group with hiredis on the loop (its libuv
 *                      adapter): XREADGROUP, XACK only after the planner's commit, pending
 *                      entries of a crashed engine re-read (its own) or claimed (XAUTOCLAIM)
 *
 * A failed request backs off exponentially (feed.h) and never delays another source; two
 * requests to one source are at least min_interval_ms apart. Each source's row in the store
 * (SOURCE_PUT) carries its validators, health and counts; the validators written are those of a
 * fetch whose records the planner has committed, so a crash between fetch and plan re-fetches
 * (200) instead of being told "not modified" about records that were never planned.
 *
 * The planner (engine/plan/) takes the pending records as JSON Lines, plans, and then acks (the
 * run succeeded: drop them, write the validators, XACK) or releases them (kept for the next run).
 * Relies on: libuv, libcurl, expat, hiredis, cJSON, store/store.h, obs/obs.h, core/secret.h. */
#ifndef AIN_SOURCES_SOURCES_H
#define AIN_SOURCES_SOURCES_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config/config.h"
#include "core/err.h"
#include "store/store.h"

typedef struct ain_sources ain_sources_t;

typedef struct {
  const ain_config_t *cfg; /* cfg->sources, secrets_dir; borrowed, outlives the set */
  ain_store_t *store;      /* a handle on the same loop; borrowed */
  /* New records are pending (called on the loop; the planner triggers a run). May be NULL. */
  void (*on_records)(void *data);
  void *data;
} ain_sources_opts_t;

/* Starts every configured source (reads their rows first). 0, or AIN_E* when nothing could start
 * (a source that cannot connect is not an error: it backs off). */
int ain_sources_start(uv_loop_t *loop, const ain_sources_opts_t *opts, ain_sources_t **out,
                      ain_err_t *err);
/* Stops timers and connections; frees itself once nothing is in flight (the loop must keep
 * running). Records not acked are dropped: their sources deliver them again (HTTP validators were
 * not advanced, Redis entries stay pending). NULL is a no-op. */
void ain_sources_stop(ain_sources_t *s);

/* Takes every pending record not yet taken: *jsonl (caller frees) holds one JSON object per line,
 * *n how many. Returns 0 and *jsonl = NULL when there are none. A second take before ack/release
 * takes nothing. */
void ain_sources_take(ain_sources_t *s, char **jsonl, size_t *len, size_t *n);
/* The planner's run over the taken records committed (or had nothing to commit): drop them,
 * advance validators, XACK Redis entries. */
void ain_sources_ack(ain_sources_t *s);
/* The run failed: the taken records stay pending for the next run. */
void ain_sources_release(ain_sources_t *s);

/* 1 when every source has finished at least one attempt and nothing is pending or in flight to
 * the planner (ain run --until-idle). */
int ain_sources_settled(const ain_sources_t *s);

#endif
