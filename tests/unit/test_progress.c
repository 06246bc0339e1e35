/* Unit tests of the per-stage progress counters (engine/sched/progress.c): stage names, counts,
 * render slots and the TTY text, including concurrent writers. Relies on: the C harness. */
#include <pthread.h>
#include <string.h>

#include "harness.h"
#include "sched/progress.h"

TEST(stages_by_step_name) {
  ASSERT_EQ(ain_progress_stage("script"), AIN_STAGE_SCRIPT);
  ASSERT_EQ(ain_progress_stage("render"), AIN_STAGE_RENDER);
  ASSERT_EQ(ain_progress_stage("publish"), AIN_STAGE_PUBLISH);
  ASSERT_EQ(ain_progress_stage("publish_tiktok"), AIN_STAGE_PUBLISH);
  ASSERT_EQ(ain_progress_stage("review_gate"), AIN_STAGE_REVIEW);
  ASSERT_EQ(ain_progress_stage("generate_video"), AIN_STAGE_EXPAND);
  /* A prefix is not enough: the family ends at '_' or the end. */
  ASSERT_EQ(ain_progress_stage("renderer"), AIN_STAGE_OTHER);
  ASSERT_EQ(ain_progress_stage("ttsx"), AIN_STAGE_OTHER);
  ASSERT_EQ(ain_progress_stage(""), AIN_STAGE_OTHER);
  ASSERT_EQ(ain_progress_stage(NULL), AIN_STAGE_OTHER);
  ASSERT_STR_EQ(ain_progress_stage_name(AIN_STAGE_TTS), "tts");
  ASSERT_STR_EQ(ain_progress_stage_name(-1), "other");
  ASSERT_STR_EQ(ain_progress_stage_name(AIN_STAGE_COUNT), "other");
}

TEST(format_counts_and_render_percent) {
  ain_progress_t p;
  ain_progress_init(&p);
  char buf[256];
  ASSERT_STR_EQ(ain_progress_format(&p, buf, sizeof buf), "");
  ain_progress_begin(&p, "script");
  ain_progress_end(&p, "script", 1, 0, 5);
  ain_progress_begin(&p, "render");
  ain_progress_begin(&p, "render");
  int a = ain_progress_slot_take(&p), b = ain_progress_slot_take(&p);
  ASSERT_TRUE(a >= 0 && b >= 0 && a != b);
  ain_progress_slot_set(&p, a, 40.0);
  ain_progress_slot_set(&p, b, 60.0);
  ASSERT_STR_EQ(ain_progress_format(&p, buf, sizeof buf), "script 0/1 | render 2/0 (50%)");
  ain_progress_slot_set(&p, b, 250.0);  /* clamped */
  ain_progress_slot_set(&p, 999, 10.0); /* ignored */
  ASSERT_STR_EQ(ain_progress_format(&p, buf, sizeof buf), "script 0/1 | render 2/0 (70%)");
  ain_progress_slot_free(&p, a);
  ain_progress_end(&p, "render", 0, 1, 100);
  ain_progress_end(&p, "render", 0, 0, 0); /* parked: neither ok nor failed */
  ain_progress_slot_free(&p, b);
  ASSERT_STR_EQ(ain_progress_format(&p, buf, sizeof buf), "script 0/1 | render 0/0 1 failed");
  ASSERT_EQ(atomic_load(&p.ms[AIN_STAGE_SCRIPT]), 5);
  /* A short buffer is cut, never overrun. */
  char tiny[8];
  ain_progress_format(&p, tiny, sizeof tiny);
  ASSERT_EQ(strlen(tiny), sizeof tiny - 1);
}

TEST(slots_run_out_and_come_back) {
  ain_progress_t p;
  ain_progress_init(&p);
  for (int i = 0; i < AIN_PROGRESS_SLOTS; i++) {
    ASSERT_EQ(ain_progress_slot_take(&p), i);
  }
  ASSERT_EQ(ain_progress_slot_take(&p), -1);
  ain_progress_slot_free(&p, 7);
  ASSERT_EQ(ain_progress_slot_take(&p), 7);
  ain_progress_slot_set(&p, -1, 50.0); /* an unreported render: no crash */
  ain_progress_slot_free(&p, -1);
}

static void *writer(void *arg) {
  ain_progress_t *p = arg;
  for (int i = 0; i < 20000; i++) {
    ain_progress_begin(p, "tts");
    ain_progress_end(p, "tts", 1, 0, 1);
  }
  return NULL;
}

TEST(concurrent_writers_lose_nothing) {
  ain_progress_t p;
  ain_progress_init(&p);
  pthread_t t[4];
  for (int i = 0; i < 4; i++) {
    ASSERT_OK(pthread_create(&t[i], NULL, writer, &p));
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
  }
  ASSERT_EQ(atomic_load(&p.running[AIN_STAGE_TTS]), 0);
  ASSERT_EQ(atomic_load(&p.ok[AIN_STAGE_TTS]), 80000);
  ASSERT_EQ(atomic_load(&p.ms[AIN_STAGE_TTS]), 80000);
}

TEST_MAIN(TEST_ENTRY(stages_by_step_name), TEST_ENTRY(format_counts_and_render_percent),
          TEST_ENTRY(slots_run_out_and_come_back), TEST_ENTRY(concurrent_writers_lose_nothing))
