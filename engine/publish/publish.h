/* Publishing channels (DESIGN §1, §7): where an approved video goes, behind a table of function
 * pointers so that an HTTP channel can join the embedded default, the outbox directory.
 *
 * A channel publishes one request: the video's files (object-store keys, copied out under the
 * given names) and a JSON sidecar, under an idempotency key. Publishing is idempotent per key: a
 * second publish of a key that already landed writes nothing and reports where it is (the caller
 * then records or finds the one receipt). All calls are blocking file or network I/O: run them on
 * the libuv thread pool (uv_queue_work), never on a loop thread.
 * Relies on: objstore/objstore.h (reading the files), config/config.h (channels table),
 * core/err.h. */
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

typedef struct ain_publish_channel ain_publish_channel_t;

typedef struct {
  const char *kind; /* "outbox" */
  /* Publishes req (blocking). location gets where it landed; *already = 1 when the key had been
   * published before (nothing written). 0 or AIN_E* with err naming the path and the OS error. */
  int (*publish)(ain_publish_channel_t *ch, const ain_publish_req_t *req, char *location,
                 size_t cap, int *already, ain_err_t *err);
  void (*close)(ain_publish_channel_t *ch);
} ain_publish_vtab_t;

struct ain_publish_channel {
  const ain_publish_vtab_t *vt;
  char *name; /* the channel's name in the config ("outbox") */
  void *impl;
};

/* Opens the channel called `name` from the config's channels table. AIN_ENOTFOUND for a name the
 * config does not define, AIN_ECONFIG for an unknown kind. Caller closes. */
int ain_publish_open(const ain_config_t *cfg, const char *name, ain_publish_channel_t **out,
                     ain_err_t *err);
/* The outbox-directory channel: every key lands as dir/<idempotency_key>/ holding the files and
 * the sidecar, made complete in a temporary folder (files and folder fsynced) and renamed into
 * place, so a reader never sees a partial publication. Creates dir on first publish. */
int ain_publish_outbox_open(const char *name, const char *dir, ain_publish_channel_t **out,
                            ain_err_t *err);
/* Validates req (key, names, sidecar) and calls the channel. */
int ain_publish(ain_publish_channel_t *ch, const ain_publish_req_t *req, char *location,
                size_t cap, int *already, ain_err_t *err);
void ain_publish_close(ain_publish_channel_t *ch);

#endif
