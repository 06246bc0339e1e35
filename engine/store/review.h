/* Private to engine/store/: the generic layer's part of the review/publish ops (VIDEO_JUDGED,
 * REVIEW_LIST, REVIEW_DECIDE, RECEIPT_PUT, SETTING): input checks and output cleanup, kept out of
 * store.c. The SQL lives in store/sqlite/review.c and store/postgres/review.c.
 * Relies on: store.h. */
#ifndef AIN_STORE_REVIEW_H
#define AIN_STORE_REVIEW_H

#include "store/store.h"

/* 0 or AIN_EINVAL naming the field. */
int ain__store_review_check(const ain_store_req_t *req, ain_err_t *err);
/* Frees the op's outputs and zeroes them. */
void ain__store_review_cleanup(ain_store_req_t *req);

/* Longest setting key/value and review reason accepted. */
#define AIN_STORE_SETTING_MAX 4096
#define AIN_STORE_REASON_MAX 2000

#endif
