/*
 * model.c -- flow model: configuration and presets, geometry and masks of the coupling
 * layers, parameter storage and initialisation, per-batch workspaces, and the batched
 * forward / inverse / backward passes over the stack of coupling layers.
 *
 * Math: docs/flows.md (Kanwar et al. 2003.06413; Albergo et al. 2101.08176).
 * log q(x) = log r(z) - sum_l log|det J_l|,  x = f_L o ... o f_1 (z).
 * Thread contract: batch functions run one OpenMP loop over samples (static schedule);
 * each sample has its own activations and gradient buffer, and the per-sample gradients
 * are summed in sample order, so all results are independent of the thread count.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---------------------------------------------------------------- configuration */
static lf_flow_config base_config(void) {
  lf_flow_config c;
  memset(&c, 0, sizeof c);
  c.L[0] = c.L[1] = 8;
  c.beta = 2.0;
  c.nlayers = 16;
  c.tr.kind = LF_FLOW_NCP;
  c.tr.K = 2;
  c.tr.weighted = 0;
  c.nhidden = 2;
  c.hidden[0] = c.hidden[1] = 8;
  c.kernel = 3;
  c.leak = 0.01;
  return c;
}

int lf_flow_preset(const char *name, lf_flow_config *cfg) {
  lf_flow_config c = base_config();
  if (!strcmp(name, "u1-tutorial")) {
    /* Albergo et al. 2101.08176: 16 layers, 2 NCPs, CNN 2->8->8->3 */
  } else if (!strcmp(name, "u1-spline")) {
    c.tr.kind = LF_FLOW_SPLINE;
    c.tr.K = 8;
  } else if (!strcmp(name, "u1-best")) {
    /* splines learn the von Mises-like plaquette marginals faster than NCP mixtures */
    c.tr.kind = LF_FLOW_SPLINE;
    c.tr.K = 8;
  } else {
    return LF_ERROR(LF_EINVAL, "unknown flow preset '%s'; use one of u1-tutorial, u1-spline, "
                               "u1-best", name);
  }
  *cfg = c;
  return LF_OK;
}

int lf_flow_preset_training(const char *name, lf_flow_train_defaults *d) {
  lf_flow_config c;
  LF_CHECK(lf_flow_preset(name, &c));
  d->steps = 1000, d->batch = 64, d->lr = 1e-3, d->lr_min = 1e-3;
  if (!strcmp(name, "u1-best")) d->steps = 4000, d->lr = 2e-3, d->lr_min = 1e-4;
  return LF_OK;
}

double lf_flow_lr_at(double lr, double lr_min, long step, long steps) {
  if (steps <= 0 || lr_min == lr) return lr;
  return lr_min + 0.5 * (lr - lr_min) * (1 + cos(LF_PI * (double)step / (double)steps));
}

int lf_flow_config_check(const lf_flow_config *c) {
  for (int d = 0; d < 2; d++)
    if (c->L[d] < 4 || c->L[d] % 4 || c->L[d] > 1024)
      return LF_ERROR(LF_EINVAL, "lattice extent %d is not supported by the stripe masks; use "
                                 "a multiple of 4 between 4 and 1024", c->L[d]);
  if (!(c->beta > 0) || !isfinite(c->beta))
    return LF_ERROR(LF_EINVAL, "beta = %g; use a finite beta > 0", c->beta);
  if (c->nlayers < 2 || c->nlayers > 256 || c->nlayers % 2)
    return LF_ERROR(LF_EINVAL, "%d coupling layers; use an even number between 2 and 256 (each "
                               "direction gets the same number)", c->nlayers);
  if (c->tr.K < 1 || c->tr.K > 32)
    return LF_ERROR(LF_EINVAL, "K = %d components/bins; use 1..32", c->tr.K);
  if (lf_flow_transform_nparams(&c->tr) > LF_FLOW_MAXTP)
    return LF_ERROR(LF_EINVAL, "transform needs too many parameters; reduce K");
  if (c->nhidden < 0 || c->nhidden > LF_FLOW_MAXHIDDEN)
    return LF_ERROR(LF_EINVAL, "%d hidden conv layers; use 0..%d", c->nhidden,
                    LF_FLOW_MAXHIDDEN);
  for (int i = 0; i < c->nhidden; i++)
    if (c->hidden[i] < 1 || c->hidden[i] > 512)
      return LF_ERROR(LF_EINVAL, "hidden channel count %d; use 1..512", c->hidden[i]);
  if (c->kernel < 1 || c->kernel % 2 == 0 || c->kernel > 15 || c->kernel > c->L[0] ||
      c->kernel > c->L[1])
    return LF_ERROR(LF_EINVAL, "kernel size %d; use an odd size <= 15 and not larger than the lattice",
                    c->kernel);
  if (!(c->leak >= 0 && c->leak < 1))
    return LF_ERROR(LF_EINVAL, "LeakyReLU slope %g; use 0 <= leak < 1", c->leak);
  if (c->rect_context != 0 && c->rect_context != 1)
    return LF_ERROR(LF_EINVAL, "rect_context = %d; use 0 or 1", c->rect_context);
  return LF_OK;
}

