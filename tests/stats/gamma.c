/*
 * tests/stats/gamma.c -- Gamma method (Wolff, hep-lat/0306017) on AR(1) series with known
 * tau_int = (1+rho)/(2(1-rho)) and exact variance of the mean; iid data; derived
 * quantities; degenerate input (short series, zero variance, anticorrelation, bad args).
 */
#include <math.h>
#include <stdio.h>

#include "latflow/stats.h"
#include "lf_test.h"

#define NSIG 4.0 /* statistical checks: 4 sigma of the estimated error */

/* Stationary AR(1): x_0 ~ N(0,1), x_t = rho x_{t-1} + sqrt(1-rho^2) e_t. */
static void ar1(double *x, long n, double rho, uint64_t seed) {
  lf_rng r;
  lf_rng_init(&r, seed, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, 1), 0);
  x[0] = lf_rng_normal(&r);
  double c = sqrt(1.0 - rho * rho);
  for (long t = 1; t < n; t++) x[t] = rho * x[t - 1] + c * lf_rng_normal(&r);
}

/* Exact variance of the mean of n consecutive samples of the stationary AR(1). */
static double ar1_var_mean(double rho, long n) {
  double dn = (double)n;
  return ((1.0 + rho) / (1.0 - rho) - 2.0 * rho * (1.0 - pow(rho, dn)) / (dn * (1.0 - rho) * (1.0 - rho))) / dn;
}

static double ident(const double *m, int nobs, void *ctx) {
  (void)nobs;
  (void)ctx;
  return m[0];
}
static double lin(const double *m, int nobs, void *ctx) {
  (void)nobs;
  (void)ctx;
  return m[0] + 2.0 * m[1];
}

