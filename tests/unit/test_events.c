/* ops/events: the mapping of audit rows to events, ?types parsing, the SSE frame, and the tail's
 * release order: rows fed out of order (a lower id committed after a higher one), gaps held then
 * given up, late rows, re-read ids, big jumps. The tail's feed is pure: time is an argument. */
#include "harness.h"
#include "ops/events.h"

static ain_audit_t row(int64_t id, const char *task, const char *dag, const char *from,
                       const char *to, const char *detail) {
  ain_audit_t a = {0};
  a.id = id;
  a.task_id = (char *)task;
  a.dag_id = (char *)dag;
  a.actor = (char *)"node/1/shard-0";
  a.from_status = (char *)from;
  a.to_status = (char *)to;
  a.detail = (char *)detail;
  a.state_version = 3;
  a.ts = 1000;
  return a;
}

static ain_audit_t task_row(int64_t id) {
  return row(id, "t-1", NULL, "ready", "running", NULL);
}

/* The ids of out, space-separated, late ones with a '*'. */
static const char *ids_of(const ain_ops_events_t *out) {
  static char buf[1024];
  size_t o = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < out->n; i++) {
    o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%lld%s", i ? " " : "",
                          (long long)out->v[i].id, out->v[i].late ? "*" : "");
  }
  return buf;
}

static const char *feed(ain_ops_tail_t *t, const ain_audit_t *rows, size_t n, int64_t now) {
  ain_ops_events_t out = {0};
  ain_ops_tail_feed(t, rows, n, now, &out);
  const char *s = ids_of(&out);
  ain_ops_events_free(&out);
  return s;
}

TEST(maps_audit_rows_to_events) {
  ain_ops_event_t ev;
  ain_audit_t a = row(7, "t-1", "d-1", NULL, "ready", NULL);
  a.task_type = (char *)"generate_video";
  ASSERT_TRUE(ain_ops_event_of_audit(&a, &ev));
  ASSERT_EQ(ev.type, AIN_OPS_EV_TASK);
  ASSERT_EQ(ev.id, 7);
  ASSERT_STR_EQ(ev.data, "{\"audit_id\":7,\"task_id\":\"t-1\",\"dag_id\":\"d-1\",\"type\":"
                         "\"generate_video\",\"from\":null,\"to\":\"ready\",\"actor\":"
                         "\"node/1/shard-0\",\"state_version\":3,\"ts\":1000}");
  free(ev.data);
  a = row(8, "t-2", NULL, "running", "succeeded", NULL); /* no type known: null, not invented */
  ASSERT_TRUE(ain_ops_event_of_audit(&a, &ev));
  ASSERT_STR_CONTAINS(ev.data, "\"type\":null");
  free(ev.data);
  a = row(9, NULL, "d-1", "running", "succeeded", NULL);
  ASSERT_TRUE(ain_ops_event_of_audit(&a, &ev));
  ASSERT_EQ(ev.type, AIN_OPS_EV_DAG);
  ASSERT_STR_EQ(ev.data, "{\"audit_id\":9,\"dag_id\":\"d-1\",\"from\":\"running\",\"to\":"
                         "\"succeeded\",\"actor\":\"node/1/shard-0\",\"ts\":1000}");
  free(ev.data);
  a = row(10, NULL, "d-1", "review:pending", "review:approved",
          "{\"video_id\":\"v-1\",\"reviewer\":\"operator:rita\"}");
  ASSERT_TRUE(ain_ops_event_of_audit(&a, &ev));
  ASSERT_EQ(ev.type, AIN_OPS_EV_REVIEW);
  ASSERT_STR_CONTAINS(ev.data, "\"video_id\":\"v-1\",\"dag_id\":\"d-1\",\"from\":\"pending\","
                               "\"to\":\"approved\"");
  free(ev.data);
  a = row(11, NULL, "d-1", "video:approved", "video:published", "{\"video_id\":\"v-1\"}");
  ASSERT_TRUE(ain_ops_event_of_audit(&a, &ev));
  ASSERT_EQ(ev.type, AIN_OPS_EV_REVIEW);
  ASSERT_STR_CONTAINS(ev.data, "\"from\":\"approved\",\"to\":\"published\"");
  free(ev.data);
  a = row(12, NULL, NULL, NULL, "review:pending", "not json"); /* no video id: null */
  ASSERT_TRUE(ain_ops_event_of_audit(&a, &ev));
  ASSERT_STR_CONTAINS(ev.data, "\"video_id\":null");
  free(ev.data);
  a = row(13, NULL, NULL, "setting:publishers.paused=", "setting:publishers.paused=true", NULL);
  ASSERT_TRUE(ain_ops_event_of_audit(&a, &ev));
  ASSERT_EQ(ev.type, AIN_OPS_EV_PUBLISHER);
  ASSERT_STR_CONTAINS(ev.data, "\"channel\":null,\"from\":\"running\",\"to\":\"paused\"");
  free(ev.data);
  /* no event: a video status other than published, another setting, a purge */
  a = row(14, NULL, "d-1", "video:passed", "video:in_review", NULL);
  ASSERT_EQ(ain_ops_event_of_audit(&a, &ev), 0);
  a = row(15, NULL, NULL, "setting:x=1", "setting:x=2", NULL);
  ASSERT_EQ(ain_ops_event_of_audit(&a, &ev), 0);
  a = row(16, NULL, NULL, NULL, "purged", "{}");
  ASSERT_EQ(ain_ops_event_of_audit(&a, &ev), 0);
}

