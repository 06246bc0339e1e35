/* Parser of the `sources` config key (see sources.h): an array of tables, one per source, each
 * checked for its kind's required keys and refused naming the key (sources[2].url).
 * Relies on: LuaJIT (the config's table on the stack), core/util.h. */
#include "config/sources.h"

#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static const char *const KIND_NAMES[] = {"jsonl", "http", "rss", "atom", "redis"};
static const char *const FIELD_NAMES[AIN_SOURCE_F_COUNT] = {"title", "summary", "url", "id",
                                                             "ts",    "tags",    "score"};

const char *ain_source_kind_name(ain_source_kind_t k) {
  return (unsigned)k < sizeof KIND_NAMES / sizeof *KIND_NAMES ? KIND_NAMES[k] : "?";
}

const char *ain_source_field_name(ain_source_field_t f) {
  return (unsigned)f < AIN_SOURCE_F_COUNT ? FIELD_NAMES[f] : "?";
}

void ain_sources_config_defaults(ain_sources_config_t *sc) {
  memset(sc, 0, sizeof *sc);
}

static void source_free(ain_source_cfg_t *s) {
  free(s->name);
  free(s->url);
  free(s->path);
  free(s->secret);
  free(s->map_items);
  for (int f = 0; f < AIN_SOURCE_F_COUNT; f++) {
    free(s->map[f]);
  }
  free(s->stream);
  free(s->group);
  free(s->consumer);
  memset(s, 0, sizeof *s);
}

void ain_sources_config_free(ain_sources_config_t *sc) {
  for (size_t i = 0; i < sc->n; i++) {
    source_free(&sc->list[i]);
  }
  free(sc->list);
  memset(sc, 0, sizeof *sc);
}

int ain_source_path_check(const char *path, ain_err_t *err) {
  if (path == NULL || path[0] == '\0') {
    return ain_err_set(err, AIN_EINVAL, "empty path");
  }
  if (strlen(path) > 256) {
    return ain_err_set(err, AIN_EINVAL, "path longer than 256 bytes");
  }
  const char *p = path;
  int stars = 0, first = 1;
  if (*p == '$') {
    p++;
    if (*p == '\0') {
      return 0; /* the document itself */
    }
    if (*p != '.' && *p != '[') {
      return ain_err_set(err, AIN_EINVAL, "'%s': '$' must be followed by '.' or '['", path);
    }
    first = 0;
  }
  while (*p != '\0') {
    if (*p == '[') {
      const char *close = strchr(p, ']');
      if (close == NULL) {
        return ain_err_set(err, AIN_EINVAL, "'%s': '[' without ']'", path);
      }
      if (close - p == 2 && p[1] == '*') {
        if (++stars > 1) {
          return ain_err_set(err, AIN_EINVAL, "'%s': at most one [*]", path);
        }
      } else {
        if (close - p < 2 || close - p > 10) {
          return ain_err_set(err, AIN_EINVAL, "'%s': an index must be [N] or [*]", path);
        }
        for (const char *d = p + 1; d < close; d++) {
          if (*d < '0' || *d > '9') {
            return ain_err_set(err, AIN_EINVAL, "'%s': an index must be [N] or [*]", path);
          }
        }
      }
      p = close + 1;
    } else {
      if (*p == '.') {
        p++;
      } else if (!first) {
        return ain_err_set(err, AIN_EINVAL, "'%s': expected '.' or '[' after ']'", path);
      }
      size_t n = strcspn(p, ".[]");
      if (n == 0) {
        return ain_err_set(err, AIN_EINVAL, "'%s': empty key", path);
      }
      p += n;
      if (*p == ']') {
        return ain_err_set(err, AIN_EINVAL, "'%s': ']' without '['", path);
      }
    }
    first = 0;
  }
  return 0;
}

/* ---- one source table ------------------------------------------------------------------------ */

typedef struct {
  lua_State *L;
  const char *where;
  char key[96]; /* "sources[2]" */
  ain_err_t *err;
} ctx_t;

static int bad(ctx_t *c, const char *sub, const char *fmt, const char *what) {
  char field[160];
  snprintf(field, sizeof field, "%s.%s", c->key, sub);
  return ain_err_field(c->err, AIN_ECONFIG, field, "%s: '%s' %s%s", c->where, field, fmt,
                       what ? what : "");
}

static int get_str(ctx_t *c, const char *sub, char **slot) {
  if (lua_type(c->L, -1) != LUA_TSTRING || lua_objlen(c->L, -1) == 0) {
    return bad(c, sub, "must be a non-empty string", NULL);
  }
  free(*slot);
  *slot = ain_strdup(lua_tostring(c->L, -1));
  return 0;
}

