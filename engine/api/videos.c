/* GET /v1/videos/{id}: one video (ops/video.h, the function of `ain video show`) with its review,
 * receipts and object sizes, plus media_url and thumbnail_url: paths to the byte routes carrying
 * a ticket minted for the caller (ticket.c), valid api.media_ticket_ttl, so a browser's <video>
 * can fetch them without an Authorization header. A URL is null when its object is missing.
 * Relies on: internal.h (opjob.c, ticket.c), ops/video.h. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/internal.h"
#include "ops/video.h"

/* Replaces o[field] by "/v1/videos/<id>/<kind>?ticket=<t>" (null when there is no object). */
static void set_url(ain__api_opjob_t *j, cJSON *o, const char *field, const char *kind,
                    int64_t bytes, int64_t now) {
  char t[AIN__API_TICKET_MAX], url[AIN__API_TICKET_MAX + 300];
  if (bytes < 0 || ain__api_ticket_mint(j->api, j->id, kind, j->arg2, now,
                                        j->api->cfg->api.media_ticket_ttl_s, t, sizeof t) != 0) {
    return; /* stays null */
  }
  snprintf(url, sizeof url, "/v1/videos/%s/%s?ticket=%s", j->id, kind, t);
  cJSON_ReplaceItemInObjectCaseSensitive(o, field, cJSON_CreateString(url));
}

static int run_show(ain__api_opjob_t *j, ain_ops_t *ops) {
  ain_ops_video_t v;
  int rc = ain_ops_video_get(ops, j->api->objects, j->id, &v, &j->err);
  if (rc == 0) {
    j->out = ain_ops_video_json(&v);
    int64_t now = (int64_t)time(NULL);
    set_url(j, j->out, "media_url", "media", v.media_bytes, now);
    set_url(j, j->out, "thumbnail_url", "thumbnail", v.thumbnail_bytes, now);
    ain_ops_video_free(&v);
  }
  return rc;
}

int ain__api_video_show(ain__api_call_t *call) {
  ain__api_opjob_t *j = ain__api_opjob_new(call, run_show);
  if (j == NULL) {
    return 0;
  }
  snprintf(j->arg2, sizeof j->arg2, "%s", call->caller->subject); /* whom the tickets are for */
  if (ain__api_param(call, 0, "id", j->id, 128) != 0) {
    ain__api_opjob_free(j);
    return 0;
  }
  return ain__api_opjob_submit(call, j);
}
