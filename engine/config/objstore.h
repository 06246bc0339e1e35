/* The object store's settings (config key `objstore`), parsed and validated at load: every error
 * names its key (objstore.s3.bucket). The backends themselves are engine/objstore/.
 *
 * Shape (documented in ain.lua.example and docs/objstore.md):
 *   objstore = {
 *     kind = "dir",                    -- "dir": data_dir/objects (the default); "s3"
 *     s3 = {
 *       endpoint = "https://s3.eu-west-1.amazonaws.com",   -- scheme://host[:port], no path
 *       bucket = "ain-media", region = "eu-west-1",
 *       path_style = false,            -- true: endpoint/bucket/key; false: bucket.host/key
 *       access_key_secret = "s3_access_key",   -- names of secrets (core/secret.h), not keys
 *       secret_key_secret = "s3_secret_key",
 *       multipart_threshold_mb = 64,   -- files this large or larger go up in parts
 *       part_size_mb = 16,             -- 5 .. 5120 (S3's limits)
 *       timeout_ms = 120000,           -- one request, connect to last byte
 *       retries = 3,                   -- more tries after a 5xx or a broken transfer
 *       cache_dir = "var/s3cache",     -- get_path's local copies (default data_dir/s3cache)
 *       tier = { after_days = 30, storage_class = "STANDARD_IA",  -- after_days 0 = off
 *               interval_ms = 3600000 },  -- between sweeps, 1 s .. 7 days
 *     },
 *   }
 * Relies on: LuaJIT (reads the config's table), core/err.h. */
#ifndef AIN_CONFIG_OBJSTORE_H
#define AIN_CONFIG_OBJSTORE_H

#include <stdint.h>

#include "core/err.h"

struct lua_State;

typedef struct {
  char *kind; /* "dir" | "s3" */
  struct {
    char *endpoint, *bucket, *region;
    int path_style;
    char *access_key_secret, *secret_key_secret;
    int64_t multipart_threshold_mb, part_size_mb;
    int64_t timeout_ms, retries;
    char *cache_dir; /* NULL = data_dir/s3cache */
    int64_t tier_after_days;
    char *tier_storage_class;
    int64_t tier_interval_ms; /* between tiering sweeps (sched/tiering.c) */
  } s3;
} ain_objstore_config_t;

void ain_objstore_config_defaults(ain_objstore_config_t *oc);
void ain_objstore_config_free(ain_objstore_config_t *oc);
/* Parses the table at the top of L's stack (the value of `objstore`) over oc and validates the
 * whole (kind = "s3" needs endpoint, bucket and both secret names). where = "file:line";
 * base_dir resolves cache_dir. */
int ain_objstore_config_parse(struct lua_State *L, ain_objstore_config_t *oc, const char *where,
                              const char *base_dir, ain_err_t *err);

#endif
