/*
 * tests/sunflow/par.c -- data-parallel SU(N) flow training (lf_sunflow_loss_grad_par /
 * train_step_par, flow's driver lf_flow_loss_grad_chunked; docs/sunflow.md "Data-parallel
 * training"), run serially and under mpirun -np 1/2/4 (issue #7). Small SU(2) and SU(3)
 * flows on 4x4, a few layers, moved off their near-identity initialisation by two Adam
 * steps; global batch 12 (uneven over 4 ranks' chunks), path and reparameterisation
 * gradients:
 *   - loss, its error, ESS and acceptance equal an independent recomputation from the
 *     per-sample log q + S of the same prior samples (plain forward + action, lf_stats_ess,
 *     the acceptance sum written out), to round-off;
 *   - fast sums: the gradient equals the serial lf_sunflow_loss_grad on 12 samples to
 *     round-off (the summation order over samples and ranks differs);
 *   - deterministic mode (chunks of 5: 3 chunks on 4 ranks, one idle; chunks of 2): loss,
 *     ESS, acceptance, gradient bitwise equal to the one-rank computation of the same binary
 *     (o.self), which every rank computes itself; and to round-off equal to the serial one;
 *   - train_step_par: the same updated parameters on every rank, bitwise those of the
 *     one-rank step in deterministic mode; gradient clipping to a norm; error paths agree
 *     on every rank (workspace too small, batch 0, optimizer size, non-finite parameters).
 * Tolerance: sums of <= 12 per-sample terms (and of O(10^3) per-link terms within a sample,
 * identical in both computations) in another order differ by a few double roundings,
 * ~1e-15 relative; TOL_ROUNDOFF = 1e-12 leaves a wide margin and still catches any
 * missing/duplicated sample (a 1/12 change).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist_test.h"
#include "latflow/par.h"
#include "latflow/stats.h"
#include "latflow/sunflow.h"

#define TOL_ROUNDOFF 1e-12
#define BATCH 12
#define SEED 17
#define STEP 3

typedef struct {
  double loss, loss_err, ess, acc;
} ref_stats;

/* independent statistics of the global batch from the per-sample log q + S */
static ref_stats reference_stats(lf_sunflow_model *m, long step) {
  const size_t fs = lf_sunflow_model_fieldsize(m);
  lf_sunflow_batch *wb;
  lf_sunflow_batch_alloc(&wb, m, BATCH);
  lf_cplx *x = malloc(BATCH * fs * sizeof *x);
  double lq[BATCH], l[BATCH], logw[BATCH];
  lf_sunflow_prior_sample(m, SEED, LF_RNG_TAG(LF_RNG_PURPOSE_PRIOR, (uint64_t)step), 0, BATCH, x);
  lf_sunflow_forward(m, wb, BATCH, x, x, lq);
  ref_stats r = {0, 0, 0, 0};
  for (int b = 0; b < BATCH; b++) {
    l[b] = lq[b] + lf_sunflow_action(m, lf_sunflow_model_config(m)->beta, x + (size_t)b * fs, NULL);
    logw[b] = -l[b];
    r.loss += l[b] / BATCH;
  }
  double var = 0;
  for (int b = 0; b < BATCH; b++) var += (l[b] - r.loss) * (l[b] - r.loss) / (BATCH - 1);
  r.loss_err = sqrt(var / BATCH);
  r.ess = lf_stats_ess(logw, BATCH);
  /* E_{x~p, x'~q} min(1, w(x')/w(x)) with p by self-normalised weights */
  double wsum = 0, num = 0, top = logw[0];
  for (int b = 1; b < BATCH; b++) top = fmax(top, logw[b]);
  for (int i = 0; i < BATCH; i++) {
    double wi = exp(logw[i] - top), inner = 0;
    for (int j = 0; j < BATCH; j++) inner += fmin(1.0, exp(logw[j] - logw[i]));
    num += wi * inner / BATCH;
    wsum += wi;
  }
  r.acc = num / wsum;
  free(x);
  lf_sunflow_batch_free(wb);
  return r;
}

static double max_rel(const double *g, const double *ref, size_t n) {
  double dev = 0, scale = 0;
  for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(ref[i]));
  for (size_t i = 0; i < n; i++) dev = fmax(dev, fabs(g[i] - ref[i]));
  return dev / scale;
}

static int same_stats(const lf_sunflow_step_stats *a, const lf_sunflow_step_stats *b) {
  return a->loss == b->loss && a->loss_err == b->loss_err && a->ess == b->ess &&
         a->acceptance == b->acceptance && a->grad_norm == b->grad_norm;
}

