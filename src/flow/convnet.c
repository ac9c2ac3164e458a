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

#include <math.h>

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
  /* col, gcol, two gradient buffers, transposed weights */
  return (2 * kk * (size_t)mx + 2 * (size_t)mx) * (size_t)c->V + kk * (size_t)mx * (size_t)mx +
         (size_t)(c->L0 + c->k) * (size_t)(c->L1 + c->k);
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

/* Register-blocked kernels with GCC/Clang vector extensions (4 doubles = one AVX2
 * register; the compiler splits or joins them for other targets). V is a multiple of
 * SB = 16 because L0, L1 are multiples of 4. Sums run in a fixed order, so the result
 * does not depend on threads; FMA contraction is allowed inside these kernels. */
#define SB 16
typedef double v4d __attribute__((vector_size(32)));
typedef double v4du __attribute__((vector_size(32), aligned(8)));
#define LD(p) (*(const v4du *)(p))
#define ST(p, v) (*(v4du *)(p) = (v))
#define KERNEL __attribute__((optimize("fp-contract=fast", "no-tree-loop-distribute-patterns"), hot))

/* col[i*kk + tap][s] = in[i][s + d(tap')], tap' = tap (flip = 0) or kk-1-tap (flip = 1:
 * the transposed convolution of the backward pass). Each channel is first copied into a
 * periodically padded (L0+k-1) x (L1+k-1) plane; a tap is then one contiguous row copy
 * per lattice row. */
KERNEL static void im2col(const lf_flow_cnn *c, int cin, const double *restrict in,
                   double *restrict col, int flip, double *restrict pad) {
  const long V = c->V;
  const int k = c->k, kk = k * k, L0 = c->L0, L1 = c->L1, P = L0 + k - 1, Q = L1 + k - 1;
  for (int i = 0; i < cin; i++) {
    const double *restrict src = in + (size_t)i * (size_t)V;
    for (int q = 0; q < P * Q; q++) pad[q] = src[c->pidx[q]];
    for (int tap = 0; tap < kk; tap++) {
      int t = flip ? kk - 1 - tap : tap, ky = t / k, kx = t % k;
      double *restrict dst = col + ((size_t)i * (size_t)kk + (size_t)tap) * (size_t)V;
      for (int y = 0; y < L1; y++) {
        const double *restrict row = pad + (size_t)(y + ky) * (size_t)P + (size_t)kx;
        double *restrict d = dst + (size_t)y * (size_t)L0;
        for (int x = 0; x < L0; x += 4) ST(d + x, LD(row + x)); /* L0 % 4 == 0 */
      }
    }
  }
}

/* Y[o][s] = bias[o] (or 0) + sum_j A[o][j] X[j][s], o < M, j < N. */
KERNEL static void gemm_nn(int M, int N, long V, const double *restrict A,
                           const double *restrict X, const double *restrict bias,
                           double *restrict Y) {
  for (long s0 = 0; s0 < V; s0 += SB) {
    int o = 0;
    for (; o + 1 < M; o += 2) {
      const double b0 = bias ? bias[o] : 0.0, b1 = bias ? bias[o + 1] : 0.0;
      v4d a00 = {b0, b0, b0, b0}, a01 = a00, a02 = a00, a03 = a00;
      v4d a10 = {b1, b1, b1, b1}, a11 = a10, a12 = a10, a13 = a10;
      const double *restrict A0 = A + (size_t)o * (size_t)N, *restrict A1 = A0 + N;
      for (int j = 0; j < N; j++) {
        const double *restrict x = X + (size_t)j * (size_t)V + s0;
        const v4d x0 = LD(x), x1 = LD(x + 4), x2 = LD(x + 8), x3 = LD(x + 12);
        const double w0 = A0[j], w1 = A1[j];
        a00 += w0 * x0, a01 += w0 * x1, a02 += w0 * x2, a03 += w0 * x3;
        a10 += w1 * x0, a11 += w1 * x1, a12 += w1 * x2, a13 += w1 * x3;
      }
      double *restrict y0 = Y + (size_t)o * (size_t)V + s0, *restrict y1 = y0 + V;
      ST(y0, a00), ST(y0 + 4, a01), ST(y0 + 8, a02), ST(y0 + 12, a03);
      ST(y1, a10), ST(y1 + 4, a11), ST(y1 + 8, a12), ST(y1 + 12, a13);
    }
    for (; o < M; o++) {
      const double b0 = bias ? bias[o] : 0.0;
      v4d a00 = {b0, b0, b0, b0}, a01 = a00, a02 = a00, a03 = a00;
      const double *restrict A0 = A + (size_t)o * (size_t)N;
      for (int j = 0; j < N; j++) {
        const double *restrict x = X + (size_t)j * (size_t)V + s0;
        const double w0 = A0[j];
        a00 += w0 * LD(x), a01 += w0 * LD(x + 4), a02 += w0 * LD(x + 8), a03 += w0 * LD(x + 12);
      }
      double *restrict y0 = Y + (size_t)o * (size_t)V + s0;
      ST(y0, a00), ST(y0 + 4, a01), ST(y0 + 8, a02), ST(y0 + 12, a03);
    }
  }
}

