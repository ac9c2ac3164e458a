/*
 * polar.c -- conjugation-equivariant projection of a complex n x n matrix onto U(N)
 * and SU(N), and its vector-Jacobian product.
 *
 *   P_U(N)(M) = M (M^dag M)^{-1/2} = U_svd V_svd^dag,
 *   P_SU(N)(M) = P_U(N)(M) exp(-i arg det P_U(N)(M) / N)
 * (Abbott et al., arXiv:2502.00263, eqs. (9)-(10), used to build learned active loops).
 * The SVD is a one-sided (Hestenes) Jacobi iteration on the columns of M (for 3x3 started
 * from the analytic eigenbasis of M^dag M, eig.c), which keeps the
 * relative accuracy of small singular values (no squaring of the condition number as in
 * forming M^dag M); Demmel & Veselic, SIAM J. Matrix Anal. Appl. 13 (1992) 1204.
 * Backward: dP = P Omega with Q^dag Omega Q ~ (Z~ - Z~^dag)_jk / (sigma_j + sigma_k),
 * Z~ = Q^dag P^dag dM Q (Higham, Functions of Matrices, SIAM 2008, sect. 8.1), so
 *   dL/dM = P Q A Q^dag,  A_jk = (B_jk - conj(B_kj)) / (sigma_j + sigma_k),
 *   B = Q^dag P^dag G Q;  derivation and the det step in docs/spectral.md.
 *
 * Thread contract: pure functions, no allocation, no global state.
 */
#include "latflow/group.h"
#include "spec_internal.h"

#include <float.h>
#include <math.h>

/* Columns p, q count as orthogonal when |m_p^dag m_q| <= HESTENES_TOL |m_p| |m_q|. */
#define HESTENES_TOL (4.0 * DBL_EPSILON)
#define HESTENES_MAX_SWEEPS 40

static int singular_error(double rcond) {
  return LF_ERROR(LF_ERANGE,
                  "polar projection: matrix is numerically singular (sigma_min/sigma_max <= "
                  "%.2g, limit %.0g), its unitary factor is not unique; check the staple/loop "
                  "that produced it",
                  rcond, LF_SPEC_POLAR_RCOND);
}

