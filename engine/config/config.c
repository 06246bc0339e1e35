/* Config loader. The file runs in a throwaway Lua state under a budget (config/eval.c) whose global
 * table records the line of every top-level assignment, so a bad value can be reported as
 * file:line. The accepted keys are one declarative table (config_keys) that is also what
 * ain.lua.example documents. Relies on: config/eval.c, core/util.h, core/log.h, LuaJIT. */
#include "config/config.h"

#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/internal.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/util.h"

/* K_SPAWN, K_API, K_OBJSTORE: the whole `spawn` / `api` / `objstore` table is parsed by
 * config/spawn.c / config/api.c / config/objstore.c. */
/* K_NUMBER: a finite number from min to max (a double). */
typedef enum {
  K_STRING,
  K_INT,
  K_BOOL,
  K_PATH,
  K_TABLE,
  K_FRACTION,
  K_NUMBER,
  K_SPAWN,
  K_API,
  K_OBJSTORE,
  K_SOURCES, /* the `sources` array: config/sources.c */
  K_CHANNELS /* the `channels` table: config/channels.c */
} key_kind_t;

typedef struct {
  const char *name; /* "store.url" */
  key_kind_t kind;
  size_t offset;
  int64_t min, max; /* for K_INT */
} config_key_t;

#define OFF(f) offsetof(ain_config_t, f)
static const config_key_t config_keys[] = {
    {"node_id", K_STRING, OFF(node_id), 0, 0},
    {"shards", K_INT, OFF(shards), 0, 256},
    {"shard_nice", K_INT, OFF(shard_nice), 0, 19},
    {"log_level", K_STRING, OFF(log_level), 0, 0},
    {"log_format", K_STRING, OFF(log_format), 0, 0},
    {"scripts_dir", K_PATH, OFF(scripts_dir), 0, 0},
    {"data_dir", K_PATH, OFF(data_dir), 0, 0},
    {"secrets_dir", K_PATH, OFF(secrets_dir), 0, 0},
    {"store", K_TABLE, 0, 0, 0},
    {"store.url", K_STRING, OFF(store.url), 0, 0},
    {"store.sql_dir", K_PATH, OFF(store.sql_dir), 0, 0},
    {"store.busy_timeout_ms", K_INT, OFF(store.busy_timeout_ms), 0, 600000},
    {"store.synchronous_full", K_BOOL, OFF(store.synchronous_full), 0, 0},
    {"queue", K_TABLE, 0, 0, 0},
    {"queue.claim_batch", K_INT, OFF(queue.claim_batch), 1, 10000},
    {"queue.max_running", K_INT, OFF(queue.max_running), 1, 100000},
    {"queue.lease_ms", K_INT, OFF(queue.lease_ms), 100, 86400000},
    {"queue.poll_ms", K_INT, OFF(queue.poll_ms), 1, 3600000},
    {"queue.reap_interval_ms", K_INT, OFF(queue.reap_interval_ms), 10, 3600000},
    {"queue.retry_base_ms", K_INT, OFF(queue.retry_base_ms), 0, 86400000},
    {"queue.retry_max_ms", K_INT, OFF(queue.retry_max_ms), 0, 86400000 * 7LL},
    {"queue.default_timeout_ms", K_INT, OFF(queue.default_timeout_ms), 1, 86400000},
    {"queue.default_max_attempts", K_INT, OFF(queue.default_max_attempts), 1, 100},
    {"queue.cancel_check_ms", K_INT, OFF(queue.cancel_check_ms), 0, 3600000},
    {"shutdown", K_TABLE, 0, 0, 0},
    {"shutdown.grace_ms", K_INT, OFF(shutdown.grace_ms), 0, 3600000},
    {"cluster", K_TABLE, 0, 0, 0},
    {"cluster.heartbeat_ms", K_INT, OFF(cluster.heartbeat_ms), 50, 600000},
    {"cluster.node_timeout_ms", K_INT, OFF(cluster.node_timeout_ms), 200, 86400000},
    {"cluster.archive_interval_ms", K_INT, OFF(cluster.archive_interval_ms), 0, 86400000},
    {"cluster.archive_after_ms", K_INT, OFF(cluster.archive_after_ms), 0, 86400000 * 365LL},
    {"cluster.openclaw", K_TABLE, 0, 0, 0},
    {"cluster.openclaw.url", K_STRING, OFF(cluster.openclaw.url), 0, 0},
    {"cluster.openclaw.token_secret", K_STRING, OFF(cluster.openclaw.token_secret), 0, 0},
    {"cluster.openclaw.reconnect_min_ms", K_INT, OFF(cluster.openclaw.reconnect_min_ms), 10,
     3600000},
    {"cluster.openclaw.reconnect_max_ms", K_INT, OFF(cluster.openclaw.reconnect_max_ms), 10,
     3600000},
    {"cluster.openclaw.stats_interval_ms", K_INT, OFF(cluster.openclaw.stats_interval_ms), 500,
     3600000},
    {"retention", K_TABLE, 0, 0, 0},
    {"retention.finished_dags_days", K_INT, OFF(retention.finished_dags_days), 0, 36500},
    {"retention.interval_ms", K_INT, OFF(retention.interval_ms), 1000, 86400000},
    {"analytics", K_TABLE, 0, 0, 0}, /* pub-after: the post metrics pull (publish/after.h) */
    {"analytics.interval_s", K_INT, OFF(analytics.interval_s), 0, 86400 * 7},
    {"analytics.max_age_days", K_INT, OFF(analytics.max_age_days), 1, 3650},
    {"analytics.planner_weight", K_FRACTION, OFF(analytics.planner_weight), 0, 0},
    {"publish", K_TABLE, 0, 0, 0},
    {"publish.compensation", K_STRING, OFF(publish.compensation), 0, 0},
    {"lua", K_TABLE, 0, 0, 0},
    {"lua.mem_limit_mb", K_INT, OFF(lua.mem_limit_mb), 1, 65536},
    {"lua.cpu_budget", K_INT, OFF(lua.cpu_budget), 1000, INT64_MAX},
    {"lua.check_timeout_ms", K_INT, OFF(lua.check_timeout_ms), 10, 600000},
    {"lua.cpu_ms", K_INT, OFF(lua.cpu_ms), 10, 3600000},
    {"lua.allow_ffi", K_BOOL, OFF(lua.allow_ffi), 0, 0},
    {"watchdog", K_TABLE, 0, 0, 0},
    {"watchdog.grace_ms", K_INT, OFF(watchdog.grace_ms), 0, 3600000},
    {"watchdog.record_timeout_ms", K_INT, OFF(watchdog.record_timeout_ms), 100, 600000},
    {"watchdog.poison_after", K_INT, OFF(watchdog.poison_after), 1, 100},
    {"trends", K_TABLE, 0, 0, 0},
    {"trends.source", K_PATH, OFF(trends.source), 0, 0},
    {"trends.interval_ms", K_INT, OFF(trends.interval_ms), 100, 86400000},
    {"media", K_TABLE, 0, 0, 0},
    {"media.width", K_INT, OFF(media.width), 16, 4096},
    {"media.height", K_INT, OFF(media.height), 16, 4096},
    {"media.fps", K_INT, OFF(media.fps), 1, 120},
    {"media.preset", K_STRING, OFF(media.preset), 0, 0},
    {"media.crf", K_INT, OFF(media.crf), 0, 51},
    {"media.render_timeout_ms", K_INT, OFF(media.render_timeout_ms), 100, 86400000},
    {"media.tts_timeout_ms", K_INT, OFF(media.tts_timeout_ms), 100, 86400000},
    {"media.max_renders", K_INT, OFF(media.max_renders), 0, 256},
    {"media.library", K_PATH, OFF(media.library), 0, 0},
    {"stock", K_TABLE, 0, 0, 0},
    {"stock.order", K_STRING, OFF(stock.order), 0, 0},
    {"stock.timeout_ms", K_INT, OFF(stock.timeout_ms), 100, 600000},
    {"stock.max_bytes", K_INT, OFF(stock.max_bytes), 1024, 1073741824},
    {"stock.pexels", K_TABLE, 0, 0, 0},
    {"stock.pexels.url", K_STRING, OFF(stock.pexels.url), 0, 0},
    {"stock.pexels.key_secret", K_STRING, OFF(stock.pexels.key_secret), 0, 0},
    {"stock.pixabay", K_TABLE, 0, 0, 0},
    {"stock.pixabay.url", K_STRING, OFF(stock.pixabay.url), 0, 0},
    {"stock.pixabay.key_secret", K_STRING, OFF(stock.pixabay.key_secret), 0, 0},
    {"media.inspect", K_TABLE, 0, 0, 0},
    {"media.inspect.enabled", K_BOOL, OFF(media.inspect.enabled), 0, 0},
    {"media.inspect.frame_interval_ms", K_INT, OFF(media.inspect.frame_interval_ms), 200, 60000},
    {"media.inspect.ocr_height", K_INT, OFF(media.inspect.ocr_height), 240, 4096},
    {"media.inspect.asr_lw", K_INT, OFF(media.inspect.asr_lw), 1, 40},
    {"media.inspect.timeout_ms", K_INT, OFF(media.inspect.timeout_ms), 100, 86400000},
    {"metrics", K_TABLE, 0, 0, 0},
    {"metrics.enabled", K_BOOL, OFF(metrics.enabled), 0, 0},
    {"metrics.store_cache_ms", K_INT, OFF(metrics.store_cache_ms), 0, 600000},
    {"tracing", K_TABLE, 0, 0, 0},
    {"tracing.enabled", K_BOOL, OFF(tracing.enabled), 0, 0},
    {"tracing.endpoint", K_STRING, OFF(tracing.endpoint), 0, 0},
    {"tracing.service_name", K_STRING, OFF(tracing.service_name), 0, 0},
    {"tracing.batch_size", K_INT, OFF(tracing.batch_size), 1, 10000},
    {"tracing.queue_size", K_INT, OFF(tracing.queue_size), 1, 1000000},
    {"tracing.flush_interval_ms", K_INT, OFF(tracing.flush_interval_ms), 10, 600000},
    {"tracing.timeout_ms", K_INT, OFF(tracing.timeout_ms), 10, 600000},
    {"tracing.shutdown_timeout_ms", K_INT, OFF(tracing.shutdown_timeout_ms), 0, 600000},
    {"review", K_TABLE, 0, 0, 0},
    {"review.backlog_pause_at", K_INT, OFF(review.backlog_pause_at), 0, 1000000000},
    {"review.backlog_resume_at", K_INT, OFF(review.backlog_resume_at), 0, 1000000000},
    {"judge", K_TABLE, 0, 0, 0},
    {"judge.pass", K_FRACTION, OFF(judge.pass), 0, 0},
    {"judge.reject", K_FRACTION, OFF(judge.reject), 0, 0},
    {"judge.providers", K_TABLE, 0, 0, 0},
    {"judge.providers.moderation", K_TABLE, 0, 0, 0},
    {"judge.providers.moderation.url", K_STRING, OFF(judge.providers.moderation.url), 0, 0},
    {"judge.providers.moderation.model", K_STRING, OFF(judge.providers.moderation.model), 0, 0},
    {"judge.providers.moderation.secret", K_STRING, OFF(judge.providers.moderation.secret), 0, 0},
    {"judge.providers.moderation.timeout_ms", K_INT, OFF(judge.providers.moderation.timeout_ms), 1,
     600000},
    {"judge.providers.llm", K_TABLE, 0, 0, 0},
    {"judge.providers.llm.url", K_STRING, OFF(judge.providers.llm.url), 0, 0},
    {"judge.providers.llm.model", K_STRING, OFF(judge.providers.llm.model), 0, 0},
    {"judge.providers.llm.secret", K_STRING, OFF(judge.providers.llm.secret), 0, 0},
    {"judge.providers.llm.timeout_ms", K_INT, OFF(judge.providers.llm.timeout_ms), 1, 600000},
    {"llm", K_TABLE, 0, 0, 0},
    {"llm.url", K_STRING, OFF(llm.url), 0, 0},
    {"llm.model", K_STRING, OFF(llm.model), 0, 0},
    {"llm.secret", K_STRING, OFF(llm.secret), 0, 0},
    {"llm.response_format", K_STRING, OFF(llm.response_format), 0, 0},
    {"llm.timeout_ms", K_INT, OFF(llm.timeout_ms), 1, 600000},
    {"llm.max_attempts", K_INT, OFF(llm.max_attempts), 1, 10},
    {"llm.max_tokens", K_INT, OFF(llm.max_tokens), 1, 1000000},
    {"llm.prices", K_TABLE, 0, 0, 0},
    {"llm.prices.prompt", K_NUMBER, OFF(llm.price_prompt), 0, 1000000},
    {"llm.prices.completion", K_NUMBER, OFF(llm.price_completion), 0, 1000000},
    {"channels", K_CHANNELS, OFF(channels), 0, 0},
    {"publish.token", K_TABLE, 0, 0, 0},
    {"publish.token.alg", K_STRING, OFF(publish.token.alg), 0, 0},
    {"publish.token.secret", K_STRING, OFF(publish.token.secret), 0, 0},
    {"publish.token.private_key", K_PATH, OFF(publish.token.private_key), 0, 0},
    {"publish.token.public_key", K_PATH, OFF(publish.token.public_key), 0, 0},
    {"publish.token.ttl_s", K_INT, OFF(publish.token.ttl_s), 1, 300},
    {"publish.token.grant_ttl_s", K_INT, OFF(publish.token.grant_ttl_s), 0, 86400 * 30},
    {"tts", K_TABLE, 0, 0, 0},
    {"tts.provider", K_STRING, OFF(tts.provider), 0, 0},
    {"tts.festival", K_STRING, OFF(tts.festival), 0, 0},
    {"tts.pocketsphinx", K_STRING, OFF(tts.pocketsphinx), 0, 0},
    {"tts.max_attempts", K_INT, OFF(tts.max_attempts), 1, 10},
    {"tts.openai", K_TABLE, 0, 0, 0},
    {"tts.openai.url", K_STRING, OFF(tts.openai.url), 0, 0},
    {"tts.openai.model", K_STRING, OFF(tts.openai.model), 0, 0},
    {"tts.openai.secret", K_STRING, OFF(tts.openai.secret), 0, 0},
    {"tts.openai.timeout_ms", K_INT, OFF(tts.openai.timeout_ms), 1, 600000},
    {"music", K_TABLE, 0, 0, 0},
    {"music.enabled", K_BOOL, OFF(music.enabled), 0, 0},
    {"music.library", K_PATH, OFF(music.library), 0, 0},
    {"music.level", K_NUMBER, OFF(music.level), -60, -10},
    {"embed", K_TABLE, 0, 0, 0},
    {"embed.provider", K_STRING, OFF(embed.provider), 0, 0},
    {"embed.dims", K_INT, OFF(embed.dims), 16, 8192},
    {"embed.url", K_STRING, OFF(embed.url), 0, 0},
    {"embed.model", K_STRING, OFF(embed.model), 0, 0},
    {"embed.secret", K_STRING, OFF(embed.secret), 0, 0},
    {"embed.timeout_ms", K_INT, OFF(embed.timeout_ms), 1, 600000},
    {"embed.batch", K_INT, OFF(embed.batch), 1, 2048},
    {"vectors", K_TABLE, 0, 0, 0},
    {"vectors.backend", K_STRING, OFF(vectors.backend), 0, 0},
    {"vectors.dedup_threshold", K_FRACTION, OFF(vectors.dedup_threshold), 0, 0},
    {"vectors.dedup_window_hours", K_INT, OFF(vectors.dedup_window_hours), 1, 24 * 365},
    {"vectors.persona_min_similarity", K_FRACTION, OFF(vectors.persona_min_similarity), 0, 0},
    {"vectors.qdrant", K_TABLE, 0, 0, 0},
    {"vectors.qdrant.url", K_STRING, OFF(vectors.qdrant.url), 0, 0},
    {"vectors.qdrant.secret", K_STRING, OFF(vectors.qdrant.secret), 0, 0},
    {"vectors.qdrant.prefix", K_STRING, OFF(vectors.qdrant.prefix), 0, 0},
    {"vectors.qdrant.timeout_ms", K_INT, OFF(vectors.qdrant.timeout_ms), 1, 600000},
    {"spawn", K_SPAWN, OFF(spawn), 0, 0},
    {"api", K_API, OFF(api), 0, 0},
    {"sources", K_SOURCES, OFF(sources), 0, 0},
    {"objstore", K_OBJSTORE, OFF(objstore), 0, 0},
};
#undef OFF

