/* The `spawn` config key: parsing, validation and matching of the ain.spawn allowlist
 * (config/spawn.h). Validation happens once at load so a policy can never find a half-checked
 * entry: the path is absolute, exists, is a regular executable file and does not resolve (through
 * symlinks) to a shell or an interpreter; every pattern compiles.
 * Relies on: LuaJIT (lua_next over the config table), POSIX regex, realpath, access. */
#include "config/spawn.h"

#include <ctype.h>
#include <lauxlib.h>
#include <limits.h>
#include <lua.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

#define SPAWN_MAX_ARGS_DEFAULT 32
#define SPAWN_MAX_ARGS_LIMIT 4096

static const ain_spawn_limits_t default_limits = {
    .cpu_s = 60, .memory_mb = 1024, .file_mb = 1024, .procs = 256, .open_files = 256};

void ain_spawn_config_defaults(ain_spawn_config_t *sc) {
  memset(sc, 0, sizeof *sc);
  sc->limits = default_limits;
  sc->timeout_ms = 60000;
  sc->env = calloc(1, sizeof *sc->env);
  if (sc->env == NULL) {
    abort();
  }
  sc->env[0] = ain_strdup("PATH=/usr/local/bin:/usr/bin:/bin");
  sc->nenv = 1;
}

static void free_strv(char **v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(v[i]);
  }
  free(v);
}

static void entry_free(ain_spawn_entry_t *e) {
  free(e->path);
  free(e->real);
  for (size_t i = 0; i < e->nargs; i++) {
    if (e->args_re != NULL) {
      regfree(&e->args_re[i]);
    }
  }
  free(e->args_re);
  free_strv(e->args, e->nargs);
  if (e->rest != NULL) {
    regfree(&e->rest_re);
    free(e->rest);
  }
  free_strv(e->env, e->nenv);
  memset(e, 0, sizeof *e);
}

void ain_spawn_config_free(ain_spawn_config_t *sc) {
  for (size_t i = 0; i < sc->nallow; i++) {
    entry_free(&sc->allow[i]);
  }
  free(sc->allow);
  free_strv(sc->env, sc->nenv);
  free(sc->helper);
  memset(sc, 0, sizeof *sc);
}

/* ---- refusals ------------------------------------------------------------------------------- */

/* Programs that run code given to them as arguments, input or environment: with any of these a
 * policy would choose what runs, which is exactly what the allowlist is there to prevent. Matched
 * on the real path's base name, as a prefix followed by nothing, digits, dots or '-' (python3.11,
 * perl5.36, lua5.1). */
static const char *const interpreters[] = {
    "sh",      "bash",   "dash",  "zsh",   "ksh",     "mksh",    "csh",    "tcsh",   "fish",
    "ash",     "rbash",  "busybox", "toybox", "python", "perl",  "ruby",   "node",   "nodejs",
    "lua",     "luajit", "php",   "tclsh", "wish",    "expect",  "guile",  "env",    "xargs",
    "nice",    "nohup",  "setsid", "timeout", "stdbuf", "chroot", "sudo",  "su",     "doas",
    "runuser", "strace", "ltrace", "gdb",   "awk",     "gawk",    "mawk",   "nawk",   "script",
    "ssh",     "ain",    "ain-spawn-helper"};

int ain_spawn_is_interpreter(const char *real) {
  const char *base = strrchr(real, '/');
  base = base != NULL ? base + 1 : real;
  for (size_t i = 0; i < sizeof interpreters / sizeof interpreters[0]; i++) {
    size_t n = strlen(interpreters[i]);
    if (strncmp(base, interpreters[i], n) != 0) {
      continue;
    }
    const char *t = base + n;
    while (*t != '\0' && (isdigit((unsigned char)*t) || *t == '.' || *t == '-')) {
      t++;
    }
    /* "python3.11" and "lua5.1" are interpreters; "shred" or "ainfo" are not. A suffix such as
     * "-helper" only counts when it spells the whole name (ain-spawn-helper is listed). */
    if (*t == '\0' && (base[n] == '\0' || isdigit((unsigned char)base[n]) || base[n] == '.')) {
      return 1;
    }
  }
  return 0;
}

