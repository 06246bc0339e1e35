/* ain.text for policies: fold, tokens, stem, numbers (docs/lua-api.md, "ain.text"). Pure
 * functions, no I/O and no yield, so they work in every state that has `ain` (policy calls, check
 * threads, replay, `ain test`).
 * Budgets: an input over AIN_TEXT_MAX_INPUT (1 MiB) raises naming the limit; the work, linear in
 * the input, is charged to the running call's instruction budget before it starts (CHARGE_*
 * per byte), and every scratch buffer comes from the state's allocator, so it counts against the
 * call's memory budget. Scratch lives in a userdata with a __gc, so nothing leaks when building a
 * result table raises (memory budget) half-way.
 * Stemmers (libstemmer, one per language) are created on first use and cached in the state's
 * registry; a state runs on one thread at a time, which is all libstemmer asks.
 * Relies on: lua/text_*.c, libstemmer, lua/budget.c (ain__lua_charge). */
#include <libstemmer.h>
#include <stdio.h>
#include <string.h>

#include "lua/internal.h"
#include "lua/text.h"

/* Instructions charged per input byte, about what the same time costs in VM instructions
 * (bench/text.lua: tokens with stems ~100 ns per byte, fold ~15 ns; the interpreter runs an
 * instruction in 1-2 ns). With the default 100 M budget one call may tokenize 1 MiB, not two. */
#define CHARGE_FOLD 16
#define CHARGE_TOKENS 64
#define CHARGE_NUMBERS 48
#define CHARGE_STEM 64
#define SCRATCH_MT "ain.text.scratch"
#define STEMMERS_KEY "ain.text.stemmers"
#define STEMMER_MT "ain.text.stemmer"
#define STEM_MAX_WORD 256 /* a longer "word" is returned as it is: no English word is that long */

typedef struct {
  ain_text_mem_t mem;
  ain_text_str_t str;
  ain_text_toks_t toks;
} scratch_t;

static int scratch_gc(lua_State *L) {
  scratch_t *sc = luaL_checkudata(L, 1, SCRATCH_MT);
  ain_text_str_free(&sc->mem, &sc->str);
  ain_text_toks_free(&sc->mem, &sc->toks);
  return 0;
}

/* Pushes an empty scratch owned by the Lua state. */
static scratch_t *push_scratch(lua_State *L) {
  scratch_t *sc = lua_newuserdata(L, sizeof *sc);
  memset(sc, 0, sizeof *sc);
  sc->mem.fa = lua_getallocf(L, &sc->mem.ud);
  if (luaL_newmetatable(L, SCRATCH_MT)) {
    lua_pushcfunction(L, scratch_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
  }
  lua_setmetatable(L, -2);
  return sc;
}

/* Checks argument 1 (a string within the limit) and charges `per_byte` instructions per byte.
 * Upvalue 1: the host or a light NULL (a plain state: nothing is charged). */
static const char *check_text(lua_State *L, const char *fname, uint64_t per_byte, size_t *n) {
  const char *s = luaL_checklstring(L, 1, n);
  if (*n > AIN_TEXT_MAX_INPUT) {
    char msg[160]; /* lua_pushfstring has no %zu */
    snprintf(msg, sizeof msg, "%s: input of %zu bytes is over the limit of %zu bytes (1 MiB)",
             fname, *n, AIN_TEXT_MAX_INPUT);
    luaL_error(L, "%s", msg);
  }
  ain_lua_host_t *h = lua_touserdata(L, lua_upvalueindex(1));
  if (h != NULL) {
    ain__lua_charge(L, h, (uint64_t)*n * per_byte + 1);
  }
  return s;
}

static int l_fold(lua_State *L) {
  size_t n;
  const char *s = check_text(L, "ain.text.fold", CHARGE_FOLD, &n);
  scratch_t *sc = push_scratch(L);
  ain_err_t err = {0};
  if (ain_text_fold(&sc->mem, s, n, &sc->str, &err) != 0) {
    return luaL_error(L, "ain.text.fold: %s", err.msg);
  }
  lua_pushlstring(L, sc->str.p, sc->str.len);
  return 1;
}

/* The stemmer for lang, created on first use. Raises for an unknown language. */
static struct sb_stemmer *stemmer_for(lua_State *L, const char *lang, const char *fname) {
  lua_getfield(L, LUA_REGISTRYINDEX, STEMMERS_KEY);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, STEMMERS_KEY);
  }
  lua_getfield(L, -1, lang);
  struct sb_stemmer **box = lua_touserdata(L, -1);
  lua_pop(L, 2);
  if (box != NULL) {
    return *box;
  }
  box = lua_newuserdata(L, sizeof *box);
  *box = NULL;
  luaL_getmetatable(L, STEMMER_MT);
  lua_setmetatable(L, -2);
  *box = sb_stemmer_new(lang, "UTF_8");
  if (*box == NULL) {
    luaL_error(L,
               "%s: unknown language \"%s\" (libstemmer has e.g. english, french, german, "
               "spanish, porter)",
               fname, lang);
  }
  lua_getfield(L, LUA_REGISTRYINDEX, STEMMERS_KEY);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, lang);
  lua_pop(L, 2);
  return *box;
}

static int stemmer_gc(lua_State *L) {
  struct sb_stemmer **box = luaL_checkudata(L, 1, STEMMER_MT);
  if (*box != NULL) {
    sb_stemmer_delete(*box);
    *box = NULL;
  }
  return 0;
}

