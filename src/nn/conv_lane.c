/*
 * conv_lane.c -- the "batch-lane" direct kernels of the periodic convolution, used
 * when batch >= LF_NN_LANES (conv.c dispatches; docs/nn.md says why by measurement).
 *
 * Layout: samples are processed in chunks of LF_NN_LANES = 8; inside a chunk the data
 * are transposed to t[c][s][lane] (lane = sample within the chunk, zero-padded), so
 * one site of one channel is a 64-byte line = two 4-wide vectors. A tap is then a
 * table lookup nbr[s][t] and two aligned vector loads, for ANY lattice shape, and
 *   forward:  y[co][s][:] = b[co] + sum_{ci,t} w[co][ci][t] x[ci][nbr(s,t)][:]
 *   input gradient: the same kernel on dy with reflected taps (offset -d(t)),
 *   weight gradient: dw[co][ci][t] = sum_{s,lane} dy[co][s][lane] x[ci][nbr(s,t)][lane]
 * register-tiled (4 output channels x 8 lanes for forward; 2 channels x 3 taps x 8
 * lanes for dw). Math: conv.c and docs/nn.md.
 *
 * Thread contract: work units are (chunk, site range) pairs fixed by the shapes only;
 * forward/dx units write disjoint outputs; dw/db partials are kept per unit and summed
 * in unit order afterwards, so results are bitwise independent of the thread count.
 * Uses GCC/Clang vector extensions (4 x double).
 */
#include "internal.h"

#include <omp.h>
#include <string.h>

typedef double v4d __attribute__((vector_size(32)));
#define LANES LF_NN_LANES

#define ALWAYS_INLINE inline __attribute__((always_inline))

/* Partials budget (doubles) that bounds how finely sites are split for dw. */
#define PART_BUDGET (1L << 22)

typedef struct {
  int nch, nsb; /* chunks of LANES samples, site blocks per chunk */
  long nunits;
} lane_plan;

static lane_plan plan(const lf_nn_conv *c, int batch) {
  lane_plan p;
  p.nch = (batch + LANES - 1) / LANES;
  long V = c->vol, nw = (long)c->cout * c->cin * c->taps + c->cout;
  int nsb = V >= 4096 ? 8 : V >= 1024 ? 4 : V >= 256 ? 2 : 1;
  while (nsb > 1 && (long)p.nch * nsb * nw > PART_BUDGET) nsb /= 2;
  p.nsb = nsb;
  p.nunits = (long)p.nch * nsb;
  return p;
}

size_t lf_nn_conv_lane_scratch(const lf_nn_conv *c, int batch) {
  lane_plan p = plan(c, batch);
  size_t cv = (size_t)p.nch * LANES * (size_t)c->vol * 8;
  size_t nw = (size_t)c->cout * (size_t)c->cin * (size_t)c->taps;
  /* backward: xt, dyt, dxt + transposed weights + partials */
  return cv * (size_t)(2 * c->cin + c->cout) + nw * 8 + (size_t)p.nunits * (nw + (size_t)c->cout) * 8 +
         6 * LF_ALIGN;
}

/* t[ch][c][s][lane] = in[ch*LANES + lane][c][s] (zero for samples >= batch); one
 * 64-byte line written per site, eight input rows streamed. */
static void to_lanes(int batch, int C, long V, const double *restrict in, double *restrict t,
                     int nch) {
  static const double zeros[1] = {0.0};
#pragma omp for schedule(static)
  for (long cc = 0; cc < (long)nch * C; cc++) {
    int ch = (int)(cc / C), c = (int)(cc % C);
    double *restrict d = t + cc * V * LANES;
    const double *src[LANES];
    long inc[LANES];
    for (int l = 0; l < LANES; l++) {
      int b = ch * LANES + l;
      src[l] = b < batch ? in + ((long)b * C + c) * V : zeros;
      inc[l] = b < batch;
    }
    for (long i = 0; i < V; i++)
      for (int l = 0; l < LANES; l++) d[i * LANES + l] = src[l][i * inc[l]];
  }
}

