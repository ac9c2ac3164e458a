/*
 * latflow/group.h -- U(1), SU(2), SU(3) matrices: products, traces, determinant,
 * exponential of Lie-algebra elements, reunitarisation, Haar sampling, algebra
 * projection and Gaussian algebra (momentum) draws.
 *
 * Storage: a group element of U(1)/SU(2)/SU(3) is an n x n complex matrix, n = 1, 2, 3,
 * row-major, `lf_cplx m[n*n]` with m[i*n + j] = M_ij (the ILDG layout). The enum value
 * of a group IS its matrix size n, so `int n = group` works everywhere.
 *
 * Lie algebra convention (docs/conventions.md): an algebra element is an anti-hermitian
 * matrix X = sum_a x_a (i T_a) with generators normalised as tr(T_a T_b) = delta_ab / 2
 * (SU(2): T = sigma/2, SU(3): T = lambda/2, U(1): T = 1/sqrt(2)). Then
 * tr(X^dagger X) = (1/2) sum_a x_a^2, which is the HMC kinetic energy per link.
 * SU(N) algebra elements are traceless; U(1) ones are i*real.
 *
 * Kernels: `c` must not alias `a` or `b` (restrict) unless documented otherwise.
 * All functions are thread-safe and allocation-free.
 *
 *     lf_cplx u[9], v[9], w[9];
 *     lf_group_haar(LF_SU3, u, &rng);
 *     lf_mat_mul(3, w, u, v);                 // w = u v
 *     double p = lf_mat_retr_mul_dag(3, u, v) / 3;  // Re tr(u v^dagger) / N
 */
#ifndef LATFLOW_GROUP_H
#define LATFLOW_GROUP_H

#include <complex.h>
#include <string.h>

#include "latflow/core.h"

typedef double complex lf_cplx;
/* The imaginary unit in double precision (C's `I` is a float complex). */
#define LF_I CMPLX(0.0, 1.0)

typedef enum { LF_U1 = 1, LF_SU2 = 2, LF_SU3 = 3 } lf_group;

/* "u1" / "su2" / "su3" -> group (LF_EINVAL with a message otherwise). */
int lf_group_parse(const char *name, lf_group *g);
const char *lf_group_name(lf_group g);
/* Number of real algebra generators: 1, 3, 8. */
static inline int lf_group_ngen(lf_group g) { return g == LF_U1 ? 1 : (int)g * (int)g - 1; }

/* ---------------------------------------------------------------- SU(3) inline kernels */
static inline void lf_su3_mul(lf_cplx *restrict c, const lf_cplx *restrict a,
                              const lf_cplx *restrict b) {
  for (int i = 0; i < 3; i++) {
    const lf_cplx a0 = a[3 * i], a1 = a[3 * i + 1], a2 = a[3 * i + 2];
    c[3 * i + 0] = a0 * b[0] + a1 * b[3] + a2 * b[6];
    c[3 * i + 1] = a0 * b[1] + a1 * b[4] + a2 * b[7];
    c[3 * i + 2] = a0 * b[2] + a1 * b[5] + a2 * b[8];
  }
}
/* c = a b^dagger */
static inline void lf_su3_mul_dag(lf_cplx *restrict c, const lf_cplx *restrict a,
                                  const lf_cplx *restrict b) {
  for (int i = 0; i < 3; i++) {
    const lf_cplx a0 = a[3 * i], a1 = a[3 * i + 1], a2 = a[3 * i + 2];
    for (int j = 0; j < 3; j++)
      c[3 * i + j] = a0 * conj(b[3 * j]) + a1 * conj(b[3 * j + 1]) + a2 * conj(b[3 * j + 2]);
  }
}
/* c = a^dagger b */
static inline void lf_su3_dag_mul(lf_cplx *restrict c, const lf_cplx *restrict a,
                                  const lf_cplx *restrict b) {
  for (int i = 0; i < 3; i++) {
    const lf_cplx a0 = conj(a[i]), a1 = conj(a[3 + i]), a2 = conj(a[6 + i]);
    c[3 * i + 0] = a0 * b[0] + a1 * b[3] + a2 * b[6];
    c[3 * i + 1] = a0 * b[1] + a1 * b[4] + a2 * b[7];
    c[3 * i + 2] = a0 * b[2] + a1 * b[5] + a2 * b[8];
  }
}