/* Pushes the stem of w (w itself when too long to be a word, or when libstemmer is out of
 * memory: a stem is an optimisation of matching, never a reason to fail the call). */
static void push_stem(lua_State *L, struct sb_stemmer *st, const char *w, size_t len) {
  if (len == 0 || len > STEM_MAX_WORD) {
    lua_pushlstring(L, w, len);
    return;
  }
  const sb_symbol *r = sb_stemmer_stem(st, (const sb_symbol *)w, (int)len);
  if (r == NULL) {
    lua_pushlstring(L, w, len);
    return;
  }
  lua_pushlstring(L, (const char *)r, (size_t)sb_stemmer_length(st));
}

static int l_stem(lua_State *L) {
  size_t n;
  const char *w = check_text(L, "ain.text.stem", CHARGE_STEM, &n);
  const char *lang = luaL_optstring(L, 2, "english");
  struct sb_stemmer *st = stemmer_for(L, lang, "ain.text.stem");
  push_stem(L, st, w, n);
  return 1;
}

/* opts.<name>: a boolean or nil (then dflt). */
static int opt_bool(lua_State *L, int idx, const char *name, int dflt) {
  if (lua_isnoneornil(L, idx)) {
    return dflt;
  }
  lua_getfield(L, idx, name);
  int v = dflt;
  if (lua_isboolean(L, -1)) {
    v = lua_toboolean(L, -1);
  } else if (!lua_isnil(L, -1)) {
    luaL_error(L, "ain.text.tokens: opts.%s must be a boolean (got %s)", name,
               luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  return v;
}

/* Pushes the array of {w, raw, i, j [, stem]} for toks over source s. */
static void push_tokens(lua_State *L, const char *s, const ain_text_toks_t *t,
                        struct sb_stemmer *st, const char *wkey) {
  lua_createtable(L, (int)t->n, 0);
  for (size_t k = 0; k < t->n; k++) {
    const ain_text_tok_t *tok = &t->v[k];
    lua_createtable(L, 0, st ? 5 : 4);
    lua_pushlstring(L, t->words.p + tok->w, tok->wlen);
    lua_setfield(L, -2, wkey);
    if (wkey[0] == 'w') {
      lua_pushlstring(L, s + tok->i, tok->j - tok->i);
      lua_setfield(L, -2, "raw");
    }
    if (tok->altlen > 0) {
      lua_pushlstring(L, t->words.p + tok->alt, tok->altlen);
      lua_setfield(L, -2, "alt");
    }
    lua_pushinteger(L, (lua_Integer)tok->i + 1);
    lua_setfield(L, -2, "i");
    lua_pushinteger(L, (lua_Integer)tok->j);
    lua_setfield(L, -2, "j");
    if (st != NULL && tok->wlen <= 2) {
      /* English Snowball leaves words of one or two letters as they are */
      lua_pushlstring(L, t->words.p + tok->w, tok->wlen);
      lua_setfield(L, -2, "stem");
    } else if (st != NULL) {
      push_stem(L, st, t->words.p + tok->w, tok->wlen);
      lua_setfield(L, -2, "stem");
    }
    lua_rawseti(L, -2, (int)k + 1);
  }
}

static int l_tokens(lua_State *L) {
  size_t n;
  const char *s = check_text(L, "ain.text.tokens", CHARGE_TOKENS, &n);
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
  }
  ain_text_opts_t o = {.leet = opt_bool(L, 2, "leet", 1), .join = opt_bool(L, 2, "join", 1)};
  struct sb_stemmer *st = NULL;
  if (opt_bool(L, 2, "stem", 0)) {
    st = stemmer_for(L, "english", "ain.text.tokens");
  }
  scratch_t *sc = push_scratch(L);
  ain_err_t err = {0};
  if (ain_text_tokens(&sc->mem, s, n, &o, &sc->toks, &err) != 0) {
    return luaL_error(L, "ain.text.tokens: %s", err.msg);
  }
  push_tokens(L, s, &sc->toks, st, "w");
  return 1;
}

static int l_numbers(lua_State *L) {
  size_t n;
  const char *s = check_text(L, "ain.text.numbers", CHARGE_NUMBERS, &n);
  scratch_t *sc = push_scratch(L);
  ain_err_t err = {0};
  if (ain_text_numbers(&sc->mem, s, n, &sc->toks, &err) != 0) {
    return luaL_error(L, "ain.text.numbers: %s", err.msg);
  }
  push_tokens(L, s, &sc->toks, NULL, "value");
  return 1;
}

void ain__lua_add_text(lua_State *L, ain_lua_host_t *h) {
  static const luaL_Reg fns[] = {{"fold", l_fold},
                                 {"tokens", l_tokens},
                                 {"stem", l_stem},
                                 {"numbers", l_numbers},
                                 {NULL, NULL}};
  if (luaL_newmetatable(L, STEMMER_MT)) {
    lua_pushcfunction(L, stemmer_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
  }
  lua_pop(L, 1);
  lua_createtable(L, 0, 4);
  for (const luaL_Reg *f = fns; f->name; f++) {
    lua_pushlightuserdata(L, h);
    lua_pushcclosure(L, f->func, 1);
    lua_setfield(L, -2, f->name);
  }
  ain__lua_make_readonly(L, "ain.text");
  lua_setfield(L, -2, "text");
}