static void cmp_stats(const char *preset, const char *est, const char *label,
                      const lf_sunflow_step_stats *s, const ref_stats *rs) {
  char what[256];
  snprintf(what, sizeof what, "%s %s %s: loss == independent mean of log q + S", preset, est, label);
  LF_TEST_REL(what, s->loss, rs->loss, TOL_ROUNDOFF);
  snprintf(what, sizeof what, "%s %s %s: loss error", preset, est, label);
  LF_TEST_REL(what, s->loss_err, rs->loss_err, TOL_ROUNDOFF);
  snprintf(what, sizeof what, "%s %s %s: ESS == lf_stats_ess", preset, est, label);
  LF_TEST_REL(what, s->ess, rs->ess, TOL_ROUNDOFF);
  snprintf(what, sizeof what, "%s %s %s: acceptance == independent sum", preset, est, label);
  LF_TEST_REL(what, s->acceptance, rs->acc, TOL_ROUNDOFF);
}

static void par_case(const char *preset) {
  char what[256];
  lf_sunflow_config cfg;
  lf_sunflow_preset(preset, &cfg);
  cfg.L[0] = cfg.L[1] = 4;
  cfg.nlayers = 8; /* nd * period: every link updated once */
  cfg.nhidden = 1, cfg.hidden[0] = 6;
  cfg.K = 4;
  lf_sunflow_model *m;
  if (lf_sunflow_model_alloc(&m, &cfg, 5)) {
    printf("FAIL %s: %s\n", preset, lf_last_error());
    lf_test_fails++;
    return;
  }
  const size_t np = lf_sunflow_model_nparams(m);
  double *P = lf_sunflow_model_store(m)->data, *G = lf_sunflow_model_store(m)->grad;
  double *gref = malloc(np * sizeof *gref), *gself = malloc(np * sizeof *gself);
  double *Psave = malloc(np * sizeof *Psave);
  /* away from the near-identity start: two serial Adam steps, the same on every rank */
  lf_sunflow_batch *wb12;
  lf_sunflow_batch_alloc(&wb12, m, BATCH);
  lf_nn_adam_cfg ac = lf_nn_adam_defaults();
  ac.lr = 2e-2;
  lf_nn_adam opt;
  lf_nn_adam_init(&opt, np, &ac);
  lf_sunflow_step_stats st, sr;
  for (long s = 0; s < 2; s++) lf_sunflow_train_step(m, wb12, &opt, -1, SEED, s, LF_SUNFLOW_GRAD_PATH, &st);
  const ref_stats rs = reference_stats(m, STEP);
  for (int path = 0; path < 2; path++) {
    const char *est = path ? "path" : "reparam";
    lf_sunflow_loss_grad(m, wb12, SEED, STEP, path ? LF_SUNFLOW_GRAD_PATH : LF_SUNFLOW_GRAD_REPARAM, &sr);
    memcpy(gref, G, np * sizeof *gref);
    /* fast sums over the ranks */
    lf_flow_train_opts o = lf_sunflow_train_opts_default();
    o.path = path;
    lf_sunflow_batch *wb;
    lf_sunflow_batch_alloc(&wb, m, (int)lf_flow_local_batch(BATCH, &o));
    int rc = lf_sunflow_loss_grad_par(m, wb, BATCH, &o, SEED, STEP, &st);
    snprintf(what, sizeof what, "%s %s, %d rank(s), fast sums: status OK on every rank", preset,
             est, lf_par_size());
    LF_TEST_TRUE(what, all_ranks(rc == LF_OK));
    cmp_stats(preset, est, "serial", &sr, &rs);
    cmp_stats(preset, est, "fast sums", &st, &rs);
    snprintf(what, sizeof what, "%s %s fast sums: gradient == serial lf_sunflow_loss_grad "
             "(max dev / max |g|)", preset, est);
    LF_TEST_ABS(what, max_rel(G, gref, np), 0, TOL_ROUNDOFF);
    snprintf(what, sizeof what, "%s %s fast sums: gradient norm == serial", preset, est);
    LF_TEST_REL(what, st.grad_norm, sr.grad_norm, TOL_ROUNDOFF);
    lf_sunflow_batch_free(wb);
    /* deterministic chunk sums: bitwise the one-rank result of this binary */
    const int chunks[2] = {5, 2};
    for (int k = 0; k < 2; k++) {
      o.deterministic = 1, o.chunk = chunks[k], o.self = 1;
      lf_sunflow_step_stats ss;
      lf_sunflow_batch_alloc(&wb, m, chunks[k]);
      rc = lf_sunflow_loss_grad_par(m, wb, BATCH, &o, SEED, STEP, &ss); /* not collective */
      memcpy(gself, G, np * sizeof *gself);
      o.self = 0;
      rc |= lf_sunflow_loss_grad_par(m, wb, BATCH, &o, SEED, STEP, &st);
      int ok = rc == LF_OK && same_stats(&st, &ss) && !memcmp(G, gself, np * sizeof *G);
      snprintf(what, sizeof what, "%s %s deterministic, chunks of %d on %d rank(s): loss, ESS, "
               "acceptance, gradient bitwise == one rank, on every rank", preset, est, chunks[k],
               lf_par_size());
      LF_TEST_TRUE(what, all_ranks(ok));
      char label[64];
      snprintf(label, sizeof label, "deterministic, chunks of %d", chunks[k]);
      cmp_stats(preset, est, label, &st, &rs);
      snprintf(what, sizeof what, "%s %s deterministic chunks of %d: gradient == serial to "
               "round-off", preset, est, chunks[k]);
      LF_TEST_ABS(what, max_rel(G, gref, np), 0, TOL_ROUNDOFF);
      lf_sunflow_batch_free(wb);
    }
  }
  /* a training step: identical parameters on every rank, bitwise the one-rank step */
  {
    lf_flow_train_opts o = lf_sunflow_train_opts_default();
    o.deterministic = 1, o.chunk = 2, o.self = 1;
    lf_sunflow_batch *wb;
    lf_sunflow_batch_alloc(&wb, m, 2);
    lf_nn_adam o1;
    lf_nn_adam_init(&o1, np, &ac);
    memcpy(Psave, P, np * sizeof *P);
    int rc = lf_sunflow_train_step_par(m, wb, &o1, -1, BATCH, &o, SEED, STEP, &st);
    memcpy(gself, P, np * sizeof *P); /* the one-rank parameters after the step */
    memcpy(P, Psave, np * sizeof *P);
    lf_nn_adam_clear(&o1);
    lf_nn_adam_init(&o1, np, &ac);
    o.self = 0;
    rc |= lf_sunflow_train_step_par(m, wb, &o1, -1, BATCH, &o, SEED, STEP, &st);
    double moved = 0;
    for (size_t i = 0; i < np; i++) moved = fmax(moved, fabs(P[i] - Psave[i]));
    snprintf(what, sizeof what, "%s train_step_par (deterministic): parameters moved, bitwise "
             "== one-rank step on every rank", preset);
    LF_TEST_TRUE(what, all_ranks(rc == LF_OK && moved > 0 && !memcmp(P, gself, np * sizeof *P)));
    lf_nn_adam_clear(&o1);
    /* clipping: the reported norm is the unclipped one, the gradient has the clip norm */
    memcpy(P, Psave, np * sizeof *P);
    o.clip = 0;
    lf_sunflow_loss_grad_par(m, wb, BATCH, &o, SEED, STEP, &st);
    const double full = st.grad_norm;
    o.clip = 0.37 * full;
    lf_sunflow_loss_grad_par(m, wb, BATCH, &o, SEED, STEP, &st);
    double n2 = 0;
    for (size_t i = 0; i < np; i++) n2 += G[i] * G[i];
    snprintf(what, sizeof what, "%s clip 0.37 |g|: gradient norm after clipping (torch's "
             "clip |g| / (|g| + 1e-6))", preset);
    LF_TEST_REL(what, sqrt(n2), o.clip * full / (full + 1e-6), TOL_ROUNDOFF);
    snprintf(what, sizeof what, "%s clip: reported norm is the one before clipping", preset);
    LF_TEST_TRUE(what, st.grad_norm == full);
    /* error paths, the same status on every rank */
    o.clip = 0, o.deterministic = 0;
    rc = lf_sunflow_loss_grad_par(m, wb, BATCH, &o, SEED, STEP, &st); /* needs 12/size > 2 */
    snprintf(what, sizeof what, "%s workspace of 2 for a block of %ld: LF_EINVAL everywhere",
             preset, lf_flow_local_batch(BATCH, &o));
    LF_TEST_TRUE(what, all_ranks(lf_flow_local_batch(BATCH, &o) <= 2 ? rc == LF_OK
                                                                      : rc == LF_EINVAL));
    rc = lf_sunflow_loss_grad_par(m, wb, 0, &o, SEED, STEP, &st);
    LF_TEST_TRUE("global batch 0: LF_EINVAL everywhere", all_ranks(rc == LF_EINVAL));
    lf_nn_adam small;
    lf_nn_adam_init(&small, np - 1, &ac);
    rc = lf_sunflow_train_step_par(m, wb, &small, -1, BATCH, &o, SEED, STEP, &st);
    LF_TEST_TRUE("optimizer of the wrong size: LF_ESTATE everywhere", all_ranks(rc == LF_ESTATE));
    lf_nn_adam_clear(&small);
    o.deterministic = 1;
    for (size_t i = 0; i < np; i++) P[i] = NAN;
    rc = lf_sunflow_loss_grad_par(m, wb, BATCH, &o, SEED, STEP, &st);
    snprintf(what, sizeof what, "%s NaN parameters: an error on every rank (%s)", preset,
             lf_last_error());
    LF_TEST_TRUE(what, all_ranks(rc < 0));
    lf_error_clear();
    memcpy(P, Psave, np * sizeof *P);
    lf_sunflow_batch_free(wb);
  }
  lf_nn_adam_clear(&opt);
  lf_sunflow_batch_free(wb12);
  free(gref), free(gself), free(Psave);
  lf_sunflow_model_free(m);
}

int main(int argc, char **argv) {
  dist_test_start(&argc, &argv);
  par_case("su2-2d");
  par_case("su3-2d");
  return dist_test_done();
}
