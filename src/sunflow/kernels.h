/*
 * src/sunflow/kernels.h -- inline N x N complex kernels (N = 2, 3) for the hot loops of the
 * sunflow module: products a b, a b^dag, a^dag b, their accumulating forms c += ..., and
 * real-coefficient axpy / Re tr(a b^dag) (docs/benchmarks.md "SU(N) flow training step").
 *
 * The generic lf_mat_* of group.h are out-of-line calls with a size switch; the staple
 * network of the learned active loops (lal.c) makes ~10^3 3x3 products per site, so these
 * are inlined here. N = 3 uses AVX2+FMA when the compiler targets it (-march=native,
 * LATFLOW_NATIVE; the same scheme as src/action/su3_simd.h: a ymm holds two complex
 * numbers, row i of c = s b is addsub(sum_k Re s_ik B_k, sum_k Im s_ik swap(B_k))), else
 * plain C loops that gcc vectorises (also with LF_SF_PORTABLE defined: tests). Results equal lf_mat_* to rounding (FMA and
 * accumulation order differ), checked by tests/sunflow/kernels.c to 1e-14 relative.
 * Pointers must not alias (restrict); no alignment needed. N = 1 is not supported here.
 */
#ifndef LF_SUNFLOW_KERNELS_H
#define LF_SUNFLOW_KERNELS_H

#include "latflow/group.h"

#if defined(__AVX2__) && defined(__FMA__) && !defined(LF_SF_PORTABLE)
#include <immintrin.h>
#define LF_SF_SIMD 1

typedef struct {
  __m256d lo[3], los[3]; /* (B_k0, B_k1) and its re<->im swap */
  __m128d hi[3], his[3]; /* B_k2 and swap                      */
} lf_sf_bvec;

/* rows of b */
static inline void lf_sf_brows(lf_sf_bvec *v, const lf_cplx *restrict b) {
  const double *B = (const double *)b;
  for (int k = 0; k < 3; k++) {
    v->lo[k] = _mm256_loadu_pd(B + 6 * k);
    v->hi[k] = _mm_loadu_pd(B + 6 * k + 4);
    v->los[k] = _mm256_permute_pd(v->lo[k], 0x5);
    v->his[k] = _mm_permute_pd(v->hi[k], 0x1);
  }
}

/* rows of b^dag: (conj b_0k, conj b_1k), conj b_2k */
static inline void lf_sf_bdag(lf_sf_bvec *v, const lf_cplx *restrict b) {
  const double *B = (const double *)b;
  const __m256d m256 = _mm256_set_pd(-0.0, 0.0, -0.0, 0.0);
  const __m128d m128 = _mm_set_pd(-0.0, 0.0);
  for (int k = 0; k < 3; k++) {
    __m256d x = _mm256_castpd128_pd256(_mm_loadu_pd(B + 2 * k));
    x = _mm256_insertf128_pd(x, _mm_loadu_pd(B + 6 + 2 * k), 1);
    v->lo[k] = _mm256_xor_pd(x, m256);
    v->hi[k] = _mm_xor_pd(_mm_loadu_pd(B + 12 + 2 * k), m128);
    v->los[k] = _mm256_permute_pd(v->lo[k], 0x5);
    v->his[k] = _mm_permute_pd(v->hi[k], 0x1);
  }
}

/* c (+)= s b with s_ik = a_ik (adag = 0) or conj(a_ki) (adag = 1) */
static inline void lf_sf_apply(lf_cplx *restrict c, const lf_cplx *restrict a,
                               const lf_sf_bvec *v, int adag, int add) {
  const double *A = (const double *)a;
  double *C = (double *)c;
  for (int i = 0; i < 3; i++) {
    __m256d lo = add ? _mm256_loadu_pd(C + 6 * i) : _mm256_setzero_pd(), los = _mm256_setzero_pd();
    __m128d hi = add ? _mm_loadu_pd(C + 6 * i + 4) : _mm_setzero_pd(), his = _mm_setzero_pd();
    for (int k = 0; k < 3; k++) {
      const double *s = adag ? A + 2 * (3 * k + i) : A + 2 * (3 * i + k);
      __m256d re = _mm256_broadcast_sd(s), im = _mm256_broadcast_sd(s + 1);
      lo = _mm256_fmadd_pd(re, v->lo[k], lo);
      hi = _mm_fmadd_pd(_mm256_castpd256_pd128(re), v->hi[k], hi);
      if (adag) {
        los = _mm256_fnmadd_pd(im, v->los[k], los);
        his = _mm_fnmadd_pd(_mm256_castpd256_pd128(im), v->his[k], his);
      } else {
        los = _mm256_fmadd_pd(im, v->los[k], los);
        his = _mm_fmadd_pd(_mm256_castpd256_pd128(im), v->his[k], his);
      }
    }
    _mm256_storeu_pd(C + 6 * i, _mm256_addsub_pd(lo, los));
    _mm_storeu_pd(C + 6 * i + 4, _mm_addsub_pd(hi, his));
  }
}

static inline void lf_sf3_mul(lf_cplx *restrict c, const lf_cplx *restrict a,
                              const lf_cplx *restrict b, int add) {
  lf_sf_bvec v;
  lf_sf_brows(&v, b);
  lf_sf_apply(c, a, &v, 0, add);
}
static inline void lf_sf3_mul_dag(lf_cplx *restrict c, const lf_cplx *restrict a,
                                  const lf_cplx *restrict b, int add) {
  lf_sf_bvec v;
  lf_sf_bdag(&v, b);
  lf_sf_apply(c, a, &v, 0, add);
}
static inline void lf_sf3_dag_mul(lf_cplx *restrict c, const lf_cplx *restrict a,
                                  const lf_cplx *restrict b, int add) {
  lf_sf_bvec v;
  lf_sf_brows(&v, b);
  lf_sf_apply(c, a, &v, 1, add);
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
