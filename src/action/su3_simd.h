/*
 * su3_simd.h -- SU(3) 3x3 complex products for the force/staple hot loop, AVX2+FMA when
 * the compiler targets it (-march=native, LATFLOW_NATIVE), else the inline kernels of
 * latflow/group.h. Same results to rounding (different summation order), checked by
 * tests/action (finite differences, symmetries) in both builds.
 *
 * The AVX2 core is latflow/su3_avx2.h (shared with the SU(N) flows).
 * Pointers must not alias (restrict); no alignment needed.
 */
#ifndef LF_ACTION_SU3_SIMD_H
#define LF_ACTION_SU3_SIMD_H

#include "internal.h"
#include "latflow/su3_avx2.h"

#if LF_SU3_AVX2
static inline void lf_su3s_mul(lf_cplx *restrict c, const lf_cplx *restrict a,
                               const lf_cplx *restrict b) {
  lf_su3_bvec v;
  lf_su3_bvec_rows(&v, b);
  lf_su3_apply(c, a, &v, 0, 0);
}
static inline void lf_su3s_mul_dag(lf_cplx *restrict c, const lf_cplx *restrict a,
                                   const lf_cplx *restrict b) {
  lf_su3_bvec v;
  lf_su3_bvec_dag(&v, b);
  lf_su3_apply(c, a, &v, 0, 0);
}
static inline void lf_su3s_mul_dag_add(lf_cplx *restrict c, const lf_cplx *restrict a,
                                       const lf_cplx *restrict b) {
  lf_su3_bvec v;
  lf_su3_bvec_dag(&v, b);
  lf_su3_apply(c, a, &v, 0, 1);
}
static inline void lf_su3s_dag_mul_add(lf_cplx *restrict c, const lf_cplx *restrict a,
                                       const lf_cplx *restrict b) {
  lf_su3_bvec v;
  lf_su3_bvec_rows(&v, b);
  lf_su3_apply(c, a, &v, 1, 1);
}
#define LF_SU3_SIMD 1
#else
#define lf_su3s_mul lf_su3_mul
#define lf_su3s_mul_dag lf_su3_mul_dag
#define lf_su3s_mul_dag_add lf_su3_mul_dag_add
#define lf_su3s_dag_mul_add lf_su3_dag_mul_add
#define LF_SU3_SIMD 0
#endif

#endif
