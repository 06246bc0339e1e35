/* Work that must not hold a loop (or a command) hostage: each job runs on a detached thread of its
 * own, never on libuv's threadpool, which a wedged job would occupy for good. A job that overruns
 * its deadline is abandoned, not killed (no thread can be stopped safely half-way through a C
 * call): the thread keeps the job's argument and releases it if the job ever returns.
 * Two ways to wait:
 *  - ain_worker_run_for blocks the caller up to a deadline (`ain check`, the config file, the
 *    script registry's start-up);
 *  - a hub delivers finished jobs to a loop through uv_async (the registry's hot reloads); the
 *    loop keeps its own deadline and ignores what arrives too late.
 * Worker threads block every signal, so signals keep reaching the loop threads; a hub's threads
 * also run 10 nice levels below the process, so a job that spins yields the CPUs to the loops.
 * Relies on: POSIX threads, libuv (uv_async). */
#ifndef AIN_LOOP_WORKER_H
#define AIN_LOOP_WORKER_H

#include <stdint.h>
#include <uv.h>

#include "core/err.h"

typedef void (*ain_worker_fn)(void *arg);

/* Runs fn(arg) on a new thread and waits at most ms milliseconds for it to return.
 * 0: fn returned in time; arg is the caller's again.
 * AIN_ETIMEOUT: fn is still running; the thread now owns arg and calls release(arg) (may be NULL)
 *   once fn returns, which may be never. The caller must not touch arg again.
 * AIN_EIO: no thread could be started; fn never ran and arg is the caller's. */
int ain_worker_run_for(ain_worker_fn fn, void *arg, ain_worker_fn release, uint64_t ms);

typedef struct ain_worker_hub ain_worker_hub_t;

/* A hub on `loop`: on_done(arg, data) runs on the loop for every job that returned, in the order
 * they returned. Close it with ain_worker_hub_close(). */
int ain_worker_hub_new(uv_loop_t *loop, void (*on_done)(void *arg, void *data), void *data,
                       ain_worker_hub_t **out, ain_err_t *err);
/* Runs fn(arg) on a new thread; when it returns, arg goes to on_done (or to release once the hub
 * is closed). 0, or AIN_EIO when no thread could be started (arg is then the caller's). Loop
 * thread only. */
int ain_worker_hub_start(ain_worker_hub_t *hub, ain_worker_fn fn, void *arg, ain_worker_fn release);
/* Jobs whose fn has not returned yet (abandoned ones included). Any thread. */
int ain_worker_hub_running(ain_worker_hub_t *hub);
/* No on_done runs after this: finished jobs not yet delivered are released now, jobs still
 * running release their arg themselves when they return. cb(data) (may be NULL) runs on the
 * loop once the hub's handle is closed; the hub is freed when its last thread is gone. */
void ain_worker_hub_close(ain_worker_hub_t *hub, void (*cb)(void *data), void *data);

#endif
