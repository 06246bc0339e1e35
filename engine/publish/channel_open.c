/* Opening a configured channel by name through the kind table (after.h), and closing one.
 * INTERIM (pub-after): the config knows one channel today (channels.outbox); when named channels
 * land (`channels = { <name> = { kind = ... } }`), ain_channel_open_config looks the name up in
 * that list and hands the kind the channel's own table as opts.
 * Relies on: after.h, channel.h (ain_channel_kind), config, cJSON. */
#include <string.h>

#include "publish/after.h"

int ain_channel_open_config(void *data, const ain_config_t *cfg, const char *name,
                            ain_channel_t **out, ain_err_t *err) {
  (void)data;
  *out = NULL;
  if (name == NULL || strcmp(name, "outbox") != 0) {
    return ain_err_field(err, AIN_ENOTFOUND, "channel", "no channel '%s' in the config's channels",
                         name != NULL ? name : "");
  }
  const char *kind_name = cfg->channels.outbox.kind ? cfg->channels.outbox.kind : "outbox";
  const ain_channel_kind_t *kind = ain_channel_kind(kind_name);
  if (kind == NULL) {
    return ain_err_field(err, AIN_ECONFIG, "channels.outbox.kind", "channel %s: unknown kind '%s'",
                         name, kind_name);
  }
  cJSON *opts = cJSON_CreateObject();
  cJSON_AddStringToObject(opts, "kind", kind_name);
  if (cfg->channels.outbox.dir != NULL) {
    cJSON_AddStringToObject(opts, "dir", cfg->channels.outbox.dir);
  }
  ain_channel_open_t o = {.name = name, .opts = opts, .cfg = cfg, .objects = NULL};
  /* the outbox copies what it keeps of opts, so they need not outlive the open */
  int rc = kind->open(&o, out, err);
  cJSON_Delete(opts);
  return rc;
}

void ain_channel_close(ain_channel_t *ch) {
  if (ch != NULL) {
    ch->kind->close(ch);
  }
}
