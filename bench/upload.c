/* bench/upload driver (issue 14, docs/benchmarks.md "Uploads"): N concurrent YouTube resumable
 * uploads through the real youtube channel kind, as the publish built-in runs them (each on a
 * thread of its own: object store and channel opened from the config, publish, close), timed,
 * with the process's resident memory; bench/upload.sh runs it beside curl against the same local
 * test server (tests/servers/youtube.js).
 *   bench_upload prepare CONFIG N SIZE_MB
 *     puts N distinct SIZE_MB files of pseudo-random bytes into the config's object store and
 *     prints "KEY PATH" per file (PATH: where the store keeps it, for curl).
 *   bench_upload run CONFIG CHANNEL KEYS_FILE TAG
 *     publishes every key of KEYS_FILE (prepare's output) to CHANNEL at once, one thread each
 *     (video ids TAG-u00, TAG-u01, ...), and prints wall_s, mb_s, the process's VmRSS before the
 *     uploads, its peak (VmHWM and ru_maxrss, the whole process: nothing subtracted) and the
 *     peak's growth over the baseline, then "post VIDEO_ID POST_ID KEY" per upload.
 * The session store is a callback keeping the last saved JSON in memory (the engine writes it to
 * publish_sessions: one small row per chunk, not part of what this measures).
 * Relies on: publish/kinds.h, objstore/open.h, config/config.h, pthreads. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "objstore/open.h"
#include "publish/kinds.h"

#define MAX_UPLOADS 256

/* Under AddressSanitizer the resident set is mostly the sanitizer's: bench/upload.sh then skips
 * its memory check. */
#if defined(__SANITIZE_ADDRESS__)
#define AIN_BENCH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AIN_BENCH_ASAN 1
#endif
#endif
#ifndef AIN_BENCH_ASAN
#define AIN_BENCH_ASAN 0
#endif

typedef struct {
  const ain_config_t *cfg;
  const char *channel;
  pthread_barrier_t *start;
  char key[256];
  char video_id[64], idem[96];
  char *saved; /* the last session JSON the channel saved */
  int saves;
  ain_channel_result_t res;
  ain_err_t err;
  int rc;
} upload_t;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A /proc/self/status field in kB ("VmRSS", "VmHWM"), or -1. */
static long status_kb(const char *field) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long v = -1;
  size_t n = strlen(field);
  while (f != NULL && fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, field, n) == 0 && line[n] == ':') {
      v = strtol(line + n + 1, NULL, 10);
      break;
    }
  }
  if (f != NULL) {
    fclose(f);
  }
  return v;
}

static int save_cb(void *ctx, const char *state_json, ain_err_t *err) {
  upload_t *u = ctx;
  char *c = strdup(state_json);
  if (c == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  free(u->saved);
  u->saved = c;
  u->saves++;
  return 0;
}

/* One publish step's work, as engine/sched/builtins_publish.c's work_cb does it. */
static void *upload_main(void *arg) {
  upload_t *u = arg;
  ain_objstore_t *os = NULL;
  ain_channel_t *ch = NULL;
  pthread_barrier_wait(u->start);
  char sidecar[256];
  snprintf(sidecar, sizeof sidecar, "{\"title\":\"%s\",\"text\":\"bench upload\"}", u->video_id);
  ain_publish_file_t file = {.role = "video", .key = u->key, .name = "video.mp4"};
  ain_channel_session_t sess = {.saved = NULL, .save = save_cb, .ctx = u};
  if ((u->rc = ain_objstore_open(u->cfg, &os, &u->err)) == 0 &&
      (u->rc = ain_channel_open(u->cfg, u->channel, os, &ch, &u->err)) == 0) {
    ain_publish_req_t req = {.video_id = u->video_id,
                             .idempotency_key = u->idem,
                             .files = &file,
                             .nfiles = 1,
                             .sidecar_json = sidecar,
                             .objects = os};
    u->rc = ain_channel_publish(ch, &req, &sess, &u->res, &u->err);
  }
  ain_channel_close(ch);
  ain_objstore_close(os);
  return NULL;
}

static int load_config(const char *path, ain_config_t *cfg) {
  ain_err_t err = {0};
  ain_config_defaults(cfg);
  if (ain_config_load(cfg, path, &err) != 0) {
    fprintf(stderr, "bench_upload: %s\n", err.msg);
    return -1;
  }
  return 0;
}

static int prepare(const char *config, int n, int size_mb) {
  ain_config_t cfg;
  ain_objstore_t *os = NULL;
  ain_err_t err = {0};
  const size_t mb = 1u << 20;
  uint64_t *buf = malloc(mb);
  char tmp[] = "/tmp/ain-bench-upload-XXXXXX";
  int rc = 1, fd = -1;
  if (buf == NULL || load_config(config, &cfg) != 0) {
    free(buf);
    return 1;
  }
  if (ain_objstore_open(&cfg, &os, &err) != 0) {
    fprintf(stderr, "bench_upload: object store: %s\n", err.msg);
    goto done;
  }
  for (int i = 0; i < n; i++) {
    if ((fd = mkstemp(tmp)) < 0) {
      perror("bench_upload: mkstemp");
      goto done;
    }
    uint64_t x = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1) ^ (uint64_t)time(NULL);
    for (int m = 0; m < size_mb; m++) {
      for (size_t w = 0; w < mb / sizeof *buf; w++) { /* xorshift64: distinct, incompressible */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[w] = x;
      }
      if (write(fd, buf, mb) != (ssize_t)mb) {
        perror("bench_upload: write");
        goto done;
      }
    }
    close(fd);
    fd = -1;
    char key[128], path[4096];
    if (ain_objstore_put_file(os, tmp, "mp4", key, sizeof key, &err) != 0 ||
        ain_objstore_get_path(os, key, path, sizeof path, &err) != 0) {
      fprintf(stderr, "bench_upload: put: %s\n", err.msg);
      goto done;
    }
    unlink(tmp);
    strcpy(tmp, "/tmp/ain-bench-upload-XXXXXX");
    printf("%s %s\n", key, path);
  }
  rc = 0;
done:
  if (fd >= 0) {
    close(fd);
    unlink(tmp);
  }
  ain_objstore_close(os);
  ain_config_free(&cfg);
  free(buf);
  return rc;
}

