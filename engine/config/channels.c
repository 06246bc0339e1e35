/* The `channels` table: named publish channels, each of a kind from engine/publish/kinds.c. The
 * keys every kind shares (kind, account, max_duration_ms, safe_area) are parsed and range-checked
 * here; the whole entry becomes JSON for the kind, whose check runs before the load succeeds.
 * Relies on: channels.h, LuaJIT, cJSON, publish/channel.h (ain_channel_kind). */
#include "config/channels.h"

#include <cjson/cJSON.h>
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/util.h"
#include "publish/kinds.h"

#define MAX_DEPTH 8

static void channel_free(ain_config_channel_t *c) {
  free(c->name);
  free(c->kind);
  free(c->account);
  cJSON_Delete(c->opts);
  memset(c, 0, sizeof *c);
}

static ain_config_channel_t *channel_add(ain_config_channels_t *cc, const char *name) {
  ain_config_channel_t *g = realloc(cc->list, (cc->n + 1) * sizeof *g);
  if (g == NULL) {
    abort();
  }
  cc->list = g;
  ain_config_channel_t *c = &g[cc->n++];
  memset(c, 0, sizeof *c);
  c->name = ain_strdup(name);
  c->max_duration_ms = 60000;
  c->safe_area = (ain_config_safe_area_t){.profile = "tiktok"}; /* parse_entry: by kind */
  c->opts = cJSON_CreateObject();
  return c;
}

void ain_config_channels_defaults(ain_config_channels_t *cc) {
  memset(cc, 0, sizeof *cc);
  ain_config_channel_t *c = channel_add(cc, "outbox");
  c->kind = ain_strdup("outbox");
  cJSON_AddStringToObject(c->opts, "kind", "outbox");
  cJSON_AddStringToObject(c->opts, "dir", "var/outbox");
}

void ain_config_channels_free(ain_config_channels_t *cc) {
  for (size_t i = 0; i < cc->n; i++) {
    channel_free(&cc->list[i]);
  }
  free(cc->list);
  memset(cc, 0, sizeof *cc);
}

const ain_config_channel_t *ain_config_channel(const ain_config_channels_t *cc, const char *name) {
  for (size_t i = 0; name != NULL && i < cc->n; i++) {
    if (strcmp(cc->list[i].name, name) == 0) {
      return &cc->list[i];
    }
  }
  return NULL;
}

const char *ain_config_channel_str(const ain_config_channel_t *c, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->opts, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

void ain_config_channels_frame(const ain_config_channels_t *cc, ain_config_safe_area_t *sa,
                               int64_t *max_duration_ms) {
  memset(sa, 0, sizeof *sa);
  *max_duration_ms = 0;
  for (size_t i = 0; i < cc->n; i++) {
    const ain_config_channel_t *c = &cc->list[i];
    sa->top = c->safe_area.top > sa->top ? c->safe_area.top : sa->top;
    sa->bottom = c->safe_area.bottom > sa->bottom ? c->safe_area.bottom : sa->bottom;
    sa->right = c->safe_area.right > sa->right ? c->safe_area.right : sa->right;
    sa->left = c->safe_area.left > sa->left ? c->safe_area.left : sa->left;
    if (*max_duration_ms == 0 || c->max_duration_ms < *max_duration_ms) {
      *max_duration_ms = c->max_duration_ms;
    }
  }
}

/* ---- Lua -> JSON --------------------------------------------------------------------------- */

/* A table whose keys are exactly 1..n is an array (n > 0); one with string keys an object. */
static int is_array(lua_State *L, int idx) {
  size_t n = lua_objlen(L, idx), count = 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    count++;
  }
  return n > 0 && count == n;
}

