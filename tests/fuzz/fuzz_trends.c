/* libFuzzer target: the trend parser, i.e. what the planner (plan/plan.c) does with the JSON Lines
 * source: scripts/agents/planner.lua's run(), which parses every line (parse_jsonl) and plans
 * generate_video tasks from the valid records, in the sandboxed policy host the planner uses. The
 * input is the file's text. Bad lines must come back in `bad` and bad records in `skipped`: the
 * call must succeed with a JSON object whose tasks each carry persona_id and payload.trend_key
 * (what plan.c's take_result needs), never fail with a Lua error, a crash or a hang. Over-budget
 * inputs (EBUDGET_*) are refusals, not findings. Relies on: lua/host.h (policy host on a private
 * loop), cJSON, scripts/ of the source tree. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "core/err.h"
#include "core/log.h"
#include "lua/host.h"

static uv_loop_t loop;
static ain_lua_host_t *host;

typedef struct {
  int done, status;
  char *result, *error;
} outcome_t;

static void on_done(ain_lua_call_t *call, int status, const char *result_json, const char *error,
                    void *data) {
  (void)call;
  outcome_t *o = data;
  o->done = 1;
  o->status = status;
  o->result = result_json ? strdup(result_json) : NULL;
  o->error = error ? strdup(error) : NULL;
}

static void init(void) {
  ain_log_set_level(AIN_LOG_ERROR); /* planner.lua logs every bad line: noise at fuzzing speed */
  if (uv_loop_init(&loop) != 0) {
    abort();
  }
  ain_lua_opts_t o = {.scripts_dir = AIN_SOURCE_DIR "/scripts", .name = "fuzz", .cpu_ms = 2000};
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_lua_host_new(&loop, &o, &host, &err) != 0) {
    fprintf(stderr, "fuzz_trends: %s\n", err.msg);
    abort();
  }
}

static int is_str(const cJSON *o, const char *k) {
  return cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, k));
}

static void check_result(const char *json) {
  cJSON *r = cJSON_Parse(json);
  if (!cJSON_IsObject(r)) {
    fprintf(stderr, "planner.run returned no object: %.200s\n", json);
    abort();
  }
  cJSON *it;
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r, "tasks")) {
    cJSON *payload = cJSON_GetObjectItemCaseSensitive(it, "payload");
    if (!is_str(it, "persona_id") || !cJSON_IsObject(payload) || !is_str(payload, "trend_key")) {
      fprintf(stderr, "a planned task lacks persona_id or payload.trend_key: %.300s\n", json);
      abort();
    }
  }
  cJSON_Delete(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (host == NULL) {
    init();
  }
  /* plan.c reads the file and hands it over as a C string: text stops at a NUL byte. */
  char *text = malloc(size + 1);
  if (text == NULL) {
    abort();
  }
  memcpy(text, data, size);
  text[size] = '\0';
  cJSON *payload = cJSON_CreateObject(), *ctx = cJSON_CreateObject();
  cJSON_AddStringToObject(payload, "text", text);
  cJSON *personas = cJSON_AddArrayToObject(ctx, "personas");
  static const char *ids[] = {"calm_kenji", "chef_marco", "coach_ava", "penny_ledger",
                              "techie_tina"};
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
    cJSON_AddItemToArray(personas, cJSON_CreateString(ids[i]));
  }
  cJSON *done = cJSON_AddArrayToObject(ctx, "already_planned");
  cJSON_AddItemToArray(done, cJSON_CreateString("coach_ava\tapple m5 chip benchmarks leak"));
  cJSON_AddStringToObject(ctx, "now", "2025-06-02T12:00:00Z"); /* the samples' day: deterministic */
  char *payload_json = cJSON_PrintUnformatted(payload), *ctx_json = cJSON_PrintUnformatted(ctx);
  cJSON_Delete(payload);
  cJSON_Delete(ctx);

  outcome_t o = {0};
  ain_lua_call_opts_t co = {
      .module = "planner", .function = "run", .payload_json = payload_json, .ctx_json = ctx_json};
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_lua_call(host, &co, on_done, &o, NULL, &err) != 0) {
    /* The host refuses a payload it cannot hand to Lua (e.g. bytes that are not UTF-8): plan.c
     * logs that and fails the run, which is a refusal, as long as it says why. */
    if (err.msg[0] == '\0') {
      fprintf(stderr, "fuzz_trends: call refused without a message\n");
      abort();
    }
    o.done = 1;
  }
  while (!o.done) {
    uv_run(&loop, UV_RUN_NOWAIT); /* the call ends on a loop turn; never wait on a timer */
  }
  if (o.result == NULL && o.error == NULL) {
    /* refused before the call: nothing to check */
  } else if (o.status == 0) {
    check_result(o.result);
  } else if (o.status != AIN_EBUDGET_CPU && o.status != AIN_EBUDGET_MEM) {
    fprintf(stderr, "planner.run failed on a trend file (%d): %s\n", o.status, o.error);
    abort();
  }
  free(o.result);
  free(o.error);
  free(payload_json);
  free(ctx_json);
  free(text);
  return 0;
}