static int is_int_key(const config_key_t *k) {
  /* These are stored as int, the rest of K_INT as int64_t. */
  return strcmp(k->name, "shards") == 0 || strcmp(k->name, "shard_nice") == 0 ||
         strcmp(k->name, "store.busy_timeout_ms") == 0 ||
         strcmp(k->name, "queue.claim_batch") == 0 || strcmp(k->name, "queue.max_running") == 0 ||
         strcmp(k->name, "queue.default_max_attempts") == 0;
}

static void set_str(char **slot, const char *v) {
  free(*slot);
  *slot = ain_strdup(v);
}

void ain_config_defaults(ain_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  char host[128] = "localhost";
  gethostname(host, sizeof host - 1);
  char node[192];
  snprintf(node, sizeof node, "%s", host);
  cfg->node_id = ain_strdup(node);
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  cfg->shards = cores > 0 ? (int)cores : 1;
  cfg->log_level = ain_strdup("info");
  cfg->log_format = ain_strdup("auto");
  cfg->scripts_dir = ain_strdup("scripts");
  cfg->data_dir = ain_strdup("var");
  cfg->secrets_dir = ain_strdup("secrets");
  cfg->store.url = ain_strdup("sqlite:var/ain.db");
  cfg->store.sql_dir = ain_strdup(AIN_SOURCE_DIR "/sql");
  cfg->store.busy_timeout_ms = 5000;
  cfg->store.synchronous_full = 1;
  cfg->queue.claim_batch = 256;
  cfg->queue.max_running = 256;
  cfg->queue.lease_ms = 30000;
  cfg->queue.poll_ms = 250;
  cfg->queue.reap_interval_ms = 1000;
  cfg->queue.retry_base_ms = 1000;
  cfg->queue.retry_max_ms = 300000;
  cfg->judge.pass = -1;
  cfg->embed.provider = ain_strdup("hashed-ngrams");
  cfg->embed.dims = 1024;
  cfg->embed.timeout_ms = 30000;
  cfg->embed.batch = 64;
  cfg->vectors.backend = ain_strdup("flat");
  cfg->vectors.dedup_threshold = 0.45;
  cfg->vectors.dedup_window_hours = 72;
  cfg->vectors.persona_min_similarity = 0.15;
  cfg->vectors.qdrant.timeout_ms = 10000;
  cfg->judge.reject = -1;
  cfg->metrics.enabled = 1;
  cfg->metrics.store_cache_ms = 1000;
  cfg->tracing.service_name = ain_strdup("ain");
  cfg->tracing.batch_size = 512;
  cfg->tracing.queue_size = 8192;
  cfg->tracing.flush_interval_ms = 1000;
  cfg->tracing.timeout_ms = 3000;
  cfg->tracing.shutdown_timeout_ms = 2000;
  cfg->judge.providers.moderation.timeout_ms = 3000;
  cfg->judge.providers.llm.timeout_ms = 5000;
  cfg->llm.timeout_ms = 30000;
  cfg->llm.max_attempts = 3;
  cfg->llm.max_tokens = 1024;
  cfg->llm.price_prompt = -1;
  cfg->llm.price_completion = -1;
  cfg->queue.default_timeout_ms = 120000;
  cfg->queue.default_max_attempts = 3;
  cfg->queue.cancel_check_ms = 500;
  cfg->shutdown.grace_ms = 10000;
  cfg->cluster.heartbeat_ms = 2000;
  cfg->cluster.node_timeout_ms = 15000;
  cfg->cluster.archive_interval_ms = 10000;
  cfg->cluster.archive_after_ms = 300000;
  cfg->cluster.openclaw.reconnect_min_ms = 1000;
  cfg->cluster.openclaw.reconnect_max_ms = 30000;
  cfg->cluster.openclaw.stats_interval_ms = 15000;
  cfg->retention.finished_dags_days = 30;
  cfg->retention.interval_ms = 3600000;
  cfg->analytics.interval_s = 0;
  cfg->analytics.max_age_days = 30;
  cfg->publish.compensation = ain_strdup("flag");
  cfg->lua.mem_limit_mb = 256;
  cfg->lua.cpu_budget = 200000000;
  cfg->lua.check_timeout_ms = 2000;
  cfg->lua.cpu_ms = 10000;
  cfg->lua.allow_ffi = 0;
  cfg->watchdog.grace_ms = 0; /* max(1000, lua.cpu_ms / 2) */
  cfg->watchdog.record_timeout_ms = 5000;
  cfg->watchdog.poison_after = 2;
  cfg->trends.source = ain_strdup("samples/trends.jsonl");
  cfg->trends.interval_ms = 60000;
  cfg->media.width = 1080;
  cfg->media.height = 1920;
  cfg->media.fps = 30;
  cfg->media.preset = ain_strdup("veryfast");
  cfg->media.crf = 23;
  cfg->media.render_timeout_ms = 170000;
  cfg->stock.timeout_ms = 60000;
  cfg->stock.max_bytes = 200LL * 1024 * 1024;
  cfg->media.tts_timeout_ms = 50000;
  cfg->media.max_renders = 0;
  cfg->media.inspect.enabled = 1;
  cfg->media.inspect.frame_interval_ms = 2000;
  cfg->media.inspect.ocr_height = 960;
  cfg->media.inspect.asr_lw = 10;
  cfg->media.inspect.timeout_ms = 120000;
  ain_config_channels_defaults(&cfg->channels);
  cfg->publish.token.ttl_s = 300;
  cfg->publish.token.grant_ttl_s = 86400;
  cfg->tts.provider = ain_strdup("espeak");
  cfg->tts.festival = ain_strdup("festival");
  cfg->tts.pocketsphinx = ain_strdup("pocketsphinx_continuous");
  cfg->tts.openai.timeout_ms = 60000;
  cfg->tts.max_attempts = 3;
  cfg->music.enabled = 1;
  cfg->music.level = -30;
  ain_spawn_config_defaults(&cfg->spawn);
  ain_api_config_defaults(&cfg->api);
  ain_sources_config_defaults(&cfg->sources);
  ain_objstore_config_defaults(&cfg->objstore);
}

