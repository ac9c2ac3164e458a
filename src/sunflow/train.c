/*
 * train.c -- reverse-KL training of an SU(N) flow: loss, path or reparameterisation
 * gradient, batch ESS and acceptance, data-parallel batches over MPI ranks; the
 * family-independent driver (chunk plan, gather of the per-sample losses, statistics,
 * deterministic or fast gradient sums, clipping) is flow's lf_flow_loss_grad_chunked, and
 * this file supplies its SU(N) chunk; the update is nn's Adam (lf_nn_adam_step).
 *
 * Math (docs/sunflow.md "training"; Boyda et al. 2008.05456 sec. VI):
 * L = E_{z ~ Haar} [log q(f(z)) + S(f(z))] = KL(q || p) - log Z, estimated by the batch mean;
 * dL/dparams through the hand-written backward of model.c with dL/dx_b = (1/B) dS/dx_b
 * (Wilson force, field.c) and dL/dlog q_b = 1/B. ESS/B = (sum w)^2 / (B sum w^2),
 * log w = -S - log q (lf_flow_ess). Path gradient (Vaitl et al. 2207.08219, default):
 * dL/dx_b = (1/B) grad_x (log q + S) at fixed parameters (lf_sunflow_logq_grad), no direct
 * dL/dlog q term; its expectation equals that of the reparameterisation gradient because
 * E_q[d/dparams log q] = 0.
 * Data parallelism (docs/sunflow.md "Data-parallel training", as for the U(1) flow in
 * docs/flows.md): sample b of the global batch comes from the Haar prior stream
 * (seed, PRIOR|step) at global index b on whichever rank computes it.
 * Thread contract: the heavy passes are the OpenMP batch passes of model.c; the action is
 * OpenMP over samples; reductions here are serial in sample order. MPI: the *_par
 * functions are collective (flow's driver).
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "latflow/par.h"

/* scratch of one chunk of up to `cap` samples (the workspace batch) */
typedef struct {
  lf_sunflow_model *m;
  lf_sunflow_batch *wb;
  size_t cap;
  lf_cplx *x, *gx, *gq; /* [cap][fs]; gq only for the path gradient */
  double *lq;           /* [3 cap]: log q, dL/dlog q, S */
} sun_chunk_ctx;

static int sun_chunk(void *ctx, uint64_t seed, long step, long first, int n, long B, int path,
                     double *l) {
  sun_chunk_ctx *c = ctx;
  lf_sunflow_model *m = c->m;
  const size_t fs = m->fs;
  lf_cplx *x = c->x, *gx = c->gx;
  double *lq = c->lq, *glq = lq + c->cap, *S = lq + 2 * c->cap;
  lf_sunflow_prior_sample(m, seed, LF_RNG_TAG(LF_RNG_PURPOSE_PRIOR, (uint64_t)step), first, n, x);
  LF_CHECK(lf_sunflow_forward(m, c->wb, n, x, x, lq));
  const double beta = m->cfg.beta;
#pragma omp parallel for schedule(static)
  for (int b = 0; b < n; b++) {
    lf_cplx *g = gx + (size_t)b * fs;
    S[b] = lf_sunflow_action(m, beta, x + (size_t)b * fs, g);
    for (size_t i = 0; i < fs; i++) g[i] /= (double)B;
    glq[b] = 1.0 / (double)B;
  }
  for (int b = 0; b < n; b++) l[b] = lq[b] + S[b];
  if (path) {
    /* dL/dx_b = (1/B) grad_x (log q + S) at fixed parameters; no direct log q term */
    LF_CHECK(lf_sunflow_logq_grad(m, c->wb, n, c->gq));
    for (size_t i = 0; i < (size_t)n * fs; i++) gx[i] += c->gq[i] / (double)B;
    for (int b = 0; b < n; b++) glq[b] = 0;
  }
  return lf_sunflow_backward(m, c->wb, n, gx, glq, NULL);
}

lf_flow_train_opts lf_sunflow_train_opts_default(void) {
  lf_flow_train_opts o = lf_flow_train_opts_default();
  o.path = 1;
  return o;
}

