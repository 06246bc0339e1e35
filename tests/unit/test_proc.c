/* Tests for loop/proc.c: real child processes (true, sh, cat, head, sleep) on a real uv loop. */
#include <signal.h>
#include <unistd.h>
#include <uv.h>

#include "core/util.h"
#include "harness.h"
#include "loop/proc.h"

typedef struct {
  int calls;
  ain_proc_result_t res; /* copied; out/err duplicated */
  char *out, *err;
  int lines;
  char line_buf[4096];
  size_t line_used;
} seen_t;

static void on_done(ain_proc_t *p, const ain_proc_result_t *res, void *data) {
  seen_t *s = data;
  s->calls++;
  s->res = *res;
  /* out/err are only valid during the callback, so keep copies */
  s->out = malloc(res->out_len + 1);
  memcpy(s->out, res->out, res->out_len + 1);
  s->err = malloc(res->err_len + 1);
  memcpy(s->err, res->err, res->err_len + 1);
  ASSERT_EQ(s->out[res->out_len], '\0');
}

static void on_line(void *data, const char *line, size_t len) {
  seen_t *s = data;
  s->lines++;
  int n = snprintf(s->line_buf + s->line_used, sizeof s->line_buf - s->line_used, "[%.*s]",
                   (int)len, line);
  if (n > 0) {
    s->line_used += (size_t)n;
  }
}

static void run_to_end(uv_loop_t *loop, seen_t *s) {
  ASSERT_OK(uv_run(loop, UV_RUN_DEFAULT));
  ASSERT_EQ(s->calls, 1);
  ASSERT_OK(uv_loop_close(loop));
}

static void seen_free(seen_t *s) {
  free(s->out);
  free(s->err);
}

static void spawn_ok(uv_loop_t *loop, ain_proc_opts_t *o, seen_t *s, ain_proc_t **p) {
  ain_err_t err = {0};
  int rc = ain_proc_spawn(loop, o, on_done, s, p, &err);
  if (rc != 0) {
    fprintf(stderr, "spawn: %s\n", err.msg);
  }
  ASSERT_OK(rc);
}

TEST(exit_code_and_capture) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  char *args[] = {"sh", "-c", "echo out; echo err >&2; exit 3", NULL};
  ain_proc_opts_t o = {.file = "sh", .args = args};
  seen_t s = {0};
  spawn_ok(&loop, &o, &s, NULL);
  run_to_end(&loop, &s);
  ASSERT_EQ(s.res.exit_status, 3);
  ASSERT_EQ(s.res.term_signal, 0);
  ASSERT_EQ(s.res.timed_out, 0);
  ASSERT_STR_EQ(s.out, "out\n");
  ASSERT_STR_EQ(s.err, "err\n");
  ASSERT_EQ(s.res.truncated, 0);
  seen_free(&s);
}

TEST(empty_output_and_no_stdin) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  /* stdin is /dev/null-like: cat must see EOF at once instead of hanging */
  char *args[] = {"cat", NULL};
  ain_proc_opts_t o = {.file = "cat", .args = args};
  seen_t s = {0};
  spawn_ok(&loop, &o, &s, NULL);
  run_to_end(&loop, &s);
  ASSERT_EQ(s.res.exit_status, 0);
  ASSERT_EQ(s.res.out_len, 0);
  ASSERT_STR_EQ(s.out, "");
  seen_free(&s);
}

TEST(stdin_round_trip) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  /* 1 MB is bigger than a pipe buffer: the write and the reads must interleave on the loop */
  size_t n = 1 << 20;
  char *in = malloc(n);
  for (size_t i = 0; i < n; i++) {
    in[i] = (char)('a' + i % 26);
  }
  char *args[] = {"cat", NULL};
  ain_proc_opts_t o = {.file = "cat", .args = args, .stdin_data = in, .stdin_len = n};
  seen_t s = {0};
  spawn_ok(&loop, &o, &s, NULL);
  free(in); /* the data was copied */
  run_to_end(&loop, &s);
  ASSERT_EQ(s.res.exit_status, 0);
  ASSERT_EQ(s.res.out_len, n);
  for (size_t i = 0; i < n; i += 4099) {
    ASSERT_EQ(s.out[i], 'a' + i % 26);
  }
  seen_free(&s);
}

TEST(stdin_not_read_does_not_kill_us) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  /* the child exits without reading 4 MB of stdin: our write gets EPIPE, not a SIGPIPE death */
  size_t n = 4 << 20;
  char *in = calloc(1, n);
  char *args[] = {"true", NULL};
  ain_proc_opts_t o = {.file = "true", .args = args, .stdin_data = in, .stdin_len = n};
  seen_t s = {0};
  spawn_ok(&loop, &o, &s, NULL);
  free(in);
  run_to_end(&loop, &s);
  ASSERT_EQ(s.res.exit_status, 0);
  seen_free(&s);
}

