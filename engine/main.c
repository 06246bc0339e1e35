/* ain: entry point; the verbs live in engine/cli/. */
#include <curl/curl.h>

#include "cli/cli.h"

int main(int argc, char **argv) {
  /* libcurl's global state (OpenSSL included) must be set up before any shard thread exists;
   * ain.http creates each shard's curl multi later. */
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc = ain_cli_main(argc, argv);
  curl_global_cleanup();
  return rc;
}
