/* The channel kinds the engine knows (engine/publish/kinds.c lists them): one global table of
 * functions per kind, defined in engine/publish/<kind>.c. Relies on: publish/channel.h. */
#ifndef AIN_PUBLISH_KINDS_H
#define AIN_PUBLISH_KINDS_H

#include "publish/channel.h"

extern const ain_channel_kind_t ain_channel_outbox;

#endif
