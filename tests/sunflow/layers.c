/*
 * tests/sunflow/layers.c -- SU(N) spectral coupling layers and whole flows
 * (src/sunflow, docs/sunflow.md), for SU(2) and SU(3) on 4x4 (2D; this file) and 2^4 (4D;
 * layers4d.c compiles this file with SUNFLOW_LAYERS_4D, labelled slow because its numerical
 * Jacobians take minutes under the sanitizers):
 *   - Wilson action and its gradient: value vs lf_action_eval (action module), gradient vs
 *     central differences along U -> exp(eps i T_a) U;
 *   - invertibility of every layer and of the whole flow (1e-10), log-det of the inverse
 *     = forward;
 *   - log|det J| of single layers and whole flows against the numerical Jacobian in real
 *     coordinates on the group manifold: U_i -> exp(eps_a i T_a) U_i in, algebra
 *     coordinates of U'_j(eps) U'_j^dag out (central differences), log|det| by LU;
 *   - gauge equivariance f(g.z) = g.f(z) and gauge invariance of log q (forward and inverse);
 *   - backward: parameter gradients and input gradients dL/dz of
 *     L = sum Re tr(C^dag x) + a log q vs central differences;
 *   - grad_x log q(x) at fixed parameters (the path-gradient input) vs central differences
 *     of log q(x) from the inverse pass;
 *   - a sample's output does not depend on the batch it is computed in.
 * Parameters are drawn N(0, 0.3^2) so that every transform is far from the identity.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "latflow/action.h"
#include "latflow/field.h"
#include "latflow/sunflow.h"
#include "lf_test.h"

#define FD_H 1e-5
#define TOL_INV 1e-10
#define TOL_LOGDET 1e-6
#define TOL_GRAD 1e-6

static lf_rng rng;

#ifdef SUNFLOW_LAYERS_LAL
#define LAL_SCALE 0.4
/* staple-net weights [cout][cin]: delta + N(0, LAL_SCALE^2) */
static void lal_weights(lf_nn_params *P) {
  for (int i = 0; i < P->count; i++) {
    const lf_nn_tensor_info *t = &P->info[i];
    if (!strstr(t->name, ".lal.")) continue;
    double *w = P->data + t->offset;
    for (long co = 0; co < t->shape[0]; co++)
      for (long ci = 0; ci < t->shape[1]; ci++)
        w[co * t->shape[1] + ci] = (co == ci) + LAL_SCALE * lf_rng_normal(&rng);
  }
}
#endif

/* a random parameter; with learned active loops every other one from a staple net */
static size_t pick_param(const lf_nn_params *P, int t) {
#ifdef SUNFLOW_LAYERS_LAL
  if (t % 2) {
    int i;
    do i = (int)(lf_rng_uniform(&rng) * P->count);
    while (!strstr(P->info[i].name, ".lal."));
    return P->info[i].offset + (size_t)(lf_rng_uniform(&rng) * (double)P->info[i].size);
  }
#else
  (void)t;
#endif
  return (size_t)(lf_rng_uniform(&rng) * (double)P->n);
}

static lf_sunflow_model *make(lf_group g, int nd, int L, int period, int nlayers, double pscale) {
  lf_sunflow_config c;
  lf_sunflow_preset("su3-2d", &c);
  c.group = g, c.nd = nd, c.period = period, c.nlayers = nlayers, c.K = 4;
  for (int d = 0; d < 4; d++) c.L[d] = d < nd ? L : 1;
  c.nhidden = 1, c.hidden[0] = 4, c.beta = 2.7;
#ifdef SUNFLOW_LAYERS_LAL
  c.lal = 1, c.lal_layers = 2, c.lal_width = 3;
#endif
  lf_sunflow_model *m;
  if (lf_sunflow_model_alloc(&m, &c, 11)) {
    printf("model: %s\n", lf_last_error());
    return NULL;
  }
  lf_nn_params *P = lf_sunflow_model_store(m);
  for (size_t i = 0; i < P->n; i++) P->data[i] = pscale * lf_rng_normal(&rng);
#ifdef SUNFLOW_LAYERS_LAL
  lal_weights(P); /* identity + N(0, LAL_SCALE^2): active staples far from SU(N) */
#endif
  return m;
}

