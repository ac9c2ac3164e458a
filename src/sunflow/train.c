/*
 * train.c -- reverse-KL training of an SU(N) flow: loss, reparameterisation gradient,
 * batch ESS; the update is nn's Adam (lf_nn_adam_step).
 *
 * Math (docs/sunflow.md "training"; Boyda et al. 2008.05456 sec. VI):
 * L = E_{z ~ Haar} [log q(f(z)) + S(f(z))] = KL(q || p) - log Z, estimated by the batch mean;
 * dL/dparams through the hand-written backward of model.c with dL/dx_b = (1/B) dS/dx_b
 * (Wilson force, field.c) and dL/dlog q_b = 1/B. ESS/B = (sum w)^2 / (B sum w^2),
 * log w = -S - log q (lf_stats_ess). Path gradient (Vaitl et al. 2207.08219, default):
 * dL/dx_b = (1/B) grad_x (log q + S) at fixed parameters (lf_sunflow_logq_grad), no direct
 * dL/dlog q term; its expectation equals that of the reparameterisation gradient because
 * E_q[d/dparams log q] = 0.
 * Thread contract: the heavy passes are the OpenMP batch passes of model.c; the action is
 * OpenMP over samples; reductions here are serial in sample order.
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "latflow/stats.h"

int lf_sunflow_loss_grad(lf_sunflow_model *m, lf_sunflow_batch *wb, uint64_t seed, long step,
                         lf_sunflow_grad_kind kind, lf_sunflow_step_stats *st) {
  const int B = lf_sunflow_batch_size(wb);
  const size_t fs = m->fs;
  if (wb->m != m) return LF_ERROR(LF_ESTATE, "SU(N) flow workspace belongs to another model");
  /* the step's fields live in the workspace (no per-step allocation and page faults) */
  if (!wb->tx) {
    wb->tx = lf_alloc(3 * (size_t)B * fs * sizeof(lf_cplx));
    wb->tlq = lf_alloc(4 * (size_t)B * sizeof(double));
    if (!wb->tx || !wb->tlq) {
      lf_free(wb->tx), lf_free(wb->tlq);
      wb->tx = NULL, wb->tlq = NULL;
      return LF_ERROR(LF_ENOMEM, "out of memory for an SU(N) flow training batch");
    }
  }
  lf_cplx *x = wb->tx, *gx = x + (size_t)B * fs, *gq = gx + (size_t)B * fs;
  double *lq = wb->tlq, *glq = lq + B, *S = lq + 2 * B, *logw = lq + 3 * B;
  lf_sunflow_prior_sample(m, seed, LF_RNG_TAG(LF_RNG_PURPOSE_PRIOR, (uint64_t)step), 0, B, x);
  int rc = lf_sunflow_forward(m, wb, B, x, x, lq);
  if (rc) goto done;
  const double beta = m->cfg.beta;
#pragma omp parallel for schedule(static)
  for (int b = 0; b < B; b++) {
    lf_cplx *g = gx + (size_t)b * fs;
    S[b] = lf_sunflow_action(m, beta, x + (size_t)b * fs, g);
    for (size_t i = 0; i < fs; i++) g[i] /= (double)B;
    glq[b] = 1.0 / (double)B;
  }
  double mean = 0, m2 = 0;
  for (int b = 0; b < B; b++) {
    logw[b] = -(lq[b] + S[b]);
    mean += lq[b] + S[b];
  }
  mean /= (double)B;
  for (int b = 0; b < B; b++) m2 += (lq[b] + S[b] - mean) * (lq[b] + S[b] - mean);
  st->loss = mean;
  st->loss_err = B > 1 ? sqrt(m2 / (double)(B - 1) / (double)B) : 0;
  st->ess = lf_stats_ess(logw, B);
  st->grad_norm = 0;
  if (!isfinite(mean)) {
    rc = LF_ERROR(LF_ENAN, "the SU(N) flow loss is %g at step %ld; lower the learning rate",
                  mean, step);
    goto done;
  }
  if (kind == LF_SUNFLOW_GRAD_PATH) {
    /* dL/dx_b = (1/B) grad_x (log q + S) at fixed parameters; no direct log q term */
    rc = lf_sunflow_logq_grad(m, wb, B, gq);
    for (size_t i = 0; !rc && i < (size_t)B * fs; i++) gx[i] += gq[i] / (double)B;
    for (int b = 0; b < B; b++) glq[b] = 0;
    if (rc) goto done;
  }
  rc = lf_sunflow_backward(m, wb, B, gx, glq, NULL);
  if (rc) goto done;
  st->grad_norm = lf_nn_clip_grad_norm(m->P.grad, m->P.n, 0.0);
  if (!isfinite(st->grad_norm))
    rc = LF_ERROR(LF_ENAN, "the SU(N) flow gradient is not finite at step %ld; lower the "
                           "learning rate", step);
done:
  return rc;
}

int lf_sunflow_train_step(lf_sunflow_model *m, lf_sunflow_batch *wb, lf_nn_adam *opt, double lr,
                          uint64_t seed, long step, lf_sunflow_grad_kind kind,
                          lf_sunflow_step_stats *st) {
  if (opt->n != m->P.n)
    return LF_ERROR(LF_ESTATE, "the optimizer holds %zu moments but the SU(N) flow has %zu "
                               "parameters; initialise it with lf_sunflow_model_nparams",
                    opt->n, m->P.n);
  LF_CHECK(lf_sunflow_loss_grad(m, wb, seed, step, kind, st));
  lf_nn_adam_step(opt, lr, m->P.data, m->P.grad);
  return LF_OK;
}
