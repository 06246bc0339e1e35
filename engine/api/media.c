/* GET and HEAD /v1/videos/{id}/media and /thumbnail: the object's bytes with HTTP Range, so a
 * browser's <video> can seek. The caller is a viewer (bearer token or client certificate) or
 * carries a ticket from GET /v1/videos/{id} (ticket.c); a bad ticket is 401 with its reason in
 * the log only.
 *
 * Flow. The handler (server loop) checks the id, the caller and parses Range; a worker finds the
 * video's object key (ops/video.h), stats the object, resolves the range and reads the first
 * chunk; back on the loop the headers go out with that chunk through an h2o generator. Each
 * proceed (h2o wrote the previous chunk) queues the read of the next chunk on a worker, so at
 * most one chunk per response is in memory and no file I/O runs on the loop.
 *
 * Lifetime. A stream is freed by whichever ends last: the request (h2o disposes its pool: the
 * client left, or the response was written) or a worker job in flight for it. The chunk buffer
 * lives in the stream, so it stays valid until h2o has written it (the pool goes after the
 * write).
 * Relies on: internal.h (work.c, respond.c, range.c, ticket.c, route.c), ops/video.h,
 * objstore/objstore.h, h2o. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/internal.h"
#include "core/log.h"
#include "objstore/objstore.h"
#include "ops/video.h"

#define CHUNK (256 * 1024)

typedef struct media_stream {
  ain__api_job_t job; /* first: the worker job of the open, then of each chunk */
  h2o_generator_t gen;
  h2o_req_t *req; /* NULL once h2o disposed the request */
  ain_api_t *api;
  ain_ops_video_kind_t kind;
  int head;     /* HEAD: headers only */
  int inflight; /* a job is queued or running (server loop) */
  int opened;   /* the open job ran: chunk jobs follow */
  int started;  /* h2o_start_response was called: errors now end the stream */
  char video_id[128];
  char actor[192];
  ain__api_range_t range;
  char if_range[128]; /* If-Range as sent; "" when absent */
  /* set by the open job */
  char key[AIN_OBJSTORE_KEY_MAX + 1];
  ain_objstore_stat_t st;
  int status;        /* 200, 206, 416 */
  uint64_t pos, end; /* next byte to send, one past the last */
  /* each job */
  int rc;
  ain_err_t err;
  char *buf;
  size_t got;
} media_stream_t;

static void stream_free(media_stream_t *s) {
  free(s->buf);
  free(s);
}

static void on_req_disposed(void *obj) {
  media_stream_t *s = *(media_stream_t **)obj;
  s->req = NULL;
  if (!s->inflight) {
    stream_free(s);
  } /* else the job's done callback frees it */
}

static const char *content_type(const char *key) {
  const char *dot = strrchr(key, '.');
  const char *slash = strrchr(key, '/');
  if (dot == NULL || (slash != NULL && dot < slash)) {
    return "application/octet-stream";
  }
  static const struct {
    const char *ext, *type;
  } types[] = {{"mp4", "video/mp4"},   {"m4v", "video/mp4"},   {"webm", "video/webm"},
               {"jpg", "image/jpeg"},  {"jpeg", "image/jpeg"}, {"png", "image/png"},
               {"webp", "image/webp"}, {"wav", "audio/wav"}};
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    if (strcasecmp(dot + 1, types[i].ext) == 0) {
      return types[i].type;
    }
  }
  return "application/octet-stream";
}

/* "\"<the 64 hex digits>\"" of a content-addressed key "sha256/ab/<62>[.ext]", else the key. */
static void etag_of(const char *key, char *out, size_t cap) {
  if (strncmp(key, "sha256/", 7) == 0 && strlen(key) >= 72 && key[9] == '/') {
    snprintf(out, cap, "\"%.2s%.62s\"", key + 7, key + 10);
  } else {
    snprintf(out, cap, "\"%s\"", key);
  }
}

static void last_modified(int64_t mtime_s, char *out) {
  time_t t = (time_t)mtime_s;
  struct tm gmt;
  gmtime_r(&t, &gmt);
  h2o_time2str_rfc1123(out, &gmt);
}

/* ---- worker side ----------------------------------------------------------------------------- */

