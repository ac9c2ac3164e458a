/*
 * model.c -- SU(N) flow model: configuration and presets, masks of the coupling layers
 * (docs/sunflow.md "masks"), context networks in one lf_nn_params store, per-batch
 * workspaces, and the batched forward / inverse / backward passes.
 *
 * log q(x) = log r(z) - sum_l log|det J_l|, log r = 0 (Haar prior), x = f_L o ... o f_1(z).
 * Thread contract: passes run layer by layer over the batch (coupling.c); results are
 * independent of the thread count and of the batch a sample is computed in.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---------------------------------------------------------------- configuration */
static lf_sunflow_config base_config(void) {
  lf_sunflow_config c;
  memset(&c, 0, sizeof c);
  c.group = LF_SU3;
  c.nd = 2;
  c.L[0] = c.L[1] = 8;
  c.L[2] = c.L[3] = 1;
  c.beta = 3.0;
  c.period = 4;
  c.nlayers = 16;
  c.K = 6;
  c.nhidden = 2;
  c.hidden[0] = c.hidden[1] = 16;
  c.kernel = 3;
  c.leak = 0.01;
  c.lal = 0;
  c.lal_layers = 2;
  c.lal_width = 8;
  return c;
}

int lf_sunflow_preset(const char *name, lf_sunflow_config *cfg) {
  lf_sunflow_config c = base_config();
  if (!strcmp(name, "su2-2d")) {
    c.group = LF_SU2;
    c.beta = 2.2;
  } else if (!strcmp(name, "su3-2d")) {
    c.beta = 3.0;
  } else if (!strcmp(name, "su3-4d-plaq") || !strcmp(name, "su3-4d-lal")) {
    c.nd = 4;
    c.L[0] = c.L[1] = c.L[2] = c.L[3] = 4;
    c.beta = 5.0;
    c.nlayers = 16;
    c.nhidden = 1;
    c.hidden[0] = 16;
    c.lal = !strcmp(name, "su3-4d-lal");
  } else {
    return LF_ERROR(LF_EINVAL, "unknown SU(N) flow preset '%s'; use one of su2-2d, su3-2d, "
                               "su3-4d-plaq, su3-4d-lal", name);
  }
  *cfg = c;
  return LF_OK;
}

