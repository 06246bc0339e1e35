/* The operator's ain.spawn allowlist (config key `spawn`): which executables a policy may start,
 * with which arguments, environment and resource limits. Parsed and validated at config load
 * (every error names its key, e.g. spawn.allow[2].args[1]); matched by ain.spawn (lua/ain_spawn.c)
 * and by `ain check`'s static scan (lua/spawn_lint.c).
 *
 * Shape (documented in ain.lua.example and docs/operations.md):
 *   spawn = {
 *     timeout_ms = 60000,                       -- default and cap of a call's wall clock
 *     env = { PATH = "/usr/bin:/bin" },         -- given to every child (nothing else is)
 *     limits = { cpu_s = 60, memory_mb = 1024, file_mb = 1024, procs = 256, open_files = 256 },
 *     helper = "/usr/lib/ain/ain-spawn-helper", -- default: beside the running binary
 *     allow = {
 *       { path = "/usr/bin/ffprobe",            -- absolute; must exist and be executable
 *         args = { "-v", "error", "-show_format", ".+\\.mp4" },  -- i-th pattern, i-th argument
 *         rest = "[^-].*",                       -- any further argument; absent = none allowed
 *         max_args = 32, env = { LANG = "C" }, limits = { cpu_s = 10 } },
 *     },
 *   }
 * Patterns are POSIX extended regular expressions that must match the WHOLE argument (they are
 * anchored as ^(pattern)$). A path whose real path (symlinks resolved) is a shell or a script
 * interpreter is refused at load: ain.spawn never runs one.
 * Relies on: LuaJIT (reads the config's table), POSIX regex, realpath. */
#ifndef AIN_CONFIG_SPAWN_H
#define AIN_CONFIG_SPAWN_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct lua_State;

/* Resource limits of a child, applied by ain-spawn-helper between fork and exec. -1 = not set
 * (an allow entry then takes the value of spawn.limits). 0 means 0 (cpu_s 0 is refused). */
typedef struct {
  int64_t cpu_s;      /* RLIMIT_CPU, seconds of CPU time */
  int64_t memory_mb;  /* RLIMIT_AS, address space */
  int64_t file_mb;    /* RLIMIT_FSIZE, largest file the child may write */
  int64_t procs;      /* RLIMIT_NPROC (counts every process/thread of the engine's user) */
  int64_t open_files; /* RLIMIT_NOFILE */
} ain_spawn_limits_t;

typedef struct {
  char *path;      /* as the operator wrote it (absolute) */
  char *real;      /* its realpath() at load: what is executed */
  char **args;     /* positional patterns as written */
  regex_t *args_re;
  size_t nargs;
  char *rest;      /* pattern for arguments after nargs; NULL = no further argument */
  regex_t rest_re;
  size_t max_args; /* arguments after argv[0], at most */
  char **env;      /* "NAME=value" */
  size_t nenv;
  ain_spawn_limits_t limits; /* resolved against spawn.limits at load */
} ain_spawn_entry_t;

typedef struct {
  ain_spawn_entry_t *allow;
  size_t nallow;
  char **env; /* "NAME=value", spawn.env */
  size_t nenv;
  ain_spawn_limits_t limits;
  int64_t timeout_ms;
  char *helper; /* NULL = ain-spawn-helper beside /proc/self/exe */
} ain_spawn_config_t;

/* Defaults: no entry (every spawn refused), PATH=/usr/local/bin:/usr/bin:/bin, the limits above,
 * timeout 60 s. */
void ain_spawn_config_defaults(ain_spawn_config_t *sc);
void ain_spawn_config_free(ain_spawn_config_t *sc);
/* Parses the table at the top of L's stack (the value of `spawn`) into sc, replacing what it
 * held. where = "file:line" for messages; base_dir resolves a relative `helper`. */
int ain_spawn_config_parse(struct lua_State *L, ain_spawn_config_t *sc, const char *where,
                           const char *base_dir, ain_err_t *err);

/* The entry for program `path` (matched against the path as written and its real path), or NULL.
 * No file system access. */
const ain_spawn_entry_t *ain_spawn_config_find(const ain_spawn_config_t *sc, const char *path);
/* Checks argv[1..argc) against the entry. On a mismatch returns AIN_ESANDBOX with a message naming
 * the argument's position and value and the pattern it failed. */
int ain_spawn_entry_check_args(const ain_spawn_entry_t *e, char *const *argv, size_t argc,
                               ain_err_t *err);
/* 0 if a policy may set environment variable `name` (a plain identifier that is not AIN_*, LD_*
 * or another variable that changes how a program loads or runs); AIN_ESANDBOX otherwise. */
int ain_spawn_env_name_check(const char *name, ain_err_t *err);
/* 1 if the base name of real path `real` is a shell or an interpreter AIN refuses to spawn. */
int ain_spawn_is_interpreter(const char *real);

#endif
