/* tenun.h: the C SDK for Tenun compute jobs (WASI preview1 commands, built
 * with clang --target=wasm32-wasi). It reads inputs, writes outputs,
 * reports progress, and declares the sandbox's deterministic tensor kernels
 * (import module "tenun_nn"; see compute/sandbox and compute/sdk/kernels).
 *
 * Determinism is the job's duty around the kernels: build with
 * -ffp-contract=off (no fused multiply-add), do not use libm's exp/log
 * (they differ between libcs), iterate in a fixed order.
 *
 * Built natively the I/O helpers work the same (inputs from $TENUN_IN,
 * outputs to $TENUN_OUT, default /in and /out), and so do the linear
 * algebra and element-wise kernels: below, in plain C with the sandbox's
 * order of operations, so a job gives the same bits natively as in the
 * sandbox (built with -ffp-contract=off). exp, log, softmax and
 * cross_entropy use the project's own exp and log (compute/sdk/kernels)
 * and exist only in the sandbox. */
#ifndef TENUN_H
#define TENUN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TENUN_TRANS_A 1
#define TENUN_TRANS_B 2
#define TENUN_ACCUMULATE 4

#if defined(__wasm__)
#define TENUN_NN(name) __attribute__((import_module("tenun_nn"), import_name(name)))
/* c (m x n) = alpha*op(a)*op(b) (+ c with TENUN_ACCUMULATE), row-major. */
TENUN_NN("matmul") void tenun_matmul(int32_t flags, int32_t m, int32_t n, int32_t k, double alpha,
                                     const double *a, const double *b, double *c);
TENUN_NN("add") void tenun_add(int32_t n, const double *x, const double *y, double *out);
TENUN_NN("sub") void tenun_sub(int32_t n, const double *x, const double *y, double *out);
TENUN_NN("mul") void tenun_mul(int32_t n, const double *x, const double *y, double *out);
TENUN_NN("scale") void tenun_scale(int32_t n, double alpha, const double *x, double *out);
TENUN_NN("axpy") void tenun_axpy(int32_t n, double alpha, const double *x, double *y);
TENUN_NN("add_row") void tenun_add_row(int32_t m, int32_t n, const double *row, double *x);
TENUN_NN("relu") void tenun_relu(int32_t n, const double *x, double *out);
TENUN_NN("relu_grad") void tenun_relu_grad(int32_t n, const double *h, const double *d, double *out);
TENUN_NN("sum_rows") void tenun_sum_rows(int32_t m, int32_t n, const double *x, double *out);
TENUN_NN("sum") double tenun_sum(int32_t n, const double *x);
TENUN_NN("exp") void tenun_exp(int32_t n, const double *x, double *out);
TENUN_NN("log") void tenun_log(int32_t n, const double *x, double *out);
TENUN_NN("softmax") void tenun_softmax(int32_t m, int32_t n, const double *x, double *out);
TENUN_NN("cross_entropy") double tenun_cross_entropy(int32_t m, int32_t n, const double *p, const int32_t *labels);
TENUN_NN("onehot_sub") void tenun_onehot_sub(int32_t m, int32_t n, const int32_t *labels, double *x);
TENUN_NN("argmax_rows") void tenun_argmax_rows(int32_t m, int32_t n, const double *x, int32_t *out);
#else
/* The native kernels: the same arithmetic as package kernels, term by term.
 * Each output of matmul is a dot product summed over k in order from +0,
 * then scaled, then added to c with TENUN_ACCUMULATE. */