/* grad = 0: h = leaky(a); grad = 1: h *= leaky'(a). n is a multiple of 4. */
typedef long long v4l __attribute__((vector_size(32)));
KERNEL static void leaky(size_t n, const double *restrict a, double *restrict h, double leak,
                         int grad) {
  const v4d zero = {0, 0, 0, 0}, one = {1, 1, 1, 1}, lk = {leak, leak, leak, leak};
  for (size_t i = 0; i < n; i += 4) {
    v4d x = LD(a + i);
    v4l m = (v4l)(x > zero);
    v4d f = (v4d)(((v4l)one & m) | ((v4l)lk & ~m));
    if (grad) ST(h + i, LD(h + i) * f);
    else ST(h + i, x * f);
  }
}

static inline double hsum(v4d a) { return (a[0] + a[1]) + (a[2] + a[3]); }

/* C[o][j] += sum_s G[o][s] X[j][s] (lane-blocked sums in a fixed order). */
KERNEL static void gemm_nt_add(int M, int N, long V, const double *restrict G,
                               const double *restrict X, double *restrict C) {
  for (int o = 0; o < M; o++) {
    const double *restrict g = G + (size_t)o * (size_t)V;
    int j = 0;
    for (; j + 1 < N; j += 2) {
      const double *restrict x = X + (size_t)j * (size_t)V, *restrict xb = x + V;
      v4d a0 = {0, 0, 0, 0}, a1 = a0, b0 = a0, b1 = a0;
      for (long s = 0; s < V; s += 8) {
        const v4d g0 = LD(g + s), g1 = LD(g + s + 4);
        a0 += g0 * LD(x + s), a1 += g1 * LD(x + s + 4);
        b0 += g0 * LD(xb + s), b1 += g1 * LD(xb + s + 4);
      }
      C[(size_t)o * (size_t)N + (size_t)j] += hsum(a0 + a1);
      C[(size_t)o * (size_t)N + (size_t)j + 1] += hsum(b0 + b1);
    }
    for (; j < N; j++) {
      const double *restrict x = X + (size_t)j * (size_t)V;
      v4d a0 = {0, 0, 0, 0}, a1 = a0;
      for (long s = 0; s < V; s += 8) a0 += LD(g + s) * LD(x + s), a1 += LD(g + s + 4) * LD(x + s + 4);
      C[(size_t)o * (size_t)N + (size_t)j] += hsum(a0 + a1);
    }
  }
}

static void conv_forward(const lf_flow_cnn *c, int l, const double *w, const double *in,
                         double *out, double *col) {
  const int cin = c->ch[l], cout = c->ch[l + 1], nj = cin * c->k * c->k;
  im2col(c, cin, in, col, 0, col + (size_t)nj * (size_t)c->V);
  gemm_nn(cout, nj, c->V, w + c->woff[l], col, w + c->boff[l], out);
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
      leaky(n, a, h, leak, 0);
    }
  }
  *out = act + pre[c->nconv];
}

/* gout: dL/d(conv output) [cout][V]; gin (may be NULL): dL/d(conv input), overwritten.
 * gin is the transposed convolution: gin[i][s] = sum_{o,tap} W[o][i][tap] g[o][s - d(tap)],
 * computed as a product with the flipped-tap im2col of g and the transposed weights Wt. */
static void conv_backward(const lf_flow_cnn *c, int l, const double *w, const double *in,
                          const double *gout, double *gin, double *gw, double *col,
                          double *gcol, double *Wt) {
  const long V = c->V;
  const int cin = c->ch[l], cout = c->ch[l + 1], kk = c->k * c->k, nj = cin * kk;
  const double *W = w + c->woff[l];
  double *gb = gw + c->boff[l];
  for (int o = 0; o < cout; o++) {
    const double *restrict g = gout + (size_t)o * (size_t)V;
    double a[SB] = {0};
    for (long s0 = 0; s0 < V; s0 += SB)
      for (int t = 0; t < SB; t++) a[t] += g[s0 + t];
    double sb = 0;
    for (int t = 0; t < SB; t++) sb += a[t];
    gb[o] += sb;
  }
  im2col(c, cin, in, col, 0, Wt);
  gemm_nt_add(cout, nj, V, gout, col, gw + c->woff[l]);
  if (!gin) return;
  const int nt = cout * kk;
  for (int i = 0; i < cin; i++)
    for (int o = 0; o < cout; o++)
      for (int tap = 0; tap < kk; tap++)
        Wt[(size_t)i * (size_t)nt + (size_t)(o * kk + tap)] =
            W[(size_t)o * (size_t)nj + (size_t)(i * kk + tap)];
  im2col(c, cout, gout, gcol, 1, Wt + (size_t)cin * (size_t)nt);
  gemm_nn(cin, nt, V, Wt, gcol, NULL, gin);
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
  double *Wt = bufB + (size_t)mx * (size_t)c->V;
  const double *g = gout;
  for (int l = c->nconv - 1; l >= 0; l--) {
    double *dst = l > 0 ? (g == bufA ? bufB : bufA) : gin;
    conv_backward(c, l, w, act + post[l], g, dst, gw, col, gcol, Wt);
    if (l > 0) {
      /* through LeakyReLU: gradient w.r.t. the pre-activation of conv l-1 */
      const size_t n = (size_t)c->ch[l] * (size_t)c->V;
      const double *restrict a = act + pre[l];
      leaky(n, a, dst, c->leak, 1);
      g = dst;
    }
  }
}
