/*
 * tests/sunflow/exact.c -- exactness of SU(N) flow sampling in 2D: a briefly trained small
 * spectral flow (4x4, SU(2) at beta 2.5 and SU(3) at beta 4.0) used as the proposal of an
 * independence Metropolis chain reproduces the exact finite-volume plaquette (character
 * expansion, exact_sun.h) within 4 sigma (Gamma-method error of the chain, lf_stats_gamma).
 * Also: the exact values' quadrature against Bessel-function forms, training lowers the
 * reverse-KL loss, and log q of the last accepted configuration from the inverse pass
 * equals the forward value.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "exact_sun.h"
#include "latflow/stats.h"
#include "latflow/sunflow.h"
#include "lf_test.h"

#define NSIG 4.0
#define BATCH 32

static double z_su3(double beta) {
  double s = 0, x = beta / 3.0;
  for (int n = -25; n <= 25; n++) {
    double m[3][3];
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) m[i][j] = exact_sun_bessel_i(n + i - j, x);
    s += m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
         m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
         m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  }
  return s;
}

static void check_quadrature(void) {
  double zr[400], zpr[400];
  exact_sun_coeffs(2, 2.0, zr, zpr);
  LF_TEST_REL("SU(2) z_0(2) Weyl quadrature vs 2 I_1(2)/2", zr[0],
              2 * exact_sun_bessel_i(1, 2.0) / 2.0, 1e-12);
  LF_TEST_REL("SU(2) infinite-volume plaquette at beta 2 vs I_2/I_1", exact_sun_plaquette(2, 2.0, 0),
              exact_sun_bessel_i(2, 2.0) / exact_sun_bessel_i(1, 2.0), 1e-12);
  exact_sun_coeffs(3, 2.0, zr, zpr);
  LF_TEST_REL("SU(3) z_0(2) Weyl quadrature vs sum_n det I_{n+i-j}(2/3)", zr[0], z_su3(2.0), 1e-12);
  double h = 1e-4, d = (log(z_su3(2.5 + h)) - log(z_su3(2.5 - h))) / (2 * h);
  LF_TEST_REL("SU(3) infinite-volume plaquette at beta 2.5 vs d ln z/d beta", exact_sun_plaquette(3, 2.5, 0),
              d, 1e-7);
}

static void run(lf_group g, double beta, long ntrain, long nprop) {
  const int N = (int)g;
  char what[200];
  double ex = exact_sun_plaquette(N, beta, 16), inf = exact_sun_plaquette(N, beta, 0);
  printf("SU(%d) 4x4 beta %.2f: exact plaquette %.10f (infinite volume %.10f)\n", N, beta, ex, inf);
  lf_sunflow_config cfg;
  lf_sunflow_preset(N == 2 ? "su2-2d" : "su3-2d", &cfg);
  cfg.L[0] = cfg.L[1] = 4;
  cfg.beta = beta;
  cfg.nlayers = 8;
  cfg.K = 4;
  cfg.nhidden = 1;
  cfg.hidden[0] = 8;
  lf_sunflow_model *m;
  lf_sunflow_batch *wb;
  lf_nn_adam opt;
  lf_nn_adam_cfg ac = lf_nn_adam_defaults();
  ac.lr = 5e-3;
  if (lf_sunflow_model_alloc(&m, &cfg, 42) || lf_sunflow_batch_alloc(&wb, m, BATCH) ||
      lf_nn_adam_init(&opt, lf_sunflow_model_nparams(m), &ac)) {
    printf("setup failed: %s\n", lf_last_error());
    LF_TEST_TRUE("setup", 0);
    return;
  }
  lf_sunflow_step_stats st;
  double first = 0, last = 0, ess_last = 0, t0 = lf_time_now();
  for (long s = 0; s < ntrain; s++) {
    if (lf_sunflow_train_step(m, wb, &opt, -1, 7, s, LF_SUNFLOW_GRAD_PATH, &st)) {
      printf("training failed: %s\n", lf_last_error());
      LF_TEST_TRUE("training", 0);
      return;
    }
    if (s < 10) first += st.loss / 10;
    if (s >= ntrain - 10) last += st.loss / 10, ess_last += st.ess / 10;
  }
  printf("     loss %.4f (first 10 steps) -> %.4f (last 10), batch ESS %.3f, %.1f s\n", first, last,
         ess_last, lf_time_now() - t0);
  snprintf(what, sizeof what, "SU(%d): training lowers the reverse-KL loss", N);
  LF_TEST_TRUE(what, last < first);

  const size_t fs = lf_sunflow_model_fieldsize(m);
  lf_cplx *x = lf_alloc(BATCH * fs * sizeof(lf_cplx)), *keep = lf_alloc(fs * sizeof(lf_cplx));
  lf_cplx *z1 = lf_alloc(fs * sizeof(lf_cplx));
  double *lq = lf_alloc(BATCH * sizeof(double)), *pl = lf_alloc((size_t)nprop * sizeof(double));
  double *logw = lf_alloc((size_t)nprop * sizeof(double));
  double lwcur = 0, plcur = 0, lqkeep = 0;
  long acc = 0;
  for (long c0 = 0; c0 < nprop; c0 += BATCH) {
    lf_sunflow_prior_sample(m, 99, LF_RNG_TAG(LF_RNG_PURPOSE_PRIOR, 1ull << 47), c0, BATCH, x);
    lf_sunflow_forward(m, wb, BATCH, x, x, lq);
    for (int b = 0; b < BATCH && c0 + b < nprop; b++) {
      long i = c0 + b;
      const lf_cplx *xb = x + (size_t)b * fs;
      logw[i] = -lf_sunflow_action(m, beta, xb, NULL) - lq[b];
      int a = 1;
      if (i > 0) {
        lf_rng r;
        lf_rng_init(&r, 99, LF_RNG_TAG(LF_RNG_PURPOSE_ACCEPT, 0), (uint64_t)i);
        a = log(lf_rng_uniform(&r)) < logw[i] - lwcur;
      }
      if (a) {
        lwcur = logw[i], plcur = lf_sunflow_plaquette(m, xb), lqkeep = lq[b];
        memcpy(keep, xb, fs * sizeof(lf_cplx));
        acc += i > 0;
      }
      pl[i] = plcur;
    }
  }
  double lqi;
  lf_sunflow_inverse(m, wb, 1, keep, z1, &lqi);
  snprintf(what, sizeof what, "SU(%d): log q of the last accepted configuration, inverse = forward", N);
  LF_TEST_ABS(what, lqi, lqkeep, 1e-9);
  printf("     acceptance %.3f, ESS/N %.3f\n", (double)acc / (double)(nprop - 1),
         lf_stats_ess(logw, nprop));
  lf_stats_gamma_res rp;
  lf_stats_gamma(pl, nprop, NULL, &rp, NULL, 0);
  printf("     tau_int plaquette %.2f\n", rp.tau_int);
  snprintf(what, sizeof what, "SU(%d) 4x4 beta %.2f flow Metropolis plaquette vs exact", N, beta);
  LF_TEST_SIGMA(what, rp.value, rp.err, ex, NSIG);
  lf_free(x), lf_free(keep), lf_free(z1), lf_free(lq), lf_free(pl), lf_free(logw);
  lf_sunflow_batch_free(wb);
  lf_nn_adam_clear(&opt);
  lf_sunflow_model_free(m);
}

int main(void) {
  check_quadrature();
  run(LF_SU2, 2.5, 150, 16000);
  run(LF_SU3, 4.0, 150, 16000);
  return lf_test_done();
}
