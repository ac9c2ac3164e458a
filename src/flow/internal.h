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
  const int *nb;      /* nb[tap*V + s]: neighbour of s for kernel tap (borrowed)   */
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