void ain_config_free(ain_config_t *cfg) {
  free(cfg->path);
  free(cfg->node_id);
  free(cfg->log_level);
  free(cfg->log_format);
  free(cfg->scripts_dir);
  free(cfg->data_dir);
  free(cfg->secrets_dir);
  free(cfg->store.url);
  free(cfg->store.sql_dir);
  free(cfg->trends.source);
  free(cfg->media.preset);
  ain_config_channels_free(&cfg->channels);
  free(cfg->publish.token.alg);
  free(cfg->publish.token.secret);
  free(cfg->publish.token.private_key);
  free(cfg->publish.token.public_key);
  free(cfg->publish.compensation);
  free(cfg->cluster.openclaw.url);
  free(cfg->cluster.openclaw.token_secret);
  free(cfg->tracing.endpoint);
  free(cfg->tracing.service_name);
  ain_config_provider_t *pv[] = {&cfg->judge.providers.moderation, &cfg->judge.providers.llm};
  for (size_t i = 0; i < 2; i++) {
    free(pv[i]->url);
    free(pv[i]->model);
    free(pv[i]->secret);
  }
  char *tv[] = {cfg->tts.provider, cfg->tts.festival, cfg->tts.pocketsphinx, cfg->tts.openai.url,
                cfg->tts.openai.model, cfg->tts.openai.secret, cfg->music.library};
  for (size_t i = 0; i < sizeof tv / sizeof tv[0]; i++) {
    free(tv[i]);
  }
  free(cfg->llm.url);
  free(cfg->media.library);
  free(cfg->stock.order);
  free(cfg->stock.pexels.url);
  free(cfg->stock.pexels.key_secret);
  free(cfg->stock.pixabay.url);
  free(cfg->stock.pixabay.key_secret);
  free(cfg->llm.model);
  free(cfg->llm.secret);
  free(cfg->llm.response_format);
  char *vs[] = {cfg->embed.provider, cfg->embed.url, cfg->embed.model, cfg->embed.secret,
                cfg->vectors.backend, cfg->vectors.qdrant.url, cfg->vectors.qdrant.secret,
                cfg->vectors.qdrant.prefix};
  for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++) {
    free(vs[i]);
  }
  ain_spawn_config_free(&cfg->spawn);
  ain_api_config_free(&cfg->api);
  ain_sources_config_free(&cfg->sources);
  ain_objstore_config_free(&cfg->objstore);
  memset(cfg, 0, sizeof *cfg);
}

