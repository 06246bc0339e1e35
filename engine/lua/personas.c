/* Whether a task's persona_id names a persona with a valid version (lua/personas.h).
 * Relies on: message/message.h (which ids are well-formed), lua/internal.h (a host's published sources), lua/registry.h (ain_lua_check_source),
 * core/util.h (ain_read_file). */
#include "lua/personas.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message/message.h"
#include "core/util.h"
#include "lua/internal.h"

#define ID_MAX AIN_MESSAGE_PERSONA_MAX

typedef struct {
  char **ids;
  size_t n, cap;
} idlist_t;

static void idlist_add(idlist_t *l, const char *id, size_t len) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    char **g = realloc(l->ids, cap * sizeof *g);
    if (g == NULL) {
      return; /* the list only decorates an error message: a short list is fine */
    }
    l->ids = g;
    l->cap = cap;
  }
  char *s = malloc(len + 1);
  if (s == NULL) {
    return;
  }
  memcpy(s, id, len);
  s[len] = '\0';
  l->ids[l->n++] = s;
}

static void idlist_free(idlist_t *l) {
  for (size_t i = 0; i < l->n; i++) {
    free(l->ids[i]);
  }
  free(l->ids);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The personas a host in registry mode was given: keys "personas/<id>" of its sources. */
static void list_published(lua_State *L, ain_lua_host_t *h, idlist_t *l) {
  if (!lua_checkstack(L, 4)) {
    return;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, h->sources_ref);
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      const char *k = lua_tostring(L, -1);
      if (strncmp(k, "personas/", 9) == 0) {
        idlist_add(l, k + 9, strlen(k + 9));
      }
    }
  }
  lua_pop(L, 1);
}

/* The persona files in scripts_dir/personas (names only: the list is for the error message). */
static void list_files(const char *scripts_dir, idlist_t *l) {
  char dir[4200];
  snprintf(dir, sizeof dir, "%s/personas", scripts_dir);
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d != NULL && (e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    if (n > 4 && strcmp(e->d_name + n - 4, ".lua") == 0) {
      char id[ID_MAX + 1];
      if (n - 4 <= ID_MAX) {
        memcpy(id, e->d_name, n - 4);
        id[n - 4] = '\0';
        if (ain_message_persona_id_valid(id)) {
          idlist_add(l, id, n - 4);
        }
      }
    }
  }
  if (d != NULL) {
    closedir(d);
  }
}

static int unknown(const char *id, idlist_t *known, ain_err_t *err) {
  char list[1024] = "";
  size_t used = 0;
  if (known->n > 1) {
    qsort(known->ids, known->n, sizeof *known->ids, cmp_str);
  }
  for (size_t i = 0; i < known->n && i < AIN_LUA_PERSONAS_LISTED && used < sizeof list; i++) {
    used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                             known->ids[i]);
  }
  if (known->n > AIN_LUA_PERSONAS_LISTED && used < sizeof list) {
    snprintf(list + used, sizeof list - used, ", ... (%zu in all)", known->n);
  }
  /* The id is printed cut to 64 bytes of its own: it may be any string up to 128 characters. */
  return ain_err_field(err, AIN_ESCHEMA, "persona_id", "persona_id: unknown persona '%.64s%s' (%s%s)",
                       id, strlen(id) > 64 ? "..." : "", known->n ? "known: " : "no persona in ",
                       known->n ? list : "personas/");
}

/* File mode: does scripts_dir/personas/<id>.lua exist and pass the registry's contract check?
 * 1 = valid, 0 = no such file, < 0 = an error (err set). */
static int file_valid(const ain_lua_check_opts_t *opts, const char *id, ain_err_t *err) {
  char path[4400], module[ID_MAX + 16];
  snprintf(path, sizeof path, "%s/personas/%s.lua", opts->scripts_dir, id);
  snprintf(module, sizeof module, "personas/%s", id);
  char *src = NULL;
  size_t len = 0;
  int rc = ain_read_file(path, &src, &len);
  if (rc == -ENOENT) {
    return 0;
  }
  if (rc != 0) {
    return ain_err_field(err, AIN_EIO, "persona_id", "persona_id: cannot read %s: %s", path,
                         strerror(-rc));
  }
  ain_err_t cerr;
  ain_err_clear(&cerr);
  rc = ain_lua_check_source(opts, module, src, len, &cerr);
  free(src);
  if (rc != 0) {
    return ain_err_field(err, AIN_ESCHEMA, "persona_id",
                         "persona_id: persona '%s' has no valid version: %s", id, cerr.msg);
  }
  return 1;
}

int ain_lua_persona_check(lua_State *L, ain_lua_host_t *h, const ain_lua_check_opts_t *opts,
                          const char *id, ain_err_t *err) {
  idlist_t known = {0};
  int rc = 0;
  if (h != NULL && h->sources_only) {
    list_published(L != NULL ? L : h->L, h, &known);
    for (size_t i = 0; i < known.n; i++) {
      if (strcmp(known.ids[i], id) == 0) {
        goto done;
      }
    }
    rc = unknown(id, &known, err);
    goto done;
  }
  ain_lua_check_opts_t from_host;
  if (h != NULL) {
    from_host = (ain_lua_check_opts_t){.scripts_dir = h->scripts_dir,
                                       .mem_limit = h->mem_limit,
                                       .cpu_budget = h->cpu_budget,
                                       .allow_ffi = h->allow_ffi};
    opts = &from_host;
  }
  int valid = ain_message_persona_id_valid(id) ? file_valid(opts, id, err) : 0;
  if (valid < 0) {
    rc = valid;
  } else if (valid == 0) {
    list_files(opts->scripts_dir, &known);
    rc = unknown(id, &known, err);
  }
done:
  idlist_free(&known);
  return rc;
}