int ain_spawn_env_name_check(const char *name, ain_err_t *err) {
  int ok = name[0] != '\0' && !isdigit((unsigned char)name[0]);
  for (const char *p = name; ok && *p; p++) {
    ok = isalnum((unsigned char)*p) || *p == '_';
  }
  if (!ok) {
    return ain_err_field(err, AIN_ESANDBOX, name, "env name '%s' is not a plain identifier", name);
  }
  /* AIN_* holds the engine's secrets (AIN_SECRET_*) and settings; LD_* and the rest change which
   * code a listed program loads or runs (LD_PRELOAD of a library written by a policy). */
  static const char *const prefixes[] = {"AIN_", "LD_", "DYLD_", "MALLOC_", "GLIBC_", "GCONV_"};
  static const char *const names[] = {"BASH_ENV", "ENV",      "LOCPATH", "NLSPATH", "HOSTALIASES",
                                      "IFS",      "PS4",      "SHELLOPTS", "PYTHONPATH",
                                      "PERL5LIB", "PERL5OPT", "NODE_OPTIONS", "LUA_PATH",
                                      "LUA_CPATH", "RESOLV_HOST_CONF", "TMPDIR"};
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
    if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0) {
      return ain_err_field(err, AIN_ESANDBOX, name,
                           "env name '%s' is reserved (%s* may not be set by a policy)", name,
                           prefixes[i]);
    }
  }
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (strcmp(name, names[i]) == 0) {
      return ain_err_field(err, AIN_ESANDBOX, name, "env name '%s' may not be set by a policy",
                           name);
    }
  }
  return 0;
}

/* ---- parsing -------------------------------------------------------------------------------- */

/* Compiles pattern p anchored to the whole string. */
static int compile_anchored(regex_t *re, const char *p, const char *where, const char *key,
                            ain_err_t *err) {
  size_t n = strlen(p) + 5;
  char *a = malloc(n);
  if (a == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  snprintf(a, n, "^(%s)$", p);
  int rc = regcomp(re, a, REG_EXTENDED | REG_NOSUB);
  free(a);
  if (rc != 0) {
    char why[256];
    regerror(rc, re, why, sizeof why);
    return ain_err_field(err, AIN_ECONFIG, key, "%s: '%s' is not a valid pattern ('%s'): %s",
                         where, key, p, why);
  }
  return 0;
}

/* Reads a table of NAME = "value" strings into "NAME=value" entries. */
static int parse_env(lua_State *L, char ***out, size_t *nout, const char *where, const char *key,
                     ain_err_t *err) {
  if (!lua_istable(L, -1)) {
    return ain_err_field(err, AIN_ECONFIG, key, "%s: '%s' must be a table of NAME = \"value\", got %s",
                         where, key, luaL_typename(L, -1));
  }
  size_t n = 0;
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    n++;
    lua_pop(L, 1);
  }
  char **v = calloc(n + 1, sizeof *v);
  if (v == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  size_t i = 0;
  int rc = 0;
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    if (rc == 0) {
      const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
      ain_err_t e2 = {0};
      if (name == NULL || lua_type(L, -1) != LUA_TSTRING) {
        rc = ain_err_field(err, AIN_ECONFIG, key,
                           "%s: '%s' must be a table of NAME = \"value\" strings", where, key);
      } else if (ain_spawn_env_name_check(name, &e2) != 0 && strncmp(name, "AIN_", 4) == 0) {
        /* The operator may pass LD_LIBRARY_PATH on purpose, but never the engine's own names. */
        rc = ain_err_field(err, AIN_ECONFIG, key, "%s: '%s.%s': %s", where, key, name, e2.msg);
      } else if (strchr(name, '=') != NULL || name[0] == '\0') {
        rc = ain_err_field(err, AIN_ECONFIG, key, "%s: '%s' has a bad name '%s'", where, key, name);
      } else {
        const char *val = lua_tostring(L, -1);
        size_t len = strlen(name) + strlen(val) + 2;
        v[i] = malloc(len);
        if (v[i] == NULL) {
          rc = ain_err_set(err, AIN_ENOMEM, "out of memory");
        } else {
          snprintf(v[i++], len, "%s=%s", name, val);
        }
      }
    }
    lua_pop(L, 1);
  }
  if (rc != 0) {
    free_strv(v, i);
    return rc;
  }
  free_strv(*out, *nout);
  *out = v;
  *nout = i;
  return 0;
}

