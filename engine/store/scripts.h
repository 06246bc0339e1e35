/* Private to engine/store/: the generic layer's part of the script registry ops (validation,
 * initialisers, output cleanup), kept out of store.c. The backends' halves live in
 * store/sqlite/scripts.c and store/postgres/scripts.c.
 * Relies on: store.h. */
#ifndef AIN_STORE_SCRIPTS_H
#define AIN_STORE_SCRIPTS_H

#include "store/store.h"

/* 0 or AIN_EINVAL naming the field, for SCRIPT_PUT, SCRIPT_GET, SCRIPT_LIST and SCRIPT_PIN. */
int ain__store_scripts_check(const ain_store_req_t *req, ain_err_t *err);
/* Frees SCRIPT_GET and SCRIPT_LIST outputs. */
void ain__store_scripts_cleanup(ain_store_req_t *req);
/* 1 when s is 8..64 lowercase hex digits (a sha256 or a prefix of one). */
int ain__store_sha_prefix_ok(const char *s);

#endif
