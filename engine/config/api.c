/* The `api` config table (config/api.h): defaults, parsing with errors that name the key, and the
 * client-certificate subject -> role map. Relies on: LuaJIT, core/util.h. */
#include "config/api.h"

#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/secret.h"
#include "core/util.h"

static const char *const role_names[] = {"none", "viewer", "reviewer", "operator", "admin"};

ain_role_t ain_role_parse(const char *s) {
  for (int i = AIN_ROLE_VIEWER; i <= AIN_ROLE_ADMIN; i++) {
    if (s != NULL && strcmp(s, role_names[i]) == 0) {
      return (ain_role_t)i;
    }
  }
  return AIN_ROLE_NONE;
}

const char *ain_role_name(ain_role_t r) {
  return r >= AIN_ROLE_NONE && r <= AIN_ROLE_ADMIN ? role_names[r] : "none";
}

int64_t ain_duration_s(const char *s) {
  if (s == NULL || *s < '0' || *s > '9') {
    return -1;
  }
  char *end = NULL;
  double v = strtod(s, &end);
  int64_t mul = 1;
  if (*end == 's') {
    end++;
  } else if (*end == 'm') {
    mul = 60, end++;
  } else if (*end == 'h') {
    mul = 3600, end++;
  } else if (*end == 'd') {
    mul = 86400, end++;
  }
  if (*end != '\0' || v != floor(v) || v > 1e9) {
    return -1;
  }
  return (int64_t)v * mul;
}

void ain_api_config_defaults(ain_api_config_t *ac) {
  memset(ac, 0, sizeof *ac);
  ac->enabled = 1;
  ac->listen = ain_strdup("127.0.0.1:8080");
  ac->max_connections = 256;
  ac->max_body_bytes = (1 << 20) + (64 << 10);
  ac->max_header_bytes = 16384;
  ac->request_timeout_ms = 10000;
  ac->workers = 2;
  ac->max_token_ttl_s = 3600;
  ac->media_ticket_ttl_s = 600;
  ac->events_poll_ms = 500;
  ac->max_event_streams = 64;
}

void ain_api_config_free(ain_api_config_t *ac) {
  free(ac->listen);
  free(ac->jwt.alg);
  free(ac->jwt.secret);
  free(ac->jwt.public_key);
  free(ac->jwt.private_key);
  free(ac->tls.cert);
  free(ac->tls.key);
  free(ac->tls.client_ca);
  for (size_t i = 0; i < ac->tls.nroles; i++) {
    free(ac->tls.roles[i].subject);
  }
  free(ac->tls.roles);
  memset(ac, 0, sizeof *ac);
}

ain_role_t ain_api_config_subject_role(const ain_api_config_t *ac, const char *subject) {
  for (size_t i = 0; subject != NULL && i < ac->tls.nroles; i++) {
    if (strcmp(ac->tls.roles[i].subject, subject) == 0) {
      return ac->tls.roles[i].role;
    }
  }
  return AIN_ROLE_NONE;
}

static int set_path(lua_State *L, char **slot, const char *key, const char *where,
                    const char *base_dir, ain_err_t *err) {
  if (lua_type(L, -1) != LUA_TSTRING || lua_objlen(L, -1) == 0) {
    return ain_err_field(err, AIN_ECONFIG, key, "%s: '%s' must be a non-empty string (a file)",
                         where, key);
  }
  const char *p = lua_tostring(L, -1);
  size_t n = strlen(base_dir) + strlen(p) + 2;
  char *v = malloc(n);
  if (v == NULL) {
    abort();
  }
  snprintf(v, n, "%s%s%s", p[0] == '/' ? "" : base_dir, p[0] == '/' ? "" : "/", p);
  free(*slot);
  *slot = v;
  if (access(v, R_OK) != 0) {
    return ain_err_field(err, AIN_ECONFIG, key, "%s: '%s': cannot read %s", where, key, v);
  }
  return 0;
}

