/* The second tier of Lua errors (STYLE.md): an expected failure returns nil, "ECODE: detail",
 * "ECODE" so a policy can branch on the code without pcall. One builder for every binding.
 * Relies on: core/err.h (code names). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lua/internal.h"

int ain__lua_push_fail(lua_State *L, int code, const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const char *name = ain_err_name(code);
  size_t n = strlen(name);
  lua_pushnil(L);
  if (strncmp(msg, name, n) == 0 && msg[n] == ':') {
    lua_pushstring(L, msg); /* already "ECODE: ..." (a store or HTTP error passed on) */
  } else {
    lua_pushfstring(L, "%s: %s", name, msg);
  }
  lua_pushstring(L, name);
  return 3;
}
