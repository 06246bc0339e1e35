/* Command-line front end: verb table, --help, exit codes (docs/cli.md). */
#ifndef AIN_CLI_CLI_H
#define AIN_CLI_CLI_H

/* Exit codes, documented in docs/cli.md. */
enum {
  AIN_EXIT_OK = 0,
  AIN_EXIT_FAILURE = 1,   /* the operation failed (store error, run failed) */
  AIN_EXIT_USAGE = 2,     /* bad command line */
  AIN_EXIT_CONFIG = 3,    /* bad configuration file */
  AIN_EXIT_INVALID = 4,   /* invalid input (message rejected, policy check failed) */
  AIN_EXIT_NOTFOUND = 5,  /* the task/DAG named does not exist */
  AIN_EXIT_CONFLICT = 6,  /* state_version conflict: re-read and retry */
};

int ain_cli_main(int argc, char **argv);

#endif