void lf_flow_config_format(const lf_flow_config *c, char *buf, size_t n) {
  char hid[128] = "";
  size_t k = 0;
  for (int i = 0; i < c->nhidden && k < sizeof hid - 8; i++)
    k += (size_t)snprintf(hid + k, sizeof hid - k, "%s%d", i ? "," : "", c->hidden[i]);
  if (!c->nhidden) snprintf(hid, sizeof hid, "none");
  snprintf(buf, n,
           "L=%dx%d beta=%.17g layers=%d transform=%s K=%d weighted=%d hidden=%s kernel=%d "
           "leak=%.17g rect=%d",
           c->L[0], c->L[1], c->beta, c->nlayers, c->tr.kind == LF_FLOW_SPLINE ? "spline" : "ncp",
           c->tr.K, c->tr.weighted, hid, c->kernel, c->leak, c->rect_context);
}

int lf_flow_config_parse(const char *text, lf_flow_config *cfg) {
  lf_flow_config c = base_config();
  char tr[32] = "", hid[128] = "";
  int n = sscanf(text,
                 "L=%dx%d beta=%lf layers=%d transform=%31s K=%d weighted=%d hidden=%127s "
                 "kernel=%d leak=%lf rect=%d",
                 &c.L[0], &c.L[1], &c.beta, &c.nlayers, tr, &c.tr.K, &c.tr.weighted, hid,
                 &c.kernel, &c.leak, &c.rect_context);
  if (n != 11)
    return LF_ERROR(LF_EFORMAT, "flow configuration '%.80s' is malformed (field %d); the model "
                                "file was not written by this version of latflow", text, n + 1);
  if (!strcmp(tr, "spline")) c.tr.kind = LF_FLOW_SPLINE;
  else if (!strcmp(tr, "ncp")) c.tr.kind = LF_FLOW_NCP;
  else return LF_ERROR(LF_EFORMAT, "unknown transform '%s' in the model file", tr);
  c.nhidden = 0;
  if (strcmp(hid, "none")) {
    char *p = hid;
    while (*p && c.nhidden < LF_FLOW_MAXHIDDEN) {
      c.hidden[c.nhidden++] = (int)strtol(p, &p, 10);
      if (*p == ',') p++;
      else break;
    }
  }
  LF_CHECK(lf_flow_config_check(&c));
  *cfg = c;
  return LF_OK;
}

/* ---------------------------------------------------------------- model */
void lf_flow_model_free(lf_flow_model *m) {
  if (!m) return;
  if (m->layers)
    for (int l = 0; l < m->cfg.nlayers; l++) {
      lf_free(m->layers[l].alink);
      lf_free(m->layers[l].aplaq);
      lf_free(m->layers[l].frozen);
      lf_free(m->layers[l].rect);
    }
  lf_free(m->layers);
  lf_free(m->up0), lf_free(m->up1), lf_free(m->dn0), lf_free(m->dn1), lf_free(m->pidx), lf_free(m->voff), lf_free(m->prow);
  lf_free(m->params), lf_free(m->grad);
  lf_free(m);
}

