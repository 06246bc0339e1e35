/* string.find, string.match, string.gmatch and string.gsub for policies: Lua 5.1 patterns with
 * LuaJIT 2.1's exact semantics (the %g class, %f frontiers, a 200-deep recursion limit, find's
 * plain search when the pattern has no special character, start positions clamped as in 5.1),
 * matched by a backtracking matcher in the design of Lua 5.1's lstrlib.
 * Why our own: LuaJIT's matcher is one C call the VM's count hook never sees, and a pattern such
 * as ("a*"):rep(30) .. "b" backtracks exponentially, so a policy could hold a shard for hours.
 * Every step of this matcher (a recursion, a repetition tried, a character scanned) is charged to
 * the running call's instruction budget, with the same loop-time check the hook does; over
 * budget it raises EBUDGET_CPU (lua/budget.c then makes sure nothing catches it for good).
 * Character classes are ASCII and ignore the locale, as LuaJIT's are.
 * Relies on: LuaJIT's C API, lua/budget.c (ain__lua_charge). */
#include <string.h>

#include "lua/internal.h"

#define PAT_MAXCAPTURES 32 /* LUA_MAXCAPTURES */
#define PAT_MAXDEPTH 200   /* LuaJIT's LJ_MAX_XLEVEL: "pattern too complex" */
#define PAT_CHARGE_EVERY 1024
#define CAP_UNFINISHED (-1)
#define CAP_POSITION (-2)
#define L_ESC '%'
#define SPECIALS "^$*+?.([%-"

typedef struct {
  const char *src_init; /* the subject */
  const char *src_end;
  lua_State *L;
  ain_lua_host_t *h; /* charged for the work; NULL when unbudgeted (tests' reference state) */
  uint64_t steps;    /* work not yet charged */
  int level;         /* captures, finished or not */
  int depth;         /* recursion of match() */
  struct {
    const char *init;
    ptrdiff_t len;
  } capture[PAT_MAXCAPTURES];
} match_state_t;

#define uchar(c) ((unsigned char)(c))

/* Charges `n` steps; every PAT_CHARGE_EVERY steps the budget is checked (may raise). */
static void step(match_state_t *ms, uint64_t n) {
  ms->steps += n;
  if (ms->steps >= PAT_CHARGE_EVERY) {
    uint64_t s = ms->steps;
    ms->steps = 0;
    if (ms->h != NULL) {
      ain__lua_charge(ms->L, ms->h, s);
    }
  }
}

/* What is left over when a search ends (so short matches still add up across calls). */
static void flush(match_state_t *ms) {
  if (ms->h != NULL && ms->steps > 0) {
    uint64_t s = ms->steps;
    ms->steps = 0;
    ain__lua_charge(ms->L, ms->h, s);
  }
}

