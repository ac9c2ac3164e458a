/*
 * convnet.c -- the context network of a coupling layer: a stack of periodic 2D
 * convolutions (PyTorch Conv2d with padding_mode='circular', weight [cout][cin][ky][kx])
 * with LeakyReLU between them, evaluated on ONE sample at a time, with hand-written
 * backward (docs/flows.md "context network").
 *
 * Why per sample: the flow parallelises over samples (one OpenMP thread per sample
 * block) and accumulates parameter gradients per sample, so results do not depend on
 * the thread count; a per-sample conv is a small dense product
 *     out[o][s] = b[o] + sum_j W[o][j] col[j][s],  col[i*k*k + tap][s] = in[i][nb(tap, s)]
 * whose inner loop over sites vectorises.
 * Thread contract: pure functions of their arguments; scratch is per caller.
 */
#include <string.h>

#include "internal.h"

size_t lf_flow_cnn_act_size(const lf_flow_cnn *c) {
  size_t n = (size_t)c->ch[0] + (size_t)c->ch[c->nconv];
  for (int l = 1; l < c->nconv; l++) n += 2 * (size_t)c->ch[l];
  return n * (size_t)c->V;
}

size_t lf_flow_cnn_scratch_size(const lf_flow_cnn *c) {
  int mx = 0;
  for (int l = 0; l <= c->nconv; l++) mx = c->ch[l] > mx ? c->ch[l] : mx;
  size_t kk = (size_t)(c->k * c->k);
  return (2 * kk * (size_t)mx + 2 * (size_t)mx) * (size_t)c->V;
}

/* Offsets of the activation segments: in, (pre_l, post_l) for hidden l, out. */
static void segments(const lf_flow_cnn *c, size_t *pre, size_t *post) {
  size_t off = (size_t)c->ch[0] * (size_t)c->V;
  post[0] = 0;
  for (int l = 1; l <= c->nconv; l++) {
    pre[l] = off;
    off += (size_t)c->ch[l] * (size_t)c->V;
    if (l < c->nconv) {
      post[l] = off;
      off += (size_t)c->ch[l] * (size_t)c->V;
    }
  }
}

static void im2col(const lf_flow_cnn *c, int cin, const double *restrict in,
                   double *restrict col) {
  const long V = c->V;
  const int kk = c->k * c->k;
  for (int i = 0; i < cin; i++)
    for (int tap = 0; tap < kk; tap++) {
      const int *restrict nb = c->nb + (size_t)tap * (size_t)V;
      double *restrict dst = col + ((size_t)i * (size_t)kk + (size_t)tap) * (size_t)V;
      const double *restrict src = in + (size_t)i * (size_t)V;
      for (long s = 0; s < V; s++) dst[s] = src[nb[s]];
    }
}

static void conv_forward(const lf_flow_cnn *c, int l, const double *w, const double *in,
                         double *out, double *col) {
  const long V = c->V;
  const int cin = c->ch[l], cout = c->ch[l + 1], nj = cin * c->k * c->k;
  const double *W = w + c->woff[l], *b = w + c->boff[l];
  im2col(c, cin, in, col);
  for (int o = 0; o < cout; o++) {
    double *restrict y = out + (size_t)o * (size_t)V;
    const double bo = b[o];
    for (long s = 0; s < V; s++) y[s] = bo;
    const double *Wo = W + (size_t)o * (size_t)nj;
    for (int j = 0; j < nj; j++) {
      const double wj = Wo[j];
      const double *restrict xc = col + (size_t)j * (size_t)V;
      for (long s = 0; s < V; s++) y[s] += wj * xc[s];
    }
  }
}