int main(void) {
  enum { N = 1 << 17, NRHO = 20 };
  static double x[N], y[N], xy[2 * N];
  double rho_t[NRHO];
  char what[160];
  const double rhos[3] = {0.0, 0.5, 0.9};
  for (int k = 0; k < 3; k++) {
    double rho = rhos[k];
    ar1(x, N, rho, 1234 + (uint64_t)k);
    lf_stats_gamma_res r;
    int rc = lf_stats_gamma(x, N, NULL, &r, rho_t, NRHO);
    LF_TEST_TRUE("lf_stats_gamma returns LF_OK", rc == LF_OK && r.flags == 0);
    double tau = (1.0 + rho) / (2.0 * (1.0 - rho));
    double err = sqrt(ar1_var_mean(rho, N));
    printf("     AR(1) rho %.2f: mean %.6f err %.6f (+- %.2g) tau_int %.4f (+- %.2g) W %ld\n", rho,
           r.value, r.err, r.err_err, r.tau_int, r.tau_int_err, r.window);
    snprintf(what, sizeof what, "AR(1) rho=%.1f tau_int vs (1+rho)/(2(1-rho))", rho);
    LF_TEST_SIGMA(what, r.tau_int, r.tau_int_err, tau, NSIG);
    snprintf(what, sizeof what, "AR(1) rho=%.1f error of the mean vs exact", rho);
    LF_TEST_SIGMA(what, r.err, r.err_err, err, NSIG);
    snprintf(what, sizeof what, "AR(1) rho=%.1f mean vs 0", rho);
    LF_TEST_SIGMA(what, r.value, r.err, 0.0, NSIG);
    snprintf(what, sizeof what, "AR(1) rho=%.1f variance Gamma(0) vs 1", rho);
    /* var of the sample variance of AR(1): 2 (1+rho^2)/(1-rho^2) / n (Bartlett) */
    LF_TEST_SIGMA(what, r.var, sqrt(2.0 * (1.0 + rho * rho) / (1.0 - rho * rho) / N), 1.0, NSIG);
    LF_TEST_ABS("rho(0) = 1", rho_t[0], 1.0, 1e-15);
    /* Bartlett: var(r_1) = (1 - rho^2)/n for AR(1) */
    snprintf(what, sizeof what, "AR(1) rho=%.1f rho(1) vs rho", rho);
    LF_TEST_SIGMA(what, rho_t[1], sqrt((1.0 - rho * rho) / N), rho, NSIG);
    snprintf(what, sizeof what, "AR(1) rho=%.1f naive error * sqrt(n) vs 1", rho);
    LF_TEST_SIGMA(what, r.naive_err * sqrt((double)N),
                  0.5 * sqrt(2.0 * (1.0 + rho * rho) / (1.0 - rho * rho) / N), 1.0, NSIG);

    /* rho(t) vs rho^t within 4 of its estimated error (hep-lat/0409106 eq. (E.11)) */
    double drho[NRHO];
    rc = lf_stats_rho_err(rho_t, NRHO, r.window, N, drho);
    double zmax = 0;
    for (int t = 1; t < NRHO; t++) zmax = fmax(zmax, fabs(rho_t[t] - pow(rho, t)) / drho[t]);
    snprintf(what, sizeof what, "AR(1) rho=%.1f: max_t<20 |rho(t) - rho^t| / drho(t) (drho(1) = %.2g)", rho, drho[1]);
    LF_TEST_ABS(what, zmax, 0.0, NSIG);

    /* the identity as a derived quantity reproduces the primary analysis */
    lf_stats_gamma_res d;
    rc = lf_stats_gamma_derived(x, N, 1, ident, NULL, NULL, &d, NULL, 0);
    LF_TEST_TRUE("derived identity returns LF_OK", rc == LF_OK);
    LF_TEST_REL("derived identity: value", d.value, r.value, 1e-13);
    LF_TEST_REL("derived identity: err / primary err = 1", d.err / r.err, 1.0, 1e-9);
    LF_TEST_REL("derived identity: tau_int", d.tau_int, r.tau_int, 1e-9);
    LF_TEST_TRUE("derived identity: same window", d.window == r.window);
  }

  /* Linear derived quantity x + 2 y of independent AR(1) series (0.9 and 0.5):
   * exact variance var(mean x) + 4 var(mean y). */
  ar1(x, N, 0.9, 77);
  ar1(y, N, 0.5, 78);
  for (long i = 0; i < N; i++) {
    xy[2 * i] = x[i];
    xy[2 * i + 1] = y[i];
  }
  lf_stats_gamma_res d;
  int rc = lf_stats_gamma_derived(xy, N, 2, lin, NULL, NULL, &d, NULL, 0);
  LF_TEST_TRUE("derived x+2y returns LF_OK", rc == LF_OK);
  LF_TEST_SIGMA("derived x+2y: error vs exact", d.err, d.err_err,
                sqrt(ar1_var_mean(0.9, N) + 4.0 * ar1_var_mean(0.5, N)), NSIG);
  LF_TEST_REL("derived x+2y: value", d.value, lf_stats_mean(x, N) + 2.0 * lf_stats_mean(y, N),
              1e-12);

  /* Replicas: 4 independent AR(1) chains (rho = 0.8) of unequal lengths.
   * Var(total mean) = sum_r N_r^2 Var(mean_r) / N^2. */
  {
    const long len[4] = {40000, 25000, 33000, 30000};
    long off = 0, ntot = 0;
    double var = 0;
    for (int r = 0; r < 4; r++) ntot += len[r];
    for (int r = 0; r < 4; r++) {
      ar1(x + off, len[r], 0.8, 300 + (uint64_t)r);
      var += (double)len[r] * (double)len[r] * ar1_var_mean(0.8, len[r]);
      off += len[r];
    }
    var /= (double)ntot * (double)ntot;
    lf_stats_gamma_opts ro;
    lf_stats_gamma_opts_default(&ro);
    ro.nrep = 4;
    ro.replen = len;
    lf_stats_gamma_res rr, r1;
    rc = lf_stats_gamma(x, ntot, &ro, &rr, NULL, 0);
    LF_TEST_TRUE("4 replicas: LF_OK", rc == LF_OK && rr.flags == 0);
    LF_TEST_SIGMA("4 replicas of AR(1) rho=0.8: tau_int vs (1+rho)/(2(1-rho)) = 4.5", rr.tau_int, rr.tau_int_err, 4.5, NSIG);
    LF_TEST_SIGMA("4 replicas of AR(1) rho=0.8: error of the mean vs exact", rr.err, rr.err_err, sqrt(var), NSIG);
    /* treating the concatenation as one chain is wrong at the 3 seams only: close but not equal */
    lf_stats_gamma(x, ntot, NULL, &r1, NULL, 0);
    LF_TEST_TRUE("4 replicas differ from one concatenated chain", rr.err != r1.err);
    LF_TEST_REL("  ... but only slightly (3 seams)", rr.err / r1.err, 1.0, 0.02);
    /* a linear derived quantity has no bias to cancel */
    for (long i = 0; i < ntot; i++) {
      xy[2 * i] = x[i];
      xy[2 * i + 1] = 0.5 * x[i] + 1.0;
    }
    lf_stats_gamma_res dr;
    rc = lf_stats_gamma_derived(xy, ntot, 2, lin, NULL, &ro, &dr, NULL, 0);
    LF_TEST_TRUE("4 replicas, derived x+2y: LF_OK", rc == LF_OK);
    LF_TEST_REL("  linear f: replica bias correction vanishes", dr.value, 2.0 * rr.value + 2.0, 1e-12);
    LF_TEST_REL("  linear f: error = 2 x error of x", dr.err / rr.err, 2.0, 1e-9);
    long bad[2] = {100, 200};
    ro.nrep = 2;
    ro.replen = bad;
    rc = lf_stats_gamma(x, 1000, &ro, &rr, NULL, 0);
    LF_TEST_TRUE("replica lengths not adding up to n: LF_EINVAL", rc == LF_EINVAL);
    printf("     message: %s\n", lf_last_error());
  }

  /* S = 0: no autocorrelation analysis */
  lf_stats_gamma_opts o;
  lf_stats_gamma_opts_default(&o);
  LF_TEST_ABS("default S", o.S, 1.5, 0.0);
  o.S = 0.0;
  lf_stats_gamma_res r;
  rc = lf_stats_gamma(x, N, &o, &r, NULL, 0);
  LF_TEST_TRUE("S = 0 gives W = 0, tau_int = 0.5", rc == LF_OK && r.window == 0 && r.tau_int == 0.5);
  double m, e;
  lf_stats_mean_err(x, N, &m, &e);
  LF_TEST_REL("S = 0: error / naive error = 1", r.err / e, 1.0, 1e-9);

  /* degenerate input */
  double few[3] = {1.0, 2.0, 4.0};
  rc = lf_stats_gamma(few, 3, NULL, &r, NULL, 0);
  LF_TEST_TRUE("n = 3: LF_OK with LF_STATS_FEW", rc == LF_OK && (r.flags & LF_STATS_FEW));
  LF_TEST_REL("n = 3: naive error", r.err, sqrt((16.0 / 9 + 1.0 / 9 + 25.0 / 9) / 6.0), 1e-14);
  rc = lf_stats_gamma(few, 1, NULL, &r, NULL, 0);
  LF_TEST_TRUE("n = 1: value, err = 0", rc == LF_OK && r.value == 1.0 && r.err == 0.0);
  rc = lf_stats_gamma(few, 0, NULL, &r, NULL, 0);
  LF_TEST_TRUE("n = 0: LF_EINVAL with message", rc == LF_EINVAL && lf_last_error()[0]);
  printf("     message: %s\n", lf_last_error());
  for (long i = 0; i < 100; i++) x[i] = 2.385;
  double rz[5];
  rc = lf_stats_gamma(x, 100, NULL, &r, rz, 5);
  LF_TEST_TRUE("zero variance: flag, err 0, tau 0.5, finite rho",
               rc == LF_OK && (r.flags & LF_STATS_ZERO_VAR) && r.err == 0.0 && r.tau_int == 0.5 &&
                   rz[0] == 1.0 && rz[4] == 0.0);
  for (long i = 0; i < 1000; i++) x[i] = (i % 2 ? 1.0 : -1.0) + 1e-3 * sin((double)i);
  rc = lf_stats_gamma(x, 1000, NULL, &r, NULL, 0);
  LF_TEST_TRUE("alternating series: flag NEG_VAR, finite error",
               rc == LF_OK && (r.flags & LF_STATS_NEG_VAR) && isfinite(r.err) && r.err > 0);
  lf_alloc_fail_after(1);
  rc = lf_stats_gamma(x, 1000, NULL, &r, NULL, 0);
  lf_alloc_fail_after(0);
  LF_TEST_TRUE("failed allocation (deviations): LF_ENOMEM", rc == LF_ENOMEM);
  lf_alloc_fail_after(2);
  rc = lf_stats_gamma(x, 1000, NULL, &r, NULL, 0);
  lf_alloc_fail_after(0);
  LF_TEST_TRUE("failed allocation (Gamma(t)): LF_ENOMEM", rc == LF_ENOMEM);
  lf_alloc_fail_after(2);
  rc = lf_stats_gamma_derived(x, 1000, 1, ident, NULL, NULL, &r, NULL, 0);
  lf_alloc_fail_after(0);
  LF_TEST_TRUE("derived, failed allocation: LF_ENOMEM", rc == LF_ENOMEM);
  x[5] = 0.0 / 0.0;
  rc = lf_stats_gamma(x, 1000, NULL, &r, NULL, 0);
  LF_TEST_TRUE("NaN sample: LF_EINVAL", rc == LF_EINVAL);
  printf("     message: %s\n", lf_last_error());
  o.S = -1;
  rc = lf_stats_gamma(y, 1000, &o, &r, NULL, 0);
  LF_TEST_TRUE("S < 0: LF_EINVAL", rc == LF_EINVAL);
  /* a window that cannot be found: wmax = 2 on a strongly correlated series */
  ar1(x, N, 0.99, 5);
  o.S = 1.5;
  o.wmax = 2;
  rc = lf_stats_gamma(x, N, &o, &r, NULL, 0);
  LF_TEST_TRUE("wmax too small: LF_STATS_NO_WINDOW, W = wmax",
               rc == LF_OK && (r.flags & LF_STATS_NO_WINDOW) && r.window == 2);
  return lf_test_done();
}
