/* Verb dispatch. */
#include "cli/cli.h"

#include <stdio.h>

int ain_cli_main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "ain: not built yet\n");
  return AIN_EXIT_FAILURE;
}
