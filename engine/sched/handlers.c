/* Which handler runs a task of a given type, decided once when the task is enqueued (by the CLI,
 * the API or a policy's ain.emit) and stored in the row: generate_video expands into its DAG, a
 * built-in's name runs that built-in, anything else is the Lua policy <type>.run.
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