static int parse_limits(lua_State *L, ain_spawn_limits_t *lim, const char *where, const char *key,
                        ain_err_t *err) {
  if (!lua_istable(L, -1)) {
    return ain_err_field(err, AIN_ECONFIG, key, "%s: '%s' must be a table, got %s", where, key,
                         luaL_typename(L, -1));
  }
  static const struct {
    const char *name;
    size_t off;
    int64_t min, max;
  } keys[] = {
      {"cpu_s", offsetof(ain_spawn_limits_t, cpu_s), 1, 86400},
      {"memory_mb", offsetof(ain_spawn_limits_t, memory_mb), 16, 1 << 20},
      {"file_mb", offsetof(ain_spawn_limits_t, file_mb), 0, 1 << 24},
      {"procs", offsetof(ain_spawn_limits_t, procs), 1, 1 << 20},
      {"open_files", offsetof(ain_spawn_limits_t, open_files), 8, 1 << 20},
  };
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
    char full[160];
    snprintf(full, sizeof full, "%s.%s", key, name);
    size_t k = 0;
    while (k < sizeof keys / sizeof keys[0] && strcmp(keys[k].name, name) != 0) {
      k++;
    }
    if (k == sizeof keys / sizeof keys[0]) {
      lua_pop(L, 2);
      return ain_err_field(err, AIN_ECONFIG, full,
                           "%s: unknown key '%s' (cpu_s, memory_mb, file_mb, procs, open_files)",
                           where, full);
    }
    double d = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : -1.5;
    if (d != floor(d) || d < (double)keys[k].min || d > (double)keys[k].max) {
      lua_pop(L, 2);
      return ain_err_field(err, AIN_ECONFIG, full, "%s: '%s' must be an integer from %lld to %lld",
                           where, full, (long long)keys[k].min, (long long)keys[k].max);
    }
    *(int64_t *)((char *)lim + keys[k].off) = (int64_t)d;
    lua_pop(L, 1);
  }
  return 0;
}

/* Reads an array of strings (patterns) at the top of the stack. */
static int parse_patterns(lua_State *L, ain_spawn_entry_t *e, const char *where, const char *key,
                          ain_err_t *err) {
  if (!lua_istable(L, -1)) {
    return ain_err_field(err, AIN_ECONFIG, key, "%s: '%s' must be an array of patterns, got %s",
                         where, key, luaL_typename(L, -1));
  }
  size_t n = lua_objlen(L, -1);
  e->args = calloc(n + 1, sizeof *e->args);
  e->args_re = calloc(n + 1, sizeof *e->args_re);
  if (e->args == NULL || e->args_re == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    char sub[160];
    snprintf(sub, sizeof sub, "%s[%zu]", key, i + 1);
    lua_rawgeti(L, -1, (int)i + 1);
    if (lua_type(L, -1) != LUA_TSTRING) {
      lua_pop(L, 1);
      return ain_err_field(err, AIN_ECONFIG, sub, "%s: '%s' must be a string (a pattern)", where,
                           sub);
    }
    int rc = compile_anchored(&e->args_re[i], lua_tostring(L, -1), where, sub, err);
    if (rc == 0) {
      e->args[i] = ain_strdup(lua_tostring(L, -1));
      e->nargs = i + 1;
    }
    lua_pop(L, 1);
    if (rc != 0) {
      return rc;
    }
  }
  return 0;
}

static int check_program(ain_spawn_entry_t *e, const char *where, const char *key,
                         ain_err_t *err) {
  if (e->path[0] != '/') {
    return ain_err_field(err, AIN_ECONFIG, key,
                         "%s: '%s' must be an absolute path (no PATH lookup), got '%s'", where, key,
                         e->path);
  }
  char real[PATH_MAX];
  if (realpath(e->path, real) == NULL) {
    return ain_err_field(err, AIN_ECONFIG, key, "%s: '%s': %s does not exist", where, key,
                         e->path);
  }
  struct stat st;
  if (stat(real, &st) != 0 || !S_ISREG(st.st_mode) || access(real, X_OK) != 0) {
    return ain_err_field(err, AIN_ECONFIG, key, "%s: '%s': %s is not an executable file", where,
                         key, e->path);
  }
  if (ain_spawn_is_interpreter(real)) {
    return ain_err_field(err, AIN_ECONFIG, key,
                         "%s: '%s': %s is (or links to) %s, a shell or interpreter; ain.spawn "
                         "never runs one (list the programs it would run instead)",
                         where, key, e->path, real);
  }
  e->real = ain_strdup(real);
  return 0;
}