TEST(sse_frames) {
  ain_ops_event_t ev = {.id = 42, .type = AIN_OPS_EV_DAG, .data = (char *)"{\"a\":1}"};
  size_t len;
  char *f = ain_ops_event_sse(&ev, &len);
  ASSERT_STR_EQ(f, "id: 42\nevent: dag\ndata: {\"a\":1}\n\n");
  ASSERT_EQ(len, strlen(f));
  free(f);
  ev.id = 0;
  ev.type = AIN_OPS_EV_NODE;
  f = ain_ops_event_sse(&ev, &len);
  ASSERT_STR_EQ(f, "event: node\ndata: {\"a\":1}\n\n");
  free(f);
}

TEST(types_parse) {
  unsigned m;
  ain_err_t err;
  ASSERT_OK(ain_ops_event_types_parse("task,dag,review,node,publisher", "types", &m, &err));
  ASSERT_EQ(m, AIN_OPS_EV_ALL);
  ASSERT_OK(ain_ops_event_types_parse("review", "types", &m, &err));
  ASSERT_EQ(m, AIN_OPS_EV_REVIEW);
  static const char *bad[] = {"", "tasks", "task,", ",task", "task,,dag", "TASK", "task dag"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ain_err_clear(&err);
    ASSERT_EQ(ain_ops_event_types_parse(bad[i], "types", &m, &err), AIN_EINVAL);
    ASSERT_STR_EQ(err.field, "types");
  }
  ain_ops_event_types_parse("task,bogus", "types", &m, &err);
  ASSERT_STR_CONTAINS(err.msg, "'bogus'");
}

TEST(tail_in_order_rows_go_at_once) {
  ain_ops_tail_t t;
  ain_ops_tail_init(&t, 10);
  ain_audit_t rows[] = {task_row(11), task_row(12), task_row(13)};
  ASSERT_STR_EQ(feed(&t, rows, 3, 0), "11 12 13");
  ASSERT_EQ(t.released, 13);
  ASSERT_EQ(t.ngaps, 0);
  ASSERT_STR_EQ(feed(&t, rows, 3, 10), ""); /* read again: nothing twice */
  ain_ops_tail_free(&t);
}

TEST(tail_holds_rows_above_a_gap_until_it_fills) {
  ain_ops_tail_t t;
  ain_ops_tail_init(&t, 10);
  /* 11 is taken by a transaction still open; 12 and 13 committed */
  ain_audit_t first[] = {task_row(12), task_row(13)};
  ASSERT_STR_EQ(feed(&t, first, 2, 0), "");
  ASSERT_EQ(t.ngaps, 1);
  int64_t also[8];
  ASSERT_EQ(ain_ops_tail_also(&t, also, 8), 1);
  ASSERT_EQ(also[0], 11);
  ASSERT_STR_EQ(feed(&t, NULL, 0, 1000), ""); /* still held */
  ain_audit_t late[] = {task_row(11), task_row(14)};
  ASSERT_STR_EQ(feed(&t, late, 2, 2000), "11 12 13 14"); /* in id order */
  ASSERT_EQ(t.ngaps, 0);
  ASSERT_EQ(t.released, 14);
  ain_ops_tail_free(&t);
}

