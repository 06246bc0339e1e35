/* Private to engine/store/: the generic layer's part of the WEDGE op (validation), kept out of
 * store.c like the node ops. Relies on: store.h. */
#ifndef AIN_STORE_WEDGE_H
#define AIN_STORE_WEDGE_H

#include "store/store.h"

/* 0 or AIN_EINVAL naming the field. */
int ain__store_wedge_check(const ain_store_req_t *req, ain_err_t *err);

#endif