static const config_key_t *find_key(const char *name) {
  for (size_t i = 0; i < sizeof config_keys / sizeof config_keys[0]; i++) {
    if (strcmp(config_keys[i].name, name) == 0) {
      return &config_keys[i];
    }
  }
  return NULL;
}

static char *resolve_path(const char *base_dir, const char *p) {
  if (p[0] == '/' || base_dir == NULL || base_dir[0] == '\0' || strcmp(base_dir, ".") == 0) {
    return ain_strdup(p);
  }
  size_t n = strlen(base_dir) + strlen(p) + 2;
  char *out = malloc(n);
  if (out == NULL) {
    abort();
  }
  snprintf(out, n, "%s/%s", base_dir, p);
  return out;
}

static const char *lua_kind_name(key_kind_t k) {
  switch (k) {
  case K_STRING:
  case K_PATH:
    return "a string";
  case K_INT:
    return "an integer";
  case K_BOOL:
    return "a boolean";
  case K_TABLE:
    return "a table";
  case K_FRACTION:
  case K_NUMBER:
    return "a number";
  case K_SPAWN:
  case K_API:
  case K_SOURCES:
  case K_OBJSTORE:
  case K_CHANNELS:
    return "a table";
  }
  return "?";
}

/* Applies the value at the top of the stack to key `name`. */
static int apply_value(lua_State *L, ain_config_t *cfg, const char *name, const char *where,
                       const char *base_dir, ain_err_t *err) {
  const config_key_t *k = find_key(name);
  if (k == NULL) {
    return ain_err_field(err, AIN_ECONFIG, name, "%s: unknown key '%s'", where, name);
  }
  int t = lua_type(L, -1);
  char *base = (char *)cfg;
  switch (k->kind) {
  case K_SPAWN:
    return ain_spawn_config_parse(L, (ain_spawn_config_t *)(base + k->offset), where, base_dir,
                                  err);
  case K_API:
    return ain_api_config_parse(L, (ain_api_config_t *)(base + k->offset), where, base_dir, err);
  case K_SOURCES:
    return ain_sources_config_parse(L, (ain_sources_config_t *)(base + k->offset), where,
                                    base_dir, err);
  case K_OBJSTORE:
    return ain_objstore_config_parse(L, (ain_objstore_config_t *)(base + k->offset), where,
                                     base_dir, err);
  case K_CHANNELS:
    return ain_config_channels_parse(L, (ain_config_channels_t *)(base + k->offset), where,
                                     base_dir, err);
  case K_TABLE: {
    if (t != LUA_TTABLE) {
      goto type_error;
    }
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      if (lua_type(L, -2) != LUA_TSTRING) {
        lua_pop(L, 2);
        return ain_err_field(err, AIN_ECONFIG, name, "%s: '%s' has a key that is not a string",
                             where, name);
      }
      char sub[256];
      snprintf(sub, sizeof sub, "%s.%s", name, lua_tostring(L, -2));
      int rc = apply_value(L, cfg, sub, where, base_dir, err);
      lua_pop(L, 1);
      if (rc != 0) {
        lua_pop(L, 1);
        return rc;
      }
    }
    return 0;
  }
  case K_STRING:
  case K_PATH:
    if (t != LUA_TSTRING) {
      goto type_error;
    }
    if (k->kind == K_PATH && lua_objlen(L, -1) == 0) {
      /* "" would resolve to the config's folder. It means "off" only where documented so. */
      if (strcmp(name, "trends.source") != 0) {
        return ain_err_field(err, AIN_ECONFIG, name, "%s: '%s' must not be empty (a path)", where,
                             name);
      }
      set_str((char **)(base + k->offset), "");
    } else if (k->kind == K_PATH) {
      char *p = resolve_path(base_dir, lua_tostring(L, -1));
      free(*(char **)(base + k->offset));
      *(char **)(base + k->offset) = p;
    } else {
      set_str((char **)(base + k->offset), lua_tostring(L, -1));
    }
    return 0;
  case K_BOOL:
    if (t != LUA_TBOOLEAN) {
      goto type_error;
    }
    *(int *)(base + k->offset) = lua_toboolean(L, -1);
    return 0;
  case K_INT: {
    if (t != LUA_TNUMBER) {
      goto type_error;
    }
    double d = lua_tonumber(L, -1);
    if (d != floor(d)) { /* a fraction or NaN */
      return ain_err_field(err, AIN_ECONFIG, name, "%s: '%s' must be an integer, got %g", where,
                           name, d);
    }
    /* the range is checked on the double: casting 1e300 or inf to int64_t is undefined */
    if (d < (double)k->min || d > (double)k->max) {
      return ain_err_field(err, AIN_ECONFIG, name, "%s: '%s' must be between %lld and %lld, got %g",
                           where, name, (long long)k->min, (long long)k->max, d);
    }
    int64_t v = (int64_t)d;
    if (is_int_key(k)) {
      *(int *)(base + k->offset) = (int)v;
    } else {
      *(int64_t *)(base + k->offset) = v;
    }
    return 0;
  }
  case K_NUMBER: {
    if (t != LUA_TNUMBER) {
      goto type_error;
    }
    double d = lua_tonumber(L, -1);
    if (!(d >= (double)k->min && d <= (double)k->max)) { /* NaN fails too */
      return ain_err_field(err, AIN_ECONFIG, name,
                           "%s: '%s' must be a number from %lld to %lld, got %g", where, name,
                           (long long)k->min, (long long)k->max, d);
    }
    *(double *)(base + k->offset) = d;
    return 0;
  }
  case K_FRACTION: {
    if (t != LUA_TNUMBER) {
      goto type_error;
    }
    double d = lua_tonumber(L, -1);
    if (!(d >= 0.0 && d <= 1.0)) {
      return ain_err_field(err, AIN_ECONFIG, name, "%s: '%s' must be between 0 and 1, got %g",
                           where, name, d);
    }
    *(double *)(base + k->offset) = d;
    return 0;
  }
  }