/* ASCII classes, locale-independent (LuaJIT's lj_char table). */
static int is_lower(int c) {
  return c >= 'a' && c <= 'z';
}
static int is_upper(int c) {
  return c >= 'A' && c <= 'Z';
}
static int is_alpha(int c) {
  return is_lower(c) || is_upper(c);
}
static int is_digit(int c) {
  return c >= '0' && c <= '9';
}
static int is_alnum(int c) {
  return is_alpha(c) || is_digit(c);
}
static int is_space(int c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}
static int is_cntrl(int c) {
  return c < 32 || c == 127;
}
static int is_graph(int c) {
  return c > 32 && c < 127;
}
static int is_punct(int c) {
  return is_graph(c) && !is_alnum(c);
}
static int is_xdigit(int c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int match_class(int c, int cl) {
  int res;
  /* only letters turn into one of these with | 0x20; an upper-case class is the complement */
  switch (cl | 0x20) {
  case 'a':
    res = is_alpha(c);
    break;
  case 'c':
    res = is_cntrl(c);
    break;
  case 'd':
    res = is_digit(c);
    break;
  case 'g':
    res = is_graph(c);
    break;
  case 'l':
    res = is_lower(c);
    break;
  case 'p':
    res = is_punct(c);
    break;
  case 's':
    res = is_space(c);
    break;
  case 'u':
    res = is_upper(c);
    break;
  case 'w':
    res = is_alnum(c);
    break;
  case 'x':
    res = is_xdigit(c);
    break;
  case 'z':
    res = (c == 0);
    break;
  default:
    return cl == c; /* '%.' and friends: the character itself */
  }
  return is_lower(cl) ? res : !res;
}

static int check_capture(match_state_t *ms, int l) {
  l -= '1';
  if (l < 0 || l >= ms->level || ms->capture[l].len == CAP_UNFINISHED) {
    luaL_error(ms->L, "invalid capture index");
  }
  return l;
}

static int capture_to_close(match_state_t *ms) {
  int level = ms->level;
  for (level--; level >= 0; level--) {
    if (ms->capture[level].len == CAP_UNFINISHED) {
      return level;
    }
  }
  return luaL_error(ms->L, "invalid pattern capture");
}

/* The end of the single-character class at p. */
static const char *class_end(match_state_t *ms, const char *p) {
  switch (*p++) {
  case L_ESC:
    if (*p == '\0') {
      luaL_error(ms->L, "malformed pattern (ends with '%%')");
    }
    return p + 1;
  case '[':
    if (*p == '^') {
      p++;
    }
    do { /* look for the ']' */
      if (*p == '\0') {
        luaL_error(ms->L, "malformed pattern (missing ']')");
      }
      if (*(p++) == L_ESC && *p != '\0') {
        p++; /* an escape such as %] */
      }
    } while (*p != ']');
    return p + 1;
  default:
    return p;
  }
}

/* [set] from p (at '[') to ec (at ']'). */
static int match_bracket_class(match_state_t *ms, int c, const char *p, const char *ec) {
  int sig = 1;
  if (*(p + 1) == '^') {
    sig = 0;
    p++;
  }
  while (++p < ec) {
    step(ms, 1);
    if (*p == L_ESC) {
      p++;
      if (match_class(c, uchar(*p))) {
        return sig;
      }
    } else if (*(p + 1) == '-' && p + 2 < ec) {
      p += 2;
      if (uchar(*(p - 2)) <= c && c <= uchar(*p)) {
        return sig;
      }
    } else if (uchar(*p) == c) {
      return sig;
    }
  }
  return !sig;
}

static int single_match(match_state_t *ms, int c, const char *p, const char *ep) {
  switch (*p) {
  case '.':
    return 1;
  case L_ESC:
    return match_class(c, uchar(*(p + 1)));
  case '[':
    return match_bracket_class(ms, c, p, ep - 1);
  default:
    return uchar(*p) == c;
  }
}

static const char *match(match_state_t *ms, const char *s, const char *p);

static const char *match_balance(match_state_t *ms, const char *s, const char *p) {
  if (*p == '\0' || *(p + 1) == '\0') {
    luaL_error(ms->L, "unbalanced pattern");
  }
  if (s >= ms->src_end || *s != *p) {
    return NULL;
  }
  int b = *p, e = *(p + 1), cont = 1;
  while (++s < ms->src_end) {
    step(ms, 1);
    if (*s == e) {
      if (--cont == 0) {
        return s + 1;
      }
    } else if (*s == b) {
      cont++;
    }
  }
  return NULL; /* the subject ends out of balance */
}

static const char *max_expand(match_state_t *ms, const char *s, const char *p, const char *ep) {
  ptrdiff_t i = 0;
  while (s + i < ms->src_end && single_match(ms, uchar(*(s + i)), p, ep)) {
    step(ms, 1);
    i++;
  }
  while (i >= 0) { /* the longest first, then one repetition fewer each time */
    step(ms, 1);
    const char *res = match(ms, s + i, ep + 1);
    if (res != NULL) {
      return res;
    }
    i--;
  }
  return NULL;
}

static const char *min_expand(match_state_t *ms, const char *s, const char *p, const char *ep) {
  for (;;) {
    step(ms, 1);
    const char *res = match(ms, s, ep + 1);
    if (res != NULL) {
      return res;
    }
    if (s < ms->src_end && single_match(ms, uchar(*s), p, ep)) {
      s++;
    } else {
      return NULL;
    }
  }
}

static const char *start_capture(match_state_t *ms, const char *s, const char *p, int what) {
  int level = ms->level;
  if (level >= PAT_MAXCAPTURES) {
    luaL_error(ms->L, "too many captures");
  }
  ms->capture[level].init = s;
  ms->capture[level].len = what;
  ms->level = level + 1;
  const char *res = match(ms, s, p);
  if (res == NULL) {
    ms->level--; /* undo the capture */
  }
  return res;
}

static const char *end_capture(match_state_t *ms, const char *s, const char *p) {
  int l = capture_to_close(ms);
  ms->capture[l].len = s - ms->capture[l].init;
  const char *res = match(ms, s, p);
  if (res == NULL) {
    ms->capture[l].len = CAP_UNFINISHED;
  }
  return res;
}

static const char *match_capture(match_state_t *ms, const char *s, int l) {
  l = check_capture(ms, l);
  size_t len = (size_t)ms->capture[l].len;
  step(ms, 1 + len / 16);
  if ((size_t)(ms->src_end - s) >= len && memcmp(ms->capture[l].init, s, len) == 0) {
    return s + len;
  }
  return NULL;
}

/* Matches pattern p at s; the end of the match or NULL. Tail positions loop instead of
 * recursing, as lstrlib does, so only real backtracking points use the C stack. */
static const char *match(match_state_t *ms, const char *s, const char *p) {
  if (++ms->depth > PAT_MAXDEPTH) {
    luaL_error(ms->L, "pattern too complex");
  }
  step(ms, 1);
init:
  switch (*p) {
  case '(':
    if (*(p + 1) == ')') {
      s = start_capture(ms, s, p + 2, CAP_POSITION);
    } else {
      s = start_capture(ms, s, p + 1, CAP_UNFINISHED);
    }
    break;
  case ')':
    s = end_capture(ms, s, p + 1);
    break;
  case L_ESC:
    switch (*(p + 1)) {
    case 'b':
      s = match_balance(ms, s, p + 2);
      if (s == NULL) {
        break;
      }
      p += 4;
      goto init;
    case 'f': {
      p += 2;
      if (*p != '[') {
        luaL_error(ms->L, "missing '[' after '%%f' in pattern");
      }
      const char *ep = class_end(ms, p);
      int previous = (s == ms->src_init) ? '\0' : uchar(*(s - 1));
      int current = (s < ms->src_end) ? uchar(*s) : '\0';
      if (match_bracket_class(ms, previous, p, ep - 1) ||
          !match_bracket_class(ms, current, p, ep - 1)) {
        s = NULL;
        break;
      }
      p = ep;
      goto init;
    }
    default:
      if (is_digit(uchar(*(p + 1)))) { /* a back-reference %1..%9 */
        s = match_capture(ms, s, uchar(*(p + 1)));
        if (s == NULL) {
          break;
        }
        p += 2;
        goto init;
      }
      goto dflt;
    }
    break;
  case '\0': /* the end of the pattern: a match */
    break;
  case '$':
    if (*(p + 1) != '\0') {
      goto dflt;
    }
    if (s != ms->src_end) {
      s = NULL;
    }
    break;
  default:
  dflt : {
    const char *ep = class_end(ms, p);
    int m = s < ms->src_end && single_match(ms, uchar(*s), p, ep);
    switch (*ep) {
    case '?': {
      const char *res;
      if (m && (res = match(ms, s + 1, ep + 1)) != NULL) {
        s = res;
        break;
      }
      p = ep + 1;
      goto init;
    }
    case '*':
      s = max_expand(ms, s, p, ep);
      break;
    case '+':
      s = m ? max_expand(ms, s + 1, p, ep) : NULL;
      break;
    case '-':
      s = min_expand(ms, s, p, ep);
      break;
    default:
      if (m) {
        s++;
        p = ep;
        step(ms, 1);
        goto init;
      }
      s = NULL;
      break;
    }
    break;
  }
  }
  ms->depth--;
  return s;
}

static void push_one_capture(match_state_t *ms, int i, const char *s, const char *e) {
  if (i >= ms->level) {
    if (i != 0) {
      luaL_error(ms->L, "invalid capture index");
    }
    lua_pushlstring(ms->L, s, (size_t)(e - s)); /* the whole match */
    return;
  }
  ptrdiff_t l = ms->capture[i].len;
  if (l == CAP_UNFINISHED) {
    luaL_error(ms->L, "unfinished capture");
  }
  if (l == CAP_POSITION) {
    lua_pushinteger(ms->L, ms->capture[i].init - ms->src_init + 1);
  } else {
    lua_pushlstring(ms->L, ms->capture[i].init, (size_t)l);
  }
}

static int push_captures(match_state_t *ms, const char *s, const char *e) {
  int n = (ms->level == 0 && s != NULL) ? 1 : ms->level;
  luaL_checkstack(ms->L, n, "too many captures");
  for (int i = 0; i < n; i++) {
    push_one_capture(ms, i, s, e);
  }
  return n;
}

static void ms_init(match_state_t *ms, lua_State *L, const char *s, size_t len) {
  ms->L = L;
  ms->h = lua_touserdata(L, lua_upvalueindex(1));
  ms->src_init = s;
  ms->src_end = s + len;
  ms->steps = 0;
  ms->level = ms->depth = 0;
}

/* A plain search, charged by the bytes it compares. */
static const char *plain_find(match_state_t *ms, const char *s, size_t ls, const char *p,
                              size_t lp) {
  if (lp == 0) {
    return s;
  }
  if (lp > ls) {
    return NULL;
  }
  const char *end = s + (ls - lp) + 1; /* the last start that fits, plus one */
  while (s < end) {
    const char *hit = memchr(s, *p, (size_t)(end - s));
    step(ms, 1 + (size_t)((hit ? hit : end) - s) / 16);
    if (hit == NULL) {
      return NULL;
    }
    step(ms, 1 + lp / 16);
    if (memcmp(hit + 1, p + 1, lp - 1) == 0) {
      return hit;
    }
    s = hit + 1;
  }
  return NULL;
}

static int has_specials(const char *p, size_t lp) {
  for (size_t i = 0; i < lp; i++) {
    if (p[i] != '\0' && strchr(SPECIALS, p[i]) != NULL) {
      return 1;
    }
  }
  return 0;
}

static int find_aux(lua_State *L, int find) {
  size_t ls, lp;
  const char *s = luaL_checklstring(L, 1, &ls);
  const char *p = luaL_checklstring(L, 2, &lp);
  /* LuaJIT reads init as a 32-bit integer: a negative one counts from the end, then both ends
   * are clamped (5.1: a start past the end searches at the end) */
  lua_Integer init = luaL_optinteger(L, 3, 1);
  ptrdiff_t st = init < 0 ? (ptrdiff_t)init + (ptrdiff_t)ls : (ptrdiff_t)init - 1;
  if (st < 0) {
    st = 0;
  }
  if ((size_t)st > ls) {
    st = (ptrdiff_t)ls;
  }
  match_state_t ms;
  ms_init(&ms, L, s, ls);
  if (find && (lua_toboolean(L, 4) || !has_specials(p, lp))) {
    const char *q = plain_find(&ms, s + st, ls - (size_t)st, p, lp);
    flush(&ms);
    if (q != NULL) {
      lua_pushinteger(L, q - s + 1);
      lua_pushinteger(L, q - s + (ptrdiff_t)lp);
      return 2;
    }
  } else {
    const char *s1 = s + st;
    int anchor = (*p == '^');
    if (anchor) {
      p++;
    }
    do {
      ms.level = ms.depth = 0;
      const char *e = match(&ms, s1, p);
      if (e != NULL) {
        flush(&ms);
        if (find) {
          lua_pushinteger(L, s1 - s + 1);
          lua_pushinteger(L, e - s);
          return push_captures(&ms, NULL, NULL) + 2;
        }
        return push_captures(&ms, s1, e);
      }
    } while (s1++ < ms.src_end && !anchor);
    flush(&ms);
  }
  lua_pushnil(L);
  return 1;
}

static int pat_find(lua_State *L) {
  return find_aux(L, 1);
}

static int pat_match(lua_State *L) {
  return find_aux(L, 0);
}

/* The iterator gmatch returns; upvalues: host, subject, pattern, next position. */
static int gmatch_aux(lua_State *L) {
  size_t ls;
  const char *s = lua_tolstring(L, lua_upvalueindex(2), &ls);
  const char *p = lua_tostring(L, lua_upvalueindex(3));
  size_t pos = (size_t)lua_tointeger(L, lua_upvalueindex(4));
  match_state_t ms;
  ms_init(&ms, L, s, ls);
  for (const char *src = s + pos; src <= ms.src_end; src++) {
    ms.level = ms.depth = 0;
    const char *e = match(&ms, src, p);
    if (e != NULL) {
      size_t next = (size_t)(e - s);
      if (e == src) {
        next++; /* an empty match: move on anyway */
      }
      lua_pushinteger(L, (lua_Integer)next);
      lua_replace(L, lua_upvalueindex(4));
      flush(&ms);
      return push_captures(&ms, src, e);
    }
  }
  /* exhausted: park past the end so a further call returns nothing at once */
  lua_pushinteger(L, (lua_Integer)ls + 1);
  lua_replace(L, lua_upvalueindex(4));
  flush(&ms);
  return 0;
}

static int pat_gmatch(lua_State *L) {
  luaL_checkstring(L, 1);
  luaL_checkstring(L, 2);
  lua_settop(L, 2);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_pushinteger(L, 0);
  lua_pushcclosure(L, gmatch_aux, 4);
  return 1;
}

static void add_s(match_state_t *ms, luaL_Buffer *b, const char *s, const char *e) {
  size_t l;
  const char *news = lua_tolstring(ms->L, 3, &l);
  step(ms, 1 + l / 16);
  for (size_t i = 0; i < l; i++) {
    if (news[i] != L_ESC) {
      luaL_addchar(b, news[i]);
      continue;
    }
    i++; /* a '%' last adds the terminating NUL, as LuaJIT does */
    if (!is_digit(uchar(news[i]))) {
      luaL_addchar(b, news[i]);
    } else if (news[i] == '0') {
      luaL_addlstring(b, s, (size_t)(e - s));
    } else {
      push_one_capture(ms, news[i] - '1', s, e);
      luaL_addvalue(b);
    }
  }
}

static void add_value(match_state_t *ms, luaL_Buffer *b, const char *s, const char *e) {
  lua_State *L = ms->L;
  switch (lua_type(L, 3)) {
  case LUA_TNUMBER:
  case LUA_TSTRING:
    add_s(ms, b, s, e);
    return;
  case LUA_TFUNCTION: {
    lua_pushvalue(L, 3);
    int n = push_captures(ms, s, e);
    lua_call(L, n, 1);
    break;
  }
  case LUA_TTABLE:
    push_one_capture(ms, 0, s, e);
    lua_gettable(L, 3);
    break;
  default:
    break;
  }
  if (!lua_toboolean(L, -1)) { /* nil or false: keep the original text */
    lua_pop(L, 1);
    lua_pushlstring(L, s, (size_t)(e - s));
  } else if (!lua_isstring(L, -1)) {
    luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
  }
  luaL_addvalue(b);
}

static int pat_gsub(lua_State *L) {
  size_t srcl;
  const char *src = luaL_checklstring(L, 1, &srcl);
  const char *p = luaL_checkstring(L, 2);
  int tr = lua_type(L, 3);
  int max_s = luaL_optint(L, 4, (int)(srcl + 1));
  int anchor = (*p == '^');
  if (anchor) {
    p++;
  }
  if (!(tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION || tr == LUA_TTABLE)) {
    luaL_argerror(L, 3, "string/function/table expected");
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  match_state_t ms;
  ms_init(&ms, L, src, srcl);
  int n = 0;
  while (n < max_s) {
    ms.level = ms.depth = 0;
    const char *e = match(&ms, src, p);
    if (e != NULL) {
      n++;
      /* a function replacement runs Lua: charge what was matched so far first */
      flush(&ms);
      add_value(&ms, &b, src, e);
    }
    if (e != NULL && e > src) {
      src = e;
    } else if (src < ms.src_end) {
      luaL_addchar(&b, *src++);
    } else {
      break;
    }
    if (anchor) {
      break;
    }
  }
  luaL_addlstring(&b, src, (size_t)(ms.src_end - src));
  flush(&ms);
  luaL_pushresult(&b);
  lua_pushinteger(L, n);
  return 2;
}

void ain__lua_pattern_register(lua_State *L, ain_lua_host_t *h) {
  static const luaL_Reg fns[] = {{"find", pat_find},
                                 {"match", pat_match},
                                 {"gmatch", pat_gmatch},
                                 {"gsub", pat_gsub},
                                 {NULL, NULL}};
  for (const luaL_Reg *f = fns; f->name != NULL; f++) {
    lua_pushlightuserdata(L, h);
    lua_pushcclosure(L, f->func, 1);
    lua_setfield(L, -2, f->name);
  }
}
