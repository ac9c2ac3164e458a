/*
 * src/flow/internal.h -- private declarations of the flow module (see flow.h).
 */
#ifndef LATFLOW_FLOW_INTERNAL_H
#define LATFLOW_FLOW_INTERNAL_H

#include "latflow/flow.h"
#include "latflow/nn.h"

/* One circle transform implementation (table of function pointers, STYLE #11). */
typedef struct {
  const char *name;
  int (*nparams)(const lf_flow_tspec *t);
  void (*forward)(const lf_flow_tspec *t, double x, const double *p, double *y, double *logd);
  int (*inverse)(const lf_flow_tspec *t, double y, const double *p, double *x);
  void (*backward)(const lf_flow_tspec *t, double x, const double *p, double gy, double gl,
                   double *gx, double *gp);
} lf_flow_transform_type;

extern const lf_flow_transform_type lf_flow_ncp_type;
extern const lf_flow_transform_type lf_flow_spline_type;

/* Reduce an angle to (-pi, pi]. */
static inline double lf_flow_wrap(double x) {
  double r = x - LF_TWOPI * __builtin_floor((x + LF_PI) / LF_TWOPI);
  /* r in [-pi, pi) */
  return r == -LF_PI ? LF_PI : r;
}

/* ---------------------------------------------------------------- model internals */
typedef struct {
  int mu, off;
  int nact;
  int *alink;     /* site of each active link (direction mu)          */
  int *aplaq;     /* site of the plaquette it enters with sign +       */
  double *frozen; /* [V]: 1 on frozen plaquettes, 0 elsewhere          */
  double *rect;   /* [2][V]: 1 where P(s)+P(s+x) (row 0) / P(s)+P(s+y) (row 1)
                     is a frozen 2x1 rectangle (rect_context only)     */
  lf_nn_convnet net; /* context network, parameters "layer<l>.net.<i>.weight|bias" */
} lf_flow_layer;

struct lf_flow_model {
  lf_flow_config cfg;
  int L0, L1;
  long V;
  int *up0, *up1, *dn0, *dn1; /* neighbours of s                      */
  int ch0;                    /* context features (2, or 6 with rects) */
  int ntp;                    /* parameters of one plaquette transform */
  lf_flow_layer *layers;
  lf_nn_params P;             /* all layers' network parameters        */
};

/* Batch workspace. Layer-major: the coupling layers run one after the other on the
 * whole batch, so every context network is one batched lf_nn_convnet call. Per layer l
 * it keeps what the backward pass needs: plaquettes, features, network outputs and the
 * nn record (in the arena). Sample b of a [batch][...] array starts at b * (row size). */
struct lf_flow_batch {
  const lf_flow_model *m;
  int batch;
  int fwd_n;          /* samples of the forward whose records are kept, -1: none */
  double *plaq;       /* [L][batch][V]                                           */
  double *feat;       /* [L][batch][ch0][V]                                      */
  double *out;        /* [L][batch][ntp][V] network outputs                      */
  double *g;          /* [batch][2V] running dL/dtheta                           */
  double *gP;         /* [batch][V]                                              */
  double *gout;       /* [batch][ntp][V]                                         */
  double *gfeat;      /* [batch][ch0][V]                                         */
  double *lq, *logJ, *gl; /* [batch] each                                        */
  lf_nn_saved **saved; /* [L] records of the last forward                        */
  lf_arena arena;
};

void lf_flow_plaquettes(const lf_flow_model *m, const double *theta, double *P);
/* Layer l on samples 0..n-1 (n <= wb->batch): th [n][2V] updated in place, logJ[b] =
 * sum of log h' of sample b. save = 1 keeps the layer's records for
 * lf_flow_coupling_backward. */
int lf_flow_coupling_forward(const lf_flow_model *m, lf_flow_batch *wb, int l, int n, double *th,
                             double *logJ, int save);
int lf_flow_coupling_inverse(const lf_flow_model *m, lf_flow_batch *wb, int l, int n, double *th,
                             double *logJ);
/* The same, also storing each active link's log h' in ld[b * nact + j] (ld may be NULL;
 * nact = m->layers[l].nact): the domain-decomposed evaluation (dd.c) sums them exactly. */
int lf_flow_coupling_forward_ld(const lf_flow_model *m, lf_flow_batch *wb, int l, int n, double *th,
                                double *logJ, double *ld, int save);
int lf_flow_coupling_inverse_ld(const lf_flow_model *m, lf_flow_batch *wb, int l, int n, double *th,
                                double *logJ, double *ld);
/* Keep only the active links at sites s with keep[s] != 0 in every layer's active list
 * (order preserved); the context nets then compute their output on the kept active
 * plaquettes only. The domain-decomposed evaluation restricts a model on a rank's halo
 * box to the rank's own links this way; serial models never call it. LF_ENOMEM. */
int lf_flow_model_keep_active(lf_flow_model *m, const unsigned char *keep);

/* g [n][2V]: on entry dL/d(out), on exit dL/d(in); gl[b] = dL/dlogJ_b; with want_params
 * parameter gradients ACCUMULATED into m->P.grad. Needs the records of a saving forward of
 * layer l with the same n. */
int lf_flow_coupling_backward(lf_flow_model *m, lf_flow_batch *wb, int l, int n, double *g,
                              const double *gl, int want_params);

/* Path-gradient step through layer l (after its saving forward with the same n):
 * a [n][2V] from d log q_l/dx_l to d log q_{l+1}/dx_{l+1}; uses wb->g, wb->gl. */
int lf_flow_coupling_path(lf_flow_model *m, lf_flow_batch *wb, int l, int n, double *a);

#endif