static int site(const lf_flow_model *m, int x, int y) {
  x = ((x % m->L0) + m->L0) % m->L0;
  y = ((y % m->L1) + m->L1) % m->L1;
  return x + m->L0 * y;
}

int lf_flow_model_alloc(lf_flow_model **out, const lf_flow_config *cfg, uint64_t seed) {
  *out = NULL;
  LF_CHECK(lf_flow_config_check(cfg));
  lf_flow_model *m = lf_alloc(sizeof *m);
  if (!m) return LF_ENOMEM;
  m->cfg = *cfg;
  m->L0 = cfg->L[0], m->L1 = cfg->L[1];
  m->V = (long)m->L0 * m->L1;
  const long V = m->V;
  const int k = cfg->kernel, r = k / 2;
  m->up0 = lf_alloc((size_t)V * sizeof(int));
  m->up1 = lf_alloc((size_t)V * sizeof(int));
  m->dn0 = lf_alloc((size_t)V * sizeof(int));
  m->dn1 = lf_alloc((size_t)V * sizeof(int));
  m->voff = lf_alloc((size_t)V / 4 * sizeof(int));
  m->layers = lf_alloc((size_t)cfg->nlayers * sizeof *m->layers);
  const int PP = m->L0 + k - 1, PQ = m->L1 + k - 1;
  m->pidx = lf_alloc((size_t)(PP * PQ) * sizeof(int));
  m->prow = lf_alloc((size_t)PQ * sizeof(int));
  if (!m->up0 || !m->up1 || !m->dn0 || !m->dn1 || !m->voff || !m->prow || !m->layers || !m->pidx) goto nomem;
  for (int py = 0; py < PQ; py++) m->prow[py] = ((py - r) % m->L1 + m->L1) % m->L1;
  for (int py = 0; py < PQ; py++)
    for (int px = 0; px < PP; px++) m->pidx[py * PP + px] = site(m, px - r, py - r);
  for (int y = 0; y < m->L1; y++)
    for (int x = 0; x < m->L0; x++) {
      int s = site(m, x, y);
      m->up0[s] = site(m, x + 1, y), m->dn0[s] = site(m, x - 1, y);
      m->up1[s] = site(m, x, y + 1), m->dn1[s] = site(m, x, y - 1);
      if (x % 4 == 0) m->voff[s / 4] = y * PP + x;
    }
  /* context network shape */
  lf_flow_cnn *c = &m->cnn;
  m->ntp = lf_flow_transform_nparams(&cfg->tr);
  c->nconv = cfg->nhidden + 1;
  c->ch[0] = cfg->rect_context ? 6 : 2;
  for (int i = 0; i < cfg->nhidden; i++) c->ch[i + 1] = cfg->hidden[i];
  c->ch[c->nconv] = m->ntp;
  c->k = k, c->V = V, c->leak = cfg->leak, 
  c->L0 = m->L0, c->L1 = m->L1, c->pidx = m->pidx, c->voff = m->voff, c->prow = m->prow;
  size_t off = 0;
  for (int l = 0; l < c->nconv; l++) {
    c->woff[l] = off;
    off += (size_t)(c->ch[l + 1] * c->ch[l] * k * k);
    c->boff[l] = off;
    off += (size_t)c->ch[l + 1];
  }
  c->nparams = off;
  m->nparams = off * (size_t)cfg->nlayers;
  m->params = lf_alloc(m->nparams * sizeof(double));
  m->grad = lf_alloc(m->nparams * sizeof(double));
  if (!m->params || !m->grad) goto nomem;
  /* masks */
  for (int l = 0; l < cfg->nlayers; l++) {
    lf_flow_layer *ly = &m->layers[l];
    ly->mu = l % 2, ly->off = (l / 2) % 4;
    ly->poff = (size_t)l * c->nparams;
    int nu = 1 - ly->mu;
    ly->alink = lf_alloc((size_t)V * sizeof(int));
    ly->aplaq = lf_alloc((size_t)V * sizeof(int));
    ly->frozen = lf_alloc((size_t)V * sizeof(double));
    ly->rect = lf_alloc(2 * (size_t)V * sizeof(double));
    if (!ly->alink || !ly->aplaq || !ly->frozen || !ly->rect) goto nomem;
    for (int s = 0; s < V; s++) {
      int xnu = nu == 0 ? s % m->L0 : s / m->L0;
      int ph = ((xnu - ly->off) % 4 + 4) % 4;
      if (ph == 0) {
        ly->alink[ly->nact] = s;
        ly->aplaq[ly->nact] = ly->mu == 0 ? s : m->dn0[s];
        ly->nact++;
      }
      /* plaquette P(s) holds mu-links at x_nu and x_nu + 1: frozen iff neither is active */
      ly->frozen[s] = (ph == 1 || ph == 2) ? 1.0 : 0.0;
    }
    for (int s = 0; s < V; s++) {
      ly->rect[s] = ly->frozen[s] * ly->frozen[m->up0[s]];
      ly->rect[V + s] = ly->frozen[s] * ly->frozen[m->up1[s]];
    }
    /* PyTorch Conv2d default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) */
    for (int j = 0; j < c->nconv; j++) {
      lf_rng rg;
      lf_rng_init(&rg, seed, LF_RNG_TAG(LF_RNG_PURPOSE_INIT, (uint64_t)l), (uint64_t)j);
      double bound = 1.0 / sqrt((double)(c->ch[j] * k * k));
      double *p = m->params + ly->poff + c->woff[j];
      size_t nw = c->boff[j] - c->woff[j] + (size_t)c->ch[j + 1];
      for (size_t i = 0; i < nw; i++) p[i] = bound * (2.0 * lf_rng_uniform(&rg) - 1.0);
    }
  }
  *out = m;
  return LF_OK;
nomem:
  lf_flow_model_free(m);
  return LF_ERROR(LF_ENOMEM, "out of memory allocating a %dx%d flow model; use a smaller "
                             "lattice or network", cfg->L[0], cfg->L[1]);
}

