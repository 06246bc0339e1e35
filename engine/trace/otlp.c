/* Spans and their OTLP JSON encoding (opentelemetry-proto's ExportTraceServiceRequest in the
 * protobuf-JSON mapping, with OTLP's own deviations: trace and span ids as lower-case hex rather
 * than base64). Encoded on the exporter thread, never on a shard. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "trace/trace.h"

#define STATUS_MSG_MAX 1024

ain_span_t *ain_span_new(const ain_trace_ctx_t *ctx, const uint8_t *parent_span_id,
                         const char *name, int kind, int64_t start_unix_ns) {
  ain_span_t *s = calloc(1, sizeof *s);
  if (s == NULL) {
    abort(); /* as ain_strdup: OOM is fatal */
  }
  s->ctx = *ctx;
  if (parent_span_id != NULL) {
    memcpy(s->parent_span_id, parent_span_id, sizeof s->parent_span_id);
    s->has_parent = 1;
  }
  s->name = ain_strdup(name);
  s->kind = kind;
  s->start_unix_ns = start_unix_ns;
  s->end_unix_ns = start_unix_ns;
  return s;
}

static ain_span_attr_t *add_attr(ain_span_t *s, const char *key) {
  if (s->nattrs == s->cap_attrs) {
    size_t cap = s->cap_attrs ? s->cap_attrs * 2 : 16;
    ain_span_attr_t *a = realloc(s->attrs, cap * sizeof *a);
    if (a == NULL) {
      abort();
    }
    s->attrs = a;
    s->cap_attrs = cap;
  }
  ain_span_attr_t *a = &s->attrs[s->nattrs++];
  memset(a, 0, sizeof *a);
  a->key = ain_strdup(key);
  return a;
}

void ain_span_attr_str(ain_span_t *s, const char *key, const char *value) {
  if (value != NULL) {
    add_attr(s, key)->str = ain_strdup(value);
  }
}

void ain_span_attr_int(ain_span_t *s, const char *key, int64_t value) {
  add_attr(s, key)->i = value;
}

void ain_span_set_status(ain_span_t *s, int status, const char *msg) {
  s->status = status;
  free(s->status_msg);
  s->status_msg = NULL;
  if (msg != NULL && status == AIN_SPAN_STATUS_ERROR) {
    size_t len = strlen(msg), n = len > STATUS_MSG_MAX ? STATUS_MSG_MAX : len;
    /* the message may be cut inside a UTF-8 sequence: back off to a lead byte */
    while (n > 0 && n < len && ((unsigned char)msg[n] & 0xC0) == 0x80) {
      n--;
    }
    s->status_msg = malloc(n + 1);
    if (s->status_msg == NULL) {
      abort();
    }
    memcpy(s->status_msg, msg, n);
    s->status_msg[n] = '\0';
  }
}

void ain_span_free(ain_span_t *s) {
  if (s == NULL) {
    return;
  }
  for (size_t i = 0; i < s->nattrs; i++) {
    free(s->attrs[i].key);
    free(s->attrs[i].str);
  }
  free(s->attrs);
  free(s->name);
  free(s->status_msg);
  free(s);
}

/* ---- the encoder: written straight into one growing buffer (a cJSON tree would cost ~40
 * allocations per span, on a machine whose cores the shards need) ------------------------------ */

typedef struct {
  char *p;
  size_t n, cap;
} buf_t;

static void reserve(buf_t *b, size_t more) {
  if (b->n + more + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + more + 1) {
      cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (p == NULL) {
      abort();
    }
    b->p = p;
    b->cap = cap;
  }
}

static void put(buf_t *b, const char *s, size_t n) {
  reserve(b, n);
  memcpy(b->p + b->n, s, n);
  b->n += n;
}

#define PUT(b, lit) put((b), lit, sizeof lit - 1)

/* A JSON string: quotes, \" \\ and control characters escaped; other bytes (UTF-8) as they are. */
static void put_str(buf_t *b, const char *s) {
  static const char hex[] = "0123456789abcdef";
  reserve(b, strlen(s) + 2);
  b->p[b->n++] = '"';
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if (*c == '"' || *c == '\\') {
      reserve(b, 2);
      b->p[b->n++] = '\\';
      b->p[b->n++] = (char)*c;
    } else if (*c < 0x20) {
      reserve(b, 6);
      memcpy(b->p + b->n, "\\u00", 4);
      b->p[b->n + 4] = hex[*c >> 4];
      b->p[b->n + 5] = hex[*c & 15];
      b->n += 6;
    } else {
      reserve(b, 1);
      b->p[b->n++] = (char)*c;
    }
  }
  reserve(b, 1);
  b->p[b->n++] = '"';
}