TEST(big_output_drained) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  char *args[] = {"head", "-c", "5242880", "/dev/zero", NULL};
  ain_proc_opts_t o = {.file = "head", .args = args};
  seen_t s = {0};
  spawn_ok(&loop, &o, &s, NULL);
  run_to_end(&loop, &s);
  ASSERT_EQ(s.res.exit_status, 0);
  ASSERT_EQ(s.res.out_len, 5242880);
  ASSERT_EQ(s.res.truncated, 0);
  seen_free(&s);
}

TEST(capture_cap_truncates) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  char *args[] = {"head", "-c", "1000000", "/dev/zero", NULL};
  ain_proc_opts_t o = {.file = "head", .args = args, .max_capture = 1000};
  seen_t s = {0};
  spawn_ok(&loop, &o, &s, NULL);
  run_to_end(&loop, &s);
  /* the child was drained to the end (exit 0, not SIGPIPE) but only the cap was kept */
  ASSERT_EQ(s.res.exit_status, 0);
  ASSERT_EQ(s.res.term_signal, 0);
  ASSERT_EQ(s.res.out_len, 1000);
  ASSERT_EQ(s.res.truncated, 1);
  seen_free(&s);
}

TEST(timeout_sends_sigterm) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  char *args[] = {"sleep", "30", NULL};
  ain_proc_opts_t o = {.file = "sleep", .args = args, .timeout_ms = 100};
  seen_t s = {0};
  spawn_ok(&loop, &o, &s, NULL);
  run_to_end(&loop, &s);
  ASSERT_EQ(s.res.timed_out, 1);
  ASSERT_EQ(s.res.term_signal, SIGTERM);
  ASSERT_GE(s.res.elapsed_ms, 90);
  ASSERT_LE(s.res.elapsed_ms, 2000);
  seen_free(&s);
}

TEST(sigterm_ignored_gets_sigkill) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  /* sh ignores TERM and so does its sleep (ignored signals survive exec); sleep holds our pipes,
   * so this also proves the whole process group is killed */
  char *args[] = {"sh", "-c", "trap '' TERM; sleep 30; echo survived", NULL};
  /* 500 ms before SIGTERM: sh must have run its trap by then, even on a loaded machine */
  ain_proc_opts_t o = {.file = "sh", .args = args, .timeout_ms = 500, .kill_grace_ms = 300};
  seen_t s = {0};
  spawn_ok(&loop, &o, &s, NULL);
  run_to_end(&loop, &s);
  ASSERT_EQ(s.res.timed_out, 1);
  ASSERT_EQ(s.res.term_signal, SIGKILL);
  ASSERT_GE(s.res.elapsed_ms, 750); /* timeout + grace, less a few ms of clock granularity */
  ASSERT_LE(s.res.elapsed_ms, 5000);
  ASSERT_EQ(s.res.out_len, 0);
  seen_free(&s);
}

typedef struct {
  ain_proc_t *p;
} killer_t;

static void kill_soon(uv_timer_t *t) {
  killer_t *k = t->data;
  ain_proc_kill(k->p);
  ain_proc_kill(k->p); /* idempotent */
  uv_close((uv_handle_t *)t, NULL);
}

TEST(kill_by_caller) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  char *args[] = {"sleep", "30", NULL};
  ain_proc_opts_t o = {.file = "sleep", .args = args};
  seen_t s = {0};
  killer_t k = {0};
  spawn_ok(&loop, &o, &s, &k.p);
  ASSERT_TRUE(ain_proc_pid(k.p) > 0);
  uv_timer_t t;
  uv_timer_init(&loop, &t);
  t.data = &k;
  uv_timer_start(&t, kill_soon, 50, 0);
  run_to_end(&loop, &s);
  ASSERT_EQ(s.res.killed, 1);
  ASSERT_EQ(s.res.timed_out, 0);
  ASSERT_EQ(s.res.term_signal, SIGTERM);
  seen_free(&s);
}

/* 1 while pid exists and is not a zombie. */
static int alive(long pid) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%ld/stat", pid);
  char *st = NULL;
  size_t len = 0;
  if (ain_read_file(p, &st, &len) != 0) {
    return 0;
  }
  const char *rp = strrchr(st, ')');
  int zombie = rp != NULL && rp[1] == ' ' && rp[2] == 'Z';
  free(st);
  return !zombie;
}

/* What `ain cancel` relies on: a kill takes the child's whole group, including a grandchild that
 * let go of our pipes (so nothing else would wait for it). */
TEST(kill_takes_the_group) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  char *args[] = {"sh", "-c", "sleep 30 >/dev/null 2>&1 & echo $!; wait", NULL};
  ain_proc_opts_t o = {.file = "sh", .args = args, .kill_grace_ms = 300};
  seen_t s = {0};
  killer_t k = {0};
  spawn_ok(&loop, &o, &s, &k.p);
  uv_timer_t t;
  uv_timer_init(&loop, &t);
  t.data = &k;
  uv_timer_start(&t, kill_soon, 300, 0);
  run_to_end(&loop, &s);
  ASSERT_EQ(s.res.killed, 1);
  long pid = strtol(s.out, NULL, 10);
  ASSERT_TRUE(pid > 1);
  for (int i = 0; i < 100 && alive(pid); i++) {
    usleep(20000);
  }
  ASSERT_TRUE(!alive(pid));
  seen_free(&s);
}