int lf_sunflow_config_check(const lf_sunflow_config *c) {
  if (c->group != LF_SU2 && c->group != LF_SU3)
    return LF_ERROR(LF_EINVAL, "SU(N) flows need group su2 or su3 (got %d); use the flow module "
                               "for U(1)", (int)c->group);
  if (c->nd != 2 && c->nd != 4)
    return LF_ERROR(LF_EINVAL, "SU(N) flows run in 2 or 4 dimensions (got %d)", c->nd);
  if (c->period != 2 && c->period != 4)
    return LF_ERROR(LF_EINVAL, "mask period %d; use 2 or 4", c->period);
  for (int d = 0; d < c->nd; d++)
    if (c->L[d] < 2 || c->L[d] > 1024 || c->L[d] % c->period)
      return LF_ERROR(LF_EINVAL, "extent L%d = %d; use a multiple of the mask period %d "
                                 "(at most 1024)", d, c->L[d], c->period);
  if (!(c->beta > 0) || !isfinite(c->beta))
    return LF_ERROR(LF_EINVAL, "beta = %g; use a finite beta > 0", c->beta);
  if (c->nlayers < 1 || c->nlayers > 512)
    return LF_ERROR(LF_EINVAL, "%d coupling layers; use 1..512 (nd*period = %d of them update "
                               "every link once)", c->nlayers, c->nd * c->period);
  if (c->K < 1 || c->K > LF_SUNFLOW_MAXK)
    return LF_ERROR(LF_EINVAL, "K = %d spline bins; use 1..%d", c->K, LF_SUNFLOW_MAXK);
  if (c->nhidden < 0 || c->nhidden > LF_SUNFLOW_MAXHIDDEN)
    return LF_ERROR(LF_EINVAL, "%d hidden conv layers; use 0..%d", c->nhidden,
                    LF_SUNFLOW_MAXHIDDEN);
  for (int i = 0; i < c->nhidden; i++)
    if (c->hidden[i] < 1 || c->hidden[i] > 512)
      return LF_ERROR(LF_EINVAL, "hidden channel count %d; use 1..512", c->hidden[i]);
  int lmin = c->L[0];
  for (int d = 1; d < c->nd; d++) lmin = c->L[d] < lmin ? c->L[d] : lmin;
  if (c->kernel < 1 || c->kernel % 2 == 0 || c->kernel > 15 || c->kernel > lmin + 1)
    return LF_ERROR(LF_EINVAL, "kernel size %d; use an odd size <= 15 and <= the smallest extent "
                               "+ 1", c->kernel);
  if (!(c->leak >= 0 && c->leak < 1))
    return LF_ERROR(LF_EINVAL, "LeakyReLU slope %g; use 0 <= leak < 1", c->leak);
  if (c->lal != 0 && c->lal != 1)
    return LF_ERROR(LF_EINVAL, "lal = %d; use 0 (plaquette active loops) or 1 (learned)", c->lal);
  if (c->lal && (c->lal_layers < 1 || c->lal_layers > LF_SUNFLOW_MAXLAL))
    return LF_ERROR(LF_EINVAL, "%d staple-network layers; use 1..%d", c->lal_layers,
                    LF_SUNFLOW_MAXLAL);
  if (c->lal && (c->lal_width < 1 || c->lal_width > LF_SUNFLOW_MAXLALWIDTH))
    return LF_ERROR(LF_EINVAL, "staple-network width %d; use 1..%d", c->lal_width,
                    LF_SUNFLOW_MAXLALWIDTH);
  return LF_OK;
}

void lf_sunflow_config_format(const lf_sunflow_config *c, char *buf, size_t n) {
  char hid[128] = "none", lat[64] = "";
  size_t k = 0;
  for (int i = 0; i < c->nhidden && k < sizeof hid - 8; i++)
    k += (size_t)snprintf(hid + k, sizeof hid - k, "%s%d", i ? "," : "", c->hidden[i]);
  k = 0;
  for (int d = 0; d < c->nd; d++)
    k += (size_t)snprintf(lat + k, sizeof lat - k, "%s%d", d ? "x" : "", c->L[d]);
  char lal[48] = "";
  if (c->lal) snprintf(lal, sizeof lal, " lal=%dx%d", c->lal_layers, c->lal_width);
  snprintf(buf, n,
           "group=%s L=%s beta=%.17g period=%d layers=%d K=%d hidden=%s kernel=%d leak=%.17g%s",
           lf_group_name(c->group), lat, c->beta, c->period, c->nlayers, c->K, hid, c->kernel,
           c->leak, lal);
}

