/*
 * convnet.c -- the context network of a coupling layer: a stack of periodic 2D
 * convolutions (PyTorch Conv2d with padding_mode='circular', weight [cout][cin][ky][kx])
 * with LeakyReLU between them, evaluated on ONE sample at a time, with hand-written
 * backward (docs/flows.md "context network").
 *
 * Why per sample: the flow parallelises over samples (one OpenMP thread per sample
 * block) and accumulates parameter gradients per sample, so results do not depend on
 * the thread count.
 * How: every input channel is copied into a periodically padded (L0+k-1) x (L1+k-1)
 * plane; then
 *     out[o][s] = b[o] + sum_{i,tap} W[o][i][tap] pad_i[off(s) + toff(tap)]
 * with off(s) = y*(L0+k-1) + x and toff(tap) = ky*(L0+k-1) + kx. Four consecutive sites
 * (L0 is a multiple of 4) are contiguous in a padded row, so the products run on 4-wide
 * vectors, 16 sites x 2 outputs per register block. The weight gradient is the same sum
 * with the output gradient; the input gradient is the transposed convolution (flipped
 * taps over padded output-gradient planes, transposed weights).
 * Thread contract: pure functions of their arguments; scratch is per caller.
 */

#include <math.h>

#include "internal.h"

size_t lf_flow_cnn_act_size(const lf_flow_cnn *c) {
  size_t n = (size_t)c->ch[0] + (size_t)c->ch[c->nconv];
  for (int l = 1; l < c->nconv; l++) n += 2 * (size_t)c->ch[l];
  return n * (size_t)c->V;
}

static int max_channels(const lf_flow_cnn *c) {
  int mx = 0;
  for (int l = 0; l <= c->nconv; l++) mx = c->ch[l] > mx ? c->ch[l] : mx;
  return mx;
}

static size_t plane_size(const lf_flow_cnn *c) {
  return (size_t)(c->L0 + c->k - 1) * (size_t)(c->L1 + c->k - 1);
}