const lf_flow_config *lf_flow_model_config(const lf_flow_model *m) { return &m->cfg; }
long lf_flow_model_volume(const lf_flow_model *m) { return m->V; }
size_t lf_flow_model_nparams(const lf_flow_model *m) { return m->nparams; }
double *lf_flow_model_params(lf_flow_model *m) { return m->params; }
double *lf_flow_model_grad(lf_flow_model *m) { return m->grad; }
int lf_flow_model_nlayers(const lf_flow_model *m) { return m->cfg.nlayers; }

/* ---------------------------------------------------------------- batch workspace */
struct lf_flow_batch {
  const lf_flow_model *m;
  int batch;
  size_t per, act, scr;
  double *mem;
};

/* Per-sample block: theta[(L+1)][2V] | plaq[L][V] | act[L][act] | scratch | gP[V] |
 * gout[ntp][V] | gfeat[ch0][V] | g[2V] | logJ[L] | grad[nparams] */
typedef struct {
  double *theta, *plaq, *act, *scratch, *gP, *gout, *gfeat, *g, *logJ, *grad;
} sample_ptrs;

static sample_ptrs sample_at(const lf_flow_batch *wb, int b) {
  const lf_flow_model *m = wb->m;
  const size_t V = (size_t)m->V, L = (size_t)m->cfg.nlayers;
  sample_ptrs p;
  double *q = wb->mem + (size_t)b * wb->per;
  p.theta = q, q += (L + 1) * 2 * V;
  p.plaq = q, q += L * V;
  p.act = q, q += L * wb->act;
  p.scratch = q, q += wb->scr;
  p.gP = q, q += V;
  p.gout = q, q += (size_t)m->ntp * V;
  p.gfeat = q, q += (size_t)m->cnn.ch[0] * V;
  p.g = q, q += 2 * V;
  p.logJ = q, q += (L + 7) / 8 * 8;
  p.grad = q;
  return p;
}