int lf_sunflow_config_parse(const char *text, lf_sunflow_config *cfg) {
  lf_sunflow_config c = base_config();
  char grp[16] = "", lat[64] = "", hid[128] = "";
  int pos = -1;
  int n = sscanf(text, "group=%15s L=%63s beta=%lf period=%d layers=%d K=%d hidden=%127s "
                       "kernel=%d leak=%lf%n",
                 grp, lat, &c.beta, &c.period, &c.nlayers, &c.K, hid, &c.kernel, &c.leak, &pos);
  if (n == 9 && pos >= 0 && text[pos]) { /* optional " lal=<layers>x<width>" */
    int p2 = -1;
    if (sscanf(text + pos, " lal=%dx%d%n", &c.lal_layers, &c.lal_width, &p2) != 2 || p2 < 0 ||
        text[pos + p2])
      return LF_ERROR(LF_EFORMAT, "SU(N) flow configuration has a malformed tail '%.40s' "
                                  "(expected ' lal=<layers>x<width>'); the model file was not "
                                  "written by this version of latflow", text + pos);
    c.lal = 1;
  }
  if (n != 9)
    return LF_ERROR(LF_EFORMAT, "SU(N) flow configuration '%.80s' is malformed (field %d); the "
                                "model file was not written by this version of latflow",
                    text, n + 1);
  LF_CHECK(lf_group_parse(grp, &c.group));
  int L[4] = {1, 1, 1, 1};
  LF_CHECK(lf_lattice_parse(lat, &c.nd, L));
  for (int d = 0; d < 4; d++) c.L[d] = d < c.nd ? L[d] : 1;
  c.nhidden = 0;
  if (strcmp(hid, "none")) {
    char *p = hid;
    while (*p && c.nhidden < LF_SUNFLOW_MAXHIDDEN) {
      c.hidden[c.nhidden++] = (int)strtol(p, &p, 10);
      if (*p == ',') p++;
      else break;
    }
  }
  LF_CHECK(lf_sunflow_config_check(&c));
  *cfg = c;
  return LF_OK;
}

/* ---------------------------------------------------------------- model */
void lf_sunflow_model_free(lf_sunflow_model *m) {
  if (!m) return;
  if (m->layers)
    for (int l = 0; l < m->cfg.nlayers; l++) {
      lf_free(m->layers[l].act);
      lf_free(m->layers[l].frozen);
      lf_nn_convnet_clear(&m->layers[l].net);
    }
  lf_free(m->layers);
  lf_lattice_clear(&m->lat);
  lf_nn_params_clear(&m->P);
  lf_free(m);
}

void lf_sunflow_layer_mask(const lf_sunflow_model *m, int l, int *mu, int *nu, int *off) {
  const int nd = m->nd, P = m->cfg.period;
  *mu = l % nd;
  *off = (l / nd) % P;
  *nu = (*mu + 1 + (l / (nd * P)) % (nd - 1)) % nd;
}

static int is_active(const lf_sunflow_model *m, const lf_sunflow_layer *ly, long s, int d) {
  if (d != ly->mu) return 0;
  int x[LF_MAXDIM];
  lf_lattice_coords(&m->lat, s, x);
  return x[ly->nu] % m->cfg.period == ly->off;
}

static int make_layer(lf_sunflow_model *m, int l, uint64_t seed) {
  lf_sunflow_layer *ly = &m->layers[l];
  const long V = m->V;
  const int nd = m->nd;
  lf_sunflow_layer_mask(m, l, &ly->mu, &ly->nu, &ly->off);
  ly->act = lf_alloc((size_t)V * sizeof(long));
  ly->frozen = lf_alloc((size_t)m->nplanes * (size_t)V * sizeof(double));
  if (!ly->act || !ly->frozen) return LF_ENOMEM;
  ly->nact = 0;
  for (long s = 0; s < V; s++)
    if (is_active(m, ly, s, ly->mu)) ly->act[ly->nact++] = s;
  for (int pl = 0; pl < m->nplanes; pl++) {
    const int p = m->plane_mu[pl], q = m->plane_nu[pl];
    for (long s = 0; s < V; s++) { /* P_pq(s) = U_p(s) U_q(s+p) U_p(s+q)^dag U_q(s)^dag */
      int a = is_active(m, ly, s, p) || is_active(m, ly, m->lat.up[s * nd + p], q) ||
              is_active(m, ly, m->lat.up[s * nd + q], p) || is_active(m, ly, s, q);
      ly->frozen[(size_t)pl * (size_t)V + (size_t)s] = a ? 0.0 : 1.0;
    }
  }
  lf_nn_convnet_cfg nc;
  memset(&nc, 0, sizeof nc);
  nc.nd = nd;
  for (int d = 0; d < LF_NN_MAXDIM; d++) nc.L[d] = d < nd ? m->cfg.L[d] : 1;
  nc.kernel = m->cfg.kernel;
  nc.nlayers = m->cfg.nhidden + 1;
  nc.channels[0] = m->ch0;
  for (int i = 0; i < m->cfg.nhidden; i++) nc.channels[i + 1] = m->cfg.hidden[i];
  nc.channels[nc.nlayers] = m->ntp;
  nc.act = LF_NN_ACT_LEAKY_RELU;
  nc.act_param = m->cfg.leak;
  nc.out_act = LF_NN_ACT_NONE;
  char prefix[32];
  snprintf(prefix, sizeof prefix, "layer%d.net", l);
  LF_CHECK(lf_nn_convnet_init(&ly->net, &nc, &m->P, prefix));
  /* batch-lane kernels for every batch size: a sample's output does not depend on the
   * batch it is in (as in the U(1) flow); AUTO stays if the table would be too large */
  for (int i = 0; i < nc.nlayers; i++)
    if (lf_nn_conv_set_method(&ly->net.conv[i], LF_NN_CONV_LANES)) lf_error_clear();
  lf_nn_convnet_init_weights(&ly->net, &m->P, 1.0, 0.01, seed);
  /* the spectral map reads the net's output at the active links' sites only: evaluate the
   * last conv (-> ntp channels, most of the multiply-adds) there (docs/nn.md) */
  int *sites = lf_alloc((size_t)ly->nact * sizeof(int));
  if (!sites) return LF_ENOMEM;
  for (long j = 0; j < ly->nact; j++) sites[j] = (int)ly->act[j];
  int rc = lf_nn_convnet_set_output_sites(&ly->net, sites, ly->nact);
  lf_free(sites);
  return rc;
}

