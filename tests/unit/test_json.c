/* core/json (canonical JSON) and sched/ctx (the one ctx builder the engine and replay share).
 * Relies on: core/json.h, sched/ctx.h, config/config.h, the C harness. */
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/json.h"
#include "harness.h"
#include "sched/ctx.h"

TEST(canonical_sorts_keys_at_every_depth) {
  char *a = ain_json_canonical_text("{\"b\":1,\"a\":{\"z\":[3,{\"y\":1,\"x\":2}],\"c\":null}}", 0);
  char *b = ain_json_canonical_text("{\"a\":{\"c\":null,\"z\":[3,{\"x\":2,\"y\":1}]},\"b\":1}", 0);
  ASSERT_STR_EQ(a, "{\"a\":{\"c\":null,\"z\":[3,{\"x\":2,\"y\":1}]},\"b\":1}");
  ASSERT_STR_EQ(a, b);
  free(a);
  free(b);
  /* arrays keep their order: [1,2] and [2,1] differ */
  a = ain_json_canonical_text("[1,2]", 0);
  b = ain_json_canonical_text("[2,1]", 0);
  ASSERT_TRUE(strcmp(a, b) != 0);
  free(a);
  free(b);
  /* a value that changed is still a change */
  a = ain_json_canonical_text("{\"decision\":\"pass\",\"confidence\":1}", 0);
  b = ain_json_canonical_text("{\"confidence\":1,\"decision\":\"review\"}", 0);
  ASSERT_TRUE(strcmp(a, b) != 0);
  free(a);
  free(b);
}

TEST(canonical_pretty_and_bad_input) {
  char *p = ain_json_canonical_text("{\"b\":1,\"a\":2}", 1);
  ASSERT_STR_EQ(p, "{\n\t\"a\":\t2,\n\t\"b\":\t1\n}");
  free(p);
  ASSERT_NULL(ain_json_canonical_text(NULL, 0));
  ASSERT_NULL(ain_json_canonical_text("{\"a\":", 0));
  ASSERT_NULL(ain_json_canonical(NULL, 0));
  /* many keys (the merge sort's recursion and the prev links cJSON relies on) */
  char big[4096] = "{";
  size_t n = 1;
  for (int i = 99; i >= 0; i--) {
    n += (size_t)snprintf(big + n, sizeof big - n, "%s\"k%02d\":%d", i == 99 ? "" : ",", i, i);
  }
  snprintf(big + n, sizeof big - n, "}");
  cJSON *v = cJSON_Parse(big);
  cJSON *s = ain_json_sorted(v);
  int i = 0;
  for (cJSON *c = s->child; c != NULL; c = c->next, i++) {
    ASSERT_EQ(c->valueint, i);
  }
  ASSERT_EQ(i, 100);
  ASSERT_TRUE(s->child->prev == cJSON_GetArrayItem(s, 99)); /* head's prev is the tail */
  cJSON_AddNumberToObject(s, "zz", 1);                      /* appending still works */
  ASSERT_EQ(cJSON_GetArraySize(s), 101);
  cJSON_Delete(v);
  cJSON_Delete(s);
}

TEST(ctx_carries_the_config_it_ran_under) {
  ain_config_t cfg;
  ain_config_defaults(&cfg);
  cfg.media.width = 720;
  cfg.media.height = 1280;
  cfg.judge.pass = 0.9;
  ain_task_t t;
  memset(&t, 0, sizeof t);
  snprintf(t.id, sizeof t.id, "%s", "01a22b19-a7b2-704e-9d57-b54f7ce03939");
  t.type = "step";
  t.step = "judge";
  t.attempts = 2;
  t.max_attempts = 3;
  char *ctx = ain_step_ctx_build(&t, "node/1/shard-0", &cfg, "{\"render\":{\"w\":720}}");
  cJSON *o = cJSON_Parse(ctx);
  const cJSON *conf = cJSON_GetObjectItemCaseSensitive(o, "config");
  ASSERT_EQ(cJSON_GetObjectItemCaseSensitive(conf, "width")->valueint, 720);
  ASSERT_EQ(cJSON_GetObjectItemCaseSensitive(conf, "height")->valueint, 1280);
  ASSERT_TRUE(cJSON_GetObjectItemCaseSensitive(conf, "pass")->valuedouble == 0.9);
  ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(conf, "reject")); /* unset: the judge's default */
  ASSERT_EQ(cJSON_GetObjectItemCaseSensitive(o, "attempt")->valueint, 2);
  ASSERT_STR_EQ(cJSON_GetObjectItemCaseSensitive(o, "shard")->valuestring, "node/1/shard-0");
  ASSERT_EQ(cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "deps"),
                                                 "render"),
                "w")
                ->valueint,
            720);
  cJSON_Delete(o);
  /* the audit detail carries it whole */
  char *d = ain_step_call_detail("{\"judge\":\"abc\"}", ctx);
  cJSON *dj = cJSON_Parse(d);
  char *back = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(dj, "ctx"));
  ASSERT_STR_EQ(back, ctx);
  ASSERT_STR_EQ(
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(dj, "policies"), "judge")
          ->valuestring,
      "abc");
  free(back);
  cJSON_Delete(dj);
  free(d);
  free(ctx);
  /* deps that are not an object become {} */
  ctx = ain_step_ctx_build(&t, "s", &cfg, "[1,2]");
  ASSERT_TRUE(strstr(ctx, "\"deps\":{}") != NULL);
  free(ctx);
  ctx = ain_step_ctx_build(&t, "s", &cfg, "{bad");
  ASSERT_TRUE(strstr(ctx, "\"deps\":{}") != NULL);
  free(ctx);
  d = ain_step_call_detail("{}", NULL);
  ASSERT_STR_EQ(d, "{\"policies\":{}}");
  free(d);
  ain_config_free(&cfg);
}

TEST_MAIN(TEST_ENTRY(canonical_sorts_keys_at_every_depth),
          TEST_ENTRY(canonical_pretty_and_bad_input),
          TEST_ENTRY(ctx_carries_the_config_it_ran_under))
