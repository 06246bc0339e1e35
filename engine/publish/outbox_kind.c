/* INTERIM (pub-after, until the outbox is ported to channel.h in outbox.c): the outbox as a
 * channel.h kind, built on publish.h's outbox channel, so the kind table, unpublish and the
 * analytics pull have the embedded default to work with. When outbox.c defines
 * ain_channel_outbox itself, this file goes and that table points `unpublish` at a call of
 * ain_publish_outbox_unpublish (outbox_unpublish.c) and `metrics` at NULL.
 * Relies on: publish.h (the outbox), after.h (its takedown), kinds.h, cJSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "publish/after.h"
#include "publish/kinds.h"
#include "publish/publish.h"

typedef struct {
  ain_publish_channel_t *pc;
  char *dir;
} ob_t;

static const char *dir_of(const cJSON *opts) {
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(opts, "dir");
  return cJSON_IsString(d) ? d->valuestring : NULL;
}

static int ob_check(const char *name, const cJSON *opts, ain_err_t *err) {
  const char *dir = dir_of(opts);
  if (dir == NULL || dir[0] == '\0') {
    return ain_err_field(err, AIN_ECONFIG, "channels.outbox.dir", "channel %s has no dir", name);
  }
  return 0;
}

static int ob_open(const ain_channel_open_t *o, ain_channel_t **out, ain_err_t *err) {
  int rc = ob_check(o->name, o->opts, err);
  if (rc != 0) {
    return rc;
  }
  ain_publish_channel_t *pc = NULL;
  if ((rc = ain_publish_outbox_open(o->name, dir_of(o->opts), &pc, err)) != 0) {
    return rc;
  }
  ain_channel_t *ch = calloc(1, sizeof *ch);
  ob_t *ob = calloc(1, sizeof *ob);
  if (ch == NULL || ob == NULL) {
    free(ch);
    free(ob);
    ain_publish_close(pc);
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  ob->pc = pc;
  ob->dir = ain_strdup(dir_of(o->opts));
  ch->kind = &ain_channel_outbox;
  ch->name = ain_strdup(o->name);
  ch->impl = ob;
  *out = ch;
  return 0;
}

static int ob_publish(ain_channel_t *ch, const ain_publish_req_t *req,
                      ain_channel_session_t *session, ain_channel_result_t *res, ain_err_t *err) {
  (void)session; /* one rename commits an outbox publish: nothing to resume */
  memset(res, 0, sizeof *res);
  ob_t *ob = ch->impl;
  int rc = ain_publish(ob->pc, req, res->url, sizeof res->url, &res->already, err);
  if (rc == 0) {
    snprintf(res->post_id, sizeof res->post_id, "%s", req->idempotency_key);
  }
  return rc;
}

static int ob_unpublish(ain_channel_t *ch, const char *post_id, ain_err_t *err) {
  return ain_publish_outbox_unpublish(((ob_t *)ch->impl)->dir, post_id, err);
}

static void ob_close(ain_channel_t *ch) {
  ob_t *ob = ch->impl;
  ain_publish_close(ob->pc);
  free(ob->dir);
  free(ob);
  free(ch->name);
  free(ch);
}

const ain_channel_kind_t ain_channel_outbox = {
    .kind = "outbox",
    .check = ob_check,
    .open = ob_open,
    .publish = ob_publish,
    .unpublish = ob_unpublish,
    .metrics = NULL, /* a folder has no audience */
    .close = ob_close,
};
