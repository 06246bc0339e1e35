/* Runs one ffmpeg/ffprobe child through loop/proc.h and finishes its output file with an async
 * rename, so that a killed or failed run never leaves a half-written artifact under the final name
 * (checkpoints trust that an artifact that exists is complete).
 * Relies on: loop/proc.h, libuv fs requests (via common.c), core/util. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "media/internal.h"

struct ain__ffrun {
  uv_loop_t *loop;
  ain_proc_t *proc; /* NULL once the child is done */
  char *what, *tmp_path, *final_path, *out, *errtext;
  int cancelled;
  ain_err_t err;
  ain__ffrun_cb cb;
  void *data;
};

static void ffrun_finish(ain__ffrun_t *r, int status) {
  if (status == 0 && r->cancelled) {
    status = ain_err_set(&r->err, AIN_ECANCELLED, "%s: cancelled", r->what);
  }
  if (status != 0 && r->tmp_path != NULL) {
    ain__media_unlink(r->loop, r->tmp_path);
  }
  r->cb(status, r->out, r->errtext, status ? &r->err : NULL, r->data);
  free(r->what);
  free(r->tmp_path);
  free(r->final_path);
  free(r->out);
  free(r->errtext);
  free(r);
}

static void on_renamed(int uv_status, void *data) {
  ain__ffrun_t *r = data;
  int status = 0;
  if (uv_status == UV_ENOENT) { /* ffmpeg exited 0 without writing (e.g. seek past the end) */
    status = ain_err_set(&r->err, AIN_EMEDIA, "%s: ffmpeg produced no output", r->what);
  } else if (uv_status < 0) {
    status = ain_err_set(&r->err, AIN_EIO, "%s: rename to %s: %s", r->what, r->final_path,
                         uv_strerror(uv_status));
  }
  ffrun_finish(r, status);
}

static void on_exit_cb(ain_proc_t *p, const ain_proc_result_t *res, void *data) {
  ain__ffrun_t *r = data;
  r->proc = NULL;
  int status = ain__media_proc_status(res, r->what, &r->err);
  if (status == AIN_ECANCELLED) {
    r->cancelled = 1;
  }
  if (r->out == (char *)1) {
    r->out = ain_strdup(res->out ? res->out : "");
  }
  if (r->errtext == (char *)1) {
    r->errtext = ain_strdup(res->err ? res->err : "");
  }
  if (status == 0 && r->tmp_path != NULL && !r->cancelled) {
    ain__media_rename(r->loop, r->tmp_path, r->final_path, on_renamed, r);
    return;
  }
  ffrun_finish(r, status);
}

int ain__ffrun(uv_loop_t *loop, const ain__ffrun_opts_t *o, ain__ffrun_cb cb, void *data,
               ain__ffrun_t **out, ain_err_t *err) {
  ain__ffrun_t *r = calloc(1, sizeof *r);
  if (r == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "%s: no memory", o->what);
  }
  r->loop = loop;
  r->what = ain_strdup(o->what);
  r->tmp_path = ain_strdup(o->tmp_path);
  r->final_path = ain_strdup(o->final_path);
  /* (char *)1 marks "copy at exit": the proc's buffers die with its callback. */
  r->out = o->keep_stdout ? (char *)1 : NULL;
  r->errtext = o->keep_stderr ? (char *)1 : NULL;
  r->cb = cb;
  r->data = data;
  ain_proc_opts_t po = {0};
  po.file = o->argv[0];
  po.args = o->argv;
  po.env = o->env;
  po.timeout_ms = o->timeout_ms;
  /* A killed run's output is thrown away (the temp file is unlinked), so ffmpeg flushing its
   * encoder after SIGTERM (seconds with a slow preset) gains nothing: SIGKILL follows soon. */
  po.kill_grace_ms = 300;
  po.max_capture = (size_t)1 << 20; /* ffmpeg's stderr can be long; its tail is what we show */
  po.on_stdout_line = o->on_stdout_line;
  po.data = data;
  int rc = ain_proc_spawn(loop, &po, on_exit_cb, r, &r->proc, err);
  if (rc != 0) {
    ain_err_prefix(err, "%s", o->what);
    free(r->what);
    free(r->tmp_path);
    free(r->final_path);
    free(r);
    return rc;
  }
  if (out != NULL) {
    *out = r;
  }
  return 0;
}

void ain__ffrun_cancel(ain__ffrun_t *r) {
  r->cancelled = 1;
  if (r->proc != NULL) {
    ain_proc_kill(r->proc);
  }
}
