/* Config loader: defaults, assignments and `return {...}` files, and every kind of bad input
 * reported with the key and file:line. */
#include <stdio.h>

#include "config/config.h"
#include "core/util.h"
#include "harness.h"

static const char *write_cfg(const char *name, const char *text) {
  static char path[1024];
  snprintf(path, sizeof path, "%s/%s", ain_test_tmpdir(), name);
  FILE *f = fopen(path, "w");
  ASSERT_NOT_NULL(f);
  fputs(text, f);
  fclose(f);
  return path;
}

static int load(const char *name, const char *text, ain_config_t *cfg, ain_err_t *err) {
  ain_config_defaults(cfg);
  ain_err_clear(err);
  return ain_config_load(cfg, write_cfg(name, text), err);
}

TEST(defaults) {
  ain_config_t cfg;
  ain_config_defaults(&cfg);
  ASSERT_GE(cfg.shards, 1);
  ASSERT_EQ(cfg.queue.claim_batch, 256);
  ASSERT_EQ(cfg.queue.lease_ms, 30000);
  ASSERT_STR_EQ(cfg.store.url, "sqlite:var/ain.db");
  ASSERT_EQ(cfg.store.synchronous_full, 1);
  ain_config_free(&cfg);
}

TEST(assignments_and_relative_paths) {
  ain_config_t cfg;
  ain_err_t err;
  ASSERT_OK(load("a.lua",
                 "shards = 3\nlog_level = 'warn'\nscripts_dir = 'pol'\n"
                 "store = { url = 'sqlite:db/x.db', synchronous_full = false }\n"
                 "queue = { claim_batch = 10, lease_ms = 5000 }\nlua = { allow_ffi = true }\n",
                 &cfg, &err));
  ASSERT_EQ(cfg.shards, 3);
  ASSERT_STR_EQ(cfg.log_level, "warn");
  ASSERT_EQ(cfg.queue.claim_batch, 10);
  ASSERT_EQ(cfg.queue.lease_ms, 5000);
  ASSERT_EQ(cfg.queue.poll_ms, 250); /* untouched keys keep their defaults */
  ASSERT_EQ(cfg.store.synchronous_full, 0);
  ASSERT_EQ(cfg.lua.allow_ffi, 1);
  char want[1200];
  snprintf(want, sizeof want, "%s/pol", ain_test_tmpdir());
  ASSERT_STR_EQ(cfg.scripts_dir, want);
  snprintf(want, sizeof want, "sqlite:%s/db/x.db", ain_test_tmpdir());
  ASSERT_STR_EQ(cfg.store.url, want);
  ain_config_free(&cfg);
}

TEST(return_table_form) {
  ain_config_t cfg;
  ain_err_t err;
  ASSERT_OK(load("r.lua", "return { shards = 2, queue = { poll_ms = 10 } }\n", &cfg, &err));
  ASSERT_EQ(cfg.shards, 2);
  ASSERT_EQ(cfg.queue.poll_ms, 10);
  ain_config_free(&cfg);
}

TEST(shards_zero_means_cores) {
  ain_config_t cfg;
  ain_err_t err;
  ASSERT_OK(load("z.lua", "shards = 0\n", &cfg, &err));
  ASSERT_GE(cfg.shards, 1);
  ain_config_free(&cfg);
}

