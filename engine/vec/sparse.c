/* Exact cosines of many queries against many rows when the vectors are sparse (vec.h): the
 * hashed-ngrams embedder puts a title's ~60 features into 1024 buckets, so a dense pass spends
 * ~95% of its multiplications on zeros, and the planner's de-duplication of 10,000 feed items
 * against each other and a window of planned trends is n * m dense dot products (memory-bound:
 * every query re-reads the whole block). Here the rows' non-zeros go into one posting list per
 * dimension, and a query adds value * value into a score per row along the lists of its own
 * non-zeros: the same sums, far fewer of them. Dense vectors (an OpenAI-compatible model) take
 * the dense path. Relies on: vec.h. */
#include <stdlib.h>
#include <string.h>

#include "vec/vec.h"

typedef struct {
  uint32_t row;
  float v;
} post_t;

typedef struct {
  size_t *start; /* dims + 1 offsets into posts */
  post_t *posts;
  size_t *fill;
  size_t dims;
} postings_t;

int ain_vec_is_sparse(const float *block, size_t n, size_t dims) {
  size_t nz = 0, seen = n < 256 ? n : 256;
  for (size_t r = 0; r < seen; r++) {
    for (size_t d = 0; d < dims; d++) {
      nz += block[r * dims + d] != 0;
    }
  }
  return seen > 0 && nz * 8 <= seen * dims; /* at most one in eight non-zero */
}

/* Postings of rows[0..n) (all of them, or only the rows listed when keep is used later). */
static int postings_build(postings_t *p, const float *block, size_t n, size_t dims) {
  memset(p, 0, sizeof *p);
  p->dims = dims;
  p->start = calloc(dims + 1, sizeof *p->start);
  p->fill = calloc(dims, sizeof *p->fill);
  if (p->start == NULL || p->fill == NULL) {
    return -1;
  }
  for (size_t r = 0; r < n; r++) {
    for (size_t d = 0; d < dims; d++) {
      p->start[d + 1] += block[r * dims + d] != 0;
    }
  }
  for (size_t d = 0; d < dims; d++) {
    p->start[d + 1] += p->start[d];
  }
  p->posts = malloc((p->start[dims] ? p->start[dims] : 1) * sizeof *p->posts);
  return p->posts == NULL ? -1 : 0;
}

static void postings_add(postings_t *p, const float *v, size_t row) {
  for (size_t d = 0; d < p->dims; d++) {
    if (v[d] != 0) {
      p->posts[p->start[d] + p->fill[d]++] = (post_t){(uint32_t)row, v[d]};
    }
  }
}

static void postings_free(postings_t *p) {
  free(p->start);
  free(p->posts);
  free(p->fill);
}

/* scores[row] += q . row for every row in the postings; touched lists the rows hit once. */
static size_t accumulate(const postings_t *p, const float *q, float *scores, uint32_t *touched) {
  size_t nt = 0;
  for (size_t d = 0; d < p->dims; d++) {
    if (q[d] == 0) {
      continue;
    }
    float qd = q[d];
    for (size_t i = p->start[d]; i < p->start[d] + p->fill[d]; i++) {
      uint32_t r = p->posts[i].row;
      if (scores[r] == 0) {
        touched[nt++] = r;
      }
      scores[r] += qd * p->posts[i].v;
      if (scores[r] == 0) {
        scores[r] = 1e-30f; /* keep "touched" true: an exact zero sum is still a zero score */
      }
    }
  }
  return nt;
}

int ain_vec_dedup_sparse(const float *block, size_t n, size_t dims, float threshold, long *dup,
                         float *score) {
  postings_t p;
  float *scores = calloc(n ? n : 1, sizeof *scores);
  uint32_t *touched = malloc((n ? n : 1) * sizeof *touched);
  if (postings_build(&p, block, n, dims) != 0 || scores == NULL || touched == NULL) {
    postings_free(&p);
    free(scores);
    free(touched);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    const float *q = block + i * dims;
    size_t nt = accumulate(&p, q, scores, touched);
    long best = -1;
    float bs = 0;
    for (size_t t = 0; t < nt; t++) {
      uint32_t r = touched[t];
      /* the earliest kept row at or above the threshold, as the dense path names it */
      if (scores[r] >= threshold && (best < 0 || (long)r < best)) {
        best = (long)r;
        bs = scores[r];
      }
      scores[r] = 0;
    }
    dup[i] = best;
    if (score != NULL) {
      score[i] = best >= 0 ? bs : 0;
    }
    if (best < 0) {
      postings_add(&p, q, i); /* kept: later rows are compared with it */
    }
  }
  postings_free(&p);
  free(scores);
  free(touched);
  return 0;
}

/* min_score must be > 0: rows no feature of the query touches score 0 and are never hits. */
int ain_vec_topk_many_sparse(const float *block, size_t n, size_t dims, const float *qs, size_t nq,
                             size_t k, float min_score, const int64_t *ts, int64_t since,
                             ain_vec_hit_t *out, size_t *nout) {
  postings_t p;
  float *scores = calloc(n ? n : 1, sizeof *scores);
  uint32_t *touched = malloc((n ? n : 1) * sizeof *touched);
  if (postings_build(&p, block, n, dims) != 0 || scores == NULL || touched == NULL) {
    postings_free(&p);
    free(scores);
    free(touched);
    return -1;
  }
  for (size_t r = 0; r < n; r++) {
    if (ts == NULL || ts[r] >= since) {
      postings_add(&p, block + r * dims, r);
    }
  }
  for (size_t qi = 0; qi < nq; qi++) {
    size_t nt = accumulate(&p, qs + qi * dims, scores, touched);
    ain_vec_hit_t *h = out + qi * k;
    size_t have = 0;
    for (size_t t = 0; t < nt; t++) {
      uint32_t r = touched[t];
      float s = scores[r];
      scores[r] = 0;
      if (!(s >= min_score)) {
        continue;
      }
      /* insertion into a small sorted list (k is small for this path: the planner asks 1..3) */
      size_t at = have < k ? have++ : k;
      while (at > 0 && (h[at - 1].score < s || (h[at - 1].score == s && h[at - 1].row > r))) {
        if (at < k) {
          h[at] = h[at - 1];
        }
        at--;
      }
      if (at < k) {
        h[at] = (ain_vec_hit_t){r, s};
      }
    }
    nout[qi] = have;
  }
  postings_free(&p);
  free(scores);
  free(touched);
  return 0;
}