type_error:
  return ain_err_field(err, AIN_ECONFIG, name, "%s: '%s' must be %s, got %s", where, name,
                       lua_kind_name(k->kind), lua_typename(L, t));
}

/* A model provider (judge.providers.<name>, llm: `prefix` is its key) is off without a url; one
 * set is complete and sane: an http(s) URL without spaces, query or trailing slash, a model, and a
 * secret name ain.secret accepts. */
static int check_provider(const ain_config_provider_t *p, const char *prefix, const char *path,
                          ain_err_t *err) {
  char key[96];
  if (p->url == NULL) {
    if (p->model != NULL || p->secret != NULL) {
      snprintf(key, sizeof key, "%s.url", prefix);
      return ain_err_field(err, AIN_ECONFIG, key,
                           "%s: '%s' is required (the provider's base URL, "
                           "such as \"http://127.0.0.1:8080\")",
                           path, key);
    }
    return 0;
  }
  snprintf(key, sizeof key, "%s.url", prefix);
  size_t n = strlen(p->url);
  size_t scheme = strncmp(p->url, "http://", 7) == 0    ? 7
                  : strncmp(p->url, "https://", 8) == 0 ? 8
                                                        : 0;
  if (scheme == 0 || strpbrk(p->url, " \t\r\n?#") != NULL || n <= scheme || p->url[n - 1] == '/') {
    return ain_err_field(err, AIN_ECONFIG, key,
                         "%s: '%s' must be an http:// or https:// base URL without spaces, query "
                         "or trailing slash (the /v1/... path is added), got '%s'",
                         path, key, p->url);
  }
  snprintf(key, sizeof key, "%s.model", prefix);
  if (p->model == NULL || p->model[0] == '\0' || strlen(p->model) > 200) {
    return ain_err_field(err, AIN_ECONFIG, key, "%s: '%s' is required (1 to 200 bytes)", path, key);
  }
  if (p->secret != NULL) {
    snprintf(key, sizeof key, "%s.secret", prefix);
    const char *s = p->secret;
    int ok = s[0] != '\0' && strlen(s) <= 64 && s[0] != '-' && s[0] != '.';
    for (; ok && *s; s++) {
      ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
           *s == '_' || *s == '-' || *s == '.';
    }
    if (!ok) {
      return ain_err_field(err, AIN_ECONFIG, key,
                           "%s: '%s' must name a secret (1 to 64 of A-Z a-z 0-9 _, and - . after "
                           "the first), got '%s'",
                           path, key, p->secret);
    }
  }
  return 0;
}

/* cluster.openclaw: a ws:// or wss:// URL (the gateway's WebSocket), an optional secret name for
 * its token (the token itself never appears in config), backoff bounds in order. */
