/* engine/trace/: traceparent parsing (good and bad inputs), ids, the OTLP JSON encoder's shape,
 * and the exporter against a collector that never answers (a listening socket nobody accepts
 * from): submitting never waits, what does not fit is dropped and counted, and stop is bounded. */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/util.h"
#include "harness.h"
#include "obs/obs.h"
#include "trace/trace.h"

static const char *GOOD = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

TEST(parse_good) {
  ain_trace_ctx_t c;
  ain_err_t err = {0};
  ASSERT_OK(ain_trace_parse(GOOD, &c, &err));
  ASSERT_EQ(c.trace_id[0], 0x0a);
  ASSERT_EQ(c.trace_id[15], 0x9c);
  ASSERT_EQ(c.span_id[0], 0xb7);
  ASSERT_EQ(c.span_id[7], 0x31);
  ASSERT_EQ(c.flags, 1);
  char out[AIN_TRACEPARENT_LEN + 1];
  ain_trace_format(&c, out);
  ASSERT_STR_EQ(out, GOOD);
  /* a later version may carry more fields after a dash; its first 55 bytes are read */
  ASSERT_OK(ain_trace_parse("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00-what", &c,
                            &err));
  ASSERT_EQ(c.flags, 0);
}

static void expect_bad(const char *s, const char *msg_part) {
  ain_trace_ctx_t c;
  ain_err_t err = {0};
  int rc = ain_trace_parse(s, &c, &err);
  if (rc != AIN_EINVAL) {
    fprintf(stderr, "accepted: %s\n", s ? s : "(null)");
  }
  ASSERT_EQ(rc, AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "traceparent");
  ASSERT_STR_CONTAINS(err.msg, msg_part);
}