/* out[ch*LANES + lane][c][s] = t[ch][c][s][lane] for the samples < batch. */
static void from_lanes(int batch, int C, long V, const double *restrict t, double *restrict out,
                       int nch) {
#pragma omp for schedule(static)
  for (long cc = 0; cc < (long)nch * C; cc++) {
    int ch = (int)(cc / C), c = (int)(cc % C);
    int nl = batch - ch * LANES < LANES ? batch - ch * LANES : LANES;
    const double *restrict s = t + cc * V * LANES;
    double *dst[LANES];
    for (int l = 0; l < nl; l++) dst[l] = out + ((long)(ch * LANES + l) * C + c) * V;
    if (nl == LANES)
      for (long i = 0; i < V; i++)
        for (int l = 0; l < LANES; l++) dst[l][i] = s[i * LANES + l];
    else
      for (long i = 0; i < V; i++)
        for (int l = 0; l < nl; l++) dst[l][i] = s[i * LANES + l];
  }
}

/* y[co0 .. co0+cb-1][s][:] over s in [s0, s1). wr: [C][T][Cout] (co contiguous).
 * Input channel stride V (sites of xt), output channel stride Vo (sites of yt; Vo = V
 * except for a restricted output, whose nbr rows are the listed sites' rows). */
/* Output channels co0..co0+cb-1 (wr, bias, yt already offset), input channels [c0, c1)
 * only; first = 1 starts from the bias, else from yt. nsite sites per step (2 when cb is
 * small, so that enough independent accumulators hide the FMA latency); the summation
 * order of every output is (ci, t) whatever cb and nsite. */
static ALWAYS_INLINE void fwd_tile(const int cb, const int nsite, int c0, int c1, int first,
                                   int T, int Cout, long V, long Vo, const int *restrict nbr,
                                   int reflect, long s0, long s1, const double *restrict wr,
                                   const double *restrict bias, const double *restrict xt,
                                   double *restrict yt) {
  for (long s = s0; s + nsite <= s1; s += nsite) {
    v4d a0[2][4], a1[2][4];
    for (int q = 0; q < nsite; q++)
      for (int c = 0; c < cb; c++) {
        const double *yp = yt + ((long)c * Vo + s + q) * LANES;
        if (first) {
          double b = bias ? bias[c] : 0.0;
          a0[q][c] = (v4d){b, b, b, b};
          a1[q][c] = a0[q][c];
        } else {
          a0[q][c] = *(const v4d *)yp;
          a1[q][c] = *(const v4d *)(yp + 4);
        }
      }
    const int *restrict ns = nbr + s * T;
    for (int ci = c0; ci < c1; ci++) {
      const double *restrict xc = xt + (long)ci * V * LANES;
      const double *restrict wc = wr + (long)ci * T * Cout;
      for (int t = 0; t < T; t++) {
        int tt = reflect ? T - 1 - t : t;
        const double *restrict wt = wc + (long)t * Cout;
        for (int q = 0; q < nsite; q++) {
          const double *xp = xc + (long)ns[q * T + tt] * LANES;
          v4d x0 = *(const v4d *)xp, x1 = *(const v4d *)(xp + 4);
          for (int c = 0; c < cb; c++) {
            a0[q][c] += wt[c] * x0;
            a1[q][c] += wt[c] * x1;
          }
        }
      }
    }
    for (int q = 0; q < nsite; q++)
      for (int c = 0; c < cb; c++) {
        double *yp = yt + ((long)c * Vo + s + q) * LANES;
        *(v4d *)yp = a0[q][c];
        *(v4d *)(yp + 4) = a1[q][c];
      }
  }
}

/* Input channels are taken in blocks whose taps fit in L1 (CI_BLOCK_BYTES), so the
 * neighbour lines of consecutive sites are reused from cache. */
