/* Scores of `ain judge eval` (judge.h): the confusion matrix of decisions, precision and recall
 * per category, benign items wrongly stopped, and the bars of issue 13. Pure arithmetic, unit
 * tested on its edge cases (no support, no prediction, no benign item).
 * Relies on: judge.h, cJSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "ops/judge.h"

static const char *const decisions[AIN_JUDGE_NDECISIONS] = {"pass", "review", "reject"};

int ain_ops_judge_decision(const char *s) {
  for (int d = 0; s != NULL && d < AIN_JUDGE_NDECISIONS; d++) {
    if (strcmp(s, decisions[d]) == 0) {
      return d;
    }
  }
  return -1;
}

const char *ain_ops_judge_decision_name(int d) {
  return d >= 0 && d < AIN_JUDGE_NDECISIONS ? decisions[d] : "?";
}

static ain_judge_cat_t *cat_of(ain_judge_metrics_t *m, const char *id) {
  for (size_t i = 0; i < m->ncats; i++) {
    if (strcmp(m->cats[i].id, id) == 0) {
      return &m->cats[i];
    }
  }
  if (m->ncats == m->cap) {
    m->cap = m->cap ? m->cap * 2 : 16;
    m->cats = realloc(m->cats, m->cap * sizeof *m->cats);
    if (m->cats == NULL) {
      abort(); /* OOM is fatal, as in ain_strdup */
    }
  }
  ain_judge_cat_t *c = &m->cats[m->ncats++];
  memset(c, 0, sizeof *c);
  c->id = ain_strdup(id);
  return c;
}

static int has(const char *const *list, size_t n, const char *id) {
  for (size_t i = 0; i < n; i++) {
    if (strcmp(list[i], id) == 0) {
      return 1;
    }
  }
  return 0;
}

/* 1 when list[i] is the first occurrence of its value (a repeated id counts once). */
static int first(const char *const *list, size_t i) {
  return !has(list, i, list[i]);
}

void ain_ops_judge_metrics_add(ain_judge_metrics_t *m, int expected, const char *const *exp_cats,
                               size_t nexp, int got, const char *const *got_cats, size_t ngot) {
  m->items++;
  if (expected >= 0 && expected < AIN_JUDGE_NDECISIONS && got >= 0 &&
      got < AIN_JUDGE_NDECISIONS) {
    m->confusion[expected][got]++;
  }
  if (expected == AIN_JUDGE_PASS && nexp == 0) {
    m->benign++;
    m->benign_stopped += got != AIN_JUDGE_PASS;
  }
  for (size_t i = 0; i < nexp; i++) {
    if (first(exp_cats, i)) {
      ain_judge_cat_t *c = cat_of(m, exp_cats[i]);
      c->support++;
      c->found += has(got_cats, ngot, exp_cats[i]);
    }
  }
  for (size_t i = 0; i < ngot; i++) {
    if (first(got_cats, i)) {
      cat_of(m, got_cats[i])->predicted++;
    }
  }
}

static int by_id(const void *a, const void *b) {
  return strcmp(((const ain_judge_cat_t *)a)->id, ((const ain_judge_cat_t *)b)->id);
}

void ain_ops_judge_metrics_finish(ain_judge_metrics_t *m, const cJSON *actions) {
  if (m->ncats > 0) {
    qsort(m->cats, m->ncats, sizeof *m->cats, by_id);
  }
  m->bars_ok = 1;
  for (size_t i = 0; i < m->ncats; i++) {
    ain_judge_cat_t *c = &m->cats[i];
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(actions, c->id);
    const char *action = cJSON_IsString(a) ? a->valuestring : "";
    snprintf(c->action, sizeof c->action, "%s", action);
    c->recall = c->support > 0 ? (double)c->found / c->support : -1;
    c->precision = c->predicted > 0 ? (double)c->found / c->predicted : -1;
    if (c->support == 0 || strcmp(action, "pass") == 0) {
      c->bar = -1; /* nothing labelled to find, or nothing to stop */
    } else {
      c->bar = strcmp(action, "review") == 0 ? AIN_JUDGE_BAR_REVIEW : AIN_JUDGE_BAR_REJECT;
    }
    /* compared on counts, so 19/20 = 0.95 meets 0.95 whatever the rounding of the division */
    c->below = c->bar >= 0 && (double)c->found < c->bar * c->support - 1e-9;
    m->bars_ok &= !c->below;
  }
  m->benign_rate = m->benign > 0 ? (double)m->benign_stopped / m->benign : 0;
  if ((double)m->benign_stopped > AIN_JUDGE_BAR_BENIGN * m->benign + 1e-9) {
    m->bars_ok = 0;
  }
}

