/* Live progress per pipeline stage, shared by the shard threads (writers) and the engine's main
 * loop (reader of the TTY progress line): atomic counters only, no locks.
 * A stage is the step name's family: "expand" (a generate_video task, which has no step name),
 * "script", "tts", "assets", "render", "judge", "review" ("review_gate"), "publish" ("publish",
 * "publish_<channel>"); anything else is "other".
 * Relies on: C11 atomics. */
#ifndef AIN_SCHED_PROGRESS_H
#define AIN_SCHED_PROGRESS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum {
  AIN_STAGE_EXPAND = 0, /* generate_video: the DAG is built */
  AIN_STAGE_SCRIPT,
  AIN_STAGE_TTS,
  AIN_STAGE_ASSETS,
  AIN_STAGE_RENDER,
  AIN_STAGE_JUDGE,
  AIN_STAGE_REVIEW,
  AIN_STAGE_PUBLISH,
  AIN_STAGE_OTHER,
  AIN_STAGE_COUNT
};

#define AIN_PROGRESS_SLOTS 64 /* renders whose percent is tracked at once */

typedef struct {
  atomic_int running[AIN_STAGE_COUNT];
  atomic_llong ok[AIN_STAGE_COUNT];
  atomic_llong failed[AIN_STAGE_COUNT];
  atomic_llong ms[AIN_STAGE_COUNT]; /* summed wall time of successful steps */
  /* render percent x 10 per slot; -1 = free */
  atomic_int slot_permille[AIN_PROGRESS_SLOTS];
} ain_progress_t;

void ain_progress_init(ain_progress_t *p);
/* The stage of a step name, or of a task type when the task is no DAG step (NULL = other). */
int ain_progress_stage(const char *step_name);
const char *ain_progress_stage_name(int stage);
void ain_progress_begin(ain_progress_t *p, const char *step_name);
/* ok = 1 for a success, failed = 1 for a failure (neither: parked or released); elapsed_ms is
 * the step's wall time. */
void ain_progress_end(ain_progress_t *p, const char *step_name, int ok, int failed,
                      int64_t elapsed_ms);
/* A slot for one render's percent, or -1 when all are taken (the render then goes unreported). */
int ain_progress_slot_take(ain_progress_t *p);
void ain_progress_slot_set(ain_progress_t *p, int slot, double percent);
void ain_progress_slot_free(ain_progress_t *p, int slot);
/* "script 0/3 | tts 1/2 | render 1/0 (47%) | publish 0/1": running/succeeded per stage, the mean
 * percent of running renders, failures when any. For the TTY line; returns out. */
char *ain_progress_format(ain_progress_t *p, char *out, size_t cap);

#endif