static int check_openclaw(const ain_config_t *cfg, const char *path, ain_err_t *err) {
  const char *u = cfg->cluster.openclaw.url;
  const char *t = cfg->cluster.openclaw.token_secret;
  if (u == NULL) {
    if (t != NULL) {
      return ain_err_field(err, AIN_ECONFIG, "cluster.openclaw.url",
                           "%s: 'cluster.openclaw.url' is required with token_secret (the "
                           "gateway's WebSocket, such as \"ws://127.0.0.1:18789\")",
                           path);
    }
    return 0;
  }
  size_t scheme = strncmp(u, "ws://", 5) == 0 ? 5 : strncmp(u, "wss://", 6) == 0 ? 6 : 0;
  if (scheme == 0 || strlen(u) <= scheme || strlen(u) > 512 || strpbrk(u, " \t\r\n#") != NULL ||
      u[scheme] == '/' || u[scheme] == ':') {
    return ain_err_field(err, AIN_ECONFIG, "cluster.openclaw.url",
                         "%s: 'cluster.openclaw.url' must be a ws:// or wss:// URL with a host "
                         "and no spaces (up to 512 bytes), got '%s'",
                         path, u);
  }
  if (t != NULL && !ain_secret_name_ok(t, strlen(t))) {
    return ain_err_field(err, AIN_ECONFIG, "cluster.openclaw.token_secret",
                         "%s: 'cluster.openclaw.token_secret' must name a secret (1 to 64 of "
                         "A-Z a-z 0-9 _, and - . after the first), got '%s'",
                         path, t);
  }
  if (cfg->cluster.openclaw.reconnect_max_ms < cfg->cluster.openclaw.reconnect_min_ms) {
    return ain_err_field(err, AIN_ECONFIG, "cluster.openclaw.reconnect_max_ms",
                         "%s: 'cluster.openclaw.reconnect_max_ms' (%lld) must not be below "
                         "'cluster.openclaw.reconnect_min_ms' (%lld)",
                         path, (long long)cfg->cluster.openclaw.reconnect_max_ms,
                         (long long)cfg->cluster.openclaw.reconnect_min_ms);
  }
  return 0;
}

/* stock = {...}: each provider needs a base URL and the name of its key's secret (never the key),
 * and order names configured providers only, so a typo cannot silently skip stock footage. */
static int check_stock(const ain_config_t *cfg, const char *path, ain_err_t *err) {
  const struct {
    const char *name;
    const char *url, *secret;
  } pv[] = {{"pexels", cfg->stock.pexels.url, cfg->stock.pexels.key_secret},
            {"pixabay", cfg->stock.pixabay.url, cfg->stock.pixabay.key_secret}};
  for (size_t i = 0; i < 2; i++) {
    char key[64];
    if (pv[i].url == NULL && pv[i].secret == NULL) {
      continue;
    }
    snprintf(key, sizeof key, "stock.%s.url", pv[i].name);
    if (pv[i].url == NULL || (strncmp(pv[i].url, "http://", 7) != 0 &&
                              strncmp(pv[i].url, "https://", 8) != 0) ||
        strpbrk(pv[i].url, " \t\r\n?#") != NULL) {
      return ain_err_field(err, AIN_ECONFIG, key,
                           "%s: '%s' must be an http:// or https:// base URL (such as "
                           "\"https://api.pexels.com\")",
                           path, key);
    }
    snprintf(key, sizeof key, "stock.%s.key_secret", pv[i].name);
    if (pv[i].secret == NULL || pv[i].secret[0] == '\0') {
      return ain_err_field(err, AIN_ECONFIG, key,
                           "%s: '%s' is required: the name of the secret holding the API key",
                           path, key);
    }
  }
  if (cfg->stock.order != NULL) {
    char buf[128];
    snprintf(buf, sizeof buf, "%s", cfg->stock.order);
    char *save = NULL;
    for (char *t = strtok_r(buf, ", ", &save); t != NULL; t = strtok_r(NULL, ", ", &save)) {
      int ok = (strcmp(t, "pexels") == 0 && cfg->stock.pexels.url != NULL) ||
               (strcmp(t, "pixabay") == 0 && cfg->stock.pixabay.url != NULL);
      if (!ok) {
        return ain_err_field(err, AIN_ECONFIG, "stock.order",
                             "%s: 'stock.order' names '%s', which is not a configured provider "
                             "(stock.pexels or stock.pixabay)",
                             path, t);
      }
    }
  }
  return 0;
}

/* tracing: enabled needs an endpoint; an endpoint is an http(s) base URL (the exporter adds
 * /v1/traces); the service name is what a trace viewer groups by, so it must say something.
 * batch_size above queue_size could never fill a batch. */
static int check_tracing(const ain_tracing_config_t *t, const char *path, ain_err_t *err) {
  if (t->endpoint != NULL) {
    size_t n = strlen(t->endpoint);
    size_t scheme = strncmp(t->endpoint, "http://", 7) == 0    ? 7
                    : strncmp(t->endpoint, "https://", 8) == 0 ? 8
                                                               : 0;
    if (scheme == 0 || strpbrk(t->endpoint, " \t\r\n?#") != NULL || n <= scheme ||
        t->endpoint[n - 1] == '/') {
      return ain_err_field(err, AIN_ECONFIG, "tracing.endpoint",
                           "%s: 'tracing.endpoint' must be an http:// or https:// base URL without "
                           "spaces, query or trailing slash (/v1/traces is added), got '%s'",
                           path, t->endpoint);
    }
  } else if (t->enabled) {
    return ain_err_field(err, AIN_ECONFIG, "tracing.endpoint",
                         "%s: 'tracing.endpoint' is required when 'tracing.enabled' is true "
                         "(the collector's OTLP/HTTP base URL, such as \"http://127.0.0.1:4318\")",
                         path);
  }
  if (t->service_name == NULL || t->service_name[0] == '\0' || strlen(t->service_name) > 128) {
    return ain_err_field(err, AIN_ECONFIG, "tracing.service_name",
                         "%s: 'tracing.service_name' must be 1 to 128 bytes", path);
  }
  if (t->batch_size > t->queue_size) {
    return ain_err_field(err, AIN_ECONFIG, "tracing.batch_size",
                         "%s: 'tracing.batch_size' (%lld) must not be above 'tracing.queue_size' "
                         "(%lld)",
                         path, (long long)t->batch_size, (long long)t->queue_size);
  }
  return 0;
}

/* The names of engine/media/safearea.c's profiles (config cannot link media; test_textfit checks
 * that both lists agree). */
int ain_config_safe_profile_known(const char *name) {
  static const char *const names[] = {"tiktok", "reels", "shorts"};
  for (size_t i = 0; name != NULL && i < sizeof names / sizeof names[0]; i++) {
    if (strcmp(names[i], name) == 0) {
      return 1;
    }
  }
  return 0;
}