/* int64 in the protobuf-JSON mapping is a decimal string (a double cannot hold every value) */
static void put_int64(buf_t *b, int64_t v) {
  char t[24];
  int k = snprintf(t, sizeof t, "\"%" PRId64 "\"", v);
  put(b, t, (size_t)k);
}

static void put_id(buf_t *b, const uint8_t *id, size_t n) {
  char hex[33];
  ain_trace_hex(id, n, hex);
  reserve(b, 2 * n + 2);
  b->p[b->n++] = '"';
  memcpy(b->p + b->n, hex, 2 * n);
  b->n += 2 * n;
  b->p[b->n++] = '"';
}

/* {"key":k,"value":{"stringValue":v}} */
static void put_kv_str(buf_t *b, const char *key, const char *v) {
  PUT(b, "{\"key\":");
  put_str(b, key);
  PUT(b, ",\"value\":{\"stringValue\":");
  put_str(b, v);
  PUT(b, "}}");
}

static void put_span(buf_t *b, const ain_span_t *s) {
  PUT(b, "{\"traceId\":");
  put_id(b, s->ctx.trace_id, 16);
  PUT(b, ",\"spanId\":");
  put_id(b, s->ctx.span_id, 8);
  if (s->has_parent) {
    PUT(b, ",\"parentSpanId\":");
    put_id(b, s->parent_span_id, 8);
  }
  PUT(b, ",\"name\":");
  put_str(b, s->name ? s->name : "");
  char t[32];
  put(b, t, (size_t)snprintf(t, sizeof t, ",\"kind\":%d", s->kind)); /* enums as integers */
  PUT(b, ",\"startTimeUnixNano\":");
  put_int64(b, s->start_unix_ns);
  PUT(b, ",\"endTimeUnixNano\":");
  put_int64(b, s->end_unix_ns);
  PUT(b, ",\"attributes\":[");
  for (size_t i = 0; i < s->nattrs; i++) {
    if (i > 0) {
      PUT(b, ",");
    }
    if (s->attrs[i].str != NULL) {
      put_kv_str(b, s->attrs[i].key, s->attrs[i].str);
    } else {
      PUT(b, "{\"key\":");
      put_str(b, s->attrs[i].key);
      PUT(b, ",\"value\":{\"intValue\":");
      put_int64(b, s->attrs[i].i);
      PUT(b, "}}");
    }
  }
  PUT(b, "],\"status\":{");
  if (s->status != AIN_SPAN_STATUS_UNSET) {
    put(b, t, (size_t)snprintf(t, sizeof t, "\"code\":%d", s->status));
    if (s->status_msg != NULL) {
      PUT(b, ",\"message\":");
      put_str(b, s->status_msg);
    }
  }
  PUT(b, "}}");
}

char *ain_trace_otlp_json(ain_span_t *const *spans, size_t n, const ain_trace_resource_t *res) {
  buf_t b = {0};
  PUT(&b, "{\"resourceSpans\":[{\"resource\":{\"attributes\":[");
  put_kv_str(&b, "service.name", res->service_name ? res->service_name : "ain");
  if (res->instance != NULL) {
    PUT(&b, ",");
    put_kv_str(&b, "service.instance.id", res->instance);
  }
  if (res->version != NULL) {
    PUT(&b, ",");
    put_kv_str(&b, "service.version", res->version);
  }
  PUT(&b, "]},\"scopeSpans\":[{\"scope\":{\"name\":\"ain\"");
  if (res->version != NULL) {
    PUT(&b, ",\"version\":");
    put_str(&b, res->version);
  }
  PUT(&b, "},\"spans\":[");
  for (size_t i = 0; i < n; i++) {
    if (i > 0) {
      PUT(&b, ",");
    }
    put_span(&b, spans[i]);
  }
  PUT(&b, "]}]}]}");
  b.p[b.n] = '\0';
  return b.p;
}