TEST(tail_gives_up_a_gap_after_the_hold_and_still_takes_it_late) {
  ain_ops_tail_t t;
  ain_ops_tail_init(&t, 0);
  ain_audit_t a[] = {task_row(1), task_row(3)};
  ASSERT_STR_EQ(feed(&t, a, 2, 0), "1");
  ASSERT_STR_EQ(feed(&t, NULL, 0, AIN_OPS_TAIL_HOLD_MS - 1), "");
  ASSERT_STR_EQ(feed(&t, NULL, 0, AIN_OPS_TAIL_HOLD_MS), "3"); /* 2 given up */
  ASSERT_EQ(t.nlate, 1);
  ASSERT_EQ(t.given_up, 1);
  int64_t also[8];
  ASSERT_EQ(ain_ops_tail_also(&t, also, 8), 1); /* still re-read */
  ASSERT_EQ(also[0], 2);
  ain_audit_t b[] = {task_row(2), task_row(4)};
  ASSERT_STR_EQ(feed(&t, b, 2, AIN_OPS_TAIL_HOLD_MS + 500), "2* 4"); /* late, marked */
  ASSERT_EQ(t.nlate, 0);
  ASSERT_EQ(t.given_up, 0);
  ASSERT_STR_EQ(feed(&t, b, 2, AIN_OPS_TAIL_HOLD_MS + 600), ""); /* never twice */
  ain_ops_tail_free(&t);
}

TEST(tail_forgets_late_ids_after_late_ms) {
  ain_ops_tail_t t;
  ain_ops_tail_init(&t, 0);
  ain_audit_t a[] = {task_row(2)};
  ASSERT_STR_EQ(feed(&t, a, 1, 0), "");
  ASSERT_STR_EQ(feed(&t, NULL, 0, AIN_OPS_TAIL_HOLD_MS), "2");
  ASSERT_EQ(t.nlate, 1);
  ASSERT_STR_EQ(feed(&t, NULL, 0, AIN_OPS_TAIL_LATE_MS), "");
  ASSERT_EQ(t.nlate, 0); /* a rolled-back id is not re-read forever */
  ain_ops_tail_free(&t);
}

TEST(tail_rows_that_are_no_events_still_advance) {
  ain_ops_tail_t t;
  ain_ops_tail_init(&t, 0);
  ain_audit_t a[] = {task_row(1), row(2, NULL, NULL, "setting:x=", "setting:x=1", NULL),
                     task_row(3)};
  ASSERT_STR_EQ(feed(&t, a, 3, 0), "1 3");
  ASSERT_EQ(t.released, 3);
  ASSERT_EQ(t.npending, 0);
  ain_ops_tail_free(&t);
}

TEST(tail_a_huge_jump_keeps_a_bounded_gap_list) {
  ain_ops_tail_t t;
  ain_ops_tail_init(&t, 0);
  ain_audit_t a[] = {task_row(1000000)};
  ASSERT_STR_EQ(feed(&t, a, 1, 0), "");
  ASSERT_EQ(t.ngaps, AIN_OPS_TAIL_MAX_GAPS);
  ASSERT_STR_EQ(feed(&t, NULL, 0, AIN_OPS_TAIL_HOLD_MS), "1000000");
  ASSERT_EQ(t.released, 1000000);
  ASSERT_LE(t.nlate, AIN_STORE_AUDIT_ALSO_MAX);
  int64_t *also = malloc(AIN_STORE_AUDIT_ALSO_MAX * sizeof *also);
  ASSERT_LE(ain_ops_tail_also(&t, also, AIN_STORE_AUDIT_ALSO_MAX), AIN_STORE_AUDIT_ALSO_MAX);
  free(also);
  ain_ops_tail_free(&t);
}

TEST(tail_many_gaps_fill_in_any_order) {
  ain_ops_tail_t t;
  ain_ops_tail_init(&t, 0);
  ain_audit_t a[] = {task_row(2), task_row(5), task_row(8)};
  ASSERT_STR_EQ(feed(&t, a, 3, 0), "");
  ASSERT_EQ(t.ngaps, 5); /* 1 3 4 6 7 */
  ain_audit_t b[] = {task_row(4), task_row(6)};
  ASSERT_STR_EQ(feed(&t, b, 2, 100), "");
  ain_audit_t c[] = {task_row(1), task_row(3), task_row(7)};
  ASSERT_STR_EQ(feed(&t, c, 3, 200), "1 2 3 4 5 6 7 8");
  ASSERT_EQ(t.npending, 0);
  ain_ops_tail_free(&t);
}

TEST_MAIN(TEST_ENTRY(maps_audit_rows_to_events), TEST_ENTRY(sse_frames), TEST_ENTRY(types_parse),
          TEST_ENTRY(tail_in_order_rows_go_at_once),
          TEST_ENTRY(tail_holds_rows_above_a_gap_until_it_fills),
          TEST_ENTRY(tail_gives_up_a_gap_after_the_hold_and_still_takes_it_late),
          TEST_ENTRY(tail_forgets_late_ids_after_late_ms),
          TEST_ENTRY(tail_rows_that_are_no_events_still_advance),
          TEST_ENTRY(tail_a_huge_jump_keeps_a_bounded_gap_list),
          TEST_ENTRY(tail_many_gaps_fill_in_any_order))
