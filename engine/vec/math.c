/* Exact vector math over float32 (vec.h "math"): dot products, normalisation, top-k by cosine,
 * greedy de-duplication. The dot product is written with GCC vector extensions (eight lanes,
 * four accumulators) and compiled twice through target_clones (AVX2+FMA, baseline SSE2), chosen
 * once at load by the CPU: a plain float loop does not vectorise without -ffast-math (the sum
 * cannot be reordered), and scanning a million rows is bound by memory bandwidth only when the
 * arithmetic keeps up with it (bench/vector measures exactly that against a summing loop).
 * Relies on: vec.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vec/vec.h"

typedef float v8f __attribute__((vector_size(32)));

/* Unaligned (rows of any dims follow each other) product-accumulate of eight lanes. A macro, not
 * a function: returning a 32-byte vector from a function built without AVX changes its ABI. */
#define MAC8(acc, x, y)                                                                            \
  do {                                                                                             \
    v8f va_, vb_;                                                                                  \
    memcpy(&va_, (x), sizeof va_);                                                                 \
    memcpy(&vb_, (y), sizeof vb_);                                                                 \
    (acc) += va_ * vb_;                                                                            \
  } while (0)

/* AVX2 and baseline versions picked at load by an ifunc (GCC). clang 14's target_clones leaves
 * the symbol undefined for other translation units (the fuzz build links, it fails), so clang
 * builds get the baseline version only. */
#if defined(__clang__)
#define AIN_VEC_CLONES
#else
#define AIN_VEC_CLONES __attribute__((target_clones("arch=haswell", "default")))
#endif

AIN_VEC_CLONES float
ain_vec_dot(const float *a, const float *b, size_t dims) {
  v8f s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
  size_t i = 0;
  for (; i + 32 <= dims; i += 32) {
    MAC8(s0, a + i, b + i);
    MAC8(s1, a + i + 8, b + i + 8);
    MAC8(s2, a + i + 16, b + i + 16);
    MAC8(s3, a + i + 24, b + i + 24);
  }
  for (; i + 8 <= dims; i += 8) {
    MAC8(s0, a + i, b + i);
  }
  v8f t = (s0 + s1) + (s2 + s3);
  float s = ((t[0] + t[4]) + (t[1] + t[5])) + ((t[2] + t[6]) + (t[3] + t[7]));
  for (; i < dims; i++) {
    s += a[i] * b[i];
  }
  return s;
}

int ain_vec_normalize(float *v, size_t dims, ain_err_t *err) {
  double ss = 0;
  for (size_t i = 0; i < dims; i++) {
    if (!isfinite(v[i])) {
      return ain_err_field(err, AIN_EINVAL, "vector", "component %zu is not a finite number", i);
    }
    ss += (double)v[i] * v[i];
  }
  if (ss == 0) {
    return ain_err_field(err, AIN_EINVAL, "vector",
                         "the vector is all zeros (it has no direction, so no cosine)");
  }
  double inv = 1.0 / sqrt(ss);
  for (size_t i = 0; i < dims; i++) {
    v[i] = (float)(v[i] * inv);
  }
  return 0;
}

/* A min-heap of the best k so far: heap[0] is the worst kept hit, so a row that does not beat it
 * costs one comparison. Worse = lower score, or equal score and higher row. */
static int worse(const ain_vec_hit_t *a, const ain_vec_hit_t *b) {
  return a->score < b->score || (a->score == b->score && a->row > b->row);
}

static void sift_down(ain_vec_hit_t *h, size_t n, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && worse(&h[l], &h[m])) {
      m = l;
    }
    if (r < n && worse(&h[r], &h[m])) {
      m = r;
    }
    if (m == i) {
      return;
    }
    ain_vec_hit_t t = h[i];
    h[i] = h[m];
    h[m] = t;
    i = m;
  }
}

static void sift_up(ain_vec_hit_t *h, size_t i) {
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!worse(&h[i], &h[p])) {
      return;
    }
    ain_vec_hit_t t = h[i];
    h[i] = h[p];
    h[p] = t;
    i = p;
  }
}

static int by_best(const void *a, const void *b) {
  const ain_vec_hit_t *x = a, *y = b;
  return worse(x, y) ? 1 : worse(y, x) ? -1 : 0;
}

size_t ain_vec_topk(const float *block, size_t n, size_t dims, const float *q, size_t k,
                    float min_score, const int64_t *ts, int64_t since, ain_vec_hit_t *out) {
  size_t have = 0;
  if (k == 0) {
    return 0;
  }
  for (size_t r = 0; r < n; r++) {
    if (ts != NULL && ts[r] < since) {
      continue;
    }
    float s = ain_vec_dot(block + r * dims, q, dims);
    if (!(s >= min_score)) {
      continue; /* also drops a NaN score */
    }
    ain_vec_hit_t hit = {r, s};
    if (have < k) {
      out[have] = hit;
      sift_up(out, have++);
    } else if (worse(&out[0], &hit)) {
      out[0] = hit;
      sift_down(out, k, 0);
    }
  }
  qsort(out, have, sizeof *out, by_best);
  return have;
}

void ain_vec_dedup(const float *block, size_t n, size_t dims, float threshold, long *dup,
                   float *score) {
  if (threshold > 0 && ain_vec_is_sparse(block, n, dims) &&
      ain_vec_dedup_sparse(block, n, dims, threshold, dup, score) == 0) {
    return;
  }
  /* kept rows are compared in order, so the earliest near-duplicate is the one named */
  size_t *kept = malloc((n ? n : 1) * sizeof *kept), nkept = 0;
  if (kept == NULL) {
    abort();
  }
  for (size_t i = 0; i < n; i++) {
    dup[i] = -1;
    if (score != NULL) {
      score[i] = 0;
    }
    const float *q = block + i * dims;
    for (size_t j = 0; j < nkept; j++) {
      float s = ain_vec_dot(block + kept[j] * dims, q, dims);
      if (s >= threshold) {
        dup[i] = (long)kept[j];
        if (score != NULL) {
          score[i] = s;
        }
        break;
      }
    }
    if (dup[i] < 0) {
      kept[nkept++] = i;
    }
  }
  free(kept);
}
