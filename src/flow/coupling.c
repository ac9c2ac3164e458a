/*
 * coupling.c -- gauge-equivariant plaquette coupling layer for 2D U(1), one sample.
 *
 * Math (docs/flows.md; Kanwar et al. 2003.06413 eqs. 5-7, Albergo et al. 2101.08176
 * sec. 5): layer (mu, off), nu = 1 - mu. Active links: U_mu(s) with x_nu(s) = off mod 4.
 * Each enters exactly one plaquette with sign + (P(s) for mu = 0, P(s - x^) for mu = 1):
 * the active plaquette, transformed as P' = h(P | context). The other plaquette
 * containing the link is passive. Plaquettes with x_nu = off+1, off+2 (mod 4) contain no
 * active link: frozen; the context network sees cos/sin of (frozen mask * P) and, with
 * rect_context, of the 2x1 rectangles P(s)+P(s+x), P(s)+P(s+y) made of two frozen plaquettes.
 * The link update theta' = theta + (h(P) - P) realises P -> h(P); since the context is
 * gauge invariant and unchanged, the map is gauge equivariant and triangular with
 *     log|det J| = sum_{active P} log h'(P).
 * The context network of every layer is an lf_nn_convnet (src/nn) evaluated on the whole
 * batch at once; the plaquettes, features and transforms around it are per sample.
 * Thread contract: per-sample loops are OpenMP static loops writing disjoint data; the
 * nn calls are bitwise independent of the thread count (nn.h), and the flow's nets use
 * the batch-lane kernels for every batch size (model.c), so each sample's result does not
 * depend on the batch it is in either.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

void lf_flow_plaquettes(const lf_flow_model *m, const double *theta, double *P) {
  const long V = m->V;
  const double *restrict t0 = theta, *restrict t1 = theta + V;
  for (long s = 0; s < V; s++) P[s] = t0[s] + t1[m->up0[s]] - t0[m->up1[s]] - t1[s];
}

/* cos/sin(mask * P) features of one sample, f [ch0][V] */
static void features(const lf_flow_model *m, const lf_flow_layer *ly, const double *P,
                     double *f) {
  const long V = m->V;
  for (long s = 0; s < V; s++) {
    if (ly->frozen[s] != 0) { /* cos/sin(frozen mask * P): 1, 0 off the frozen set */
      f[s] = cos(P[s]);
      f[V + s] = sin(P[s]);
    } else {
      f[s] = 1.0;
      f[V + s] = 0.0;
    }
  }
  if (m->cfg.rect_context) /* cos/sin of (mask * 2x1 rectangle) in x and y */
    for (int d = 0; d < 2; d++) {
      const int *nbr = d == 0 ? m->up0 : m->up1;
      const double *mk = ly->rect + (size_t)d * (size_t)V;
      double *fc = f + (size_t)(2 + 2 * d) * (size_t)V, *fs = fc + V;
      for (long s = 0; s < V; s++) {
        if (mk[s] != 0) {
          double R = P[s] + P[nbr[s]];
          fc[s] = cos(R), fs[s] = sin(R);
        } else {
          fc[s] = 1.0, fs[s] = 0.0;
        }
      }
    }
}

/* plaquettes + features of samples 0..n-1 into layer l's slots, then the network */
static int context(const lf_flow_model *m, lf_flow_batch *wb, int l, int n, const double *th,
                   int save) {
  const lf_flow_layer *ly = &m->layers[l];
  const size_t V = (size_t)m->V, B = (size_t)wb->batch, ch0 = (size_t)m->ch0;
  double *plaq = wb->plaq + (size_t)l * B * V, *feat = wb->feat + (size_t)l * B * ch0 * V;
#pragma omp parallel for schedule(static)
  for (int b = 0; b < n; b++) {
    lf_flow_plaquettes(m, th + (size_t)b * 2 * V, plaq + (size_t)b * V);
    features(m, ly, plaq + (size_t)b * V, feat + (size_t)b * ch0 * V);
  }
  double *out = wb->out + (size_t)l * B * (size_t)m->ntp * V;
  int rc = lf_nn_convnet_forward(&ly->net, &m->P, n, feat, out, &wb->arena,
                                 save ? &wb->saved[l] : NULL);
  if (rc) return lf_error_context(rc, "context network of flow layer %d", l);
  return LF_OK;
}

int lf_flow_coupling_forward(const lf_flow_model *m, lf_flow_batch *wb, int l, int n, double *th,
                             double *logJ, int save) {
  return lf_flow_coupling_forward_ld(m, wb, l, n, th, logJ, NULL, save);
}

