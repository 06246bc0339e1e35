/* The `objstore` config table (config/objstore.h): defaults, parsing and validation with errors
 * that name the key. Relies on: LuaJIT, core/secret.h (secret names), core/util.h. */
#include "config/objstore.h"

#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/secret.h"
#include "core/util.h"

/* S3's storage classes a tier may name (the API refuses any other). */
static const char *const storage_classes[] = {"STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
                                              "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE",
                                              "REDUCED_REDUNDANCY", NULL};

void ain_objstore_config_defaults(ain_objstore_config_t *oc) {
  memset(oc, 0, sizeof *oc);
  oc->kind = ain_strdup("dir");
  oc->s3.region = ain_strdup("us-east-1");
  oc->s3.multipart_threshold_mb = 64;
  oc->s3.part_size_mb = 16;
  oc->s3.timeout_ms = 120000;
  oc->s3.retries = 3;
  oc->s3.tier_storage_class = ain_strdup("STANDARD_IA");
  oc->s3.tier_interval_ms = 3600000;
}

void ain_objstore_config_free(ain_objstore_config_t *oc) {
  free(oc->kind);
  free(oc->s3.endpoint);
  free(oc->s3.bucket);
  free(oc->s3.region);
  free(oc->s3.access_key_secret);
  free(oc->s3.secret_key_secret);
  free(oc->s3.cache_dir);
  free(oc->s3.tier_storage_class);
  memset(oc, 0, sizeof *oc);
}

typedef enum { T_STR, T_INT, T_BOOL, T_PATH } kind_t;

typedef struct {
  const char *name; /* under objstore.s3 (or "kind" at the top) */
  kind_t kind;
  size_t off;
  int64_t min, max;
} field_t;

#define OFF(f) offsetof(ain_objstore_config_t, f)
static const field_t s3_fields[] = {
    {"endpoint", T_STR, OFF(s3.endpoint), 0, 0},
    {"bucket", T_STR, OFF(s3.bucket), 0, 0},
    {"region", T_STR, OFF(s3.region), 0, 0},
    {"path_style", T_BOOL, OFF(s3.path_style), 0, 0},
    {"access_key_secret", T_STR, OFF(s3.access_key_secret), 0, 0},
    {"secret_key_secret", T_STR, OFF(s3.secret_key_secret), 0, 0},
    {"multipart_threshold_mb", T_INT, OFF(s3.multipart_threshold_mb), 5, 1 << 20},
    {"part_size_mb", T_INT, OFF(s3.part_size_mb), 5, 5120},
    {"timeout_ms", T_INT, OFF(s3.timeout_ms), 100, 86400000},
    {"retries", T_INT, OFF(s3.retries), 0, 10},
    {"cache_dir", T_PATH, OFF(s3.cache_dir), 0, 0},
};
#undef OFF

static int set_field(lua_State *L, ain_objstore_config_t *oc, const field_t *f, const char *where,
                     const char *base_dir, ain_err_t *err) {
  char key[96];
  snprintf(key, sizeof key, "objstore.s3.%s", f->name);
  char *slot = (char *)oc + f->off;
  int t = lua_type(L, -1);
  switch (f->kind) {
  case T_STR:
  case T_PATH: {
    if (t != LUA_TSTRING || lua_objlen(L, -1) == 0) {
      return ain_err_field(err, AIN_ECONFIG, key, "%s: '%s' must be a non-empty string", where,
                           key);
    }
    const char *v = lua_tostring(L, -1);
    char **s = (char **)slot;
    free(*s);
    if (f->kind == T_PATH && v[0] != '/' && base_dir != NULL && strcmp(base_dir, ".") != 0) {
      size_t n = strlen(base_dir) + strlen(v) + 2;
      *s = malloc(n);
      if (*s == NULL) {
        return ain_err_set(err, AIN_ENOMEM, "%s: no memory", key);
      }
      snprintf(*s, n, "%s/%s", base_dir, v);
    } else {
      *s = ain_strdup(v);
    }
    return 0;
  }
  case T_INT: {
    lua_Number v = lua_tonumber(L, -1);
    if (t != LUA_TNUMBER || v != (lua_Number)(int64_t)v || v < (lua_Number)f->min ||
        v > (lua_Number)f->max) {
      return ain_err_field(err, AIN_ECONFIG, key, "%s: '%s' must be an integer in %lld..%lld",
                           where, key, (long long)f->min, (long long)f->max);
    }
    *(int64_t *)slot = (int64_t)v;
    return 0;
  }
  case T_BOOL:
    if (t != LUA_TBOOLEAN) {
      return ain_err_field(err, AIN_ECONFIG, key, "%s: '%s' must be a boolean", where, key);
    }
    *(int *)slot = lua_toboolean(L, -1);
    return 0;
  }
  return 0;
}

