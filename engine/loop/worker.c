/* Jobs on threads of their own, with a deadline (loop/worker.h).
 * Ownership: the waiter (or hub) and each job thread hold a reference on the shared record; the
 * last one to drop it frees it. Both drop theirs under the record's mutex, and POSIX allows
 * destroying a mutex as soon as it is unlocked, so whoever is last may free at once.
 * Relies on: POSIX threads (detached threads, a CLOCK_MONOTONIC condition variable), libuv. */
#include "loop/worker.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* How much nicer than the process a hub's thread runs (Linux: the nice value is per thread). */
#define HUB_NICE 10

/* Starts body(arg) on a detached thread with every signal blocked (the loop threads handle
 * them). 0 or an errno value. */
static int spawn_detached(void *(*body)(void *), void *arg) {
  pthread_attr_t attr;
  int rc = pthread_attr_init(&attr);
  if (rc != 0) {
    return rc;
  }
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old); /* the new thread inherits the mask */
  pthread_t t;
  rc = pthread_create(&t, &attr, body, arg);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  return rc;
}

/* ---- blocking, with a deadline -------------------------------------------------------------- */

typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  ain_worker_fn fn, release;
  void *arg;
  int done, abandoned, refs;
} waiter_t;

static void waiter_free(waiter_t *w) {
  pthread_cond_destroy(&w->cv);
  pthread_mutex_destroy(&w->mu);
  free(w);
}

static void *waiter_body(void *p) {
  waiter_t *w = p;
  w->fn(w->arg);
  pthread_mutex_lock(&w->mu);
  w->done = 1;
  int abandoned = w->abandoned;
  int last = --w->refs == 0;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
  if (abandoned && w->release != NULL) {
    w->release(w->arg);
  }
  if (last) {
    waiter_free(w);
  }
  return NULL;
}

int ain_worker_run_for(ain_worker_fn fn, void *arg, ain_worker_fn release, uint64_t ms) {
  waiter_t *w = calloc(1, sizeof *w);
  if (w == NULL) {
    return AIN_EIO;
  }
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&w->cv, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&w->mu, NULL);
  w->fn = fn;
  w->release = release;
  w->arg = arg;
  w->refs = 2;
  if (spawn_detached(waiter_body, w) != 0) {
    waiter_free(w);
    return AIN_EIO;
  }
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += (time_t)(ms / 1000);
  until.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&w->mu);
  while (!w->done) {
    if (pthread_cond_timedwait(&w->cv, &w->mu, &until) == ETIMEDOUT) {
      break;
    }
  }
  int done = w->done;
  w->abandoned = !done;
  int last = --w->refs == 0;
  pthread_mutex_unlock(&w->mu);
  if (last) {
    waiter_free(w);
  }
  return done ? 0 : AIN_ETIMEOUT;
}

/* ---- delivered to a loop -------------------------------------------------------------------- */

typedef struct job {
  struct job *next;
  ain_worker_hub_t *hub;
  ain_worker_fn fn, release;
  void *arg;
} job_t;

struct ain_worker_hub {
  pthread_mutex_t mu;
  uv_async_t async; /* freed with the hub, so the hub outlives its close callback */
  int open;         /* on_done may still run; async may be sent */
  int refs;         /* the loop side (until the handle closed) + one per thread */
  int running;
  job_t *head, *tail; /* returned, not yet delivered */
  void (*on_done)(void *arg, void *data);
  void *data;
  void (*closed_cb)(void *data);
  void *closed_data;
};

static void hub_unref(ain_worker_hub_t *hub) {
  pthread_mutex_lock(&hub->mu);
  int last = --hub->refs == 0;
  pthread_mutex_unlock(&hub->mu);
  if (last) {
    pthread_mutex_destroy(&hub->mu);
    free(hub);
  }
}

