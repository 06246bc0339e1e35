/* Spans and their OTLP JSON encoding (opentelemetry-proto's ExportTraceServiceRequest in the
 * protobuf-JSON mapping, with OTLP's own deviations: trace and span ids as lower-case hex rather
 * than base64). Built with cJSON on the exporter thread, never on a shard. */
#include <cjson/cJSON.h>
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

/* {"key": k, "value": {"stringValue": v}} */
static void kv_str(cJSON *arr, const char *key, const char *v) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "key", key);
  cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "value"), "stringValue", v);
  cJSON_AddItemToArray(arr, o);
}

/* int64 in the protobuf-JSON mapping is a decimal string (a double cannot hold every value) */
static void add_int64(cJSON *o, const char *key, int64_t v) {
  char b[24];
  snprintf(b, sizeof b, "%" PRId64, v);
  cJSON_AddStringToObject(o, key, b);
}

static cJSON *span_json(const ain_span_t *s) {
  char hex[33];
  cJSON *o = cJSON_CreateObject();
  ain_trace_hex(s->ctx.trace_id, 16, hex);
  cJSON_AddStringToObject(o, "traceId", hex);
  ain_trace_hex(s->ctx.span_id, 8, hex);
  cJSON_AddStringToObject(o, "spanId", hex);
  if (s->has_parent) {
    ain_trace_hex(s->parent_span_id, 8, hex);
    cJSON_AddStringToObject(o, "parentSpanId", hex);
  }
  cJSON_AddStringToObject(o, "name", s->name ? s->name : "");
  cJSON_AddNumberToObject(o, "kind", s->kind);
  add_int64(o, "startTimeUnixNano", s->start_unix_ns);
  add_int64(o, "endTimeUnixNano", s->end_unix_ns);
  cJSON *attrs = cJSON_AddArrayToObject(o, "attributes");
  for (size_t i = 0; i < s->nattrs; i++) {
    if (s->attrs[i].str != NULL) {
      kv_str(attrs, s->attrs[i].key, s->attrs[i].str);
    } else {
      cJSON *a = cJSON_CreateObject();
      cJSON_AddStringToObject(a, "key", s->attrs[i].key);
      add_int64(cJSON_AddObjectToObject(a, "value"), "intValue", s->attrs[i].i);
      cJSON_AddItemToArray(attrs, a);
    }
  }
  cJSON *st = cJSON_AddObjectToObject(o, "status");
  if (s->status != AIN_SPAN_STATUS_UNSET) {
    cJSON_AddNumberToObject(st, "code", s->status);
  }
  if (s->status_msg != NULL) {
    cJSON_AddStringToObject(st, "message", s->status_msg);
  }
  return o;
}

char *ain_trace_otlp_json(ain_span_t *const *spans, size_t n, const ain_trace_resource_t *res) {
  cJSON *root = cJSON_CreateObject();
  cJSON *rs = cJSON_CreateObject();
  cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "resourceSpans"), rs);
  cJSON *rattrs = cJSON_AddArrayToObject(cJSON_AddObjectToObject(rs, "resource"), "attributes");
  kv_str(rattrs, "service.name", res->service_name ? res->service_name : "ain");
  if (res->instance != NULL) {
    kv_str(rattrs, "service.instance.id", res->instance);
  }
  if (res->version != NULL) {
    kv_str(rattrs, "service.version", res->version);
  }
  cJSON *ss = cJSON_CreateObject();
  cJSON_AddItemToArray(cJSON_AddArrayToObject(rs, "scopeSpans"), ss);
  cJSON *scope = cJSON_AddObjectToObject(ss, "scope");
  cJSON_AddStringToObject(scope, "name", "ain");
  if (res->version != NULL) {
    cJSON_AddStringToObject(scope, "version", res->version);
  }
  cJSON *arr = cJSON_AddArrayToObject(ss, "spans");
  for (size_t i = 0; i < n; i++) {
    cJSON_AddItemToArray(arr, span_json(spans[i]));
  }
  char *text = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  if (text == NULL) {
    abort();
  }
  return text;
}
