/*
 * tests/flow/exact.c -- exactness of flow sampling: a briefly trained small flow
 * (4x4, beta 1.3) used as the proposal of an independence Metropolis chain reproduces
 * the exact 2D U(1) plaquette and topological susceptibility within 4 sigma (Gamma-method
 * errors of the chain). Exact values computed here:
 *   <cos P> = sum_n I_n^{V-1} (I_{n-1} + I_{n+1})/2 / sum_n I_n^V       (Z = sum_n I_n^V)
 *   Z(theta) = sum_n f(n + theta/2pi)^V, f(nu) = int dphi/2pi exp(beta cos phi - i nu phi),
 *   <Q^2> = -Z''(0)/Z(0), chi = <Q^2>/V (geometric charge).
 * Also checks that training lowers the loss and that log q(x) from the inverse pass of
 * accepted configurations matches the forward value.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "latflow/flow.h"
#include "latflow/stats.h"
#include "exact2d.h"
#include "lf_test.h"

#define NSIG 4.0
#define BETA 1.3
#define NPROP 32000
#define NTRAIN 120

int main(void) {
  double plaq_ex, chi_ex;
  exact2d_u1(BETA, 16, &plaq_ex, &chi_ex);
  printf("exact 4x4 beta=%.2f: plaquette %.10f, chi_top %.10f\n", BETA, plaq_ex, chi_ex);
  /* cross-check of the quadrature: large-V plaquette -> I1/I0 */
  double ex_big, chi_big;
  exact2d_u1(BETA, 4096, &ex_big, &chi_big);
  double i0, i1, d1, d2;
  exact2d_fnu(BETA, 0, &i0, &d1, &d2);
  exact2d_fnu(BETA, 1, &i1, &d1, &d2);
  LF_TEST_REL("exact plaquette at V=4096 equals I1/I0 (infinite volume)", ex_big, i1 / i0, 1e-10);

  lf_flow_config cfg;
  lf_flow_preset("u1-tutorial", &cfg);
  cfg.L[0] = cfg.L[1] = 4;
  cfg.beta = BETA;
  cfg.nlayers = 8;
  cfg.hidden[0] = cfg.hidden[1] = 8;
  lf_flow_model *m;
  lf_flow_batch *wb;
  lf_nn_adam opt;
  lf_nn_adam_cfg ac = lf_nn_adam_defaults();
  ac.lr = 3e-3;
  if (lf_flow_model_alloc(&m, &cfg, 42) || lf_flow_batch_alloc(&wb, m, 64) ||
      lf_nn_adam_init(&opt, lf_flow_model_nparams(m), &ac)) {
    printf("setup failed: %s\n", lf_last_error());
    return 1;
  }
  lf_flow_step_stats st;
  double first = 0, last = 0;
  for (long s = 0; s < NTRAIN; s++) {
    if (lf_flow_train_step(m, wb, &opt, -1, 7, s, &st)) {
      printf("training failed: %s\n", lf_last_error());
      return 1;
    }
    if (s < 10) first += st.loss / 10;
    if (s >= NTRAIN - 10) last += st.loss / 10;
  }
  printf("     loss %.4f (first 10 steps) -> %.4f (last 10), batch ESS %.3f\n", first, last, st.ess);
  LF_TEST_TRUE("training lowers the reverse-KL loss", last < first);

  /* independence Metropolis */
  const long V = lf_flow_model_volume(m);
  const size_t V2 = 2 * (size_t)V;
  double *x = lf_alloc(64 * V2 * sizeof(double)), *lq = lf_alloc(64 * sizeof(double));
  double *pl = lf_alloc(NPROP * sizeof(double)), *q2 = lf_alloc(NPROP * sizeof(double));
  double *logw = lf_alloc(NPROP * sizeof(double)), *keep = lf_alloc(V2 * sizeof(double));
  double lwcur = 0, plcur = 0, qcur = 0, lqkeep = 0;
  long acc = 0;
  for (long c0 = 0; c0 < NPROP; c0 += 64) {
    lf_flow_prior_sample(m, 99, LF_RNG_TAG(LF_RNG_PURPOSE_PRIOR, 1ull << 47), c0, 64, x);
    lf_flow_forward(m, wb, 64, x, x, lq);
    for (int b = 0; b < 64 && c0 + b < NPROP; b++) {
      long i = c0 + b;
      const double *xb = x + (size_t)b * V2;
      logw[i] = -lf_flow_action(m, BETA, xb, NULL) - lq[b];
      int a = 1;
      if (i > 0) {
        lf_rng r;
        lf_rng_init(&r, 99, LF_RNG_TAG(LF_RNG_PURPOSE_ACCEPT, 0), (uint64_t)i);
        a = log(lf_rng_uniform(&r)) < logw[i] - lwcur;
      }
      if (a) {
        lwcur = logw[i], plcur = lf_flow_plaquette(m, xb), qcur = lf_flow_topo_charge(m, xb);
        memcpy(keep, xb, V2 * sizeof(double));
        lqkeep = lq[b];
        acc += i > 0;
      }
      pl[i] = plcur, q2[i] = qcur * qcur / (double)V;
    }
  }
  double zz[64], lqi;
  lf_flow_batch *w1;
  lf_flow_batch_alloc(&w1, m, 1);
  lf_flow_inverse(m, w1, 1, keep, zz, &lqi);
  LF_TEST_ABS("log q of the last accepted configuration: inverse pass = forward", lqi, lqkeep, 1e-9);
  printf("     acceptance %.3f, ESS/N %.3f\n", (double)acc / (NPROP - 1), lf_stats_ess(logw, NPROP));
  lf_stats_gamma_res rp, rq;
  lf_stats_gamma(pl, NPROP, NULL, &rp, NULL, 0);
  lf_stats_gamma(q2, NPROP, NULL, &rq, NULL, 0);
  printf("     tau_int plaquette %.2f, chi %.2f\n", rp.tau_int, rq.tau_int);
  LF_TEST_SIGMA("flow Metropolis plaquette vs exact (4x4, beta 1.3)", rp.value, rp.err, plaq_ex, NSIG);
  LF_TEST_SIGMA("flow Metropolis chi_top = <Q^2>/V vs exact", rq.value, rq.err, chi_ex, NSIG);
  lf_free(x), lf_free(lq), lf_free(pl), lf_free(q2), lf_free(logw), lf_free(keep);
  lf_flow_batch_free(w1);
  lf_flow_batch_free(wb);
  lf_nn_adam_clear(&opt);
  lf_flow_model_free(m);
  return lf_test_done();
}
