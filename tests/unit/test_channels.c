/* Named publish channels in the config (config/channels.c) and each kind's check at load:
 * defaults, merging into the outbox default, the shared keys, the render frame over all channels,
 * and every refusal naming channels.<name>.<key>. Relies on: config, publish/kinds.h, harness. */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "harness.h"
#include "publish/kinds.h"

static const char *write_cfg(const char *name, const char *text) {
  static char path[1024];
  snprintf(path, sizeof path, "%s/%s", ain_test_tmpdir(), name);
  FILE *f = fopen(path, "w");
  ASSERT_NOT_NULL(f);
  fputs(text, f);
  fclose(f);
  return path;
}

static int load(const char *text, ain_config_t *cfg, ain_err_t *err) {
  ain_config_defaults(cfg);
  ain_err_clear(err);
  return ain_config_load(cfg, write_cfg("c.lua", text), err);
}

#define YT                                                                                         \
  "kind = 'youtube', client_id_secret = 'yt_id', client_secret_secret = 'yt_secret', "            \
  "refresh_token_secret = 'yt_refresh'"

TEST(outbox_is_the_default) {
  ain_config_t cfg;
  ain_err_t err;
  ASSERT_OK(load("shards = 1\n", &cfg, &err));
  ASSERT_EQ((long)cfg.channels.n, 1L);
  const ain_config_channel_t *c = ain_config_channel(&cfg.channels, "outbox");
  ASSERT_NOT_NULL(c);
  ASSERT_STR_EQ(c->kind, "outbox");
  ASSERT_STR_EQ(ain_config_channel_str(c, "dir"), "var/outbox");
  ain_config_free(&cfg);
  /* an outbox entry without kind is still the outbox, its dir relative to the config file */
  ASSERT_OK(load("channels = { outbox = { dir = 'pub', max_duration_ms = 30000 } }\n", &cfg, &err));
  c = ain_config_channel(&cfg.channels, "outbox");
  char want[1100];
  snprintf(want, sizeof want, "%s/pub", ain_test_tmpdir());
  ASSERT_STR_EQ(ain_config_channel_str(c, "dir"), want);
  ASSERT_EQ(c->max_duration_ms, 30000);
  ain_config_free(&cfg);
}

TEST(named_channels_and_frame) {
  ain_config_t cfg;
  ain_err_t err;
  ASSERT_OK(load("channels = { yt = { " YT ", account = 'main', privacy_status = 'unlisted', "
                 "chunk_kb = 512, safe_area = { top = 200 }, max_duration_ms = 45000 } }\n",
                 &cfg, &err));
  ASSERT_EQ((long)cfg.channels.n, 2L);
  const ain_config_channel_t *c = ain_config_channel(&cfg.channels, "yt");
  ASSERT_NOT_NULL(c);
  ASSERT_STR_EQ(c->kind, "youtube");
  ASSERT_STR_EQ(c->account, "main");
  ASSERT_EQ(c->safe_area.top, 200);
  ASSERT_EQ(c->safe_area.bottom, 0); /* not given: the profile's band (media/safearea.c) */
  ASSERT_STR_EQ(c->safe_area.profile, "shorts"); /* youtube's UI by default */
  ain_config_safe_area_t sa;
  int64_t max_ms;
  ain_config_channels_frame(&cfg.channels, &sa, &max_ms);
  ASSERT_EQ(sa.top, 200); /* the widest margin of yt and outbox */
  ASSERT_EQ(max_ms, 45000);
  ain_config_free(&cfg);
}

TEST(refusals_name_the_key) {
  static const struct {
    const char *text, *field, *msg;
  } cases[] = {
      {"channels = { yt = { client_id_secret = 'x' } }\n", "channels.yt.kind", "is required"},
      {"channels = { yt = { kind = 'myspace' } }\n", "channels.yt.kind", "known: outbox"},
      {"channels = { Bad = { kind = 'outbox', dir = 'x' } }\n", "channels.Bad", "a-z"},
      {"channels = { yt = 3 }\n", "channels.yt", "must be a table"},
      {"channels = { yt = { kind = 'youtube' } }\n", "channels.yt.client_id_secret",
       "is required"},
      {"channels = { yt = { " YT ", privacy_status = 'secret' } }\n",
       "channels.yt.privacy_status", "private, unlisted, public"},
      {"channels = { yt = { " YT ", chunk_kb = 300 } }\n", "channels.yt.chunk_kb",
       "multiple of 256"},
      {"channels = { yt = { " YT ", api_url = 'ftp://x' } }\n", "channels.yt.api_url", "http"},
      {"channels = { yt = { " YT ", refresh_token_secret = 'has space' } }\n",
       "channels.yt.refresh_token_secret", "must name a secret"},
      {"channels = { yt = { " YT ", colour = 'red' } }\n", "channels.yt.colour",
       "not a key of this channel's kind"},
      {"channels = { yt = { " YT ", max_duration_ms = 5 } }\n", "channels.yt.max_duration_ms",
       "1000 to"},
      {"channels = { yt = { " YT ", safe_area = { middle = 1 } } }\n",
       "channels.yt.safe_area.middle", "unknown key"},
      {"channels = { yt = { " YT ", category_id = 'music' } }\n", "channels.yt.category_id",
       "category number"},
      {"channels = { outbox = { dir = 7 } }\n", "channels.outbox.dir", "string"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ain_config_t cfg;
    ain_err_t err;
    ASSERT_EQ(load(cases[i].text, &cfg, &err), AIN_ECONFIG);
    ASSERT_STR_EQ(err.field, cases[i].field);
    ASSERT_STR_CONTAINS(err.msg, cases[i].msg);
    ASSERT_STR_CONTAINS(err.msg, "c.lua");
    ain_config_free(&cfg);
  }
}

TEST_MAIN(TEST_ENTRY(outbox_is_the_default), TEST_ENTRY(named_channels_and_frame),
          TEST_ENTRY(refusals_name_the_key))