static void read_chunk(media_stream_t *s, ain_objstore_t *objects) {
  s->got = 0;
  if (s->buf == NULL && (s->buf = malloc(CHUNK)) == NULL) {
    s->rc = ain_err_set(&s->err, AIN_ENOMEM, "out of memory");
    return;
  }
  uint64_t want = s->end - s->pos < CHUNK ? s->end - s->pos : CHUNK;
  s->rc = ain_objstore_read_range(objects, s->key, s->pos, s->buf, (size_t)want, &s->got, &s->err);
}

static void job_run(ain__api_job_t *job, ain__api_worker_t *w) {
  media_stream_t *s = (media_stream_t *)job;
  ain_err_clear(&s->err);
  s->rc = 0;
  if (s->opened) {
    read_chunk(s, s->api->objects);
    return;
  }
  if (!w->ops_open) {
    s->rc = ain_err_set(&s->err, AIN_ESTORE, "no store handle: %s", w->open_err.msg);
    return;
  }
  if ((s->rc = ain_ops_video_object(&w->ops, s->video_id, s->kind, s->key, sizeof s->key,
                                    &s->err)) != 0 ||
      (s->rc = ain_objstore_stat(s->api->objects, s->key, &s->st, &s->err)) != 0) {
    if (s->rc == AIN_ENOTFOUND && s->err.field[0] == 'k') { /* "key": the file is gone */
      ain_err_field(&s->err, AIN_ENOTFOUND, s->kind == AIN_OPS_VIDEO_MEDIA ? "media" : "thumbnail",
                    "video %s: its %s object is missing from the object store", s->video_id,
                    s->kind == AIN_OPS_VIDEO_MEDIA ? "media" : "thumbnail");
    }
    return;
  }
  /* If-Range: the range only applies to the representation the client already holds. */
  ain__api_range_t r = s->range;
  if (s->if_range[0] != '\0') {
    char etag[100], lm[H2O_TIMESTR_RFC1123_LEN + 1];
    etag_of(s->key, etag, sizeof etag);
    last_modified(s->st.mtime_s, lm);
    if (strcmp(s->if_range, etag) != 0 && strcmp(s->if_range, lm) != 0) {
      r.kind = AIN__API_RANGE_IGNORE;
    }
  }
  uint64_t start, len;
  s->status = ain__api_range_resolve(&r, s->st.size, &start, &len);
  s->pos = start;
  s->end = start + len;
  s->opened = 1;
  if (s->status != 416 && !s->head && len > 0) {
    read_chunk(s, s->api->objects);
  }
}

/* ---- server loop ----------------------------------------------------------------------------- */

static void on_proceed(h2o_generator_t *gen, h2o_req_t *req);

/* The client left mid-body (a player seeking aborts its last request): on_req_disposed, next,
 * frees what is left. Debug: a browser does this on every seek. */
static void on_stop(h2o_generator_t *gen, h2o_req_t *req) {
  (void)req;
  media_stream_t *s = H2O_STRUCT_FROM_MEMBER(media_stream_t, gen, gen);
  ain_log_debug("api: the client of %s of video %s left at byte %llu of %llu%s",
                s->kind == AIN_OPS_VIDEO_MEDIA ? "media" : "thumbnail", s->video_id,
                (unsigned long long)s->pos, (unsigned long long)s->end,
                s->inflight ? " (a chunk read is in flight)" : "");
}

