/*
 * model.c -- flow model: configuration and presets, geometry and masks of the coupling
 * layers, parameter storage and initialisation, per-batch workspaces, and the batched
 * forward / inverse / backward passes over the stack of coupling layers.
 *
 * Math: docs/flows.md (Kanwar et al. 2003.06413; Albergo et al. 2101.08176).
 * log q(x) = log r(z) - sum_l log|det J_l|,  x = f_L o ... o f_1 (z).
 * The context networks are lf_nn_convnet stacks in one lf_nn_params store (src/nn).
 * Thread contract: the passes run layer by layer over the whole batch (coupling.c):
 * OpenMP loops over samples around one batched nn call per layer; the nn calls are
 * bitwise independent of the thread count and accumulate weight gradients in a fixed
 * order, so all results are independent of the thread count.
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
    /* splines learn the von Mises-like plaquette marginals faster than NCP mixtures; at
     * an equal CPU budget (~480 s on one core) 24 layers x 4300 steps gave ESS/N 0.40
     * against 0.39 for 16 x 6500 and 0.41 for 32 x 3700 (docs/flows.md) */
    c.tr.kind = LF_FLOW_SPLINE;
    c.tr.K = 8;
    c.nlayers = 24;
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
  if (!strcmp(name, "u1-best")) d->steps = 4300, d->lr = 2e-3, d->lr_min = 1e-4;
  return LF_OK;
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
      lf_nn_convnet_clear(&m->layers[l].net);
    }
  lf_free(m->layers);
  lf_free(m->up0), lf_free(m->up1), lf_free(m->dn0), lf_free(m->dn1);
  lf_nn_params_clear(&m->P);
  lf_free(m);
}

static int site(const lf_flow_model *m, int x, int y) {
  x = ((x % m->L0) + m->L0) % m->L0;
  y = ((y % m->L1) + m->L1) % m->L1;
  return x + m->L0 * y;
}

/* Context network of layer l: periodic convs ch0 -> hidden... -> ntp, LeakyReLU between,
 * PyTorch's default init. The batch-lane kernels are forced (not only for batch >= 8) so
 * that a sample's output does not depend on the batch size (sampling with any --batch
 * gives the same chain); if the lattice is too large for their neighbour table the
 * default (AUTO) stays. */
static int make_net(lf_flow_model *m, int l, uint64_t seed) {
  const lf_flow_config *cfg = &m->cfg;
  lf_nn_convnet_cfg nc;
  memset(&nc, 0, sizeof nc);
  nc.nd = 2;
  nc.L[0] = m->L0, nc.L[1] = m->L1, nc.L[2] = nc.L[3] = 1;
  nc.kernel = cfg->kernel;
  nc.nlayers = cfg->nhidden + 1;
  nc.channels[0] = m->ch0;
  for (int i = 0; i < cfg->nhidden; i++) nc.channels[i + 1] = cfg->hidden[i];
  nc.channels[nc.nlayers] = m->ntp;
  nc.act = LF_NN_ACT_LEAKY_RELU;
  nc.act_param = cfg->leak;
  nc.out_act = LF_NN_ACT_NONE;
  char prefix[32];
  snprintf(prefix, sizeof prefix, "layer%d.net", l);
  lf_nn_convnet *net = &m->layers[l].net;
  LF_CHECK(lf_nn_convnet_init(net, &nc, &m->P, prefix));
  for (int i = 0; i < nc.nlayers; i++)
    if (lf_nn_conv_set_method(&net->conv[i], LF_NN_CONV_LANES)) lf_error_clear();
  /* only the active plaquettes' transform parameters are read: the last conv (8 -> 25
   * channels for splines, most of the multiply-adds) is evaluated on those sites only */
  LF_CHECK(lf_nn_convnet_set_output_sites(net, m->layers[l].aplaq, m->layers[l].nact));
  /* PyTorch's Conv2d default init, U(+-1/sqrt(fan_in)) for weight and bias, drawn in the
   * order weight, bias from the Philox stream (seed, TAG(INIT, layer), conv): the same
   * values the flow's own CNN had before it moved to nn, so a seed gives the same initial
   * model as before (and the checks of tests/flow evaluate the same functions). */
  for (int i = 0; i < nc.nlayers; i++) {
    lf_rng rg;
    lf_rng_init(&rg, seed, LF_RNG_TAG(LF_RNG_PURPOSE_INIT, (uint64_t)l), (uint64_t)i);
    double bound = 1.0 / sqrt((double)(nc.channels[i] * nc.kernel * nc.kernel));
    const int t[2] = {net->widx[i], net->bidx[i]};
    for (int q = 0; q < 2; q++) {
      double *p = lf_nn_params_ptr(&m->P, t[q]);
      for (size_t j = 0; j < m->P.info[t[q]].size; j++)
        p[j] = bound * (2.0 * lf_rng_uniform(&rg) - 1.0);
    }
  }
  return LF_OK;
}

