/*
 * latflow/su3_avx2.h -- the AVX2+FMA core of SU(3) 3x3 complex products, shared by the
 * action module's force/staple loop (src/action/su3_simd.h) and the SU(N) flows' staple
 * network (src/sunflow/kernels.h). Inline; defined only when the compiler targets AVX2 and
 * FMA (-march=native, LATFLOW_NATIVE): LF_SU3_AVX2 is then 1, else 0 and the callers use
 * their portable kernels.
 *
 * Scheme: a ymm holds two complex numbers (re, im, re, im). Row i of c = s b is
 * sum_k s_ik b_k., computed as addsub(sum_k re(s_ik) B_k, sum_k im(s_ik) swap(B_k)) with
 * B_k = (b_k0, b_k1) in a ymm and b_k2 in an xmm; b^dagger (lf_su3_bvec_dag) and a^dagger
 * (adag = 1) are handled by building the conjugated B vectors / negating im(a) once per
 * product. Results equal the plain loops of group.h to rounding (FMA, summation order).
 * Pointers must not alias (restrict); no alignment needed.
 */
#ifndef LATFLOW_SU3_AVX2_H
#define LATFLOW_SU3_AVX2_H

#include "latflow/group.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define LF_SU3_AVX2 1

typedef struct {
  __m256d lo[3], los[3]; /* (B_k0, B_k1) and its re<->im swap */
  __m128d hi[3], his[3]; /* B_k2 and swap                      */
} lf_su3_bvec;

/* rows of b */
static inline void lf_su3_bvec_rows(lf_su3_bvec *v, const lf_cplx *restrict b) {
  const double *B = (const double *)b;
  for (int k = 0; k < 3; k++) {
    v->lo[k] = _mm256_loadu_pd(B + 6 * k);
    v->hi[k] = _mm_loadu_pd(B + 6 * k + 4);
    v->los[k] = _mm256_permute_pd(v->lo[k], 0x5);
    v->his[k] = _mm_permute_pd(v->hi[k], 0x1);
  }
}

/* rows of b^dagger: (conj b_0k, conj b_1k), conj b_2k */
static inline void lf_su3_bvec_dag(lf_su3_bvec *v, const lf_cplx *restrict b) {
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

/* c (+)= s b where s_ik = a_ik (adag = 0) or conj(a_ki) (adag = 1). */
static inline void lf_su3_apply(lf_cplx *restrict c, const lf_cplx *restrict a,
                                const lf_su3_bvec *v, int adag, int add) {
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

#else
#define LF_SU3_AVX2 0
#endif

#endif
