/* Private to engine/sched/: the durable session a publish step hands its channel kind
 * (publish/channel.h's ain_channel_session_t), kept in the store's publish_sessions table.
 * It lives on the thread-pool thread that runs the channel: its own small loop and store handle,
 * so a channel's save blocks that thread only and never touches the shard's loop. A save is fenced
 * by the step's lease (task id, lease owner, attempt): once another node took the step over, the
 * save fails with AIN_ELEASE and the channel stops. Relies on: store/store.h, libuv. */
#ifndef AIN_SCHED_PUBLISH_SESSION_H
#define AIN_SCHED_PUBLISH_SESSION_H

#include "config/config.h"
#include "publish/channel.h"

typedef struct ain__pubsess ain__pubsess_t;

typedef struct {
  const char *idempotency_key, *channel, *video_id; /* copied */
  const char *task_id, *owner;                       /* the fence, copied */
  int attempts;
} ain__pubsess_opts_t;

/* Blocking: opens the store on a private loop and reads the key's saved state. *out's session
 * (ain__pubsess_channel) is what the channel gets. Caller closes. */
int ain__pubsess_open(const ain_config_t *cfg, const ain__pubsess_opts_t *o, ain__pubsess_t **out,
                      ain_err_t *err);
ain_channel_session_t *ain__pubsess_channel(ain__pubsess_t *s);
void ain__pubsess_close(ain__pubsess_t *s);

#endif