int lf_sunflow_model_alloc(lf_sunflow_model **out, const lf_sunflow_config *cfg, uint64_t seed) {
  *out = NULL;
  LF_CHECK(lf_sunflow_config_check(cfg));
  lf_sunflow_model *m = lf_alloc(sizeof *m);
  if (!m) return LF_ERROR(LF_ENOMEM, "out of memory for an SU(N) flow model");
  memset(m, 0, sizeof *m);
  m->cfg = *cfg;
  m->lal_keep = LF_SUNFLOW_LAL_KEEP;
  lf_nn_params_init(&m->P);
  int rc = lf_lattice_init(&m->lat, cfg->nd, cfg->L);
  if (rc) {
    lf_free(m);
    return rc;
  }
  m->N = (int)cfg->group, m->N2 = m->N * m->N, m->nd = cfg->nd;
  m->V = m->lat.vol;
  m->fs = (size_t)m->V * (size_t)m->nd * (size_t)m->N2;
  m->nplanes = 0;
  for (int p = 0; p < m->nd; p++)
    for (int q = p + 1; q < m->nd; q++)
      m->plane_mu[m->nplanes] = p, m->plane_nu[m->nplanes] = q, m->nplanes++;
  m->ch0 = 2 * m->nplanes;
  m->ntp = lf_sunflow_angles_nparams(m->N, cfg->K);
  m->layers = lf_alloc((size_t)cfg->nlayers * sizeof *m->layers);
  if (!m->layers) {
    rc = LF_ENOMEM;
    goto fail;
  }
  memset(m->layers, 0, (size_t)cfg->nlayers * sizeof *m->layers);
  for (int l = 0; l < cfg->nlayers; l++)
    if ((rc = make_layer(m, l, seed))) goto fail;
  /* staple nets after all context nets: the context nets' init keys stay as without lal */
  if (cfg->lal && (rc = lf_sunflow_lal_init(m, seed))) goto fail;
  *out = m;
  return LF_OK;
fail:
  if (rc == LF_ENOMEM)
    LF_ERROR(LF_ENOMEM, "out of memory allocating an SU(N) flow model; use a smaller lattice or "
                        "network");
  lf_sunflow_model_free(m);
  return rc;
}

