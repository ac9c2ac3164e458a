/*
 * ncp.c -- mixture of non-compact projections on the circle (plus a shift).
 *
 * Math (docs/flows.md; Rezende et al. 2002.02428 sec. 3, Kanwar et al. 2003.06413,
 * Albergo et al. 2101.08176 "mixture_tan_transform"):
 *     g_s(x) = 2 atan2(e^s sin(x/2), cos(x/2)),  x in (-pi, pi]  (monotone lift, g(+-pi) = +-pi)
 *     g'(x)  = e^s / D,  D = cos^2(x/2) + e^{2s} sin^2(x/2)
 *     dg/ds  = e^s sin(x) / D,  g'' = -e^s (e^{2s}-1) sin(x) / (2 D^2),
 *     dg'/ds = e^s (cos^2(x/2) - e^{2s} sin^2(x/2)) / D^2
 *     y = sum_k w_k g_{s_k}(x) + t, w = 1/K or softmax(a).
 * The inverse is a safeguarded Newton iteration (bracketed bisection fallback) to ~1e-15.
 * Thread contract: pure functions.
 */
#include <math.h>

#include "internal.h"

static int ncp_nparams(const lf_flow_tspec *t) { return t->weighted ? 2 * t->K + 1 : t->K + 1; }

/* weights w[K] (uniform or softmax of p[K..2K-1]) */
static void ncp_weights(const lf_flow_tspec *t, const double *p, double *w) {
  int K = t->K;
  if (!t->weighted) {
    for (int k = 0; k < K; k++) w[k] = 1.0 / (double)K;
    return;
  }
  double mx = p[K];
  for (int k = 1; k < K; k++) mx = fmax(mx, p[K + k]);
  double z = 0;
  for (int k = 0; k < K; k++) z += (w[k] = exp(p[K + k] - mx));
  for (int k = 0; k < K; k++) w[k] /= z;
}

/* sum_k w_k g_k(x) and its derivative at x in [-pi, pi] */
static void ncp_eval(int K, const double *w, const double *s, double x, double *g, double *gd) {
  double c = cos(0.5 * x), u = sin(0.5 * x);
  double G = 0, Gd = 0;
  for (int k = 0; k < K; k++) {
    double a = exp(s[k]);
    G += w[k] * 2.0 * atan2(a * u, c);
    Gd += w[k] * a / (c * c + a * a * u * u);
  }
  *g = G, *gd = Gd;
}

static void ncp_forward(const lf_flow_tspec *t, double x, const double *p, double *y,
                        double *logd) {
  double w[64];
  ncp_weights(t, p, w);
  double g, gd, xr = lf_flow_wrap(x);
  ncp_eval(t->K, w, p, xr, &g, &gd);
  *y = g + p[ncp_nparams(t) - 1] + (x - xr); /* lift: y - x is smooth and periodic */
  *logd = log(gd);
}

static int ncp_inverse(const lf_flow_tspec *t, double y, const double *p, double *x) {
  double w[64];
  ncp_weights(t, p, w);
  double target = lf_flow_wrap(y - p[ncp_nparams(t) - 1]);
  /* G is increasing from -pi to pi on [-pi, pi]; bracket [lo, hi]. */
  double lo = -LF_PI, hi = LF_PI, xc = target;
  for (int it = 0; it < 200; it++) {
    double g, gd;
    ncp_eval(t->K, w, p, xc, &g, &gd);
    double f = g - target;
    if (f > 0) hi = xc; else lo = xc;
    if (fabs(f) < 1e-15 || hi - lo < 1e-15) {
      *x = xc;
      return LF_OK;
    }
    double xn = xc - f / gd;
    if (!(xn > lo && xn < hi)) xn = 0.5 * (lo + hi);
    if (fabs(xn - xc) < 1e-16) {
      *x = xn;
      return LF_OK;
    }
    xc = xn;
  }
  return LF_ERROR(LF_ENOCONV, "NCP mixture inverse did not converge for y = %g; the "
                              "parameters are probably not finite", y);
}

static void ncp_backward(const lf_flow_tspec *t, double x, const double *p, double gy,
                         double gl, double *gx, double *gp) {
  int K = t->K;
  double w[64], g[64], gd[64];
  ncp_weights(t, p, w);
  x = lf_flow_wrap(x);
  double c = cos(0.5 * x), u = sin(0.5 * x), sx = sin(x);
  double G = 0, Gd = 0, Gdd = 0;
  for (int k = 0; k < K; k++) {
    double a = exp(p[k]);
    double D = c * c + a * a * u * u;
    g[k] = t->weighted ? 2.0 * atan2(a * u, c) : 0.0; /* only the weights need g */
    gd[k] = a / D;
    G += w[k] * g[k];
    Gd += w[k] * gd[k];
    Gdd += w[k] * (-a * (a * a - 1.0) * sx / (2.0 * D * D));
  }
  *gx = gy * Gd + gl * Gdd / Gd;
  for (int k = 0; k < K; k++) {
    double a = exp(p[k]);
    double D = c * c + a * a * u * u;
    double dg_ds = a * sx / D;
    double dgd_ds = a * (c * c - a * a * u * u) / (D * D);
    gp[k] = w[k] * (gy * dg_ds + gl * dgd_ds / Gd);
  }
  if (t->weighted)
    for (int k = 0; k < K; k++)
      gp[K + k] = w[k] * (gy * (g[k] - G) + gl * (gd[k] - Gd) / Gd);
  gp[ncp_nparams(t) - 1] = gy;
}

const lf_flow_transform_type lf_flow_ncp_type = {"ncp", ncp_nparams, ncp_forward, ncp_inverse,
                                                 ncp_backward};