static int loss_grad(lf_sunflow_model *m, lf_sunflow_batch *wb, long B, const lf_flow_train_opts *o,
                     uint64_t seed, long step, lf_flow_step_stats *st, int coll) {
  const int wbn = lf_sunflow_batch_size(wb);
  const size_t cap = (size_t)(wbn > 0 ? wbn : 1), fs = m->fs;
  int rc = B < 1 ? LF_ERROR(LF_EINVAL, "global batch %ld; use at least 1", B) : LF_OK;
  sun_chunk_ctx c = {m, wb, cap, NULL, NULL, NULL, NULL};
  if (!rc && wb->m != m) rc = LF_ERROR(LF_ESTATE, "SU(N) flow workspace belongs to another model");
  /* the step's fields live in the workspace (no per-step allocation and page faults) */
  if (!rc && !wb->tx) {
    wb->tx = lf_alloc(3 * cap * fs * sizeof(lf_cplx));
    wb->tlq = lf_alloc(4 * cap * sizeof(double));
    if (!wb->tx || !wb->tlq) {
      lf_free(wb->tx), lf_free(wb->tlq);
      wb->tx = NULL, wb->tlq = NULL;
      rc = LF_ERROR(LF_ENOMEM, "out of memory for an SU(N) flow training batch");
    }
  }
  if (!rc) {
    c.x = wb->tx, c.gx = c.x + cap * fs, c.gq = o->path ? c.gx + cap * fs : NULL;
    c.lq = wb->tlq;
  }
  if (coll) rc = lf_par_agree(rc);
  if (!rc) {
    lf_flow_chunk_fn fn = {sun_chunk, &c, m->P.grad, m->P.n, wbn};
    rc = lf_flow_loss_grad_chunked(&fn, B, o, seed, step, coll, st);
  }
  return rc;
}

static int check_opt(const lf_sunflow_model *m, const lf_nn_adam *opt) {
  if (opt->n != m->P.n)
    return LF_ERROR(LF_ESTATE, "the optimizer holds %zu moments but the SU(N) flow has %zu "
                               "parameters; initialise it with lf_sunflow_model_nparams",
                    opt->n, m->P.n);
  return LF_OK;
}

int lf_sunflow_loss_grad(lf_sunflow_model *m, lf_sunflow_batch *wb, uint64_t seed, long step,
                         lf_sunflow_grad_kind kind, lf_sunflow_step_stats *st) {
  lf_flow_train_opts o = lf_sunflow_train_opts_default();
  o.path = kind == LF_SUNFLOW_GRAD_PATH;
  return loss_grad(m, wb, lf_sunflow_batch_size(wb), &o, seed, step, st, 0);
}

int lf_sunflow_train_step(lf_sunflow_model *m, lf_sunflow_batch *wb, lf_nn_adam *opt, double lr,
                          uint64_t seed, long step, lf_sunflow_grad_kind kind,
                          lf_sunflow_step_stats *st) {
  LF_CHECK(check_opt(m, opt));
  LF_CHECK(lf_sunflow_loss_grad(m, wb, seed, step, kind, st));
  lf_nn_adam_step(opt, lr, m->P.data, m->P.grad);
  return LF_OK;
}

int lf_sunflow_loss_grad_par(lf_sunflow_model *m, lf_sunflow_batch *wb, long batch,
                             const lf_flow_train_opts *o, uint64_t seed, long step,
                             lf_sunflow_step_stats *st) {
  lf_flow_train_opts d = o ? *o : lf_sunflow_train_opts_default();
  return loss_grad(m, wb, batch, &d, seed, step, st, !d.self);
}

int lf_sunflow_train_step_par(lf_sunflow_model *m, lf_sunflow_batch *wb, lf_nn_adam *opt,
                              double lr, long batch, const lf_flow_train_opts *o, uint64_t seed,
                              long step, lf_sunflow_step_stats *st) {
  int rc = check_opt(m, opt);
  if (!(o && o->self)) rc = lf_par_agree(rc);
  if (!rc) rc = lf_sunflow_loss_grad_par(m, wb, batch, o, seed, step, st);
  if (!rc) lf_nn_adam_step(opt, lr, m->P.data, m->P.grad);
  return rc;
}