static int get_int(ctx_t *c, const char *sub, int64_t *slot, int64_t min, int64_t max) {
  double d = lua_type(c->L, -1) == LUA_TNUMBER ? lua_tonumber(c->L, -1) : NAN;
  if (d != floor(d) || d < (double)min || d > (double)max) {
    char range[96];
    snprintf(range, sizeof range, "%lld to %lld", (long long)min, (long long)max);
    return bad(c, sub, "must be an integer from ", range);
  }
  *slot = (int64_t)d;
  return 0;
}

static int get_map(ctx_t *c, ain_source_cfg_t *s) {
  lua_State *L = c->L;
  if (lua_type(L, -1) != LUA_TTABLE) {
    return bad(c, "map", "must be a table of paths", NULL);
  }
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    char sub[128];
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
    snprintf(sub, sizeof sub, "map.%s", k);
    char **slot = NULL;
    if (strcmp(k, "items") == 0) {
      slot = &s->map_items;
    }
    for (int f = 0; slot == NULL && f < AIN_SOURCE_F_COUNT; f++) {
      if (strcmp(k, FIELD_NAMES[f]) == 0) {
        slot = &s->map[f];
      }
    }
    if (slot == NULL) {
      lua_pop(L, 2);
      return bad(c, sub, "is not a trend field (items, title, summary, url, id, ts, tags, score)",
                 NULL);
    }
    int rc = get_str(c, sub, slot);
    ain_err_t perr;
    ain_err_clear(&perr);
    if (rc == 0 && ain_source_path_check(*slot, &perr) != 0) {
      rc = bad(c, sub, "is not a path: ", perr.msg);
    }
    lua_pop(L, 1);
    if (rc != 0) {
      lua_pop(L, 1);
      return rc;
    }
  }
  if (s->map[AIN_SOURCE_F_TITLE] == NULL) {
    return bad(c, "map.title", "is required (the path of an item's title)", NULL);
  }
  if (s->map_items == NULL) {
    s->map_items = ain_strdup("$[*]");
  }
  if (strstr(s->map_items, "[*]") == NULL) {
    return bad(c, "map.items", "must select an array with [*] (\"$.items[*]\")", NULL);
  }
  return 0;
}

static int set_key(ctx_t *c, ain_source_cfg_t *s, const char *k, const char *base_dir) {
  lua_State *L = c->L;
  if (strcmp(k, "name") == 0) {
    int rc = get_str(c, k, &s->name);
    if (rc != 0) {
      return rc;
    }
    size_t n = strlen(s->name);
    if (n > AIN_SOURCE_NAME_MAX || strspn(s->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST"
                                                  "UVWXYZ0123456789_-") != n) {
      return bad(c, k, "must be 1 to 64 of A-Z a-z 0-9 _ -", NULL);
    }
    return 0;
  }
  if (strcmp(k, "kind") == 0) {
    const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
    for (size_t i = 0; i < sizeof KIND_NAMES / sizeof *KIND_NAMES; i++) {
      if (strcmp(v, KIND_NAMES[i]) == 0) {
        s->kind = (ain_source_kind_t)i;
        return 0;
      }
    }
    return bad(c, k, "must be one of jsonl, http, rss, atom, redis", NULL);
  }
  if (strcmp(k, "path") == 0) {
    int rc = get_str(c, k, &s->path);
    if (rc == 0 && s->path[0] != '/') {
      size_t n = strlen(base_dir) + strlen(s->path) + 2;
      char *p = malloc(n);
      if (p == NULL) {
        abort();
      }
      snprintf(p, n, "%s/%s", base_dir, s->path);
      free(s->path);
      s->path = p;
    }
    return rc;
  }
  struct {
    const char *name;
    char **slot;
  } strs[] = {{"url", &s->url},       {"secret", &s->secret}, {"stream", &s->stream},
              {"group", &s->group},   {"consumer", &s->consumer}};
  for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
    if (strcmp(k, strs[i].name) == 0) {
      return get_str(c, k, strs[i].slot);
    }
  }
  struct {
    const char *name;
    int64_t *slot, min, max;
  } ints[] = {{"interval_ms", &s->interval_ms, 100, 86400000LL * 7},
              {"min_interval_ms", &s->min_interval_ms, 0, 86400000},
              {"timeout_ms", &s->timeout_ms, 100, 600000},
              {"max_bytes", &s->max_bytes, 1024, 256LL << 20},
              {"backoff_base_ms", &s->backoff_base_ms, 10, 3600000},
              {"backoff_max_ms", &s->backoff_max_ms, 10, 86400000},
              {"claim_idle_ms", &s->claim_idle_ms, 0, 86400000},
              {"batch", &s->batch, 1, 10000}};
  for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
    if (strcmp(k, ints[i].name) == 0) {
      return get_int(c, k, ints[i].slot, ints[i].min, ints[i].max);
    }
  }
  if (strcmp(k, "map") == 0) {
    return get_map(c, s);
  }
  return bad(c, k, "is not a source key", NULL);
}

static int has_prefix(const char *s, const char *p) {
  return s != NULL && strncmp(s, p, strlen(p)) == 0 && s[strlen(p)] != '\0';
}