static int set_int(lua_State *L, int64_t *slot, const char *key, int64_t min, int64_t max,
                   const char *where, ain_err_t *err) {
  double d = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : NAN;
  if (d != floor(d) || d < (double)min || d > (double)max) {
    return ain_err_field(err, AIN_ECONFIG, key, "%s: '%s' must be an integer from %lld to %lld",
                         where, key, (long long)min, (long long)max);
  }
  *slot = (int64_t)d;
  return 0;
}

/* A duration ("90s", "15m", "1h", or a whole number of seconds) from 1 s to max_s. */
static int set_duration(lua_State *L, int64_t *slot, const char *key, int64_t max_s,
                        const char *max_name, const char *where, ain_err_t *err) {
  int t = lua_type(L, -1);
  int64_t s = -1;
  if (t == LUA_TNUMBER) {
    double d = lua_tonumber(L, -1);
    s = d == floor(d) ? (int64_t)fmin(d, 1e12) : -1;
  } else if (t == LUA_TSTRING) {
    s = ain_duration_s(lua_tostring(L, -1));
  }
  if (s < 1 || s > max_s) {
    return ain_err_field(err, AIN_ECONFIG, key,
                         "%s: '%s' must be a duration from 1s to %s (\"15m\", \"1h\", or "
                         "seconds)", where, key, max_name);
  }
  *slot = s;
  return 0;
}

static int parse_jwt(lua_State *L, ain_api_config_t *ac, const char *where, const char *base_dir,
                     ain_err_t *err) {
  if (!lua_istable(L, -1)) {
    return ain_err_field(err, AIN_ECONFIG, "api.jwt", "%s: 'api.jwt' must be a table", where);
  }
  int rc = 0;
  lua_pushnil(L);
  while (rc == 0 && lua_next(L, -2) != 0) {
    const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
    char key[160];
    snprintf(key, sizeof key, "api.jwt.%s", name);
    if (strcmp(name, "alg") == 0 || strcmp(name, "secret") == 0) {
      const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
      if (strcmp(name, "alg") == 0 && (v == NULL || (strcmp(v, "HS256") != 0 &&
                                                     strcmp(v, "RS256") != 0 &&
                                                     strcmp(v, "ES256") != 0))) {
        rc = ain_err_field(err, AIN_ECONFIG, key, "%s: '%s' must be \"HS256\", \"RS256\" or "
                           "\"ES256\"", where, key);
      } else if (strcmp(name, "secret") == 0 && (v == NULL || !ain_secret_name_ok(v, strlen(v)))) {
        rc = ain_err_field(err, AIN_ECONFIG, key, "%s: '%s' must be a secret's name (1..64 of "
                           "A-Z a-z 0-9 _ - .)", where, key);
      } else {
        char **slot = strcmp(name, "alg") == 0 ? &ac->jwt.alg : &ac->jwt.secret;
        free(*slot);
        *slot = ain_strdup(v);
      }
    } else if (strcmp(name, "public_key") == 0) {
      rc = set_path(L, &ac->jwt.public_key, key, where, base_dir, err);
    } else if (strcmp(name, "private_key") == 0) {
      rc = set_path(L, &ac->jwt.private_key, key, where, base_dir, err);
    } else {
      rc = ain_err_field(err, AIN_ECONFIG, key,
                         "%s: unknown key '%s' (alg, secret, public_key, private_key)", where, key);
    }
    lua_pop(L, 1);
  }
  if (rc != 0) {
    lua_pop(L, 1);
    return rc;
  }
  const char *alg = ac->jwt.alg;
  if (alg == NULL) {
    return ain_err_field(err, AIN_ECONFIG, "api.jwt.alg", "%s: 'api.jwt.alg' is required", where);
  }
  if (strcmp(alg, "HS256") == 0 && (ac->jwt.secret == NULL || ac->jwt.public_key != NULL)) {
    return ain_err_field(err, AIN_ECONFIG, "api.jwt.secret",
                         "%s: 'api.jwt.alg' HS256 takes 'api.jwt.secret' (a secret's name) and no "
                         "public_key", where);
  }
  if (strcmp(alg, "HS256") != 0 && (ac->jwt.public_key == NULL || ac->jwt.secret != NULL)) {
    return ain_err_field(err, AIN_ECONFIG, "api.jwt.public_key",
                         "%s: 'api.jwt.alg' %s takes 'api.jwt.public_key' (a PEM file) and no "
                         "secret", where, alg);
  }
  return 0;
}

