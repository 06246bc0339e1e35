/* Publishing (DESIGN §1, §7): what one publication is, whatever the channel. The channels
 * themselves are kinds behind engine/publish/channel.h (the table is kinds.c).
 *
 * A channel publishes one request: the video's files (object-store keys, copied out under the
 * given names) and a JSON sidecar, under an idempotency key. Publishing is idempotent per key: a
 * second publish of a key that already landed writes nothing and reports where it is (the caller
 * then records or finds the one receipt). All calls are blocking file or network I/O: run them on
 * the libuv thread pool (uv_queue_work), never on a loop thread.
 * Relies on: objstore/objstore.h (reading the files), core/err.h. */
#ifndef AIN_PUBLISH_PUBLISH_H
#define AIN_PUBLISH_PUBLISH_H

#include <stddef.h>

#include "config/config.h"
#include "core/err.h"
#include "objstore/objstore.h"

#define AIN_PUBLISH_LOCATION_MAX 4096

typedef struct {
  const char *role; /* "video", "thumbnail", "captions" */
  const char *key;  /* object-store key */
  const char *name; /* file name at the destination: [A-Za-z0-9._-], no leading dot */
} ain_publish_file_t;

typedef struct {
  const char *video_id;
  const char *idempotency_key; /* [A-Za-z0-9_-]{8,128}: it names the destination folder */
  const ain_publish_file_t *files;
  size_t nfiles;
  const char *sidecar_json; /* JSON object, written as <video_id>.json */
  ain_objstore_t *objects;  /* where the files' keys are read from */
} ain_publish_req_t;

/* Validates req: key 8..128 of [A-Za-z0-9_-], video_id a safe file name, at least one file
 * with a safe name and a key, a sidecar JSON object. 0 or AIN_EINVAL naming the field. */
int ain_publish_req_check(const ain_publish_req_t *req, ain_err_t *err);

#endif