int lf_flow_coupling_forward_ld(const lf_flow_model *m, lf_flow_batch *wb, int l, int n, double *th,
                                double *logJ, double *ld, int save) {
  LF_CHECK(context(m, wb, l, n, th, save));
  const lf_flow_layer *ly = &m->layers[l];
  const size_t V = (size_t)m->V, B = (size_t)wb->batch;
  const int ntp = m->ntp;
  const double *plaq = wb->plaq + (size_t)l * B * V;
  const double *out = wb->out + (size_t)l * B * (size_t)ntp * V;
#pragma omp parallel for schedule(static)
  for (int b = 0; b < n; b++) {
    const double *P = plaq + (size_t)b * V, *net = out + (size_t)b * (size_t)ntp * V;
    double *t = th + (size_t)b * 2 * V + (size_t)ly->mu * V;
    double lj = 0;
    for (int j = 0; j < ly->nact; j++) {
      int ps = ly->aplaq[j];
      double p[LF_FLOW_MAXTP], y, d;
      for (int c = 0; c < ntp; c++) p[c] = net[(size_t)c * V + (size_t)ps];
      lf_flow_transform_forward(&m->cfg.tr, P[ps], p, &y, &d);
      t[ly->alink[j]] += y - P[ps];
      lj += d;
      if (ld) ld[(size_t)b * (size_t)ly->nact + (size_t)j] = d;
    }
    logJ[b] = lj;
  }
  return LF_OK;
}

int lf_flow_coupling_inverse(const lf_flow_model *m, lf_flow_batch *wb, int l, int n, double *th,
                             double *logJ) {
  return lf_flow_coupling_inverse_ld(m, wb, l, n, th, logJ, NULL);
}

int lf_flow_coupling_inverse_ld(const lf_flow_model *m, lf_flow_batch *wb, int l, int n, double *th,
                                double *logJ, double *ld) {
  /* frozen plaquettes (hence the context) are those of the input */
  LF_CHECK(context(m, wb, l, n, th, 0));
  const lf_flow_layer *ly = &m->layers[l];
  const size_t V = (size_t)m->V, B = (size_t)wb->batch;
  const int ntp = m->ntp;
  const double *plaq = wb->plaq + (size_t)l * B * V;
  const double *out = wb->out + (size_t)l * B * (size_t)ntp * V;
  int bad = 0;
#pragma omp parallel for schedule(static) reduction(| : bad)
  for (int b = 0; b < n; b++) {
    const double *P = plaq + (size_t)b * V, *net = out + (size_t)b * (size_t)ntp * V;
    double *t = th + (size_t)b * 2 * V + (size_t)ly->mu * V;
    double lj = 0;
    for (int j = 0; j < ly->nact; j++) {
      int ps = ly->aplaq[j];
      double p[LF_FLOW_MAXTP], x, y, d;
      for (int c = 0; c < ntp; c++) p[c] = net[(size_t)c * V + (size_t)ps];
      if (lf_flow_transform_inverse(&m->cfg.tr, P[ps], p, &x)) {
        bad = 1;
        break;
      }
      lf_flow_transform_forward(&m->cfg.tr, x, p, &y, &d);
      /* theta = theta' - (y - x): equal to the forward input modulo 2 pi */
      t[ly->alink[j]] -= y - x;
      lj += d;
      if (ld) ld[(size_t)b * (size_t)ly->nact + (size_t)j] = d;
    }
    logJ[b] = lj;
  }
  if (bad)
    return LF_ERROR(LF_ENOCONV, "inverting the plaquette transform of flow layer %d failed; "
                                "the model parameters are probably not finite", l);
  return LF_OK;
}

