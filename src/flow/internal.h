/*
 * src/flow/internal.h -- private declarations of the flow module (see flow.h).
 */
#ifndef LATFLOW_FLOW_INTERNAL_H
#define LATFLOW_FLOW_INTERNAL_H

#include "latflow/flow.h"

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

/* ---------------------------------------------------------------- context CNN (convnet.c) */
typedef struct {
  int nconv;          /* number of conv layers                      */
  int ch[LF_FLOW_MAXHIDDEN + 2]; /* channels: ch[0] in ... ch[nconv] out */
  int k;              /* kernel                                      */
  long V;
  double leak;
  size_t woff[LF_FLOW_MAXHIDDEN + 1], boff[LF_FLOW_MAXHIDDEN + 1]; /* offsets in params */
  size_t nparams;
  int L0, L1;
  const int *pidx;    /* padded plane (L0+k-1) x (L1+k-1) -> site (borrowed)      */
  const int *voff;    /* [V/4]: offset in the padded plane of sites 4q..4q+3      */
  const int *prow;    /* [L1+k-1]: lattice row of each padded row                 */
} lf_flow_cnn;

/* Per-sample activation storage: act[0] = input, act[l] = pre-activation of conv l-1 */
size_t lf_flow_cnn_act_size(const lf_flow_cnn *c); /* doubles for all activations  */
size_t lf_flow_cnn_scratch_size(const lf_flow_cnn *c);
/* in = act (first ch[0]*V entries set by caller); out = pointer to last conv output. */
void lf_flow_cnn_forward(const lf_flow_cnn *c, const double *w, double *act, double *scratch,
                         double **out);
/* gout: dL/d(output) [ch[nconv]][V]; gin: dL/d(input) [ch[0]][V] (may be NULL);
 * gw: parameter gradient, ADDED. */
void lf_flow_cnn_backward(const lf_flow_cnn *c, const double *w, const double *act,
                          const double *gout, double *gin, double *gw, double *scratch);

#endif

/* ---------------------------------------------------------------- model internals */
typedef struct {
  int mu, off;
  int nact;
  int *alink;     /* site of each active link (direction mu)          */
  int *aplaq;     /* site of the plaquette it enters with sign +       */
  double *frozen; /* [V]: 1 on frozen plaquettes, 0 elsewhere          */
  double *rect;   /* [2][V]: 1 where P(s)+P(s+x) (row 0) / P(s)+P(s+y) (row 1)
                     is a frozen 2x1 rectangle (rect_context only)     */
  size_t poff;    /* offset of this layer's CNN parameters             */
} lf_flow_layer;

struct lf_flow_model {
  lf_flow_config cfg;
  int L0, L1;
  long V;
  int *up0, *up1, *dn0, *dn1; /* neighbours of s                      */
  int *pidx;                  /* padded-plane site table               */
  int *voff;                  /* padded-plane offsets of site quads    */
  int *prow;                  /* lattice row of each padded row        */
  lf_flow_cnn cnn;            /* same shape for every layer            */
  int ntp;                    /* parameters of one plaquette transform */
  lf_flow_layer *layers;
  size_t nparams;
  double *params, *grad;
};

/* Per-sample work of one coupling layer (coupling.c). */
typedef struct {
  double *plaq;    /* [V] plaquettes of the layer input (saved)            */
  double *act;     /* CNN activations (saved)                              */
  double *scratch; /* CNN scratch                                          */
  double *gP;      /* [V]                                                  */
  double *gout;    /* [ntp][V]                                             */
  double *gfeat;   /* [ch0][V]                                             */
} lf_flow_lwork;

void lf_flow_plaquettes(const lf_flow_model *m, const double *theta, double *P);
/* One sample through layer l; returns LF_OK; logJ = sum of log f'. */
void lf_flow_coupling_forward(const lf_flow_model *m, int l, const double *in, double *out,
                              double *logJ, lf_flow_lwork *w);
int lf_flow_coupling_inverse(const lf_flow_model *m, int l, const double *in, double *out,
                             double *logJ, lf_flow_lwork *w);
/* g (2V): on entry dL/d(out), on exit dL/d(in); gl = dL/dlogJ; gw += parameter grads.
 * Uses the activations saved by the last forward call with the same w. */
void lf_flow_coupling_backward(const lf_flow_model *m, int l, double *g, double gl, double *gw,
                               lf_flow_lwork *w);
