/* Child processes on a uv loop: implements loop/proc.h.
 * One ain_proc_t owns a uv_process_t, up to three pipes and one timer. The timer serves both the
 * timeout (SIGTERM) and the kill grace (SIGKILL). The child is spawned in its own session
 * (UV_PROCESS_DETACHED = setsid) so that signals go to the whole process group: a shell whose
 * grandchild holds our stdout would otherwise keep the pipe open after the shell dies.
 * The user callback runs once, after the exit callback AND EOF on both pipes; then every handle is
 * closed and the struct is freed in the last close callback (libuv rule).
 * Relies on: libuv, core/util.h (clock). */
#include "loop/proc.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define PROC_DEFAULT_CAP ((size_t)8 << 20)
#define PROC_DEFAULT_GRACE_MS 2000
#define PROC_READ_CHUNK 65536

typedef struct {
  uv_pipe_t pipe;
  char *buf; /* captured bytes, capped at cap */
  size_t len, alloc;
  char *line; /* a partial line waiting for its newline (line mode only) */
  size_t line_len, line_alloc;
  void (*on_line)(void *data, const char *line, size_t len);
  int eof;
  char scratch[PROC_READ_CHUNK];
} proc_stream_t;

struct ain_proc {
  uv_loop_t *loop;
  uv_process_t process;
  uv_pipe_t in;
  uv_write_t wreq;
  uv_timer_t timer;
  proc_stream_t out, err;
  char *stdin_copy;
  size_t cap;
  uint64_t grace_ms;
  uint64_t start_ns;
  int has_in;
  int exited, term_sent, kill_sent, done;
  int open_handles; /* initialised handles not yet closed; p is freed when it reaches 0 */
  ain_proc_result_t res;
  ain_proc_cb cb;
  void *cb_data;
  void *line_data;
};

static pthread_once_t sigpipe_once = PTHREAD_ONCE_INIT;

/* A child that exits without reading its stdin makes our write() raise SIGPIPE, which would kill
 * the whole engine; the write must fail with EPIPE instead. */
static void ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

static void on_close(uv_handle_t *h) {
  ain_proc_t *p = h->data;
  if (--p->open_handles > 0) {
    return;
  }
  free(p->out.buf);
  free(p->out.line);
  free(p->err.buf);
  free(p->err.line);
  free(p->stdin_copy);
  free(p);
}

static void close_one(ain_proc_t *p, uv_handle_t *h) {
  if (h->loop != NULL && !uv_is_closing(h)) {
    uv_close(h, on_close);
  }
}

/* Closes every handle that is open. Only valid once the callback has run (or was never due). */
static void close_all(ain_proc_t *p) {
  close_one(p, (uv_handle_t *)&p->process);
  close_one(p, (uv_handle_t *)&p->timer);
  close_one(p, (uv_handle_t *)&p->out.pipe);
  close_one(p, (uv_handle_t *)&p->err.pipe);
  if (p->has_in) {
    close_one(p, (uv_handle_t *)&p->in);
  }
}

static void signal_group(ain_proc_t *p, int sig) {
  int pid = p->process.pid;
  if (pid <= 0) {
    return;
  }
  /* The group outlives the leader while grandchildren run; ESRCH just means all are gone. */
  if (kill(-pid, sig) != 0 && !p->exited) {
    kill(pid, sig);
  }
}

static void maybe_finish(ain_proc_t *p) {
  if (p->done || !p->exited || !p->out.eof || !p->err.eof) {
    return;
  }
  p->done = 1;
  uv_timer_stop(&p->timer);
  static char empty[1] = "";
  p->res.out = p->out.buf ? p->out.buf : empty;
  p->res.out_len = p->out.len;
  p->res.err = p->err.buf ? p->err.buf : empty;
  p->res.err_len = p->err.len;
  p->res.elapsed_ms = (double)(ain_mono_ns() - p->start_ns) / 1e6;
  p->cb(p, &p->res, p->cb_data);
  close_all(p);
}

static void on_timer(uv_timer_t *t) {
  ain_proc_t *p = t->data;
  if (!p->term_sent) {
    p->term_sent = 1;
    signal_group(p, SIGTERM);
    uv_timer_start(&p->timer, on_timer, p->grace_ms, 0);
    return;
  }
  if (!p->kill_sent) {
    p->kill_sent = 1;
    signal_group(p, SIGKILL);
  }
}