static int parse_tier(lua_State *L, ain_objstore_config_t *oc, const char *where,
                      ain_err_t *err) {
  if (!lua_istable(L, -1)) {
    return ain_err_field(err, AIN_ECONFIG, "objstore.s3.tier", "%s: 'objstore.s3.tier' must be a "
                         "table { after_days = N, storage_class = \"...\", interval_ms = N }", where);
  }
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
    lua_Number v = lua_tonumber(L, -1);
    if (strcmp(k, "after_days") == 0) {
      if (lua_type(L, -1) != LUA_TNUMBER || v != (lua_Number)(int64_t)v || v < 0 || v > 36500) {
        lua_pop(L, 2);
        return ain_err_field(err, AIN_ECONFIG, "objstore.s3.tier.after_days",
                             "%s: 'objstore.s3.tier.after_days' must be an integer in 0..36500",
                             where);
      }
      oc->s3.tier_after_days = (int64_t)v;
    } else if (strcmp(k, "interval_ms") == 0) {
      /* the sweep reads the store and heads objects: not more often than once a second */
      if (lua_type(L, -1) != LUA_TNUMBER || v != (lua_Number)(int64_t)v || v < 1000 ||
          v > 604800000) {
        lua_pop(L, 2);
        return ain_err_field(err, AIN_ECONFIG, "objstore.s3.tier.interval_ms",
                             "%s: 'objstore.s3.tier.interval_ms' must be an integer in "
                             "1000..604800000 (1 s .. 7 days)", where);
      }
      oc->s3.tier_interval_ms = (int64_t)v;
    } else if (strcmp(k, "storage_class") == 0) {
      const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
      size_t i = 0;
      while (storage_classes[i] != NULL && strcmp(storage_classes[i], s) != 0) {
        i++;
      }
      if (storage_classes[i] == NULL) {
        lua_pop(L, 2);
        return ain_err_field(err, AIN_ECONFIG, "objstore.s3.tier.storage_class",
                             "%s: 'objstore.s3.tier.storage_class' must be one of STANDARD_IA, "
                             "ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, GLACIER, "
                             "DEEP_ARCHIVE, REDUCED_REDUNDANCY", where);
      }
      free(oc->s3.tier_storage_class);
      oc->s3.tier_storage_class = ain_strdup(s);
    } else {
      lua_pop(L, 2);
      return ain_err_field(err, AIN_ECONFIG, "objstore.s3.tier", "%s: unknown key "
                           "'objstore.s3.tier.%s'", where, k);
    }
    lua_pop(L, 1);
  }
  return 0;
}

static int parse_s3(lua_State *L, ain_objstore_config_t *oc, const char *where,
                    const char *base_dir, ain_err_t *err) {
  if (!lua_istable(L, -1)) {
    return ain_err_field(err, AIN_ECONFIG, "objstore.s3", "%s: 'objstore.s3' must be a table",
                         where);
  }
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
    int rc = 0;
    if (strcmp(k, "tier") == 0) {
      rc = parse_tier(L, oc, where, err);
    } else {
      size_t i = 0, n = sizeof s3_fields / sizeof s3_fields[0];
      while (i < n && strcmp(s3_fields[i].name, k) != 0) {
        i++;
      }
      rc = i < n ? set_field(L, oc, &s3_fields[i], where, base_dir, err)
                 : ain_err_field(err, AIN_ECONFIG, "objstore.s3", "%s: unknown key "
                                 "'objstore.s3.%s'", where, k);
    }
    lua_pop(L, 1);
    if (rc != 0) {
      lua_pop(L, 1);
      return rc;
    }
  }
  return 0;
}

