/* Engine configuration: a Lua file of top-level assignments (see ain.lua.example, which documents
 * every key and its default). Unknown keys and wrong types are rejected naming the key and the
 * file:line of the assignment. Paths are resolved relative to the config file's folder; an empty
 * path is refused naming its key (except trends.source, where "" means no planner).
 * Relies on: LuaJIT (a throwaway state, only base library + string/table/math, under a budget),
 * loop/worker.h. */
#ifndef AIN_CONFIG_CONFIG_H
#define AIN_CONFIG_CONFIG_H

#include <stdint.h>

#include "config/api.h"
#include "config/channels.h"
#include "config/sources.h"
#include "config/objstore.h"
#include "config/spawn.h"
#include "core/err.h"

/* A channel account's quota (publish/quota.h): units_per_day units refill evenly over window_s
 * (default a day), a publish takes units_per_publish (default: the kind's cost, youtube 1600),
 * and at most requests_per_minute publishes start a minute. 0 = that limit is off. */
typedef struct {
  int64_t units_per_day, window_s, units_per_publish, requests_per_minute;
} ain_config_quota_t;

/* One model provider of the judge: where it is, which model, the ain.secret holding its API key
 * (NULL: no Authorization header), and how long one request may take. */
typedef struct {
  char *url;   /* "http://host:port" (the /v1/... path is the provider's) */
  char *model;
  char *secret;
  int64_t timeout_ms;
} ain_config_provider_t;

/* tracing = {...}: spans of every step exported as OTLP/HTTP JSON by a thread of their own
 * (engine/trace/). Off by default; enabled needs an endpoint. */
typedef struct {
  int enabled;
  char *endpoint;              /* base URL: spans go to POST {endpoint}/v1/traces */
  char *service_name;          /* resource attribute service.name ("ain") */
  int64_t batch_size;          /* spans per request */
  int64_t queue_size;          /* spans waiting at most; past it new spans are dropped, counted */
  int64_t flush_interval_ms;   /* a partial batch is sent after this long */
  int64_t timeout_ms;          /* one export request, connect included */
  int64_t shutdown_timeout_ms; /* the last flush at shutdown waits at most this long */
} ain_tracing_config_t;

