/* What a Lua host runs right now, for the engine's watchdog thread (lua/host.h,
 * ain_lua_host_busy). The count hook stops a call that runs Lua too long, but it never fires while
 * the state is inside one C function (a sort, a search), so a watchdog on another thread looks at
 * when the outermost resume began and which call it belongs to.
 * The shard thread writes the names and the start under busy_mu, once per outermost resume, and
 * clears the start with a plain atomic store; the watchdog reads all three under busy_mu, so the
 * names it gets belong to the start it gets.
 * Relies on: internal.h (the host struct), libuv (uv_mutex_t), core/util.h (ain_mono_ns). */
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "lua/internal.h"

void ain__lua_busy_begin(ain_lua_host_t *h, const ain_lua_call_t *c) {
  uv_mutex_lock(&h->busy_mu);
  snprintf(h->busy_task, sizeof h->busy_task, "%s", c->task_id);
  snprintf(h->busy_what, sizeof h->busy_what, "%s.%s", c->module, c->function);
  atomic_store(&h->busy_since_ns, ain_mono_ns());
  uv_mutex_unlock(&h->busy_mu);
}

void ain__lua_busy_end(ain_lua_host_t *h) {
  atomic_store(&h->busy_since_ns, 0);
}

uint64_t ain_lua_host_busy(ain_lua_host_t *h, ain_lua_busy_t *out) {
  memset(out, 0, sizeof *out);
  if (h == NULL || atomic_load(&h->busy_since_ns) == 0) {
    return 0; /* the common case costs no lock */
  }
  uv_mutex_lock(&h->busy_mu);
  out->since_ns = atomic_load(&h->busy_since_ns);
  if (out->since_ns != 0) {
    snprintf(out->task_id, sizeof out->task_id, "%s", h->busy_task);
    snprintf(out->what, sizeof out->what, "%s", h->busy_what);
  }
  uv_mutex_unlock(&h->busy_mu);
  return out->since_ns;
}