int lf_flow_model_alloc(lf_flow_model **out, const lf_flow_config *cfg, uint64_t seed) {
  *out = NULL;
  LF_CHECK(lf_flow_config_check(cfg));
  lf_flow_model *m = lf_alloc(sizeof *m);
  if (!m) return LF_ENOMEM;
  m->cfg = *cfg;
  m->L0 = cfg->L[0], m->L1 = cfg->L[1];
  m->V = (long)m->L0 * m->L1;
  lf_nn_params_init(&m->P);
  const long V = m->V;
  m->up0 = lf_alloc((size_t)V * sizeof(int));
  m->up1 = lf_alloc((size_t)V * sizeof(int));
  m->dn0 = lf_alloc((size_t)V * sizeof(int));
  m->dn1 = lf_alloc((size_t)V * sizeof(int));
  m->layers = lf_alloc((size_t)cfg->nlayers * sizeof *m->layers);
  int rc = LF_OK;
  if (!m->up0 || !m->up1 || !m->dn0 || !m->dn1 || !m->layers) goto nomem;
  for (int y = 0; y < m->L1; y++)
    for (int x = 0; x < m->L0; x++) {
      int s = site(m, x, y);
      m->up0[s] = site(m, x + 1, y), m->dn0[s] = site(m, x - 1, y);
      m->up1[s] = site(m, x, y + 1), m->dn1[s] = site(m, x, y - 1);
    }
  m->ntp = lf_flow_transform_nparams(&cfg->tr);
  m->ch0 = cfg->rect_context ? 6 : 2;
  /* masks */
  for (int l = 0; l < cfg->nlayers; l++) {
    lf_flow_layer *ly = &m->layers[l];
    ly->mu = l % 2, ly->off = (l / 2) % 4;
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
    rc = make_net(m, l, seed);
    if (rc) goto fail;
  }
  *out = m;
  return LF_OK;
nomem:
  rc = LF_ERROR(LF_ENOMEM, "out of memory allocating a %dx%d flow model; use a smaller "
                           "lattice or network", cfg->L[0], cfg->L[1]);
fail:
  lf_flow_model_free(m);
  return rc;
}

const lf_flow_config *lf_flow_model_config(const lf_flow_model *m) { return &m->cfg; }
long lf_flow_model_volume(const lf_flow_model *m) { return m->V; }
size_t lf_flow_model_nparams(const lf_flow_model *m) { return m->P.n; }
double *lf_flow_model_params(lf_flow_model *m) { return m->P.data; }
double *lf_flow_model_grad(lf_flow_model *m) { return m->P.grad; }
lf_nn_params *lf_flow_model_store(lf_flow_model *m) { return &m->P; }
int lf_flow_model_nlayers(const lf_flow_model *m) { return m->cfg.nlayers; }

int lf_flow_model_copy_params(lf_flow_model *dst, const lf_flow_model *src) {
  int rc = lf_nn_params_copy(&dst->P, &src->P);
  return rc ? lf_error_context(rc, "copying flow parameters (only the lattice and beta may change)")
            : LF_OK;
}

