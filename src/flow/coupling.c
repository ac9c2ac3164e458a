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
 * Thread contract: pure functions of their arguments; w is per caller (per sample).
 */
#include <math.h>
#include <string.h>

#include "internal.h"

void lf_flow_plaquettes(const lf_flow_model *m, const double *theta, double *P) {
  const long V = m->V;
  const double *restrict t0 = theta, *restrict t1 = theta + V;
  for (long s = 0; s < V; s++) P[s] = t0[s] + t1[m->up0[s]] - t0[m->up1[s]] - t1[s];
}

/* context features + CNN; returns pointer to the network output [ntp][V] */
static double *context(const lf_flow_model *m, const lf_flow_layer *ly, const double *P,
                       lf_flow_lwork *w) {
  const long V = m->V;
  double *f = w->act;
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
  double *out;
  lf_flow_cnn_forward(&m->cnn, m->params + ly->poff, w->act, w->scratch, &out);
  return out;
}

void lf_flow_coupling_forward(const lf_flow_model *m, int l, const double *in, double *out,
                              double *logJ, lf_flow_lwork *w) {
  const lf_flow_layer *ly = &m->layers[l];
  const long V = m->V;
  const int ntp = m->ntp;
  lf_flow_plaquettes(m, in, w->plaq);
  const double *net = context(m, ly, w->plaq, w);
  if (out != in) memcpy(out, in, 2 * (size_t)V * sizeof *out);
  double lj = 0;
  for (int j = 0; j < ly->nact; j++) {
    int ps = ly->aplaq[j];
    double p[LF_FLOW_MAXTP], y, ld;
    for (int c = 0; c < ntp; c++) p[c] = net[(size_t)c * (size_t)V + (size_t)ps];
    lf_flow_transform_forward(&m->cfg.tr, w->plaq[ps], p, &y, &ld);
    out[(size_t)ly->mu * (size_t)V + (size_t)ly->alink[j]] += y - w->plaq[ps];
    lj += ld;
  }
  *logJ = lj;
}

int lf_flow_coupling_inverse(const lf_flow_model *m, int l, const double *in, double *out,
                             double *logJ, lf_flow_lwork *w) {
  const lf_flow_layer *ly = &m->layers[l];
  const long V = m->V;
  const int ntp = m->ntp;
  lf_flow_plaquettes(m, in, w->plaq); /* frozen plaquettes are those of the input */
  const double *net = context(m, ly, w->plaq, w);
  if (out != in) memcpy(out, in, 2 * (size_t)V * sizeof *out);
  double lj = 0;
  for (int j = 0; j < ly->nact; j++) {
    int ps = ly->aplaq[j];
    double p[LF_FLOW_MAXTP], x, y, ld;
    for (int c = 0; c < ntp; c++) p[c] = net[(size_t)c * (size_t)V + (size_t)ps];
    LF_CHECK(lf_flow_transform_inverse(&m->cfg.tr, w->plaq[ps], p, &x));
    lf_flow_transform_forward(&m->cfg.tr, x, p, &y, &ld);
    /* theta = theta' - (y - x): equal to the forward input modulo 2 pi */
    out[(size_t)ly->mu * (size_t)V + (size_t)ly->alink[j]] -= y - x;
    lj += ld;
  }
  *logJ = lj;
  return LF_OK;
}

void lf_flow_coupling_backward(const lf_flow_model *m, int l, double *g, double gl, double *gw,
                               lf_flow_lwork *w) {
  const lf_flow_layer *ly = &m->layers[l];
  const long V = m->V;
  const int ntp = m->ntp;
  const double *P = w->plaq;
  const double *net = w->act + lf_flow_cnn_act_size(&m->cnn) - (size_t)ntp * (size_t)V;
  memset(w->gP, 0, (size_t)V * sizeof *w->gP);
  memset(w->gout, 0, (size_t)ntp * (size_t)V * sizeof *w->gout);
  for (int j = 0; j < ly->nact; j++) {
    int ps = ly->aplaq[j];
    double p[LF_FLOW_MAXTP], gp[LF_FLOW_MAXTP], gx;
    for (int c = 0; c < ntp; c++) p[c] = net[(size_t)c * (size_t)V + (size_t)ps];
    double gy = g[(size_t)ly->mu * (size_t)V + (size_t)ly->alink[j]];
    lf_flow_transform_backward(&m->cfg.tr, P[ps], p, gy, gl, &gx, gp);
    w->gP[ps] += gx - gy; /* theta' = theta + h(P) - P */
    for (int c = 0; c < ntp; c++) w->gout[(size_t)c * (size_t)V + (size_t)ps] = gp[c];
  }
  lf_flow_cnn_backward(&m->cnn, m->params + ly->poff, w->act, w->gout, w->gfeat, gw + ly->poff,
                       w->scratch);
  const double *feat = w->act; /* cos P, sin P on frozen sites (saved by the forward) */
  for (long s = 0; s < V; s++)
    if (ly->frozen[s] != 0) w->gP[s] += -w->gfeat[s] * feat[V + s] + w->gfeat[V + s] * feat[s];
  if (m->cfg.rect_context)
    for (int d = 0; d < 2; d++) {
      const int *nbr = d == 0 ? m->up0 : m->up1;
      const double *mk = ly->rect + (size_t)d * (size_t)V;
      const size_t c0 = (size_t)(2 + 2 * d) * (size_t)V, c1 = c0 + (size_t)V;
      for (long s = 0; s < V; s++)
        if (mk[s] != 0) {
          double gR = -w->gfeat[c0 + s] * feat[c1 + s] + w->gfeat[c1 + s] * feat[c0 + s];
          w->gP[s] += gR;
          w->gP[nbr[s]] += gR;
        }
    }
  double *g0 = g, *g1 = g + V;
  for (long s = 0; s < V; s++) {
    double gp = w->gP[s];
    g0[s] += gp;
    g1[m->up0[s]] += gp;
    g0[m->up1[s]] -= gp;
    g1[s] -= gp;
  }
}
