/* The scores of `ain judge eval` (engine/ops/judge_metrics.c): the confusion matrix, recall and
 * precision per category on their edge cases (a category with no support, one never predicted,
 * repeated ids), benign items wrongly stopped, the bars (met exactly at 0.95, below it, the review
 * bar, an action "pass" with no bar, an unknown category held to the strict bar) and the JSON. */
#include <cjson/cJSON.h>
#include <math.h>

#include "harness.h"
#include "ops/judge.h"

#define NEAR(a, b) ASSERT_TRUE(fabs((a) - (b)) < 1e-9)

static const ain_judge_cat_t *cat(const ain_judge_metrics_t *m, const char *id) {
  for (size_t i = 0; i < m->ncats; i++) {
    if (strcmp(m->cats[i].id, id) == 0) {
      return &m->cats[i];
    }
  }
  AIN__FAIL("no category %s", id);
  return NULL;
}

static void add(ain_judge_metrics_t *m, int exp, const char *ec, int got, const char *gc) {
  const char *e[1] = {ec}, *g[1] = {gc};
  ain_ops_judge_metrics_add(m, exp, e, ec ? 1 : 0, got, g, gc ? 1 : 0);
}

TEST(decisions_parse) {
  ASSERT_EQ(ain_ops_judge_decision("pass"), AIN_JUDGE_PASS);
  ASSERT_EQ(ain_ops_judge_decision("review"), AIN_JUDGE_REVIEW);
  ASSERT_EQ(ain_ops_judge_decision("reject"), AIN_JUDGE_REJECT);
  ASSERT_EQ(ain_ops_judge_decision("Reject"), -1);
  ASSERT_EQ(ain_ops_judge_decision(""), -1);
  ASSERT_EQ(ain_ops_judge_decision(NULL), -1);
  ASSERT_STR_EQ(ain_ops_judge_decision_name(AIN_JUDGE_REVIEW), "review");
  ASSERT_STR_EQ(ain_ops_judge_decision_name(7), "?");
}

TEST(confusion_recall_precision) {
  ain_judge_metrics_t m = {0};
  add(&m, AIN_JUDGE_REJECT, "hate", AIN_JUDGE_REJECT, "hate");     /* found */
  add(&m, AIN_JUDGE_REJECT, "hate", AIN_JUDGE_PASS, NULL);         /* missed */
  add(&m, AIN_JUDGE_REJECT, "hate", AIN_JUDGE_REVIEW, "violence"); /* wrong category */
  add(&m, AIN_JUDGE_PASS, NULL, AIN_JUDGE_REJECT, "hate");         /* benign stopped */
  add(&m, AIN_JUDGE_PASS, NULL, AIN_JUDGE_PASS, NULL);
  add(&m, AIN_JUDGE_REVIEW, "tragedy", AIN_JUDGE_REVIEW, "tragedy");
  ain_ops_judge_metrics_finish(&m, NULL);
  ASSERT_EQ(m.items, 6);
  ASSERT_EQ(m.confusion[AIN_JUDGE_REJECT][AIN_JUDGE_REJECT], 1);
  ASSERT_EQ(m.confusion[AIN_JUDGE_REJECT][AIN_JUDGE_PASS], 1);
  ASSERT_EQ(m.confusion[AIN_JUDGE_REJECT][AIN_JUDGE_REVIEW], 1);
  ASSERT_EQ(m.confusion[AIN_JUDGE_PASS][AIN_JUDGE_REJECT], 1);
  ASSERT_EQ(m.confusion[AIN_JUDGE_PASS][AIN_JUDGE_PASS], 1);
  ASSERT_EQ(m.confusion[AIN_JUDGE_REVIEW][AIN_JUDGE_REVIEW], 1);
  ASSERT_EQ(m.confusion[AIN_JUDGE_REVIEW][AIN_JUDGE_PASS], 0);
  const ain_judge_cat_t *h = cat(&m, "hate");
  ASSERT_EQ(h->support, 3);
  ASSERT_EQ(h->found, 1);
  ASSERT_EQ(h->predicted, 2); /* one right, one on a benign item */
  NEAR(h->recall, 1.0 / 3);
  NEAR(h->precision, 0.5);
  ASSERT_EQ(h->below, 1);
  /* sorted by id */
  ASSERT_STR_EQ(m.cats[0].id, "hate");
  ASSERT_STR_EQ(m.cats[1].id, "tragedy");
  ASSERT_STR_EQ(m.cats[2].id, "violence");
  ASSERT_EQ(m.benign, 2);
  ASSERT_EQ(m.benign_stopped, 1);
  NEAR(m.benign_rate, 0.5);
  ASSERT_EQ(m.bars_ok, 0);
  ain_ops_judge_metrics_free(&m);
}

