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

/* ================================================================ spectral linear algebra
 * (src/group/eig.c, spectral.c, polar.c; math in docs/spectral.md)
 *
 * Building blocks of SU(N) spectral flows (Boyda et al., PRD 103 (2021) 074504,
 * arXiv:2008.05456) and learned active loops (Abbott et al., arXiv:2502.00263):
 * eigen-decomposition of unitary matrices W = V diag(e^{i theta}) V^dag, the spectral map
 * W -> W' = V diag(e^{i theta'}) V^dag with its vector-Jacobian product (Daleckii-Krein
 * divided differences, finite at degenerate angles), the conjugation-equivariant polar
 * projection onto U(N)/SU(N) with its VJP, and the Haar (Weyl) Vandermonde factor.
 *
 * Gradient convention: for a real loss L of a complex matrix M the gradient is the complex
 * matrix G with G_ij = dL/dRe M_ij + i dL/dIm M_ij, so dL = Re tr(G^dag dM). Gradients with
 * respect to a unitary W are returned in the tangent space at W: gW = W X with X
 * anti-hermitian (traceless in the SU(N) convention), so dL = Re tr(gW^dag dW) for every
 * allowed dW; the left derivative is X_L = gW W^dag, and along W -> exp(eps i T_a) W
 * dL/deps_a = lf_alg_to_coords(X_L)_a / 2 (docs/spectral.md).
 * n = 1, 2, 3 everywhere. All functions are thread-safe and allocation-free.
 *
 *     lf_spec_eigsys e;
 *     lf_spec_eig(3, 1, w, &e);                          // SU(3): sum of angles = 0
 *     for (int j = 0; j < 3; j++) th1[j] = f(e.theta, j); // permutation-equivariant f
 *     lf_spec_map(&e, th1, w1);                          // W' = V e^{i th1} V^dag
 *     // backward: g1 = dL/dW'
 *     lf_spec_map_vjp_angles(&e, th1, g1, gth1);         // dL/dth1 through W'
 *     gth[k] = sum_j gth1[j] * J[j][k] (+ direct dL/dtheta)  // caller: J = d th1/d theta
 *     lf_spec_divdiff(3, e.theta, th1, J, s);             // circular divided differences
 *     lf_spec_map_vjp(&e, th1, s, g1, gth, gw);           // dL/dW (tangent at W)
 */

/* Eigen-system of a unitary n x n matrix: W = V diag(e^{i theta}) V^dag.
 * theta ascending. U(N) convention (su = 0): theta_j in (-pi, pi]. SU(N) convention
 * (su = 1): theta_{n-1} = -(theta_0 + ... + theta_{n-2}), so the sum taken left to right
 * is exactly 0.0; all angles lie in (-pi, pi] unless their principal values sum to
 * +-2 pi, in which case the largest (resp. smallest) angle is shifted by -2 pi (resp.
 * +2 pi) before sorting (docs/spectral.md). V is unitary, column j is the eigenvector of
 * e^{i theta_j}. */
typedef struct {
  int n;           /* 1, 2, 3 */
  int su;          /* 1: SU(N) angle convention, 0: U(N) */
  double theta[3]; /* eigen-angles, ascending */
  lf_cplx v[9];    /* eigenvectors as columns, row-major n x n */
} lf_spec_eigsys;

/* Hermitian eigen-decomposition H = V diag(lam) V^dag (cyclic complex Jacobi), lam
 * ascending, V unitary (columns = eigenvectors). Only the upper triangle of h is read.
 * LF_EINVAL (n), LF_ENAN (non-finite input), LF_ENOCONV (no convergence; not expected). */
int lf_spec_eigh(int n, const lf_cplx *h, double *lam, lf_cplx *v);

/* Eigen-decomposition of a unitary W (U(N) if su == 0, SU(N) if su == 1). n = 2 closed
 * form; n = 3 Cayley transform to a hermitian matrix + Jacobi, angles from Rayleigh
 * quotients. Backward stable also at degenerate angles (W = 1, centre elements).
 * LF_EINVAL if W is not unitary (|v^dag W v| off 1 by more than LF_SPEC_UNITARY_TOL) or, with
 * su = 1, det W is not 1 within the same tolerance; LF_ENAN for non-finite input. */
