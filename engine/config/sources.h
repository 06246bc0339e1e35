/* The trend sources (config key `sources`), parsed and validated at load: every error names its
 * key (sources[2].url, sources[1].map.title). The sources themselves run in engine/sources/.
 *
 * Shape (documented in ain.lua.example and docs/sources.md):
 *   sources = {
 *     { name = "hn", kind = "http", url = "http://127.0.0.1:8088/feed.json",
 *       interval_ms = 60000, min_interval_ms = 1000, timeout_ms = 10000,
 *       max_bytes = 4194304, backoff_base_ms = 1000, backoff_max_ms = 600000,
 *       secret = "hn_token",                 -- optional: "Authorization: Bearer <secret>"
 *       map = { items = "$.data.items[*]", title = "headline", summary = "body.text",
 *               url = "link", id = "id", ts = "published_at", tags = "labels[*].name",
 *               score = "stats.score" } },
 *     { name = "blog", kind = "rss", url = "https://example.org/feed.xml" },  -- or "atom"
 *     { name = "push", kind = "redis", url = "redis://127.0.0.1:6379", stream = "trends",
 *       group = "ain", consumer = "node-1", claim_idle_ms = 60000, batch = 100 },
 *     { name = "local", kind = "jsonl", path = "samples/more.jsonl" },
 *   }
 * `trends.source` stays what it was: the planner's own JSON Lines file (shown by `ain sources`
 * as the jsonl source "trends").
 * Relies on: LuaJIT (reads the config's table), core/err.h. */
#ifndef AIN_CONFIG_SOURCES_H
#define AIN_CONFIG_SOURCES_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct lua_State;

typedef enum {
  AIN_SOURCE_JSONL = 0,
  AIN_SOURCE_HTTP,  /* a JSON document, mapped to trends by `map` */
  AIN_SOURCE_RSS,   /* RSS 2.0 */
  AIN_SOURCE_ATOM,  /* Atom 1.0 */
  AIN_SOURCE_REDIS, /* a Redis Stream read by a consumer group */
} ain_source_kind_t;

/* The trend fields a JSON feed maps (the record planner.lua plans: title, summary, ...). */
typedef enum {
  AIN_SOURCE_F_TITLE = 0,
  AIN_SOURCE_F_SUMMARY,
  AIN_SOURCE_F_URL,
  AIN_SOURCE_F_ID,
  AIN_SOURCE_F_TS,
  AIN_SOURCE_F_TAGS,
  AIN_SOURCE_F_SCORE,
  AIN_SOURCE_F_COUNT
} ain_source_field_t;

#define AIN_SOURCE_NAME_MAX 64

typedef struct {
  char *name; /* [A-Za-z0-9_-]{1,64}, unique */
  ain_source_kind_t kind;
  char *url;  /* http(s):// for http/rss/atom, redis:// for redis */
  char *path; /* jsonl: the file (resolved against the config's folder) */
  int64_t interval_ms;     /* poll period */
  int64_t min_interval_ms; /* rate limit: two requests to this source are at least this apart */
  int64_t timeout_ms;      /* one request, connect to last byte */
  int64_t max_bytes;       /* a larger body is refused (and never buffered past this) */
  int64_t backoff_base_ms; /* first retry after an error; doubles per consecutive error */
  int64_t backoff_max_ms;  /* cap of the backoff */
  char *secret;            /* name of a bearer token in the secrets provider, or NULL */
  /* kind http: "$.a.b[*]" the item array; map[f] a path inside one item, or NULL */
  char *map_items;
  char *map[AIN_SOURCE_F_COUNT];
  /* kind redis */
  char *stream, *group, *consumer;
  int64_t claim_idle_ms; /* pending entries idle this long are claimed (XAUTOCLAIM) */
  int64_t batch;         /* entries per XREADGROUP */
} ain_source_cfg_t;

typedef struct {
  ain_source_cfg_t *list;
  size_t n;
} ain_sources_config_t;

/* "jsonl", "http", ... */
const char *ain_source_kind_name(ain_source_kind_t k);
/* The name of field f ("title"). */
const char *ain_source_field_name(ain_source_field_t f);

void ain_sources_config_defaults(ain_sources_config_t *sc);
void ain_sources_config_free(ain_sources_config_t *sc);
/* Parses the array at the top of L's stack into sc (replacing what it held). where is "file:line"
 * for messages, base_dir resolves relative paths. 0 or AIN_ECONFIG naming the key
 * ("sources[2].kind"). */
int ain_sources_config_parse(struct lua_State *L, ain_sources_config_t *sc, const char *where,
                             const char *base_dir, ain_err_t *err);
/* Checks a mapping path ("a.b[0].c", "$.items[*]", "labels[*].name"): 0 or AIN_EINVAL with the
 * problem. At most one "[*]". Shared with engine/sources/map.c, which evaluates it. */
int ain_source_path_check(const char *path, ain_err_t *err);

#endif