static lf_flow_lwork lwork_at(const lf_flow_batch *wb, const sample_ptrs *p, int l) {
  lf_flow_lwork w;
  w.plaq = p->plaq + (size_t)l * (size_t)wb->m->V;
  w.act = p->act + (size_t)l * wb->act;
  w.scratch = p->scratch;
  w.gP = p->gP, w.gout = p->gout, w.gfeat = p->gfeat;
  return w;
}

int lf_flow_batch_alloc(lf_flow_batch **out, const lf_flow_model *m, int batch) {
  *out = NULL;
  if (batch < 1)
    return LF_ERROR(LF_EINVAL, "batch size %d; use at least 1", batch);
  lf_flow_batch *wb = lf_alloc(sizeof *wb);
  if (!wb) return LF_ENOMEM;
  const size_t V = (size_t)m->V, L = (size_t)m->cfg.nlayers;
  wb->m = m, wb->batch = batch;
  wb->act = (lf_flow_cnn_act_size(&m->cnn) + 7) / 8 * 8;
  wb->scr = (lf_flow_cnn_scratch_size(&m->cnn) + 7) / 8 * 8;
  wb->per = (L + 1) * 2 * V + L * V + L * wb->act + wb->scr + V + (size_t)m->ntp * V +
            (size_t)m->cnn.ch[0] * V + 2 * V + (L + 7) / 8 * 8 + m->nparams;
  wb->per = (wb->per + 7) / 8 * 8;
  wb->mem = lf_alloc(wb->per * (size_t)batch * sizeof(double));
  if (!wb->mem) {
    lf_free(wb);
    return LF_ERROR(LF_ENOMEM, "out of memory for a flow batch of %d samples (%.0f MB); use a "
                               "smaller --batch", batch,
                    (double)(wb->per * (size_t)batch) * 8e-6);
  }
  *out = wb;
  return LF_OK;
}

void lf_flow_batch_free(lf_flow_batch *wb) {
  if (!wb) return;
  lf_free(wb->mem);
  lf_free(wb);
}

int lf_flow_batch_size(const lf_flow_batch *wb) { return wb->batch; }

/* ---------------------------------------------------------------- passes */
static int check_batch(const lf_flow_model *m, const lf_flow_batch *wb, int n) {
  if (wb->m != m)
    return LF_ERROR(LF_ESTATE, "flow batch workspace belongs to another model");
  if (n < 0 || n > wb->batch)
    return LF_ERROR(LF_EINVAL, "%d samples do not fit a workspace of batch %d", n, wb->batch);
  return LF_OK;
}

int lf_flow_forward(const lf_flow_model *m, lf_flow_batch *wb, int n, const double *z,
                    double *x, double *logq) {
  LF_CHECK(check_batch(m, wb, n));
  const size_t V2 = 2 * (size_t)m->V;
  const int L = m->cfg.nlayers;
  const double logr = lf_flow_prior_logp(m);
#pragma omp parallel for schedule(static)
  for (int b = 0; b < n; b++) {
    sample_ptrs p = sample_at(wb, b);
    memcpy(p.theta, z + (size_t)b * V2, V2 * sizeof(double));
    double lq = logr;
    for (int l = 0; l < L; l++) {
      lf_flow_lwork w = lwork_at(wb, &p, l);
      lf_flow_coupling_forward(m, l, p.theta + (size_t)l * V2, p.theta + (size_t)(l + 1) * V2,
                               &p.logJ[l], &w);
      lq -= p.logJ[l];
    }
    memcpy(x + (size_t)b * V2, p.theta + (size_t)L * V2, V2 * sizeof(double));
    if (logq) logq[b] = lq;
  }
  return LF_OK;
}