int lf_flow_model_keep_active(lf_flow_model *m, const unsigned char *keep) {
  for (int l = 0; l < m->cfg.nlayers; l++) {
    lf_flow_layer *ly = &m->layers[l];
    int k = 0;
    for (int j = 0; j < ly->nact; j++)
      if (keep[ly->alink[j]]) ly->alink[k] = ly->alink[j], ly->aplaq[k] = ly->aplaq[j], k++;
    ly->nact = k;
    /* no active link left: the (unused) output stays on the full list */
    if (k > 0) LF_CHECK(lf_nn_convnet_set_output_sites(&ly->net, ly->aplaq, k));
  }
  return LF_OK;
}

/* ---------------------------------------------------------------- batch workspace */
int lf_flow_batch_alloc(lf_flow_batch **out, const lf_flow_model *m, int batch) {
  *out = NULL;
  if (batch < 1)
    return LF_ERROR(LF_EINVAL, "batch size %d; use at least 1", batch);
  lf_flow_batch *wb = lf_alloc(sizeof *wb);
  if (!wb) return LF_ENOMEM;
  const size_t V = (size_t)m->V, L = (size_t)m->cfg.nlayers, B = (size_t)batch;
  const size_t ntp = (size_t)m->ntp, ch0 = (size_t)m->ch0;
  wb->m = m, wb->batch = batch, wb->fwd_n = -1;
  /* every array below is a multiple of 8 doubles (64 bytes) when B is; round B up */
  const size_t Bp = (B + 7) / 8 * 8;
  size_t sizes[10] = {L * Bp * V, L * Bp * ch0 * V, L * Bp * ntp * V, Bp * 2 * V, Bp * V,
                      Bp * ntp * V, Bp * ch0 * V, Bp, Bp, Bp};
  size_t total = 0;
  for (int i = 0; i < 10; i++) total += sizes[i];
  size_t abytes = 0, scratch = 0;
  for (int l = 0; l < m->cfg.nlayers; l++) {
    abytes += lf_nn_convnet_saved_bytes(&m->layers[l].net, batch);
    size_t a = lf_nn_convnet_arena_bytes(&m->layers[l].net, batch);
    scratch = a > scratch ? a : scratch;
  }
  double *mem = lf_alloc(total * sizeof(double));
  wb->saved = lf_alloc(L * sizeof *wb->saved);
  if (!mem || !wb->saved || lf_arena_init(&wb->arena, abytes + scratch)) {
    lf_free(mem);
    lf_flow_batch_free(wb);
    return LF_ERROR(LF_ENOMEM, "out of memory for a flow batch of %d samples (%.0f MB); use a "
                               "smaller --batch", batch,
                    ((double)total * 8.0 + (double)(abytes + scratch)) * 1e-6);
  }
  double **ptr[10] = {&wb->plaq, &wb->feat, &wb->out, &wb->g, &wb->gP,
                      &wb->gout, &wb->gfeat, &wb->lq, &wb->logJ, &wb->gl};
  double *q = mem;
  for (int i = 0; i < 10; i++) *ptr[i] = q, q += sizes[i];
  *out = wb;
  return LF_OK;
}

void lf_flow_batch_free(lf_flow_batch *wb) {
  if (!wb) return;
  lf_free(wb->plaq); /* start of the one block */
  lf_free(wb->saved);
  lf_arena_clear(&wb->arena);
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
  wb->fwd_n = -1;
  lf_arena_reset(&wb->arena);
  if (n == 0) return wb->fwd_n = 0, LF_OK; /* a rank without samples: backward of 0 is valid */
  if (x != z) memcpy(x, z, (size_t)n * V2 * sizeof(double));
  for (int b = 0; b < n; b++) wb->lq[b] = logr;
  for (int l = 0; l < L; l++) {
    LF_CHECK(lf_flow_coupling_forward(m, wb, l, n, x, wb->logJ, 1));
    for (int b = 0; b < n; b++) wb->lq[b] -= wb->logJ[b];
  }
  if (logq) memcpy(logq, wb->lq, (size_t)n * sizeof(double));
  wb->fwd_n = n;
  return LF_OK;
}

