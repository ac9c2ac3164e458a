/*
 * act.c -- activations (LeakyReLU, tanh, softplus, sigmoid, GELU), softmax over the
 * channel axis, and the elementwise/reduction ops flows need, each with its backward.
 *
 * Math: docs/nn.md, "Activations". GELU is the exact x*Phi(x) (Hendrycks & Gimpel,
 * 1606.08415), softplus and sigmoid are evaluated without overflow for any x.
 * LeakyReLU'(0) = slope, as in torch. Thread contract: reentrant; activations of
 * ACT_PAR_MIN or more entries run on the OpenMP threads, the rest is serial.
 */
#include "internal.h"

#include <math.h>
#include <string.h>

static const char *act_names[] = {"none", "leaky_relu", "tanh", "softplus", "sigmoid", "gelu"};
#define NACT ((int)(sizeof act_names / sizeof act_names[0]))

const char *lf_nn_act_name(lf_nn_act f) {
  return (int)f >= 0 && (int)f < NACT ? act_names[f] : "unknown";
}

int lf_nn_act_parse(const char *name, lf_nn_act *f) {
  for (int i = 0; i < NACT; i++)
    if (!strcmp(name, act_names[i])) {
      *f = (lf_nn_act)i;
      return LF_OK;
    }
  return LF_ERROR(LF_EINVAL,
                  "unknown activation '%s'; use none, leaky_relu, tanh, softplus, sigmoid or gelu",
                  name);
}

static inline double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + exp(-x));
  double e = exp(x);
  return e / (1.0 + e);
}

static inline double softplus(double x) {
  return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

/* Elementwise loops of at least this many entries use the OpenMP threads (results are
 * per element, so the thread count cannot change them). */
#define ACT_PAR_MIN 16384
#define ACT_PAR _Pragma("omp parallel for schedule(static) if (n >= ACT_PAR_MIN)")

#define INV_SQRT2 0.70710678118654752440
#define INV_SQRT2PI 0.39894228040143267794

void lf_nn_act_forward(lf_nn_act f, double a, size_t n, const double *x, double *y) {
  switch (f) {
  case LF_NN_ACT_NONE:
    if (y != x) memmove(y, x, n * sizeof(double));
    break;
  case LF_NN_ACT_LEAKY_RELU:
ACT_PAR
    for (size_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : a * x[i];
    break;
  case LF_NN_ACT_TANH:
ACT_PAR
    for (size_t i = 0; i < n; i++) y[i] = tanh(x[i]);
    break;
  case LF_NN_ACT_SOFTPLUS:
ACT_PAR
    for (size_t i = 0; i < n; i++) y[i] = softplus(x[i]);
    break;
  case LF_NN_ACT_SIGMOID:
ACT_PAR
    for (size_t i = 0; i < n; i++) y[i] = sigmoid(x[i]);
    break;
  case LF_NN_ACT_GELU:
ACT_PAR
    for (size_t i = 0; i < n; i++) y[i] = 0.5 * x[i] * (1.0 + erf(x[i] * INV_SQRT2));
    break;
  }
}

void lf_nn_act_backward(lf_nn_act f, double a, size_t n, const double *x, const double *dy,
                        double *dx) {
  switch (f) {
  case LF_NN_ACT_NONE:
    if (dx != dy) memmove(dx, dy, n * sizeof(double));
    break;
  case LF_NN_ACT_LEAKY_RELU:
ACT_PAR
    for (size_t i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : a * dy[i];
    break;
  case LF_NN_ACT_TANH:
ACT_PAR
    for (size_t i = 0; i < n; i++) {
      double t = tanh(x[i]);
      dx[i] = dy[i] * (1.0 - t * t);
    }
    break;
  case LF_NN_ACT_SOFTPLUS:
ACT_PAR
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * sigmoid(x[i]);
    break;
  case LF_NN_ACT_SIGMOID:
ACT_PAR
    for (size_t i = 0; i < n; i++) {
      double s = sigmoid(x[i]);
      dx[i] = dy[i] * s * (1.0 - s);
    }
    break;
  case LF_NN_ACT_GELU:
ACT_PAR
    for (size_t i = 0; i < n; i++) {
      double phi = INV_SQRT2PI * exp(-0.5 * x[i] * x[i]);
      double Phi = 0.5 * (1.0 + erf(x[i] * INV_SQRT2));
      dx[i] = dy[i] * (Phi + x[i] * phi);
    }
    break;
  }
}

/* ---------------------------------------------------------------- elementwise */
void lf_nn_add(size_t n, const double *a, const double *b, double *y) {
  for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

void lf_nn_mul(size_t n, const double *a, const double *b, double *y) {
  for (size_t i = 0; i < n; i++) y[i] = a[i] * b[i];
}

void lf_nn_add_backward(size_t n, const double *dy, double *da) {
  for (size_t i = 0; i < n; i++) da[i] += dy[i];
}

void lf_nn_mul_backward(size_t n, const double *a, const double *b, const double *dy, double *da,
                        double *db) {
  if (da)
    for (size_t i = 0; i < n; i++) da[i] += dy[i] * b[i];
  if (db)
    for (size_t i = 0; i < n; i++) db[i] += dy[i] * a[i];
}

void lf_nn_sum_sites(int batch, int ch, long sites, const double *x, double *y) {
  for (long bc = 0; bc < (long)batch * ch; bc++) {
    const double *r = x + bc * sites;
    double s = 0.0;
    for (long i = 0; i < sites; i++) s += r[i];
    y[bc] = s;
  }
}

void lf_nn_sum_sites_backward(int batch, int ch, long sites, const double *dy, double *dx) {
  for (long bc = 0; bc < (long)batch * ch; bc++)
    for (long i = 0; i < sites; i++) dx[bc * sites + i] = dy[bc];
}

void lf_nn_softmax(int batch, int ch, long sites, const double *x, double *y) {
  for (int b = 0; b < batch; b++) {
    const double *xb = x + (long)b * ch * sites;
    double *yb = y + (long)b * ch * sites;
    for (long s = 0; s < sites; s++) {
      double m = xb[s];
      for (int c = 1; c < ch; c++) m = fmax(m, xb[(long)c * sites + s]);
      double z = 0.0;
      for (int c = 0; c < ch; c++) {
        double e = exp(xb[(long)c * sites + s] - m);
        yb[(long)c * sites + s] = e;
        z += e;
      }
      double iz = 1.0 / z;
      for (int c = 0; c < ch; c++) yb[(long)c * sites + s] *= iz;
    }
  }
}

void lf_nn_softmax_backward(int batch, int ch, long sites, const double *y, const double *dy,
                            double *dx) {
  for (int b = 0; b < batch; b++) {
    long o = (long)b * ch * sites;
    for (long s = 0; s < sites; s++) {
      double dot = 0.0;
      for (int c = 0; c < ch; c++) dot += y[o + (long)c * sites + s] * dy[o + (long)c * sites + s];
      for (int c = 0; c < ch; c++) {
        long i = o + (long)c * sites + s;
        dx[i] = y[i] * (dy[i] - dot);
      }
    }
  }
}