TEST(zero_support_and_zero_predictions) {
  ain_judge_metrics_t m = {0};
  add(&m, AIN_JUDGE_PASS, NULL, AIN_JUDGE_REVIEW, "brand"); /* predicted, never labelled */
  add(&m, AIN_JUDGE_REJECT, "pii", AIN_JUDGE_PASS, NULL);   /* labelled, never predicted */
  ain_ops_judge_metrics_finish(&m, NULL);
  const ain_judge_cat_t *b = cat(&m, "brand"), *p = cat(&m, "pii");
  ASSERT_EQ(b->support, 0);
  ASSERT_TRUE(b->recall < 0); /* undefined, not 0 and not 1 */
  NEAR(b->precision, 0);
  ASSERT_TRUE(b->bar < 0); /* nothing to find: no bar */
  ASSERT_EQ(b->below, 0);
  ASSERT_EQ(p->predicted, 0);
  ASSERT_TRUE(p->precision < 0);
  NEAR(p->recall, 0);
  ASSERT_EQ(p->below, 1);
  cJSON *j = ain_ops_judge_metrics_json(&m);
  const cJSON *cats = cJSON_GetObjectItem(j, "categories");
  ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(cats, 0), "recall")));
  ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(cats, 1), "precision")));
  ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(cats, 0), "bar")));
  cJSON_Delete(j);
  ain_ops_judge_metrics_free(&m);
}

TEST(no_items_no_benign) {
  ain_judge_metrics_t m = {0};
  ain_ops_judge_metrics_finish(&m, NULL);
  ASSERT_EQ(m.ncats, (size_t)0);
  NEAR(m.benign_rate, 0);
  ASSERT_EQ(m.bars_ok, 1);
  cJSON *j = ain_ops_judge_metrics_json(&m);
  ASSERT_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(j, "categories")), 0);
  ASSERT_TRUE(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "bars"), "ok")));
  cJSON_Delete(j);
  ain_ops_judge_metrics_free(&m);
}

TEST(repeated_ids_count_once) {
  ain_judge_metrics_t m = {0};
  const char *e[2] = {"hate", "hate"}, *g[3] = {"hate", "hate", "violence"};
  ain_ops_judge_metrics_add(&m, AIN_JUDGE_REJECT, e, 2, AIN_JUDGE_REJECT, g, 3);
  ain_ops_judge_metrics_finish(&m, NULL);
  ASSERT_EQ(cat(&m, "hate")->support, 1);
  ASSERT_EQ(cat(&m, "hate")->found, 1);
  ASSERT_EQ(cat(&m, "hate")->predicted, 1);
  ASSERT_EQ(cat(&m, "violence")->predicted, 1);
  ain_ops_judge_metrics_free(&m);
}

/* 19 of 20 is exactly 0.95: met. 18 of 20 is not. A review category needs 0.90: 9 of 10 meets
 * it. An action "pass" has no bar. */
