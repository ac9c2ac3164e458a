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
  int lal_widx[LF_SUNFLOW_MAXLAL]; /* staple-net weights "layer<l>.lal.<i>.weight"     */
  int lal_dirs[3];   /* transport directions != mu, the layer's nu first (lal.c)        */
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
  /* learned active loops (lal.c): channel counts lal_ch[0..N_l], lal_ch[0] = 2(nd-1),
   * lal_ch[N_l] = 1; per-sample scratch sizes in complex entries and doubles */
  int lal_ch[LF_SUNFLOW_MAXLAL + 1];
  size_t lal_act, lal_gact, lal_np; /* activations, gradient buffers, max weights/layer */
  size_t lal_outoff; /* offset of S_act in the activations: (sum of channels - 1) V N2    */
  size_t lal_zs;     /* scratch for the mixed channels Z of layers with c_out < c_in (lal.c) */
  size_t lal_keep;   /* batch workspaces keep every layer's staple-net activations if they
                      * take at most this many bytes (LF_SUNFLOW_LAL_KEEP; tests set 0)  */
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
  lf_cplx *lal_x;  /* [lal_slots][batch][m->lal_act]: staple-net activations (cfg.lal) */
  lf_cplx *lal_g;  /* [batch][m->lal_gact]: their gradients                   */
  double *lal_gw;  /* [batch][m->lal_np]: per-sample staple-net weight grads  */
  int lal_slots;   /* nlayers (every layer's activations kept) or 1 (LF_SUNFLOW_LAL_KEEP) */
  int *lal_have, *lal_hn; /* [lal_slots]: slot holds layer lal_have's activations of
                         * wb->in[layer] for samples 0..lal_hn-1 (-1: none; coupling.c) */
  lf_nn_saved **saved;    /* [L]                                              */
  lf_cplx *tx;     /* training step (train.c, allocated on first use): x, dL/dx, grad log q,
                    * [3][batch][fs]                                                   */
  double *tlq;     /* [4][batch]: log q, dL/dlog q, S (chunk scratch of train.c)            */
  lf_arena arena;
};

/* Keep the staple-net activations of every layer in a batch workspace (so the backward
 * passes of a training step need not recompute them) when they take at most this many
 * bytes; otherwise one layer's. */
#define LF_SUNFLOW_LAL_KEEP ((size_t)256 << 20)

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
/* The same for dL/dP = c 1 (features, Wilson action): no matrix products for P itself. */
void lf_sunflow_plaq_backward_scalar(const lf_sunflow_model *m, const lf_cplx *u, long s, int mu,
                                     int nu, lf_cplx c, lf_cplx *g);
/* Same for the staple S of (x, mu, nu) with dL/dS = gs. */
void lf_sunflow_staple_backward(const lf_sunflow_model *m, const lf_cplx *u, long s, int mu,
                                int nu, const lf_cplx *gs, lf_cplx *g);

/* lal.c: learned active loops. Register and initialise the staple nets of every layer. */
int lf_sunflow_lal_init(lf_sunflow_model *m, uint64_t seed);
/* Staple network of layer l on one configuration u: activations into x (m->lal_act
 * entries); the active staple S_act(s) is x + lal_out_offset(m) + s*N2. */
void lf_sunflow_lal_forward(const lf_sunflow_model *m, int l, const lf_cplx *u, lf_cplx *x);
static inline size_t lf_sunflow_lal_out(const lf_sunflow_model *m) { return m->lal_outoff; }
/* Reverse mode: gs[s*N2] = dL/dS_act(s) (gx + lf_sunflow_lal_out(m), all other entries
 * of gx scratch); link gradients ACCUMULATED into g (field layout), weight gradients
 * OVERWRITTEN into gw (layer l's weights in store order; gw = NULL: not computed). x from
 * lal_forward. */
void lf_sunflow_lal_backward(const lf_sunflow_model *m, int l, const lf_cplx *u,
                             const lf_cplx *x, lf_cplx *gx, lf_cplx *g, double *gw);
/* The staple that enters the active loop of the active link at s: the plaquette staple,
 * or P_SU(N)(S_act(s)) (ps, may be NULL, receives the polar state). LF_ERANGE/LF_ENAN from
 * lf_spec_polar. x = activations of the sample (unused without lal). */
int lf_sunflow_active_staple(const lf_sunflow_model *m, const lf_sunflow_layer *ly,
                             const lf_cplx *u, const lf_cplx *x, long s, lf_cplx *st,
                             lf_spec_polar_state *ps);

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
/* One step of the path-gradient recursion (lf_sunflow_logq_grad) at layer l, after a
 * saving forward: g [n][fs] = G_{l-1} (dL/d(layer input)) on entry, on exit
 * G_l = J_l^-T (G_{l-1} - grad log|det J_l|), J_l^-T the VJP of the inverse layer at its
 * output. Model gradients untouched. */
int lf_sunflow_coupling_logq_vjp(lf_sunflow_model *m, lf_sunflow_batch *wb, int l, int n,
                                 lf_cplx *g);

#endif
