/*
 * src/sunflow/internal.h -- private declarations of the sunflow module (see sunflow.h).
 */
#ifndef LATFLOW_SUNFLOW_INTERNAL_H
#define LATFLOW_SUNFLOW_INTERNAL_H

#include "latflow/flow.h"
#include "latflow/lattice.h"
#include "latflow/nn.h"
#include "latflow/sunflow.h"

/* One coupling layer: mask (docs/sunflow.md "masks") and its context network. */
typedef struct {
  int mu, nu, off;
  long nact;
  long *act;      /* sites x of the active links U_mu(x)                          */
  double *frozen; /* [nplanes][V]: 1 where the plaquette holds no active link     */
  lf_nn_convnet net; /* context network, parameters "layer<l>.net.<i>.weight|bias" */
} lf_sunflow_layer;

struct lf_sunflow_model {
  lf_sunflow_config cfg;
  lf_lattice lat;
  int N, N2, nd;
  long V;
  size_t fs;      /* complex entries of one configuration: V*nd*N2 */
  int nplanes;
  int ch0;        /* context channels: 2 per plane (Re, Im tr/N)   */
  int ntp;        /* transform parameters per active link          */
  int plane_mu[6], plane_nu[6];
  lf_sunflow_layer *layers;
  lf_nn_params P;
};

/* Batch workspace, layer-major (each context net is one batched nn call). Per layer l:
 * the layer's input fields, features, net outputs and the nn record. */
struct lf_sunflow_batch {
  const lf_sunflow_model *m;
  int batch;
  int fwd_n;      /* samples of the forward whose records are kept, -1: none */
  lf_cplx *in;    /* [L][batch][fs]                                          */
  double *feat;   /* [L][batch][ch0][V]                                      */
  double *out;    /* [L][batch][ntp][V]                                      */
  lf_cplx *g;     /* [batch][fs] running dL/d(field)                         */
  double *gout;   /* [batch][ntp][V]                                         */
  double *gfeat;  /* [batch][ch0][V]                                         */
  double *lq, *logJ, *gl; /* [batch]                                         */
  lf_nn_saved **saved;    /* [L]                                              */
  lf_arena arena;
};

static inline lf_cplx *lf_sunflow_link(const lf_sunflow_model *m, lf_cplx *u, long s, int mu) {
  return u + ((size_t)s * (size_t)m->nd + (size_t)mu) * (size_t)m->N2;
}
static inline const lf_cplx *lf_sunflow_clink(const lf_sunflow_model *m, const lf_cplx *u, long s,
                                              int mu) {
  return u + ((size_t)s * (size_t)m->nd + (size_t)mu) * (size_t)m->N2;
}

/* field.c: P_{mu nu}(x) = U_mu(x) U_nu(x+mu) U_mu(x+nu)^dag U_nu(x)^dag (any mu != nu). */
void lf_sunflow_plaq(const lf_sunflow_model *m, const lf_cplx *u, long s, int mu, int nu,
                     lf_cplx *p);
/* Staple S = U_nu(x) U_mu(x+nu) U_nu(x+mu)^dag, so P_{mu nu}(x) = U_mu(x) S^dag. */
void lf_sunflow_staple(const lf_sunflow_model *m, const lf_cplx *u, long s, int mu, int nu,
                       lf_cplx *st);
/* Accumulate into g (field layout) the link gradients of a loss with dL/dP = gp for
 * P = P_{mu nu}(x). */
void lf_sunflow_plaq_backward(const lf_sunflow_model *m, const lf_cplx *u, long s, int mu, int nu,
                              const lf_cplx *gp, lf_cplx *g);
/* Same for the staple S of (x, mu, nu) with dL/dS = gs. */
void lf_sunflow_staple_backward(const lf_sunflow_model *m, const lf_cplx *u, long s, int mu,
                                int nu, const lf_cplx *gs, lf_cplx *g);

/* coupling.c: layer l on samples 0..n-1 (x [n][fs] in place; logJ[b]); save keeps the
 * records for the backward. */
int lf_sunflow_coupling_forward(const lf_sunflow_model *m, lf_sunflow_batch *wb, int l, int n,
                                lf_cplx *x, double *logJ, int save);
int lf_sunflow_coupling_inverse(const lf_sunflow_model *m, lf_sunflow_batch *wb, int l, int n,
                                lf_cplx *x, double *logJ);
/* g [n][fs]: on entry dL/d(layer output), on exit dL/d(layer input); gl[b] = dL/dlogJ_b;
 * parameter gradients ACCUMULATED into m->P.grad. */
int lf_sunflow_coupling_backward(lf_sunflow_model *m, lf_sunflow_batch *wb, int l, int n,
                                 lf_cplx *g, const double *gl);
/* VJP of the INVERSE of layer l at its output (records of a saving forward of layer l):
 * g [n][fs]: on entry dL/d(layer input) as a function of the output, on exit dL/d(layer
 * output). The context net's parameter gradients are accumulated into m->P.grad
 * (meaningless here; callers zero them). */
int lf_sunflow_coupling_inverse_vjp(lf_sunflow_model *m, lf_sunflow_batch *wb, int l, int n,
                                    lf_cplx *g);

#endif
