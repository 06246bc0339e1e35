/* libFuzzer target: the config loader (config/config.c). The input is the text of an `ain.lua`: it
 * is written to a private file and loaded over the defaults, as `ain -c FILE` does. A bad file must
 * end in AIN_ECONFIG with a message (file:line and the key when a value is wrong), never a crash, a
 * sanitizer report or a hang (libFuzzer's -timeout catches those).
 * Relies on: config/config.h, core/err.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "core/err.h"

static char path[64];

static void remove_file(void) {
  if (path[0] != '\0') {
    unlink(path);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (path[0] == '\0') {
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/ain-fuzz-config-%d.lua", tmp && *tmp ? tmp : "/tmp",
             (int)getpid());
    atexit(remove_file);
  }
  FILE *f = fopen(path, "wb");
  if (f == NULL || (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
    perror(path);
    abort();
  }
  ain_config_t cfg;
  ain_config_defaults(&cfg);
  ain_err_t err;
  ain_err_clear(&err);
  int rc = ain_config_load(&cfg, path, &err);
  /* AIN_ENOMEM is the loader failing to create its Lua state (LuaJIT wants low addresses, which
   * ASan's shadow can crowd out): the machine's fault, not the input's. */
  if (rc != 0 && ((rc != AIN_ECONFIG && rc != AIN_ENOMEM) || err.msg[0] == '\0')) {
    fprintf(stderr, "config load failed with %d and message \"%s\"\n", rc, err.msg);
    abort();
  }
  ain_config_free(&cfg);
  return 0;
}
