/*
 * angles.c -- the class transform of a spectral coupling layer: a bijection of the
 * canonical cell of SU(N) (N = 2, 3) acting on the eigen-angles of an active loop.
 *
 * Math (docs/sunflow.md "canonical cell"; Boyda et al. 2008.05456 sec. IV): the SU(N)
 * angles of lf_spec_eig (ascending, sum 0, spread <= 2 pi) are the canonical-cell point of
 * the conjugacy class. Gaps g_k = theta_k - theta_{k-1} (k = 1..N-1), remainders
 * R_1 = 2 pi, R_{k+1} = R_k - g_k, stick-breaking u_k = g_k / R_k in [0, 1] (the cell is the
 * simplex g >= 0, sum g <= 2 pi, i.e. the cube [0,1]^(N-1) in u). Each u_k is moved by a
 * monotone rational-quadratic spline of [0, 1] onto itself,
 *     u'_k = s(2 pi u_k; p_k) / 2 pi  (flow.h's circular spline, shift 0),
 * then g'_k = u'_k R'_k and theta'_0 = -(1/N) sum_k (N-k) g'_k, theta'_k = theta'_{k-1} + g'_k.
 * Faces (coincident eigenvalues, g_k = 0 or g_N = 0) are mapped onto themselves, so W' is
 * well defined; the map is a function of the class, hence permutation equivariant.
 *     log|det dtheta'/dtheta| = sum_k [log s'_k + log R'_k - log R_k]   (R_1 = R'_1 = 2 pi)
 * on the N-1 free angles (theta -> g is linear with a constant determinant), and the Haar
 * log-Jacobian adds log|Delta(theta')|^2 - log|Delta(theta)|^2 (docs/spectral.md).
 * The reverse mode below follows the forward formulas step by step.
 * Thread contract: pure functions.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

int lf_sunflow_angles_nparams(int n, int K) { return (n - 1) * 3 * K; }

/* Raw parameters of coordinate k -> flow.h spline parameters (slopes shifted so that
 * zero raw parameters give slope 1, i.e. the identity; shift t = 0). */
static void spline_params(int K, const double *p, double *q) {
  const double c0 = log(expm1(1.0 - LF_FLOW_SPLINE_MIN_SLOPE));
  memcpy(q, p, 2 * (size_t)K * sizeof(double));
  for (int j = 0; j < K; j++) q[2 * K + j] = p[2 * K + j] + c0;
  q[3 * K] = 0;
}

/* u' = h(u) on [0, 1] and log h'(u). */
static void unit_spline(int K, const double *q, double u, double *up, double *ld) {
  const lf_flow_tspec ts = {LF_FLOW_SPLINE, K, 0};
  double y;
  /* the circular spline maps 2 pi to 2 pi (lifted); at u = 1 its slope equals the one at 0 */
  lf_flow_transform_forward(&ts, LF_TWOPI * u, q, &y, ld);
  *up = y / LF_TWOPI;
}

typedef struct {
  int n, M, K;
  double g[3], R[3], u[3], up[3], gp[3], Rp[3], ld[3];
  double q[3][3 * LF_SUNFLOW_MAXK + 1];
} cell;

static void to_cell(int n, const double *theta, double *g, double *R, double *u) {
  R[0] = LF_TWOPI;
  for (int k = 0; k < n - 1; k++) {
    g[k] = theta[k + 1] - theta[k];
    if (k + 1 < n - 1) R[k + 1] = R[k] - g[k];
    u[k] = R[k] > 0 ? g[k] / R[k] : 0.0;
  }
}

static void from_gaps(int n, const double *g, double *theta) {
  double t0 = 0;
  for (int k = 0; k < n - 1; k++) t0 -= (double)(n - 1 - k) * g[k];
  theta[0] = t0 / n;
  for (int k = 0; k < n - 1; k++) theta[k + 1] = theta[k] + g[k];
}

