/* bench/s3 driver: one PUT (put_file) and one GET (get_path into an empty cache) of a file through
 * the S3 object store, timed; bench/s3.sh runs it beside curl against the same local server.
 *   bench_s3 ENDPOINT FILE CACHE_DIR [multipart_mb]
 * prints "put_s <seconds>" and "get_s <seconds>" and the key. multipart_mb (default: above the
 * file's size, one PUT like curl's) sets the multipart threshold; parts are 16 MiB.
 * Relies on: objstore/objstore.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "objstore/objstore.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: bench_s3 ENDPOINT FILE CACHE_DIR [multipart_mb]\n");
    return 2;
  }
  struct stat st;
  if (stat(argv[2], &st) != 0) {
    perror(argv[2]);
    return 2;
  }
  uint64_t thr = argc > 4 ? (uint64_t)atoll(argv[4]) << 20 : (uint64_t)st.st_size + (64u << 20);
  ain_objstore_s3_opts_t o = {.endpoint = argv[1], .bucket = "ain-bench", .region = "us-east-1",
                              .path_style = 1, .access_key = "S3RVER", .secret_key = "S3RVER",
                              .multipart_threshold = thr, .part_size = 16u << 20,
                              .timeout_ms = 600000, .retries = 0, .cache_dir = argv[3]};
  ain_objstore_t *s = NULL;
  ain_err_t err = {0};
  char key[128], path[4096];
  if (ain_objstore_s3_open(&o, &s, &err) != 0) {
    fprintf(stderr, "open: %s\n", err.msg);
    return 1;
  }
  double t0 = now_s();
  if (ain_objstore_put_file(s, argv[2], "bin", key, sizeof key, &err) != 0) {
    fprintf(stderr, "put: %s\n", err.msg);
    return 1;
  }
  double t1 = now_s();
  if (ain_objstore_get_path(s, key, path, sizeof path, &err) != 0) {
    fprintf(stderr, "get: %s\n", err.msg);
    return 1;
  }
  double t2 = now_s();
  printf("put_s %.3f\nget_s %.3f\nkey %s\n", t1 - t0, t2 - t1, key);
  /* The next round puts the same content again: remove it so that PUT is not skipped. */
  if (ain_objstore_delete(s, key, &err) != 0) {
    fprintf(stderr, "delete: %s\n", err.msg);
    return 1;
  }
  ain_objstore_close(s);
  return 0;
}
