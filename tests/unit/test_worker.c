/* Jobs on threads of their own with a deadline (loop/worker.h). The wedged job is a real one: a
 * thread blocked in read() on a pipe nobody writes to until the test says so.
 * Covers: a job that returns in time, one abandoned at its deadline and released when it
 * returns, the hub delivering on the loop in order, and a hub closed while a job still runs. */
#include <errno.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#include "core/util.h"
#include "harness.h"
#include "loop/worker.h"

typedef struct {
  int fd;         /* read end: the job blocks here */
  int ran, value; /* written by the job */
  atomic_int released;
} job_t;

static void blocking_job(void *arg) {
  job_t *j = arg;
  char c = 0;
  if (j->fd >= 0) {
    ASSERT_EQ(read(j->fd, &c, 1), 1);
  }
  j->ran = 1;
  j->value = c ? c : 42;
}

static void release(void *arg) {
  atomic_store(&((job_t *)arg)->released, 1);
}

static int wait_flag(atomic_int *flag, int ms) {
  uint64_t end = ain_mono_ns() + (uint64_t)ms * 1000000;
  while (!atomic_load(flag) && ain_mono_ns() < end) {
    usleep(1000);
  }
  return atomic_load(flag);
}

TEST(run_for_returns_in_time) {
  job_t j = {.fd = -1};
  ASSERT_OK(ain_worker_run_for(blocking_job, &j, release, 5000));
  ASSERT_EQ(j.ran, 1);
  ASSERT_EQ(j.value, 42);
  ASSERT_EQ(atomic_load(&j.released), 0); /* the caller's again: no release */
}

TEST(run_for_abandons_a_wedged_job) {
  int p[2];
  ASSERT_OK(pipe(p));
  static job_t j; /* outlives this frame's use: the thread owns it after the deadline */
  j.fd = p[0];
  uint64_t t0 = ain_mono_ns();
  ASSERT_EQ(ain_worker_run_for(blocking_job, &j, release, 100), AIN_ETIMEOUT);
  uint64_t ms = (ain_mono_ns() - t0) / 1000000;
  ASSERT_GE(ms, 100);
  ASSERT_LE(ms, 100 + 2000);
  ASSERT_EQ(atomic_load(&j.released), 0);
  ASSERT_EQ(write(p[1], "x", 1), 1); /* unwedge it: the thread releases the job */
  ASSERT_TRUE(wait_flag(&j.released, 5000));
  ASSERT_EQ(j.value, 'x');
}

typedef struct {
  int delivered[4];
  int n;
  int closed;
} hub_out_t;

static void on_done(void *arg, void *data) {
  hub_out_t *o = data;
  o->delivered[o->n++] = ((job_t *)arg)->value;
}

static void on_closed(void *data) {
  ((hub_out_t *)data)->closed = 1;
}

TEST(hub_delivers_on_the_loop_and_closes_with_a_job_running) {
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  hub_out_t o = {0};
  ain_worker_hub_t *hub;
  ain_err_t err;
  ASSERT_OK(ain_worker_hub_new(&loop, on_done, &o, &hub, &err));
  int p1[2], p2[2];
  ASSERT_OK(pipe(p1));
  ASSERT_OK(pipe(p2));
  static job_t a, b;
  a.fd = p1[0];
  b.fd = p2[0];
  ASSERT_OK(ain_worker_hub_start(hub, blocking_job, &a, release));
  ASSERT_OK(ain_worker_hub_start(hub, blocking_job, &b, release));
  ASSERT_EQ(ain_worker_hub_running(hub), 2);
  ASSERT_EQ(write(p1[1], "a", 1), 1);
  uint64_t end = ain_mono_ns() + 5000000000ull;
  while (o.n < 1 && ain_mono_ns() < end) {
    uv_run(&loop, UV_RUN_ONCE); /* the async handle keeps the loop alive until a delivery */
  }
  ASSERT_EQ(o.n, 1);
  ASSERT_EQ(o.delivered[0], 'a');
  ASSERT_EQ(ain_worker_hub_running(hub), 1);
  ASSERT_EQ(atomic_load(&a.released), 0); /* delivered, not released */
  /* b still blocks: close anyway; b is released by its thread, never delivered */
  ain_worker_hub_close(hub, on_closed, &o);
  uv_run(&loop, UV_RUN_DEFAULT);
  ASSERT_EQ(o.closed, 1);
  ASSERT_EQ(uv_loop_close(&loop), 0); /* the loop holds nothing of the hub any more */
  ASSERT_EQ(write(p2[1], "b", 1), 1);
  ASSERT_TRUE(wait_flag(&b.released, 5000));
  ASSERT_EQ(o.n, 1);
}

static void nice_job(void *arg) {
  job_t *j = arg;
  j->value = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
  j->ran = 1;
}

/* A hub's thread is background work: it runs nicer than the loop's thread. */
TEST(hub_threads_run_nicer) {
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  hub_out_t o = {0};
  ain_worker_hub_t *hub;
  ain_err_t err;
  ASSERT_OK(ain_worker_hub_new(&loop, on_done, &o, &hub, &err));
  errno = 0;
  int mine = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
  ASSERT_EQ(errno, 0);
  static job_t j;
  ASSERT_OK(ain_worker_hub_start(hub, nice_job, &j, release));
  uint64_t end = ain_mono_ns() + 5000000000ull;
  while (o.n < 1 && ain_mono_ns() < end) {
    uv_run(&loop, UV_RUN_ONCE);
  }
  ASSERT_EQ(o.n, 1);
  ASSERT_EQ(o.delivered[0], mine + 10 > 19 ? 19 : mine + 10);
  ain_worker_hub_close(hub, on_closed, &o);
  uv_run(&loop, UV_RUN_DEFAULT);
  ASSERT_EQ(uv_loop_close(&loop), 0);
}

TEST_MAIN(TEST_ENTRY(hub_threads_run_nicer), TEST_ENTRY(run_for_returns_in_time),
          TEST_ENTRY(run_for_abandons_a_wedged_job),
          TEST_ENTRY(hub_delivers_on_the_loop_and_closes_with_a_job_running))
