/*
 * tests/stats/resample.c -- jackknife and bootstrap: naive error for iid data (exact
 * identity for the jackknife of the mean), binned jackknife vs Gamma method on AR(1),
 * a nonlinear function vs the Gamma method, determinism of the bootstrap, error paths.
 */
#include <math.h>
#include <stdio.h>

#include "latflow/stats.h"
#include "lf_test.h"

#define NSIG 4.0

static void ar1(double *x, long n, double rho, uint64_t seed) {
  lf_rng r;
  lf_rng_init(&r, seed, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, 2), 0);
  x[0] = lf_rng_normal(&r);
  double c = sqrt(1.0 - rho * rho);
  for (long t = 1; t < n; t++) x[t] = rho * x[t - 1] + c * lf_rng_normal(&r);
}
static double ident(const double *m, int nobs, void *ctx) {
  (void)nobs;
  (void)ctx;
  return m[0];
}
static double ratio(const double *m, int nobs, void *ctx) {
  (void)nobs;
  (void)ctx;
  return m[0] / m[1];
}

int main(void) {
  enum { N = 1 << 16 };
  static double x[N], xy[2 * N];
  ar1(x, N, 0.0, 11);
  double m, e, v, je, jb;
  lf_stats_mean_err(x, N, &m, &e);
  int rc = lf_stats_jackknife(x, N, 1, 1, ident, NULL, &v, &je, &jb);
  LF_TEST_TRUE("jackknife returns LF_OK", rc == LF_OK);
  LF_TEST_REL("jackknife of the mean (bins of 1) / naive standard error = 1", je / e, 1.0, 1e-10);
  LF_TEST_REL("jackknife value = mean", v, m, 1e-14);
  LF_TEST_ABS("jackknife bias of a linear function = 0", jb, 0.0, 1e-14);

  /* bootstrap of the mean of the first NB iid samples (bins of 1) */
  enum { NBOOT = 1000, NB = 8192 };
  double bv, be, bv2, be2;
  lf_stats_mean_err(x, NB, &m, &e);
  rc = lf_stats_bootstrap(x, NB, 1, 1, NBOOT, 99, ident, NULL, &bv, &be);
  LF_TEST_TRUE("bootstrap returns LF_OK", rc == LF_OK);
  /* relative error of a standard deviation from NBOOT replicas: 1/sqrt(2 (NBOOT-1)) */
  LF_TEST_SIGMA("bootstrap error of the mean vs naive error (iid)", be, e / sqrt(2.0 * (NBOOT - 1)), e, NSIG);
  LF_TEST_REL("bootstrap value = mean", bv, m, 1e-14);
  lf_stats_bootstrap(x, NB, 1, 1, NBOOT, 99, ident, NULL, &bv2, &be2);
  LF_TEST_TRUE("bootstrap is a pure function of (data, seed)", bv2 == bv && be2 == be);
  lf_stats_bootstrap(x, NB, 1, 1, NBOOT, 100, ident, NULL, &bv2, &be2);
  LF_TEST_TRUE("bootstrap with another seed differs", be2 != be);

  /* binned jackknife vs Gamma method on AR(1) with rho = 0.9 (tau_int = 9.5) */
  ar1(x, N, 0.9, 12);
  lf_stats_gamma_res g;
  lf_stats_gamma(x, N, NULL, &g, NULL, 0);
  const long B = 256, nb = N / 256;
  rc = lf_stats_jackknife(x, N, 1, B, ident, NULL, &v, &je, NULL);
  double sj = je / sqrt(2.0 * (double)(nb - 1)); /* statistical error of the jackknife error */
  LF_TEST_SIGMA("binned jackknife (B=256) vs Gamma-method error, AR(1) rho=0.9", je,
                sqrt(sj * sj + g.err_err * g.err_err), g.err, NSIG);
  rc = lf_stats_bootstrap(x, N, 1, B, NBOOT, 3, ident, NULL, &bv, &be);
  LF_TEST_SIGMA("binned bootstrap (B=256) vs Gamma-method error, AR(1) rho=0.9", be,
                sqrt(sj * sj + g.err_err * g.err_err + be * be / (2.0 * NBOOT)), g.err, NSIG);

  /* nonlinear: ratio of means <a>/<b>, a = 1 + x, b = 2 + y (correlated AR(1) series) */
  static double y[N];
  ar1(y, N, 0.5, 13);
  for (long i = 0; i < N; i++) {
    xy[2 * i] = 1.0 + x[i];
    xy[2 * i + 1] = 2.0 + 0.6 * x[i] + 0.8 * y[i];
  }
  lf_stats_gamma_res d;
  rc = lf_stats_gamma_derived(xy, N, 2, ratio, NULL, NULL, &d, NULL, 0);
  rc |= lf_stats_jackknife(xy, N, 2, B, ratio, NULL, &v, &je, &jb);
  LF_TEST_TRUE("ratio: Gamma and jackknife return LF_OK", rc == LF_OK);
  LF_TEST_REL("ratio: jackknife value = Gamma value = f(means)", v, d.value, 1e-14);
  LF_TEST_SIGMA("ratio: binned jackknife error vs Gamma-method error", je,
                sqrt(sj * sj * d.err * d.err / (g.err * g.err) + d.err_err * d.err_err), d.err, NSIG);
  printf("     ratio: Gamma %.6f +- %.6f (tau %.2f), jackknife err %.6f bias %.2g\n", d.value, d.err,
         d.tau_int, je, jb);

  /* error paths */
  rc = lf_stats_jackknife(x, 3, 1, 2, ident, NULL, &v, &je, NULL);
  LF_TEST_TRUE("jackknife with one bin: LF_EINVAL", rc == LF_EINVAL);
  printf("     message: %s\n", lf_last_error());
  rc = lf_stats_bootstrap(x, N, 1, 1, 1, 1, ident, NULL, &v, &je);
  LF_TEST_TRUE("bootstrap with one replica: LF_EINVAL", rc == LF_EINVAL);
  rc = lf_stats_jackknife(x, N, 0, 1, ident, NULL, &v, &je, NULL);
  LF_TEST_TRUE("jackknife with nobs = 0: LF_EINVAL", rc == LF_EINVAL);
  lf_alloc_fail_after(1);
  rc = lf_stats_jackknife(x, N, 1, 1, ident, NULL, &v, &je, NULL);
  lf_alloc_fail_after(0);
  LF_TEST_TRUE("jackknife, failed allocation: LF_ENOMEM", rc == LF_ENOMEM);

  double bins[4];
  long nbins;
  double z[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  rc = lf_stats_bin(z, 9, 2, bins, &nbins);
  LF_TEST_TRUE("bin: 4 bins of 2, tail dropped", rc == LF_OK && nbins == 4 && bins[0] == 1.5 && bins[3] == 7.5);
  return lf_test_done();
}