/* Sends the chunk just read (or ends the response on a short or failed read). */
static void send_chunk(media_stream_t *s) {
  h2o_req_t *req = s->req;
  if (s->rc != 0 || s->got == 0) {
    ain_log_warn("api: %s of video %s for %s stopped at byte %llu of %llu: %s",
                 s->kind == AIN_OPS_VIDEO_MEDIA ? "media" : "thumbnail", s->video_id, s->actor,
                 (unsigned long long)s->pos, (unsigned long long)s->end,
                 s->rc != 0 ? s->err.msg : "the object is shorter than its size");
    h2o_send(req, NULL, 0, H2O_SEND_STATE_ERROR);
    return;
  }
  s->pos += s->got;
  h2o_iovec_t b = h2o_iovec_init(s->buf, s->got);
  h2o_send(req, &b, 1, s->pos >= s->end ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
}

static void set_header(h2o_req_t *req, const h2o_token_t *t, const char *v) {
  h2o_set_header(&req->pool, &req->res.headers, t, h2o_strdup(&req->pool, v, SIZE_MAX).base,
                 strlen(v), 1);
}

static void send_head(media_stream_t *s) {
  h2o_req_t *req = s->req;
  char etag[100], lm[H2O_TIMESTR_RFC1123_LEN + 1], cr[96];
  etag_of(s->key, etag, sizeof etag);
  last_modified(s->st.mtime_s, lm);
  set_header(req, H2O_TOKEN_ACCEPT_RANGES, "bytes");
  set_header(req, H2O_TOKEN_ETAG, etag);
  if (s->st.mtime_s > 0) {
    set_header(req, H2O_TOKEN_LAST_MODIFIED, lm);
  }
  if (s->status == 416) {
    snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)s->st.size);
    set_header(req, H2O_TOKEN_CONTENT_RANGE, cr);
    ain__api_send_error(
        req, "ERANGE", "Range", "the range is not satisfiable: the %s has %llu bytes",
        s->kind == AIN_OPS_VIDEO_MEDIA ? "media" : "thumbnail", (unsigned long long)s->st.size);
    return;
  }
  req->res.status = s->status;
  req->res.reason = s->status == 206 ? "Partial Content" : "OK";
  req->res.content_length = s->end - s->pos;
  if (s->status == 206) {
    snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)s->pos,
             (unsigned long long)(s->end - 1), (unsigned long long)s->st.size);
    set_header(req, H2O_TOKEN_CONTENT_RANGE, cr);
  }
  set_header(req, H2O_TOKEN_CONTENT_TYPE, content_type(s->key));
  /* Revalidate each time (the ticket in the URL changes; the bytes of a key never do). */
  set_header(req, H2O_TOKEN_CACHE_CONTROL, "private, no-cache");
  s->gen.proceed = on_proceed;
  s->gen.stop = on_stop;
  h2o_start_response(req, &s->gen);
  s->started = 1;
  if (s->head || s->end == s->pos) {
    h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
  } else {
    send_chunk(s);
  }
}

static void job_done(ain__api_job_t *job, int cancelled) {
  media_stream_t *s = (media_stream_t *)job;
  s->inflight = 0;
  if (s->req == NULL) { /* the client left while the worker read */
    stream_free(s);
    return;
  }
  if (cancelled) {
    if (s->started) {
      h2o_send(s->req, NULL, 0, H2O_SEND_STATE_ERROR);
    } else {
      ain__api_send_error(s->req, "ESHUTDOWN", NULL, "the server is shutting down");
    }
  } else if (!s->started && s->rc != 0) {
    ain__api_send_err(s->req, &s->err);
  } else if (!s->started) {
    send_head(s);
  } else {
    send_chunk(s);
  }
}

static int submit(media_stream_t *s) {
  s->job.run = job_run;
  s->job.done = job_done;
  s->inflight = 1;
  int rc = ain__api_pool_submit(s->api, &s->job);
  if (rc != 0) {
    s->inflight = 0;
  }
  return rc;
}

/* h2o wrote the last chunk: read the next one on a worker. */
static void on_proceed(h2o_generator_t *gen, h2o_req_t *req) {
  media_stream_t *s = H2O_STRUCT_FROM_MEMBER(media_stream_t, gen, gen);
  if (submit(s) != 0) {
    h2o_send(req, NULL, 0, H2O_SEND_STATE_ERROR); /* shutting down or saturated */
  }
}

/* The ticket of ?ticket=..., the only query parameter; -1 (answered 400) on anything else. */
static int ticket_param(h2o_req_t *req, char *out, size_t cap) {
  out[0] = '\0';
  if (req->query_at == SIZE_MAX) {
    return 0;
  }
  const char *q = req->path.base + req->query_at + 1;
  size_t n = req->path.len - req->query_at - 1;
  while (n > 0) {
    const char *amp = memchr(q, '&', n);
    size_t len = amp ? (size_t)(amp - q) : n;
    if (len > 0) {
      if (len < 7 || memcmp(q, "ticket=", 7) != 0) {
        ain__api_send_error(req, "EINVAL", "query", "unknown query parameter '%.*s' (ticket)",
                            (int)(len > 32 ? 32 : len), q);
        return -1;
      }
      if (ain__api_query_decode(q + 7, len - 7, out, cap) != 0 || out[0] == '\0') {
        ain__api_send_error(req, "EINVAL", "ticket",
                            "'ticket' is empty, too long or badly "
                            "encoded");
        return -1;
      }
    }
    q += len + (amp != NULL);
    n -= len + (amp != NULL);
  }
  return 0;
}