static void on_timeout(uv_timer_t *t) {
  ain_proc_t *p = t->data;
  p->res.timed_out = 1;
  on_timer(t);
}

static void on_exit_cb(uv_process_t *proc, int64_t status, int sig) {
  ain_proc_t *p = proc->data;
  p->exited = 1;
  p->res.exit_status = status;
  p->res.term_signal = sig;
  maybe_finish(p);
}

static int grow(char **buf, size_t *alloc, size_t need) {
  if (need <= *alloc) {
    return 0;
  }
  size_t n = *alloc ? *alloc : 4096;
  while (n < need) {
    n *= 2;
  }
  char *nb = realloc(*buf, n);
  if (nb == NULL) {
    return -1;
  }
  *buf = nb;
  *alloc = n;
  return 0;
}

/* Keeps the first cap bytes (NUL-terminated); the rest is dropped and flagged. */
static void capture(ain_proc_t *p, proc_stream_t *s, const char *data, size_t n) {
  size_t room = p->cap > s->len ? p->cap - s->len : 0;
  size_t take = n < room ? n : room;
  if (take < n) {
    p->res.truncated = 1;
  }
  if (take == 0 && s->buf != NULL) {
    return;
  }
  if (grow(&s->buf, &s->alloc, s->len + take + 1) != 0) {
    p->res.truncated = 1;
    return;
  }
  memcpy(s->buf + s->len, data, take);
  s->len += take;
  s->buf[s->len] = '\0';
}

static void emit_line(ain_proc_t *p, proc_stream_t *s, const char *line, size_t len) {
  if (len > 0 && line[len - 1] == '\r') {
    len--;
  }
  s->on_line(p->line_data, line, len);
}

/* Splits data into lines; a line split across reads waits in s->line for its end. A line longer
 * than the capture cap is delivered in cap-sized pieces rather than buffered without bound. */
static void split_lines(ain_proc_t *p, proc_stream_t *s, const char *data, size_t n) {
  while (n > 0) {
    const char *nl = memchr(data, '\n', n);
    size_t seg = nl ? (size_t)(nl - data) : n;
    if (nl != NULL && s->line_len == 0) {
      emit_line(p, s, data, seg);
    } else {
      if (grow(&s->line, &s->line_alloc, s->line_len + seg + 1) == 0) {
        memcpy(s->line + s->line_len, data, seg);
        s->line_len += seg;
      }
      if (nl != NULL || s->line_len >= p->cap) {
        emit_line(p, s, s->line, s->line_len);
        s->line_len = 0;
      }
    }
    if (nl == NULL) {
      break;
    }
    data += seg + 1;
    n -= seg + 1;
  }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  proc_stream_t *s = (proc_stream_t *)h; /* pipe is the first member */
  buf->base = s->scratch;
  buf->len = sizeof s->scratch;
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  ain_proc_t *p = st->data;
  proc_stream_t *s = (proc_stream_t *)st;
  if (nread > 0) {
    capture(p, s, buf->base, (size_t)nread);
    if (s->on_line != NULL) {
      split_lines(p, s, buf->base, (size_t)nread);
    }
    return;
  }
  if (nread == 0) {
    return; /* EAGAIN */
  }
  /* EOF or a read error: either way this stream is finished. */
  if (s->on_line != NULL && s->line_len > 0) {
    emit_line(p, s, s->line, s->line_len);
    s->line_len = 0;
  }
  uv_read_stop(st);
  s->eof = 1;
  maybe_finish(p);
}

static void on_write(uv_write_t *req, int status) {
  ain_proc_t *p = req->data;
  /* EPIPE (child did not read) and ECANCELED (closed at the end) are normal outcomes here. */
  if (!uv_is_closing((uv_handle_t *)&p->in)) {
    uv_close((uv_handle_t *)&p->in, on_close);
  }
}