TEST(parse_bad) {
  expect_bad(NULL, "missing");
  expect_bad("", "version");
  expect_bad("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "forbidden");
  expect_bad("0g-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "version");
  /* wrong length: short, long for version 00, a later version without a dash after 55 bytes */
  expect_bad("00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-01", "55 bytes");
  expect_bad("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x", "55 bytes");
  expect_bad("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x", "55 bytes");
  expect_bad("00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "dashes");
  expect_bad("00-0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331-01", "dashes");
  /* bad hex: a letter past f, upper case (the spec's lower-case hex) */
  expect_bad("00-0af7651916cd43dd8448eb211c80319z-b7ad6b7169203331-01", "offset 34");
  expect_bad("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", "trace id");
  expect_bad("00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333G-01", "parent id");
  expect_bad("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0x", "flags");
  /* all-zero ids are invalid */
  expect_bad("00-00000000000000000000000000000000-b7ad6b7169203331-01", "trace id must not be");
  expect_bad("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", "parent id must not be");
}

TEST(child_ids) {
  ain_trace_ctx_t parent, a, b, root;
  ASSERT_OK(ain_trace_parse(GOOD, &parent, NULL));
  ain_trace_child(&parent, &a);
  ain_trace_child(&parent, &b);
  ASSERT_EQ(memcmp(a.trace_id, parent.trace_id, 16), 0);
  ASSERT_NE(memcmp(a.span_id, parent.span_id, 8), 0);
  ASSERT_NE(memcmp(a.span_id, b.span_id, 8), 0);
  ain_trace_child(NULL, &root);
  ASSERT_NE(memcmp(root.trace_id, parent.trace_id, 16), 0);
  /* what we format, we parse */
  char s[AIN_TRACEPARENT_LEN + 1];
  ain_trace_format(&root, s);
  ain_trace_ctx_t again;
  ASSERT_OK(ain_trace_parse(s, &again, NULL));
  ASSERT_EQ(memcmp(&again, &root, sizeof root), 0);
}

static const char *attr_value(cJSON *attrs, const char *key, const char *kind) {
  cJSON *a;
  cJSON_ArrayForEach(a, attrs) {
    if (strcmp(cJSON_GetObjectItem(a, "key")->valuestring, key) == 0) {
      cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(a, "value"), kind);
      return cJSON_IsString(v) ? v->valuestring : NULL;
    }
  }
  return NULL;
}

TEST(encode_otlp_json) {
  ain_trace_ctx_t parent, self, root;
  ASSERT_OK(ain_trace_parse(GOOD, &parent, NULL));
  ain_trace_child(&parent, &self);
  ain_trace_child(NULL, &root);
  ain_span_t *s[2];
  s[0] = ain_span_new(&self, parent.span_id, "tts", AIN_SPAN_KIND_CONSUMER, 1700000000123456789LL);
  s[0]->end_unix_ns = 1700000001000000000LL;
  ain_span_attr_str(s[0], "ain.task_id", "t-1");
  ain_span_attr_int(s[0], "ain.attempt", 2);
  ain_span_attr_int(s[0], "ain.state_version", 9007199254740993LL); /* past a double's 2^53 */
  ain_span_attr_str(s[0], "skipped", NULL);
  char longmsg[3000];
  memset(longmsg, 'x', sizeof longmsg - 1);
  longmsg[sizeof longmsg - 1] = '\0';
  ain_span_set_status(s[0], AIN_SPAN_STATUS_ERROR, longmsg);
  s[1] = ain_span_new(&root, NULL, "plan \"q\"", AIN_SPAN_KIND_INTERNAL, 5);
  ain_span_set_status(s[1], AIN_SPAN_STATUS_OK, "ignored");
  ain_trace_resource_t res = {"ain-test", "node-1/42", "0.1.0"};
  char *text = ain_trace_otlp_json(s, 2, &res);
  cJSON *doc = cJSON_Parse(text);
  ASSERT_NOT_NULL(doc);
  cJSON *rs = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "resourceSpans"), 0);
  cJSON *rattrs = cJSON_GetObjectItem(cJSON_GetObjectItem(rs, "resource"), "attributes");
  ASSERT_STR_EQ(attr_value(rattrs, "service.name", "stringValue"), "ain-test");
  ASSERT_STR_EQ(attr_value(rattrs, "service.instance.id", "stringValue"), "node-1/42");
  cJSON *ss = cJSON_GetArrayItem(cJSON_GetObjectItem(rs, "scopeSpans"), 0);
  ASSERT_STR_EQ(cJSON_GetObjectItem(cJSON_GetObjectItem(ss, "scope"), "name")->valuestring, "ain");
  cJSON *spans = cJSON_GetObjectItem(ss, "spans");
  ASSERT_EQ(cJSON_GetArraySize(spans), 2);
  cJSON *j = cJSON_GetArrayItem(spans, 0);
  ASSERT_STR_EQ(cJSON_GetObjectItem(j, "traceId")->valuestring,
                "0af7651916cd43dd8448eb211c80319c");
  ASSERT_STR_EQ(cJSON_GetObjectItem(j, "parentSpanId")->valuestring, "b7ad6b7169203331");
  ASSERT_EQ(strlen(cJSON_GetObjectItem(j, "spanId")->valuestring), 16);
  ASSERT_EQ(cJSON_GetObjectItem(j, "kind")->valueint, 5);               /* enum as an integer */
  ASSERT_STR_EQ(cJSON_GetObjectItem(j, "startTimeUnixNano")->valuestring, /* int64 as string */
                "1700000000123456789");
  ASSERT_STR_EQ(cJSON_GetObjectItem(j, "endTimeUnixNano")->valuestring, "1700000001000000000");
  cJSON *attrs = cJSON_GetObjectItem(j, "attributes");
  ASSERT_EQ(cJSON_GetArraySize(attrs), 3); /* the NULL value was skipped */
  ASSERT_STR_EQ(attr_value(attrs, "ain.task_id", "stringValue"), "t-1");
  ASSERT_STR_EQ(attr_value(attrs, "ain.attempt", "intValue"), "2");
  ASSERT_STR_EQ(attr_value(attrs, "ain.state_version", "intValue"), "9007199254740993");
  cJSON *st = cJSON_GetObjectItem(j, "status");
  ASSERT_EQ(cJSON_GetObjectItem(st, "code")->valueint, 2);
  ASSERT_EQ(strlen(cJSON_GetObjectItem(st, "message")->valuestring), 1024); /* cut */
  cJSON *r = cJSON_GetArrayItem(spans, 1);
  ASSERT_NULL(cJSON_GetObjectItem(r, "parentSpanId")); /* a root */
  ASSERT_STR_EQ(cJSON_GetObjectItem(r, "name")->valuestring, "plan \"q\"");
  ASSERT_EQ(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "status"), "code")->valueint, 1);
  ASSERT_NULL(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "status"), "message"));
  cJSON_Delete(doc);
  free(text);
  ain_span_free(s[0]);
  ain_span_free(s[1]);
}

/* A collector that never answers: a listening socket whose backlog takes the connection. */
static int silent_listener(int *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  ASSERT_OK(bind(fd, (struct sockaddr *)&a, sizeof a));
  ASSERT_OK(listen(fd, 16));
  socklen_t n = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &n);
  *port = ntohs(a.sin_port);
  return fd;
}

static ain_span_t *some_span(void) {
  ain_trace_ctx_t c;
  ain_trace_child(NULL, &c);
  ain_span_t *s = ain_span_new(&c, NULL, "noop", AIN_SPAN_KIND_CONSUMER, ain_trace_now_ns());
  ain_span_attr_str(s, "ain.task_id", "x");
  return s;
}

