/*
 * spec_internal.h -- private helpers shared by eig.c and polar.c (group module):
 * the complex Jacobi rotation of a hermitian 2x2 block and the analytic 3x3 starting
 * eigenbasis (docs/spectral.md, "Hermitian Jacobi").
 */
#ifndef LATFLOW_GROUP_SPEC_INTERNAL_H
#define LATFLOW_GROUP_SPEC_INTERNAL_H

#include "latflow/group.h"

#include <math.h>

/* Rotation J = [[c, sp], [-conj(sp), c]] (c real, |sp|^2 + c^2 = 1) with J^dag K J diagonal
 * for the hermitian K = [[a, h], [conj(h), b]]; the new diagonal is (a - d, b + d), d returned
 * in *shift (= t |h| with t = |sp|/c the smaller root of t^2 + 2 tau t - 1 = 0,
 * tau = (b - a)/(2|h|); Numerical Recipes 11.1 after removing the phase of h).
 * h != 0; the caller keeps |h|, |a|, |b| <= O(1) (no overflow). */
static inline void lf_spec_rotation(double a, double b, lf_cplx h, double *c, lf_cplx *sp,
                                    double *shift) {
  const double r2 = creal(h) * creal(h) + cimag(h) * cimag(h), d = b - a;
  if (d * d > 4e16 * r2) {
    /* nearly diagonal block (|tau| > 1e8, the last sweeps): t = 1/(2 tau), c = 1 to double
     * precision; no square roots */
    const double id = 1.0 / d;
    *c = 1.0;
    *sp = h * id;
    *shift = r2 * id;
    return;
  }
  const double r = sqrt(r2), tau = d / (2.0 * r);
  double t = 1.0 / (fabs(tau) + sqrt(tau * tau + 1.0));
  if (tau < 0) t = -t;
  const double cc = 1.0 / sqrt(t * t + 1.0);
  *c = cc;
  *sp = (t * cc / r) * h;
  *shift = t * r;
}

/* a[:, p], a[:, q] <- (a J)[:, p], (a J)[:, q] for an n x n row-major matrix. */
static inline void lf_spec_rotate_cols(int n, lf_cplx *a, int p, int q, double c, lf_cplx sp) {
  for (int i = 0; i < n; i++) {
    lf_cplx ap = a[i * n + p], aq = a[i * n + q];
    a[i * n + p] = c * ap - conj(sp) * aq;
    a[i * n + q] = sp * ap + c * aq;
  }
}

/* rows p, q of a <- rows of (J^dag a). */
static inline void lf_spec_rotate_rows(int n, lf_cplx *a, int p, int q, double c, lf_cplx sp) {
  for (int j = 0; j < n; j++) {
    lf_cplx ap = a[p * n + j], aq = a[q * n + j];
    a[p * n + j] = c * ap - sp * aq;
    a[q * n + j] = conj(sp) * ap + c * aq;
  }
}

/* Approximate eigenbasis of a 3x3 hermitian matrix with entries O(1) (eig.c): fills the
 * unitary v (columns) and returns 1, or returns 0 if none was found (v untouched). */
int lf_spec_herm3_basis(const lf_cplx *a, lf_cplx *v);

#endif
