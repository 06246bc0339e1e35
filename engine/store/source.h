/* Private to engine/store/: the generic layer's part of SOURCE_PUT and SOURCE_LIST (validation,
 * output cleanup); the SQL is in sqlite/source.c and postgres/source.c. Relies on: store.h. */
#ifndef AIN_STORE_SOURCE_H
#define AIN_STORE_SOURCE_H

#include "store/store.h"

/* 0 or AIN_EINVAL naming the field. */
int ain__store_source_check(const ain_store_req_t *req, ain_err_t *err);
/* Frees SOURCE_LIST outputs. */
void ain__store_source_cleanup(ain_store_req_t *req);

#endif
