/* `ain check [PATH]`: the config loads, and every policy file compiles and returns a table. For a
 * pre-commit hook: exit 0 only when everything is good; every problem is printed as file:line. */
#include <dirent.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/internal.h"

static int check_file(const char *path) {
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    return 1;
  }
  luaL_openlibs(L);
  int bad = 0;
  if (luaL_loadfile(L, path) != 0) {
    fprintf(stderr, "%s\n", lua_tostring(L, -1));
    bad = 1;
  } else if (lua_pcall(L, 0, 1, 0) != 0) {
    fprintf(stderr, "%s\n", lua_tostring(L, -1));
    bad = 1;
  } else if (!lua_istable(L, -1)) {
    fprintf(stderr, "%s: must return a table, returned %s\n", path, luaL_typename(L, -1));
    bad = 1;
  }
  lua_close(L);
  return bad;
}

static int check_dir(const char *dir, int *nfiles) {
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
      bad += check_dir(p, nfiles);
    } else {
      size_t n = strlen(e->d_name);
      if (n > 4 && strcmp(e->d_name + n - 4, ".lua") == 0) {
        (*nfiles)++;
        bad += check_file(p);
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
    bad = check_dir(path, &nfiles);
  } else {
    nfiles = 1;
    bad = check_file(path);
  }
  if (cli->json) {
    printf("{\"ok\":%s,\"files\":%d,\"failed\":%d}\n", bad ? "false" : "true", nfiles, bad);
  } else {
    printf("%d policy file(s) checked, %d failed\n", nfiles, bad);
  }
  return bad ? AIN_EXIT_INVALID : AIN_EXIT_OK;
}
