/* A live OTLP/HTTP receiver for bench/queue's traced mode: a thread that accepts on loopback,
 * reads each POST (headers, then Content-Length bytes), counts the spans in it ("spanId" keys)
 * and answers 200 {} on the same keep-alive connection. It decodes nothing further: the bench
 * measures what exporting costs the engine, and a collector's parsing belongs to the collector's
 * machine, not to the drain's two cores. (tests/servers/otlp_receiver.js is the strict one.) */
#include "otlp_sink.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

struct bench_otlp_sink {
  int fd;
  uv_thread_t thread;
  atomic_int stop;
  atomic_llong spans, requests;
};

/* 1 when fd is readable within 100 ms; 0 on timeout; the stop flag ends the wait early. */
static int readable(bench_otlp_sink_t *s, int fd) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  return !atomic_load(&s->stop) && poll(&p, 1, 100) > 0;
}

static long long count_spans(const char *b, size_t n) {
  long long k = 0;
  const char *end = b + n, *p = b;
  while ((p = memmem(p, (size_t)(end - p), "\"spanId\"", 8)) != NULL) {
    k++;
    p += 8;
  }
  return k;
}

/* Serves one connection until the peer closes it or the sink stops. */
static void serve(bench_otlp_sink_t *s, int c) {
  size_t cap = 1 << 20, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    char *hdr_end = len ? memmem(buf, len, "\r\n\r\n", 4) : NULL;
    if (hdr_end != NULL) {
      size_t hlen = (size_t)(hdr_end - buf) + 4, body = 0;
      for (char *l = buf; l < hdr_end;) {
        char *nl = memmem(l, (size_t)(hdr_end + 2 - l), "\r\n", 2);
        if (strncasecmp(l, "Content-Length:", 15) == 0) {
          body = strtoul(l + 15, NULL, 10);
        }
        l = nl + 2; /* hdr_end itself starts with \r\n: nl is never NULL */
      }
      if (len >= hlen + body) {
        atomic_fetch_add(&s->spans, count_spans(buf + hlen, body));
        atomic_fetch_add(&s->requests, 1);
        static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 "Content-Length: 2\r\n\r\n{}";
        if (write(c, ok, sizeof ok - 1) < 0) {
          break;
        }
        memmove(buf, buf + hlen + body, len - hlen - body);
        len -= hlen + body;
        continue;
      }
    }
    if (len == cap) {
      cap *= 2;
      buf = realloc(buf, cap);
    }
    while (!readable(s, c)) {
      if (atomic_load(&s->stop)) {
        goto done;
      }
    }
    ssize_t r = read(c, buf + len, cap - len);
    if (r <= 0) {
      break;
    }
    len += (size_t)r;
  }
done:
  free(buf);
  close(c);
}

static void sink_main(void *arg) {
  bench_otlp_sink_t *s = arg;
  while (!atomic_load(&s->stop)) {
    if (!readable(s, s->fd)) {
      continue;
    }
    int c = accept(s->fd, NULL, NULL);
    if (c >= 0) {
      serve(s, c);
    }
  }
}

bench_otlp_sink_t *bench_otlp_sink_start(int *port) {
  bench_otlp_sink_t *s = calloc(1, sizeof *s);
  s->fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t n = sizeof a;
  if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->fd, 16) != 0 ||
      getsockname(s->fd, (struct sockaddr *)&a, &n) != 0) {
    perror("bench: otlp sink");
    exit(1);
  }
  *port = ntohs(a.sin_port);
  uv_thread_create(&s->thread, sink_main, s);
  return s;
}

long long bench_otlp_sink_spans(bench_otlp_sink_t *s) {
  return atomic_load(&s->spans);
}

long long bench_otlp_sink_requests(bench_otlp_sink_t *s) {
  return atomic_load(&s->requests);
}

void bench_otlp_sink_stop(bench_otlp_sink_t *s) {
  atomic_store(&s->stop, 1);
  uv_thread_join(&s->thread);
  close(s->fd);
  free(s);
}