static int parse_entry(lua_State *L, ain_spawn_entry_t *e, const ain_spawn_limits_t *defaults,
                       const char *where, const char *key, ain_err_t *err) {
  memset(&e->limits, 0xff, sizeof e->limits); /* -1: not set */
  e->max_args = SPAWN_MAX_ARGS_DEFAULT;
  if (!lua_istable(L, -1)) {
    return ain_err_field(err, AIN_ECONFIG, key, "%s: '%s' must be a table {path = ..., args = ...}",
                         where, key);
  }
  int rc = 0;
  lua_pushnil(L);
  while (rc == 0 && lua_next(L, -2) != 0) {
    const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
    char sub[160];
    snprintf(sub, sizeof sub, "%s.%s", key, name);
    if (strcmp(name, "path") == 0) {
      if (lua_type(L, -1) != LUA_TSTRING) {
        rc = ain_err_field(err, AIN_ECONFIG, sub, "%s: '%s' must be a string", where, sub);
      } else {
        e->path = ain_strdup(lua_tostring(L, -1));
      }
    } else if (strcmp(name, "args") == 0) {
      rc = parse_patterns(L, e, where, sub, err);
    } else if (strcmp(name, "rest") == 0) {
      if (lua_type(L, -1) != LUA_TSTRING) {
        rc = ain_err_field(err, AIN_ECONFIG, sub, "%s: '%s' must be a string (a pattern)", where,
                           sub);
      } else if ((rc = compile_anchored(&e->rest_re, lua_tostring(L, -1), where, sub, err)) == 0) {
        e->rest = ain_strdup(lua_tostring(L, -1));
      }
    } else if (strcmp(name, "max_args") == 0) {
      double d = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : -1;
      if (d != floor(d) || d < 0 || d > SPAWN_MAX_ARGS_LIMIT) {
        rc = ain_err_field(err, AIN_ECONFIG, sub, "%s: '%s' must be an integer from 0 to %d",
                           where, sub, SPAWN_MAX_ARGS_LIMIT);
      } else {
        e->max_args = (size_t)d;
      }
    } else if (strcmp(name, "env") == 0) {
      rc = parse_env(L, &e->env, &e->nenv, where, sub, err);
    } else if (strcmp(name, "limits") == 0) {
      rc = parse_limits(L, &e->limits, where, sub, err);
    } else {
      rc = ain_err_field(err, AIN_ECONFIG, sub,
                         "%s: unknown key '%s' (path, args, rest, max_args, env, limits)", where,
                         sub);
    }
    lua_pop(L, 1);
  }
  if (rc != 0) {
    lua_pop(L, 1); /* the key lua_next left */
    return rc;
  }
  char sub[160];
  snprintf(sub, sizeof sub, "%s.path", key);
  if (e->path == NULL) {
    return ain_err_field(err, AIN_ECONFIG, sub, "%s: '%s' is required", where, sub);
  }
  if ((rc = check_program(e, where, sub, err)) != 0) {
    return rc;
  }
  int64_t *dst = &e->limits.cpu_s;
  const int64_t *def = &defaults->cpu_s;
  for (size_t i = 0; i < sizeof e->limits / sizeof(int64_t); i++) {
    if (dst[i] < 0) {
      dst[i] = def[i];
    }
  }
  return 0;
}

static int parse_allow(lua_State *L, ain_spawn_config_t *sc, const char *where, ain_err_t *err) {
  if (!lua_istable(L, -1)) {
    return ain_err_field(err, AIN_ECONFIG, "spawn.allow", "%s: 'spawn.allow' must be an array",
                         where);
  }
  size_t n = lua_objlen(L, -1);
  for (size_t i = 0; i < sc->nallow; i++) {
    entry_free(&sc->allow[i]);
  }
  free(sc->allow);
  sc->nallow = 0;
  sc->allow = calloc(n + 1, sizeof *sc->allow);
  if (sc->allow == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    char key[64];
    snprintf(key, sizeof key, "spawn.allow[%zu]", i + 1);
    lua_rawgeti(L, -1, (int)i + 1);
    sc->nallow = i + 1; /* counted before parsing so a failure frees what the entry holds */
    int rc = parse_entry(L, &sc->allow[i], &sc->limits, where, key, err);
    lua_pop(L, 1);
    if (rc != 0) {
      return rc;
    }
    for (size_t j = 0; j < i; j++) {
      if (strcmp(sc->allow[j].real, sc->allow[i].real) == 0) {
        return ain_err_field(err, AIN_ECONFIG, key,
                             "%s: '%s' lists %s again (as spawn.allow[%zu]); one entry per program",
                             where, key, sc->allow[i].real, j + 1);
      }
    }
  }
  return 0;
}