int ain_proc_spawn(uv_loop_t *loop, const ain_proc_opts_t *opts, ain_proc_cb cb, void *data,
                   ain_proc_t **out, ain_err_t *err) {
  if (out != NULL) {
    *out = NULL;
  }
  if (loop == NULL || opts == NULL || opts->file == NULL || opts->args == NULL || cb == NULL) {
    return ain_err_set(err, AIN_EINVAL, "ain_proc_spawn: loop, file, args and cb are required");
  }
  pthread_once(&sigpipe_once, ignore_sigpipe);
  ain_proc_t *p = calloc(1, sizeof *p);
  if (p == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "ain_proc_spawn: out of memory");
  }
  p->loop = loop;
  p->cb = cb;
  p->cb_data = data;
  p->line_data = opts->data;
  p->cap = opts->max_capture ? opts->max_capture : PROC_DEFAULT_CAP;
  p->grace_ms = opts->kill_grace_ms > 0 ? (uint64_t)opts->kill_grace_ms : PROC_DEFAULT_GRACE_MS;
  p->out.on_line = opts->on_stdout_line;
  p->err.on_line = opts->on_stderr_line;
  p->has_in = opts->stdin_data != NULL && opts->stdin_len > 0;
  p->start_ns = ain_mono_ns();

  /* Close callbacks are deferred to a later loop pass, so counting after init is safe. */
  p->open_handles = 3 + p->has_in;
  uv_timer_init(loop, &p->timer);
  p->timer.data = p;
  uv_pipe_init(loop, &p->out.pipe, 0);
  p->out.pipe.data = p;
  uv_pipe_init(loop, &p->err.pipe, 0);
  p->err.pipe.data = p;
  if (p->has_in) {
    uv_pipe_init(loop, &p->in, 0);
    p->in.data = p;
  }

  uv_stdio_container_t stdio[3];
  stdio[0].flags = p->has_in ? (UV_CREATE_PIPE | UV_READABLE_PIPE) : UV_IGNORE;
  stdio[0].data.stream = (uv_stream_t *)&p->in;
  stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  stdio[1].data.stream = (uv_stream_t *)&p->out.pipe;
  stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  stdio[2].data.stream = (uv_stream_t *)&p->err.pipe;

  uv_process_options_t po;
  memset(&po, 0, sizeof po);
  po.exit_cb = on_exit_cb;
  po.file = opts->file;
  po.args = opts->args;
  po.env = opts->env;
  po.cwd = opts->cwd;
  po.flags = UV_PROCESS_DETACHED;
  po.stdio_count = 3;
  po.stdio = stdio;
  p->process.data = p;
  int rc = uv_spawn(loop, &p->process, &po);
  if (p->process.loop != NULL) { /* uv_spawn initialises the handle, even when it then fails */
    p->open_handles++;
  }
  if (rc != 0) {
    ain_err_set(err, AIN_ESPAWN, "cannot start '%s': %s", opts->file,
                rc == UV_ENOENT ? "no such file or directory" : uv_strerror(rc));
    p->done = 1;
    close_all(p);
    return AIN_ESPAWN;
  }

  if (p->has_in) {
    p->stdin_copy = malloc(opts->stdin_len);
    if (p->stdin_copy == NULL) {
      rc = UV_ENOMEM;
    } else {
      memcpy(p->stdin_copy, opts->stdin_data, opts->stdin_len);
      uv_buf_t b = uv_buf_init(p->stdin_copy, (unsigned)opts->stdin_len);
      p->wreq.data = p;
      rc = uv_write(&p->wreq, (uv_stream_t *)&p->in, &b, 1, on_write);
    }
    if (rc != 0) { /* the child sees EOF on stdin; it still runs and reports normally */
      uv_close((uv_handle_t *)&p->in, on_close);
    }
  }
  uv_read_start((uv_stream_t *)&p->out.pipe, on_alloc, on_read);
  uv_read_start((uv_stream_t *)&p->err.pipe, on_alloc, on_read);
  if (opts->timeout_ms > 0) {
    /* callers (ain.spawn in a policy's resume) may have computed for a while since the loop
     * last read the clock: the timeout counts from now, not from then */
    uv_update_time(p->timer.loop);
    uv_timer_start(&p->timer, on_timeout, (uint64_t)opts->timeout_ms, 0);
  }
  if (out != NULL) {
    *out = p;
  }
  return 0;
}

void ain_proc_kill(ain_proc_t *p) {
  if (p == NULL || p->done || p->res.killed) {
    return;
  }
  p->res.killed = 1;
  if (p->term_sent) {
    return; /* the timeout already started SIGTERM -> SIGKILL */
  }
  p->term_sent = 1;
  signal_group(p, SIGTERM);
  uv_timer_stop(&p->timer);
  uv_timer_start(&p->timer, on_timer, p->grace_ms, 0);
}

int ain_proc_pid(const ain_proc_t *p) { return p != NULL ? p->process.pid : -1; }