/* U <- exp(h i T_a) U */
static void kick(lf_group g, lf_cplx *u, int a, double h) {
  double c[8] = {0};
  lf_cplx x[9], e[9], t[9];
  c[a] = h;
  lf_alg_from_coords(g, x, c);
  lf_alg_exp(g, e, x);
  lf_mat_mul((int)g, t, e, u);
  lf_mat_copy((int)g, u, t);
}

/* log|det| by LU with partial pivoting (a is destroyed) */
static double logdet_lu(int n, double *a) {
  double s = 0;
  for (int k = 0; k < n; k++) {
    int p = k;
    for (int i = k + 1; i < n; i++)
      if (fabs(a[i * n + k]) > fabs(a[p * n + k])) p = i;
    if (p != k)
      for (int j = 0; j < n; j++) {
        double t = a[k * n + j];
        a[k * n + j] = a[p * n + j], a[p * n + j] = t;
      }
    s += log(fabs(a[k * n + k]));
    for (int i = k + 1; i < n; i++) {
      double f = a[i * n + k] / a[k * n + k];
      for (int j = k; j < n; j++) a[i * n + j] -= f * a[k * n + j];
    }
  }
  return s;
}

/* layer l (or the whole flow if l < 0) on one configuration */
static int apply(const lf_sunflow_model *m, lf_sunflow_batch *wb, int l, const lf_cplx *in,
                 lf_cplx *out, double *ld) {
  if (l >= 0) return lf_sunflow_layer_apply(m, l, 0, in, out, ld);
  double lq;
  int rc = lf_sunflow_forward(m, wb, 1, in, out, &lq);
  *ld = -lq;
  return rc;
}

/* numerical log|det J| in algebra coordinates */
static double numerical_logdet(const lf_sunflow_model *m, lf_sunflow_batch *wb, int l,
                               const lf_cplx *z) {
  const lf_sunflow_config *c = lf_sunflow_model_config(m);
  const lf_group g = c->group;
  const int N = (int)g, ng = lf_group_ngen(g), N2 = N * N;
  const size_t fs = lf_sunflow_model_fieldsize(m), nl = fs / (size_t)N2;
  const int dim = (int)nl * ng;
  double *J = lf_alloc((size_t)dim * (size_t)dim * sizeof(double));
  lf_cplx *zp = lf_alloc(fs * sizeof(lf_cplx)), *x0 = lf_alloc(fs * sizeof(lf_cplx));
  lf_cplx *xp = lf_alloc(fs * sizeof(lf_cplx)), *xm = lf_alloc(fs * sizeof(lf_cplx));
  double ld;
  apply(m, wb, l, z, x0, &ld);
  for (size_t i = 0; i < nl; i++)
    for (int a = 0; a < ng; a++) {
      memcpy(zp, z, fs * sizeof(lf_cplx));
      kick(g, zp + i * (size_t)N2, a, FD_H);
      apply(m, wb, l, zp, xp, &ld);
      memcpy(zp, z, fs * sizeof(lf_cplx));
      kick(g, zp + i * (size_t)N2, a, -FD_H);
      apply(m, wb, l, zp, xm, &ld);
      const int col = (int)i * ng + a;
      for (size_t j = 0; j < nl; j++) {
        lf_cplx t[9], y[9];
        double cp[8], cm[8];
        lf_mat_mul_dag(N, t, xp + j * (size_t)N2, x0 + j * (size_t)N2);
        lf_alg_project(g, y, t);
        lf_alg_to_coords(g, cp, y);
        lf_mat_mul_dag(N, t, xm + j * (size_t)N2, x0 + j * (size_t)N2);
        lf_alg_project(g, y, t);
        lf_alg_to_coords(g, cm, y);
        for (int b = 0; b < ng; b++)
          J[((size_t)j * (size_t)ng + (size_t)b) * (size_t)dim + (size_t)col] =
              (cp[b] - cm[b]) / (2 * FD_H);
      }
    }
  double r = logdet_lu(dim, J);
  lf_free(J), lf_free(zp), lf_free(x0), lf_free(xp), lf_free(xm);
  return r;
}