void ain_ops_judge_metrics_free(ain_judge_metrics_t *m) {
  for (size_t i = 0; i < m->ncats; i++) {
    free(m->cats[i].id);
  }
  free(m->cats);
  memset(m, 0, sizeof *m);
}

/* A rate, or null when it is undefined. */
static cJSON *rate(double v) {
  return v < 0 ? cJSON_CreateNull() : cJSON_CreateNumber(v);
}

cJSON *ain_ops_judge_metrics_json(const ain_judge_metrics_t *m) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "items", m->items);
  cJSON *conf = cJSON_AddObjectToObject(o, "confusion");
  cJSON_AddItemToObject(conf, "labels", cJSON_CreateStringArray(decisions, AIN_JUDGE_NDECISIONS));
  cJSON *rows = cJSON_AddArrayToObject(conf, "matrix"); /* rows: expected; columns: got */
  for (int e = 0; e < AIN_JUDGE_NDECISIONS; e++) {
    cJSON_AddItemToArray(rows, cJSON_CreateIntArray(m->confusion[e], AIN_JUDGE_NDECISIONS));
  }
  cJSON *cats = cJSON_AddArrayToObject(o, "categories");
  cJSON *failed = cJSON_CreateArray();
  for (size_t i = 0; i < m->ncats; i++) {
    const ain_judge_cat_t *c = &m->cats[i];
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "id", c->id);
    if (c->action[0]) {
      cJSON_AddStringToObject(j, "action", c->action);
    } else {
      cJSON_AddNullToObject(j, "action");
    }
    cJSON_AddNumberToObject(j, "support", c->support);
    cJSON_AddNumberToObject(j, "found", c->found);
    cJSON_AddNumberToObject(j, "predicted", c->predicted);
    cJSON_AddItemToObject(j, "recall", rate(c->recall));
    cJSON_AddItemToObject(j, "precision", rate(c->precision));
    cJSON_AddItemToObject(j, "bar", rate(c->bar));
    cJSON_AddBoolToObject(j, "below_bar", c->below);
    cJSON_AddItemToArray(cats, j);
    if (c->below) {
      char line[256];
      snprintf(line, sizeof line, "%s: recall %d/%d = %.3f < %.2f", c->id, c->found, c->support,
               c->recall, c->bar);
      cJSON_AddItemToArray(failed, cJSON_CreateString(line));
    }
  }
  cJSON *b = cJSON_AddObjectToObject(o, "benign");
  cJSON_AddNumberToObject(b, "items", m->benign);
  cJSON_AddNumberToObject(b, "stopped", m->benign_stopped);
  cJSON_AddNumberToObject(b, "rate", m->benign_rate);
  cJSON_AddNumberToObject(b, "bar", AIN_JUDGE_BAR_BENIGN);
  int benign_below = (double)m->benign_stopped > AIN_JUDGE_BAR_BENIGN * m->benign + 1e-9;
  cJSON_AddBoolToObject(b, "above_bar", benign_below);
  if (benign_below) {
    char line[256];
    snprintf(line, sizeof line, "benign stopped: %d/%d = %.3f > %.2f", m->benign_stopped,
             m->benign, m->benign_rate, AIN_JUDGE_BAR_BENIGN);
    cJSON_AddItemToArray(failed, cJSON_CreateString(line));
  }
  cJSON *bars = cJSON_AddObjectToObject(o, "bars");
  cJSON_AddBoolToObject(bars, "ok", m->bars_ok);
  cJSON_AddItemToObject(bars, "failed", failed);
  return o;
}