TEST(shard_nice_loaded_and_bounded) {
  ain_config_t cfg;
  ain_err_t err;
  ASSERT_OK(load("n.lua", "shard_nice = 5\n", &cfg, &err));
  ASSERT_EQ(cfg.shard_nice, 5);
  ain_config_free(&cfg);
  ASSERT_EQ(load("m.lua", "shard_nice = 20\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "'shard_nice' must be between 0 and 19, got 20");
  ain_config_free(&cfg);
}

TEST(unknown_key_names_key_and_line) {
  ain_config_t cfg;
  ain_err_t err;
  ASSERT_EQ(load("u.lua", "shards = 1\n\nshardz = 2\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "u.lua:3: unknown key 'shardz'");
  ASSERT_STR_EQ(err.field, "shardz");
  ain_config_free(&cfg);
}

/* stock = {...} (the visuals policy's providers) and media.library. */
TEST(stock_and_library_keys) {
  ain_config_t cfg;
  ain_err_t err;
  ASSERT_OK(load("s.lua",
                 "media = { library = 'lib' }\n"
                 "stock = { order = 'pixabay,pexels', pexels = { url = 'https://api.pexels.com', "
                 "key_secret = 'pk' }, pixabay = { url = 'https://pixabay.com', key_secret = 'xk' } }\n",
                 &cfg, &err));
  ASSERT_STR_CONTAINS(cfg.media.library, "/lib");
  ASSERT_STR_EQ(cfg.stock.pexels.key_secret, "pk");
  ASSERT_EQ(cfg.stock.max_bytes, 200LL * 1024 * 1024);
  ain_config_free(&cfg);
  ASSERT_EQ(load("s2.lua", "stock = { pexels = { url = 'https://api.pexels.com' } }\n", &cfg, &err),
            AIN_ECONFIG);
  ASSERT_STR_EQ(err.field, "stock.pexels.key_secret");
  ain_config_free(&cfg);
  ASSERT_EQ(load("s3.lua", "stock = { pixabay = { url = 'ftp://x', key_secret = 'k' } }\n", &cfg,
                 &err),
            AIN_ECONFIG);
  ASSERT_STR_EQ(err.field, "stock.pixabay.url");
  ain_config_free(&cfg);
  ASSERT_EQ(load("s4.lua",
                 "stock = { order = 'pexels,shutterstock', pexels = { url = 'http://x', "
                 "key_secret = 'k' } }\n",
                 &cfg, &err),
            AIN_ECONFIG);
  ASSERT_STR_EQ(err.field, "stock.order");
  ASSERT_STR_CONTAINS(err.msg, "'shutterstock'");
  ain_config_free(&cfg);
  ASSERT_EQ(load("s5.lua", "stock = { pexels = { key = 'inline' } }\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "unknown key 'stock.pexels.key'");
  ain_config_free(&cfg);
}

TEST(unknown_nested_key) {
  ain_config_t cfg;
  ain_err_t err;
  ASSERT_EQ(load("n.lua", "queue = {\n  claim_bach = 3 }\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "n.lua:2: unknown key 'queue.claim_bach'");
  ain_config_free(&cfg);
}

TEST(wrong_type) {
  ain_config_t cfg;
  ain_err_t err;
  ASSERT_EQ(load("t.lua", "queue = { lease_ms = 'long' }\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "t.lua:1: 'queue.lease_ms' must be an integer, got string");
  ain_config_free(&cfg);
  ASSERT_EQ(load("t2.lua", "store = 'sqlite:x'\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "'store' must be a table, got string");
  ain_config_free(&cfg);
  ASSERT_EQ(load("t3.lua", "lua = { allow_ffi = 1 }\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "'lua.allow_ffi' must be a boolean, got number");
  ain_config_free(&cfg);
}

TEST(out_of_range_and_fractions) {
  ain_config_t cfg;
  ain_err_t err;
  ASSERT_EQ(load("o.lua", "queue = { claim_batch = 0 }\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "'queue.claim_batch' must be between 1 and 10000, got 0");
  ain_config_free(&cfg);
  ASSERT_EQ(load("f.lua", "shards = 1.5\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "'shards' must be an integer");
  ain_config_free(&cfg);
  /* found by fuzz.config: 1/0 and 1e300 were cast to int64_t (undefined behaviour) */
  ASSERT_EQ(load("i.lua", "queue = { claim_batch = 1/0 }\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "'queue.claim_batch' must be between 1 and 10000, got inf");
  ain_config_free(&cfg);
  ASSERT_EQ(load("h.lua", "shards = -1e300\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "'shards' must be between");
  ain_config_free(&cfg);
  ASSERT_EQ(load("n.lua", "shards = 0/0\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "'shards' must be an integer");
  ain_config_free(&cfg);
  ASSERT_EQ(load("s.lua", "spawn = { timeout_ms = 1/0 }\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "spawn.timeout_ms");
  ain_config_free(&cfg);
  ASSERT_EQ(load("l.lua", "log_level = 'loud'\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "'log_level' must be debug, info, warn or error");
  ain_config_free(&cfg);
}

TEST(syntax_and_runtime_errors) {
  ain_config_t cfg;
  ain_err_t err;
  ASSERT_EQ(load("s.lua", "shards = \n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "s.lua:");
  ain_config_free(&cfg);
  ASSERT_EQ(load("e.lua", "shards = 1\nerror('nope')\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "e.lua:2: nope");
  ain_config_free(&cfg);
  /* The config runs without io/os: touching them is an error, not a side effect. */
  ASSERT_EQ(load("io.lua", "io.open('/tmp/x', 'w')\n", &cfg, &err), AIN_ECONFIG);
  ain_config_free(&cfg);
}

TEST(missing_file) {
  ain_config_t cfg;
  ain_err_t err;
  ain_config_defaults(&cfg);
  ASSERT_EQ(ain_config_load(&cfg, "/nonexistent/ain.lua", &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "/nonexistent/ain.lua: cannot read config");
  ain_config_free(&cfg);
}

/* judge = {pass, reject}: numbers in 0..1, both or neither, reject not above pass. */
TEST(judge_thresholds) {
  ain_config_t cfg;
  ain_err_t err;
  ain_config_defaults(&cfg);
  ASSERT_TRUE(cfg.judge.pass < 0 && cfg.judge.reject < 0); /* unset: the judge's defaults */
  ain_config_free(&cfg);
  ASSERT_OK(load("j.lua", "judge = { pass = 0.9, reject = 0.25 }\n", &cfg, &err));
  ASSERT_TRUE(cfg.judge.pass == 0.9 && cfg.judge.reject == 0.25);
  ain_config_free(&cfg);
  ASSERT_OK(load("j0.lua", "judge = { pass = 1, reject = 0 }\n", &cfg, &err));
  ain_config_free(&cfg);
  ASSERT_EQ(load("j1.lua", "judge = { pass = 1.5, reject = 0.5 }\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "j1.lua:1: 'judge.pass' must be between 0 and 1, got 1.5");
  ain_config_free(&cfg);
  ASSERT_EQ(load("j2.lua", "judge = { pass = 'high', reject = 0.5 }\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "'judge.pass' must be a number, got string");
  ain_config_free(&cfg);
  ASSERT_EQ(load("j3.lua", "judge = { pass = 0.7 }\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "set 'judge.pass' and 'judge.reject' together");
  ASSERT_STR_EQ(err.field, "judge.reject");
  ain_config_free(&cfg);
  ASSERT_EQ(load("j4.lua", "judge = { pass = 0.4, reject = 0.6 }\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "'judge.reject' (0.6) must not be above 'judge.pass' (0.4)");
  ain_config_free(&cfg);
}

/* judge.providers = {moderation = {url, model, secret, timeout_ms}, llm = {...}}: off without a
 * url, complete when set, and every bad value names its key. */
TEST(judge_providers) {
  ain_config_t cfg;
  ain_err_t err;
  ASSERT_OK(load("p0.lua", "judge = { providers = {} }\n", &cfg, &err));
  ASSERT_TRUE(cfg.judge.providers.moderation.url == NULL && cfg.judge.providers.llm.url == NULL);
  ain_config_free(&cfg);
  ASSERT_OK(load("p1.lua",
                 "judge = { providers = { moderation = { url = 'http://127.0.0.1:9', "
                 "model = 'omni-moderation-latest', secret = 'openai_key', timeout_ms = 1500 },\n"
                 "  llm = { url = 'https://llm.example', model = 'guard-3' } } }\n",
                 &cfg, &err));
  ASSERT_STR_EQ(cfg.judge.providers.moderation.url, "http://127.0.0.1:9");
  ASSERT_STR_EQ(cfg.judge.providers.moderation.secret, "openai_key");
  ASSERT_TRUE(cfg.judge.providers.moderation.timeout_ms == 1500);
  ASSERT_STR_EQ(cfg.judge.providers.llm.model, "guard-3");
  ASSERT_TRUE(cfg.judge.providers.llm.secret == NULL &&
              cfg.judge.providers.llm.timeout_ms == 5000);
  ain_config_free(&cfg);
  static const struct {
    const char *text, *field, *msg;
  } bad[] = {
      {"judge = { providers = { moderation = { model = 'm' } } }", "judge.providers.moderation.url",
       "'judge.providers.moderation.url' is required"},
      {"judge = { providers = { llm = { url = 'ftp://x', model = 'm' } } }",
       "judge.providers.llm.url", "must be an http:// or https:// base URL"},
      {"judge = { providers = { llm = { url = 'http://x/', model = 'm' } } }",
       "judge.providers.llm.url", "trailing slash"},
      {"judge = { providers = { llm = { url = 'http://x?k=1', model = 'm' } } }",
       "judge.providers.llm.url", "query"},
      {"judge = { providers = { llm = { url = 'http://x' } } }", "judge.providers.llm.model",
       "'judge.providers.llm.model' is required"},
      {"judge = { providers = { llm = { url = 'http://x', model = 'm', secret = '../k' } } }",
       "judge.providers.llm.secret", "must name a secret"},
      {"judge = { providers = { llm = { url = 'http://x', model = 'm', timeout_ms = 0 } } }",
       "judge.providers.llm.timeout_ms", "must be between 1 and 600000"},
      {"judge = { providers = { llm = { url = 5, model = 'm' } } }", "judge.providers.llm.url",
       "must be a string"},
      {"judge = { providers = { vision = { url = 'http://x' } } }", "judge.providers.vision",
       "unknown key 'judge.providers.vision'"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ASSERT_EQ(load("pb.lua", bad[i].text, &cfg, &err), AIN_ECONFIG);
    ASSERT_STR_CONTAINS(err.msg, bad[i].msg);
    ASSERT_STR_EQ(err.field, bad[i].field);
    ain_config_free(&cfg);
  }
}

/* llm = {url, model, secret, timeout_ms, max_attempts, max_tokens, response_format, prices}: off
 * without a url, defaults when set, and every bad value names its key. */
TEST(llm_keys) {
  ain_config_t cfg;
  ain_err_t err;
  ASSERT_OK(load("l0.lua", "llm = {}\n", &cfg, &err));
  ASSERT_TRUE(cfg.llm.url == NULL && cfg.llm.price_prompt < 0 && cfg.llm.price_completion < 0);
  ain_config_free(&cfg);
  ASSERT_OK(load("l1.lua",
                 "llm = { url = 'http://127.0.0.1:8080', model = 'qwen', secret = 'llm_key',\n"
                 "  prices = { prompt = 0.15, completion = 2 } }\n",
                 &cfg, &err));
  ASSERT_STR_EQ(cfg.llm.url, "http://127.0.0.1:8080");
  ASSERT_STR_EQ(cfg.llm.secret, "llm_key");
  ASSERT_TRUE(cfg.llm.timeout_ms == 30000 && cfg.llm.max_attempts == 3 &&
              cfg.llm.max_tokens == 1024 && cfg.llm.response_format == NULL);
  ASSERT_TRUE(cfg.llm.price_prompt == 0.15 && cfg.llm.price_completion == 2);
  ain_config_free(&cfg);
  static const struct {
    const char *text, *field, *msg;
  } bad[] = {
      {"llm = { model = 'm' }", "llm.url", "'llm.url' is required"},
      {"llm = { prices = { prompt = 1 } }", "llm.url", "'llm.url' is required"},
      {"llm = { url = 'http://x/', model = 'm' }", "llm.url", "trailing slash"},
      {"llm = { url = 'http://x' }", "llm.model", "'llm.model' is required"},
      {"llm = { url = 'http://x', model = 'm', secret = 'a b' }", "llm.secret",
       "must name a secret"},
      {"llm = { url = 'http://x', model = 'm', max_attempts = 0 }", "llm.max_attempts",
       "must be between 1 and 10"},
      {"llm = { url = 'http://x', model = 'm', timeout_ms = 1.5 }", "llm.timeout_ms",
       "must be an integer"},
      {"llm = { url = 'http://x', model = 'm', response_format = 'xml' }", "llm.response_format",
       "must be json_schema, json_object or none"},
      {"llm = { url = 'http://x', model = 'm', prices = { prompt = -1 } }", "llm.prices.prompt",
       "must be a number from 0 to 1000000"},
      {"llm = { url = 'http://x', model = 'm', prices = { completion = 0/0 } }",
       "llm.prices.completion", "must be a number from 0"},
      {"llm = { url = 'http://x', model = 'm', prices = { input = 1 } }", "llm.prices.input",
       "unknown key 'llm.prices.input'"},
      {"llm = { url = 'http://x', model = 'm', api_key = 'sk-1' }", "llm.api_key",
       "unknown key 'llm.api_key'"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ASSERT_EQ(load("lb.lua", bad[i].text, &cfg, &err), AIN_ECONFIG);
    ASSERT_STR_CONTAINS(err.msg, bad[i].msg);
    ASSERT_STR_EQ(err.field, bad[i].field);
    ain_config_free(&cfg);
  }
}

/* publish.compensation and analytics (docs/publishing-after.md): defaults, loaded when set, bad
 * values refused naming the key. */
TEST(post_after_keys) {
  ain_config_t cfg;
  ain_err_t err;
  ain_config_defaults(&cfg);
  ASSERT_STR_EQ(cfg.publish.compensation, "flag");
  ASSERT_EQ(cfg.analytics.interval_s, 0); /* no pull unless asked */
  ASSERT_EQ(cfg.analytics.max_age_days, 30);
  ASSERT_TRUE(cfg.analytics.planner_weight == 0);
  ain_config_free(&cfg);
  ASSERT_OK(load("pa1.lua",
                 "publish = { compensation = 'unpublish_others' }\n"
                 "analytics = { interval_s = 3600, max_age_days = 7, planner_weight = 0.25 }\n",
                 &cfg, &err));
  ASSERT_STR_EQ(cfg.publish.compensation, "unpublish_others");
  ASSERT_EQ(cfg.analytics.interval_s, 3600);
  ASSERT_EQ(cfg.analytics.max_age_days, 7);
  ASSERT_TRUE(cfg.analytics.planner_weight == 0.25);
  ain_config_free(&cfg);
  static const struct {
    const char *text, *field, *msg;
  } bad[] = {
      {"publish = { compensation = 'delete' }", "publish.compensation",
       "must be flag, unpublish_others or none"},
      {"publish = { compensation = 1 }", "publish.compensation", ""},
      {"analytics = { interval_s = -1 }", "analytics.interval_s", ""},
      {"analytics = { max_age_days = 0 }", "analytics.max_age_days", ""},
      {"analytics = { planner_weight = 2 }", "analytics.planner_weight", ""},
      {"analytics = { every = 5 }", "analytics.every", "unknown key 'analytics.every'"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ASSERT_EQ(load("pab.lua", bad[i].text, &cfg, &err), AIN_ECONFIG);
    ASSERT_STR_CONTAINS(err.msg, bad[i].msg);
    ASSERT_STR_EQ(err.field, bad[i].field);
    ain_config_free(&cfg);
  }
}

/* cluster.openclaw: off by default, loaded when set, bad values refused naming the key. */
TEST(tracing_keys) {
  ain_config_t cfg;
  ain_err_t err;
  ain_config_defaults(&cfg);
  ASSERT_EQ(cfg.tracing.enabled, 0); /* off by default */
  ASSERT_STR_EQ(cfg.tracing.service_name, "ain");
  ASSERT_EQ(cfg.tracing.batch_size, 512);
  ASSERT_EQ(cfg.tracing.queue_size, 8192);
  ain_config_free(&cfg);
  ASSERT_OK(load("t1.lua",
                 "tracing = { enabled = true, endpoint = 'http://127.0.0.1:4318', service_name = "
                 "'ain-prod', batch_size = 100, queue_size = 1000, flush_interval_ms = 500, "
                 "timeout_ms = 2000, shutdown_timeout_ms = 0 }\n",
                 &cfg, &err));
  ASSERT_EQ(cfg.tracing.enabled, 1);
  ASSERT_STR_EQ(cfg.tracing.endpoint, "http://127.0.0.1:4318");
  ASSERT_STR_EQ(cfg.tracing.service_name, "ain-prod");
  ASSERT_EQ(cfg.tracing.batch_size, 100);
  ASSERT_EQ(cfg.tracing.shutdown_timeout_ms, 0);
  ain_config_free(&cfg);
  static const struct {
    const char *text, *field, *msg;
  } bad[] = {
      {"tracing = { enabled = true }", "tracing.endpoint", "'tracing.endpoint' is required"},
      {"tracing = { endpoint = 'grpc://x:4317' }", "tracing.endpoint", "http:// or https://"},
      {"tracing = { endpoint = 'http://x:4318/' }", "tracing.endpoint", "trailing slash"},
      {"tracing = { endpoint = 'http://x:4318/v1/traces?x=1' }", "tracing.endpoint", "query"},
      {"tracing = { endpoint = 5 }", "tracing.endpoint", "must be a string"},
      {"tracing = { service_name = '' }", "tracing.service_name", "1 to 128 bytes"},
      {"tracing = { batch_size = 0 }", "tracing.batch_size", "between 1 and 10000"},
      {"tracing = { queue_size = 0 }", "tracing.queue_size", "between 1 and 1000000"},
      {"tracing = { batch_size = 100, queue_size = 50 }", "tracing.batch_size",
       "must not be above 'tracing.queue_size'"},
      {"tracing = { flush_interval_ms = 1 }", "tracing.flush_interval_ms", "between 10 and"},
      {"tracing = { timeout_ms = 0 }", "tracing.timeout_ms", "between 10 and"},
      {"tracing = { shutdown_timeout_ms = -1 }", "tracing.shutdown_timeout_ms", "between 0 and"},
      {"tracing = { enabled = 'yes' }", "tracing.enabled", "must be a boolean"},
      {"tracing = { sampler = 'always' }", "tracing.sampler", "unknown key 'tracing.sampler'"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = load("tb.lua", bad[i].text, &cfg, &err);
    if (rc != AIN_ECONFIG) {
      fprintf(stderr, "accepted: %s\n", bad[i].text);
    }
    ASSERT_EQ(rc, AIN_ECONFIG);
    ASSERT_STR_CONTAINS(err.msg, bad[i].msg);
    ASSERT_STR_EQ(err.field, bad[i].field);
    ain_config_free(&cfg);
  }
}

TEST(openclaw_keys) {
  ain_config_t cfg;
  ain_err_t err;
  ASSERT_OK(load("o0.lua", "cluster = { heartbeat_ms = 500 }\n", &cfg, &err));
  ASSERT_TRUE(cfg.cluster.openclaw.url == NULL && cfg.cluster.openclaw.token_secret == NULL);
  ASSERT_EQ(cfg.cluster.openclaw.reconnect_min_ms, 1000);
  ASSERT_EQ(cfg.cluster.openclaw.reconnect_max_ms, 30000);
  ain_config_free(&cfg);
  ASSERT_OK(load("o1.lua",
                 "cluster = { openclaw = { url = 'wss://gw.example:18789/ws', token_secret = "
                 "'oc_token', reconnect_min_ms = 200, reconnect_max_ms = 2000 } }\n",
                 &cfg, &err));
  ASSERT_STR_EQ(cfg.cluster.openclaw.url, "wss://gw.example:18789/ws");
  ASSERT_STR_EQ(cfg.cluster.openclaw.token_secret, "oc_token");
  ASSERT_EQ(cfg.cluster.openclaw.reconnect_max_ms, 2000);
  ain_config_free(&cfg);
  static const struct {
    const char *text, *field, *msg;
  } bad[] = {
      {"cluster = { openclaw = { url = 'http://gw:1' } }", "cluster.openclaw.url",
       "must be a ws:// or wss:// URL"},
      {"cluster = { openclaw = { url = 'ws://' } }", "cluster.openclaw.url", "with a host"},
      {"cluster = { openclaw = { url = 'ws://gw:1', token_secret = '../t' } }",
       "cluster.openclaw.token_secret", "must name a secret"},
      {"cluster = { openclaw = { token_secret = 't' } }", "cluster.openclaw.url",
       "is required with token_secret"},
      {"cluster = { openclaw = { url = 'ws://gw:1', reconnect_min_ms = 5000, "
       "reconnect_max_ms = 1000 } }",
       "cluster.openclaw.reconnect_max_ms", "must not be below"},
      {"cluster = { openclaw = { url = 'ws://gw:1', token = 'x' } }", "cluster.openclaw.token",
       "unknown key 'cluster.openclaw.token'"},
      {"cluster = { openclaw = { url = 7 } }", "cluster.openclaw.url", "must be a string"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ASSERT_EQ(load("ob.lua", bad[i].text, &cfg, &err), AIN_ECONFIG);
    ASSERT_STR_CONTAINS(err.msg, bad[i].msg);
    ASSERT_STR_EQ(err.field, bad[i].field);
    ain_config_free(&cfg);
  }
}

TEST(retention_keys) {
  ain_config_t cfg;
  ain_err_t err;
  ain_config_defaults(&cfg);
  ASSERT_EQ(cfg.retention.finished_dags_days, 30);
  ASSERT_EQ(cfg.retention.interval_ms, 3600000);
  ain_config_free(&cfg);
  ASSERT_OK(
      load("r.lua", "retention = { finished_dags_days = 0, interval_ms = 60000 }\n", &cfg, &err));
  ASSERT_EQ(cfg.retention.finished_dags_days, 0);
  ASSERT_EQ(cfg.retention.interval_ms, 60000);
  ain_config_free(&cfg);
  ASSERT_EQ(load("r1.lua", "retention = { finished_dags_days = -1 }\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "r1.lua:1: 'retention.finished_dags_days' must be between 0 and");
  ain_config_free(&cfg);
  ASSERT_EQ(load("r2.lua", "retention = { finished_dags_days = '30d' }\n", &cfg, &err),
            AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "'retention.finished_dags_days' must be an integer, got string");
  ain_config_free(&cfg);
  ASSERT_EQ(load("r3.lua", "retention = { interval_ms = 10 }\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "'retention.interval_ms' must be between 1000 and");
  ain_config_free(&cfg);
  ASSERT_EQ(load("r4.lua", "retention = { days = 3 }\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "retention.days");
  ain_config_free(&cfg);
}

/* lua.cpu_ms and the watchdog keys: loaded, defaulted, and refused out of range naming the key. */
TEST(watchdog_keys) {
  ain_config_t cfg;
  ain_err_t err;
  ain_config_defaults(&cfg);
  ASSERT_EQ(cfg.lua.cpu_ms, 10000);
  ASSERT_EQ(cfg.watchdog.grace_ms, 0);
  ASSERT_EQ(cfg.watchdog.record_timeout_ms, 5000);
  ASSERT_EQ(cfg.watchdog.poison_after, 2);
  ain_config_free(&cfg);
  ASSERT_OK(load("w.lua",
                 "lua = { cpu_ms = 300 }\n"
                 "watchdog = { grace_ms = 2500, record_timeout_ms = 1000, poison_after = 3 }\n",
                 &cfg, &err));
  ASSERT_EQ(cfg.lua.cpu_ms, 300);
  ASSERT_EQ(cfg.watchdog.grace_ms, 2500);
  ASSERT_EQ(cfg.watchdog.record_timeout_ms, 1000);
  ASSERT_EQ(cfg.watchdog.poison_after, 3);
  ain_config_free(&cfg);
  ASSERT_EQ(load("w1.lua", "watchdog = { poison_after = 0 }\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_EQ(err.field, "watchdog.poison_after");
  ASSERT_STR_CONTAINS(err.msg, "w1.lua:1");
  ain_config_free(&cfg);
  ASSERT_EQ(load("w2.lua", "watchdog = { record_timeout_ms = 10 }\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "'watchdog.record_timeout_ms' must be between 100 and 600000");
  ain_config_free(&cfg);
  ASSERT_EQ(load("w3.lua", "lua = { cpu_ms = 0 }\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_EQ(err.field, "lua.cpu_ms");
  ain_config_free(&cfg);
  ASSERT_EQ(load("w4.lua", "watchdog = { grace = 5 }\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "unknown key 'watchdog.grace'");
  ain_config_free(&cfg);
  ASSERT_EQ(load("w5.lua", "watchdog = { grace_ms = '1s' }\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "'watchdog.grace_ms' must be an integer");
  ain_config_free(&cfg);
}

TEST(example_file_loads) {
  ain_config_t cfg;
  ain_err_t err;
  ain_config_defaults(&cfg);
  int rc = ain_config_load(&cfg, ain_test_src("ain.lua.example"), &err);
  if (rc != 0) {
    fprintf(stderr, "%s\n", err.msg);
  }
  ASSERT_OK(rc);
  ain_config_free(&cfg);
}

/* Every command loads the config first: a file that spins, eats memory or wedges inside one C
 * call fails the load within its budget instead of hanging the command. */
TEST(budget_stops_a_runaway_config) {
  static const struct {
    const char *text, *want;
  } bad[] = {
      {"shards = 2\nwhile true do end\n", "(more than 10000000 VM instructions)"},
      {"while true do pcall(function() while true do end end) end\n", "exceeded its budget"},
      {"while true do coroutine.resume(coroutine.create(function() while true do end end)) end\n",
       "exceeded its budget"},
      {"local t = {}\nfor i = 1, 1e9 do t[i] = ('x'):rep(4096) .. i end\n", "exceeded its budget"},
      {"local s = ('x'):rep(200 * 1024 * 1024)\n", "(more than 64 MiB of memory)"},
      {"local x = string.find(('a'):rep(60), ('a*'):rep(30) .. 'b')\n",
       "(it did not finish within 1500 ms"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ain_config_t cfg;
    ain_err_t err;
    char name[32];
    snprintf(name, sizeof name, "spin%zu.lua", i);
    uint64_t t0 = ain_mono_ns();
    ASSERT_EQ(load(name, bad[i].text, &cfg, &err), AIN_ECONFIG);
    uint64_t ms = (ain_mono_ns() - t0) / 1000000;
    ASSERT_LE(ms, 1500 + 2500); /* the wall limit and grace, with a loaded machine's margin */
    ASSERT_STR_CONTAINS(err.msg, name);
    ASSERT_STR_CONTAINS(err.msg, ": the config exceeded its budget");
    ASSERT_STR_CONTAINS(err.msg, bad[i].want);
    ain_config_free(&cfg);
  }
  /* the budget is far above a real config: the example, and a loop that builds a table */
  ain_config_t cfg;
  ain_err_t err;
  ASSERT_OK(load("ok.lua", "local n = 0\nfor i = 1, 100000 do n = n + i end\nshards = n % 7 + 1\n",
                 &cfg, &err));
  ASSERT_EQ(cfg.shards, 5000050000LL % 7 + 1);
  ain_config_free(&cfg);
}

TEST(empty_config_file) {
  ain_config_t cfg;
  ain_err_t err;
  /* named with -c: refused, naming the file */
  ASSERT_EQ(load("empty.lua", "", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "empty.lua: the config file is empty (0 bytes)");
  ain_config_free(&cfg);
  /* found by looking (./ain.lua): runs on the defaults, with a warning */
  ain_config_defaults(&cfg);
  ASSERT_OK(ain_config_load_found(&cfg, write_cfg("found.lua", ""), &err));
  ASSERT_STR_CONTAINS(cfg.store.url, "var/ain.db");
  ASSERT_EQ(cfg.queue.claim_batch, 256);
  ain_config_free(&cfg);
  /* a file that says something, even only a comment, is a config */
  ASSERT_OK(load("comment.lua", "-- defaults on purpose\n", &cfg, &err));
  ain_config_free(&cfg);
}

TEST(empty_paths_name_their_key) {
  static const char *const keys[] = {"scripts_dir", "data_dir", "secrets_dir"};
  for (size_t i = 0; i < 3; i++) {
    ain_config_t cfg;
    ain_err_t err;
    char text[128];
    snprintf(text, sizeof text, "shards = 1\n%s = ''\n", keys[i]);
    ASSERT_EQ(load("p.lua", text, &cfg, &err), AIN_ECONFIG);
    char want[128];
    snprintf(want, sizeof want, "p.lua:2: '%s' must not be empty (a path)", keys[i]);
    ASSERT_STR_CONTAINS(err.msg, want);
    ASSERT_STR_EQ(err.field, keys[i]);
    ain_config_free(&cfg);
  }
  ain_config_t cfg;
  ain_err_t err;
  ASSERT_EQ(load("o.lua", "channels = { outbox = { dir = '' } }\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_EQ(err.field, "channels.outbox.dir");
  ain_config_free(&cfg);
  /* trends.source = "" means "no planner" (documented), never the config's folder */
  ASSERT_OK(load("t.lua", "trends = { source = '' }\n", &cfg, &err));
  ASSERT_STR_EQ(cfg.trends.source, "");
  ain_config_free(&cfg);
}

TEST(node_id_must_be_sane_text) {
  static const struct {
    const char *text, *want;
  } bad[] = {
      {"node_id = 'web\xff-1'\n", "'node_id' must be valid UTF-8 (bad byte 0xff at offset 3)"},
      {"node_id = 'a\\xc0\\x80b'\n", "'node_id' must be valid UTF-8"},
      {"node_id = 'a\\nb'\n", "'node_id' must be printable (control character 0x0a at offset 1)"},
      {"node_id = ''\n", "'node_id' must be 1 to 128 bytes long, got 0"},
      {"node_id = ('n'):rep(129)\n", "'node_id' must be 1 to 128 bytes long, got 129"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ain_config_t cfg;
    ain_err_t err;
    ASSERT_EQ(load("id.lua", bad[i].text, &cfg, &err), AIN_ECONFIG);
    ASSERT_STR_CONTAINS(err.msg, bad[i].want);
    ASSERT_STR_EQ(err.field, "node_id");
    ain_config_free(&cfg);
  }
  ain_config_t cfg;
  ain_err_t err;
  ASSERT_OK(load("id.lua", "node_id = 'n\xc5\x93ud-\xe2\x98\x85 1'\n", &cfg, &err));
  ASSERT_STR_EQ(cfg.node_id, "n\xc5\x93ud-\xe2\x98\x85 1");
  ain_config_free(&cfg);
}

TEST(check_timeout_key) {
  ain_config_t cfg;
  ain_err_t err;
  ain_config_defaults(&cfg);
  ASSERT_EQ(cfg.lua.check_timeout_ms, 2000);
  ain_config_free(&cfg);
  ASSERT_OK(load("c.lua", "lua = { check_timeout_ms = 250 }\n", &cfg, &err));
  ASSERT_EQ(cfg.lua.check_timeout_ms, 250);
  ain_config_free(&cfg);
  ASSERT_EQ(load("c.lua", "lua = { check_timeout_ms = 5 }\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "'lua.check_timeout_ms' must be between 10 and 600000, got 5");
  ain_config_free(&cfg);
  ASSERT_EQ(load("c.lua", "lua = { check_timeout_ms = '1s' }\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_EQ(err.field, "lua.check_timeout_ms");
  ain_config_free(&cfg);
}

/* tts = {...} and music = {...}: defaults, a complete openai provider, bad values named. */
TEST(tts_and_music_keys) {
  ain_config_t cfg;
  ain_err_t err;
  ASSERT_OK(load("t0.lua", "tts = {}\nmusic = {}\n", &cfg, &err));
  ASSERT_STR_EQ(cfg.tts.provider, "espeak");
  ASSERT_STR_EQ(cfg.tts.festival, "festival");
  ASSERT_TRUE(cfg.tts.openai.url == NULL && cfg.tts.max_attempts == 3);
  ASSERT_TRUE(cfg.music.enabled == 1 && cfg.music.library == NULL && cfg.music.level == -30);
  ain_config_free(&cfg);
  ASSERT_OK(load("t1.lua",
                 "tts = { provider = 'openai', openai = { url = 'http://127.0.0.1:8880',\n"
                 "  model = 'tts-1', secret = 'tts_key' } }\n"
                 "music = { enabled = false, library = '.', level = -24 }\n",
                 &cfg, &err));
  ASSERT_STR_EQ(cfg.tts.provider, "openai");
  ASSERT_STR_EQ(cfg.tts.openai.secret, "tts_key");
  ASSERT_TRUE(cfg.music.enabled == 0 && cfg.music.level == -24 && cfg.music.library != NULL);
  ain_config_free(&cfg);
  static const struct {
    const char *text, *field, *msg;
  } bad[] = {
      {"tts = { provider = 'polly' }", "tts.provider", "must be \"espeak\", \"festival\" or"},
      {"tts = { provider = 'openai' }", "tts.openai.url", "needs 'tts.openai.url'"},
      {"tts = { openai = { url = 'http://x' } }", "tts.openai.model", "is required"},
      {"tts = { openai = { url = 'ftp://x', model = 'm' } }", "tts.openai.url", "http://"},
      {"tts = { openai = { url = 'http://x', model = 'm', secret = 'a b' } }", "tts.openai.secret",
       "must name a secret"},
      {"tts = { openai = { api_key = 'sk-1' } }", "tts.openai.api_key", "unknown key"},
      {"tts = { max_attempts = 11 }", "tts.max_attempts", "between 1 and 10"},
      {"tts = { festival = '' }", "tts.festival", "must name a program"},
      {"music = { level = -5 }", "music.level", "must be a number from -60 to -10"},
      {"music = { library = '/nonexistent/music' }", "music.library", "must be a folder"},
      {"music = { enabled = 'yes' }", "music.enabled", "music.enabled"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = load("tb.lua", bad[i].text, &cfg, &err);
    if (rc != AIN_ECONFIG) {
      fprintf(stderr, "%s: rc %d\n", bad[i].text, rc);
    }
    ASSERT_EQ(rc, AIN_ECONFIG);
    ASSERT_STR_CONTAINS(err.msg, bad[i].msg);
    ASSERT_STR_EQ(err.field, bad[i].field);
    ain_config_free(&cfg);
  }
}

TEST_MAIN(TEST_ENTRY(tts_and_music_keys), TEST_ENTRY(budget_stops_a_runaway_config), TEST_ENTRY(empty_config_file),
          TEST_ENTRY(empty_paths_name_their_key), TEST_ENTRY(node_id_must_be_sane_text),
          TEST_ENTRY(check_timeout_key), TEST_ENTRY(defaults),
          TEST_ENTRY(assignments_and_relative_paths), TEST_ENTRY(return_table_form),
          TEST_ENTRY(shards_zero_means_cores), TEST_ENTRY(shard_nice_loaded_and_bounded),
          TEST_ENTRY(unknown_key_names_key_and_line),
          TEST_ENTRY(stock_and_library_keys),
          TEST_ENTRY(unknown_nested_key), TEST_ENTRY(wrong_type),
          TEST_ENTRY(out_of_range_and_fractions), TEST_ENTRY(syntax_and_runtime_errors),
          TEST_ENTRY(missing_file), TEST_ENTRY(judge_thresholds), TEST_ENTRY(judge_providers),
          TEST_ENTRY(llm_keys), TEST_ENTRY(openclaw_keys), TEST_ENTRY(retention_keys), TEST_ENTRY(post_after_keys), TEST_ENTRY(tracing_keys), TEST_ENTRY(watchdog_keys),
          TEST_ENTRY(example_file_loads))