const lf_sunflow_config *lf_sunflow_model_config(const lf_sunflow_model *m) { return &m->cfg; }
long lf_sunflow_model_volume(const lf_sunflow_model *m) { return m->V; }
size_t lf_sunflow_model_fieldsize(const lf_sunflow_model *m) { return m->fs; }
size_t lf_sunflow_model_nparams(const lf_sunflow_model *m) { return m->P.n; }
int lf_sunflow_model_nlayers(const lf_sunflow_model *m) { return m->cfg.nlayers; }
lf_nn_params *lf_sunflow_model_store(lf_sunflow_model *m) { return &m->P; }

/* ---------------------------------------------------------------- batch workspace */
int lf_sunflow_batch_alloc(lf_sunflow_batch **out, const lf_sunflow_model *m, int batch) {
  *out = NULL;
  if (batch < 1) return LF_ERROR(LF_EINVAL, "batch size %d; use at least 1", batch);
  lf_sunflow_batch *wb = lf_alloc(sizeof *wb);
  if (!wb) return LF_ERROR(LF_ENOMEM, "out of memory for an SU(N) flow batch");
  memset(wb, 0, sizeof *wb);
  const size_t V = (size_t)m->V, L = (size_t)m->cfg.nlayers, B = (size_t)batch;
  const size_t ntp = (size_t)m->ntp, ch0 = (size_t)m->ch0;
  wb->m = m, wb->batch = batch, wb->fwd_n = -1;
  size_t abytes = 0, scratch = 0;
  for (int l = 0; l < m->cfg.nlayers; l++) {
    abytes += lf_nn_convnet_saved_bytes(&m->layers[l].net, batch);
    size_t a = lf_nn_convnet_arena_bytes(&m->layers[l].net, batch);
    scratch = a > scratch ? a : scratch;
  }
  wb->in = lf_alloc(L * B * m->fs * sizeof(lf_cplx));
  wb->g = lf_alloc(B * m->fs * sizeof(lf_cplx));
  wb->feat = lf_alloc(L * B * ch0 * V * sizeof(double));
  wb->out = lf_alloc(L * B * ntp * V * sizeof(double));
  wb->gout = lf_alloc(B * ntp * V * sizeof(double));
  wb->gfeat = lf_alloc(B * ch0 * V * sizeof(double));
  wb->lq = lf_alloc(3 * B * sizeof(double));
  wb->saved = lf_alloc(L * sizeof *wb->saved);
  int lal_fail = 0;
  if (m->cfg.lal) {
    const size_t keep = L * B * m->lal_act * sizeof(lf_cplx);
    wb->lal_slots = keep <= m->lal_keep ? m->cfg.nlayers : 1;
    wb->lal_x = lf_alloc((size_t)wb->lal_slots * B * m->lal_act * sizeof(lf_cplx));
    wb->lal_have = lf_alloc(2 * (size_t)wb->lal_slots * sizeof(int));
    if (wb->lal_have) {
      wb->lal_hn = wb->lal_have + wb->lal_slots;
      for (int i = 0; i < wb->lal_slots; i++) wb->lal_have[i] = -1, wb->lal_hn[i] = 0;
    }
    wb->lal_g = lf_alloc(B * m->lal_gact * sizeof(lf_cplx));
    wb->lal_gw = lf_alloc(B * m->lal_np * sizeof(double));
    lal_fail = !wb->lal_x || !wb->lal_g || !wb->lal_gw || !wb->lal_have;
  }
  if (!wb->in || !wb->g || !wb->feat || !wb->out || !wb->gout || !wb->gfeat || !wb->lq ||
      !wb->saved || lal_fail || lf_arena_init(&wb->arena, abytes + scratch)) {
    const size_t lal = B * ((size_t)wb->lal_slots * m->lal_act + m->lal_gact);
    double mb = ((double)(L * B * m->fs + B * m->fs + lal) * 16.0 +
                 (double)((L + 1) * B * (ch0 + ntp) * V) * 8.0 + (double)(abytes + scratch)) * 1e-6;
    lf_sunflow_batch_free(wb);
    return LF_ERROR(LF_ENOMEM, "out of memory for an SU(N) flow batch of %d samples (%.0f MB); "
                               "use a smaller batch", batch, mb);
  }
  wb->logJ = wb->lq + B, wb->gl = wb->lq + 2 * B;
  *out = wb;
  return LF_OK;
}