int ain_spawn_config_parse(lua_State *L, ain_spawn_config_t *sc, const char *where,
                           const char *base_dir, ain_err_t *err) {
  if (!lua_istable(L, -1)) {
    return ain_err_field(err, AIN_ECONFIG, "spawn", "%s: 'spawn' must be a table, got %s", where,
                         luaL_typename(L, -1));
  }
  /* Limits first: allow entries inherit them whatever order the keys come in. */
  lua_getfield(L, -1, "limits");
  int rc = lua_isnil(L, -1) ? 0 : parse_limits(L, &sc->limits, where, "spawn.limits", err);
  lua_pop(L, 1);
  if (rc != 0) {
    return rc;
  }
  lua_pushnil(L);
  while (rc == 0 && lua_next(L, -2) != 0) {
    const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
    if (strcmp(name, "limits") == 0) {
      /* done above */
    } else if (strcmp(name, "allow") == 0) {
      rc = parse_allow(L, sc, where, err);
    } else if (strcmp(name, "env") == 0) {
      rc = parse_env(L, &sc->env, &sc->nenv, where, "spawn.env", err);
    } else if (strcmp(name, "timeout_ms") == 0) {
      double d = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : -1;
      if (d != floor(d) || d < 1 || d > 86400000) {
        rc = ain_err_field(err, AIN_ECONFIG, "spawn.timeout_ms",
                           "%s: 'spawn.timeout_ms' must be an integer from 1 to 86400000", where);
      } else {
        sc->timeout_ms = (int64_t)d;
      }
    } else if (strcmp(name, "helper") == 0) {
      if (lua_type(L, -1) != LUA_TSTRING) {
        rc = ain_err_field(err, AIN_ECONFIG, "spawn.helper", "%s: 'spawn.helper' must be a string",
                           where);
      } else {
        const char *p = lua_tostring(L, -1);
        size_t n = strlen(base_dir) + strlen(p) + 2;
        free(sc->helper);
        sc->helper = malloc(n);
        if (sc->helper == NULL) {
          abort();
        }
        if (p[0] == '/') {
          snprintf(sc->helper, n, "%s", p);
        } else {
          snprintf(sc->helper, n, "%s/%s", base_dir, p);
        }
        if (access(sc->helper, X_OK) != 0) {
          rc = ain_err_field(err, AIN_ECONFIG, "spawn.helper",
                             "%s: 'spawn.helper': %s is not an executable file", where, sc->helper);
        }
      }
    } else {
      char key[160];
      snprintf(key, sizeof key, "spawn.%s", name);
      rc = ain_err_field(err, AIN_ECONFIG, key,
                         "%s: unknown key '%s' (allow, env, limits, timeout_ms, helper)", where, key);
    }
    lua_pop(L, 1);
  }
  if (rc != 0) {
    lua_pop(L, 1);
  }
  return rc;
}

/* ---- matching ------------------------------------------------------------------------------- */

const ain_spawn_entry_t *ain_spawn_config_find(const ain_spawn_config_t *sc, const char *path) {
  if (sc == NULL || path == NULL) {
    return NULL;
  }
  for (size_t i = 0; i < sc->nallow; i++) {
    if (strcmp(sc->allow[i].path, path) == 0 || strcmp(sc->allow[i].real, path) == 0) {
      return &sc->allow[i];
    }
  }
  return NULL;
}

int ain_spawn_entry_check_args(const ain_spawn_entry_t *e, char *const *argv, size_t argc,
                               ain_err_t *err) {
  size_t nargs = argc > 0 ? argc - 1 : 0;
  if (nargs > e->max_args) {
    return ain_err_field(err, AIN_ESANDBOX, "cmd",
                         "%s: %zu arguments, the allowlist permits at most %zu", e->path, nargs,
                         e->max_args);
  }
  for (size_t i = 1; i < argc; i++) {
    const regex_t *re = i <= e->nargs ? &e->args_re[i - 1] : (e->rest ? &e->rest_re : NULL);
    const char *pat = i <= e->nargs ? e->args[i - 1] : e->rest;
    if (re == NULL) {
      return ain_err_field(err, AIN_ESANDBOX, "cmd",
                           "%s: argument %zu ('%.200s') is not allowed: the allowlist permits %zu "
                           "argument(s) and no further ones",
                           e->path, i, argv[i], e->nargs);
    }
    if (regexec(re, argv[i], 0, NULL, 0) != 0) {
      return ain_err_field(err, AIN_ESANDBOX, "cmd",
                           "%s: argument %zu ('%.200s') does not match the allowed pattern '%.200s'",
                           e->path, i, argv[i], pat);
    }
  }
  return 0;
}
