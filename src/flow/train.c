/*
 * train.c -- reverse-KL training of the flow: loss, reparameterisation gradient, batch
 * ESS and acceptance estimates; the update is nn's Adam (lf_nn_adam_step).
 *
 * Math (docs/flows.md "training"): L = E_{z~r} [log q(f(z)) + S(f(z))] (= KL(q||p) - log Z),
 * estimated by the batch mean; dL/dparams by the hand-written backward of model.c with
 * dL/dx_b = (1/B) dS/dx_b and dL/dlog q_b = 1/B. ESS/B = (sum w)^2 / (B sum w^2),
 * log w = -S - log q. Acceptance estimate of independence Metropolis:
 * E_{x~p, x'~q} min(1, w(x')/w(x)) = sum_i wbar_i (1/B) sum_j min(1, w_j/w_i).
 * Adam (Kingma & Ba 1412.6980, torch.optim.Adam semantics) and the learning-rate schedules
 * are those of the nn module (src/nn/adam.c, docs/nn.md).
 * Thread contract: the heavy passes are the OpenMP batch passes of model.c; reductions
 * here are serial in sample order.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

double lf_flow_ess(const double *logw, long n) {
  if (n <= 0) return 0;
  double mx = logw[0];
  for (long i = 1; i < n; i++) mx = fmax(mx, logw[i]);
  double s1 = 0, s2 = 0;
  for (long i = 0; i < n; i++) {
    double w = exp(logw[i] - mx);
    s1 += w, s2 += w * w;
  }
  return s1 * s1 / (s2 * (double)n);
}

int lf_flow_loss_grad(lf_flow_model *m, lf_flow_batch *wb, uint64_t seed, long step,
                      lf_flow_step_stats *st) {
  const int B = lf_flow_batch_size(wb);
  const size_t V2 = 2 * (size_t)m->V;
  double *x = lf_alloc((size_t)B * V2 * sizeof(double));
  double *gx = lf_alloc((size_t)B * V2 * sizeof(double));
  double *lq = lf_alloc(4 * (size_t)B * sizeof(double));
  if (!x || !gx || !lq) {
    lf_free(x), lf_free(gx), lf_free(lq);
    return LF_ERROR(LF_ENOMEM, "out of memory for a training batch");
  }
  double *glq = lq + B, *S = lq + 2 * B, *logw = lq + 3 * B;
  lf_flow_prior_sample(m, seed, LF_RNG_TAG(LF_RNG_PURPOSE_PRIOR, (uint64_t)step), 0, B, x);
  int rc = lf_flow_forward(m, wb, B, x, x, lq);
  if (rc) goto done;
  const double beta = m->cfg.beta;
#pragma omp parallel for schedule(static)
  for (int b = 0; b < B; b++) {
    S[b] = lf_flow_action(m, beta, x + (size_t)b * V2, gx + (size_t)b * V2);
    for (size_t i = 0; i < V2; i++) gx[(size_t)b * V2 + i] /= (double)B;
    glq[b] = 1.0 / (double)B;
  }
  double mean = 0, m2 = 0;
  for (int b = 0; b < B; b++) {
    double l = lq[b] + S[b];
    logw[b] = -l;
    mean += l;
  }
  mean /= (double)B;
  for (int b = 0; b < B; b++) m2 += (lq[b] + S[b] - mean) * (lq[b] + S[b] - mean);
  st->loss = mean;
  st->loss_err = B > 1 ? sqrt(m2 / (double)(B - 1) / (double)B) : 0;
  st->ess = lf_flow_ess(logw, B);
  /* acceptance of independence Metropolis: E_{x~p, x'~q} min(1, w(x')/w(x)), with p
   * estimated by self-normalised weights over the batch */
  double mx = logw[0], wsum = 0, acc = 0;
  for (int b = 1; b < B; b++) mx = fmax(mx, logw[b]);
  for (int i = 0; i < B; i++) {
    double wi = exp(logw[i] - mx), a = 0;
    for (int j = 0; j < B; j++) a += fmin(1.0, exp(logw[j] - logw[i]));
    acc += wi * a / (double)B;
    wsum += wi;
  }
  st->acceptance = acc / wsum;
  if (!isfinite(mean)) {
    rc = LF_ERROR(LF_ENAN, "the loss is %g at step %ld; lower the learning rate (--lr) or "
                           "resume from the last checkpoint", mean, step);
    goto done;
  }
  rc = lf_flow_backward(m, wb, B, gx, glq);
  if (rc) goto done;
  /* max_norm 0: no clipping, only the norm (summed in index order) */
  double gn = lf_nn_clip_grad_norm(m->P.grad, m->P.n, 0.0);
  st->grad_norm = gn;
  if (!isfinite(gn))
    rc = LF_ERROR(LF_ENAN, "the gradient is not finite at step %ld; lower the learning rate "
                           "(--lr) or resume from the last checkpoint", step);
done:
  lf_free(x), lf_free(gx), lf_free(lq);
  return rc;
}

int lf_flow_train_step(lf_flow_model *m, lf_flow_batch *wb, lf_nn_adam *opt, double lr,
                       uint64_t seed, long step, lf_flow_step_stats *st) {
  if (opt->n != m->P.n)
    return LF_ERROR(LF_ESTATE, "the optimizer holds %zu moments but the flow has %zu "
                               "parameters; initialise it with lf_flow_model_nparams",
                    opt->n, m->P.n);
  LF_CHECK(lf_flow_loss_grad(m, wb, seed, step, st));
  lf_nn_adam_step(opt, lr, m->P.data, m->P.grad);
  return LF_OK;
}