static int run(const char *config, const char *channel, const char *keys_file, const char *tag) {
  ain_config_t cfg;
  if (load_config(config, &cfg) != 0) {
    return 1;
  }
  static upload_t ups[MAX_UPLOADS];
  pthread_t th[MAX_UPLOADS];
  int n = 0, rc = 0;
  FILE *f = fopen(keys_file, "r");
  char line[4400];
  while (f != NULL && fgets(line, sizeof line, f) != NULL && n < MAX_UPLOADS) {
    upload_t *u = &ups[n];
    if (sscanf(line, "%255s", u->key) != 1) {
      continue;
    }
    u->cfg = &cfg;
    u->channel = channel;
    snprintf(u->video_id, sizeof u->video_id, "%s-u%02d", tag, n);
    snprintf(u->idem, sizeof u->idem, "bench-%s-u%02d", tag, n);
    n++;
  }
  if (f != NULL) {
    fclose(f);
  }
  if (n == 0) {
    fprintf(stderr, "bench_upload: no keys in %s\n", keys_file);
    ain_config_free(&cfg);
    return 1;
  }
  ain_objstore_t *os = NULL;
  ain_err_t err = {0};
  uint64_t bytes = 0;
  if (ain_objstore_open(&cfg, &os, &err) != 0) {
    fprintf(stderr, "bench_upload: object store: %s\n", err.msg);
    ain_config_free(&cfg);
    return 1;
  }
  for (int i = 0; i < n; i++) {
    ain_objstore_stat_t st;
    if (ain_objstore_stat(os, ups[i].key, &st, &err) != 0) {
      fprintf(stderr, "bench_upload: %s: %s\n", ups[i].key, err.msg);
      ain_objstore_close(os);
      ain_config_free(&cfg);
      return 1;
    }
    bytes += st.size;
  }
  ain_objstore_close(os);
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, (unsigned)n + 1);
  long rss_before = status_kb("VmRSS");
  for (int i = 0; i < n; i++) {
    ups[i].start = &start;
    if (pthread_create(&th[i], NULL, upload_main, &ups[i]) != 0) {
      fprintf(stderr, "bench_upload: pthread_create: %s\n", strerror(errno));
      exit(1);
    }
  }
  pthread_barrier_wait(&start);
  double t0 = now_s();
  for (int i = 0; i < n; i++) {
    pthread_join(th[i], NULL);
  }
  double wall = now_s() - t0;
  pthread_barrier_destroy(&start);
  long hwm = status_kb("VmHWM");
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("uploads %d\nbytes %" PRIu64 "\nwall_s %.3f\nmb_s %.1f\n", n, bytes, wall,
         (double)bytes / 1e6 / wall);
  printf("asan %d\n", AIN_BENCH_ASAN);
  printf("rss_before_kb %ld\nrss_peak_kb %ld\nru_maxrss_kb %ld\nrss_delta_kb %ld\n", rss_before,
         hwm, ru.ru_maxrss, hwm - rss_before);
  for (int i = 0; i < n; i++) {
    upload_t *u = &ups[i];
    if (u->rc != 0) {
      fprintf(stderr, "bench_upload: %s: %s\n", u->video_id, u->err.msg);
      rc = 1;
    } else {
      printf("post %s %s %s saves=%d\n", u->video_id, u->res.post_id, u->key, u->saves);
    }
    free(u->saved);
  }
  ain_config_free(&cfg);
  return rc;
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "prepare") == 0) {
    int n = atoi(argv[3]), mb = atoi(argv[4]);
    if (n < 1 || n > MAX_UPLOADS || mb < 1 || mb > 4096) {
      fprintf(stderr, "bench_upload: N must be 1..%d and SIZE_MB 1..4096\n", MAX_UPLOADS);
      return 2;
    }
    return prepare(argv[2], n, mb);
  }
  if (argc == 6 && strcmp(argv[1], "run") == 0) {
    return run(argv[2], argv[3], argv[4], argv[5]);
  }
  fprintf(stderr, "usage: bench_upload prepare CONFIG N SIZE_MB\n"
                  "       bench_upload run CONFIG CHANNEL KEYS_FILE TAG\n");
  return 2;
}