/* Required keys per kind, defaults; called once every key of the table is read. */
static int finish(ctx_t *c, ain_source_cfg_t *s, int has_kind) {
  if (s->name == NULL) {
    return bad(c, "name", "is required", NULL);
  }
  if (!has_kind) {
    return bad(c, "kind", "is required (jsonl, http, rss, atom, redis)", NULL);
  }
  switch (s->kind) {
  case AIN_SOURCE_JSONL:
    if (s->path == NULL) {
      return bad(c, "path", "is required for kind jsonl", NULL);
    }
    break;
  case AIN_SOURCE_HTTP:
  case AIN_SOURCE_RSS:
  case AIN_SOURCE_ATOM:
    if (!has_prefix(s->url, "http://") && !has_prefix(s->url, "https://")) {
      return bad(c, "url", "must be an http:// or https:// URL for kind ",
                 ain_source_kind_name(s->kind));
    }
    if (s->kind == AIN_SOURCE_HTTP && s->map_items == NULL) {
      return bad(c, "map", "is required for kind http (at least map.title)", NULL);
    }
    break;
  case AIN_SOURCE_REDIS:
    if (!has_prefix(s->url, "redis://")) {
      return bad(c, "url", "must be a redis://host:port URL", NULL);
    }
    if (s->stream == NULL) {
      return bad(c, "stream", "is required for kind redis", NULL);
    }
    if (s->group == NULL) {
      s->group = ain_strdup("ain");
    }
    if (s->consumer == NULL) {
      s->consumer = ain_strdup("ain");
    }
    break;
  }
  if (s->kind != AIN_SOURCE_HTTP && s->map_items != NULL) {
    return bad(c, "map", "is only for kind http", NULL);
  }
  if (s->backoff_max_ms < s->backoff_base_ms) {
    return bad(c, "backoff_max_ms", "must not be below backoff_base_ms", NULL);
  }
  return 0;
}

static int parse_one(ctx_t *c, ain_source_cfg_t *s, const char *base_dir) {
  lua_State *L = c->L;
  if (lua_type(L, -1) != LUA_TTABLE) {
    return ain_err_field(c->err, AIN_ECONFIG, c->key, "%s: '%s' must be a table {name=, kind=, ...}",
                         c->where, c->key);
  }
  s->interval_ms = 60000;
  s->min_interval_ms = 1000;
  s->timeout_ms = 10000;
  s->max_bytes = 4 << 20;
  s->backoff_base_ms = 1000;
  s->backoff_max_ms = 600000;
  s->claim_idle_ms = 60000;
  s->batch = 100;
  int has_kind = 0;
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING) {
      lua_pop(L, 2);
      return ain_err_field(c->err, AIN_ECONFIG, c->key, "%s: '%s' has a key that is not a string",
                           c->where, c->key);
    }
    const char *k = lua_tostring(L, -2);
    has_kind |= strcmp(k, "kind") == 0;
    int rc = set_key(c, s, k, base_dir);
    lua_pop(L, 1);
    if (rc != 0) {
      lua_pop(L, 1);
      return rc;
    }
  }
  return finish(c, s, has_kind);
}

int ain_sources_config_parse(lua_State *L, ain_sources_config_t *sc, const char *where,
                             const char *base_dir, ain_err_t *err) {
  ain_sources_config_free(sc);
  if (lua_type(L, -1) != LUA_TTABLE) {
    return ain_err_field(err, AIN_ECONFIG, "sources",
                         "%s: 'sources' must be an array of tables {name=, kind=, ...}", where);
  }
  size_t n = lua_objlen(L, -1);
  size_t count = 0;
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    count++;
    lua_pop(L, 1);
  }
  if (count != n) {
    return ain_err_field(err, AIN_ECONFIG, "sources",
                         "%s: 'sources' must be an array (1..n), not a table with named keys",
                         where);
  }
  sc->list = calloc(n ? n : 1, sizeof *sc->list);
  if (sc->list == NULL) {
    abort();
  }
  for (size_t i = 0; i < n; i++) {
    ctx_t c = {.L = L, .where = where, .err = err};
    snprintf(c.key, sizeof c.key, "sources[%zu]", i + 1);
    lua_rawgeti(L, -1, (int)i + 1);
    sc->n = i + 1;
    int rc = parse_one(&c, &sc->list[i], base_dir);
    lua_pop(L, 1);
    if (rc != 0) {
      return rc;
    }
    for (size_t j = 0; j <= i; j++) {
      if ((j < i && strcmp(sc->list[j].name, sc->list[i].name) == 0) ||
          strcmp(sc->list[i].name, "trends") == 0) {
        return ain_err_field(err, AIN_ECONFIG, c.key,
                             "%s: '%s.name' \"%s\" is taken (names are unique; \"trends\" is "
                             "trends.source)",
                             where, c.key, sc->list[i].name);
      }
    }
  }
  return 0;
}
