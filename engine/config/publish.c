/* Checks across the keys of publish.token and each channels.<name>.quota, once the key table has
 * checked each value's type and range: which key source the algorithm takes, and a quota whose
 * parts make sense together. No I/O: the engine reads the key when it starts
 * (publish/token.h). Relies on: config.h, core/secret.h, publish/quota.h. */
#include <cjson/cJSON.h>
#include <string.h>

#include "config/internal.h"
#include "core/secret.h"
#include "publish/quota.h"

static int check_token(const ain_config_t *cfg, const char *path, ain_err_t *err) {
  const char *alg = cfg->publish.token.alg;
  const char *secret = cfg->publish.token.secret;
  const char *priv = cfg->publish.token.private_key, *pub = cfg->publish.token.public_key;
  if (alg == NULL) {
    if (secret != NULL || priv != NULL || pub != NULL) {
      return ain_err_field(err, AIN_ECONFIG, "publish.token.alg",
                           "%s: 'publish.token.alg' is required (\"HS256\" or \"ES256\")", path);
    }
    return 0;
  }
  if (strcmp(alg, "HS256") == 0) {
    if (secret == NULL || priv != NULL || pub != NULL) {
      return ain_err_field(err, AIN_ECONFIG, "publish.token.secret",
                           "%s: 'publish.token.alg' HS256 takes 'publish.token.secret' (a "
                           "secret's name) and no key files",
                           path);
    }
    if (!ain_secret_name_ok(secret, strlen(secret))) {
      return ain_err_field(err, AIN_ECONFIG, "publish.token.secret",
                           "%s: 'publish.token.secret' must name a secret (1 to 64 of A-Z a-z "
                           "0-9 _, and - . after the first), got '%s'",
                           path, secret);
    }
    return 0;
  }
  if (strcmp(alg, "ES256") == 0) {
    if (priv == NULL || pub == NULL || secret != NULL) {
      return ain_err_field(err, AIN_ECONFIG,
                           priv == NULL ? "publish.token.private_key" : "publish.token.public_key",
                           "%s: 'publish.token.alg' ES256 takes 'publish.token.private_key' and "
                           "'publish.token.public_key' (PEM files of one P-256 key pair) and no "
                           "secret",
                           path);
    }
    return 0;
  }
  return ain_err_field(err, AIN_ECONFIG, "publish.token.alg",
                       "%s: 'publish.token.alg' must be \"HS256\" or \"ES256\", got '%s'", path,
                       alg);
}

int ain__config_check_publish(const ain_config_t *cfg, const char *path, ain_err_t *err) {
  int rc = check_token(cfg, path, err);
  if (rc != 0) {
    return rc;
  }
  /* Each channel's quota table (channels.<name>.quota): unknown keys, ranges, and a
   * units_per_publish that no bucket could ever hold. */
  for (size_t i = 0; i < cfg->channels.n; i++) {
    const ain_config_channel_t *c = &cfg->channels.list[i];
    rc = ain_publish_quota_check(c->name, cJSON_GetObjectItemCaseSensitive(c->opts, "quota"), err);
    if (rc != 0) {
      ain_err_prefix(err, "%s", path);
      return rc;
    }
  }
  return 0;
}