/* llm = {...}: a provider like the judge's, plus what only ain.llm reads. Prices and a
 * response_format without a url would configure nothing: refused, naming the missing key. */
static int check_llm(const ain_config_t *cfg, const char *path, ain_err_t *err) {
  ain_config_provider_t p = {.url = cfg->llm.url,
                             .model = cfg->llm.model,
                             .secret = cfg->llm.secret,
                             .timeout_ms = cfg->llm.timeout_ms};
  int rc = check_provider(&p, "llm", path, err);
  if (rc != 0) {
    return rc;
  }
  const char *rf = cfg->llm.response_format;
  if (rf != NULL && strcmp(rf, "json_schema") != 0 && strcmp(rf, "json_object") != 0 &&
      strcmp(rf, "none") != 0) {
    return ain_err_field(err, AIN_ECONFIG, "llm.response_format",
                         "%s: 'llm.response_format' must be json_schema, json_object or none, "
                         "got '%s'",
                         path, rf);
  }
  if (cfg->llm.url == NULL &&
      (rf != NULL || cfg->llm.price_prompt >= 0 || cfg->llm.price_completion >= 0)) {
    return ain_err_field(err, AIN_ECONFIG, "llm.url",
                         "%s: 'llm.url' is required (the model server's base URL, such as "
                         "\"http://127.0.0.1:8080\")",
                         path);
  }
  return 0;
}

/* node_id names this process in the nodes table, logs and audit rows: text a person can read. */
/* tts = {...} and music = {...}: a provider the engine has, and the openai provider complete when
 * it is the default (a persona that picks it is checked by the tts step, naming the persona). */
static int check_voice(const ain_config_t *cfg, const char *path, ain_err_t *err) {
  const char *p = cfg->tts.provider;
  if (p == NULL || (strcmp(p, "espeak") != 0 && strcmp(p, "festival") != 0 &&
                    strcmp(p, "openai") != 0)) {
    return ain_err_field(err, AIN_ECONFIG, "tts.provider",
                         "%s: 'tts.provider' must be \"espeak\", \"festival\" or \"openai\", got "
                         "'%s'",
                         path, p ? p : "(none)");
  }
  int rc = check_provider(&cfg->tts.openai, "tts.openai", path, err);
  if (rc != 0) {
    return rc;
  }
  if (strcmp(p, "openai") == 0 && cfg->tts.openai.url == NULL) {
    return ain_err_field(err, AIN_ECONFIG, "tts.openai.url",
                         "%s: 'tts.provider' \"openai\" needs 'tts.openai.url' and "
                         "'tts.openai.model'",
                         path);
  }
  const char *progs[][2] = {{"tts.festival", cfg->tts.festival},
                            {"tts.pocketsphinx", cfg->tts.pocketsphinx}};
  for (size_t i = 0; i < 2; i++) {
    if (progs[i][1] == NULL || progs[i][1][0] == '\0') {
      return ain_err_field(err, AIN_ECONFIG, progs[i][0], "%s: '%s' must name a program", path,
                           progs[i][0]);
    }
  }
  struct stat st;
  if (cfg->music.library != NULL &&
      (stat(cfg->music.library, &st) != 0 || !S_ISDIR(st.st_mode))) {
    return ain_err_field(err, AIN_ECONFIG, "music.library",
                         "%s: 'music.library' must be a folder of audio files, '%s' is not one",
                         path, cfg->music.library);
  }
  return 0;
}

static int check_node_id(const char *id, const char *path, ain_err_t *err) {
  size_t n = strlen(id);
  size_t bad = 0;
  if (n == 0 || n > AIN_CONFIG_NODE_ID_MAX) {
    return ain_err_field(err, AIN_ECONFIG, "node_id",
                         "%s: 'node_id' must be 1 to %d bytes long, got %zu", path,
                         AIN_CONFIG_NODE_ID_MAX, n);
  }
  if (!ain_utf8_valid(id, n, &bad)) {
    return ain_err_field(err, AIN_ECONFIG, "node_id",
                         "%s: 'node_id' must be valid UTF-8 (bad byte 0x%02x at offset %zu)", path,
                         (unsigned char)id[bad], bad);
  }
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)id[i];
    if (c < 0x20 || c == 0x7f) {
      return ain_err_field(err, AIN_ECONFIG, "node_id",
                           "%s: 'node_id' must be printable (control character 0x%02x at offset "
                           "%zu)",
                           path, c, i);
    }
  }
  return 0;
}