void lf_flow_cnn_forward(const lf_flow_cnn *c, const double *w, double *act, double *scratch,
                         double **out) {
  size_t pre[LF_FLOW_MAXHIDDEN + 2], post[LF_FLOW_MAXHIDDEN + 2];
  segments(c, pre, post);
  const double leak = c->leak;
  for (int l = 0; l < c->nconv; l++) {
    conv_forward(c, l, w, act + post[l], act + pre[l + 1], scratch);
    if (l + 1 < c->nconv) {
      const size_t n = (size_t)c->ch[l + 1] * (size_t)c->V;
      const double *restrict a = act + pre[l + 1];
      double *restrict h = act + post[l + 1];
      for (size_t i = 0; i < n; i++) h[i] = a[i] > 0 ? a[i] : leak * a[i];
    }
  }
  *out = act + pre[c->nconv];
}

/* gout: dL/d(conv output) [cout][V]; gin (may be NULL): dL/d(conv input), overwritten. */
static void conv_backward(const lf_flow_cnn *c, int l, const double *w, const double *in,
                          const double *gout, double *gin, double *gw, double *col,
                          double *gcol) {
  const long V = c->V;
  const int cin = c->ch[l], cout = c->ch[l + 1], kk = c->k * c->k, nj = cin * kk;
  const double *W = w + c->woff[l];
  double *gW = gw + c->woff[l], *gb = gw + c->boff[l];
  im2col(c, cin, in, col);
  for (int o = 0; o < cout; o++) {
    const double *restrict g = gout + (size_t)o * (size_t)V;
    double sb = 0;
    for (long s = 0; s < V; s++) sb += g[s];
    gb[o] += sb;
    double *gWo = gW + (size_t)o * (size_t)nj;
    for (int j = 0; j < nj; j++) {
      const double *restrict xc = col + (size_t)j * (size_t)V;
      double acc = 0;
      for (long s = 0; s < V; s++) acc += g[s] * xc[s];
      gWo[j] += acc;
    }
  }
  if (!gin) return;
  for (int j = 0; j < nj; j++) {
    double *restrict gc = gcol + (size_t)j * (size_t)V;
    for (long s = 0; s < V; s++) gc[s] = 0;
    for (int o = 0; o < cout; o++) {
      const double wj = W[(size_t)o * (size_t)nj + (size_t)j];
      const double *restrict g = gout + (size_t)o * (size_t)V;
      for (long s = 0; s < V; s++) gc[s] += wj * g[s];
    }
  }
  memset(gin, 0, (size_t)cin * (size_t)V * sizeof *gin);
  for (int i = 0; i < cin; i++)
    for (int tap = 0; tap < kk; tap++) {
      const int *restrict nb = c->nb + (size_t)tap * (size_t)V;
      const double *restrict gc = gcol + ((size_t)i * (size_t)kk + (size_t)tap) * (size_t)V;
      double *restrict gi = gin + (size_t)i * (size_t)V;
      for (long s = 0; s < V; s++) gi[nb[s]] += gc[s];
    }
}

void lf_flow_cnn_backward(const lf_flow_cnn *c, const double *w, const double *act,
                          const double *gout, double *gin, double *gw, double *scratch) {
  size_t pre[LF_FLOW_MAXHIDDEN + 2], post[LF_FLOW_MAXHIDDEN + 2];
  segments(c, pre, post);
  int mx = 0;
  for (int l = 0; l <= c->nconv; l++) mx = c->ch[l] > mx ? c->ch[l] : mx;
  const size_t colsz = (size_t)(c->k * c->k) * (size_t)mx * (size_t)c->V;
  double *col = scratch, *gcol = scratch + colsz;
  double *bufA = gcol + colsz, *bufB = bufA + (size_t)mx * (size_t)c->V;
  const double *g = gout;
  for (int l = c->nconv - 1; l >= 0; l--) {
    double *dst = l > 0 ? (g == bufA ? bufB : bufA) : gin;
    conv_backward(c, l, w, act + post[l], g, dst, gw, col, gcol);
    if (l > 0) {
      /* through LeakyReLU: gradient w.r.t. the pre-activation of conv l-1 */
      const size_t n = (size_t)c->ch[l] * (size_t)c->V;
      const double *restrict a = act + pre[l];
      for (size_t i = 0; i < n; i++) dst[i] = a[i] > 0 ? dst[i] : c->leak * dst[i];
      g = dst;
    }
  }
}