/* The whole after parsing: what an "s3" store cannot open without. */
static int validate(const ain_objstore_config_t *oc, const char *where, ain_err_t *err) {
  if (strcmp(oc->kind, "dir") == 0) {
    return 0;
  }
  if (strcmp(oc->kind, "s3") != 0) {
    return ain_err_field(err, AIN_ECONFIG, "objstore.kind",
                         "%s: 'objstore.kind' must be \"dir\" or \"s3\", not \"%s\"", where,
                         oc->kind);
  }
  const char *need[][2] = {{"endpoint", oc->s3.endpoint},
                           {"bucket", oc->s3.bucket},
                           {"access_key_secret", oc->s3.access_key_secret},
                           {"secret_key_secret", oc->s3.secret_key_secret}};
  for (size_t i = 0; i < 4; i++) {
    if (need[i][1] == NULL) {
      char key[64];
      snprintf(key, sizeof key, "objstore.s3.%s", need[i][0]);
      return ain_err_field(err, AIN_ECONFIG, key, "%s: objstore.kind = \"s3\" needs '%s'", where,
                           key);
    }
  }
  const char *e = oc->s3.endpoint;
  const char *host = strncmp(e, "https://", 8) == 0 ? e + 8
                     : strncmp(e, "http://", 7) == 0 ? e + 7
                                                      : NULL;
  if (host == NULL || host[0] == '\0' || strpbrk(host, "/?#@ ") != NULL) {
    return ain_err_field(err, AIN_ECONFIG, "objstore.s3.endpoint",
                         "%s: 'objstore.s3.endpoint' must be http(s)://host[:port] without a "
                         "path, not \"%s\"", where, e);
  }
  /* S3 bucket names: 3..63 of a-z 0-9 . -, starting and ending with a letter or digit. */
  const char *b = oc->s3.bucket;
  size_t bl = strlen(b);
  if (bl < 3 || bl > 63 || strspn(b, "abcdefghijklmnopqrstuvwxyz0123456789.-") != bl ||
      b[0] == '.' || b[0] == '-' || b[bl - 1] == '.' || b[bl - 1] == '-') {
    return ain_err_field(err, AIN_ECONFIG, "objstore.s3.bucket",
                         "%s: 'objstore.s3.bucket' \"%s\" is not a valid bucket name (3..63 of "
                         "a-z 0-9 . -)", where, b);
  }
  if (strspn(oc->s3.region, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(oc->s3.region)) {
    return ain_err_field(err, AIN_ECONFIG, "objstore.s3.region",
                         "%s: 'objstore.s3.region' \"%s\" is not a region name", where,
                         oc->s3.region);
  }
  const char *sec[][2] = {{"objstore.s3.access_key_secret", oc->s3.access_key_secret},
                          {"objstore.s3.secret_key_secret", oc->s3.secret_key_secret}};
  for (size_t i = 0; i < 2; i++) {
    if (!ain_secret_name_ok(sec[i][1], strlen(sec[i][1]))) {
      return ain_err_field(err, AIN_ECONFIG, sec[i][0],
                           "%s: '%s' must name a secret (1..64 of A-Z a-z 0-9 _ - .)", where,
                           sec[i][0]);
    }
  }
  if (oc->s3.part_size_mb > oc->s3.multipart_threshold_mb) {
    return ain_err_field(err, AIN_ECONFIG, "objstore.s3.part_size_mb",
                         "%s: 'objstore.s3.part_size_mb' (%lld) must not exceed "
                         "'objstore.s3.multipart_threshold_mb' (%lld)", where,
                         (long long)oc->s3.part_size_mb,
                         (long long)oc->s3.multipart_threshold_mb);
  }
  return 0;
}

int ain_objstore_config_parse(lua_State *L, ain_objstore_config_t *oc, const char *where,
                              const char *base_dir, ain_err_t *err) {
  if (!lua_istable(L, -1)) {
    return ain_err_field(err, AIN_ECONFIG, "objstore", "%s: 'objstore' must be a table", where);
  }
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
    int rc = 0;
    if (strcmp(k, "kind") == 0) {
      if (lua_type(L, -1) != LUA_TSTRING) {
        rc = ain_err_field(err, AIN_ECONFIG, "objstore.kind",
                           "%s: 'objstore.kind' must be \"dir\" or \"s3\"", where);
      } else {
        free(oc->kind);
        oc->kind = ain_strdup(lua_tostring(L, -1));
      }
    } else if (strcmp(k, "s3") == 0) {
      rc = parse_s3(L, oc, where, base_dir, err);
    } else {
      rc = ain_err_field(err, AIN_ECONFIG, "objstore", "%s: unknown key 'objstore.%s'", where, k);
    }
    lua_pop(L, 1);
    if (rc != 0) {
      lua_pop(L, 1);
      return rc;
    }
  }
  return validate(oc, where, err);
}
