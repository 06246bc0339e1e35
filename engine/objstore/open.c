/* ain_objstore_open: the configured backend (objstore/open.h).
 * Relies on: objstore/objstore.h, config/config.h, core/secret.h. */
#include "objstore/open.h"

#include <stdio.h>
#include <string.h>

#include "core/secret.h"

int ain_objstore_open(const ain_config_t *cfg, ain_objstore_t **out, ain_err_t *err) {
  const char *data = cfg->data_dir ? cfg->data_dir : "var";
  const ain_objstore_config_t *oc = &cfg->objstore;
  if (oc->kind == NULL || strcmp(oc->kind, "dir") == 0) {
    char root[4200];
    snprintf(root, sizeof root, "%s/objects", data);
    return ain_objstore_dir_open(root, out, err);
  }
  char *ak = NULL, *sk = NULL;
  size_t akl = 0, skl = 0;
  char cache[4200];
  snprintf(cache, sizeof cache, "%s", oc->s3.cache_dir ? oc->s3.cache_dir : "");
  if (oc->s3.cache_dir == NULL) {
    snprintf(cache, sizeof cache, "%s/s3cache", data);
  }
  int rc = ain_secret_resolve(cfg->secrets_dir, oc->s3.access_key_secret, &ak, &akl, err);
  if (rc == 0) {
    rc = ain_secret_resolve(cfg->secrets_dir, oc->s3.secret_key_secret, &sk, &skl, err);
  }
  if (rc != 0) {
    goto done;
  }
  ain_objstore_s3_opts_t o = {
      .endpoint = oc->s3.endpoint,
      .bucket = oc->s3.bucket,
      .region = oc->s3.region,
      .path_style = oc->s3.path_style,
      .access_key = ak,
      .secret_key = sk,
      .multipart_threshold = (uint64_t)oc->s3.multipart_threshold_mb << 20,
      .part_size = (uint64_t)oc->s3.part_size_mb << 20,
      .timeout_ms = (long)oc->s3.timeout_ms,
      .retries = (int)oc->s3.retries,
      .cache_dir = cache,
  };
  rc = ain_objstore_s3_open(&o, out, err);
done:
  if (ak != NULL) {
    ain_secret_free(ak, akl);
  }
  if (sk != NULL) {
    ain_secret_free(sk, skl);
  }
  return rc;
}