#define CI_BLOCK_BYTES 16384
static void fwd_unit(int C, int T, int Cout, long V, long Vo, const int *nbr, int reflect,
                     long s0, long s1, const double *wr, const double *bias, const double *xt,
                     double *yt) {
  int cib = CI_BLOCK_BYTES / (T * LANES * 8);
  if (cib < 1) cib = 1;
  long sm = s0 + (s1 - s0) / 2 * 2; /* [s0, sm) in pairs, [sm, s1) single */
  for (int c0 = 0; c0 < C; c0 += cib) {
    int c1 = c0 + cib < C ? c0 + cib : C, first = c0 == 0;
    int co = 0;
    for (; co + 4 <= Cout; co += 4)
      fwd_tile(4, 1, c0, c1, first, T, Cout, V, Vo, nbr, reflect, s0, s1, wr + co,
               bias ? bias + co : NULL, xt, yt + (long)co * Vo * LANES);
    const double *bp = bias ? bias + co : NULL;
    const double *w = wr + co;
    double *yp = yt + (long)co * Vo * LANES;
    switch (Cout - co) {
    case 3: fwd_tile(3, 1, c0, c1, first, T, Cout, V, Vo, nbr, reflect, s0, s1, w, bp, xt, yp); break;
    case 2:
      fwd_tile(2, 2, c0, c1, first, T, Cout, V, Vo, nbr, reflect, s0, sm, w, bp, xt, yp);
      fwd_tile(2, 1, c0, c1, first, T, Cout, V, Vo, nbr, reflect, sm, s1, w, bp, xt, yp);
      break;
    case 1:
      fwd_tile(1, 2, c0, c1, first, T, Cout, V, Vo, nbr, reflect, s0, sm, w, bp, xt, yp);
      fwd_tile(1, 1, c0, c1, first, T, Cout, V, Vo, nbr, reflect, sm, s1, w, bp, xt, yp);
      break;
    default: break;
    }
  }
}

static inline double hsum(const v4d *a, const v4d *b) { /* pointers: no AVX ABI needed */
  v4d s = *a + *b;
  return (s[0] + s[1]) + (s[2] + s[3]);
}

/* dw[co0+c][ci][t0+u] += sum_{s, lane} dy[co0+c][s] x[ci][nbr(s, t0+u)], c < cb, u < tb. */
static ALWAYS_INLINE void dw_tile(const int cb, const int tb, int cin, int T, long V, long Vo,
                                  const int *restrict nbr, long s0, long s1, int ci, int t0,
                                  const double *restrict dyt, const double *restrict xt,
                                  double *restrict dw) {
  v4d a[2][3][2];
  for (int c = 0; c < cb; c++)
    for (int u = 0; u < tb; u++) a[c][u][0] = a[c][u][1] = (v4d){0, 0, 0, 0};
  const double *restrict xc = xt + (long)ci * V * LANES;
  for (long s = s0; s < s1; s++) {
    v4d d0[2], d1[2];
    for (int c = 0; c < cb; c++) {
      const double *dp = dyt + ((long)c * Vo + s) * LANES;
      d0[c] = *(const v4d *)dp;
      d1[c] = *(const v4d *)(dp + 4);
    }
    const int *restrict ns = nbr + s * T + t0;
    for (int u = 0; u < tb; u++) {
      const double *xp = xc + (long)ns[u] * LANES;
      v4d x0 = *(const v4d *)xp, x1 = *(const v4d *)(xp + 4);
      for (int c = 0; c < cb; c++) {
        a[c][u][0] += d0[c] * x0;
        a[c][u][1] += d1[c] * x1;
      }
    }
  }
  for (int c = 0; c < cb; c++)
    for (int u = 0; u < tb; u++) dw[((long)c * cin + ci) * T + t0 + u] += hsum(&a[c][u][0], &a[c][u][1]);
}

static void dw_unit(int cin, int cout, int T, long V, long Vo, const int *nbr, long s0, long s1,
                    const double *dyt, const double *xt, double *dw) {
  for (int co = 0; co < cout; co += 2) {
    int cb = cout - co >= 2 ? 2 : 1;
    const double *dp = dyt + (long)co * Vo * LANES;
    double *wp = dw + (long)co * cin * T;
    for (int ci = 0; ci < cin; ci++) {
      int t = 0;
      if (cb == 2) {
        for (; t + 3 <= T; t += 3) dw_tile(2, 3, cin, T, V, Vo, nbr, s0, s1, ci, t, dp, xt, wp);
        for (; t < T; t++) dw_tile(2, 1, cin, T, V, Vo, nbr, s0, s1, ci, t, dp, xt, wp);
      } else {
        for (; t + 3 <= T; t += 3) dw_tile(1, 3, cin, T, V, Vo, nbr, s0, s1, ci, t, dp, xt, wp);
        for (; t < T; t++) dw_tile(1, 1, cin, T, V, Vo, nbr, s0, s1, ci, t, dp, xt, wp);
      }
    }
  }
}

