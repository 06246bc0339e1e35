/* The constant-rate client of bench/api; see rate.h. One thread: an epoll set holding the
 * connections and a timerfd armed (absolute, CLOCK_MONOTONIC) for the next due request, so sends
 * are not rounded to milliseconds. Responses are parsed just enough for keep-alive: the status
 * line and Content-Length (the API sends one on every response). */
#include "rate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  int fd;
  int busy;
  uint64_t due_ns; /* when the request in flight was due */
  char buf[16384];
  size_t used;
} conn_t;

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int connect_one(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return -1;
  }
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static void record(bench_rate_t *r, double ms) {
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 4096;
    double *p = realloc(r->lat_ms, cap * sizeof *p);
    if (p == NULL) {
      return; /* the sample is lost, the run goes on */
    }
    r->lat_ms = p, r->cap = cap;
  }
  r->lat_ms[r->n++] = ms;
}

/* A whole response in c->buf: 1 (consumed, *status set), 0 (need more), -1 (unparsable). */
static int take_response(conn_t *c, int *status) {
  char *end = memmem(c->buf, c->used, "\r\n\r\n", 4);
  if (end == NULL) {
    return c->used == sizeof c->buf ? -1 : 0;
  }
  size_t hlen = (size_t)(end - c->buf) + 4;
  if (c->used < 12 || memcmp(c->buf, "HTTP/1.1 ", 9) != 0) {
    return -1;
  }
  *status = atoi(c->buf + 9);
  long clen = -1;
  for (char *p = c->buf; p < end; p++) {
    if ((*p == '\n') && strncasecmp(p + 1, "content-length:", 15) == 0) {
      clen = strtol(p + 16, NULL, 10);
      break;
    }
  }
  if (clen < 0 || hlen + (size_t)clen > sizeof c->buf) {
    return -1;
  }
  if (c->used < hlen + (size_t)clen) {
    return 0;
  }
  size_t total = hlen + (size_t)clen;
  memmove(c->buf, c->buf + total, c->used - total);
  c->used -= total;
  return 1;
}

static void run(void *arg) {
  bench_rate_t *r = arg;
  int nc = r->o.conns;
  conn_t *cs = calloc((size_t)nc, sizeof *cs);
  int ep = epoll_create1(0);
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  size_t reqlen = strlen(r->o.request);
  int alive = 0;
  for (int i = 0; cs != NULL && i < nc; i++) {
    cs[i].fd = connect_one(r->o.port);
    if (cs[i].fd < 0) {
      r->errors++;
      continue;
    }
    alive++;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
  }
  struct epoll_event tev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
  epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev);
  uint64_t interval = (uint64_t)(1e9 / r->o.rate);
  uint64_t t0 = mono_ns() + 1000000; /* the first request is due 1 ms from now */
  uint64_t k = 0;                     /* requests sent so far; the next is due at t0 + k*interval */
  while (!atomic_load(&r->stop) && alive > 0) {
    uint64_t now = mono_ns();
    for (int i = 0; i < nc && t0 + k * interval <= now; i++) {
      conn_t *c = &cs[i];
      if (c->fd < 0 || c->busy) {
        continue;
      }
      if (write(c->fd, r->o.request, reqlen) != (ssize_t)reqlen) {
        r->errors++; /* a fresh keep-alive socket takes a few hundred bytes at once, or is dead */
        close(c->fd), c->fd = -1, alive--;
        continue;
      }
      c->busy = 1;
      c->due_ns = t0 + k * interval;
      k++;
    }
    uint64_t due = t0 + k * interval;
    if (due > now) {
      struct itimerspec its = {.it_value = {.tv_sec = (time_t)(due / 1000000000ull),
                                            .tv_nsec = (long)(due % 1000000000ull)}};
      timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
    }
    struct epoll_event evs[64];
    int n = epoll_wait(ep, evs, 64, 50); /* 50 ms: notices stop while every connection waits */
    for (int e = 0; e < n; e++) {
      if (evs[e].data.u32 == UINT32_MAX) {
        uint64_t x;
        ssize_t rd = read(tfd, &x, sizeof x);
        (void)rd;
        continue;
      }
      conn_t *c = &cs[evs[e].data.u32];
      if (c->fd < 0) {
        continue;
      }
      ssize_t got = read(c->fd, c->buf + c->used, sizeof c->buf - c->used);
      if (got <= 0) {
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
          continue;
        }
        r->errors++;
        close(c->fd), c->fd = -1, c->busy = 0, alive--;
        continue;
      }
      c->used += (size_t)got;
      int status = 0, t = take_response(c, &status);
      if (t < 0 || (t == 1 && !c->busy)) {
        r->errors++;
        close(c->fd), c->fd = -1, c->busy = 0, alive--;
      } else if (t == 1) {
        record(r, (double)(mono_ns() - c->due_ns) / 1e6);
        r->non200 += status != 200;
        c->busy = 0;
      }
    }
  }
  uint64_t end = mono_ns();
  r->secs = end > t0 ? (double)(end - t0) / 1e9 : 0;
  uint64_t should = end > t0 ? (end - t0) / interval : 0;
  r->late = should > k ? (long long)(should - k) : 0;
  for (int i = 0; cs != NULL && i < nc; i++) {
    if (cs[i].fd >= 0) {
      close(cs[i].fd);
    }
  }
  free(cs);
  close(tfd);
  close(ep);
}

int bench_rate_start(bench_rate_t *r, const bench_rate_opts_t *o) {
  memset(r, 0, sizeof *r);
  r->o = *o;
  if (o->rate <= 0 || o->conns <= 0) {
    fprintf(stderr, "bench_rate: rate and conns must be positive\n");
    return -1;
  }
  if (uv_thread_create(&r->thread, run, r) != 0) {
    fprintf(stderr, "bench_rate: cannot start its thread\n");
    return -1;
  }
  return 0;
}

void bench_rate_stop(bench_rate_t *r) {
  atomic_store(&r->stop, 1);
  uv_thread_join(&r->thread);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

double bench_rate_pct(bench_rate_t *r, double p) {
  if (r->n == 0) {
    return 0;
  }
  qsort(r->lat_ms, r->n, sizeof *r->lat_ms, cmp);
  size_t i = (size_t)(p / 100.0 * (double)(r->n - 1) + 0.5);
  return r->lat_ms[i < r->n ? i : r->n - 1];
}

void bench_rate_free(bench_rate_t *r) {
  free(r->lat_ms);
  r->lat_ms = NULL;
  r->n = r->cap = 0;
}
