/* Per-stage progress counters (see progress.h). Shards write with relaxed atomics; the main loop
 * reads a slightly stale but never torn picture four times a second. */
#include "sched/progress.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char *const stage_names[AIN_STAGE_COUNT] = {
    "expand", "script", "tts", "assets", "render", "judge", "review", "publish", "other"};

void ain_progress_init(ain_progress_t *p) {
  memset(p, 0, sizeof *p);
  for (int i = 0; i < AIN_PROGRESS_SLOTS; i++) {
    atomic_store(&p->slot_permille[i], -1);
  }
}

const char *ain_progress_stage_name(int stage) {
  return stage >= 0 && stage < AIN_STAGE_COUNT ? stage_names[stage] : "other";
}

/* "publish_outbox" is a publish, "review_gate" a review. */
int ain_progress_stage(const char *name) {
  if (name == NULL) {
    return AIN_STAGE_OTHER;
  }
  if (strcmp(name, "generate_video") == 0) {
    return AIN_STAGE_EXPAND;
  }
  for (int i = 0; i < AIN_STAGE_OTHER; i++) {
    size_t n = strlen(stage_names[i]);
    if (strncmp(name, stage_names[i], n) == 0 && (name[n] == '\0' || name[n] == '_')) {
      return i;
    }
  }
  return AIN_STAGE_OTHER;
}

void ain_progress_begin(ain_progress_t *p, const char *step_name) {
  atomic_fetch_add_explicit(&p->running[ain_progress_stage(step_name)], 1, memory_order_relaxed);
}

void ain_progress_end(ain_progress_t *p, const char *step_name, int ok, int failed,
                      int64_t elapsed_ms) {
  int s = ain_progress_stage(step_name);
  atomic_fetch_sub_explicit(&p->running[s], 1, memory_order_relaxed);
  if (ok) {
    atomic_fetch_add_explicit(&p->ok[s], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->ms[s], elapsed_ms, memory_order_relaxed);
  } else if (failed) {
    atomic_fetch_add_explicit(&p->failed[s], 1, memory_order_relaxed);
  }
}

int ain_progress_slot_take(ain_progress_t *p) {
  for (int i = 0; i < AIN_PROGRESS_SLOTS; i++) {
    int expected = -1;
    if (atomic_compare_exchange_strong(&p->slot_permille[i], &expected, 0)) {
      return i;
    }
  }
  return -1;
}

void ain_progress_slot_set(ain_progress_t *p, int slot, double percent) {
  if (slot < 0 || slot >= AIN_PROGRESS_SLOTS) {
    return;
  }
  int v = percent < 0 ? 0 : percent > 100 ? 1000 : (int)(percent * 10.0);
  atomic_store_explicit(&p->slot_permille[slot], v, memory_order_relaxed);
}

void ain_progress_slot_free(ain_progress_t *p, int slot) {
  if (slot >= 0 && slot < AIN_PROGRESS_SLOTS) {
    atomic_store(&p->slot_permille[slot], -1);
  }
}

char *ain_progress_format(ain_progress_t *p, char *out, size_t cap) {
  size_t n = 0;
  out[0] = '\0';
  for (int s = 0; s < AIN_STAGE_COUNT && n < cap; s++) {
    int run = atomic_load_explicit(&p->running[s], memory_order_relaxed);
    long long ok = atomic_load_explicit(&p->ok[s], memory_order_relaxed);
    long long bad = atomic_load_explicit(&p->failed[s], memory_order_relaxed);
    if (run == 0 && ok == 0 && bad == 0) {
      continue;
    }
    int w = snprintf(out + n, cap - n, "%s%s %d/%lld", n ? " | " : "", stage_names[s], run, ok);
    n += w > 0 ? (size_t)w : 0;
    if (s == AIN_STAGE_RENDER && n < cap) {
      int cnt = 0, sum = 0;
      for (int i = 0; i < AIN_PROGRESS_SLOTS; i++) {
        int v = atomic_load_explicit(&p->slot_permille[i], memory_order_relaxed);
        if (v >= 0) {
          cnt++;
          sum += v;
        }
      }
      if (cnt > 0) {
        w = snprintf(out + n, cap - n, " (%d%%)", sum / cnt / 10);
        n += w > 0 ? (size_t)w : 0;
      }
    }
    if (bad > 0 && n < cap) {
      w = snprintf(out + n, cap - n, " %lld failed", bad);
      n += w > 0 ? (size_t)w : 0;
    }
  }
  if (n >= cap && cap > 0) {
    out[cap - 1] = '\0';
  }
  return out;
}
