/* Child processes on a uv loop (espeak-ng, ffmpeg, ffprobe, ain.spawn): stdin fed from memory,
 * stdout/stderr captured (capped) and optionally split into lines for progress parsing, a timeout
 * that sends SIGTERM and then SIGKILL after a grace period. The callback runs once, after the child
 * has exited AND both pipes are drained; the ain_proc_t is freed after the callback returns (its
 * handles close asynchronously; the loop must keep running).
 * Relies on: libuv (uv_spawn, uv_pipe, uv_timer). */
#ifndef AIN_LOOP_PROC_H
#define AIN_LOOP_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/err.h"

typedef struct ain_proc ain_proc_t;

typedef struct {
  const char *file;         /* program; looked up in PATH */
  char **args;              /* argv, NULL-terminated, args[0] = program name */
  char **env;               /* NULL = inherit */
  const char *cwd;          /* NULL = inherit */
  const char *stdin_data;   /* written then closed; NULL = /dev/null-like empty stdin */
  size_t stdin_len;
  int64_t timeout_ms;       /* 0 = none */
  int64_t kill_grace_ms;    /* SIGTERM -> SIGKILL delay; 0 = 2000 */
  size_t max_capture;       /* cap per stream for captured output; 0 = 8 MiB; excess is dropped */
  /* Called for every complete line of stdout (without the newline), e.g. ffmpeg -progress pipe:1.
   * When set, stdout is still captured too. */
  void (*on_stdout_line)(void *data, const char *line, size_t len);
  void (*on_stderr_line)(void *data, const char *line, size_t len);
  void *data;
} ain_proc_opts_t;

typedef struct {
  int64_t exit_status; /* valid when term_signal == 0 */
  int term_signal;     /* signal that ended it, 0 if it exited */
  int timed_out;       /* 1 if our timeout fired */
  int killed;          /* 1 if ain_proc_kill() was called */
  char *out;           /* captured stdout, NUL-terminated, valid during the callback */
  size_t out_len;
  char *err;           /* captured stderr, NUL-terminated, valid during the callback */
  size_t err_len;
  int truncated;       /* 1 if either stream passed max_capture */
  double elapsed_ms;
} ain_proc_result_t;

typedef void (*ain_proc_cb)(ain_proc_t *p, const ain_proc_result_t *res, void *data);

/* Starts the child. On failure to start (ENOENT...) returns AIN_ESPAWN with a message naming the
 * program, and cb is not called. out (may be NULL) receives the handle for ain_proc_kill(). */
int ain_proc_spawn(uv_loop_t *loop, const ain_proc_opts_t *opts, ain_proc_cb cb, void *data,
                   ain_proc_t **out, ain_err_t *err);
/* SIGTERM now, SIGKILL after the grace period. The callback still runs (killed = 1). Idempotent. */
void ain_proc_kill(ain_proc_t *p);
/* SIGKILL to the process group of every child of this process still alive, at once: for a
 * crash-only exit, right before _exit, from any thread (async-signal-safe). */
void ain_proc_kill_all_now(void);
int ain_proc_pid(const ain_proc_t *p);

#endif
