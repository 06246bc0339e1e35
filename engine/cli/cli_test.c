/* `ain test [PATH] [-- BUSTED_ARGS]`: busted specs inside the engine's Lua environment (the real
 * `ain` module, LuaJIT as the engine runs it). Relies on: cli/internal.h, lua/testrun.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/internal.h"
#include "lua/testrun.h"

#define BUSTED "/usr/bin/busted"

int ain_cli_test(ain_cli_t *cli) {
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_cli_load_config(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  const char *path = "tests/lua";
  char **argv = calloc((size_t)cli->nargs + 2, sizeof *argv);
  if (argv == NULL) {
    return AIN_EXIT_FAILURE;
  }
  int argc = 0, rest = 0;
  for (int i = 0; i < cli->nargs; i++) {
    if (!rest && strcmp(cli->args[i], "--") == 0) {
      rest = 1;
    } else if (!rest && cli->args[i][0] != '-') {
      path = cli->args[i];
    } else {
      argv[argc++] = cli->args[i];
    }
  }
  argv[argc++] = (char *)path;
  if (access(path, R_OK) != 0) {
    free(argv);
    ain_err_set(&err, AIN_ENOTFOUND, "%s: no such spec file or folder", path);
    return ain_cli_fail(cli, &err);
  }
  if (access(BUSTED, R_OK) != 0) {
    free(argv);
    ain_err_set(&err, AIN_ENOTFOUND, "%s is not installed (Debian package lua-busted)", BUSTED);
    return ain_cli_fail(cli, &err);
  }
  ain_lua_opts_t lo = {.scripts_dir = cli->cfg.scripts_dir,
                       .name = "test",
                       .mem_limit = (size_t)cli->cfg.lua.mem_limit_mb << 20,
                       .allow_ffi = cli->cfg.lua.allow_ffi,
                       .spawn = &cli->cfg.spawn,
                       .data_dir = cli->cfg.data_dir};
  fflush(stdout);
  int rc = ain_lua_run_script(&lo, BUSTED, argc, argv, &err);
  free(argv);
  if (rc < 0) {
    return ain_cli_fail(cli, &err);
  }
  return rc == 0 ? AIN_EXIT_OK : AIN_EXIT_FAILURE;
}
