/*
 * src/sunflow/kernels.h -- inline N x N complex kernels (N = 2, 3) for the hot loops of the
 * sunflow module: products a b, a b^dag, a^dag b, their accumulating forms c += ..., and
 * real-coefficient axpy / Re tr(a b^dag) (docs/benchmarks.md "SU(N) flow training step").
 *
 * The generic lf_mat_* of group.h are out-of-line calls with a size switch; the staple
 * network of the learned active loops (lal.c) makes ~10^3 3x3 products per site, so these
 * are inlined here. N = 3 uses AVX2+FMA when the compiler targets it (-march=native,
 * LATFLOW_NATIVE; the core latflow/su3_avx2.h, shared with the action module), else
 * plain C loops that gcc vectorises (also with LF_SF_PORTABLE defined: tests). Results
 * equal lf_mat_* to rounding (FMA and accumulation order differ), checked by tests/sunflow/kernels.c to 1e-14 relative.
 * Pointers must not alias (restrict); no alignment needed. N = 1 is not supported here.
 */
#ifndef LF_SUNFLOW_KERNELS_H
#define LF_SUNFLOW_KERNELS_H

#include "latflow/group.h"
#include "latflow/su3_avx2.h"

#if LF_SU3_AVX2 && !defined(LF_SF_PORTABLE)
#define LF_SF_SIMD 1

static inline void lf_sf3_mul(lf_cplx *restrict c, const lf_cplx *restrict a,
                              const lf_cplx *restrict b, int add) {
  lf_su3_bvec v;
  lf_su3_bvec_rows(&v, b);
  lf_su3_apply(c, a, &v, 0, add);
}
static inline void lf_sf3_mul_dag(lf_cplx *restrict c, const lf_cplx *restrict a,
                                  const lf_cplx *restrict b, int add) {
  lf_su3_bvec v;
  lf_su3_bvec_dag(&v, b);
  lf_su3_apply(c, a, &v, 0, add);
}
static inline void lf_sf3_dag_mul(lf_cplx *restrict c, const lf_cplx *restrict a,
                                  const lf_cplx *restrict b, int add) {
  lf_su3_bvec v;
  lf_su3_bvec_rows(&v, b);
  lf_su3_apply(c, a, &v, 1, add);
}
#else
#define LF_SF_SIMD 0
/* portable: c (+)= op(a) op(b), op = identity or dagger, with real arithmetic gcc can
 * vectorise */
static inline void lf_sf3_gen(lf_cplx *restrict c, const lf_cplx *restrict a,
                              const lf_cplx *restrict b, int adag, int bdag, int add) {
  const double *A = (const double *)a, *B = (const double *)b;
  double *C = (double *)c;
  for (int i = 0; i < 3; i++) {
    double re[3], im[3];
    for (int j = 0; j < 3; j++) re[j] = add ? C[6 * i + 2 * j] : 0.0, im[j] = add ? C[6 * i + 2 * j + 1] : 0.0;
    for (int k = 0; k < 3; k++) {
      const int ia = adag ? 3 * k + i : 3 * i + k;
      const double ar = A[2 * ia], ai = adag ? -A[2 * ia + 1] : A[2 * ia + 1];
      for (int j = 0; j < 3; j++) {
        const int ib = bdag ? 3 * j + k : 3 * k + j;
        const double br = B[2 * ib], bi = bdag ? -B[2 * ib + 1] : B[2 * ib + 1];
        re[j] += ar * br - ai * bi;
        im[j] += ar * bi + ai * br;
      }
    }
    for (int j = 0; j < 3; j++) C[6 * i + 2 * j] = re[j], C[6 * i + 2 * j + 1] = im[j];
  }
}
static inline void lf_sf3_mul(lf_cplx *restrict c, const lf_cplx *restrict a,
                              const lf_cplx *restrict b, int add) {
  lf_sf3_gen(c, a, b, 0, 0, add);
}
static inline void lf_sf3_mul_dag(lf_cplx *restrict c, const lf_cplx *restrict a,
                                  const lf_cplx *restrict b, int add) {
  lf_sf3_gen(c, a, b, 0, 1, add);
}
static inline void lf_sf3_dag_mul(lf_cplx *restrict c, const lf_cplx *restrict a,
                                  const lf_cplx *restrict b, int add) {
  lf_sf3_gen(c, a, b, 1, 0, add);
}
#endif