static double maxdiff(size_t n, const lf_cplx *a, const lf_cplx *b) {
  double d = 0;
  for (size_t i = 0; i < n; i++) d = fmax(d, cabs(a[i] - b[i]));
  return d;
}

static void check_model(lf_group g, int nd, int L, int period, int full_jac) {
  const int N = (int)g, N2 = N * N, nlay = nd * period;
  lf_sunflow_model *m = make(g, nd, L, period, nlay, nd == 2 ? 0.3 : 0.05);
  if (!m) {
    LF_TEST_TRUE("model allocation", 0);
    return;
  }
  char tag[64], what[200];
  snprintf(tag, sizeof tag, "SU(%d) %dD L=%d period %d", N, nd, L, period);
  const size_t fs = lf_sunflow_model_fieldsize(m);
  const long V = lf_sunflow_model_volume(m);
  lf_sunflow_batch *wb;
  lf_sunflow_batch_alloc(&wb, m, 3);
  lf_cplx *z = lf_alloc(3 * fs * sizeof(lf_cplx)), *x = lf_alloc(3 * fs * sizeof(lf_cplx));
  lf_cplx *y = lf_alloc(3 * fs * sizeof(lf_cplx)), *gx = lf_alloc(3 * fs * sizeof(lf_cplx));
  lf_cplx *gz = lf_alloc(3 * fs * sizeof(lf_cplx)), *gt = lf_alloc((size_t)V * N2 * sizeof(lf_cplx));
  lf_sunflow_prior_sample(m, 5, LF_RNG_TAG(LF_RNG_PURPOSE_PRIOR, 3), 0, 3, z);

  /* ---- action vs the action module, gradient vs FD */
  {
    lf_lattice lat;
    int Ls[4] = {L, L, L, L};
    lf_gauge *f;
    lf_lattice_init(&lat, nd, Ls);
    lf_gauge_alloc(&f, &lat, g);
    memcpy(f->u, z, fs * sizeof(lf_cplx));
    lf_action act;
    lf_action_init(&act, LF_ACTION_WILSON, 2.7, nd);
    double S = lf_sunflow_action(m, 2.7, z, gx);
    snprintf(what, sizeof what, "%s: Wilson action vs lf_action_eval", tag);
    LF_TEST_REL(what, S, lf_action_eval(&act, f), 1e-12);
    double worst = 0;
    for (int t = 0; t < 12; t++) {
      size_t i = (size_t)(lf_rng_uniform(&rng) * (double)(fs / (size_t)N2));
      int a = (int)(lf_rng_uniform(&rng) * lf_group_ngen(g));
      memcpy(y, z, fs * sizeof(lf_cplx));
      kick(g, y + i * (size_t)N2, a, FD_H);
      double sp = lf_sunflow_action(m, 2.7, y, NULL);
      memcpy(y, z, fs * sizeof(lf_cplx));
      kick(g, y + i * (size_t)N2, a, -FD_H);
      double sm = lf_sunflow_action(m, 2.7, y, NULL);
      double cc[8] = {0};
      lf_cplx xa[9], xu[9];
      cc[a] = 1;
      lf_alg_from_coords(g, xa, cc);
      lf_mat_mul(N, xu, xa, z + i * (size_t)N2);
      double an = lf_mat_retr_mul_dag(N, xu, gx + i * (size_t)N2);
      worst = fmax(worst, fabs((sp - sm) / (2 * FD_H) - an));
    }
    snprintf(what, sizeof what, "%s: action gradient vs central differences", tag);
    LF_TEST_ABS(what, worst, 0, TOL_GRAD);
    lf_gauge_free(f);
    lf_lattice_clear(&lat);
  }

  /* ---- invertibility of each layer and of the flow */
  {
    double worst = 0, wld = 0;
    for (int l = 0; l < nlay; l++) {
      double l1, l2;
      lf_sunflow_layer_apply(m, l, 0, z, x, &l1);
      lf_sunflow_layer_apply(m, l, 1, x, y, &l2);
      worst = fmax(worst, maxdiff(fs, y, z));
      wld = fmax(wld, fabs(l1 - l2));
    }
    snprintf(what, sizeof what, "%s: every layer f^-1(f(z)) = z", tag);
    LF_TEST_ABS(what, worst, 0, TOL_INV);
    snprintf(what, sizeof what, "%s: every layer inverse log-det = forward", tag);
    LF_TEST_ABS(what, wld, 0, TOL_INV);
    double lq[3], lq2[3];
    int rc = lf_sunflow_forward(m, wb, 3, z, x, lq);
    rc |= lf_sunflow_inverse(m, wb, 3, x, y, lq2);
    snprintf(what, sizeof what, "%s: whole flow f^-1(f(z)) = z (3 samples)", tag);
    LF_TEST_ABS(what, rc ? 1.0 : maxdiff(3 * fs, y, z), 0, TOL_INV);
    snprintf(what, sizeof what, "%s: log q from the inverse pass = forward", tag);
    LF_TEST_ABS(what, fmax(fabs(lq[0] - lq2[0]), fabs(lq[2] - lq2[2])), 0, TOL_INV);
    double d = 0;
    for (size_t i = 0; i < 3 * fs; i++) d = fmax(d, cabs(x[i] - z[i]));
    snprintf(what, sizeof what, "%s: the flow is not the identity (max link change %.3f)", tag, d);
    LF_TEST_TRUE(what, d > 0.05);
    /* batch independence: sample 2 alone */
    double lqs;
    lf_sunflow_forward(m, wb, 1, z + 2 * fs, y, &lqs);
    snprintf(what, sizeof what, "%s: sample 2 alone = in a batch of 3 (bitwise)", tag);
    LF_TEST_ABS(what, maxdiff(fs, y, x + 2 * fs) + fabs(lqs - lq[2]), 0, 0);
  }

  /* ---- log-det vs numerical Jacobian */
  {
    double ld;
    for (int l = 0; l < 2; l++) {
      int layer = l == 0 ? 0 : nlay - 1;
      lf_sunflow_layer_apply(m, layer, 0, z, x, &ld);
      double num = numerical_logdet(m, wb, layer, z);
      snprintf(what, sizeof what, "%s: layer %d log-det vs numerical Jacobian", tag, layer);
      LF_TEST_ABS(what, ld, num, TOL_LOGDET * fmax(1, fabs(num)));
    }
    if (full_jac) {
      double lq;
      lf_sunflow_forward(m, wb, 1, z, x, &lq);
      double num = numerical_logdet(m, wb, -1, z);
      snprintf(what, sizeof what, "%s: whole flow (%d layers) -log q vs numerical Jacobian", tag,
               nlay);
      LF_TEST_ABS(what, -lq, num, TOL_LOGDET * fmax(1, fabs(num)));
    }
  }

  /* ---- gauge equivariance and invariance of log q */
  {
    lf_cplx *zg = lf_alloc(fs * sizeof(lf_cplx));
    for (long s = 0; s < V; s++) lf_group_haar(g, gt + (size_t)s * N2, &rng);
    double lq0, lq1, lq2;
    lf_sunflow_forward(m, wb, 1, z, x, &lq0);
    memcpy(zg, z, fs * sizeof(lf_cplx));
    lf_sunflow_gauge_transform(m, gt, zg);
    lf_sunflow_forward(m, wb, 1, zg, y, &lq1);
    lf_sunflow_gauge_transform(m, gt, x);
    snprintf(what, sizeof what, "%s: f(g.z) = g.f(z)", tag);
    LF_TEST_ABS(what, maxdiff(fs, x, y), 0, 1e-11);
    snprintf(what, sizeof what, "%s: log q(f(g.z)) = log q(f(z))", tag);
    LF_TEST_ABS(what, lq1, lq0, 1e-10);
    lf_sunflow_inverse(m, wb, 1, y, zg, &lq2);
    snprintf(what, sizeof what, "%s: log q of a gauge-transformed sample from the inverse pass", tag);
    LF_TEST_ABS(what, lq2, lq0, 1e-10);
    lf_free(zg);
  }

  /* ---- backward vs FD: L = sum_b Re tr(C^dag x_b) + a sum_b log q_b */
  {
    const double a = 0.37, glq[3] = {a, a, a};
    lf_cplx *C = lf_alloc(3 * fs * sizeof(lf_cplx));
    for (size_t i = 0; i < 3 * fs; i++) C[i] = lf_rng_normal(&rng) + LF_I * lf_rng_normal(&rng);
    double lq[3];
    lf_sunflow_forward(m, wb, 3, z, x, lq);
    int rc = lf_sunflow_backward(m, wb, 3, C, glq, gz);
    snprintf(what, sizeof what, "%s: backward runs", tag);
    LF_TEST_TRUE(what, rc == 0);
    lf_nn_params *P = lf_sunflow_model_store(m);
    double *grad = lf_alloc(P->n * sizeof(double));
    memcpy(grad, P->grad, P->n * sizeof(double));
#define LOSS(out)                                                                           \
  do {                                                                                      \
    lf_sunflow_forward(m, wb, 3, y, x, lq);                                                 \
    out = 0;                                                                                \
    for (size_t q = 0; q < 3 * fs; q++) out += creal(conj(C[q]) * x[q]);                    \
    for (int b = 0; b < 3; b++) out += a * lq[b];                                           \
  } while (0)
    double wp = 0, gmax = 0;
    for (int t = 0; t < 24; t++) {
      size_t i = pick_param(P, t);
      double s = P->data[i], lp, lm;
      memcpy(y, z, 3 * fs * sizeof(lf_cplx));
      P->data[i] = s + FD_H;
      LOSS(lp);
      P->data[i] = s - FD_H;
      LOSS(lm);
      P->data[i] = s;
      double fd = (lp - lm) / (2 * FD_H);
      wp = fmax(wp, fabs(fd - grad[i]));
      gmax = fmax(gmax, fabs(fd));
    }
    snprintf(what, sizeof what, "%s: parameter gradients vs central differences (max |g| %.3g)",
             tag, gmax);
    LF_TEST_ABS(what, wp / fmax(1, gmax), 0, TOL_GRAD);
    double wz = 0;
    gmax = 0;
    for (int t = 0; t < 24; t++) {
      size_t i = (size_t)(lf_rng_uniform(&rng) * (double)(3 * fs / (size_t)N2));
      int ag = (int)(lf_rng_uniform(&rng) * lf_group_ngen(g));
      double lp, lm;
      memcpy(y, z, 3 * fs * sizeof(lf_cplx));
      kick(g, y + i * (size_t)N2, ag, FD_H);
      LOSS(lp);
      memcpy(y, z, 3 * fs * sizeof(lf_cplx));
      kick(g, y + i * (size_t)N2, ag, -FD_H);
      LOSS(lm);
      double cc[8] = {0};
      lf_cplx xa[9], xu[9];
      cc[ag] = 1;
      lf_alg_from_coords(g, xa, cc);
      lf_mat_mul(N, xu, xa, z + i * (size_t)N2);
      double an = lf_mat_retr_mul_dag(N, xu, gz + i * (size_t)N2);
      double fd = (lp - lm) / (2 * FD_H);
      wz = fmax(wz, fabs(fd - an));
      gmax = fmax(gmax, fabs(fd));
    }
#undef LOSS
    snprintf(what, sizeof what, "%s: input gradients dL/dz vs central differences (max %.3g)", tag,
             gmax);
    LF_TEST_ABS(what, wz / fmax(1, gmax), 0, TOL_GRAD);
    lf_free(C), lf_free(grad);
  }

  /* ---- grad_x log q(x) at fixed parameters (path gradient) vs FD of the inverse pass */
  {
    double lq[3];
    lf_sunflow_forward(m, wb, 3, z, x, lq);
    int rc = lf_sunflow_logq_grad(m, wb, 3, gx);
    memcpy(z, x, 3 * fs * sizeof(lf_cplx)); /* z now holds the flow outputs x */
    double wq = 0, gmax = 0;
    for (int t = 0; t < 24 && !rc; t++) {
      size_t i = (size_t)(lf_rng_uniform(&rng) * (double)(3 * fs / (size_t)N2));
      int ag = (int)(lf_rng_uniform(&rng) * lf_group_ngen(g));
      size_t b = i * (size_t)N2 / fs;
      double d[2]; /* central differences at h and h/2, Richardson-extrapolated */
      for (int r = 0; r < 2; r++) {
        double lp[3], lm[3], h = r ? FD_H / 2 : FD_H;
        memcpy(y, z, 3 * fs * sizeof(lf_cplx));
        kick(g, y + i * (size_t)N2, ag, h);
        lf_sunflow_inverse(m, wb, 3, y, x, lp);
        memcpy(y, z, 3 * fs * sizeof(lf_cplx));
        kick(g, y + i * (size_t)N2, ag, -h);
        lf_sunflow_inverse(m, wb, 3, y, x, lm);
        d[r] = (lp[b] - lm[b]) / (2 * h);
      }
      double cc[8] = {0};
      lf_cplx xa[9], xu[9];
      cc[ag] = 1;
      lf_alg_from_coords(g, xa, cc);
      lf_mat_mul(N, xu, xa, z + i * (size_t)N2);
      double an = lf_mat_retr_mul_dag(N, xu, gx + i * (size_t)N2);
      double fd = (4 * d[1] - d[0]) / 3;
      wq = fmax(wq, fabs(fd - an));
      gmax = fmax(gmax, fabs(fd));
    }
    snprintf(what, sizeof what, "%s: grad_x log q(x) (path gradient) vs FD of the inverse pass "
             "(max %.3g)", tag, gmax);
    LF_TEST_ABS(what, rc ? 1.0 : wq / fmax(1, gmax), 0, TOL_GRAD);
  }
  lf_free(z), lf_free(x), lf_free(y), lf_free(gx), lf_free(gz), lf_free(gt);
  lf_sunflow_batch_free(wb);
  lf_sunflow_model_free(m);
}

#ifndef SUNFLOW_LAYERS_LAL
int main(void) {
  lf_rng_init(&rng, 2385, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, 62), 0);
  double t0 = lf_time_now();
#ifndef SUNFLOW_LAYERS_4D
  check_model(LF_SU2, 2, 4, 4, 1);
  printf("     (%.1f s)\n", lf_time_now() - t0);
  check_model(LF_SU3, 2, 4, 4, 1);
#else
  check_model(LF_SU2, 4, 2, 2, 1);
  printf("     (%.1f s)\n", lf_time_now() - t0);
  check_model(LF_SU3, 4, 2, 2, 0);
#endif
  printf("     (%.1f s)\n", lf_time_now() - t0);
  return lf_test_done();
}
#endif
