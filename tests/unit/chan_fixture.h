/* Shared fixture of the HTTP channel kinds' unit tests (test_channel_instagram.c,
 * test_channel_webhook.c, test_channel_metrics.c): starts a Node test server from tests/servers/
 * once per test binary (its port in a global, stopped at exit), talks to its /__control, /__reset and /__stats
 * routes, makes a real small MP4 with ffmpeg in a real directory object store, and provides a
 * channel session whose save keeps the state in memory and in a file, and can "crash" (_exit)
 * at a chosen save to simulate kill -9 between the platform's answer and the next phase.
 * Header-only (static inline) so that tests/tests.cmake needs no change.
 * Relies on: the C harness, publish/http.h, publish/kinds.h, objstore, node and ffmpeg on PATH. */
#ifndef AIN_TEST_CHAN_FIXTURE_H
#define AIN_TEST_CHAN_FIXTURE_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "publish/http.h"
#include "publish/kinds.h"

static int fx_port;
static pid_t fx_pid;

/* Starts `node script args... --port 0` (args NULL-terminated); reads {"port": N}. */
static inline int fx_server_start(const char *script, const char *const *args) {
  int fds[2];
  if (pipe(fds) != 0) {
    return -1;
  }
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* an aborted run leaves no server behind */
    dup2(fds[1], 1);
    close(fds[0]);
    const char *argv[32] = {"node", ain_test_src(script)};
    int n = 2;
    for (; args != NULL && *args != NULL && n < 30; args++) {
      argv[n++] = *args;
    }
    argv[n] = NULL;
    execvp("node", (char *const *)argv);
    _exit(127);
  }
  close(fds[1]);
  char line[256] = "";
  size_t n = 0;
  while (n < sizeof line - 1 && read(fds[0], line + n, 1) == 1 && line[n] != '\n') {
    n++;
  }
  line[n] = '\0';
  close(fds[0]);
  const char *p = strstr(line, "\"port\":");
  if (p == NULL) {
    fprintf(stderr, "%s did not start: '%s'\n", script, line);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return -1;
  }
  fx_port = atoi(p + 7);
  fx_pid = pid;
  return 0;
}

static inline void fx_server_stop(void) {
  if (fx_pid > 0) {
    kill(fx_pid, SIGTERM);
    waitpid(fx_pid, NULL, 0);
    fx_pid = 0;
  }
}

/* "http://127.0.0.1:PORT" + path, in a static buffer per call slot (4 slots). */
static inline const char *fx_url(const char *path) {
  static char bufs[4][512];
  static int slot;
  char *b = bufs[slot++ % 4];
  snprintf(b, sizeof bufs[0], "http://127.0.0.1:%d%s", fx_port, path);
  return b;
}

/* One call to the test server's own routes; the parsed JSON reply (caller deletes). */
static inline cJSON *fx_call(const char *method, const char *path, const char *body) {
  const char *hdrs[] = {"Content-Type: application/json", NULL};
  ain_http_req_t req = {.method = method,
                        .url = fx_url(path),
                        .headers = hdrs,
                        .body = body,
                        .body_len = body != NULL ? strlen(body) : 0,
                        .body_fd = -1,
                        .timeout_ms = 10000};
  ain_http_resp_t resp;
  ain_err_t err = {0};
  ain_http_t *h = ain_http_new();
  ASSERT_NOT_NULL(h);
  ASSERT_OK(ain_http_do(h, &req, &resp, &err));
  ain_http_free(h);
  ASSERT_EQ(resp.status, 200);
  cJSON *j = cJSON_Parse(resp.body);
  ain_http_resp_free(&resp);
  ASSERT_NOT_NULL(j);
  return j;
}

static inline void fx_control(const char *json) {
  cJSON_Delete(fx_call("POST", "/__control", json));
}

static inline void fx_reset(void) {
  cJSON_Delete(fx_call("POST", "/__reset", "{}"));
}

/* A number from /__stats: top-level `key`, or key's member `sub` when sub is set (0 if absent). */
static inline long fx_stat(const char *key, const char *sub) {
  cJSON *j = fx_call("GET", "/__stats", NULL);
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
  if (sub != NULL) {
    v = cJSON_GetObjectItemCaseSensitive(v, sub);
  }
  long n = cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
  cJSON_Delete(j);
  return n;
}

static char fx_mp4[1024];

/* Makes the test MP4 once per binary (a 1-second 64x64 H.264 video, by ffmpeg) under dir. */
static inline int fx_make_mp4(const char *dir) {
  char cmd[2300];
  snprintf(fx_mp4, sizeof fx_mp4, "%s/src.mp4", dir);
  snprintf(cmd, sizeof cmd,
           "ffmpeg -v error -y -f lavfi -i testsrc=size=64x64:rate=10 -t 1 -pix_fmt yuv420p "
           "-c:v libx264 -preset ultrafast '%s'",
           fx_mp4);
  return system(cmd);
}

/* A directory object store at root holding the test MP4; its key in key. */
static inline void fx_store_mp4(const char *root, ain_objstore_t **os, char *key, size_t cap) {
  ain_err_t err = {0};
  ASSERT_OK(ain_objstore_dir_open(root, os, &err));
  ASSERT_OK(ain_objstore_put_file(*os, fx_mp4, "mp4", key, cap, &err));
}

/* A session kept in memory and in a file; crash_at > 0: the crash_at-th save _exits(9) (after
 * writing the file when crash_after_write, else before), as kill -9 would end the engine. */
typedef struct {
  char saved[AIN_CHANNEL_SESSION_MAX + 1];
  int saves;
  int crash_at, crash_after_write;
  int fail_code; /* a save returns this (AIN_ELEASE: another node took the step over) */
  char file[1024];
} fx_session_t;

static inline int fx_save(void *ctx, const char *state, ain_err_t *err) {
  fx_session_t *s = ctx;
  s->saves++;
  if (s->fail_code != 0) {
    return ain_err_set(err, s->fail_code, "test session: save refused");
  }
  ASSERT_TRUE(strlen(state) <= AIN_CHANNEL_SESSION_MAX);
  if (s->crash_at == s->saves && !s->crash_after_write) {
    _exit(9);
  }
  snprintf(s->saved, sizeof s->saved, "%s", state);
  if (s->file[0] != '\0') {
    FILE *f = fopen(s->file, "w");
    ASSERT_NOT_NULL(f);
    fputs(state, f);
    ASSERT_OK(fclose(f));
  }
  if (s->crash_at == s->saves) {
    _exit(9);
  }
  return 0;
}

/* The channel session over s, resuming from what s holds. */
static inline ain_channel_session_t fx_session(fx_session_t *s) {
  return (ain_channel_session_t){
      .saved = s->saved[0] != '\0' ? s->saved : NULL, .save = fx_save, .ctx = s};
}

/* Reads back the file a crashed child's session wrote ("" if none). */
static inline void fx_session_reload(fx_session_t *s) {
  s->saved[0] = '\0';
  FILE *f = fopen(s->file, "r");
  if (f != NULL) {
    size_t n = fread(s->saved, 1, sizeof s->saved - 1, f);
    s->saved[n] = '\0';
    fclose(f);
  }
}

#endif
