/*
 * spline.c -- circular rational-quadratic spline on [0, 2 pi) plus a shift.
 *
 * Math (docs/flows.md): Durkan et al., "Neural spline flows" 1906.04032 (eqs. 4-8 and the
 * quadratic-root inverse, appendix A); circular version of Rezende et al. 2002.02428
 * sec. 3.3: K bins with widths W_k = 2pi (m + (1 - K m) softmax(a)_k), heights likewise
 * from b, knot slopes d_k = m_d + softplus(c_k) with d_K = d_0 (periodic: the map and its
 * derivative are continuous across 0 = 2 pi), then y = spline(x mod 2pi) + t.
 * Within bin k, xi = (x - x_k)/w_k, s = h_k/w_k:
 *     y   = y_k + h_k (s xi^2 + d_k xi(1-xi)) / (s + (d_{k+1} + d_k - 2s) xi(1-xi))
 *     y'  = s^2 (d_{k+1} xi^2 + 2 s xi(1-xi) + d_k (1-xi)^2) / (s + (...) xi(1-xi))^2
 * The reverse-mode derivatives below follow these formulas step by step.
 * Thread contract: pure functions.
 */
#include <math.h>

#include "internal.h"

#define KMAX 32

typedef struct {
  int K;
  double sw[KMAX], sh[KMAX];       /* softmax of widths/heights           */
  double W[KMAX], H[KMAX], d[KMAX];
  double xk[KMAX + 1], yk[KMAX + 1];
  double t;
} knots;

static int spline_nparams(const lf_flow_tspec *t) { return 3 * t->K + 1; }

static void softmax(int K, const double *a, double *s) {
  double mx = a[0], z = 0;
  for (int k = 1; k < K; k++) mx = fmax(mx, a[k]);
  for (int k = 0; k < K; k++) z += (s[k] = exp(a[k] - mx));
  for (int k = 0; k < K; k++) s[k] /= z;
}

static double softplus(double c) { return c > 30 ? c : log1p(exp(c)); }

static void make_knots(int K, const double *p, knots *kn) {
  const double mb = LF_FLOW_SPLINE_MIN_BIN, scale = LF_TWOPI * (1.0 - (double)K * mb);
  kn->K = K;
  softmax(K, p, kn->sw);
  softmax(K, p + K, kn->sh);
  kn->xk[0] = kn->yk[0] = 0;
  for (int k = 0; k < K; k++) {
    kn->W[k] = LF_TWOPI * mb + scale * kn->sw[k];
    kn->H[k] = LF_TWOPI * mb + scale * kn->sh[k];
    kn->d[k] = LF_FLOW_SPLINE_MIN_SLOPE + softplus(p[2 * K + k]);
    kn->xk[k + 1] = kn->xk[k] + kn->W[k];
    kn->yk[k + 1] = kn->yk[k] + kn->H[k];
  }
  kn->xk[K] = kn->yk[K] = LF_TWOPI;
  kn->t = p[3 * K];
}

static double wrap2pi(double x) {
  double r = x - LF_TWOPI * floor(x / LF_TWOPI);
  return (r >= LF_TWOPI || r < 0) ? 0.0 : r;
}

static int find_bin(const double *edges, int K, double v) {
  int k = 0;
  while (k < K - 1 && v >= edges[k + 1]) k++;
  return k;
}

static void spline_forward(const lf_flow_tspec *t, double x, const double *p, double *y,
                           double *logd) {
  knots kn;
  make_knots(t->K, p, &kn);
  double xr = wrap2pi(x);
  int k = find_bin(kn.xk, t->K, xr);
  double wk = kn.W[k], hk = kn.H[k], dk = kn.d[k], dk1 = kn.d[(k + 1) % t->K];
  double xi = (xr - kn.xk[k]) / wk, s = hk / wk, q = xi * (1 - xi);
  double A = s * xi * xi + dk * q;
  double B = s + (dk1 + dk - 2 * s) * q;
  double N = dk1 * xi * xi + 2 * s * q + dk * (1 - xi) * (1 - xi);
  *y = kn.yk[k] + hk * A / B + kn.t + (x - xr); /* lift: y - x smooth, periodic */
  *logd = 2 * log(s) + log(N) - 2 * log(B);
}