/* SU(2)-sized products: c (+)= op(a) op(b) */
static inline void lf_sf2_gen(lf_cplx *restrict c, const lf_cplx *restrict a,
                              const lf_cplx *restrict b, int adag, int bdag, int add) {
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++) {
      lf_cplx s = add ? c[2 * i + j] : 0;
      for (int k = 0; k < 2; k++)
        s += (adag ? conj(a[2 * k + i]) : a[2 * i + k]) * (bdag ? conj(b[2 * j + k]) : b[2 * k + j]);
      c[2 * i + j] = s;
    }
}

/* c = a b, c = a b^dag, c = a^dag b (N = 2, 3) */
static inline void lf_sf_mul(int N, lf_cplx *restrict c, const lf_cplx *restrict a,
                             const lf_cplx *restrict b) {
  if (N == 3) lf_sf3_mul(c, a, b, 0);
  else lf_sf2_gen(c, a, b, 0, 0, 0);
}
static inline void lf_sf_mul_dag(int N, lf_cplx *restrict c, const lf_cplx *restrict a,
                                 const lf_cplx *restrict b) {
  if (N == 3) lf_sf3_mul_dag(c, a, b, 0);
  else lf_sf2_gen(c, a, b, 0, 1, 0);
}
static inline void lf_sf_dag_mul(int N, lf_cplx *restrict c, const lf_cplx *restrict a,
                                 const lf_cplx *restrict b) {
  if (N == 3) lf_sf3_dag_mul(c, a, b, 0);
  else lf_sf2_gen(c, a, b, 1, 0, 0);
}
/* c += a b, c += a b^dag, c += a^dag b */
static inline void lf_sf_mul_add(int N, lf_cplx *restrict c, const lf_cplx *restrict a,
                                 const lf_cplx *restrict b) {
  if (N == 3) lf_sf3_mul(c, a, b, 1);
  else lf_sf2_gen(c, a, b, 0, 0, 1);
}
static inline void lf_sf_mul_dag_add(int N, lf_cplx *restrict c, const lf_cplx *restrict a,
                                     const lf_cplx *restrict b) {
  if (N == 3) lf_sf3_mul_dag(c, a, b, 1);
  else lf_sf2_gen(c, a, b, 0, 1, 1);
}
static inline void lf_sf_dag_mul_add(int N, lf_cplx *restrict c, const lf_cplx *restrict a,
                                     const lf_cplx *restrict b) {
  if (N == 3) lf_sf3_dag_mul(c, a, b, 1);
  else lf_sf2_gen(c, a, b, 1, 0, 1);
}

/* y += s x for a REAL s, on the 2 N^2 doubles of the matrices */
static inline void lf_sf_axpy(int N, lf_cplx *restrict y, double s, const lf_cplx *restrict x) {
  double *Y = (double *)y;
  const double *X = (const double *)x;
  for (int i = 0; i < 2 * N * N; i++) Y[i] += s * X[i];
}
/* y = sum_k s[k ss] x[k xs] (k < n, matrices x[k xs .. k xs + N^2 - 1], real s; zero
 * coefficients skipped), accumulated in k order; N = 3 keeps the sum in registers */
static inline void lf_sf_lincomb(int N, lf_cplx *restrict y, int n, const double *restrict s,
                                 size_t ss, const lf_cplx *restrict x, size_t xs) {
  if (N == 3) {
    double acc[18] = {0};
    for (int k = 0; k < n; k++) {
      const double c = s[(size_t)k * ss];
      if (c == 0) continue;
      const double *X = (const double *)(x + (size_t)k * xs);
      for (int e = 0; e < 18; e++) acc[e] += c * X[e];
    }
    memcpy(y, acc, sizeof acc);
  } else {
    memset(y, 0, (size_t)(N * N) * sizeof *y);
    for (int k = 0; k < n; k++)
      if (s[(size_t)k * ss] != 0) lf_sf_axpy(N, y, s[(size_t)k * ss], x + (size_t)k * xs);
  }
}
/* y += x */
static inline void lf_sf_add(int N, lf_cplx *restrict y, const lf_cplx *restrict x) {
  double *Y = (double *)y;
  const double *X = (const double *)x;
  for (int i = 0; i < 2 * N * N; i++) Y[i] += X[i];
}

#endif