int lf_flow_forward_path(lf_flow_model *m, lf_flow_batch *wb, int n, const double *z,
                         double *x, double *logq, double *dlogq) {
  LF_CHECK(check_batch(m, wb, n));
  const size_t V2 = 2 * (size_t)m->V;
  const int L = m->cfg.nlayers;
  const double logr = lf_flow_prior_logp(m);
  wb->fwd_n = -1;
  lf_arena_reset(&wb->arena);
  if (n == 0) return wb->fwd_n = 0, LF_OK;
  if (x != z) memcpy(x, z, (size_t)n * V2 * sizeof(double));
  /* the prior is uniform: d log r / dz = 0 */
  memset(dlogq, 0, (size_t)n * V2 * sizeof(double));
  for (int b = 0; b < n; b++) wb->lq[b] = logr;
  for (int l = 0; l < L; l++) {
    LF_CHECK(lf_flow_coupling_forward(m, wb, l, n, x, wb->logJ, 1));
    for (int b = 0; b < n; b++) wb->lq[b] -= wb->logJ[b];
    LF_CHECK(lf_flow_coupling_path(m, wb, l, n, dlogq));
  }
  if (logq) memcpy(logq, wb->lq, (size_t)n * sizeof(double));
  wb->fwd_n = n;
  return LF_OK;
}

int lf_flow_inverse(const lf_flow_model *m, lf_flow_batch *wb, int n, const double *x,
                    double *z, double *logq) {
  LF_CHECK(check_batch(m, wb, n));
  const size_t V2 = 2 * (size_t)m->V;
  const int L = m->cfg.nlayers;
  const double logr = lf_flow_prior_logp(m);
  wb->fwd_n = -1; /* the layer slots are overwritten */
  lf_arena_reset(&wb->arena);
  if (n == 0) return LF_OK;
  if (z != x) memcpy(z, x, (size_t)n * V2 * sizeof(double));
  for (int b = 0; b < n; b++) wb->lq[b] = logr;
  for (int l = L - 1; l >= 0; l--) {
    int rc = lf_flow_coupling_inverse(m, wb, l, n, z, wb->logJ);
    if (rc) return lf_error_context(rc, "inverting the flow");
    for (int b = 0; b < n; b++) wb->lq[b] -= wb->logJ[b];
  }
  if (logq) memcpy(logq, wb->lq, (size_t)n * sizeof(double));
  return LF_OK;
}

int lf_flow_backward_input(lf_flow_model *m, lf_flow_batch *wb, int n, const double *gx,
                           const double *glogq, double *gz) {
  LF_CHECK(check_batch(m, wb, n));
  if (wb->fwd_n != n)
    return LF_ERROR(LF_ESTATE, "flow backward of %d samples needs the records of a forward "
                               "pass of the same samples; call lf_flow_forward first "
                               "(lf_flow_inverse overwrites them)", n);
  const size_t V2 = 2 * (size_t)m->V;
  const int L = m->cfg.nlayers;
  lf_nn_params_zero_grad(&m->P);
  if (n == 0) return LF_OK;
  memcpy(wb->g, gx, (size_t)n * V2 * sizeof(double));
  for (int b = 0; b < n; b++) wb->gl[b] = -glogq[b]; /* log q = log r - sum_l logJ_l */
  for (int l = L - 1; l >= 0; l--) LF_CHECK(lf_flow_coupling_backward(m, wb, l, n, wb->g, wb->gl, 1));
  if (gz) memcpy(gz, wb->g, (size_t)n * V2 * sizeof(double));
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
  if (out != in) memcpy(out, in, 2 * (size_t)m->V * sizeof(double));
  int rc = inverse ? lf_flow_coupling_inverse(m, wb, l, 1, out, logdet)
                   : lf_flow_coupling_forward(m, wb, l, 1, out, logdet, 0);
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