size_t lf_flow_cnn_scratch_size(const lf_flow_cnn *c) {
  const size_t mx = (size_t)max_channels(c), kk = (size_t)(c->k * c->k);
  /* padded planes of the input and of the output gradient, two gradient buffers,
   * transposed weights */
  return 2 * mx * plane_size(c) + 2 * mx * (size_t)c->V + kk * mx * mx;
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

/* GCC/Clang vector extensions: 4 doubles = one AVX2 register (split or joined by the
 * compiler for other targets). Sums run in a fixed order (thread independent); FMA
 * contraction is allowed inside these kernels; no memcpy pattern replacement. */
typedef double v4d __attribute__((vector_size(32)));
typedef double v4du __attribute__((vector_size(32), aligned(8)));
typedef long long v4l __attribute__((vector_size(32)));
#define LD(p) (*(const v4du *)(p))
#define ST(p, v) (*(v4du *)(p) = (v))
#define KERNEL \
  __attribute__((optimize("fp-contract=fast", "no-tree-loop-distribute-patterns"), hot))
#define MAXTAPS 256

static void tap_offsets(const lf_flow_cnn *c, int flip, int *toff) {
  const int k = c->k, kk = k * k, P = c->L0 + k - 1;
  for (int tap = 0; tap < kk; tap++) {
    int t = flip ? kk - 1 - tap : tap;
    toff[tap] = (t / k) * P + t % k;
  }
}

KERNEL static void pad_planes(const lf_flow_cnn *c, int C, const double *restrict in,
                              double *restrict pad) {
  const int k = c->k, r = k / 2, L0 = c->L0, P = L0 + k - 1, Q = c->L1 + k - 1;
  const size_t PQ = plane_size(c);
  for (int i = 0; i < C; i++) {
    const double *restrict src = in + (size_t)i * (size_t)c->V;
    double *restrict dst = pad + (size_t)i * PQ;
    for (int py = 0; py < Q; py++) {
      const double *restrict row = src + (size_t)c->prow[py] * (size_t)L0;
      double *restrict d = dst + (size_t)py * (size_t)P;
      for (int x = 0; x < r; x++) d[x] = row[L0 - r + x];
      for (int x = 0; x < L0; x += 4) ST(d + r + x, LD(row + x));
      for (int x = 0; x < k - 1 - r; x++) d[r + L0 + x] = row[x];
    }
  }
}

/* Y[o][s] = bias[o] (or 0) + sum_{ch < C, tap} A[o][ch*kk + tap] pad_ch[off(s) + toff(tap)] */
KERNEL static void conv_pp(const lf_flow_cnn *c, int M, int C, const double *restrict A,
                           const double *restrict pad, int flip, const double *restrict bias,
                           double *restrict Y) {
  const int kk = c->k * c->k, N = C * kk;
  const size_t PQ = plane_size(c), V = (size_t)c->V;
  int toff[MAXTAPS];
  tap_offsets(c, flip, toff);
  for (size_t q0 = 0; q0 < V / 4; q0 += 4) {
    const int o0 = c->voff[q0], o1 = c->voff[q0 + 1], o2 = c->voff[q0 + 2], o3 = c->voff[q0 + 3];
    const size_t s0 = 4 * q0;
    int o = 0;
    for (; o + 1 < M; o += 2) {
      const double b0 = bias ? bias[o] : 0.0, b1 = bias ? bias[o + 1] : 0.0;
      v4d a00 = {b0, b0, b0, b0}, a01 = a00, a02 = a00, a03 = a00;
      v4d a10 = {b1, b1, b1, b1}, a11 = a10, a12 = a10, a13 = a10;
      const double *restrict A0 = A + (size_t)o * (size_t)N, *restrict A1 = A0 + N;
      for (int ch = 0; ch < C; ch++) {
        const double *restrict pc = pad + (size_t)ch * PQ;
        for (int tap = 0; tap < kk; tap++) {
          const double *restrict x = pc + toff[tap];
          const v4d x0 = LD(x + o0), x1 = LD(x + o1), x2 = LD(x + o2), x3 = LD(x + o3);
          const double w0 = A0[ch * kk + tap], w1 = A1[ch * kk + tap];
          a00 += w0 * x0, a01 += w0 * x1, a02 += w0 * x2, a03 += w0 * x3;
          a10 += w1 * x0, a11 += w1 * x1, a12 += w1 * x2, a13 += w1 * x3;
        }
      }
      double *restrict y0 = Y + (size_t)o * V + s0, *restrict y1 = y0 + V;
      ST(y0, a00), ST(y0 + 4, a01), ST(y0 + 8, a02), ST(y0 + 12, a03);
      ST(y1, a10), ST(y1 + 4, a11), ST(y1 + 8, a12), ST(y1 + 12, a13);
    }
    for (; o < M; o++) {
      const double b0 = bias ? bias[o] : 0.0;
      v4d a00 = {b0, b0, b0, b0}, a01 = a00, a02 = a00, a03 = a00;
      const double *restrict A0 = A + (size_t)o * (size_t)N;
      for (int ch = 0; ch < C; ch++) {
        const double *restrict pc = pad + (size_t)ch * PQ;
        for (int tap = 0; tap < kk; tap++) {
          const double *restrict x = pc + toff[tap];
          const double w0 = A0[ch * kk + tap];
          a00 += w0 * LD(x + o0), a01 += w0 * LD(x + o1), a02 += w0 * LD(x + o2),
              a03 += w0 * LD(x + o3);
        }
      }
      double *restrict y0 = Y + (size_t)o * V + s0;
      ST(y0, a00), ST(y0 + 4, a01), ST(y0 + 8, a02), ST(y0 + 12, a03);
    }
  }
}

/* horizontal sum (a macro: vector arguments would change the ABI without AVX) */
#define hsum(a) ((a)[0] + (a)[1] + ((a)[2] + (a)[3]))

/* gW[o][ch*kk + tap] += sum_s G[o][s] pad_ch[off(s) + toff(tap)]; four outputs share
 * each load of the input plane. */
KERNEL static void conv_wgrad(const lf_flow_cnn *c, int M, int C, const double *restrict G,
                              const double *restrict pad, double *restrict gW) {
  const int kk = c->k * c->k, N = C * kk;
  const size_t PQ = plane_size(c), nq = (size_t)c->V / 4, V = (size_t)c->V;
  const int *restrict voff = c->voff;
  int toff[MAXTAPS];
  tap_offsets(c, 0, toff);
  int o = 0;
  for (; o + 3 < M; o += 4) {
    const double *restrict g0 = G + (size_t)o * V, *restrict g1 = g0 + V, *restrict g2 = g1 + V,
                           *restrict g3 = g2 + V;
    for (int ch = 0; ch < C; ch++) {
      int tap = 0;
      for (; tap + 1 < kk; tap += 2) { /* two taps x four outputs per register block */
        const double *restrict x = pad + (size_t)ch * PQ + toff[tap];
        const double *restrict y = pad + (size_t)ch * PQ + toff[tap + 1];
        v4d a0 = {0, 0, 0, 0}, a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        for (size_t q = 0; q < nq; q++) {
          const v4d xv = LD(x + voff[q]), yv = LD(y + voff[q]);
          const v4d h0 = LD(g0 + 4 * q), h1 = LD(g1 + 4 * q), h2 = LD(g2 + 4 * q),
                    h3 = LD(g3 + 4 * q);
          a0 += h0 * xv, a1 += h1 * xv, a2 += h2 * xv, a3 += h3 * xv;
          b0 += h0 * yv, b1 += h1 * yv, b2 += h2 * yv, b3 += h3 * yv;
        }
        const size_t j = (size_t)(ch * kk + tap);
        gW[(size_t)o * (size_t)N + j] += hsum(a0);
        gW[(size_t)(o + 1) * (size_t)N + j] += hsum(a1);
        gW[(size_t)(o + 2) * (size_t)N + j] += hsum(a2);
        gW[(size_t)(o + 3) * (size_t)N + j] += hsum(a3);
        gW[(size_t)o * (size_t)N + j + 1] += hsum(b0);
        gW[(size_t)(o + 1) * (size_t)N + j + 1] += hsum(b1);
        gW[(size_t)(o + 2) * (size_t)N + j + 1] += hsum(b2);
        gW[(size_t)(o + 3) * (size_t)N + j + 1] += hsum(b3);
      }
      for (; tap < kk; tap++) {
        const double *restrict x = pad + (size_t)ch * PQ + toff[tap];
        v4d a0 = {0, 0, 0, 0}, a1 = a0, a2 = a0, a3 = a0;
        for (size_t q = 0; q < nq; q++) {
          const v4d xv = LD(x + voff[q]);
          a0 += LD(g0 + 4 * q) * xv, a1 += LD(g1 + 4 * q) * xv;
          a2 += LD(g2 + 4 * q) * xv, a3 += LD(g3 + 4 * q) * xv;
        }
        const size_t j = (size_t)(ch * kk + tap);
        gW[(size_t)o * (size_t)N + j] += hsum(a0);
        gW[(size_t)(o + 1) * (size_t)N + j] += hsum(a1);
        gW[(size_t)(o + 2) * (size_t)N + j] += hsum(a2);
        gW[(size_t)(o + 3) * (size_t)N + j] += hsum(a3);
      }
    }
  }
  for (; o < M; o++) {
    const double *restrict g = G + (size_t)o * V;
    for (int ch = 0; ch < C; ch++)
      for (int tap = 0; tap < kk; tap++) {
        const double *restrict x = pad + (size_t)ch * PQ + toff[tap];
        v4d a0 = {0, 0, 0, 0}, a1 = a0;
        for (size_t q = 0; q < nq; q += 2) {
          a0 += LD(g + 4 * q) * LD(x + voff[q]);
          a1 += LD(g + 4 * q + 4) * LD(x + voff[q + 1]);
        }
        gW[(size_t)o * (size_t)N + (size_t)(ch * kk + tap)] += hsum(a0 + a1);
      }
  }
}

/* grad = 0: h = leaky(a); grad = 1: h *= leaky'(a). n is a multiple of 4. */
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

static void conv_forward(const lf_flow_cnn *c, int l, const double *w, const double *in,
                         double *out, double *pad) {
  pad_planes(c, c->ch[l], in, pad);
  conv_pp(c, c->ch[l + 1], c->ch[l], w + c->woff[l], pad, 0, w + c->boff[l], out);
}

void lf_flow_cnn_forward(const lf_flow_cnn *c, const double *w, double *act, double *scratch,
                         double **out) {
  size_t pre[LF_FLOW_MAXHIDDEN + 2], post[LF_FLOW_MAXHIDDEN + 2];
  segments(c, pre, post);
  for (int l = 0; l < c->nconv; l++) {
    conv_forward(c, l, w, act + post[l], act + pre[l + 1], scratch);
    if (l + 1 < c->nconv)
      leaky((size_t)c->ch[l + 1] * (size_t)c->V, act + pre[l + 1], act + post[l + 1], c->leak, 0);
  }
  *out = act + pre[c->nconv];
}

/* gout: dL/d(conv output) [cout][V]; gin (may be NULL): dL/d(conv input), overwritten;
 * parameter gradients added to gw. */
static void conv_backward(const lf_flow_cnn *c, int l, const double *w, const double *in,
                          const double *gout, double *gin, double *gw, double *pad,
                          double *gpad, double *Wt) {
  const long V = c->V;
  const int cin = c->ch[l], cout = c->ch[l + 1], kk = c->k * c->k, nj = cin * kk;
  double *gb = gw + c->boff[l];
  for (int o = 0; o < cout; o++) {
    const double *restrict g = gout + (size_t)o * (size_t)V;
    v4d a = {0, 0, 0, 0};
    for (long s = 0; s < V; s += 4) a += LD(g + s);
    gb[o] += hsum(a);
  }
  pad_planes(c, cin, in, pad);
  conv_wgrad(c, cout, cin, gout, pad, gw + c->woff[l]);
  if (!gin) return;
  const double *W = w + c->woff[l];
  const int nt = cout * kk;
  for (int i = 0; i < cin; i++)
    for (int o = 0; o < cout; o++)
      for (int tap = 0; tap < kk; tap++)
        Wt[(size_t)i * (size_t)nt + (size_t)(o * kk + tap)] =
            W[(size_t)o * (size_t)nj + (size_t)(i * kk + tap)];
  pad_planes(c, cout, gout, gpad);
  conv_pp(c, cin, cout, Wt, gpad, 1, NULL, gin);
}

void lf_flow_cnn_backward(const lf_flow_cnn *c, const double *w, const double *act,
                          const double *gout, double *gin, double *gw, double *scratch) {
  size_t pre[LF_FLOW_MAXHIDDEN + 2], post[LF_FLOW_MAXHIDDEN + 2];
  segments(c, pre, post);
  const size_t mx = (size_t)max_channels(c), V = (size_t)c->V;
  double *pad = scratch, *gpad = pad + mx * plane_size(c);
  double *bufA = gpad + mx * plane_size(c), *bufB = bufA + mx * V, *Wt = bufB + mx * V;
  const double *g = gout;
  for (int l = c->nconv - 1; l >= 0; l--) {
    double *dst = l > 0 ? (g == bufA ? bufB : bufA) : gin;
    conv_backward(c, l, w, act + post[l], g, dst, gw, pad, gpad, Wt);
    if (l > 0) {
      /* through LeakyReLU: gradient w.r.t. the pre-activation of conv l-1 */
      leaky((size_t)c->ch[l] * V, act + pre[l], dst, c->leak, 1);
      g = dst;
    }
  }
}
