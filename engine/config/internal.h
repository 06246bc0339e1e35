/* Private to engine/config/: running a config file's chunk under a budget (eval.c), for the
 * loader (config.c). Nothing outside engine/config/ includes this.
 * Relies on: LuaJIT. */
#ifndef AIN_CONFIG_INTERNAL_H
#define AIN_CONFIG_INTERNAL_H

#include <lua.h>
#include <stddef.h>

#include "config/config.h"
#include "core/err.h"

/* The budget of a config file: it only assigns values, so these are far above any real one. */
#define AIN__CONFIG_MAX_INSTRUCTIONS 10000000ull
#define AIN__CONFIG_MAX_MEM ((size_t)64 << 20)
#define AIN__CONFIG_MAX_MS 1000ull
#define AIN__CONFIG_GRACE_MS 500ull /* then a chunk stuck inside one C call is abandoned */

typedef struct ain__config_eval ain__config_eval_t;

/* Runs config chunk src[0..len) (its chunk name is "@path") in a fresh state with the base,
 * string, table and math libraries (no dofile/load/require), on a worker thread, under the
 * budget above. Every top-level assignment lands in an environment table that records its line
 * in the registry table "ain.config.lines". 0 and *out: the state's stack holds the table of
 * values (the chunk's returned table, else the environment); caller frees with
 * ain__config_eval_free. Otherwise AIN_ECONFIG naming path: the Lua error, or "exceeded its
 * budget (...)". */
int ain__config_eval(const char *path, const char *src, size_t len, ain__config_eval_t **out,
                     ain_err_t *err);
lua_State *ain__config_eval_state(ain__config_eval_t *ev);
void ain__config_eval_free(ain__config_eval_t *ev);

/* publish.c: publish.token (alg and its key source) and channels.<name>.quota, across keys.
 * 0 or AIN_ECONFIG naming the key. No I/O: the key itself is read when the engine starts. */
int ain__config_check_publish(const ain_config_t *cfg, const char *path, ain_err_t *err);

#endif
