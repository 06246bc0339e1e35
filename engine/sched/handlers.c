/* Which handler runs a task of a given type: generate_video expands into its DAG, a built-in's
 * name runs that built-in, anything else is the Lua policy <type>.run. Decided by the scheduler
 * when a task without a handler is claimed (producers below the scheduler, the planner and
 * ain.emit, never name handlers); DAG steps carry the handler pipeline.lua gave them.
 * Relies on: sched/step.h (the built-in table). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "sched/step.h"

char *ain_handler_for_type(const char *type) {
  if (strcmp(type, "generate_video") == 0) {
    return ain_strdup("expand");
  }
  if (ain_builtin_find(type) != NULL) {
    return ain_strdup(type);
  }
  size_t n = strlen(type) + 10;
  char *h = malloc(n);
  if (h == NULL) {
    abort(); /* as ain_strdup: OOM is fatal */
  }
  snprintf(h, n, "lua:%s.run", type);
  return h;
}