void lf_sunflow_batch_free(lf_sunflow_batch *wb) {
  if (!wb) return;
  lf_free(wb->in), lf_free(wb->g), lf_free(wb->feat), lf_free(wb->out);
  lf_free(wb->gout), lf_free(wb->gfeat), lf_free(wb->lq), lf_free(wb->saved);
  lf_free(wb->lal_x), lf_free(wb->lal_g), lf_free(wb->lal_gw), lf_free(wb->lal_have);
  lf_free(wb->tx), lf_free(wb->tlq);
  lf_arena_clear(&wb->arena);
  lf_free(wb);
}

int lf_sunflow_batch_size(const lf_sunflow_batch *wb) { return wb->batch; }

/* ---------------------------------------------------------------- passes */
static int check_batch(const lf_sunflow_model *m, const lf_sunflow_batch *wb, int n) {
  if (wb->m != m) return LF_ERROR(LF_ESTATE, "SU(N) flow workspace belongs to another model");
  if (n < 0 || n > wb->batch)
    return LF_ERROR(LF_EINVAL, "%d samples do not fit a workspace of batch %d", n, wb->batch);
  return LF_OK;
}

int lf_sunflow_forward(const lf_sunflow_model *m, lf_sunflow_batch *wb, int n, const lf_cplx *z,
                       lf_cplx *x, double *logq) {
  LF_CHECK(check_batch(m, wb, n));
  wb->fwd_n = -1;
  lf_arena_reset(&wb->arena);
  if (n == 0) return LF_OK;
  if (x != z) memcpy(x, z, (size_t)n * m->fs * sizeof(lf_cplx));
  for (int b = 0; b < n; b++) wb->lq[b] = 0;
  for (int l = 0; l < m->cfg.nlayers; l++) {
    LF_CHECK(lf_sunflow_coupling_forward(m, wb, l, n, x, wb->logJ, 1));
    for (int b = 0; b < n; b++) wb->lq[b] -= wb->logJ[b];
  }
  if (logq) memcpy(logq, wb->lq, (size_t)n * sizeof(double));
  wb->fwd_n = n;
  return LF_OK;
}

int lf_sunflow_inverse(const lf_sunflow_model *m, lf_sunflow_batch *wb, int n, const lf_cplx *x,
                       lf_cplx *z, double *logq) {
  LF_CHECK(check_batch(m, wb, n));
  wb->fwd_n = -1;
  lf_arena_reset(&wb->arena);
  if (n == 0) return LF_OK;
  if (z != x) memcpy(z, x, (size_t)n * m->fs * sizeof(lf_cplx));
  for (int b = 0; b < n; b++) wb->lq[b] = 0;
  for (int l = m->cfg.nlayers - 1; l >= 0; l--) {
    int rc = lf_sunflow_coupling_inverse(m, wb, l, n, z, wb->logJ);
    if (rc) return lf_error_context(rc, "inverting the SU(N) flow");
    for (int b = 0; b < n; b++) wb->lq[b] -= wb->logJ[b];
  }
  if (logq) memcpy(logq, wb->lq, (size_t)n * sizeof(double));
  return LF_OK;
}

