/* Opening the object store the config names (objstore.kind): the one call the engine's steps, the
 * API server and the CLI use, so none of them assumes a local folder.
 * Relies on: objstore/objstore.h, config/config.h, core/secret.h. */
#ifndef AIN_OBJSTORE_OPEN_H
#define AIN_OBJSTORE_OPEN_H

#include "config/config.h"
#include "objstore/objstore.h"

/* "dir": data_dir/objects. "s3": objstore.s3 with the access and secret keys resolved through the
 * secrets provider (err names the secret, never its value). Blocking (a secret file is read):
 * call it from the thread pool or at start-up. Caller closes with ain_objstore_close(). */
int ain_objstore_open(const ain_config_t *cfg, ain_objstore_t **out, ain_err_t *err);

#endif
