/* The kind table: config, the publish built-in, unpublish and the analytics pull find a kind by
 * its name here (channel.h). Relies on: kinds.h. */
#include <string.h>

#include "publish/kinds.h"

static const ain_channel_kind_t *const KINDS[] = {&ain_channel_outbox};

const ain_channel_kind_t *ain_channel_kind(const char *kind) {
  for (size_t i = 0; kind != NULL && i < sizeof KINDS / sizeof *KINDS; i++) {
    if (strcmp(KINDS[i]->kind, kind) == 0) {
      return KINDS[i];
    }
  }
  return NULL;
}
