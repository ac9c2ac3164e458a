/*
 * transform.c -- dispatch of the circle transforms (ncp.c, spline.c) by lf_flow_tspec.
 * Thread contract: pure functions.
 */
#include "internal.h"

static const lf_flow_transform_type *type_of(const lf_flow_tspec *t) {
  return t->kind == LF_FLOW_SPLINE ? &lf_flow_spline_type : &lf_flow_ncp_type;
}

int lf_flow_transform_nparams(const lf_flow_tspec *t) { return type_of(t)->nparams(t); }

void lf_flow_transform_forward(const lf_flow_tspec *t, double x, const double *p, double *y,
                               double *logd) {
  type_of(t)->forward(t, x, p, y, logd);
}

int lf_flow_transform_inverse(const lf_flow_tspec *t, double y, const double *p, double *x) {
  return type_of(t)->inverse(t, y, p, x);
}

void lf_flow_transform_backward(const lf_flow_tspec *t, double x, const double *p, double gy,
                                double gl, double *gx, double *gp) {
  type_of(t)->backward(t, x, p, gy, gl, gx, gp);
}
