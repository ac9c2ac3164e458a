/*
 * adam.c -- Adam with bias correction and optional decoupled weight decay (Kingma & Ba,
 * 1412.6980; Loshchilov & Hutter, 1711.05101 "AdamW"), gradient clipping by global
 * norm, learning-rate schedules (constant, cosine, step, with linear warmup).
 *
 * The update follows torch.optim.AdamW exactly (docs/nn.md, "Adam"), so a latflow
 * and a PyTorch run with the same gradients take the same steps.
 * Thread contract: serial, in index order (deterministic).
 */
#include "internal.h"

#include <math.h>
#include <string.h>

lf_nn_adam_cfg lf_nn_adam_defaults(void) {
  return (lf_nn_adam_cfg){.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8,
                          .weight_decay = 0.0};
}

int lf_nn_adam_init(lf_nn_adam *opt, size_t n, const lf_nn_adam_cfg *cfg) {
  memset(opt, 0, sizeof *opt);
  if (!(cfg->beta1 >= 0 && cfg->beta1 < 1) || !(cfg->beta2 >= 0 && cfg->beta2 < 1))
    return LF_ERROR(LF_EINVAL, "Adam betas (%g, %g) must lie in [0, 1)", cfg->beta1, cfg->beta2);
  if (!(cfg->eps > 0) || !(cfg->lr >= 0) || !(cfg->weight_decay >= 0))
    return LF_ERROR(LF_EINVAL, "Adam needs eps > 0, lr >= 0, weight_decay >= 0 (got %g, %g, %g)",
                    cfg->eps, cfg->lr, cfg->weight_decay);
  opt->cfg = *cfg;
  opt->n = n;
  opt->m = lf_alloc((n ? n : 1) * sizeof(double));
  opt->v = opt->m ? lf_alloc((n ? n : 1) * sizeof(double)) : NULL;
  if (!opt->v) {
    lf_nn_adam_clear(opt);
    return LF_ENOMEM;
  }
  return LF_OK;
}

void lf_nn_adam_clear(lf_nn_adam *opt) {
  lf_free(opt->m);
  lf_free(opt->v);
  opt->m = opt->v = NULL;
  opt->n = 0;
  opt->step = 0;
}

void lf_nn_adam_step(lf_nn_adam *opt, double lr, double *theta, const double *grad) {
  const lf_nn_adam_cfg *c = &opt->cfg;
  if (lr < 0) lr = c->lr;
  opt->step++;
  double t = (double)opt->step;
  double bc1 = 1.0 - pow(c->beta1, t), bc2 = 1.0 - pow(c->beta2, t);
  double step = lr / bc1, sbc2 = sqrt(bc2), decay = 1.0 - lr * c->weight_decay;
  double *m = opt->m, *v = opt->v;
  for (size_t i = 0; i < opt->n; i++) {
    double g = grad[i];
    if (c->weight_decay > 0) theta[i] *= decay;
    m[i] = c->beta1 * m[i] + (1.0 - c->beta1) * g;
    v[i] = c->beta2 * v[i] + (1.0 - c->beta2) * g * g;
    theta[i] -= step * m[i] / (sqrt(v[i]) / sbc2 + c->eps);
  }
}

double lf_nn_clip_grad_norm(double *grad, size_t n, double max_norm) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += grad[i] * grad[i];
  double norm = sqrt(s);
  if (max_norm > 0 && norm > max_norm) {
    double f = max_norm / (norm + 1e-6); /* torch.nn.utils.clip_grad_norm_ convention */
    for (size_t i = 0; i < n; i++) grad[i] *= f;
  }
  return norm;
}

double lf_nn_lr_at(const lf_nn_lr_schedule *s, long step) {
  double lr = s->base;
  if (step < 0) step = 0;
  if (s->warmup > 0 && step < s->warmup) return s->base * (double)(step + 1) / (double)s->warmup;
  switch (s->kind) {
  case LF_NN_LR_CONSTANT:
    break;
  case LF_NN_LR_COSINE: {
    long t = step < s->total ? step : s->total;
    double f = s->total > 0 ? (double)t / (double)s->total : 1.0;
    lr = s->min + 0.5 * (s->base - s->min) * (1.0 + cos(LF_PI * f));
    break;
  }
  case LF_NN_LR_STEP:
    if (s->step_size > 0) lr = s->base * pow(s->gamma, (double)(step / s->step_size));
    break;
  }
  return lr;
}