static int parse_roles(lua_State *L, ain_api_config_t *ac, const char *where, ain_err_t *err) {
  if (!lua_istable(L, -1)) {
    return ain_err_field(err, AIN_ECONFIG, "api.tls.roles",
                         "%s: 'api.tls.roles' must be a table of subject = role", where);
  }
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    char key[300];
    const char *subject = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    snprintf(key, sizeof key, "api.tls.roles[\"%.200s\"]", subject ? subject : "?");
    ain_role_t role = lua_type(L, -1) == LUA_TSTRING ? ain_role_parse(lua_tostring(L, -1))
                                                     : AIN_ROLE_NONE;
    if (subject == NULL || subject[0] == '\0' || role == AIN_ROLE_NONE) {
      lua_pop(L, 2);
      return ain_err_field(err, AIN_ECONFIG, key,
                           "%s: '%s' must map a subject (string) to viewer, reviewer, operator "
                           "or admin", where, key);
    }
    ain_api_subject_role_t *nr =
        realloc(ac->tls.roles, (ac->tls.nroles + 1) * sizeof *ac->tls.roles);
    if (nr == NULL) {
      abort();
    }
    ac->tls.roles = nr;
    nr[ac->tls.nroles].subject = ain_strdup(subject);
    nr[ac->tls.nroles].role = role;
    ac->tls.nroles++;
    lua_pop(L, 1);
  }
  return 0;
}

static int parse_tls(lua_State *L, ain_api_config_t *ac, const char *where, const char *base_dir,
                     ain_err_t *err) {
  if (!lua_istable(L, -1)) {
    return ain_err_field(err, AIN_ECONFIG, "api.tls", "%s: 'api.tls' must be a table", where);
  }
  int rc = 0;
  lua_pushnil(L);
  while (rc == 0 && lua_next(L, -2) != 0) {
    const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
    char key[160];
    snprintf(key, sizeof key, "api.tls.%s", name);
    if (strcmp(name, "cert") == 0) {
      rc = set_path(L, &ac->tls.cert, key, where, base_dir, err);
    } else if (strcmp(name, "key") == 0) {
      rc = set_path(L, &ac->tls.key, key, where, base_dir, err);
    } else if (strcmp(name, "client_ca") == 0) {
      rc = set_path(L, &ac->tls.client_ca, key, where, base_dir, err);
    } else if (strcmp(name, "roles") == 0) {
      rc = parse_roles(L, ac, where, err);
    } else {
      rc = ain_err_field(err, AIN_ECONFIG, key,
                         "%s: unknown key '%s' (cert, key, client_ca, roles)", where, key);
    }
    lua_pop(L, 1);
  }
  if (rc != 0) {
    lua_pop(L, 1);
    return rc;
  }
  if (ac->tls.cert == NULL || ac->tls.key == NULL) {
    return ain_err_field(err, AIN_ECONFIG, ac->tls.cert ? "api.tls.key" : "api.tls.cert",
                         "%s: 'api.tls' needs both 'cert' and 'key'", where);
  }
  if (ac->tls.nroles > 0 && ac->tls.client_ca == NULL) {
    return ain_err_field(err, AIN_ECONFIG, "api.tls.client_ca",
                         "%s: 'api.tls.roles' maps client certificates: set 'api.tls.client_ca'",
                         where);
  }
  return 0;
}

static int check_listen(const char *v) {
  const char *colon = strrchr(v, ':');
  if (colon == NULL || colon == v || colon[1] == '\0') {
    return -1;
  }
  char *end = NULL;
  long port = strtol(colon + 1, &end, 10);
  return *end == '\0' && port >= 0 && port <= 65535 ? 0 : -1;
}