static int spline_inverse(const lf_flow_tspec *t, double y, const double *p, double *x) {
  knots kn;
  make_knots(t->K, p, &kn);
  double yr = wrap2pi(y - kn.t);
  int k = find_bin(kn.yk, t->K, yr);
  double wk = kn.W[k], hk = kn.H[k], dk = kn.d[k], dk1 = kn.d[(k + 1) % t->K];
  double s = hk / wk, dy = yr - kn.yk[k], e = dk1 + dk - 2 * s;
  double a = hk * (s - dk) + dy * e;
  double b = hk * dk - dy * e;
  double c = -s * dy;
  double disc = b * b - 4 * a * c;
  if (!(disc >= 0)) disc = 0;
  double den = -b - sqrt(disc);
  double xi = den != 0 ? 2 * c / den : 0.0;
  if (!isfinite(xi))
    return LF_ERROR(LF_ENOCONV, "spline inverse failed for y = %g; parameters not finite", y);
  *x = kn.xk[k] + xi * wk;
  return LF_OK;
}

static void spline_backward(const lf_flow_tspec *t, double x, const double *p, double gy,
                            double gl, double *gx, double *gp) {
  const int K = t->K;
  knots kn;
  make_knots(K, p, &kn);
  double xr = wrap2pi(x);
  int k = find_bin(kn.xk, K, xr);
  double wk = kn.W[k], hk = kn.H[k], dk = kn.d[k], dk1 = kn.d[(k + 1) % K];
  double xi = (xr - kn.xk[k]) / wk, s = hk / wk, q = xi * (1 - xi);
  double A = s * xi * xi + dk * q;
  double e = dk1 + dk - 2 * s;
  double B = s + e * q;
  double N = dk1 * xi * xi + 2 * s * q + dk * (1 - xi) * (1 - xi);
  /* reverse sweep */
  double g_hk = gy * A / B, gA = gy * hk / B, gB = -gy * hk * A / (B * B);
  double gs = 2 * gl / s, gN = gl / N;
  gB += -2 * gl / B;
  double g_dk1 = gN * xi * xi, g_dk = gN * (1 - xi) * (1 - xi), gq = gN * 2 * s;
  gs += gN * 2 * q;
  double gxi = gN * (2 * dk1 * xi - 2 * dk * (1 - xi));
  gs += gB * (1 - 2 * q);
  g_dk1 += gB * q;
  g_dk += gB * q;
  gq += gB * e;
  gs += gA * xi * xi;
  gxi += gA * 2 * s * xi;
  g_dk += gA * q;
  gq += gA * dk;
  gxi += gq * (1 - 2 * xi);
  g_hk += gs / wk;
  double g_wk = -gs * hk / (wk * wk);
  *gx = gxi / wk;
  double g_xk = -gxi / wk;
  g_wk += -gxi * xi / wk;
  double g_yk = gy;
  /* knots -> widths/heights/slopes -> raw parameters */
  double gW[KMAX] = {0}, gH[KMAX] = {0};
  gW[k] += g_wk;
  gH[k] += g_hk;
  for (int j = 0; j < k; j++) gW[j] += g_xk, gH[j] += g_yk;
  const double scale = LF_TWOPI * (1.0 - (double)K * LF_FLOW_SPLINE_MIN_BIN);
  double dw = 0, dh = 0;
  for (int j = 0; j < K; j++) dw += kn.sw[j] * gW[j], dh += kn.sh[j] * gH[j];
  for (int j = 0; j < K; j++) {
    gp[j] = scale * kn.sw[j] * (gW[j] - dw);
    gp[K + j] = scale * kn.sh[j] * (gH[j] - dh);
    gp[2 * K + j] = 0;
  }
  double c0 = p[2 * K + k], c1 = p[2 * K + (k + 1) % K];
  gp[2 * K + k] += g_dk / (1 + exp(-c0));
  gp[2 * K + (k + 1) % K] += g_dk1 / (1 + exp(-c1));
  gp[3 * K] = gy;
}

const lf_flow_transform_type lf_flow_spline_type = {"spline", spline_nparams, spline_forward,
                                                    spline_inverse, spline_backward};