int lf_sunflow_backward(lf_sunflow_model *m, lf_sunflow_batch *wb, int n, const lf_cplx *gx,
                        const double *glogq, lf_cplx *gz) {
  LF_CHECK(check_batch(m, wb, n));
  if (wb->fwd_n != n)
    return LF_ERROR(LF_ESTATE, "SU(N) flow backward of %d samples needs the records of a forward "
                               "pass of the same samples; call lf_sunflow_forward first "
                               "(lf_sunflow_inverse overwrites them)", n);
  lf_nn_params_zero_grad(&m->P);
  if (n == 0) return LF_OK;
  memcpy(wb->g, gx, (size_t)n * m->fs * sizeof(lf_cplx));
  for (int b = 0; b < n; b++) wb->gl[b] = -glogq[b]; /* log q = -sum_l logJ_l */
  for (int l = m->cfg.nlayers - 1; l >= 0; l--)
    LF_CHECK(lf_sunflow_coupling_backward(m, wb, l, n, wb->g, wb->gl));
  if (gz) memcpy(gz, wb->g, (size_t)n * m->fs * sizeof(lf_cplx));
  return LF_OK;
}

int lf_sunflow_logq_grad(lf_sunflow_model *m, lf_sunflow_batch *wb, int n, lf_cplx *gq) {
  LF_CHECK(check_batch(m, wb, n));
  if (wb->fwd_n != n)
    return LF_ERROR(LF_ESTATE, "the gradient of log q of %d samples needs the records of a "
                               "forward pass of the same samples; call lf_sunflow_forward first", n);
  const size_t len = (size_t)n * m->fs;
  memset(gq, 0, len * sizeof(lf_cplx)); /* grad log r = 0 (Haar prior) */
  if (n == 0) return LF_OK;
  int rc = LF_OK;
  /* G_l = J_l^-T (G_{l-1} - grad log|det J_l|), layer by layer from the prior side */
  for (int l = 0; l < m->cfg.nlayers && !rc; l++) rc = lf_sunflow_coupling_logq_vjp(m, wb, l, n, gq);
  lf_nn_params_zero_grad(&m->P);
  return rc;
}

int lf_sunflow_layer_apply(const lf_sunflow_model *m, int l, int inverse, const lf_cplx *in,
                           lf_cplx *out, double *logdet) {
  if (l < 0 || l >= m->cfg.nlayers)
    return LF_ERROR(LF_EINVAL, "layer %d does not exist (model has %d)", l, m->cfg.nlayers);
  lf_sunflow_batch *wb;
  LF_CHECK(lf_sunflow_batch_alloc(&wb, m, 1));
  if (out != in) memcpy(out, in, m->fs * sizeof(lf_cplx));
  double lj = 0;
  int rc = inverse ? lf_sunflow_coupling_inverse(m, wb, l, 1, out, &lj)
                   : lf_sunflow_coupling_forward(m, wb, l, 1, out, &lj, 0);
  if (logdet) *logdet = lj;
  lf_sunflow_batch_free(wb);
  return rc;
}

int lf_sunflow_layer_loops(const lf_sunflow_model *m, int l, const lf_cplx *u, lf_cplx *loops,
                           long *nact) {
  if (l < 0 || l >= m->cfg.nlayers)
    return LF_ERROR(LF_EINVAL, "layer %d does not exist (model has %d)", l, m->cfg.nlayers);
  const lf_sunflow_layer *ly = &m->layers[l];
  lf_cplx *x = NULL;
  if (m->cfg.lal) {
    x = lf_alloc(m->lal_act * sizeof(lf_cplx));
    if (!x) return LF_ERROR(LF_ENOMEM, "out of memory for the staple network of layer %d", l);
    lf_sunflow_lal_forward(m, l, u, x);
  }
  int rc = LF_OK;
  for (long j = 0; j < ly->nact && !rc; j++) {
    const long s = ly->act[j];
    lf_cplx st[9];
    rc = lf_sunflow_active_staple(m, ly, u, x, s, st, NULL);
    if (!rc) lf_mat_mul_dag(m->N, loops + (size_t)j * (size_t)m->N2,
                            lf_sunflow_clink(m, u, s, ly->mu), st);
  }
  if (nact) *nact = ly->nact;
  lf_free(x);
  return rc ? lf_error_context(rc, "active staple of SU(N) flow layer %d", l) : LF_OK;
}
