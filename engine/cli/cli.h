/* Command-line front end: verb table, --help, exit codes (docs/cli.md). */
#ifndef AIN_CLI_CLI_H
#define AIN_CLI_CLI_H

/* Exit codes (AIN_EXIT_*, documented in docs/cli.md) come from the ops layer, which maps every
 * error code to one; the HTTP API maps the same codes to statuses. */
#include "ops/ops.h"

int ain_cli_main(int argc, char **argv);

#endif