static int load_file(ain_config_t *cfg, const char *path, int named, ain_err_t *err) {
  char *src = NULL;
  size_t len = 0;
  ain__config_eval_t *ev = NULL;
  int rc = ain_read_file(path, &src, &len);
  if (rc != 0) {
    return ain_err_field(err, AIN_ECONFIG, "", "%s: cannot read config: %s", path, strerror(-rc));
  }
  if (len == 0) {
    /* Defaults put the store in the current folder: what an empty file would quietly do. */
    if (named) {
      rc = ain_err_field(err, AIN_ECONFIG, "",
                         "%s: the config file is empty (0 bytes); refusing to run on the defaults "
                         "(a store and data folder at relative default paths). Write the keys you "
                         "mean (see ain.lua.example)",
                         path);
      goto done;
    }
    ain_log_warn("%s: the config file is empty (0 bytes): running on the defaults (a store and "
                 "data folder at relative default paths)",
                 path);
  }
  rc = ain__config_eval(path, src, len, &ev, err);
  if (rc != 0) {
    goto done;
  }
  lua_State *L = ain__config_eval_state(ev);
  char base_dir[1024];
  snprintf(base_dir, sizeof base_dir, "%s", path);
  char *slash = strrchr(base_dir, '/');
  if (slash != NULL) {
    *slash = '\0';
  } else {
    snprintf(base_dir, sizeof base_dir, ".");
  }
  lua_getfield(L, LUA_REGISTRYINDEX, "ain.config.lines");
  int lines_idx = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, -3) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING) {
      rc = ain_err_set(err, AIN_ECONFIG, "%s: a top-level key is not a string", path);
      goto done;
    }
    const char *key = lua_tostring(L, -2);
    lua_pushvalue(L, -2);
    lua_rawget(L, lines_idx);
    int line = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    char where[1100];
    if (line > 0) {
      snprintf(where, sizeof where, "%s:%d", path, line);
    } else {
      snprintf(where, sizeof where, "%s", path);
    }
    rc = apply_value(L, cfg, key, where, base_dir, err);
    if (rc != 0) {
      goto done;
    }
    lua_pop(L, 1);
  }
  rc = check_node_id(cfg->node_id, path, err);
  if (rc != 0) {
    goto done;
  }
  if (cfg->shards == 0) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->shards = cores > 0 ? (int)cores : 1;
  }
  if ((cfg->review.backlog_pause_at > 0) != (cfg->review.backlog_resume_at > 0)) {
    /* a pause without a resume level would hold publishing until an operator came */
    rc = ain_err_field(err, AIN_ECONFIG,
                       cfg->review.backlog_pause_at > 0 ? "review.backlog_resume_at"
                                                        : "review.backlog_pause_at",
                       "%s: set 'review.backlog_pause_at' and 'review.backlog_resume_at' together",
                       path);
    goto done;
  }
  if (cfg->review.backlog_pause_at > 0 &&
      cfg->review.backlog_resume_at >= cfg->review.backlog_pause_at) {
    rc = ain_err_field(err, AIN_ECONFIG, "review.backlog_resume_at",
                       "%s: 'review.backlog_resume_at' (%lld) must be below "
                       "'review.backlog_pause_at' (%lld)",
                       path, (long long)cfg->review.backlog_resume_at,
                       (long long)cfg->review.backlog_pause_at);
    goto done;
  }
  if (strcmp(cfg->embed.provider, "hashed-ngrams") != 0 &&
      strcmp(cfg->embed.provider, "openai") != 0) {
    rc = ain_err_field(err, AIN_ECONFIG, "embed.provider",
                       "%s: 'embed.provider' must be \"hashed-ngrams\" or \"openai\", got \"%s\"",
                       path, cfg->embed.provider);
    goto done;
  }
  if (strcmp(cfg->embed.provider, "openai") == 0 && (cfg->embed.url == NULL || cfg->embed.model == NULL)) {
    rc = ain_err_field(err, AIN_ECONFIG, cfg->embed.url == NULL ? "embed.url" : "embed.model",
                       "%s: 'embed.provider' \"openai\" needs 'embed.url' and 'embed.model'", path);
    goto done;
  }
  if (strcmp(cfg->vectors.backend, "flat") != 0 && strcmp(cfg->vectors.backend, "qdrant") != 0) {
    rc = ain_err_field(err, AIN_ECONFIG, "vectors.backend",
                       "%s: 'vectors.backend' must be \"flat\" or \"qdrant\", got \"%s\"", path,
                       cfg->vectors.backend);
    goto done;
  }
  if (strcmp(cfg->vectors.backend, "qdrant") == 0 && cfg->vectors.qdrant.url == NULL) {
    rc = ain_err_field(err, AIN_ECONFIG, "vectors.qdrant.url",
                       "%s: 'vectors.backend' \"qdrant\" needs 'vectors.qdrant.url'", path);
    goto done;
  }
  if ((cfg->judge.pass >= 0) != (cfg->judge.reject >= 0)) {
    /* one alone could cross the judge's own default for the other */
    rc = ain_err_field(err, AIN_ECONFIG, cfg->judge.pass >= 0 ? "judge.reject" : "judge.pass",
                       "%s: set 'judge.pass' and 'judge.reject' together", path);
    goto done;
  }
  if (cfg->judge.pass >= 0 && cfg->judge.reject > cfg->judge.pass) {
    rc = ain_err_field(err, AIN_ECONFIG, "judge.reject",
                       "%s: 'judge.reject' (%g) must not be above 'judge.pass' (%g)", path,
                       cfg->judge.reject, cfg->judge.pass);
    goto done;
  }
  if ((rc = check_openclaw(cfg, path, err)) != 0 ||
      (rc = check_tracing(&cfg->tracing, path, err)) != 0 ||
      (rc = check_provider(&cfg->judge.providers.moderation, "judge.providers.moderation", path,
                           err)) != 0 ||
      (rc = check_provider(&cfg->judge.providers.llm, "judge.providers.llm", path, err)) != 0 ||
      (rc = check_llm(cfg, path, err)) != 0 || (rc = check_voice(cfg, path, err)) != 0 ||
      (rc = check_stock(cfg, path, err)) != 0 ||
      (rc = ain__config_check_publish(cfg, path, err)) != 0) {
    goto done;
  }
  if (ain_log_level_parse(cfg->log_level) < 0) {
    rc = ain_err_field(err, AIN_ECONFIG, "log_level",
                       "%s: 'log_level' must be debug, info, warn or error, got '%s'", path,
                       cfg->log_level);
    goto done;
  }
  if (strcmp(cfg->log_format, "json") != 0 && strcmp(cfg->log_format, "pretty") != 0 &&
      strcmp(cfg->log_format, "auto") != 0) {
    rc = ain_err_field(err, AIN_ECONFIG, "log_format",
                       "%s: 'log_format' must be json, pretty or auto, got '%s'", path,
                       cfg->log_format);
    goto done;
  }
  if (strcmp(cfg->publish.compensation, "flag") != 0 &&
      strcmp(cfg->publish.compensation, "unpublish_others") != 0 &&
      strcmp(cfg->publish.compensation, "none") != 0) {
    rc = ain_err_field(err, AIN_ECONFIG, "publish.compensation",
                       "%s: 'publish.compensation' must be flag, unpublish_others or none, got "
                       "'%s'", path, cfg->publish.compensation);
    goto done;
  }
  static const char *const presets[] = {"ultrafast", "superfast", "veryfast", "faster",  "fast",
                                        "medium",    "slow",      "slower",   "veryslow"};
  int preset_ok = 0;
  for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
    preset_ok |= strcmp(cfg->media.preset, presets[i]) == 0;
  }
  if (!preset_ok) {
    rc = ain_err_field(err, AIN_ECONFIG, "media.preset",
                       "%s: 'media.preset' must be an x264 preset (ultrafast..veryslow), got '%s'",
                       path, cfg->media.preset);
    goto done;
  }
  if (cfg->media.width % 2 != 0 || cfg->media.height % 2 != 0) {
    rc = ain_err_field(err, AIN_ECONFIG, "media.width",
                       "%s: 'media.width' and 'media.height' must be even (yuv420p), got %lldx%lld",
                       path, (long long)cfg->media.width, (long long)cfg->media.height);
    goto done;
  }
  /* A relative sqlite path in store.url is relative to the config file too. */
  const char *u = cfg->store.url;
  if (strncmp(u, "sqlite:", 7) == 0 && u[7] != '/' && strcmp(base_dir, ".") != 0) {
    char *p = resolve_path(base_dir, u + 7);
    size_t n = strlen(p) + 8;
    char *nu = malloc(n);
    if (nu == NULL) {
      abort();
    }
    snprintf(nu, n, "sqlite:%s", p);
    free(p);
    free(cfg->store.url);
    cfg->store.url = nu;
  }
  set_str(&cfg->path, path);
  rc = 0;
done:
  ain__config_eval_free(ev);
  free(src);
  return rc;
}

int ain_config_load(ain_config_t *cfg, const char *path, ain_err_t *err) {
  return load_file(cfg, path, 1, err);
}

int ain_config_load_found(ain_config_t *cfg, const char *path, ain_err_t *err) {
  return load_file(cfg, path, 0, err);
}