/* The value at the top of the stack as JSON, or NULL with err naming path. */
static cJSON *to_json(lua_State *L, const char *path, const char *where, int depth,
                      ain_err_t *err) {
  int t = lua_type(L, -1);
  if (t == LUA_TSTRING) {
    return cJSON_CreateString(lua_tostring(L, -1));
  }
  if (t == LUA_TBOOLEAN) {
    return cJSON_CreateBool(lua_toboolean(L, -1));
  }
  if (t == LUA_TNUMBER) {
    double d = lua_tonumber(L, -1);
    if (!isfinite(d)) {
      ain_err_field(err, AIN_ECONFIG, path, "%s: '%s' must be a finite number", where, path);
      return NULL;
    }
    return cJSON_CreateNumber(d);
  }
  if (t != LUA_TTABLE || depth >= MAX_DEPTH) {
    ain_err_field(err, AIN_ECONFIG, path,
                  "%s: '%s' must be a string, number, boolean or table (up to %d deep)", where,
                  path, MAX_DEPTH);
    return NULL;
  }
  int idx = lua_gettop(L);
  int arr = is_array(L, idx);
  cJSON *out = arr ? cJSON_CreateArray() : cJSON_CreateObject();
  if (arr) {
    for (size_t i = 1; i <= lua_objlen(L, idx); i++) {
      char sub[512];
      snprintf(sub, sizeof sub, "%s[%zu]", path, i);
      lua_rawgeti(L, idx, (int)i);
      cJSON *v = to_json(L, sub, where, depth + 1, err);
      lua_pop(L, 1);
      if (v == NULL) {
        cJSON_Delete(out);
        return NULL;
      }
      cJSON_AddItemToArray(out, v);
    }
    return out;
  }
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING) {
      lua_pop(L, 2);
      cJSON_Delete(out);
      ain_err_field(err, AIN_ECONFIG, path, "%s: '%s' has a key that is not a string", where,
                    path);
      return NULL;
    }
    char sub[512];
    snprintf(sub, sizeof sub, "%s.%s", path, lua_tostring(L, -2));
    cJSON *v = to_json(L, sub, where, depth + 1, err);
    if (v == NULL) {
      lua_pop(L, 2);
      cJSON_Delete(out);
      return NULL;
    }
    cJSON_AddItemToObject(out, lua_tostring(L, -2), v);
    lua_pop(L, 1);
  }
  return out;
}

/* ---- the shared keys ----------------------------------------------------------------------- */

static int name_ok(const char *s) {
  size_t n = strlen(s);
  return n >= 1 && n <= AIN_CONFIG_CHANNEL_NAME_MAX &&
         s[strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-")] == '\0';
}

/* An integer key of the entry: absent keeps *out; present must be an integer in [min, max]. */
static int int_key(const cJSON *o, const char *key, const char *path, int64_t min, int64_t max,
                   const char *where, int64_t *out, ain_err_t *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (v == NULL) {
    return 0;
  }
  if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < min ||
      v->valuedouble > max) {
    return ain_err_field(err, AIN_ECONFIG, path, "%s: '%s' must be an integer from %lld to %lld",
                         where, path, (long long)min, (long long)max);
  }
  *out = (int64_t)v->valuedouble;
  return 0;
}

static int shared_keys(ain_config_channel_t *c, const char *where, ain_err_t *err) {
  char path[256];
  const cJSON *kind = cJSON_GetObjectItemCaseSensitive(c->opts, "kind");
  snprintf(path, sizeof path, "channels.%s.kind", c->name);
  if (kind == NULL && c->kind == NULL) {
    return ain_err_field(err, AIN_ECONFIG, path,
                         "%s: '%s' is required (outbox, youtube, tiktok, instagram or webhook)",
                         where, path);
  }
  if (kind != NULL && !cJSON_IsString(kind)) {
    return ain_err_field(err, AIN_ECONFIG, path, "%s: '%s' must be a string", where, path);
  }
  if (kind != NULL) {
    free(c->kind);
    c->kind = ain_strdup(kind->valuestring);
  } else {
    cJSON_AddStringToObject(c->opts, "kind", c->kind);
  }
  if (ain_channel_kind(c->kind) == NULL) {
    return ain_err_field(err, AIN_ECONFIG, path,
                         "%s: '%s' names no channel kind: '%s' (known: %s)", where, path, c->kind,
                         ain_channel_kind_names());
  }
  /* the UI bands of the platform the kind posts to; a safe_area.profile key overrides it */
  snprintf(c->safe_area.profile, sizeof c->safe_area.profile, "%s",
           strcmp(c->kind, "youtube") == 0     ? "shorts"
           : strcmp(c->kind, "instagram") == 0 ? "reels"
                                               : "tiktok");
  const cJSON *acct = cJSON_GetObjectItemCaseSensitive(c->opts, "account");
  snprintf(path, sizeof path, "channels.%s.account", c->name);
  if (acct != NULL && (!cJSON_IsString(acct) || acct->valuestring[0] == '\0' ||
                       strlen(acct->valuestring) > 128)) {
    return ain_err_field(err, AIN_ECONFIG, path, "%s: '%s' must be a string of 1 to 128 bytes",
                         where, path);
  }
  free(c->account);
  c->account = acct != NULL ? ain_strdup(acct->valuestring) : NULL;
  snprintf(path, sizeof path, "channels.%s.max_duration_ms", c->name);
  int rc = int_key(c->opts, "max_duration_ms", path, 1000, 86400000, where, &c->max_duration_ms,
                   err);
  if (rc != 0) {
    return rc;
  }
  const cJSON *sa = cJSON_GetObjectItemCaseSensitive(c->opts, "safe_area");
  if (sa != NULL) {
    snprintf(path, sizeof path, "channels.%s.safe_area", c->name);
    if (!cJSON_IsObject(sa)) {
      return ain_err_field(err, AIN_ECONFIG, path, "%s: '%s' must be a table", where, path);
    }
    static const char *const sides[] = {"top", "bottom", "right", "left"};
    int64_t *slots[] = {&c->safe_area.top, &c->safe_area.bottom, &c->safe_area.right,
                        &c->safe_area.left};
    const cJSON *it;
    cJSON_ArrayForEach(it, sa) {
      if (strcmp(it->string, "profile") == 0) {
        snprintf(path, sizeof path, "channels.%s.safe_area.profile", c->name);
        if (!cJSON_IsString(it) || !ain_config_safe_profile_known(it->valuestring)) {
          return ain_err_field(err, AIN_ECONFIG, path,
                               "%s: '%s' must be tiktok, reels or shorts", where, path);
        }
        snprintf(c->safe_area.profile, sizeof c->safe_area.profile, "%s", it->valuestring);
        continue;
      }
      size_t i = 0;
      while (i < 4 && strcmp(it->string, sides[i]) != 0) {
        i++;
      }
      snprintf(path, sizeof path, "channels.%s.safe_area.%s", c->name, it->string);
      if (i == 4) {
        return ain_err_field(err, AIN_ECONFIG, path,
                             "%s: unknown key '%s' (profile, top, bottom, right, left)", where,
                             path);
      }
      if ((rc = int_key(sa, sides[i], path, 0, 4096, where, slots[i], err)) != 0) {
        return rc;
      }
    }
  }
  return 0;
}

