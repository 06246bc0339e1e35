/* Private to engine/store/: the generic layer's part of the checkpoint and planner ops
 * (ARTIFACT_PUT, ARTIFACT_GET, PLAN_COMMIT, PLANNED_LIST, TRENDS_LIST): validation, initialisers, output
 * cleanup. Kept out of store.c so that the media/planner work lives in its own files. Relies on:
 * store.h. */
#ifndef AIN_STORE_MEDIA_H
#define AIN_STORE_MEDIA_H

#include "store/store.h"

/* 0 or AIN_EINVAL naming the field. */
int ain__store_media_check(const ain_store_req_t *req, ain_err_t *err);
/* Frees ARTIFACT_GET / PLANNED_LIST / TRENDS_LIST outputs. */
void ain__store_media_cleanup(ain_store_req_t *req);

#endif
