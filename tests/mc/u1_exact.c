/*
 * u1_exact.c -- 2D U(1) Wilson action on 8x8 against the exact finite-volume plaquette.
 *
 * On a periodic 2D lattice with V plaquettes (character expansion, e.g. Kanwar et al.
 * 2003.06413, or docs/heatbath.md):
 *     Z = sum_n I_n(beta)^V,   <P> = sum_n I_n'(beta) I_n(beta)^(V-1) / sum_n I_n(beta)^V,
 * I_n' = (I_{n-1} + I_{n+1}) / 2, Bessel functions by their series (mc_util.h).
 * Both heatbath + overrelaxation and HMC (Omelyan), beta = 1 and 3. Errors: Gamma method
 * (lf_stats_gamma, Wolff 2004), binned error (100 bins) printed as a cross-check;
 * tolerance 4 sigma.
 */
#include <latflow/mc.h>

#include "lf_test.h"
#include "exact2d.h"
#include "mc_util.h"

#define NMEAS 20000     /* heatbath measurements */
#define NMEAS_HMC 10000 /* HMC trajectories */
#define NBIN 100

static double exact_u1(double beta, long V) {
  double plaq;
  exact2d_u1(beta, V, &plaq, NULL);
  return plaq;
}

int main(void) {
  static double plaq[NMEAS];
  int L[2] = {8, 8};
  lf_lattice lat;
  lf_gauge *f;
  if (lf_lattice_init(&lat, 2, L) || lf_gauge_alloc(&f, &lat, LF_U1)) return 1;
  const double betas[2] = {1.0, 3.0};
  for (int b = 0; b < 2; b++) {
    lf_action a;
    lf_action_init(&a, LF_ACTION_WILSON, betas[b], 2);
    double ex = exact_u1(betas[b], lat.vol), m, e;
    char what[128];
    printf("beta %g: exact finite-volume <P> = %.12f (infinite volume I1/I0 = %.12f)\n", betas[b],
           ex, bessel_i(1, betas[b]) / bessel_i(0, betas[b]));

    lf_hb_stats st = {0, 0};
    lf_gauge_hot(f, 11);
    if (run_heatbath(&a, f, 2024 + (uint64_t)b, 200, NMEAS, 1, plaq, &st)) return 1;
    binned_mean_err(plaq, NMEAS, NBIN, &m, &e);
    printf("     von Mises acceptance %.4f\n", (double)st.updates / (double)st.trials);
    snprintf(what, sizeof what, "2D U(1) 8x8 beta %g heatbath+OR plaquette", betas[b]);
    LF_TEST_SIGMA(what, m, e, ex, 4.0);

    lf_hmc_params p = {.tau = 1.0, .nsteps = 6, .integrator = LF_INTEGRATOR_OMELYAN};
    double acc;
    lf_gauge_hot(f, 12);
    if (run_hmc(&a, &p, f, 77 + (uint64_t)b, 200, NMEAS_HMC, plaq, &acc)) return 1;
    binned_mean_err(plaq, NMEAS_HMC, NBIN, &m, &e);
    printf("     HMC acceptance %.4f\n", acc);
    snprintf(what, sizeof what, "2D U(1) 8x8 beta %g HMC plaquette", betas[b]);
    LF_TEST_SIGMA(what, m, e, ex, 4.0);
  }
  lf_gauge_free(f);
  lf_lattice_clear(&lat);
  return lf_test_done();
}
