/* Operator operations: the one implementation of everything an operator does to a running AIN
 * (enqueue, cancel, retry, list and show tasks and DAGs, audit, reviews, publishers, nodes,
 * stats, policy pins, purge). `cli/` and the HTTP API only parse their input, call these and
 * print the result; neither reaches the store itself.
 *
 * Shape. An ain_ops_t is a store handle on a private loop of the calling thread, opened by
 * ain_ops_open(). Every operation is synchronous: it fills store requests and drives that loop
 * until they are done (ain_store_wait), so it must never run on a loop that serves anything else
 * (a shard's, or the API's own listening loop): the CLI runs them on its main thread, a server runs
 * them on worker threads that each own an ain_ops_t.
 *
 * Results are structs the caller frees with the operation's *_free(), and cJSON builders give
 * each result the JSON the CLI's --json and the API print. Nothing here prints or exits.
 *
 * Errors. 0 or a negative AIN_E* code, with err filled (message, and the field it is about).
 * The code maps to a CLI exit code (ain_ops_exit_code) and an HTTP status (ain_ops_http_status)
 * through one table (status.c), so both front ends answer a refusal the same way.
 *
 * Who. Every operation that writes takes the actor of its audit rows ("operator:alice"): the CLI
 * passes --actor, $AIN_ACTOR or the OS user; the API passes the caller's identity.
 *
 * Relies on: store/store.h (requests), config/config.h (the store URL, scripts_dir, data_dir),
 * sched (the store config from the engine config, handler names), libuv, cJSON. */
#ifndef AIN_OPS_OPS_H
#define AIN_OPS_OPS_H

#include <cjson/cJSON.h>
#include <uv.h>

#include "config/config.h"
#include "core/err.h"
#include "store/store.h"

/* Exit codes of the CLI (docs/cli.md): what a front end without HTTP answers. */
enum {
  AIN_EXIT_OK = 0,
  AIN_EXIT_FAILURE = 1,  /* the operation failed (store error, run failed) */
  AIN_EXIT_USAGE = 2,    /* bad command line */
  AIN_EXIT_CONFIG = 3,   /* bad configuration file */
  AIN_EXIT_INVALID = 4,  /* invalid input (message rejected, policy check failed) */
  AIN_EXIT_NOTFOUND = 5, /* the task/DAG named does not exist */
  AIN_EXIT_CONFLICT = 6, /* state_version conflict, or not in a state that allows it */
};

typedef struct {
  const ain_config_t *cfg; /* borrowed; valid while the ops are */
  uv_loop_t *loop;         /* the caller's storage; initialised by ain_ops_open */
  ain_store_t *store;
} ain_ops_t;

/* Initialises *loop (storage the caller owns) and opens the store of cfg on it (AIN_DATABASE_URL
 * overrides store.url); no request is sent yet. On failure nothing is left open. Every other
 * operation expects the migrations applied (ain_ops_migrate). */
int ain_ops_open(ain_ops_t *ops, const ain_config_t *cfg, uv_loop_t *loop, ain_err_t *err);
/* The same, but a read never waits for a lock (SQLite: no busy timeout on the read connection):
 * a read that would wait fails at once with AIN_EBUSY. For callers that must not block. */
int ain_ops_open_nowait(ain_ops_t *ops, const ain_config_t *cfg, uv_loop_t *loop,
                        ain_err_t *err);
/* Closes the store and the loop. Safe on an ops that failed to open or was closed. */
void ain_ops_close(ain_ops_t *ops);
/* Runs one store request to completion (actor: req->actor if set, else actor). 0, or the AIN_E*
 * code with *err filled (never an empty message). */
int ain_ops_wait(ain_ops_t *ops, ain_store_req_t *req, const char *actor, ain_err_t *err);
/* Reads until ain_ops_snapshot_end see one snapshot of the store, taken at the first of them
 * (so no older than this call): a server answering several reads at once pays the store's read
 * locks once (ain_store_snapshot). 0, or nonzero when the backend keeps none (each read then
 * takes its own, as without it). Hold it briefly: for reads answered together. */
int ain_ops_snapshot_begin(ain_ops_t *ops);
void ain_ops_snapshot_end(ain_ops_t *ops);
/* Applies the migrations not yet applied; *applied and *version (may be NULL) say what. */
int ain_ops_migrate(ain_ops_t *ops, const char *actor, int *applied, int *version, ain_err_t *err);

/* The CLI exit code and the HTTP status of an AIN_E* code (0 -> 0 and 200). */
int ain_ops_exit_code(int code);
int ain_ops_http_status(int code);
/* {"code":"ECONFLICT","field":"expect_version","message":"..."}: the error object both front ends
 * print ({"ok":false,"error":...} in the CLI, {"error":...} in the API). Caller deletes. */
cJSON *ain_ops_error_json(const ain_err_t *err);

/* ---- what the list operations share ------------------------------------------------------- */

#define AIN_OPS_CURSOR_MAX 64 /* "<created_at>.<id>" and its NUL */

/* The cursor of the page after a row (created_at, id) of a list ordered newest first, then by
 * id descending. Opaque to callers: they hand back the `next` of the previous page. */
void ain_ops_cursor_format(int64_t created_at, const char *id, char out[AIN_OPS_CURSOR_MAX]);
/* Its parts; 0, or AIN_EINVAL naming the field "after" when s is not a cursor this layer made. */
int ain_ops_cursor_parse(const char *s, int64_t *created_at, char id[AIN_UUID_LEN + 1],
                         ain_err_t *err);
/* A filter value (a type, a persona id): 1..128 printable ASCII bytes without spaces. */
int ain_ops_filter_ok(const char *s);
/* o[key] = v, or null when v is NULL or empty. */
void ain_ops_json_opt_string(cJSON *o, const char *key, const char *v);

/* "2026-12-07T04:24:27.000Z" for ms since the epoch, "-" for 0 or less. */
void ain_ops_fmt_time(int64_t ms, char *out, size_t n);

#endif
