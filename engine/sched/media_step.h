/* Private to engine/sched/: the state of one media built-in (tts, assets, render) while it runs,
 * and the checkpoint helpers (checkpoint.c) that builtins_media.c drives.
 *
 * Life cycle. A media step is a chain of asynchronous operations (a store request, a thread-pool
 * job, an espeak-ng or ffmpeg run), exactly one outstanding at a time. When the step is cancelled
 * (timeout, shutdown) the state is detached (m->step = NULL) and the step ends at once; the
 * outstanding operation's callback then sees the detached state and only cleans up, so no
 * callback ever touches a freed step.
 * Relies on: sched/internal.h, store/store.h, objstore/objstore.h, media/media.h. */
#ifndef AIN_SCHED_MEDIA_STEP_H
#define AIN_SCHED_MEDIA_STEP_H

#include <cjson/cJSON.h>
#include <uv.h>

#include "media/media.h"
#include "sched/internal.h"
#include "sched/progress.h"

typedef struct ain__mstep ain__mstep_t;
typedef void (*ain__mstep_fn)(ain__mstep_t *m);

struct ain__mstep {
  ain_step_t *step; /* NULL once detached */
  uv_loop_t *loop;
  const ain_config_t *cfg;
  ain_progress_t *progress;
  int kind; /* builtins_media.c's stage */
  char dag_id[AIN_UUID_LEN + 1];
  char *step_name;
  char task_id[AIN_UUID_LEN + 1];
  char trace_id[33], span_id[17]; /* the step's, for log lines after it detached */
  char objects[4096];    /* object store root: data_dir/objects */
  char cache[4096];      /* data_dir/cache */
  char dir[4096];        /* this attempt's scratch folder: data_dir/work/<task_id> */
  cJSON *payload, *deps; /* parsed inputs (owned) */
  /* one thread-pool job at a time */
  uv_work_t work;
  void (*work_fn)(ain__mstep_t *m); /* runs on the pool: blocking I/O only, no loop calls */
  ain__mstep_fn after;              /* runs on the loop when work_fn returned */
  int work_rc;
  ain_err_t work_err;
  /* checkpoint */
  ain__mstep_fn miss; /* what to do when there is no usable checkpoint */
  ain_store_req_t req;
  ain_artifact_t art;
  char *ckpt_keys;   /* JSON array text of the keys to verify / record */
  char *ckpt_result; /* the recorded result on a hit; the result to record otherwise */
  /* the running ffmpeg render, if any */
  ain_media_job_t *job;
  int has_slot;            /* holds a render slot (builtins_media.c) */
  int waiting;             /* queued for a slot; wake is open */
  uv_async_t wake;         /* a slot was handed over (from any shard) */
  ain__mstep_t *wait_next; /* in the queue of renders waiting for a slot */
  int progress_slot;       /* render percent reported to the engine (progress.c) */
  /* built-in specific data */
  void *x;
  void (*x_free)(void *x);
};

/* Runs fn on the thread pool, then after on the loop (unless detached: then the state is freed).
 * On a queueing failure after runs at once with work_rc set. */
void ain__mstep_work(ain__mstep_t *m, void (*fn)(ain__mstep_t *m), ain__mstep_fn after);
/* Ends the step with a failure (the tool's own message) and releases the state. permanent = 1
 * for bad input that no retry can fix (dead-lettered at once). */
void ain__mstep_fail(ain__mstep_t *m, int code, const char *msg, int permanent);
/* Frees the state (scratch folder removed on the pool first). Detached or finished only. */
void ain__mstep_release(ain__mstep_t *m);
/* Render slots of this process: media.max_renders, or half the cores (at least 1). */
int ain__mstep_render_slots(const ain_config_t *cfg);
/* 1 if the step was cancelled while the operation that just ended was outstanding; the caller
 * must return at once (the state has been released). */
int ain__mstep_detached(ain__mstep_t *m);

/* checkpoint.c: looks up (dag_id, step). On a hit whose every object verifies, logs "checkpoint
 * hit" and ends the step with the recorded result; otherwise calls miss(m). A step outside a DAG
 * always misses. */
void ain__ckpt_resume_or(ain__mstep_t *m, ain__mstep_fn miss);
/* checkpoint.c: records keys (JSON array text) + result (JSON object text) as the step's
 * checkpoint, then ends the step with result; a failed record fails the attempt (it retries). */
void ain__ckpt_record_and_succeed(ain__mstep_t *m, char *keys_json, char *result_json);

#endif
