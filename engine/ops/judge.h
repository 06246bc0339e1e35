/* Measuring the judge (issue 13): `ain judge eval` runs judge.screen(text, ctx) on labelled items
 * and scores it (a 3x3 decision confusion matrix, precision and recall per category, benign items
 * wrongly stopped, the bars); `ain judge shadow` re-runs candidate versions on the judge decisions
 * recorded in a window and reports what would change. Both run policies in a side-effect-free
 * host (ops/policy.h); results are cJSON objects, documented in docs/cli.md, that the CLI prints
 * (and an API would send) as they are.
 * Relies on: ops/ops.h, ops/policy.h, ops/replay.h, cJSON. */
#ifndef AIN_OPS_JUDGE_H
#define AIN_OPS_JUDGE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "ops/ops.h"

/* ---- metrics (judge_metrics.c: pure, no Lua, no store) ---------------------------------------- */

enum { AIN_JUDGE_PASS = 0, AIN_JUDGE_REVIEW, AIN_JUDGE_REJECT, AIN_JUDGE_NDECISIONS };

/* "pass" | "review" | "reject" -> AIN_JUDGE_*, anything else -1. */
int ain_ops_judge_decision(const char *s);
const char *ain_ops_judge_decision_name(int d);

/* The bars of issue 13. */
#define AIN_JUDGE_BAR_REJECT 0.95 /* recall of a category whose action is reject */
#define AIN_JUDGE_BAR_REVIEW 0.90 /* recall of a category whose action is review */
#define AIN_JUDGE_BAR_BENIGN 0.05 /* benign items wrongly stopped, at most */

typedef struct {
  char *id;
  char action[16]; /* reject | review | pass, from the policy's categories; "" unknown */
  int support;     /* items labelled with it */
  int found;       /* of those, items whose screen() categories include it */
  int predicted;   /* items whose screen() categories include it */
  double recall;    /* found / support; -1 when support is 0 */
  double precision; /* items labelled and predicted / predicted; -1 when predicted is 0 */
  double bar;       /* the recall it must reach; -1: none (no support, or action pass) */
  int below;        /* 1 when recall < bar */
} ain_judge_cat_t;

typedef struct {
  int confusion[AIN_JUDGE_NDECISIONS][AIN_JUDGE_NDECISIONS]; /* [expected][got] */
  int items;
  int benign;         /* labelled pass with no category */
  int benign_stopped; /* of those, screened to review or reject */
  ain_judge_cat_t *cats; /* sorted by id after ain_ops_judge_metrics_finish */
  size_t ncats, cap;
  double benign_rate; /* benign_stopped / benign (0 when no benign item) */
  int bars_ok;
} ain_judge_metrics_t;

/* Counts one item: its labels and what screen() said. Category lists need not be sorted or
 * unique (a repeated id counts once). */
void ain_ops_judge_metrics_add(ain_judge_metrics_t *m, int expected, const char *const *exp_cats,
                               size_t nexp, int got, const char *const *got_cats, size_t ngot);
/* Computes the rates and checks the bars. actions: {category id: "reject"|"review"|"pass"} from
 * the policy data (may be NULL); a category it does not name gets the reject bar (the strict one:
 * an unknown category is never let off lightly). */
void ain_ops_judge_metrics_finish(ain_judge_metrics_t *m, const cJSON *actions);
void ain_ops_judge_metrics_free(ain_judge_metrics_t *m);
/* The metrics as JSON: confusion, categories, benign, bars (see docs/cli.md). Caller deletes. */
cJSON *ain_ops_judge_metrics_json(const ain_judge_metrics_t *m);

/* ---- eval (judge_eval.c) ------------------------------------------------------------------------ */

typedef struct {
  const char *const *files; /* JSON Lines datasets (docs/cli.md, tests/fixtures/judge/) */
  size_t nfiles;
  /* Candidate versions from script_versions (full sha or unique prefix); each replaces its own
   * module (judge, safety/..., personas/...) over the current files. Needs ops->store. */
  const char *const *shas;
  size_t nshas;
  const char *scripts_dir; /* the current files; NULL = ops->cfg->scripts_dir */
} ain_judge_eval_opts_t;

/* Validates every line of every file first (AIN_ESCHEMA naming "FILE:LINE" and the field; nothing
 * runs then), then screens each item and returns the report ({"ok":true, "judge":..,
 * "items":N, "confusion":.., "categories":[..], "benign":.., "bars":{"ok":..}, "misses":[..]})
 * in *out (caller deletes). A judge without screen() is AIN_EINVAL saying so; screen() raising on
 * an item is AIN_ELUA naming the item. Bars below are no error: report.bars.ok is false. */
int ain_ops_judge_eval(ain_ops_t *ops, const ain_judge_eval_opts_t *o, cJSON **out,
                       ain_err_t *err);

/* ---- shadow (judge_shadow.c) -------------------------------------------------------------------- */

typedef struct {
  const char *const *shas; /* candidate versions, at least one; each picks its module */
  size_t nshas;
  int64_t since_ms; /* decisions recorded at or after this time (ms since the epoch) */
  int limit;        /* the newest N decisions of the window (0 = 1000) */
} ain_judge_shadow_opts_t;

/* Re-runs judge.decide with the candidates on every judge decision recorded in the window (its
 * recorded payload, ctx and versions, ops/replay.h), and returns {"ok":true, "candidates":[..],
 * "decisions":N, "changed":K (decisions that differ), "details_changed":D (same decision, other
 * fields differ), "errors":E, "transitions":[{"from","to","count"}..],
 * "items":[{"task_id","dag_id","old","new","categories","findings"}..]} in *out. A decision that
 * cannot be re-run (its recorded versions are gone) is counted in errors and listed. */
int ain_ops_judge_shadow(ain_ops_t *ops, const ain_judge_shadow_opts_t *o, cJSON **out,
                         ain_err_t *err);

#endif
