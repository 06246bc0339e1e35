/* Config loader: defaults, assignments and `return {...}` files, and every kind of bad input
 * reported with the key and file:line. */
#include <stdio.h>

#include "config/config.h"
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

TEST(unknown_key_names_key_and_line) {
  ain_config_t cfg;
  ain_err_t err;
  ASSERT_EQ(load("u.lua", "shards = 1\n\nshardz = 2\n", &cfg, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "u.lua:3: unknown key 'shardz'");
  ASSERT_STR_EQ(err.field, "shardz");
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

TEST(retention_keys) {
  ain_config_t cfg;
  ain_err_t err;
  ain_config_defaults(&cfg);
  ASSERT_EQ(cfg.retention.finished_dags_days, 30);
  ASSERT_EQ(cfg.retention.interval_ms, 3600000);
  ain_config_free(&cfg);
  ASSERT_OK(load("r.lua", "retention = { finished_dags_days = 0, interval_ms = 60000 }\n", &cfg,
                 &err));
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

TEST_MAIN(TEST_ENTRY(defaults), TEST_ENTRY(assignments_and_relative_paths),
          TEST_ENTRY(return_table_form), TEST_ENTRY(shards_zero_means_cores),
          TEST_ENTRY(unknown_key_names_key_and_line), TEST_ENTRY(unknown_nested_key),
          TEST_ENTRY(wrong_type), TEST_ENTRY(out_of_range_and_fractions),
          TEST_ENTRY(syntax_and_runtime_errors), TEST_ENTRY(missing_file),
          TEST_ENTRY(judge_thresholds), TEST_ENTRY(retention_keys), TEST_ENTRY(watchdog_keys),
          TEST_ENTRY(example_file_loads))
