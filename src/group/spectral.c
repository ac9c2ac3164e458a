/*
 * spectral.c -- the spectral map W -> W' = V diag(e^{i theta'}) V^dag of SU(N) spectral
 * flows and its vector-Jacobian product; the Weyl (Haar) Vandermonde factor.
 *
 * Math: docs/spectral.md. In the eigenbasis (tilde = V^dag . V, lambda = e^{i theta})
 *   dW~'_jk = r_jk dW~_jk (j != k),  r_jk = (lambda'_k - lambda'_j) / (lambda_k - lambda_j)
 *           = e^{i (theta'_j + theta'_k - theta_j - theta_k)/2} s_jk,
 *   s_jk = sin((theta'_k - theta'_j)/2) / sin((theta_k - theta_j)/2),
 *   dW~'_jj = i lambda'_j dtheta'_j,  dtheta_j = Im(conj(lambda_j) dW~_jj),
 * the Daleckii-Krein formula for a normal matrix (Daleckii & Krein 1965; Bhatia, Matrix
 * Analysis, thm V.3.3) written with circular divided differences, which stay finite at
 * coincident eigenvalues. Spectral flows: Boyda et al., PRD 103 (2021) 074504,
 * arXiv:2008.05456, sect. IV; log-det bookkeeping with the Weyl factor, ibid.
 *
 * Thread contract: pure functions, no allocation, no global state.
 */
#include "latflow/group.h"

#include <math.h>

/* e^{i x} (cos and sin fuse into one sincos; cexp would also evaluate exp(0)) */
static inline lf_cplx expi(double x) { return CMPLX(cos(x), sin(x)); }

void lf_spec_map(const lf_spec_eigsys *e, const double *theta_new, lf_cplx *w_new) {
  const int n = e->n;
  const lf_cplx *v = e->v;
  lf_cplx ph[3];
  for (int j = 0; j < n; j++) ph[j] = expi(theta_new[j]);
  for (int i = 0; i < n; i++)
    for (int k = 0; k < n; k++) {
      lf_cplx s = 0;
      for (int j = 0; j < n; j++) s += v[i * n + j] * ph[j] * conj(v[k * n + j]);
      w_new[i * n + k] = s;
    }
}

int lf_spec_divdiff(int n, const double *theta, const double *theta_new, const double *jac,
                    double *s) {
  if (n < 1 || n > 3) return LF_ERROR(LF_EINVAL, "matrix size n = %d: use 1, 2 or 3", n);
  for (int j = 0; j < n; j++) {
    s[j * n + j] = 0;
    for (int k = j + 1; k < n; k++) {
      double d = theta[k] - theta[j], d1 = theta_new[k] - theta_new[j];
      double den = sin(0.5 * d), val;
      if (fabs(2.0 * den) >= LF_SPEC_DD_TOL) {
        val = sin(0.5 * d1) / den;
      } else {
        if (!jac)
          return LF_ERROR(LF_EINVAL,
                          "eigen-angles %d and %d coincide on the circle (|2 sin(dtheta/2)| = "
                          "%.2g < %.0g): pass the Jacobian d theta'/d theta (jac) to "
                          "lf_spec_divdiff",
                          j, k, fabs(2.0 * den), LF_SPEC_DD_TOL);
        double m = nearbyint(d / LF_TWOPI), m1 = nearbyint(d1 / LF_TWOPI);
        double sign = fmod(fabs(m + m1), 2.0) == 0.0 ? 1.0 : -1.0;
        val = sign * 0.5 *
              (jac[j * n + j] + jac[k * n + k] - jac[j * n + k] - jac[k * n + j]);
      }
      s[j * n + k] = s[k * n + j] = val;
    }
  }
  return LF_OK;
}

/* g~_jj = (V^dag G V)_jj */
static lf_cplx rotated_diag(int n, const lf_cplx *v, const lf_cplx *g, int j) {
  lf_cplx s = 0;
  for (int a = 0; a < n; a++) {
    lf_cplx gv = 0;
    for (int b = 0; b < n; b++) gv += g[a * n + b] * v[b * n + j];
    s += conj(v[a * n + j]) * gv;
  }
  return s;
}

void lf_spec_map_vjp_angles(const lf_spec_eigsys *e, const double *theta_new, const lf_cplx *g,
                            double *gtheta_new) {
  const int n = e->n;
  for (int j = 0; j < n; j++) {
    lf_cplx gjj = rotated_diag(n, e->v, g, j);
    /* dL = Re(conj(g~_jj) i lambda'_j dtheta'_j) */
    gtheta_new[j] = creal(conj(gjj) * LF_I * expi(theta_new[j]));
  }
}

void lf_spec_map_vjp(const lf_spec_eigsys *e, const double *theta_new, const double *s,
                     const lf_cplx *g, const double *gtheta, lf_cplx *gw) {
  const int n = e->n;
  const lf_cplx *v = e->v;
  lf_cplx lam[3], y[9] = {0}, x[9], t[9], tmp[9];
  for (int j = 0; j < n; j++) lam[j] = expi(e->theta[j]);
  if (g) {
    lf_cplx gt[9], hp[3];
    lf_mat_dag_mul(n, tmp, v, g); /* V^dag G */
    lf_mat_mul(n, gt, tmp, v);    /* V^dag G V */
    /* r_jk = hp_j hp_k s_jk with hp_j = e^{i (theta'_j - theta_j)/2} */
    for (int j = 0; j < n; j++) hp[j] = expi(0.5 * (theta_new[j] - e->theta[j]));
    for (int j = 0; j < n; j++)
      for (int k = 0; k < n; k++) {
        if (j == k) continue;
        lf_cplx r = hp[j] * hp[k] * s[j * n + k];
        y[j * n + k] = conj(lam[j]) * conj(r) * gt[j * n + k];
      }
  }
  if (gtheta)
    for (int j = 0; j < n; j++) y[j * n + j] = LF_I * gtheta[j];
  /* project onto the tangent space: X = anti-hermitian (traceless for SU(N)) part of Y */
  for (int j = 0; j < n; j++)
    for (int k = 0; k < n; k++) x[j * n + k] = 0.5 * (y[j * n + k] - conj(y[k * n + j]));
  if (e->su) {
    lf_cplx tr = 0;
    for (int j = 0; j < n; j++) tr += x[j * n + j];
    for (int j = 0; j < n; j++) x[j * n + j] -= tr / (double)n;
  }
  for (int j = 0; j < n; j++)
    for (int k = 0; k < n; k++) t[j * n + k] = lam[j] * x[j * n + k];
  lf_mat_mul(n, tmp, v, t);
  lf_mat_mul_dag(n, gw, tmp, v);
}

void lf_spec_eig_vjp(const lf_spec_eigsys *e, const double *gtheta, lf_cplx *gw) {
  lf_spec_map_vjp(e, NULL, NULL, NULL, gtheta, gw);
}

double lf_spec_log_vandermonde(int n, const double *theta, double *grad) {
  double lv = 0;
  if (grad)
    for (int j = 0; j < n; j++) grad[j] = 0;
  for (int j = 0; j < n; j++)
    for (int k = j + 1; k < n; k++) {
      double h = 0.5 * (theta[j] - theta[k]);
      double sn = sin(h);
      lv += log(4.0 * sn * sn);
      if (grad) {
        double ct = cos(h) / sn; /* d/dtheta_j log(4 sin^2 h) = cot h */
        grad[j] += ct;
        grad[k] -= ct;
      }
    }
  return lv;
}