/* Input gradient of a conv whose output is restricted to listed sites (lf_nn_outsites):
 * dx[c][s][:] = sum_{co} sum_{entries (t, j) of s} wr[co][t][c] dy[co][j][:] for the cb
 * channels c of the tile, s in [s0, s1). The entries of s are the (tap, listed site) pairs
 * with site(j) + d(t) = s, in (j, t) order; dy has channel stride Vi (listed sites), dx Vo. */
static ALWAYS_INLINE void csr_tile(const int cb, int C, int T, int Cw, long Vi, long Vo,
                                   const long *restrict rowptr, const int *restrict etap,
                                   const int *restrict esrc, long s0, long s1,
                                   const double *restrict wr, const double *restrict xt,
                                   double *restrict yt) {
  for (long s = s0; s < s1; s++) {
    v4d a0[4], a1[4];
    for (int c = 0; c < cb; c++) a0[c] = a1[c] = (v4d){0, 0, 0, 0};
    const long e0 = rowptr[s], e1 = rowptr[s + 1];
    for (int ci = 0; ci < C; ci++) {
      const double *restrict xc = xt + (long)ci * Vi * LANES;
      const double *restrict wc = wr + (long)ci * T * Cw;
      for (long e = e0; e < e1; e++) {
        const double *restrict wt = wc + (long)etap[e] * Cw;
        const double *xp = xc + (long)esrc[e] * LANES;
        v4d x0 = *(const v4d *)xp, x1 = *(const v4d *)(xp + 4);
        for (int c = 0; c < cb; c++) {
          a0[c] += wt[c] * x0;
          a1[c] += wt[c] * x1;
        }
      }
    }
    for (int c = 0; c < cb; c++) {
      double *yp = yt + ((long)c * Vo + s) * LANES;
      *(v4d *)yp = a0[c];
      *(v4d *)(yp + 4) = a1[c];
    }
  }
}

static void csr_unit(int C, int T, int Cw, long Vi, long Vo, const lf_nn_outsites *o, long s0,
                     long s1, const double *wr, const double *xt, double *yt) {
  int c = 0;
  for (; c + 4 <= Cw; c += 4)
    csr_tile(4, C, T, Cw, Vi, Vo, o->rowptr, o->etap, o->esrc, s0, s1, wr + c, xt,
             yt + (long)c * Vo * LANES);
  const double *w = wr + c;
  double *yp = yt + (long)c * Vo * LANES;
  switch (Cw - c) {
  case 3: csr_tile(3, C, T, Cw, Vi, Vo, o->rowptr, o->etap, o->esrc, s0, s1, w, xt, yp); break;
  case 2: csr_tile(2, C, T, Cw, Vi, Vo, o->rowptr, o->etap, o->esrc, s0, s1, w, xt, yp); break;
  case 1: csr_tile(1, C, T, Cw, Vi, Vo, o->rowptr, o->etap, o->esrc, s0, s1, w, xt, yp); break;
  default: break;
  }
}

static inline void unit_range(const lane_plan *p, long V, long u, int *ch, long *s0, long *s1) {
  *ch = (int)(u / p->nsb);
  int sb = (int)(u % p->nsb);
  *s0 = sb * V / p->nsb;
  *s1 = (sb + 1) * V / p->nsb;
}

/* ---------------------------------------------------------------- lane-layout API */
void lf_nn_lanes_pack(int batch, int C, long V, const double *in, double *t, int parallel) {
  int nch = (batch + LANES - 1) / LANES;
#pragma omp parallel if (parallel)
  to_lanes(batch, C, V, in, t, nch);
}

void lf_nn_lanes_unpack(int batch, int C, long V, const double *t, double *out, int parallel) {
  int nch = (batch + LANES - 1) / LANES;
#pragma omp parallel if (parallel)
  from_lanes(batch, C, V, t, out, nch);
}

void lf_nn_lanes_pack_sites(int batch, int C, long V, const lf_nn_outsites *o, const double *in,
                            double *t, int parallel) {
  const int nch = (batch + LANES - 1) / LANES;
  const long n = o->n;
#pragma omp parallel for schedule(static) if (parallel)
  for (long cc = 0; cc < (long)nch * C; cc++) {
    int ch = (int)(cc / C), c = (int)(cc % C);
    double *restrict d = t + cc * n * LANES;
    for (int l = 0; l < LANES; l++) {
      int b = ch * LANES + l;
      const double *src = b < batch ? in + ((long)b * C + c) * V : NULL;
      for (long j = 0; j < n; j++) d[j * LANES + l] = src ? src[o->site[j]] : 0.0;
    }
  }
}