static double forward_cell(int n, int K, const double *theta, const double *p, cell *c) {
  c->n = n, c->M = n - 1, c->K = K;
  to_cell(n, theta, c->g, c->R, c->u);
  double lsum = 0, Rp = LF_TWOPI;
  for (int k = 0; k < c->M; k++) {
    spline_params(K, p + (size_t)k * 3 * (size_t)K, c->q[k]);
    unit_spline(K, c->q[k], c->u[k], &c->up[k], &c->ld[k]);
    c->Rp[k] = Rp;
    c->gp[k] = c->up[k] * Rp;
    lsum += c->ld[k];
    if (k > 0) lsum += log(Rp) - log(c->R[k]);
    Rp -= c->gp[k];
  }
  return lsum;
}

void lf_sunflow_angles_forward(int n, int K, const double *theta, const double *p,
                               double *theta_new, double *logdet) {
  cell c;
  double lsum = forward_cell(n, K, theta, p, &c);
  from_gaps(n, c.gp, theta_new);
  if (logdet)
    *logdet = lsum + lf_spec_log_vandermonde(n, theta_new, NULL) -
              lf_spec_log_vandermonde(n, theta, NULL);
}

int lf_sunflow_angles_inverse(int n, int K, const double *theta_new, const double *p,
                              double *theta, double *logdet) {
  const lf_flow_tspec ts = {LF_FLOW_SPLINE, K, 0};
  double gp[3], Rp[3], up[3], g[3];
  to_cell(n, theta_new, gp, Rp, up);
  double R = LF_TWOPI;
  for (int k = 0; k < n - 1; k++) {
    double q[3 * LF_SUNFLOW_MAXK + 1], x, u;
    spline_params(K, p + (size_t)k * 3 * (size_t)K, q);
    if (up[k] >= 1) {
      u = 1; /* the circular inverse would wrap 2 pi to 0 */
    } else {
      int rc = lf_flow_transform_inverse(&ts, LF_TWOPI * up[k], q, &x);
      if (rc) return lf_error_context(rc, "inverting the class transform");
      u = x / LF_TWOPI;
    }
    g[k] = u * R;
    R -= g[k];
  }
  from_gaps(n, g, theta);
  if (logdet) {
    double t1[3];
    lf_sunflow_angles_forward(n, K, theta, p, t1, logdet);
  }
  return LF_OK;
}

void lf_sunflow_angles_backward(int n, int K, const double *theta, const double *p,
                                const double *gnew, double gl, double *gtheta, double *gp,
                                double *jac) {
  const lf_flow_tspec ts = {LF_FLOW_SPLINE, K, 0};
  const int M = n - 1;
  cell c;
  forward_cell(n, K, theta, p, &c);
  double tn[3], vn[3], vo[3];
  from_gaps(n, c.gp, tn);
  lf_spec_log_vandermonde(n, tn, vn);
  lf_spec_log_vandermonde(n, theta, vo);
  /* theta' <- g' */
  double gth[3], sum = 0, ggp[3];
  for (int j = 0; j < n; j++) sum += (gth[j] = gnew[j] + gl * vn[j]);
  for (int i = 0; i < M; i++) { /* dtheta'_j/dg'_i = -(N-1-i)/N + [j >= i+1] */
    double tail = 0;
    for (int j = i + 1; j < n; j++) tail += gth[j];
    ggp[i] = tail - (double)(n - 1 - i) / n * sum;
  }
  /* g' <- u' (g'_k = u'_k R'_k, R'_k = 2pi - sum_{i<k} g'_i) and the log R'_k terms */
  double gup[3], acc = 0;
  for (int k = M - 1; k >= 0; k--) {
    double gg = ggp[k] - acc;
    gup[k] = gg * c.Rp[k];
    double gR = gg * c.up[k] + (k > 0 ? gl / c.Rp[k] : 0.0);
    acc += gR;
  }
  /* u' <- u (splines) */
  double gu[3];
  for (int k = 0; k < M; k++) {
    double gx, gq[3 * LF_SUNFLOW_MAXK + 1];
    lf_flow_transform_backward(&ts, LF_TWOPI * c.u[k], c.q[k], gup[k] / LF_TWOPI, gl, &gx, gq);
    gu[k] = LF_TWOPI * gx;
    memcpy(gp + (size_t)k * 3 * (size_t)K, gq, 3 * (size_t)K * sizeof(double));
  }
  /* u <- g (u_k = g_k / R_k) and the -log R_k terms */
  double gg[3];
  acc = 0;
  for (int k = M - 1; k >= 0; k--) {
    gg[k] = gu[k] / c.R[k] - acc;
    double gR = -gu[k] * c.g[k] / (c.R[k] * c.R[k]) - (k > 0 ? gl / c.R[k] : 0.0);
    acc += gR;
  }
  /* g <- theta, and -log|Delta(theta)|^2 */
  for (int j = 0; j < n; j++) gtheta[j] = -gl * vo[j];
  for (int k = 0; k < M; k++) gtheta[k + 1] += gg[k], gtheta[k] -= gg[k];
  if (jac) { /* forward mode, one column per input angle */
    for (int col = 0; col < n; col++) {
      double dth[3] = {0, 0, 0}, dg[3], dgp[3], dR = 0, dRp = 0;
      dth[col] = 1;
      for (int k = 0; k < M; k++) {
        dg[k] = dth[k + 1] - dth[k];
        double du = (dg[k] - c.u[k] * dR) / c.R[k];
        double dup = exp(c.ld[k]) * du;
        dgp[k] = dup * c.Rp[k] + c.up[k] * dRp;
        dR -= dg[k];
        dRp -= dgp[k];
      }
      double out[3];
      from_gaps(n, dgp, out);
      for (int j = 0; j < n; j++) jac[j * n + col] = out[j];
    }
  }
}

