/*
 * train.c -- reverse-KL training of the flow: loss, reparameterisation or path gradient,
 * data-parallel batches over MPI ranks, batch ESS and acceptance estimates; the update is
 * nn's Adam (lf_nn_adam_step).
 *
 * Math (docs/flows.md "training"): L = E_{z~r} [log q(f(z)) + S(f(z))] (= KL(q||p) - log Z),
 * estimated by the batch mean. Reparameterisation gradient: the hand-written backward of
 * model.c with dL/dx_b = (1/B) dS/dx_b and dL/dlog q_b = 1/B. Path gradient (Vaitl et al.,
 * "Gradients should stay on path", 2207.08219): dL/dx_b = (1/B) d(log q + S)/dx_b with
 * d log q/dx from lf_flow_forward_path (parameters held fixed) and dL/dlog q_b = 0; it
 * drops the score term, whose expectation vanishes, and its variance goes to zero as q
 * approaches p. ESS/B = (sum w)^2 / (B sum w^2), log w = -S - log q. Acceptance estimate of
 * independence Metropolis: E_{x~p, x'~q} min(1, w(x')/w(x)) = sum_i wbar_i (1/B) sum_j
 * min(1, w_j/w_i).
 * Data parallelism (docs/flows.md "Data-parallel training"): sample b of the global batch is drawn from the
 * prior stream (seed, PRIOR|step) at index b on whichever rank computes it, so the global
 * batch is the same for any rank count; the per-sample losses are gathered (lf_par_allgather)
 * so loss, ESS and acceptance are those of the global batch; gradients are summed with
 * MPI (fast) or, in deterministic mode, per fixed chunk of samples in global chunk order
 * (lf_par_sum_chunks), bitwise independent of the rank count. All of this is the
 * family-independent driver lf_flow_loss_grad_chunked, shared with the SU(N) flows
 * (src/sunflow/train.c); a family supplies one chunk callback (prior at global indices,
 * forward, action, backward), the U(1) one is u1_chunk below.
 * Thread contract: the heavy passes are the OpenMP batch passes of model.c; reductions
 * here are serial in sample order.
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "latflow/par.h"

#define DEFAULT_CHUNK 8

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

lf_flow_train_opts lf_flow_train_opts_default(void) {
  lf_flow_train_opts o = {0, 0, DEFAULT_CHUNK, 0.0, 0};
  return o;
}

/* this rank's samples: chunks [*c0, *c0 + *nc) of `chunk` samples (the last one partial);
 * without deterministic mode one chunk holding the whole block of lf_par_block */
static void local_plan(long B, const lf_flow_train_opts *o, int coll, long *chunk, long *c0,
                       long *nc, long *nglobal) {
  if (o->deterministic) {
    *chunk = o->chunk > 0 ? o->chunk : DEFAULT_CHUNK;
    *nglobal = (B + *chunk - 1) / *chunk;
    if (coll) lf_par_block(*nglobal, c0, nc);
    else *c0 = 0, *nc = *nglobal;
  } else {
    long first = 0, count = B;
    if (coll) lf_par_block(B, &first, &count);
    *chunk = count, *c0 = first, *nc = 1, *nglobal = -1;
  }
}

long lf_flow_local_batch(long batch, const lf_flow_train_opts *o) {
  /* the largest share over ranks is rank 0's: lf_par_block gives the remainder to the
   * first ranks */
  const long size = o && o->self ? 1 : lf_par_size();
  long most = (batch + size - 1) / size;
  if (o && o->deterministic) {
    long chunk = o->chunk > 0 ? o->chunk : DEFAULT_CHUNK;
    most = chunk; /* chunks are computed one at a time */
  }
  return most > 0 ? most : 1;
}

/* global statistics from the per-sample values l_b = log q_b + S_b of the whole batch */
static void batch_stats(const double *l, long B, lf_flow_step_stats *st, double *logw) {
  double mean = 0, m2 = 0;
  for (long b = 0; b < B; b++) logw[b] = -l[b], mean += l[b];
  mean /= (double)B;
  for (long b = 0; b < B; b++) m2 += (l[b] - mean) * (l[b] - mean);
  st->loss = mean;
  st->loss_err = B > 1 ? sqrt(m2 / (double)(B - 1) / (double)B) : 0;
  st->ess = lf_flow_ess(logw, B);
  /* acceptance of independence Metropolis: E_{x~p, x'~q} min(1, w(x')/w(x)), with p
   * estimated by self-normalised weights over the batch */
  double mx = logw[0], wsum = 0, acc = 0;
  for (long b = 1; b < B; b++) mx = fmax(mx, logw[b]);
  for (long i = 0; i < B; i++) {
    double wi = exp(logw[i] - mx), a = 0;
    for (long j = 0; j < B; j++) a += fmin(1.0, exp(logw[j] - logw[i]));
    acc += wi * a / (double)B;
    wsum += wi;
  }
  st->acceptance = acc / wsum;
}