void lf_nn_lanes_unpack_sites(int batch, int C, long V, const lf_nn_outsites *o, const double *t,
                              double *out, int parallel) {
  const int nch = (batch + LANES - 1) / LANES;
  const long n = o->n;
#pragma omp parallel for schedule(static) if (parallel)
  for (long cc = 0; cc < (long)nch * C; cc++) {
    int ch = (int)(cc / C), c = (int)(cc % C);
    const double *restrict sp = t + cc * n * LANES;
    for (int l = 0; l < LANES && ch * LANES + l < batch; l++) {
      double *dst = out + ((long)(ch * LANES + l) * C + c) * V;
      memset(dst, 0, (size_t)V * sizeof *dst);
      for (long j = 0; j < n; j++) dst[o->site[j]] = sp[j * LANES + l];
    }
  }
}

int lf_nn_conv_lane_forward_t(const lf_nn_conv *c, const lf_nn_outsites *o, int batch,
                              const double *w, const double *bias, const double *xt, double *yt,
                              lf_arena *ws) {
  const lane_plan p = plan(c, batch);
  const long V = c->vol, Vo = o ? o->n : V;
  const int *nbr = o ? o->nbr : c->nbr;
  const int T = c->taps, cin = c->cin, cout = c->cout;
  size_t mark = ws->used;
  double *wr = lf_arena_alloc(ws, (size_t)cout * cin * T * 8);
  if (!wr) return lf_error_context(LF_ENOMEM, "convolution scratch (enlarge the arena)");
  for (int co = 0; co < cout; co++) /* wr[ci][t][co] */
    for (int ci = 0; ci < cin; ci++)
      for (int t = 0; t < T; t++)
        wr[((long)ci * T + t) * cout + co] = w[((long)co * cin + ci) * T + t];
#pragma omp parallel for schedule(static) if (lf_nn_conv_macs(c, batch) >= LF_NN_PAR_MIN_MACS)
  for (long u = 0; u < p.nunits; u++) {
    int ch;
    long s0, s1;
    unit_range(&p, Vo, u, &ch, &s0, &s1);
    fwd_unit(cin, T, cout, V, Vo, nbr, 0, s0, s1, wr, bias, xt + (long)ch * cin * V * LANES,
             yt + (long)ch * cout * Vo * LANES);
  }
  ws->used = mark;
  return LF_OK;
}