/* The caller: a valid ticket for this video and kind, or a viewer by token or certificate. */
static int caller_of(ain__api_call_t *call, const char *video_id, const char *kind,
                     const char *ticket, char *actor, size_t cap) {
  h2o_req_t *req = call->req;
  if (ticket[0] != '\0') {
    char subject[168], why[160];
    if (ain__api_ticket_verify(call->api, ticket, strlen(ticket), video_id, kind,
                               (int64_t)time(NULL), subject, sizeof subject, why,
                               sizeof why) != 0) {
      ain_log_warn("api: %.*s %.*s refused (401): %s", (int)req->method.len, req->method.base,
                   (int)req->path_normalized.len, req->path_normalized.base, why);
      ain__api_send_error(req, "EAUTH", "ticket", "the ticket is not valid for this URL");
      return -1;
    }
    snprintf(actor, cap, "operator:%s", subject);
    return 0;
  }
  ain__api_caller_t caller;
  memset(&caller, 0, sizeof caller);
  if (ain__api_authenticate(call->api, req, &caller) != 0) {
    return -1; /* answered 401/403 */
  }
  if (caller.role < AIN_ROLE_VIEWER) {
    ain__api_send_error(req, "EFORBIDDEN", "role", "role %s may not read videos",
                        ain_role_name(caller.role));
    return -1;
  }
  snprintf(actor, cap, "%s", caller.actor);
  return 0;
}

static int serve(ain__api_call_t *call, ain_ops_video_kind_t kind) {
  h2o_req_t *req = call->req;
  const char *kname = kind == AIN_OPS_VIDEO_MEDIA ? "media" : "thumbnail";
  char video_id[128], ticket[AIN__API_TICKET_MAX + 1], actor[192];
  if (ain__api_param(call, 0, "id", video_id, sizeof video_id) != 0 ||
      ticket_param(req, ticket, sizeof ticket) != 0 ||
      caller_of(call, video_id, kname, ticket, actor, sizeof actor) != 0) {
    return 0;
  }
  media_stream_t *s = calloc(1, sizeof *s);
  if (s == NULL) {
    ain__api_send_error(req, "EBUSY", NULL, "out of memory");
    return 0;
  }
  s->req = req;
  s->api = call->api;
  s->kind = kind;
  s->head = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
  snprintf(s->video_id, sizeof s->video_id, "%s", video_id);
  snprintf(s->actor, sizeof s->actor, "%s", actor);
  ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_RANGE, -1);
  if (i >= 0) {
    ain__api_range_parse(req->headers.entries[i].value.base, req->headers.entries[i].value.len,
                         &s->range);
  }
  i = h2o_find_header(&req->headers, H2O_TOKEN_IF_RANGE, -1);
  if (i >= 0) {
    h2o_iovec_t v = req->headers.entries[i].value;
    if (v.len < sizeof s->if_range) {
      memcpy(s->if_range, v.base, v.len);
    } else { /* longer than any ETag or date of ours: never matches, so the range is ignored */
      snprintf(s->if_range, sizeof s->if_range, "-");
    }
  }
  media_stream_t **link = h2o_mem_alloc_shared(&req->pool, sizeof *link, on_req_disposed);
  *link = s; /* from here the request's pool owns s (or the job in flight does) */
  int rc = submit(s);
  if (rc != 0) {
    ain__api_send_error(req, rc == AIN_EBUSY ? "EBUSY" : "ESHUTDOWN", NULL,
                        rc == AIN_EBUSY ? "every worker is busy; retry" : "shutting down");
  }
  return 0;
}

int ain__api_video_media(ain__api_call_t *call) {
  return serve(call, AIN_OPS_VIDEO_MEDIA);
}

int ain__api_video_thumbnail(ain__api_call_t *call) {
  return serve(call, AIN_OPS_VIDEO_THUMBNAIL);
}
