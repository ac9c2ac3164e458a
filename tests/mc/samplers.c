/*
 * samplers.c -- the exact one-dimensional samplers of the heatbath reproduce their
 * moments (independent draws, so the naive error is exact; tolerance 4 sigma):
 *   SU(2) x0 ~ sqrt(1 - x^2) exp(alpha x): normaliser N(alpha) = pi I_1(alpha) / alpha,
 *     <x> = I_2/I_1, <x^2> = N''/N (N'' by Richardson central differences); alpha = 0.5,
 *     1.9 (Creutz branch), 2.0, 8, 40 (Kennedy-Pendleton branch);
 *   U(1) x ~ exp(kappa cos x): <cos x> = I_1/I_0, <cos 2x> = I_2/I_0, <sin x> = 0;
 *     kappa = 0.05, 1, 3, 30.
 */
#include "../../src/mc/internal.h"
#include "lf_test.h"
#include "mc_util.h"

#define NS 200000

static double norm_su2(double a) { return LF_PI * bessel_i(1, a) / a; }

static void moments(const double *x, long n, double *m, double *e) {
  double s = 0, s2 = 0;
  for (long i = 0; i < n; i++) s += x[i];
  *m = s / (double)n;
  for (long i = 0; i < n; i++) s2 += (x[i] - *m) * (x[i] - *m);
  *e = sqrt(s2 / ((double)n * (double)(n - 1)));
}

int main(void) {
  static double x[NS], y[NS];
  char what[128];
  const double alphas[5] = {0.5, 1.9, 2.0, 8.0, 40.0};
  for (int k = 0; k < 5; k++) {
    double al = alphas[k], m, e;
    lf_rng r;
    lf_rng_init(&r, 77, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, k), 0);
    long trials = 0;
    for (long i = 0; i < NS; i++) {
      if (!lf_mc_sample_su2_x0(al, &r, &trials, &x[i])) return 1;
      y[i] = x[i] * x[i];
    }
    double h = 1e-3 * (1 + al);
    double d2a = (norm_su2(al + h) - 2 * norm_su2(al) + norm_su2(al - h)) / (h * h);
    double d2b = (norm_su2(al + h / 2) - 2 * norm_su2(al) + norm_su2(al - h / 2)) / (h * h / 4);
    double ex2 = (4 * d2b - d2a) / 3 / norm_su2(al);
    moments(x, NS, &m, &e);
    snprintf(what, sizeof what, "SU(2) x0 sampler alpha %g (acceptance %.3f): <x0> vs I2/I1", al,
             (double)NS / (double)trials);
    LF_TEST_SIGMA(what, m, e, bessel_i(2, al) / bessel_i(1, al), 4.0);
    moments(y, NS, &m, &e);
    snprintf(what, sizeof what, "SU(2) x0 sampler alpha %g: <x0^2> vs N''/N", al);
    LF_TEST_SIGMA(what, m, e, ex2, 4.0);
  }
  const double kappas[4] = {0.05, 1.0, 3.0, 30.0};
  for (int k = 0; k < 4; k++) {
    double ka = kappas[k], m, e, v;
    lf_rng r;
    lf_rng_init(&r, 78, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, k), 1);
    long trials = 0;
    static double z[NS];
    for (long i = 0; i < NS; i++) {
      if (!lf_mc_sample_vonmises(ka, &r, &trials, &v)) return 1;
      x[i] = cos(v), y[i] = cos(2 * v), z[i] = sin(v);
    }
    moments(x, NS, &m, &e);
    snprintf(what, sizeof what, "von Mises kappa %g (acceptance %.3f): <cos x> vs I1/I0", ka,
             (double)NS / (double)trials);
    LF_TEST_SIGMA(what, m, e, bessel_i(1, ka) / bessel_i(0, ka), 4.0);
    moments(y, NS, &m, &e);
    snprintf(what, sizeof what, "von Mises kappa %g: <cos 2x> vs I2/I0", ka);
    LF_TEST_SIGMA(what, m, e, bessel_i(2, ka) / bessel_i(0, ka), 4.0);
    moments(z, NS, &m, &e);
    snprintf(what, sizeof what, "von Mises kappa %g: <sin x> vs 0", ka);
    LF_TEST_SIGMA(what, m, e, 0.0, 4.0);
  }
  return lf_test_done();
}