typedef struct {
  char *path; /* the config file, NULL for defaults */
  char *node_id;
  int shards; /* 0 in the file = number of cores; resolved here */
  int shard_nice; /* how much nicer than the process the shard threads run (0..19) */
  char *log_level;
  char *log_format; /* "json" | "pretty" | "auto" (pretty on a TTY) */
  char *scripts_dir;
  char *data_dir;
  char *secrets_dir; /* ain.secret's files (mode 0600), after the AIN_SECRET_<NAME> environment */
  struct {
    char *url;
    char *sql_dir;
    int busy_timeout_ms;
    int synchronous_full;
  } store;
  struct {
    int claim_batch;   /* tasks claimed per transaction */
    int max_running;   /* steps in flight per shard */
    int64_t lease_ms;
    int64_t poll_ms;   /* idle polling fallback when no wake-up arrives */
    int64_t reap_interval_ms;
    int64_t retry_base_ms;
    int64_t retry_max_ms;
    int64_t default_timeout_ms;
    int default_max_attempts;
    /* How often a shard asks the store whether its running tasks were cancelled (or taken
     * over), so a cancelled step's children die within this, not at the next lease extension. */
    int64_t cancel_check_ms;
  } queue;
  struct {
    int64_t grace_ms; /* running steps get this long to finish on SIGINT/SIGTERM */
  } shutdown;
  struct {
    int64_t heartbeat_ms;        /* how often this node beats into the nodes table */
    int64_t node_timeout_ms;     /* a node silent this long is dead: its leases are fenced */
    int64_t archive_interval_ms; /* how often finished tasks move to the archive (0 = never) */
    int64_t archive_after_ms;    /* a finished task stays in the hot table this long */
    struct {
      char *url;          /* ws:// or wss:// of an OpenClaw Gateway; NULL = no presence there */
      char *token_secret; /* name of the secret holding the gateway token; NULL = no token */
      int64_t reconnect_min_ms, reconnect_max_ms; /* backoff bounds (with jitter) */
      int64_t stats_interval_ms; /* heartbeat to the gateway (node.host.stats) at most this often */
    } openclaw;
  } cluster;
  struct {
    int64_t finished_dags_days; /* finished DAGs (and lone tasks) older than this are purged; 0 = never */
    int64_t interval_ms;        /* how often the running engine purges (privacy/retention.h) */
  } retention;
  struct {
    int64_t interval_s;   /* pull post metrics this often; 0 = never (publish/after.h) */
    int64_t max_age_days; /* posts published within this many days are pulled */
    double planner_weight; /* 0..1: how much the planner weighs what performed; 0 = off */
  } analytics;
  struct {
    int64_t mem_limit_mb;
    int64_t cpu_budget; /* VM instructions per step */
    int64_t check_timeout_ms; /* wall-clock limit of a policy's top level when it is checked */
    int64_t cpu_ms;     /* loop time per step (the host's cpu_ms), summed over its resumes */
    int allow_ffi;
  } lua;
  struct {
    /* A shard stuck in one call (a policy inside a C function the count hook never sees) past
     * lua.cpu_ms + grace_ms is a wedge: the node records it and exits (sched/watchdog.c).
     * 0 = max(1000, lua.cpu_ms / 2). */
    int64_t grace_ms;
    int64_t record_timeout_ms; /* how long the exiting node may try to record the wedge */
    int64_t poison_after;      /* wedges after which a task is dead-lettered (EPOISON) */
  } watchdog;
  struct {
    char *source;        /* JSON Lines trend file the planner reads ("" = no planner) */
    int64_t interval_ms; /* re-plan period; the file changing also triggers a run */
  } trends;
  struct {
    int64_t width, height, fps; /* render size of every video (the judge checks the same) */
    char *preset;               /* libx264 preset */
    int64_t crf;
    int64_t render_timeout_ms; /* per ffmpeg render */
    int64_t tts_timeout_ms;    /* per synthesis + loudness pass */
    int64_t max_renders;       /* ffmpeg renders at once in this process; 0 = cores / 2 */
    char *library; /* the user's clips and images with sidecar JSON tags (NULL = none) */
    struct {
      /* The "inspect" step (OCR of sampled frames, speech recognition of the audio) that the
       * judge's output checks read. enabled = 0: the step succeeds at once with {enabled=false}. */
      int enabled;
      int64_t frame_interval_ms; /* one frame per interval for OCR */
      int64_t ocr_height;        /* frames scaled to this height (px) for tesseract */
      int64_t asr_lw;            /* pocketsphinx language weight */
      int64_t timeout_ms;        /* the whole inspection of one video */
    } inspect;
  } media;
  /* Stock footage providers for the visuals policy (scripts/agents/visuals.lua): base URLs and the
   * names of the secrets holding their API keys; order = "pexels,pixabay" (NULL = that order). */
  struct {
    char *order;
    int64_t timeout_ms; /* one download */
    int64_t max_bytes;  /* one downloaded file */
    struct {
      char *url, *key_secret;
    } pexels, pixabay;
  } stock;
  struct {
    int enabled;            /* 0: the registry ignores updates (bench/queue's comparison) */
    int64_t store_cache_ms; /* a scrape's store gauges are reused this long (CONTRACTS §6) */
  } metrics;
  struct {
    /* The review-backlog guard (DESIGN §10): with backlog_pause_at pending reviews or more,
     * publishing pauses on every node; below backlog_resume_at it resumes, unless an operator
     * paused it by hand. 0 and 0 = off (the default); both or neither. */
    int64_t backlog_pause_at;
    int64_t backlog_resume_at;
  } review;
  struct {
    /* The judge's thresholds, handed to it in ctx.config: confidence >= pass publishes,
     * < reject rejects, in between goes to review. -1 = the judge's own default. */
    double pass, reject;
    /* Model providers the judge asks (scripts/agents/moderation.lua), handed to it in
     * ctx.config.providers. url NULL = that provider is off. */
    struct {
      ain_config_provider_t moderation; /* OpenAI-compatible POST {url}/v1/moderations */
      ain_config_provider_t llm;        /* OpenAI-compatible POST {url}/v1/chat/completions */
    } providers;
  } judge;
  /* The model ain.llm asks (engine/lua/llm.lua), handed to policies in ctx.config.llm (the
   * secret's name, never its value). url NULL = no model: the scriptwriter uses its templates. */
  struct {
    char *url;    /* OpenAI-compatible base URL; POST {url}/v1/chat/completions */
    char *model;
    char *secret; /* ain.secret name of the API key; NULL = no Authorization header */
    char *response_format; /* "json_schema" (default) | "json_object" | "none" */
    int64_t timeout_ms;    /* one request */
    int64_t max_attempts;  /* requests per answer on 429/5xx/timeout/transport errors */
    int64_t max_tokens;    /* completion tokens asked for */
    double price_prompt, price_completion; /* per 1,000 tokens; < 0 = unset (no cost) */
  } llm;
  /* tts = {...}: the voices' providers (engine/media/tts*.c, docs/media.md "Voices"). A persona's
   * voice.provider picks one; without it, `provider` here. */
  struct {
    char *provider;          /* "espeak" (default) | "festival" | "openai" */
    char *festival;          /* festival program ("festival") */
    char *pocketsphinx;      /* forced aligner ("pocketsphinx_continuous") */
    ain_config_provider_t openai; /* POST {url}/v1/audio/speech; url NULL = not configured */
    int64_t max_attempts;    /* openai requests per synthesis on 429/5xx/transport errors */
  } tts;
  /* music = {...}: the bed under the voice (engine/media/mix.c). */
  struct {
    int enabled;   /* 0: speech only */
    char *library; /* folder of audio files (one picked per persona); NULL = generated pads */
    double level;  /* the bed's loudness before ducking, LUFS (-60..-10) */
  } music;
  ain_config_channels_t channels; /* publish channels by name (config/channels.h) */
  /* publish.token (publish/token.h, docs/publish-tokens-quotas.md): the key that signs publish
   * tokens. alg NULL = no publish.token table: publish steps run without tokens. */
  struct {
    struct {
      char *alg;         /* "HS256" | "ES256" */
      char *secret;      /* HS256: the secret's name (core/secret.h) */
      char *private_key; /* ES256: PEM file of a P-256 private key (signs) */
      char *public_key;  /* ES256: PEM file of its public key (verifies) */
      int64_t ttl_s;     /* a token's life: 1 .. 300 s */
      int64_t grant_ttl_s; /* how long a pass/approval lets the engine re-mint an expired token */
    } token;
    /* what a publish that failed past its retries does to the video's other posts when the
     * policy publisher.compensate says nothing: "flag" | "unpublish_others" | "none" */
    char *compensation;
  } publish;
  struct {
    /* ain.embed's provider (vec/vec.h, docs/vectors.md): "hashed-ngrams" (embedded, lexical) or
     * "openai" (POST {url}/v1/embeddings of model, key from ain.secret `secret`). */
    char *provider;
    int64_t dims; /* hashed-ngrams only */
    char *url, *model, *secret;
    int64_t timeout_ms, batch;
  } embed;
  struct {
    char *backend; /* "flat" (in memory, from the store) | "qdrant" */
    /* planner: a trend within this cosine of one planned in the last dedup_window_hours is
     * skipped (0 = no vector de-duplication); persona matching falls back to the persona whose
     * description is at least persona_min_similarity near (0 = off). */
    double dedup_threshold;
    int64_t dedup_window_hours;
    double persona_min_similarity;
    struct {
      char *url, *secret, *prefix;
      int64_t timeout_ms;
    } qdrant;
  } vectors;
  ain_tracing_config_t tracing; /* OpenTelemetry spans to an OTLP/HTTP JSON endpoint (trace/) */
  ain_spawn_config_t spawn; /* ain.spawn's allowlist, environment and limits (config/spawn.h) */
  ain_api_config_t api;     /* the operator HTTP API (config/api.h, engine/api/) */
  ain_sources_config_t sources; /* trend sources besides trends.source (config/sources.h) */
  ain_objstore_config_t objstore; /* where artifacts live (config/objstore.h, engine/objstore/) */
} ain_config_t;

#define AIN_CONFIG_NODE_ID_MAX 128 /* bytes; node_id is also valid UTF-8 and printable */

/* Fills cfg with defaults. */
void ain_config_defaults(ain_config_t *cfg);
/* Loads path over the defaults. On error, err names file:line and the key. The file runs under a
 * budget (10 million VM instructions, 64 MiB, 1 s of wall clock; a file stuck inside one C call
 * is abandoned 0.5 s later): past it, AIN_ECONFIG "<path>: the config exceeded its budget (...)".
 * A path named by the operator (-c) that is empty (0 bytes) is refused: it would run on the
 * defaults, with the store in the current folder. */
int ain_config_load(ain_config_t *cfg, const char *path, ain_err_t *err);
/* The same for a config found by looking (./ain.lua): an empty file only logs a warning. */
int ain_config_load_found(ain_config_t *cfg, const char *path, ain_err_t *err);
void ain_config_free(ain_config_t *cfg);

/* 1 if name is a safe-area profile (channels.outbox.safe_area.profile): tiktok, reels, shorts. */
int ain_config_safe_profile_known(const char *name);

#endif