int lf_flow_inverse(const lf_flow_model *m, lf_flow_batch *wb, int n, const double *x,
                    double *z, double *logq) {
  LF_CHECK(check_batch(m, wb, n));
  const size_t V2 = 2 * (size_t)m->V;
  const int L = m->cfg.nlayers;
  const double logr = lf_flow_prior_logp(m);
  int bad = 0;
#pragma omp parallel for schedule(static) reduction(| : bad)
  for (int b = 0; b < n; b++) {
    sample_ptrs p = sample_at(wb, b);
    double *cur = p.theta + (size_t)L * V2;
    memcpy(cur, x + (size_t)b * V2, V2 * sizeof(double));
    double lq = logr;
    for (int l = L - 1; l >= 0; l--) {
      lf_flow_lwork w = lwork_at(wb, &p, l);
      double lj = 0;
      if (lf_flow_coupling_inverse(m, l, p.theta + (size_t)(l + 1) * V2,
                                   p.theta + (size_t)l * V2, &lj, &w))
        bad = 1;
      lq -= lj;
    }
    memcpy(z + (size_t)b * V2, p.theta, V2 * sizeof(double));
    if (logq) logq[b] = lq;
  }
  if (bad)
    return LF_ERROR(LF_ENOCONV, "inverting the flow failed for some configuration; the "
                                "model parameters are probably not finite");
  return LF_OK;
}

int lf_flow_backward_input(lf_flow_model *m, lf_flow_batch *wb, int n, const double *gx,
                           const double *glogq, double *gz) {
  LF_CHECK(check_batch(m, wb, n));
  const size_t V2 = 2 * (size_t)m->V;
  const int L = m->cfg.nlayers;
#pragma omp parallel for schedule(static)
  for (int b = 0; b < n; b++) {
    sample_ptrs p = sample_at(wb, b);
    memcpy(p.g, gx + (size_t)b * V2, V2 * sizeof(double));
    memset(p.grad, 0, m->nparams * sizeof(double));
    double gl = -glogq[b]; /* log q = log r - sum_l logJ_l */
    for (int l = L - 1; l >= 0; l--) {
      lf_flow_lwork w = lwork_at(wb, &p, l);
      lf_flow_coupling_backward(m, l, p.g, gl, p.grad, &w);
    }
    if (gz) memcpy(gz + (size_t)b * V2, p.g, V2 * sizeof(double));
  }
  /* sum per-sample gradients in sample order (thread-count independent) */
  const long np = (long)m->nparams;
  double *G = m->grad;
#pragma omp parallel for schedule(static)
  for (long i0 = 0; i0 < np; i0 += 256) {
    long i1 = i0 + 256 < np ? i0 + 256 : np;
    for (long i = i0; i < i1; i++) G[i] = 0;
    for (int b = 0; b < n; b++) {
      const double *gb = sample_at(wb, b).grad;
      for (long i = i0; i < i1; i++) G[i] += gb[i];
    }
  }
  return LF_OK;
}

int lf_flow_backward(lf_flow_model *m, lf_flow_batch *wb, int n, const double *gx,
                     const double *glogq) {
  return lf_flow_backward_input(m, wb, n, gx, glogq, NULL);
}

/* ---------------------------------------------------------------- single layers (tests) */
static int one_layer(const lf_flow_model *m, int l, const double *in, double *out,
                     double *logdet, int inverse) {
  if (l < 0 || l >= m->cfg.nlayers)
    return LF_ERROR(LF_EINVAL, "layer %d does not exist (model has %d)", l, m->cfg.nlayers);
  lf_flow_batch *wb;
  LF_CHECK(lf_flow_batch_alloc(&wb, m, 1));
  sample_ptrs p = sample_at(wb, 0);
  lf_flow_lwork w = lwork_at(wb, &p, l);
  int rc = LF_OK;
  if (inverse) rc = lf_flow_coupling_inverse(m, l, in, out, logdet, &w);
  else lf_flow_coupling_forward(m, l, in, out, logdet, &w);
  lf_flow_batch_free(wb);
  return rc;
}

int lf_flow_layer_forward(const lf_flow_model *m, int l, const double *in, double *out,
                          double *logdet) {
  return one_layer(m, l, in, out, logdet, 0);
}

int lf_flow_layer_inverse(const lf_flow_model *m, int l, const double *in, double *out,
                          double *logdet) {
  return one_layer(m, l, in, out, logdet, 1);
}