/* One entry (the table at the top of the stack) merged into the channel called name. */
static int parse_entry(lua_State *L, ain_config_channels_t *cc, const char *name,
                       const char *where, const char *base_dir, ain_err_t *err) {
  char path[256];
  snprintf(path, sizeof path, "channels.%s", name);
  if (!name_ok(name)) {
    return ain_err_field(err, AIN_ECONFIG, path,
                         "%s: channel name '%s' must be 1 to %d of a-z 0-9 _ -", where, name,
                         AIN_CONFIG_CHANNEL_NAME_MAX);
  }
  if (!lua_istable(L, -1)) {
    return ain_err_field(err, AIN_ECONFIG, path, "%s: '%s' must be a table", where, path);
  }
  cJSON *o = to_json(L, path, where, 1, err);
  if (o == NULL) {
    return AIN_ECONFIG;
  }
  if (!cJSON_IsObject(o)) {
    cJSON_Delete(o);
    return ain_err_field(err, AIN_ECONFIG, path, "%s: '%s' must be a table of named keys", where,
                         path);
  }
  /* dir is a path: relative to the config file's folder, like every other path */
  cJSON *dir = cJSON_GetObjectItemCaseSensitive(o, "dir");
  if (cJSON_IsString(dir) && dir->valuestring[0] != '/' && base_dir != NULL &&
      strcmp(base_dir, ".") != 0 && dir->valuestring[0] != '\0') {
    size_t n = strlen(base_dir) + strlen(dir->valuestring) + 2;
    char *p = malloc(n);
    if (p == NULL) {
      abort();
    }
    snprintf(p, n, "%s/%s", base_dir, dir->valuestring);
    cJSON_ReplaceItemInObjectCaseSensitive(o, "dir", cJSON_CreateString(p));
    free(p);
  }
  ain_config_channel_t *c = (ain_config_channel_t *)ain_config_channel(cc, name);
  if (c == NULL) {
    c = channel_add(cc, name);
  }
  /* merge: the file's keys over the defaults' (the default outbox keeps dir unless given) */
  cJSON *it;
  cJSON_ArrayForEach(it, o) {
    cJSON_DeleteItemFromObjectCaseSensitive(c->opts, it->string);
  }
  while (o->child != NULL) {
    cJSON *first = cJSON_DetachItemViaPointer(o, o->child);
    cJSON_AddItemToObject(c->opts, first->string, first);
  }
  cJSON_Delete(o);
  return shared_keys(c, where, err);
}

int ain_config_channels_parse(lua_State *L, ain_config_channels_t *cc, const char *where,
                              const char *base_dir, ain_err_t *err) {
  if (!lua_istable(L, -1)) {
    return ain_err_field(err, AIN_ECONFIG, "channels", "%s: 'channels' must be a table", where);
  }
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING) {
      lua_pop(L, 2);
      return ain_err_field(err, AIN_ECONFIG, "channels",
                           "%s: 'channels' has a key that is not a channel name", where);
    }
    int rc = parse_entry(L, cc, lua_tostring(L, -2), where, base_dir, err);
    lua_pop(L, 1);
    if (rc != 0) {
      lua_pop(L, 1);
      return rc;
    }
  }
  for (size_t i = 0; i < cc->n; i++) {
    const ain_config_channel_t *c = &cc->list[i];
    const ain_channel_kind_t *k = ain_channel_kind(c->kind);
    int rc = k->check(c->name, c->opts, err);
    if (rc != 0) {
      ain_err_prefix(err, "%s", where);
      return rc;
    }
  }
  return 0;
}