int ain_api_config_parse(lua_State *L, ain_api_config_t *ac, const char *where,
                         const char *base_dir, ain_err_t *err) {
  if (!lua_istable(L, -1)) {
    return ain_err_field(err, AIN_ECONFIG, "api", "%s: 'api' must be a table, got %s", where,
                         luaL_typename(L, -1));
  }
  int rc = 0;
  lua_pushnil(L);
  while (rc == 0 && lua_next(L, -2) != 0) {
    const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
    char key[160];
    snprintf(key, sizeof key, "api.%s", name);
    if (strcmp(name, "enabled") == 0) {
      if (lua_type(L, -1) != LUA_TBOOLEAN) {
        rc = ain_err_field(err, AIN_ECONFIG, key, "%s: '%s' must be a boolean", where, key);
      } else {
        ac->enabled = lua_toboolean(L, -1);
      }
    } else if (strcmp(name, "listen") == 0) {
      if (lua_type(L, -1) != LUA_TSTRING || check_listen(lua_tostring(L, -1)) != 0) {
        rc = ain_err_field(err, AIN_ECONFIG, key,
                           "%s: '%s' must be \"host:port\" (port 0..65535), e.g. "
                           "\"127.0.0.1:8080\"", where, key);
      } else {
        free(ac->listen);
        ac->listen = ain_strdup(lua_tostring(L, -1));
      }
    } else if (strcmp(name, "max_connections") == 0) {
      rc = set_int(L, &ac->max_connections, key, 1, 100000, where, err);
    } else if (strcmp(name, "max_body_bytes") == 0) {
      rc = set_int(L, &ac->max_body_bytes, key, 1024, 64LL << 20, where, err);
    } else if (strcmp(name, "max_header_bytes") == 0) {
      rc = set_int(L, &ac->max_header_bytes, key, 1024, 256 << 10, where, err);
    } else if (strcmp(name, "request_timeout_ms") == 0) {
      rc = set_int(L, &ac->request_timeout_ms, key, 100, 600000, where, err);
    } else if (strcmp(name, "workers") == 0) {
      rc = set_int(L, &ac->workers, key, 1, 64, where, err);
    } else if (strcmp(name, "events_poll_ms") == 0) {
      rc = set_int(L, &ac->events_poll_ms, key, 50, 60000, where, err);
    } else if (strcmp(name, "max_event_streams") == 0) {
      rc = set_int(L, &ac->max_event_streams, key, 0, 10000, where, err);
    } else if (strcmp(name, "max_token_ttl") == 0) {
      rc = set_duration(L, &ac->max_token_ttl_s, key, AIN_API_MAX_TOKEN_TTL_S_MAX, "7d", where,
                        err);
    } else if (strcmp(name, "metrics_public") == 0) {
      if (lua_type(L, -1) != LUA_TBOOLEAN) {
        rc = ain_err_field(err, AIN_ECONFIG, key, "%s: '%s' must be a boolean", where, key);
      } else {
        ac->metrics_public = lua_toboolean(L, -1);
      }
    } else if (strcmp(name, "media_ticket_ttl") == 0) {
      rc = set_duration(L, &ac->media_ticket_ttl_s, key, AIN_API_MEDIA_TICKET_TTL_S_MAX, "1d",
                        where, err);
    } else if (strcmp(name, "jwt") == 0) {
      rc = parse_jwt(L, ac, where, base_dir, err);
    } else if (strcmp(name, "tls") == 0) {
      rc = parse_tls(L, ac, where, base_dir, err);
    } else {
      rc = ain_err_field(err, AIN_ECONFIG, key,
                         "%s: unknown key '%s' (enabled, listen, max_connections, max_body_bytes, "
                         "max_header_bytes, request_timeout_ms, workers, events_poll_ms, "
                         "max_event_streams, max_token_ttl, media_ticket_ttl, metrics_public, "
                         "jwt, tls)",
                         where, key);
    }
    lua_pop(L, 1);
  }
  if (rc != 0) {
    lua_pop(L, 1);
  }
  return rc;
}
