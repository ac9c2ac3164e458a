/*
 * su2_2d.c -- 2D SU(2) Wilson action on 16x16 against the exact plaquette.
 *
 * Infinite volume: <P> = I_2(beta) / I_1(beta) (P = Re tr U_P / 2; plaquettes decouple
 * in axial gauge). On the V-site torus the exact value follows from
 *     Z = sum_{d >= 1} c_d^V,  c_d = (2/beta) I_d(beta),  <P> = (1/V) d ln Z / d beta
 * (character expansion, docs/heatbath.md); the test prints the difference (~(I_2/I_1)^256,
 * below 1e-40 here) and checks that it is below 1e-3 of the statistical error, so comparing with
 * the infinite-volume value is legitimate. Heatbath (Kennedy-Pendleton/Creutz) + 2
 * overrelaxation sweeps at beta = 2 and 5; HMC (Omelyan) at beta = 2. Errors: Gamma
 * method (lf_stats_gamma, Wolff 2004), binned error (50 bins) printed as a cross-check;
 * tolerance 4 sigma.
 */
#include <latflow/mc.h>

#include "lf_test.h"
#include "mc_util.h"

#define NMEAS 4000
#define NMEAS_HMC 2000
#define NBIN 50

/* (1/V) d ln Z / d beta = sum_d w_d (I_d'/I_d - 1/beta), w_d = c_d^V / Z. */
static double exact_fv(double beta, long V) {
  double i1 = bessel_i(1, beta), num = 0, den = 0;
  for (int d = 1; d < 40; d++) {
    double id = bessel_i(d, beta);
    double w = pow(id / i1, (double)V);
    double dlog = 0.5 * (bessel_i(d - 1, beta) + bessel_i(d + 1, beta)) / id - 1.0 / beta;
    num += w * dlog;
    den += w;
  }
  return num / den;
}

int main(void) {
  static double plaq[NMEAS];
  int L[2] = {16, 16};
  lf_lattice lat;
  lf_gauge *f;
  if (lf_lattice_init(&lat, 2, L) || lf_gauge_alloc(&f, &lat, LF_SU2)) return 1;
  const double betas[2] = {2.0, 5.0};
  for (int b = 0; b < 2; b++) {
    double beta = betas[b], m, e;
    lf_action a;
    lf_action_init(&a, LF_ACTION_WILSON, beta, 2);
    double inf = bessel_i(2, beta) / bessel_i(1, beta);
    double fv = exact_fv(beta, lat.vol);
    printf("beta %g: I2/I1 = %.12f, finite volume 16x16 %.12f, difference %.2g\n", beta, inf, fv,
           fv - inf);
    char what[128];
    lf_hb_stats st = {0, 0};
    lf_gauge_hot(f, 5);
    if (run_heatbath(&a, f, 99 + (uint64_t)b, 100, NMEAS, 2, plaq, &st)) return 1;
    binned_mean_err(plaq, NMEAS, NBIN, &m, &e);
    printf("     SU(2) heatbath acceptance %.4f\n", (double)st.updates / (double)st.trials);
    snprintf(what, sizeof what, "2D SU(2) 16x16 beta %g heatbath+OR plaquette vs I2/I1", beta);
    LF_TEST_SIGMA(what, m, e, inf, 4.0);
    snprintf(what, sizeof what, "beta %g finite-volume correction << error", beta);
    LF_TEST_ABS(what, fv - inf, 0.0, 1e-3 * e);
    if (b == 0) {
      lf_hmc_params p = {.tau = 1.0, .nsteps = 5, .integrator = LF_INTEGRATOR_OMELYAN};
      double acc;
      lf_gauge_hot(f, 6);
      if (run_hmc(&a, &p, f, 31, 100, NMEAS_HMC, plaq, &acc)) return 1;
      binned_mean_err(plaq, NMEAS_HMC, NBIN, &m, &e);
      printf("     HMC acceptance %.4f\n", acc);
      snprintf(what, sizeof what, "2D SU(2) 16x16 beta %g HMC plaquette vs I2/I1", beta);
      LF_TEST_SIGMA(what, m, e, inf, 4.0);
    }
  }
  lf_gauge_free(f);
  lf_lattice_clear(&lat);
  return lf_test_done();
}