int lf_spec_polar(int n, int su, const lf_cplx *m, lf_cplx *out, lf_spec_polar_state *st) {
  if (n < 1 || n > 3) return LF_ERROR(LF_EINVAL, "matrix size n = %d: use 1, 2 or 3", n);
  double scale = 0;
  for (int i = 0; i < n * n; i++) {
    double x = fabs(creal(m[i])), y = fabs(cimag(m[i]));
    if (!isfinite(x) || !isfinite(y))
      return LF_ERROR(LF_ENAN, "matrix has NaN/Inf entries; check the input of lf_spec_polar");
    if (x > scale) scale = x;
    if (y > scale) scale = y;
  }
  if (scale == 0)
    return LF_ERROR(LF_ERANGE, "polar projection of the zero matrix is undefined; check the "
                               "staple/loop that produced it");
  lf_cplx a[9], q[9], p[9];
  const double inv = 1.0 / scale;
  for (int i = 0; i < n * n; i++) a[i] = m[i] * inv;
  lf_mat_identity(n, q);
  if (n == 3) { /* start from the analytic eigenbasis of A^dag A: usually one sweep left */
    lf_cplx b[9], q0[9];
    lf_su3_dag_mul(b, a, a);
    if (lf_spec_herm3_basis(b, q0)) {
      lf_su3_mul(b, a, q0);
      lf_mat_copy(3, a, b);
      lf_mat_copy(3, q, q0);
    }
  }
  /* A column of norm below 0.1 RCOND ||A||_F bounds sigma_min/sigma_max below RCOND (n <= 3):
   * stop there (further rotations of rounding-noise columns need not converge). */
  double f2 = 0;
  for (int i = 0; i < n * n; i++) f2 += creal(a[i] * conj(a[i]));
  const double tiny2 = 0.01 * LF_SPEC_POLAR_RCOND * LF_SPEC_POLAR_RCOND * f2;
  int sweep;
  for (sweep = 0; sweep < HESTENES_MAX_SWEEPS; sweep++) {
    int rotated = 0;
    for (int i = 0; i < n; i++)
      for (int j = i + 1; j < n; j++) {
        double aii = 0, ajj = 0;
        lf_cplx h = 0;
        for (int r = 0; r < n; r++) {
          aii += creal(a[r * n + i] * conj(a[r * n + i]));
          ajj += creal(a[r * n + j] * conj(a[r * n + j]));
          h += conj(a[r * n + i]) * a[r * n + j];
        }
        if (aii <= tiny2 || ajj <= tiny2) return singular_error(sqrt(fmin(aii, ajj) / f2));
        if (cabs(h) <= HESTENES_TOL * sqrt(aii * ajj)) continue;
        rotated = 1;
        double c, shift;
        lf_cplx sp;
        lf_spec_rotation(aii, ajj, h, &c, &sp, &shift);
        lf_spec_rotate_cols(n, a, i, j, c, sp);
        lf_spec_rotate_cols(n, q, i, j, c, sp);
      }
    if (!rotated) break;
  }
  if (sweep == HESTENES_MAX_SWEEPS)
    return LF_ERROR(LF_ENOCONV, "polar projection: Jacobi SVD did not converge in %d sweeps; "
                                "report this matrix as a bug",
                    HESTENES_MAX_SWEEPS);
  double sig[3], smax = 0, smin = INFINITY;
  for (int j = 0; j < n; j++) {
    double s2 = 0;
    for (int r = 0; r < n; r++) s2 += creal(a[r * n + j] * conj(a[r * n + j]));
    sig[j] = sqrt(s2);
    if (sig[j] > smax) smax = sig[j];
    if (sig[j] < smin) smin = sig[j];
  }
  if (!(smin > LF_SPEC_POLAR_RCOND * smax)) return singular_error(smin / smax);
  for (int j = 0; j < n; j++) {
    double is = 1.0 / sig[j];
    for (int r = 0; r < n; r++) a[r * n + j] *= is; /* left singular vectors */
  }
  lf_mat_mul_dag(n, p, a, q); /* P = U Q^dag */
  lf_cplx phase = 1.0;
  if (su) {
    lf_cplx d = lf_mat_det(n, p);
    phase = cexp(-LF_I * (carg(d) / (double)n));
  }
  for (int i = 0; i < n * n; i++) out[i] = p[i] * phase;
  if (st) {
    st->n = n;
    st->su = su ? 1 : 0;
    lf_mat_copy(n, st->p, p);
    lf_mat_copy(n, st->q, q);
    for (int j = 0; j < n; j++) st->sigma[j] = sig[j] * scale;
    st->phase = phase;
  }
  return LF_OK;
}

void lf_spec_polar_vjp(const lf_spec_polar_state *st, const lf_cplx *g, lf_cplx *gm) {
  const int n = st->n;
  const lf_cplx *p = st->p, *q = st->q;
  lf_cplx gp[9], b[9], bt[9], tmp[9], am[9];
  if (st->su) {
    /* P_SU = P e^{-i phi}, phi = arg det P / N: dL = Re tr(G1^dag dP) - c dphi with
     * G1 = e^{i phi} G, c = Re tr(G1^dag i P), dphi = Re tr((iP)^dag dP) / N. */
    lf_cplx ph = conj(st->phase);
    double c = 0;
    for (int i = 0; i < n * n; i++) c += creal(conj(ph * g[i]) * LF_I * p[i]);
    for (int i = 0; i < n * n; i++) gp[i] = ph * g[i] - (c / (double)n) * LF_I * p[i];
  } else {
    lf_mat_copy(n, gp, g);
  }
  lf_mat_dag_mul(n, b, p, gp);  /* P^dag G */
  lf_mat_dag_mul(n, tmp, q, b); /* Q^dag P^dag G */
  lf_mat_mul(n, bt, tmp, q);    /* B = Q^dag P^dag G Q */
  for (int j = 0; j < n; j++)
    for (int k = 0; k < n; k++)
      am[j * n + k] = (bt[j * n + k] - conj(bt[k * n + j])) / (st->sigma[j] + st->sigma[k]);
  lf_mat_mul(n, tmp, q, am);    /* Q A */
  lf_mat_mul_dag(n, b, tmp, q); /* Q A Q^dag */
  lf_mat_mul(n, gm, p, b);      /* P Q A Q^dag */
}