TEST(bars_at_their_edges) {
  ain_judge_metrics_t m = {0};
  for (int i = 0; i < 20; i++) {
    add(&m, AIN_JUDGE_REJECT, "hate", i < 19 ? AIN_JUDGE_REJECT : AIN_JUDGE_PASS,
        i < 19 ? "hate" : NULL);
    add(&m, AIN_JUDGE_REJECT, "sexual", i < 18 ? AIN_JUDGE_REJECT : AIN_JUDGE_PASS,
        i < 18 ? "sexual" : NULL);
  }
  for (int i = 0; i < 10; i++) {
    add(&m, AIN_JUDGE_REVIEW, "tragedy", i < 9 ? AIN_JUDGE_REVIEW : AIN_JUDGE_PASS,
        i < 9 ? "tragedy" : NULL);
    add(&m, AIN_JUDGE_PASS, "chatty", AIN_JUDGE_PASS, NULL);
  }
  cJSON *actions = cJSON_Parse("{\"hate\":\"reject\",\"tragedy\":\"review\",\"chatty\":\"pass\"}");
  ain_ops_judge_metrics_finish(&m, actions);
  NEAR(cat(&m, "hate")->bar, AIN_JUDGE_BAR_REJECT);
  ASSERT_EQ(cat(&m, "hate")->below, 0);
  ASSERT_STR_EQ(cat(&m, "hate")->action, "reject");
  ASSERT_EQ(cat(&m, "sexual")->below, 1); /* not named: the strict bar */
  ASSERT_STR_EQ(cat(&m, "sexual")->action, "");
  NEAR(cat(&m, "sexual")->bar, AIN_JUDGE_BAR_REJECT);
  NEAR(cat(&m, "tragedy")->bar, AIN_JUDGE_BAR_REVIEW);
  ASSERT_EQ(cat(&m, "tragedy")->below, 0);
  ASSERT_TRUE(cat(&m, "chatty")->bar < 0);
  ASSERT_EQ(cat(&m, "chatty")->below, 0);
  ASSERT_EQ(m.bars_ok, 0); /* sexual alone fails them */
  cJSON *j = ain_ops_judge_metrics_json(&m);
  const cJSON *failed = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "bars"), "failed");
  ASSERT_EQ(cJSON_GetArraySize(failed), 1);
  ASSERT_STR_CONTAINS(cJSON_GetArrayItem(failed, 0)->valuestring, "sexual: recall 18/20");
  cJSON_Delete(j);
  cJSON_Delete(actions);
  ain_ops_judge_metrics_free(&m);
}

/* 1 of 20 benign stopped is 5 %: met; 2 of 20 is not. */
TEST(benign_bar) {
  ain_judge_metrics_t m = {0};
  for (int i = 0; i < 20; i++) {
    add(&m, AIN_JUDGE_PASS, NULL, i == 0 ? AIN_JUDGE_REVIEW : AIN_JUDGE_PASS, NULL);
  }
  ain_ops_judge_metrics_finish(&m, NULL);
  ASSERT_EQ(m.bars_ok, 1);
  add(&m, AIN_JUDGE_PASS, NULL, AIN_JUDGE_REJECT, NULL);
  ain_ops_judge_metrics_finish(&m, NULL);
  ASSERT_EQ(m.benign, 21);
  ASSERT_EQ(m.benign_stopped, 2);
  ASSERT_EQ(m.bars_ok, 0);
  cJSON *j = ain_ops_judge_metrics_json(&m);
  const cJSON *b = cJSON_GetObjectItem(j, "benign");
  ASSERT_TRUE(cJSON_IsTrue(cJSON_GetObjectItem(b, "above_bar")));
  ASSERT_EQ(cJSON_GetObjectItem(b, "stopped")->valueint, 2);
  const cJSON *mx = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "confusion"), "matrix");
  ASSERT_EQ(cJSON_GetArrayItem(cJSON_GetArrayItem(mx, 0), 0)->valueint, 19);
  ASSERT_EQ(cJSON_GetArrayItem(cJSON_GetArrayItem(mx, 0), 1)->valueint, 1);
  ASSERT_EQ(cJSON_GetArrayItem(cJSON_GetArrayItem(mx, 0), 2)->valueint, 1);
  cJSON_Delete(j);
  ain_ops_judge_metrics_free(&m);
}

TEST_MAIN(TEST_ENTRY(decisions_parse), TEST_ENTRY(confusion_recall_precision),
          TEST_ENTRY(zero_support_and_zero_predictions), TEST_ENTRY(no_items_no_benign),
          TEST_ENTRY(repeated_ids_count_once), TEST_ENTRY(bars_at_their_edges),
          TEST_ENTRY(benign_bar))