/* the serial order of lf_par_sum_chunks: chunk 0, 1, ... added to a zeroed sum */
static int sum_chunks_local(const double *cg, long nchunks, size_t np, double *out) {
  memset(out, 0, np * sizeof *out);
  for (long c = 0; c < nchunks; c++)
    for (size_t k = 0; k < np; k++) out[k] += cg[(size_t)c * np + k];
  return LF_OK;
}

int lf_flow_loss_grad_chunked(const lf_flow_chunk_fn *fn, long B, const lf_flow_train_opts *o,
                              uint64_t seed, long step, int coll, lf_flow_step_stats *st) {
  const size_t np = fn->nparams;
  long chunk, c0, nc, nchunks;
  local_plan(B, o, coll, &chunk, &c0, &nc, &nchunks);
  const long first = o->deterministic ? c0 * chunk : c0;
  long nloc = o->deterministic ? (c0 + nc) * chunk - first : chunk;
  if (first + nloc > B) nloc = B - first;
  if (nloc < 0) nloc = 0;
  int rc = LF_OK;
  if (chunk > fn->capacity)
    rc = LF_ERROR(LF_EINVAL, "this rank computes %ld samples at once but the flow workspace "
                             "holds %d; allocate it with lf_flow_local_batch", chunk, fn->capacity);
  double *all = rc ? NULL : lf_alloc((2 * (size_t)B + (size_t)nloc + 1) * sizeof(double));
  double *cg = rc || !o->deterministic ? NULL : lf_alloc(((size_t)nc * np + 1) * sizeof(double));
  if (!rc && (!all || (o->deterministic && !cg)))
    rc = LF_ERROR(LF_ENOMEM, "out of memory for a training batch");
  double *logw = all + B, *mine = logw + B;
  for (long c = 0; !rc && c < nc; c++) {
    const long f = o->deterministic ? (c0 + c) * chunk : first;
    int n = (int)(f + chunk > B ? B - f : chunk);
    if (n > 0) rc = fn->chunk(fn->ctx, seed, step, f, n, B, o->path, mine + (f - first));
    else memset(fn->grad, 0, np * sizeof(double)); /* a rank without samples adds zero */
    if (!rc && cg) memcpy(cg + (size_t)c * np, fn->grad, np * sizeof(double));
  }
  if (coll) rc = lf_par_agree(rc);
  if (!rc) rc = coll ? lf_par_allgather(mine, first, nloc, B, 1, all)
                     : (memcpy(all, mine, (size_t)B * sizeof(double)), LF_OK);
  if (!rc) {
    batch_stats(all, B, st, logw);
    if (!isfinite(st->loss))
      rc = LF_ERROR(LF_ENAN, "the loss is %g at step %ld; lower the learning rate (--lr) or "
                             "resume from the last checkpoint", st->loss, step);
  }
  if (!rc && cg) rc = coll ? lf_par_sum_chunks(cg, c0, nc, nchunks, (long)np, fn->grad)
                           : sum_chunks_local(cg, nchunks, np, fn->grad);
  else if (!rc && coll && lf_par_size() > 1)
    rc = lf_par_allreduce_sum(fn->grad, (long)np);
  if (!rc) {
    /* the norm before clipping (summed in index order); clip 0: no clipping */
    st->grad_norm = lf_nn_clip_grad_norm(fn->grad, np, o->clip > 0 ? o->clip : 0.0);
    if (!isfinite(st->grad_norm))
      rc = LF_ERROR(LF_ENAN, "the gradient is not finite at step %ld; lower the learning rate "
                             "(--lr) or resume from the last checkpoint", step);
  }
  lf_free(all), lf_free(cg);
  return rc;
}

/* the U(1) chunk: scratch for `capacity` samples of the model's workspace */
typedef struct {
  lf_flow_model *m;
  lf_flow_batch *wb;
  double *x, *gx, *dlq, *lq; /* [cap][2V] x3, [3 cap]: log q, dL/dlog q, S */
} u1_chunk_ctx;

