/* Publish channels by name (config key `channels`), parsed at load: every error names its key
 * (channels.<name>.<key>). Each entry has a kind (engine/publish/kinds.c: outbox, youtube, ...);
 * the keys every kind shares are parsed here, the whole entry is also kept as JSON (opts) and
 * handed to the kind's check at load and to its open at publish time.
 *
 * Shape (documented in ain.lua.example and docs/publishing.md):
 *   channels = {
 *     outbox = { dir = "var/outbox" },            -- always present: the embedded default
 *     yt_main = {
 *       kind = "youtube",                         -- required except for the entry "outbox"
 *       account = "main",                         -- the platform account (quota, logs)
 *       max_duration_ms = 60000,                  -- the output gate refuses longer videos
 *       safe_area = { top = 130, bottom = 400, right = 160, left = 60 },
 *       ...                                       -- the kind's own keys (its check)
 *     },
 *   }
 * A string key `dir` is a path: relative to the config file's folder, as other paths.
 * Relies on: LuaJIT (reads the config's table), cJSON, publish/channel.h (the kinds' checks). */
#ifndef AIN_CONFIG_CHANNELS_H
#define AIN_CONFIG_CHANNELS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct lua_State;
struct cJSON;

#define AIN_CONFIG_CHANNEL_NAME_MAX 64

typedef struct {
  char profile[16]; /* the platform's UI bands as data (media/safearea.c): tiktok, reels, shorts */
  int64_t top, bottom, right, left; /* px at 1080x1920, scaled; only widen the profile's bands */
} ain_config_safe_area_t;

typedef struct {
  char *name;    /* [a-z0-9_-]{1,64} */
  char *kind;    /* "outbox", "youtube", "tiktok", "instagram", "webhook" */
  char *account; /* NULL = the channel's name */
  int64_t max_duration_ms;
  ain_config_safe_area_t safe_area;
  struct cJSON *opts; /* the whole entry as JSON (kind included, paths resolved); owned */
} ain_config_channel_t;

typedef struct {
  ain_config_channel_t *list; /* "outbox" first */
  size_t n;
} ain_config_channels_t;

/* The default: one channel "outbox" writing to var/outbox. */
void ain_config_channels_defaults(ain_config_channels_t *cc);
void ain_config_channels_free(ain_config_channels_t *cc);
/* Parses the table at the top of L's stack into cc (entries merge into the defaults by name),
 * then runs each kind's check. 0 or AIN_ECONFIG naming channels.<name>.<key>. */
int ain_config_channels_parse(struct lua_State *L, ain_config_channels_t *cc, const char *where,
                              const char *base_dir, ain_err_t *err);
/* The entry called name, or NULL. */
const ain_config_channel_t *ain_config_channel(const ain_config_channels_t *cc, const char *name);
/* A string key of the entry's opts, or NULL. */
const char *ain_config_channel_str(const ain_config_channel_t *c, const char *key);
/* What a rendered video must fit to go to every configured channel: the widest margin on each
 * side and the shortest max duration. */
void ain_config_channels_frame(const ain_config_channels_t *cc, ain_config_safe_area_t *sa,
                               int64_t *max_duration_ms);

#endif
