/* The analytics pull's and unpublish's default opener: a configured channel by name through the
 * kind table (publish/kinds.c: channels.<name> in the config, its own table as opts).
 * Relies on: after.h, kinds.h. */
#include "publish/after.h"
#include "publish/kinds.h"

int ain_channel_open_config(void *data, const ain_config_t *cfg, const char *name,
                            ain_channel_t **out, ain_err_t *err) {
  (void)data;
  *out = NULL;
  return ain_channel_open(cfg, name, NULL, out, err);
}
