/* `ain check [PATH]`: the config loads, and every policy file passes the same check the script
 * registry runs before it publishes a version (lua/registry.h): it compiles, its top level runs in
 * the sandbox under the call budgets, and it exports the entry points of its kind. For a
 * pre-commit hook: exit 0 only when everything is good; every problem is printed as
 * "file: ECODE: file:line: what". ain.spawn calls with a literal command must pass the config's
 * allowlist too. Relies on: cli/internal.h, lua/registry.h, lua/spawn_lint.h. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/internal.h"
#include "core/util.h"
#include "lua/registry.h"
#include "lua/spawn_lint.h"

/* The folder above agents/, personas/ or safety/: what a checked module requires resolves there. */
static void scripts_dir_of(const char *path, char *out, size_t cap) {
  snprintf(out, cap, "%s", path);
  char *slash = strrchr(out, '/');
  if (slash == NULL) {
    snprintf(out, cap, "..");
    return;
  }
  *slash = '\0';
  slash = strrchr(out, '/');
  if (slash == NULL) {
    snprintf(out, cap, ".");
  } else {
    *slash = '\0';
  }
}

/* Compiles and contract-checks one file in the sandbox (lua/registry.h). */
static int check_file(const ain_cli_t *cli, const char *path) {
  char module[128];
  if (ain_lua_module_for_path(path, module, sizeof module) != 0) {
    /* not under agents/, personas/ or safety/: check it as an agents module named after the file */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(module, sizeof module, "%.*s", (int)(strlen(base) - 4), base);
  }
  char dir[4096];
  scripts_dir_of(path, dir, sizeof dir);
  char *src = NULL;
  size_t len = 0;
  int rc = ain_read_file(path, &src, &len);
  if (rc != 0) {
    fprintf(stderr, "%s: cannot read: %s\n", path, strerror(-rc));
    return 1;
  }
  ain_lua_check_opts_t o = {.scripts_dir = dir,
                            .mem_limit = (size_t)cli->cfg.lua.mem_limit_mb << 20,
                            .cpu_budget = (uint64_t)cli->cfg.lua.cpu_budget,
                            .timeout_ms = (uint64_t)cli->cfg.lua.check_timeout_ms,
                            .allow_ffi = cli->cfg.lua.allow_ffi};
  ain_err_t err;
  ain_err_clear(&err);
  rc = ain_lua_check_source(&o, module, src, len, &err);
  int refused_spawns = ain_lua_spawn_lint(path, src, len, &cli->cfg.spawn, stderr);
  free(src);
  if (rc != 0) {
    fprintf(stderr, "%s: %s: %s\n", path, ain_err_name(rc), err.msg);
    return 1;
  }
  return refused_spawns > 0;
}

static int check_dir(const ain_cli_t *cli, const char *dir, int *nfiles) {
  DIR *d = opendir(dir);
  if (d == NULL) {
    return 0;
  }
  int bad = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') {
      continue;
    }
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    struct stat st;
    if (stat(p, &st) != 0) {
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      bad += check_dir(cli, p, nfiles);
    } else {
      size_t n = strlen(e->d_name);
      if (n > 4 && strcmp(e->d_name + n - 4, ".lua") == 0) {
        (*nfiles)++;
        bad += check_file(cli, p);
      }
    }
  }
  closedir(d);
  return bad;
}

int ain_cli_check(ain_cli_t *cli) {
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_cli_load_config(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  const char *path = cli->nargs > 0 ? cli->args[0] : cli->cfg.scripts_dir;
  struct stat st;
  if (stat(path, &st) != 0) {
    ain_err_set(&err, AIN_ENOTFOUND, "%s: no such file or folder", path);
    return ain_cli_fail(cli, &err);
  }
  int nfiles = 0, bad;
  if (S_ISDIR(st.st_mode)) {
    bad = check_dir(cli, path, &nfiles);
  } else {
    nfiles = 1;
    bad = check_file(cli, path);
  }
  if (cli->json) {
    printf("{\"ok\":%s,\"files\":%d,\"failed\":%d}\n", bad ? "false" : "true", nfiles, bad);
  } else {
    printf("%d policy file(s) checked, %d failed\n", nfiles, bad);
  }
  return bad ? AIN_EXIT_INVALID : AIN_EXIT_OK;
}