#define LF_SPEC_UNITARY_TOL 1e-6
int lf_spec_eig(int n, int su, const lf_cplx *w, lf_spec_eigsys *e);

/* W' = V diag(e^{i theta_new}) V^dag (w_new may not alias e). */
void lf_spec_map(const lf_spec_eigsys *e, const double *theta_new, lf_cplx *w_new);

/* Circular divided differences for the VJP of the spectral map:
 * s[j*n+k] = sin((theta'_k - theta'_j)/2) / sin((theta_k - theta_j)/2) (j != k), s[j*n+j] = 0.
 * Where |2 sin((theta_k - theta_j)/2)| < LF_SPEC_DD_TOL (eigenvalues coincide on the circle)
 * the limit is used: (-1)^(m + m') (J_jj + J_kk - J_jk - J_kj)/2, J = jac[j*n+k] =
 * d theta'_j / d theta_k, m, m' the 2 pi windings of the two differences (error O(delta^2)
 * for permutation-equivariant f). jac may be NULL only if no pair is that close
 * (LF_EINVAL otherwise). Callers with exact divided differences may fill s themselves. */
#define LF_SPEC_DD_TOL 1e-5
int lf_spec_divdiff(int n, const double *theta, const double *theta_new, const double *jac,
                    double *s);

/* Backward, step 1: gtheta_new[j] = dL/dtheta'_j through W' = V e^{i theta'} V^dag, given
 * g = dL/dW'. */
void lf_spec_map_vjp_angles(const lf_spec_eigsys *e, const double *theta_new, const lf_cplx *g,
                            double *gtheta_new);

/* Backward, step 2: gradient gw (tangent at W) of L(W) through the spectral map with
 * - g = dL/dW' (through the eigenvectors; NULL = 0), needs theta_new and s (lf_spec_divdiff),
 * - gtheta = total dL/dtheta (J^T gtheta_new plus direct terms; NULL = 0).
 * With g == NULL this is the VJP of the eigen-angles alone (theta_new, s unused). */
void lf_spec_map_vjp(const lf_spec_eigsys *e, const double *theta_new, const double *s,
                     const lf_cplx *g, const double *gtheta, lf_cplx *gw);
/* VJP of W -> theta: gw = V diag(i e^{i theta} gtheta) V^dag (SU(N): mean of gtheta removed). */
void lf_spec_eig_vjp(const lf_spec_eigsys *e, const double *gtheta, lf_cplx *gw);

/* log prod_{j<k} |e^{i theta_j} - e^{i theta_k}|^2 (the Weyl/Haar factor; -inf at
 * coincident angles) and, if grad != NULL, grad[j] = sum_{k != j} cot((theta_j - theta_k)/2). */
double lf_spec_log_vandermonde(int n, const double *theta, double *grad);

/* Polar projection P_U(N)(M) = M (M^dag M)^{-1/2} = U_svd V_svd^dag (one-sided Jacobi SVD of
 * M), and with su = 1 P_SU(N)(M) = P_U(N)(M) / det(P_U(N)(M))^{1/N} with the principal root
 * exp(-i arg(det)/N), arg in [-pi, pi] (C carg). Conjugation equivariant:
 * P(g M g^dag) = g P(M) g^dag. `st` (may be NULL) keeps what the VJP needs.
 * LF_ERANGE if M is numerically singular (sigma_min <= LF_SPEC_POLAR_RCOND sigma_max),
 * LF_ENAN for non-finite input, LF_ENOCONV if the SVD does not converge (not expected). */
#define LF_SPEC_POLAR_RCOND 1e-14
typedef struct {
  int n, su;
  lf_cplx p[9];    /* P_U(N)(M) */
  lf_cplx q[9];    /* right singular vectors (columns): M^dag M = Q diag(sigma^2) Q^dag */
  double sigma[3]; /* singular values of M (unsorted, matching q) */
  lf_cplx phase;   /* det(P_U(N))^{-1/N} (1 for su = 0) */
} lf_spec_polar_state;
int lf_spec_polar(int n, int su, const lf_cplx *m, lf_cplx *out, lf_spec_polar_state *st);

/* VJP of the polar projection: gm = dL/dM given g = dL/dP (any complex matrix; only its
 * tangent part matters). gm may not alias g. */
void lf_spec_polar_vjp(const lf_spec_polar_state *st, const lf_cplx *g, lf_cplx *gm);

#endif