static inline void tenun_matmul(int32_t flags, int32_t m, int32_t n, int32_t k, double alpha, const double *a,
                                const double *b, double *c) {
  int32_t ai = k, ap = 1, bj = 1, bp = n; /* op(a)[i][p] = a[i*ai+p*ap], op(b)[p][j] = b[p*bp+j*bj] */
  if (flags & TENUN_TRANS_A) ai = 1, ap = m;
  if (flags & TENUN_TRANS_B) bj = k, bp = 1;
  for (int32_t i = 0; i < m; i++) {
    int32_t j = 0;
    /* four outputs at a time, as the sandbox's kernel does: four independent
     * sums, each still in order over k */
    for (; j + 4 <= n; j += 4) {
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (int32_t p = 0; p < k; p++) {
        double x = a[i * ai + p * ap];
        const double *y = b + p * bp + j * bj;
        double t0 = x * y[0], t1 = x * y[bj], t2 = x * y[2 * bj], t3 = x * y[3 * bj];
        s0 = s0 + t0, s1 = s1 + t1, s2 = s2 + t2, s3 = s3 + t3;
      }
      double v[4] = {alpha * s0, alpha * s1, alpha * s2, alpha * s3};
      for (int r = 0; r < 4; r++) c[i * n + j + r] = (flags & TENUN_ACCUMULATE) ? c[i * n + j + r] + v[r] : v[r];
    }
    for (; j < n; j++) {
      double s = 0;
      for (int32_t p = 0; p < k; p++) {
        double t = a[i * ai + p * ap] * b[p * bp + j * bj];
        s = s + t;
      }
      double v = alpha * s;
      c[i * n + j] = (flags & TENUN_ACCUMULATE) ? c[i * n + j] + v : v;
    }
  }
}
static inline void tenun_add(int32_t n, const double *x, const double *y, double *out) {
  for (int32_t i = 0; i < n; i++) out[i] = x[i] + y[i];
}
static inline void tenun_sub(int32_t n, const double *x, const double *y, double *out) {
  for (int32_t i = 0; i < n; i++) out[i] = x[i] - y[i];
}
static inline void tenun_mul(int32_t n, const double *x, const double *y, double *out) {
  for (int32_t i = 0; i < n; i++) out[i] = x[i] * y[i];
}
static inline void tenun_scale(int32_t n, double alpha, const double *x, double *out) {
  for (int32_t i = 0; i < n; i++) out[i] = alpha * x[i];
}
static inline void tenun_axpy(int32_t n, double alpha, const double *x, double *y) {
  for (int32_t i = 0; i < n; i++) {
    double t = alpha * x[i];
    y[i] = y[i] + t;
  }
}
static inline void tenun_add_row(int32_t m, int32_t n, const double *row, double *x) {
  for (int32_t i = 0; i < m; i++)
    for (int32_t j = 0; j < n; j++) x[i * n + j] += row[j];
}
/* not above zero: the sign bit set, or +0 (NaNs with the sign set too) */
static inline int tenun_not_positive_(double v) {
  int64_t bits;
  memcpy(&bits, &v, sizeof bits);
  return bits <= 0;
}
static inline void tenun_relu(int32_t n, const double *x, double *out) {
  for (int32_t i = 0; i < n; i++) out[i] = tenun_not_positive_(x[i]) ? 0 : x[i];
}
static inline void tenun_relu_grad(int32_t n, const double *h, const double *d, double *out) {
  for (int32_t i = 0; i < n; i++) out[i] = tenun_not_positive_(h[i]) ? 0 : d[i];
}
static inline void tenun_sum_rows(int32_t m, int32_t n, const double *x, double *out) {
  for (int32_t j = 0; j < n; j++) out[j] = 0;
  for (int32_t i = 0; i < m; i++)
    for (int32_t j = 0; j < n; j++) out[j] += x[i * n + j];
}
static inline double tenun_sum(int32_t n, const double *x) {
  double s = 0;
  for (int32_t i = 0; i < n; i++) s += x[i];
  return s;
}
static inline void tenun_onehot_sub(int32_t m, int32_t n, const int32_t *labels, double *x) {
  for (int32_t i = 0; i < m; i++) x[i * n + labels[i]] -= 1;
}
static inline void tenun_argmax_rows(int32_t m, int32_t n, const double *x, int32_t *out) {
  for (int32_t i = 0; i < m; i++) {
    int32_t best = 0;
    for (int32_t j = 1; j < n; j++)
      if (x[i * n + j] > x[i * n + best]) best = j;
    out[i] = best;
  }
}
#endif

static inline const char *tenun_dir(const char *env, const char *def) {
  const char *v = getenv(env);
  return v && *v ? v : def;
}

/* tenun_input reads the input file name whole into a malloc'd buffer
 * (NUL-terminated, *len bytes before the NUL); NULL on error. */
static inline char *tenun_input(const char *name, size_t *len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", tenun_dir("TENUN_IN", "/in"), name);
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap + 1);
  for (size_t r; buf && (r = fread(buf + n, 1, cap - n, f)) > 0;) {
    n += r;
    if (n == cap) {
      cap *= 2;
      char *grown = realloc(buf, cap + 1);
      if (!grown) free(buf);
      buf = grown;
    }
  }
  int bad = ferror(f);
  fclose(f);
  if (!buf || bad) {
    free(buf);
    return NULL;
  }
  buf[n] = 0;
  *len = n;
  return buf;
}

/* tenun_output writes len bytes as the output file name; 0 on success. */
static inline int tenun_output(const char *name, const void *data, size_t len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", tenun_dir("TENUN_OUT", "/out"), name);
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = fwrite(data, 1, len, f);
  return (fclose(f) == 0 && w == len) ? 0 : -1;
}

/* tenun_progress reports done of total steps on stderr. */
static inline void tenun_progress(long done, long total) { fprintf(stderr, "progress %ld/%ld\n", done, total); }

#endif
