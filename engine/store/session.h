/* Private to engine/store/: the generic layer's part of PUBLISH_SESSION (request initialiser and
 * validation); the SQL is in sqlite/session.c and postgres/session.c. Relies on: store.h. */
#ifndef AIN_STORE_SESSION_H
#define AIN_STORE_SESSION_H

#include "store/store.h"

#define AIN_STORE_SESSION_MAX 16384 /* bytes of state JSON (channel.h's AIN_CHANNEL_SESSION_MAX) */

/* 0 or AIN_EINVAL naming the field. */
int ain__store_session_check(const ain_store_req_t *req, ain_err_t *err);

#endif
