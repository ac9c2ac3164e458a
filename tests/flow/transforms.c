/*
 * tests/flow/transforms.c -- circle transforms (NCP mixtures, circular RQ splines):
 * f^-1(f(x)) = x, log-derivative vs finite differences, reverse-mode derivatives with
 * respect to x and to every parameter vs central finite differences.
 */
#include <math.h>
#include <stdio.h>

#include "latflow/flow.h"
#include "lf_test.h"

#define FD_H 1e-6
#define TOL_INV 1e-10 /* inverse round trip                        */
#define TOL_FD 2e-6   /* central differences with h = 1e-6, relative */

static double wrapd(double d) { return d - LF_TWOPI * floor((d + LF_PI) / LF_TWOPI); }

static void check(const char *name, const lf_flow_tspec *t, uint64_t seed) {
  int np = lf_flow_transform_nparams(t);
  double p[LF_FLOW_MAXTP], gp[LF_FLOW_MAXTP], gp2[LF_FLOW_MAXTP];
  lf_rng r;
  lf_rng_init(&r, seed, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, 1), 0);
  for (int i = 0; i < np; i++) p[i] = 1.3 * lf_rng_normal(&r);
  double max_inv = 0, max_ld = 0, max_gx = 0, max_gl = 0, max_gp = 0;
  for (int n = 0; n < 40; n++) {
    double x = -3.0 + 6.0 * (n + 0.37) / 40.0; /* avoids the base-interval edges */
    double y, ld, xb;
    lf_flow_transform_forward(t, x, p, &y, &ld);
    if (lf_flow_transform_inverse(t, y, p, &xb)) printf("inverse failed: %s\n", lf_last_error());
    max_inv = fmax(max_inv, fabs(wrapd(xb - x)));
    double yp, yn, lp, ln;
    lf_flow_transform_forward(t, x + FD_H, p, &yp, &lp);
    lf_flow_transform_forward(t, x - FD_H, p, &yn, &ln);
    double dfd = wrapd(yp - yn) / (2 * FD_H);
    max_ld = fmax(max_ld, fabs(log(dfd) - ld));
    double gx, gxl;
    lf_flow_transform_backward(t, x, p, 1.0, 0.0, &gx, gp);
    lf_flow_transform_backward(t, x, p, 0.0, 1.0, &gxl, gp2);
    max_gx = fmax(max_gx, fabs(gx - dfd) / fmax(1, fabs(dfd)));
    double dlfd = (lp - ln) / (2 * FD_H);
    max_gl = fmax(max_gl, fabs(gxl - dlfd) / fmax(1, fabs(dlfd)));
    for (int i = 0; i < np; i++) {
      double pp[LF_FLOW_MAXTP];
      for (int j = 0; j < np; j++) pp[j] = p[j];
      pp[i] = p[i] + FD_H;
      lf_flow_transform_forward(t, x, pp, &yp, &lp);
      pp[i] = p[i] - FD_H;
      lf_flow_transform_forward(t, x, pp, &yn, &ln);
      double dy = wrapd(yp - yn) / (2 * FD_H), dl = (lp - ln) / (2 * FD_H);
      max_gp = fmax(max_gp, fabs(gp[i] - dy) / fmax(1, fabs(dy)));
      max_gp = fmax(max_gp, fabs(gp2[i] - dl) / fmax(1, fabs(dl)));
    }
  }
  char what[128];
  snprintf(what, sizeof what, "%s: max |f^-1(f(x)) - x|", name);
  LF_TEST_ABS(what, max_inv, 0, TOL_INV);
  snprintf(what, sizeof what, "%s: max |log f' - log(FD f')|", name);
  LF_TEST_ABS(what, max_ld, 0, TOL_FD);
  snprintf(what, sizeof what, "%s: max rel dev dy/dx (backward vs FD)", name);
  LF_TEST_ABS(what, max_gx, 0, TOL_FD);
  snprintf(what, sizeof what, "%s: max rel dev dlogf'/dx (backward vs FD)", name);
  LF_TEST_ABS(what, max_gl, 0, TOL_FD);
  snprintf(what, sizeof what, "%s: max rel dev parameter gradients (y and log f')", name);
  LF_TEST_ABS(what, max_gp, 0, TOL_FD);
}

int main(void) {
  lf_flow_tspec ncp2 = {LF_FLOW_NCP, 2, 0}, ncp3w = {LF_FLOW_NCP, 3, 1};
  lf_flow_tspec spl8 = {LF_FLOW_SPLINE, 8, 0}, spl3 = {LF_FLOW_SPLINE, 3, 0};
  check("NCP mixture K=2", &ncp2, 11);
  check("NCP mixture K=3 softmax weights", &ncp3w, 12);
  check("circular RQ spline K=8", &spl8, 13);
  check("circular RQ spline K=3", &spl3, 14);
  /* periodicity: y - x continuous across the base-interval edge */
  double p[LF_FLOW_MAXTP];
  for (int i = 0; i < 25; i++) p[i] = 0.7 * sin(1.7 * i + 0.3);
  double y0, y1, l0, l1;
  lf_flow_transform_forward(&spl8, -1e-9, p, &y0, &l0);
  lf_flow_transform_forward(&spl8, 1e-9, p, &y1, &l1);
  LF_TEST_ABS("spline: y continuous across 0 = 2pi (mod 2pi)", wrapd(y1 - y0), 0, 1e-7);
  LF_TEST_ABS("spline: log f' continuous across 0 = 2pi", l1 - l0, 0, 1e-7);
  lf_flow_transform_forward(&ncp2, LF_PI - 1e-9, p, &y0, &l0);
  lf_flow_transform_forward(&ncp2, -LF_PI + 1e-9, p, &y1, &l1);
  LF_TEST_ABS("NCP: y continuous across pi = -pi (mod 2pi)", wrapd(y1 - y0), 0, 1e-7);
  LF_TEST_ABS("NCP: log f' continuous across pi = -pi", l1 - l0, 0, 1e-7);
  return lf_test_done();
}