TEST(line_callback_joins_split_lines) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  /* "ab" and "cd" arrive in separate writes 50 ms apart but form one line; the last line has no
   * newline and must still be delivered at EOF; CRLF loses its CR */
  char *args[] = {"sh", "-c", "printf 'one\\nab'; sleep 0.05; printf 'cd\\r\\n\\nlast'", NULL};
  seen_t s = {0};
  ain_proc_opts_t o = {.file = "sh", .args = args, .on_stdout_line = on_line, .data = &s};
  spawn_ok(&loop, &o, &s, NULL);
  run_to_end(&loop, &s);
  ASSERT_STR_EQ(s.line_buf, "[one][abcd][][last]");
  ASSERT_EQ(s.lines, 4);
  ASSERT_STR_EQ(s.out, "one\nabcd\r\n\nlast"); /* capture still complete */
  seen_free(&s);
}

TEST(stderr_line_callback) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  char *args[] = {"sh", "-c", "echo a >&2; echo b >&2", NULL};
  seen_t s = {0};
  ain_proc_opts_t o = {.file = "sh", .args = args, .on_stderr_line = on_line, .data = &s};
  spawn_ok(&loop, &o, &s, NULL);
  run_to_end(&loop, &s);
  ASSERT_STR_EQ(s.line_buf, "[a][b]");
  seen_free(&s);
}

static void never_called(ain_proc_t *p, const ain_proc_result_t *res, void *data) {
  AIN__FAIL("callback must not run for a spawn failure");
}

TEST(nonexistent_program) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  char *args[] = {"no-such-program-ain", NULL};
  ain_proc_opts_t o = {.file = "no-such-program-ain", .args = args};
  ain_err_t err = {0};
  ain_proc_t *p = (ain_proc_t *)&err;
  int rc = ain_proc_spawn(&loop, &o, never_called, NULL, &p, &err);
  ASSERT_EQ(rc, AIN_ESPAWN);
  ASSERT_EQ(err.code, AIN_ESPAWN);
  ASSERT_NULL(p);
  ASSERT_STR_EQ(err.msg, "cannot start 'no-such-program-ain': no such file or directory");
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT)); /* closes the handles, frees the struct */
  ASSERT_OK(uv_loop_close(&loop));
}

TEST(bad_arguments) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  ain_err_t err = {0};
  ain_proc_opts_t o = {.file = "true", .args = NULL};
  ASSERT_EQ(ain_proc_spawn(&loop, &o, never_called, NULL, NULL, &err), AIN_EINVAL);
  ASSERT_EQ(ain_proc_spawn(&loop, NULL, never_called, NULL, NULL, &err), AIN_EINVAL);
  ain_proc_kill(NULL);
  ASSERT_EQ(ain_proc_pid(NULL), -1);
  ASSERT_OK(uv_loop_close(&loop));
}

TEST(env_and_cwd) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  char *args[] = {"sh", "-c", "echo \"$AIN_X\"; pwd", NULL};
  char *env[] = {"AIN_X=hello", "PATH=/usr/bin:/bin", NULL};
  ain_proc_opts_t o = {.file = "sh", .args = args, .env = env, .cwd = "/"};
  seen_t s = {0};
  spawn_ok(&loop, &o, &s, NULL);
  run_to_end(&loop, &s);
  ASSERT_STR_EQ(s.out, "hello\n/\n");
  seen_free(&s);
}

TEST(many_concurrent) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  enum { N = 20 };
  seen_t s[N];
  memset(s, 0, sizeof s);
  char *args[] = {"sh", "-c", "sleep 0.2; echo done", NULL};
  ain_proc_opts_t o = {.file = "sh", .args = args};
  uint64_t t0 = ain_mono_ns();
  for (int i = 0; i < N; i++) {
    spawn_ok(&loop, &o, &s[i], NULL);
  }
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  double ms = (double)(ain_mono_ns() - t0) / 1e6;
  ASSERT_LE(ms, 3000); /* ran in parallel, not 20 x 200 ms */
  for (int i = 0; i < N; i++) {
    ASSERT_EQ(s[i].calls, 1);
    ASSERT_STR_EQ(s[i].out, "done\n");
    seen_free(&s[i]);
  }
  ASSERT_OK(uv_loop_close(&loop));
}

TEST_MAIN(TEST_ENTRY(kill_takes_the_group), TEST_ENTRY(exit_code_and_capture), TEST_ENTRY(empty_output_and_no_stdin),
          TEST_ENTRY(stdin_round_trip), TEST_ENTRY(stdin_not_read_does_not_kill_us),
          TEST_ENTRY(big_output_drained), TEST_ENTRY(capture_cap_truncates),
          TEST_ENTRY(timeout_sends_sigterm), TEST_ENTRY(sigterm_ignored_gets_sigkill),
          TEST_ENTRY(kill_by_caller), TEST_ENTRY(line_callback_joins_split_lines),
          TEST_ENTRY(stderr_line_callback), TEST_ENTRY(nonexistent_program),
          TEST_ENTRY(bad_arguments), TEST_ENTRY(env_and_cwd), TEST_ENTRY(many_concurrent))