TEST(export_never_waits_for_a_silent_collector) {
  int port;
  int fd = silent_listener(&port);
  char endpoint[64];
  snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", port);
  ain_tracing_config_t cfg = {.enabled = 1,
                              .endpoint = endpoint,
                              .service_name = "ain",
                              .batch_size = 100,
                              .queue_size = 1000,
                              .flush_interval_ms = 10,
                              .timeout_ms = 2000,
                              .shutdown_timeout_ms = 300};
  ain_trace_t *t;
  ain_err_t err = {0};
  ASSERT_OK(ain_trace_start(&cfg, "unit/1", &t, &err));
  /* 20,000 spans while the exporter hangs on its requests (2 s each): no submit waits. One that
   * waited for the collector would take the 2 s; a push takes microseconds (milliseconds under
   * valgrind), so 1 s is a wide bound for a loaded box and the sanitizers. */
  double worst_ms = 0;
  for (int i = 0; i < 20000; i++) {
    ain_span_t *s = some_span();
    uint64_t t0 = ain_mono_ns();
    ain_trace_submit(t, s);
    double ms = (double)(ain_mono_ns() - t0) / 1e6;
    worst_ms = ms > worst_ms ? ms : worst_ms;
  }
  ASSERT_LE(worst_ms, 1000);
  ain_trace_stats_t st;
  ain_trace_stats(t, &st);
  ASSERT_EQ(st.exported, 0);
  ASSERT_LE(st.queued, 1000);
  ASSERT_GE(st.dropped, 20000 - 1000 - 100); /* at most a queue and a batch in flight */
  const char *qf[1] = {"queue_full"}, *ef[1] = {"export_failed"};
  ASSERT_GE(ain_obs_get(AIN_M_TRACE_SPANS_DROPPED, qf), 1);
  /* the batches whose requests timed out meanwhile (a slow run) are the rest */
  ASSERT_EQ(ain_obs_get(AIN_M_TRACE_SPANS_DROPPED, qf) + ain_obs_get(AIN_M_TRACE_SPANS_DROPPED, ef),
            st.dropped);
  /* stop: the request in flight is aborted at the shutdown deadline (300 ms, noticed by
   * libcurl's progress callback within a second), not left to run out its 2 s timeout */
  uint64_t t0 = ain_mono_ns();
  ain_trace_stop(t);
  double stop_ms = (double)(ain_mono_ns() - t0) / 1e6;
  fprintf(stderr, "# stop took %.0f ms\n", stop_ms);
  ASSERT_LE(stop_ms, 300 + 1000 + 1500);
  const char *sd[1] = {"shutdown"};
  /* every span is accounted for: dropped for one reason or another, none exported */
  double total = ain_obs_get(AIN_M_TRACE_SPANS_DROPPED, qf) + ain_obs_get(AIN_M_TRACE_SPANS_DROPPED, sd) +
                 ain_obs_get(AIN_M_TRACE_SPANS_DROPPED, ef);
  ASSERT_EQ(total, 20000);
  ASSERT_EQ(ain_obs_get(AIN_M_TRACE_SPANS_EXPORTED, NULL), 0);
  close(fd);
}

TEST(export_to_a_dead_port_counts_failures) {
  int port;
  int fd = silent_listener(&port);
  close(fd); /* nothing listens there now: connection refused */
  char endpoint[64];
  snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", port);
  ain_tracing_config_t cfg = {.enabled = 1, .endpoint = endpoint, .service_name = "ain",
                              .batch_size = 10, .queue_size = 100, .flush_interval_ms = 10,
                              .timeout_ms = 1000, .shutdown_timeout_ms = 1000};
  ain_trace_t *t;
  ASSERT_OK(ain_trace_start(&cfg, "unit/1", &t, NULL));
  for (int i = 0; i < 25; i++) {
    ain_trace_submit(t, some_span());
  }
  /* wait for the exporter to try (stopping at once could drop the spans as "shutdown" before
   * the first request on a slow run) */
  ain_trace_stats_t st;
  for (int i = 0; i < 1000; i++) {
    ain_trace_stats(t, &st);
    if (st.dropped == 25) {
      break;
    }
    usleep(10000);
  }
  ASSERT_EQ(st.dropped, 25);
  ASSERT_EQ(st.exported, 0);
  ain_trace_stop(t);
  ASSERT_GE(ain_obs_get(AIN_M_TRACE_EXPORT_FAILURES, NULL), 3); /* 25 spans in batches of 10 */
  const char *ef[1] = {"export_failed"};
  ASSERT_EQ(ain_obs_get(AIN_M_TRACE_SPANS_DROPPED, ef), 25);
}

TEST(start_refuses_bad_config) {
  ain_tracing_config_t cfg = {.enabled = 1, .endpoint = NULL, .batch_size = 10, .queue_size = 5};
  ain_trace_t *t = NULL;
  ain_err_t err = {0};
  ASSERT_EQ(ain_trace_start(&cfg, "x", &t, &err), AIN_ECONFIG);
  ASSERT_NULL(t);
  /* submit and stop without an exporter are no-ops (tracing off) */
  ain_trace_submit(NULL, some_span());
  ain_trace_stop(NULL);
}

TEST_MAIN(TEST_ENTRY(parse_good), TEST_ENTRY(parse_bad), TEST_ENTRY(child_ids),
          TEST_ENTRY(encode_otlp_json), TEST_ENTRY(export_never_waits_for_a_silent_collector),
          TEST_ENTRY(export_to_a_dead_port_counts_failures), TEST_ENTRY(start_refuses_bad_config))