int lf_nn_conv_lane_backward_t(const lf_nn_conv *c, const lf_nn_outsites *o, int batch,
                               const double *w, const double *xt, const double *dyt, double *dxt,
                               double *dw, double *db, lf_arena *ws) {
  const lane_plan p = plan(c, batch);
  const long V = c->vol, Vo = o ? o->n : V;
  const int *nbr = o ? o->nbr : c->nbr;
  const int T = c->taps, cin = c->cin, cout = c->cout;
  const long nw = (long)cout * cin * T, np = nw + cout;
  const int want_w = dw || db;
  size_t mark = ws->used;
  double *wr = dxt ? lf_arena_alloc(ws, (size_t)nw * 8) : NULL;
  double *part = want_w ? lf_arena_alloc(ws, (size_t)(p.nunits * np) * 8) : NULL;
  if ((want_w && !part) || (dxt && !wr)) {
    ws->used = mark;
    return lf_error_context(LF_ENOMEM, "convolution backward scratch (enlarge the arena)");
  }
  if (dxt) /* wr[co][t][ci] = w[co][ci][t] */
    for (int co = 0; co < cout; co++)
      for (int ci = 0; ci < cin; ci++)
        for (int t = 0; t < T; t++)
          wr[((long)co * T + t) * cin + ci] = w[((long)co * cin + ci) * T + t];
  if (want_w) memset(part, 0, (size_t)(p.nunits * np) * 8);
#pragma omp parallel for schedule(static) if (lf_nn_conv_macs(c, batch) >= LF_NN_PAR_MIN_MACS)
  for (long u = 0; u < p.nunits; u++) {
    int ch;
    long s0, s1;
    unit_range(&p, V, u, &ch, &s0, &s1);
    const double *dyc = dyt + (long)ch * cout * Vo * LANES;
    if (dxt && o)
      csr_unit(cout, T, cin, Vo, V, o, s0, s1, wr, dyc, dxt + (long)ch * cin * V * LANES);
    else if (dxt)
      fwd_unit(cout, T, cin, V, V, c->nbr, 1, s0, s1, wr, NULL, dyc,
               dxt + (long)ch * cin * V * LANES);
    if (want_w) {
      double *pw = part + u * np;
      if (o) unit_range(&p, Vo, u, &ch, &s0, &s1); /* dw, db: over the listed sites */
      dw_unit(cin, cout, T, V, Vo, nbr, s0, s1, dyc, xt + (long)ch * cin * V * LANES, pw);
      for (int co = 0; co < cout; co++) {
        const double *dp = dyc + (long)co * Vo * LANES;
        v4d a0 = {0, 0, 0, 0}, a1 = {0, 0, 0, 0};
        for (long s = s0; s < s1; s++) {
          a0 += *(const v4d *)(dp + s * LANES);
          a1 += *(const v4d *)(dp + s * LANES + 4);
        }
        pw[nw + co] = hsum(&a0, &a1);
      }
    }
  }
  if (want_w)
    for (long u = 0; u < p.nunits; u++) {
      const double *pw = part + u * np;
      if (dw)
        for (long i = 0; i < nw; i++) dw[i] += pw[i];
      if (db)
        for (int co = 0; co < cout; co++) db[co] += pw[nw + co];
    }
  ws->used = mark;
  return LF_OK;
}

/* ---------------------------------------------------------------- public-layout wrappers */
int lf_nn_conv_lane_forward(const lf_nn_conv *c, int batch, const double *w, const double *bias,
                            const double *x, double *y, lf_arena *ws) {
  const long cv = (long)lf_nn_lanes_batch(batch) * c->vol;
  const int par = lf_nn_conv_macs(c, batch) >= LF_NN_PAR_MIN_MACS;
  double *xt = lf_arena_alloc(ws, (size_t)(cv * c->cin) * 8);
  double *yt = xt ? lf_arena_alloc(ws, (size_t)(cv * c->cout) * 8) : NULL;
  if (!yt) return lf_error_context(LF_ENOMEM, "convolution scratch (enlarge the arena)");
  lf_nn_lanes_pack(batch, c->cin, c->vol, x, xt, par);
  LF_CHECK(lf_nn_conv_lane_forward_t(c, NULL, batch, w, bias, xt, yt, ws));
  lf_nn_lanes_unpack(batch, c->cout, c->vol, yt, y, par);
  return LF_OK;
}

int lf_nn_conv_lane_backward(const lf_nn_conv *c, int batch, const double *w, const double *x,
                             const double *dy, double *dx, double *dw, double *db,
                             lf_arena *ws) {
  const long cv = (long)lf_nn_lanes_batch(batch) * c->vol;
  const int par = lf_nn_conv_macs(c, batch) >= LF_NN_PAR_MIN_MACS, want_w = dw || db;
  double *dyt = lf_arena_alloc(ws, (size_t)(cv * c->cout) * 8);
  double *xt = dyt && want_w ? lf_arena_alloc(ws, (size_t)(cv * c->cin) * 8) : NULL;
  double *dxt = dyt && dx ? lf_arena_alloc(ws, (size_t)(cv * c->cin) * 8) : NULL;
  if (!dyt || (want_w && !xt) || (dx && !dxt))
    return lf_error_context(LF_ENOMEM, "convolution backward scratch (enlarge the arena)");
  lf_nn_lanes_pack(batch, c->cout, c->vol, dy, dyt, par);
  if (want_w) lf_nn_lanes_pack(batch, c->cin, c->vol, x, xt, par);
  LF_CHECK(lf_nn_conv_lane_backward_t(c, NULL, batch, w, xt, dyt, dxt, dw, db, ws));
  if (dx) lf_nn_lanes_unpack(batch, c->cin, c->vol, dxt, dx, par);
  return LF_OK;
}