void lf_sunflow_angles_inverse_vjp(int n, int K, const double *theta, const double *p,
                                   const double *gtheta, double *gnew, double *gp,
                                   double *jinv) {
  const int M = n - 1;
  cell c;
  forward_cell(n, K, theta, p, &c);
  /* G = dg'/dg by forward mode (lower triangular) */
  double G[4] = {1, 0, 0, 1};
  for (int col = 0; col < M; col++) {
    double dg[2] = {0, 0}, dR = 0, dRp = 0;
    dg[col] = 1;
    for (int k = 0; k < M; k++) {
      double du = (dg[k] - c.u[k] * dR) / c.R[k];
      double dgp = exp(c.ld[k]) * du * c.Rp[k] + c.up[k] * dRp;
      G[k * M + col] = dgp;
      dR -= dg[k];
      dRp -= dgp;
    }
  }
  /* c_g = A^T gtheta (A: gaps -> angles, sum 0), y = G^-T c_g */
  double sum = 0, cg[2] = {0, 0}, y[2] = {0, 0};
  for (int j = 0; j < n; j++) sum += gtheta[j];
  for (int i = 0; i < M; i++) {
    double tail = 0;
    for (int j = i + 1; j < n; j++) tail += gtheta[j];
    cg[i] = tail - (double)(n - 1 - i) / n * sum;
  }
  if (M == 1) {
    y[0] = cg[0] / G[0];
  } else { /* G^T y = cg, G lower triangular -> G^T upper */
    y[1] = cg[1] / G[3];
    y[0] = (cg[0] - G[2] * y[1]) / G[0];
  }
  /* dL/dtheta' = D^T y (g'_k = theta'_{k+1} - theta'_k) */
  for (int j = 0; j < n; j++) gnew[j] = 0;
  for (int k = 0; k < M; k++) gnew[k + 1] += y[k], gnew[k] -= y[k];
  /* dL/dp = -(dG/dp)^T y: the forward reverse mode with cotangent D^T y, negated */
  double gdummy[3];
  lf_sunflow_angles_backward(n, K, theta, p, gnew, 0.0, gdummy, gp, NULL);
  const int np = lf_sunflow_angles_nparams(n, K);
  for (int i = 0; i < np; i++) gp[i] = -gp[i];
  if (jinv) /* dtheta/dtheta' = A G^-1 D */
    for (int col = 0; col < n; col++) {
      double dgp[2] = {0, 0}, dg[2] = {0, 0}, out[3] = {0, 0, 0};
      for (int k = 0; k < M; k++) dgp[k] = (k + 1 == col) - (k == col);
      if (M == 1) {
        dg[0] = dgp[0] / G[0];
      } else {
        dg[0] = dgp[0] / G[0];
        dg[1] = (dgp[1] - G[2] * dg[0]) / G[3];
      }
      from_gaps(n, dg, out);
      for (int j = 0; j < n; j++) jinv[j * n + col] = out[j];
    }
}
