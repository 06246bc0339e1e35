/* ain: entry point; the verbs live in engine/cli/. */
#include "cli/cli.h"

int main(int argc, char **argv) {
  return ain_cli_main(argc, argv);
}