/* ---------------------------------------------------------------- generic n x n (n = 1, 2, 3) */
/* c = a b */
void lf_mat_mul(int n, lf_cplx *restrict c, const lf_cplx *restrict a, const lf_cplx *restrict b);
/* c = a b^dagger */
void lf_mat_mul_dag(int n, lf_cplx *restrict c, const lf_cplx *restrict a,
                    const lf_cplx *restrict b);
/* c = a^dagger b */
void lf_mat_dag_mul(int n, lf_cplx *restrict c, const lf_cplx *restrict a,
                    const lf_cplx *restrict b);
/* c = a^dagger (c may not alias a) */
void lf_mat_dag(int n, lf_cplx *restrict c, const lf_cplx *restrict a);
static inline void lf_mat_copy(int n, lf_cplx *c, const lf_cplx *a) {
  memcpy(c, a, sizeof(lf_cplx) * (size_t)(n * n));
}
void lf_mat_identity(int n, lf_cplx *c);
void lf_mat_zero(int n, lf_cplx *c);
/* y += s x (y may alias nothing else) */
void lf_mat_axpy(int n, lf_cplx *restrict y, lf_cplx s, const lf_cplx *restrict x);
void lf_mat_scale(int n, lf_cplx *c, lf_cplx s);
lf_cplx lf_mat_trace(int n, const lf_cplx *a);
lf_cplx lf_mat_det(int n, const lf_cplx *a);
/* Re tr(a b) and Re tr(a b^dagger), without forming the product. */
double lf_mat_retr_mul(int n, const lf_cplx *a, const lf_cplx *b);
double lf_mat_retr_mul_dag(int n, const lf_cplx *a, const lf_cplx *b);
/* Frobenius distance ||a - b|| and ||a^dagger a - 1|| + |det a - 1| (unitarity defect). */
double lf_mat_dist(int n, const lf_cplx *a, const lf_cplx *b);
double lf_group_defect(lf_group g, const lf_cplx *u);

/* ---------------------------------------------------------------- group operations */
/* Project a nearly unitary matrix back onto the group (in place): U(1) normalise,
 * SU(2) quaternion normalise, SU(3) Gram-Schmidt of rows 1, 2 and row 3 = (r1 x r2)^*. */
void lf_group_unitarize(lf_group g, lf_cplx *u);
/* Haar-distributed random element (exact for all three groups). */
void lf_group_haar(lf_group g, lf_cplx *u, lf_rng *r);
/* Random element near the identity: exp(eps * X), X Gaussian algebra element. */
void lf_group_random_near(lf_group g, lf_cplx *u, double eps, lf_rng *r);

/* ---------------------------------------------------------------- Lie algebra */
/* X = traceless anti-hermitian part of M:  (M - M^dag)/2 - tr(M - M^dag)/(2N) (SU(N));
 * i Im M for U(1). out may alias m. */
void lf_alg_project(lf_group g, lf_cplx *out, const lf_cplx *m);
/* exp(X) for X in the algebra: U(1) exact, SU(2) closed form, SU(3) Cayley-Hamilton
 * (Morningstar-Peardon, hep-lat/0311018). Result is in the group to rounding. */
void lf_alg_exp(lf_group g, lf_cplx *restrict u, const lf_cplx *restrict x);
/* Gaussian algebra element X = sum_a p_a i T_a with p_a ~ N(0, 1). */
void lf_alg_random(lf_group g, lf_cplx *x, lf_rng *r);
/* tr(X^dagger X) = (1/2) sum_a x_a^2 (kinetic energy of a momentum). */
double lf_alg_norm2(int n, const lf_cplx *x);
/* Components x_a = -2 Re tr(i T_a X)... of X, and back (ngen reals). */
void lf_alg_to_coords(lf_group g, double *coords, const lf_cplx *x);
void lf_alg_from_coords(lf_group g, lf_cplx *x, const double *coords);

#endif
