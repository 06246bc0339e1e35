/* Private to engine/store/: the generic layer's part of the node and archive ops (validation and
 * output cleanup), kept out of store.c so that the cluster work lives in its own files.
 * Relies on: store.h. */
#ifndef AIN_STORE_NODES_H
#define AIN_STORE_NODES_H

#include "store/store.h"

/* 0 or AIN_EINVAL naming the field, for NODE_BEAT, NODES and ARCHIVE. */
int ain__store_nodes_check(const ain_store_req_t *req, ain_err_t *err);
/* Frees NODES outputs. */
void ain__store_nodes_cleanup(ain_store_req_t *req);

#endif