static int u1_chunk(void *ctx, uint64_t seed, long step, long first, int n, long B, int path,
                    double *l) {
  u1_chunk_ctx *u = ctx;
  lf_flow_model *m = u->m;
  const size_t V2 = 2 * (size_t)m->V, cap = (size_t)u->wb->batch;
  double *x = u->x, *gx = u->gx, *dlq = u->dlq, *lq = u->lq, *glq = lq + cap, *S = lq + 2 * cap;
  const double beta = m->cfg.beta, inv = 1.0 / (double)B;
  lf_flow_prior_sample(m, seed, LF_RNG_TAG(LF_RNG_PURPOSE_PRIOR, (uint64_t)step), first, n, x);
  LF_CHECK(path ? lf_flow_forward_path(m, u->wb, n, x, x, lq, dlq)
                : lf_flow_forward(m, u->wb, n, x, x, lq));
#pragma omp parallel for schedule(static)
  for (int b = 0; b < n; b++) {
    double *g = gx + (size_t)b * V2;
    S[b] = lf_flow_action(m, beta, x + (size_t)b * V2, g);
    if (path) {
      const double *d = dlq + (size_t)b * V2;
      for (size_t i = 0; i < V2; i++) g[i] = (g[i] + d[i]) * inv;
      glq[b] = 0.0;
    } else {
      for (size_t i = 0; i < V2; i++) g[i] *= inv;
      glq[b] = inv;
    }
  }
  for (int b = 0; b < n; b++) l[b] = lq[b] + S[b];
  return lf_flow_backward(m, u->wb, n, gx, glq);
}

static int loss_grad(lf_flow_model *m, lf_flow_batch *wb, long B, const lf_flow_train_opts *o,
                     uint64_t seed, long step, lf_flow_step_stats *st, int coll) {
  const size_t V2 = 2 * (size_t)m->V, cap = (size_t)(wb->batch > 0 ? wb->batch : 1);
  int rc = B < 1 ? LF_ERROR(LF_EINVAL, "global batch %ld; use at least 1", B) : LF_OK;
  u1_chunk_ctx u = {m, wb, NULL, NULL, NULL, NULL};
  if (!rc) {
    u.x = lf_alloc(cap * V2 * sizeof(double));
    u.gx = lf_alloc(cap * V2 * sizeof(double));
    u.dlq = o->path ? lf_alloc(cap * V2 * sizeof(double)) : NULL;
    u.lq = lf_alloc(3 * cap * sizeof(double));
    if (!u.x || !u.gx || !u.lq || (o->path && !u.dlq))
      rc = LF_ERROR(LF_ENOMEM, "out of memory for a training batch");
  }
  if (coll) rc = lf_par_agree(rc);
  if (!rc) {
    lf_flow_chunk_fn fn = {u1_chunk, &u, m->P.grad, m->P.n, wb->batch};
    rc = lf_flow_loss_grad_chunked(&fn, B, o, seed, step, coll, st);
  }
  lf_free(u.x), lf_free(u.gx), lf_free(u.dlq), lf_free(u.lq);
  return rc;
}

static int check_opt(const lf_flow_model *m, const lf_nn_adam *opt) {
  if (opt->n != m->P.n)
    return LF_ERROR(LF_ESTATE, "the optimizer holds %zu moments but the flow has %zu "
                               "parameters; initialise it with lf_flow_model_nparams",
                    opt->n, m->P.n);
  return LF_OK;
}

int lf_flow_loss_grad(lf_flow_model *m, lf_flow_batch *wb, uint64_t seed, long step,
                      lf_flow_step_stats *st) {
  lf_flow_train_opts o = lf_flow_train_opts_default();
  return loss_grad(m, wb, wb->batch, &o, seed, step, st, 0);
}

int lf_flow_train_step(lf_flow_model *m, lf_flow_batch *wb, lf_nn_adam *opt, double lr,
                       uint64_t seed, long step, lf_flow_step_stats *st) {
  LF_CHECK(check_opt(m, opt));
  LF_CHECK(lf_flow_loss_grad(m, wb, seed, step, st));
  lf_nn_adam_step(opt, lr, m->P.data, m->P.grad);
  return LF_OK;
}

int lf_flow_loss_grad_par(lf_flow_model *m, lf_flow_batch *wb, long batch,
                          const lf_flow_train_opts *o, uint64_t seed, long step,
                          lf_flow_step_stats *st) {
  lf_flow_train_opts d = o ? *o : lf_flow_train_opts_default();
  return loss_grad(m, wb, batch, &d, seed, step, st, !d.self);
}

int lf_flow_train_step_par(lf_flow_model *m, lf_flow_batch *wb, lf_nn_adam *opt, double lr,
                           long batch, const lf_flow_train_opts *o, uint64_t seed, long step,
                           lf_flow_step_stats *st) {
  int rc = check_opt(m, opt);
  if (!(o && o->self)) rc = lf_par_agree(rc);
  if (!rc) rc = lf_flow_loss_grad_par(m, wb, batch, o, seed, step, st);
  if (!rc) lf_nn_adam_step(opt, lr, m->P.data, m->P.grad);
  return rc;
}