static void *hub_body(void *p) {
  job_t *j = p;
  ain_worker_hub_t *hub = j->hub;
  /* Background work for a loop: when the CPUs are short (or a job spins, abandoned), the loops
   * and the shards go first. Lowering one's own priority needs no privilege; failing is harmless.
   */
  id_t tid = (id_t)syscall(SYS_gettid);
  errno = 0;
  int nice_now = getpriority(PRIO_PROCESS, tid);
  if (errno == 0) {
    setpriority(PRIO_PROCESS, tid, nice_now + HUB_NICE > 19 ? 19 : nice_now + HUB_NICE);
  }
  j->fn(j->arg);
  pthread_mutex_lock(&hub->mu);
  hub->running--;
  int open = hub->open;
  if (open) {
    if (hub->tail) {
      hub->tail->next = j;
    } else {
      hub->head = j;
    }
    hub->tail = j;
    uv_async_send(&hub->async); /* under the lock: the loop cannot close the handle meanwhile */
  }
  pthread_mutex_unlock(&hub->mu);
  if (!open) {
    if (j->release != NULL) {
      j->release(j->arg);
    }
    free(j);
  }
  hub_unref(hub);
  return NULL;
}

static void on_async(uv_async_t *a) {
  ain_worker_hub_t *hub = a->data;
  pthread_mutex_lock(&hub->mu);
  job_t *j = hub->head;
  hub->head = hub->tail = NULL;
  pthread_mutex_unlock(&hub->mu);
  while (j != NULL) {
    job_t *next = j->next;
    if (hub->open) {
      hub->on_done(j->arg, hub->data);
    } else if (j->release != NULL) { /* closed by an earlier on_done of this batch */
      j->release(j->arg);
    }
    free(j);
    j = next;
  }
}

int ain_worker_hub_new(uv_loop_t *loop, void (*on_done)(void *arg, void *data), void *data,
                       ain_worker_hub_t **out, ain_err_t *err) {
  *out = NULL;
  ain_worker_hub_t *hub = calloc(1, sizeof *hub);
  if (hub == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "worker hub: out of memory");
  }
  int rc = uv_async_init(loop, &hub->async, on_async);
  if (rc != 0) {
    free(hub);
    return ain_err_set(err, AIN_EIO, "worker hub: %s", uv_strerror(rc));
  }
  pthread_mutex_init(&hub->mu, NULL);
  hub->async.data = hub;
  hub->open = 1;
  hub->refs = 1;
  hub->on_done = on_done;
  hub->data = data;
  *out = hub;
  return 0;
}

int ain_worker_hub_start(ain_worker_hub_t *hub, ain_worker_fn fn, void *arg,
                         ain_worker_fn release) {
  job_t *j = calloc(1, sizeof *j);
  if (j == NULL) {
    return AIN_EIO;
  }
  j->hub = hub;
  j->fn = fn;
  j->release = release;
  j->arg = arg;
  pthread_mutex_lock(&hub->mu);
  hub->refs++;
  hub->running++;
  pthread_mutex_unlock(&hub->mu);
  if (spawn_detached(hub_body, j) != 0) {
    pthread_mutex_lock(&hub->mu);
    hub->refs--; /* the loop side still holds one: never the last */
    hub->running--;
    pthread_mutex_unlock(&hub->mu);
    free(j);
    return AIN_EIO;
  }
  return 0;
}

int ain_worker_hub_running(ain_worker_hub_t *hub) {
  pthread_mutex_lock(&hub->mu);
  int n = hub->running;
  pthread_mutex_unlock(&hub->mu);
  return n;
}

static void on_hub_closed(uv_handle_t *h) {
  ain_worker_hub_t *hub = h->data;
  if (hub->closed_cb != NULL) {
    hub->closed_cb(hub->closed_data);
  }
  hub_unref(hub);
}

void ain_worker_hub_close(ain_worker_hub_t *hub, void (*cb)(void *data), void *data) {
  pthread_mutex_lock(&hub->mu);
  hub->open = 0;
  job_t *j = hub->head;
  hub->head = hub->tail = NULL;
  pthread_mutex_unlock(&hub->mu);
  while (j != NULL) {
    job_t *next = j->next;
    if (j->release != NULL) {
      j->release(j->arg);
    }
    free(j);
    j = next;
  }
  hub->closed_cb = cb;
  hub->closed_data = data;
  uv_close((uv_handle_t *)&hub->async, on_hub_closed);
}