int lf_flow_coupling_backward(lf_flow_model *m, lf_flow_batch *wb, int l, int n, double *g,
                              const double *gl, int want_params) {
  const lf_flow_layer *ly = &m->layers[l];
  const size_t V = (size_t)m->V, B = (size_t)wb->batch, ch0 = (size_t)m->ch0;
  const int ntp = m->ntp;
  const double *plaq = wb->plaq + (size_t)l * B * V;
  const double *out = wb->out + (size_t)l * B * (size_t)ntp * V;
  const double *feat = wb->feat + (size_t)l * B * ch0 * V;
  /* transforms: dL/dP of the active plaquettes and dL/d(network output) */
#pragma omp parallel for schedule(static)
  for (int b = 0; b < n; b++) {
    const double *P = plaq + (size_t)b * V, *net = out + (size_t)b * (size_t)ntp * V;
    const double *gt = g + (size_t)b * 2 * V + (size_t)ly->mu * V;
    double *gP = wb->gP + (size_t)b * V, *gout = wb->gout + (size_t)b * (size_t)ntp * V;
    memset(gP, 0, V * sizeof *gP);
    memset(gout, 0, (size_t)ntp * V * sizeof *gout);
    for (int j = 0; j < ly->nact; j++) {
      int ps = ly->aplaq[j];
      double p[LF_FLOW_MAXTP], gp[LF_FLOW_MAXTP], gx;
      for (int c = 0; c < ntp; c++) p[c] = net[(size_t)c * V + (size_t)ps];
      double gy = gt[ly->alink[j]];
      lf_flow_transform_backward(&m->cfg.tr, P[ps], p, gy, gl[b], &gx, gp);
      gP[ps] += gx - gy; /* theta' = theta + h(P) - P */
      for (int c = 0; c < ntp; c++) gout[(size_t)c * V + (size_t)ps] = gp[c];
    }
  }
  int rc = want_params
               ? lf_nn_convnet_backward(&ly->net, &m->P, wb->saved[l], wb->gout, wb->gfeat, &wb->arena)
               : lf_nn_convnet_backward_input(&ly->net, &m->P, wb->saved[l], wb->gout, wb->gfeat,
                                              &wb->arena);
  if (rc) return lf_error_context(rc, "context network of flow layer %d (backward)", l);
  /* features -> plaquettes -> links */
#pragma omp parallel for schedule(static)
  for (int b = 0; b < n; b++) {
    const double *f = feat + (size_t)b * ch0 * V, *gf = wb->gfeat + (size_t)b * ch0 * V;
    double *gP = wb->gP + (size_t)b * V;
    for (size_t s = 0; s < V; s++)
      if (ly->frozen[s] != 0) gP[s] += -gf[s] * f[V + s] + gf[V + s] * f[s];
    if (m->cfg.rect_context)
      for (int d = 0; d < 2; d++) {
        const int *nbr = d == 0 ? m->up0 : m->up1;
        const double *mk = ly->rect + (size_t)d * V;
        const size_t c0 = (size_t)(2 + 2 * d) * V, c1 = c0 + V;
        for (size_t s = 0; s < V; s++)
          if (mk[s] != 0) {
            double gR = -gf[c0 + s] * f[c1 + s] + gf[c1 + s] * f[c0 + s];
            gP[s] += gR;
            gP[nbr[s]] += gR;
          }
      }
    double *g0 = g + (size_t)b * 2 * V, *g1 = g0 + V;
    for (size_t s = 0; s < V; s++) {
      double gp = gP[s];
      g0[s] += gp;
      g1[m->up0[s]] += gp;
      g0[m->up1[s]] -= gp;
      g1[s] -= gp;
    }
  }
  return LF_OK;
}

/* Path-gradient recursion (Vaitl et al. 2207.08219, docs/flows.md "path gradients"):
 * a holds a_l = d log q_l / dx_l at the input of layer l; on exit a_{l+1} = d log q_{l+1} /
 * dx_{l+1} at its output, from a_{l+1} J = a_l - d logJ/dx_l. J is triangular: on active
 * links diagonal with h'(P), so u_act = (a_act - d logJ/dx_act) / h'(P); the rest follows
 * from one backward of the layer with cotangent u on the active links and 1 on logJ:
 * backward(u, 1) = u J + d logJ/dx, whose non-active entries give a_{l+1} = a_l - them.
 * Needs the records of a saving forward of layer l with the same n; no parameter
 * gradients are computed. */
int lf_flow_coupling_path(lf_flow_model *m, lf_flow_batch *wb, int l, int n, double *a) {
  const lf_flow_layer *ly = &m->layers[l];
  const size_t V = (size_t)m->V, B = (size_t)wb->batch;
  const int ntp = m->ntp;
  const double *plaq = wb->plaq + (size_t)l * B * V;
  const double *out = wb->out + (size_t)l * B * (size_t)ntp * V;
  double *g = wb->g, *gl = wb->gl;
#pragma omp parallel for schedule(static)
  for (int b = 0; b < n; b++) {
    const double *P = plaq + (size_t)b * V, *net = out + (size_t)b * (size_t)ntp * V;
    double *ab = a + (size_t)b * 2 * V + (size_t)ly->mu * V;
    double *gb = g + (size_t)b * 2 * V;
    memset(gb, 0, 2 * V * sizeof *gb);
    gl[b] = 1.0;
    for (int j = 0; j < ly->nact; j++) {
      int ps = ly->aplaq[j], s = ly->alink[j];
      double p[LF_FLOW_MAXTP], gp[LF_FLOW_MAXTP], y, ld, dld;
      for (int c = 0; c < ntp; c++) p[c] = net[(size_t)c * V + (size_t)ps];
      lf_flow_transform_forward(&m->cfg.tr, P[ps], p, &y, &ld);
      lf_flow_transform_backward(&m->cfg.tr, P[ps], p, 0.0, 1.0, &dld, gp);
      double u = (ab[s] - dld) * exp(-ld);
      ab[s] = u; /* a_{l+1} on the active link */
      gb[(size_t)ly->mu * V + (size_t)s] = u;
    }
  }
  LF_CHECK(lf_flow_coupling_backward(m, wb, l, n, g, gl, 0));
#pragma omp parallel for schedule(static)
  for (int b = 0; b < n; b++) {
    double *ab = a + (size_t)b * 2 * V;
    const double *gb = g + (size_t)b * 2 * V;
    for (size_t i = 0; i < 2 * V; i++) ab[i] -= gb[i];
    /* active links keep u (their backward entry was u h' + dlogJ/dx = a_l there) */
    double *am = ab + (size_t)ly->mu * V;
    const double *gm = gb + (size_t)ly->mu * V;
    for (int j = 0; j < ly->nact; j++) am[ly->alink[j]] += gm[ly->alink[j]];
  }
  return LF_OK;
}
