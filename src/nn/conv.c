/*
 * conv.c -- periodic (circular) convolution on a 2-, 3- or 4-dimensional lattice:
 * forward, backward to the input, weight and bias gradients.
 *
 * Math (docs/nn.md, "Periodic convolution"): cross-correlation with circular padding,
 *   y[b][co][s] = bias[co] + sum_{ci,t} w[co][ci][t] x[b][ci][s + d(t)],
 *   dx[b][ci][s] = sum_{co,t} w[co][ci][t] dy[b][co][s - d(t)],
 *   dw[co][ci][t] = sum_{b,s} dy[b][co][s] x[b][ci][s + d(t)],  db[co] = sum_{b,s} dy.
 * Same convention as torch.nn.ConvNd(padding_mode="circular") (Paszke et al. 2019).
 *
 * Method: im2col + GEMM (OpenBLAS dgemm) on blocks of (sample, site) columns:
 * col[ci*T + t][j] = x[b_j][ci][s_j + d(t)] is built row by row (an x-line shifted by
 * d0 is two contiguous copies; the other offsets come from a row table), then
 * y_block = W col (M = cout, N = columns, K = cin*T). The input gradient is the same
 * operation on dy with reflected taps and W transposed per tap (a gather, no scatter);
 * dw accumulates dy_block col^T.
 *
 * Thread contract: blocks are fixed by (batch, lattice, LF_NN_CONV_NB), never by the
 * thread count. Forward and dx are per-block and independent. dw/db are reduced per
 * group of contiguous samples (lf_nn_ngroups(batch) groups, blocks summed in order
 * inside a group, groups summed in index order afterwards), so all outputs are
 * bitwise identical for any OMP_NUM_THREADS. OpenBLAS runs single-threaded inside the
 * OpenMP regions (lf_nn_blas_single_thread).
 */
#include "internal.h"

#include <cblas.h>
#include <omp.h>
#include <stdatomic.h>
#include <string.h>

static atomic_int blas_configured;

void lf_nn_blas_single_thread(void) {
  if (atomic_load(&blas_configured)) return;
#pragma omp critical(lf_nn_blas)
  {
    if (!atomic_load(&blas_configured)) {
      openblas_set_num_threads(1);
      atomic_store(&blas_configured, 1);
    }
  }
}

int lf_nn_conv_init(lf_nn_conv *c, int nd, const int *L, int k, int cin, int cout) {
  memset(c, 0, sizeof *c);
  if (nd < 2 || nd > LF_NN_MAXDIM)
    return LF_ERROR(LF_EINVAL, "convolution dimension %d not supported; use 2, 3 or 4", nd);
  if (k < 1 || k % 2 == 0)
    return LF_ERROR(LF_EINVAL, "kernel size %d must be odd and positive (1, 3, 5, ...)", k);
  if (cin < 1 || cout < 1)
    return LF_ERROR(LF_EINVAL, "channel counts must be >= 1 (got cin %d, cout %d)", cin, cout);
  long vol = 1;
  for (int mu = 0; mu < LF_NN_MAXDIM; mu++) {
    int l = mu < nd ? L[mu] : 1;
    if (l < 1 || l > 4096)
      return LF_ERROR(LF_EINVAL, "lattice extent L[%d] = %d out of range 1..4096", mu, l);
    c->L[mu] = l;
    vol *= l;
  }
  c->nd = nd;
  c->vol = vol;
  c->k = k;
  c->cin = cin;
  c->cout = cout;
  int rtaps = 1;
  for (int mu = 1; mu < nd; mu++) rtaps *= k;
  c->taps = rtaps * k;
  long nrows = vol / c->L[0];
  c->rowsrc = lf_alloc((size_t)rtaps * (size_t)nrows * sizeof(int));
  if (!c->rowsrc) return LF_ENOMEM;
  /* rowsrc[rt][row]: row reached from `row` by the offsets (d1, d2, d3) of rest-tap rt. */
  int h = k / 2;
  for (int rt = 0; rt < rtaps; rt++) {
    int d[LF_NN_MAXDIM] = {0, 0, 0, 0};
    int q = rt;
    for (int mu = 1; mu < nd; mu++) {
      d[mu] = q % k - h;
      q /= k;
    }
    for (long row = 0; row < nrows; row++) {
      long rem = row, src = 0, stride = 1;
      for (int mu = 1; mu < LF_NN_MAXDIM; mu++) {
        long x = rem % c->L[mu];
        rem /= c->L[mu];
        long xs = ((x + d[mu]) % c->L[mu] + c->L[mu]) % c->L[mu];
        src += xs * stride;
        stride *= c->L[mu];
      }
      c->rowsrc[(long)rt * nrows + row] = (int)src;
    }
  }
  /* nbr[s][t] = s + d(t) for the batch-lane kernels (conv_lane.c) */
  if ((double)vol * (double)c->taps <= (double)LF_NN_NBR_MAX) {
    c->nbr = lf_alloc((size_t)vol * (size_t)c->taps * sizeof(int));
    if (!c->nbr) {
      lf_nn_conv_clear(c);
      return LF_ENOMEM;
    }
    long L0 = c->L[0];
    for (long s = 0; s < vol; s++) {
      long x0 = s % L0, row = s / L0;
      for (int t = 0; t < c->taps; t++) {
        long xs = ((x0 + t % k - h) % L0 + L0) % L0;
        c->nbr[s * c->taps + t] = (int)((long)c->rowsrc[(long)(t / k) * nrows + row] * L0 + xs);
      }
    }
  }
  return LF_OK;
}

int lf_nn_conv_set_method(lf_nn_conv *c, lf_nn_conv_method m) {
  if (m == LF_NN_CONV_LANES && !c->nbr)
    return LF_ERROR(LF_EUNSUP, "batch-lane convolution needs a neighbour table of %g ints "
                    "(limit %ld); use AUTO or IM2COL", (double)c->vol * c->taps, LF_NN_NBR_MAX);
  c->method = (int)m;
  return LF_OK;
}

int lf_nn_conv_pick_lanes(const lf_nn_conv *c, int batch) {
  if (c->method == LF_NN_CONV_IM2COL) return 0;
  if (c->method == LF_NN_CONV_LANES) return 1;
  return lf_nn_conv_use_lanes(c, batch);
}

void lf_nn_conv_clear(lf_nn_conv *c) {
  lf_free(c->rowsrc);
  lf_free(c->nbr);
  c->rowsrc = NULL;
  c->nbr = NULL;
}

double lf_nn_conv_macs(const lf_nn_conv *c, int batch) {
  return (double)batch * (double)c->vol * (double)c->cin * (double)c->cout * (double)c->taps;
}

/* ---------------------------------------------------------------- blocks */
/* Blocks of group [b0, b1): whole samples (several per block) when a sample has fewer
 * than LF_NN_CONV_NB sites, else row ranges of one sample. Returns the count; fills
 * out[] when non-NULL. */
static long group_blocks(const lf_nn_conv *c, int b0, int b1, lf_nn_block *out) {
  long V = c->vol, L0 = c->L[0], nrows = V / L0, n = 0;
  if (V < LF_NN_CONV_NB) {
    int spb = (int)(LF_NN_CONV_NB / V);
    for (int b = b0; b < b1; b += spb) {
      if (out) out[n] = (lf_nn_block){b, b1 - b < spb ? b1 - b : spb, 0, nrows};
      n++;
    }
  } else {
    long rpb = LF_NN_CONV_NB / L0 > 0 ? LF_NN_CONV_NB / L0 : 1;
    for (int b = b0; b < b1; b++)
      for (long r = 0; r < nrows; r += rpb) {
        if (out) out[n] = (lf_nn_block){b, 1, r, nrows - r < rpb ? nrows - r : rpb};
        n++;
      }
  }
  return n;
}

static long max_block_cols(const lf_nn_conv *c) {
  long V = c->vol, L0 = c->L[0];
  if (V < LF_NN_CONV_NB) return (LF_NN_CONV_NB / V) * V;
  long rpb = LF_NN_CONV_NB / L0 > 0 ? LF_NN_CONV_NB / L0 : 1;
  return rpb * L0;
}

static inline long block_cols(const lf_nn_conv *c, const lf_nn_block *bl) {
  return (long)bl->nsb * bl->nr * c->L[0];
}

/* col[(ch*T + t)*nb + j] = in[b_j][ch][s_j + sign*d(t)], sign = -1 when reflect. */
static void im2col(const lf_nn_conv *c, const lf_nn_block *bl, int C, const double *in,
                   int reflect, double *restrict col) {
  const long V = c->vol, L0 = c->L[0], nrows = V / L0, nb = block_cols(c, bl);
  const int T = c->taps, k = c->k, h = k / 2;
  for (int ch = 0; ch < C; ch++)
    for (int t = 0; t < T; t++) {
      int tt = reflect ? T - 1 - t : t;
      int d0 = tt % k - h;
      long sh = ((d0 % L0) + L0) % L0;
      const int *rs = c->rowsrc + (long)(tt / k) * nrows;
      double *restrict dst = col + ((long)ch * T + t) * nb;
      for (int bb = 0; bb < bl->nsb; bb++) {
        const double *src = in + ((long)(bl->b0 + bb) * C + ch) * V;
        for (long r = bl->r0; r < bl->r0 + bl->nr; r++) {
          const double *restrict row = src + (long)rs[r] * L0;
          for (long x = 0; x < L0 - sh; x++) dst[x] = row[x + sh];
          for (long x = L0 - sh; x < L0; x++) dst[x] = row[x + sh - L0];
          dst += L0;
        }
      }
    }
}

/* out[b][ch][s] = tmp[ch][j] (+ bias[ch]) for the block's columns. */
static void scatter(const lf_nn_conv *c, const lf_nn_block *bl, int C, const double *tmp,
                    const double *bias, double *out) {
  const long V = c->vol, L0 = c->L[0], nb = block_cols(c, bl), run = bl->nr * L0;
  for (int ch = 0; ch < C; ch++) {
    double b = bias ? bias[ch] : 0.0;
    for (int bb = 0; bb < bl->nsb; bb++) {
      const double *restrict s = tmp + (long)ch * nb + (long)bb * run;
      double *restrict d = out + ((long)(bl->b0 + bb) * C + ch) * V + bl->r0 * L0;
      for (long j = 0; j < run; j++) d[j] = s[j] + b;
    }
  }
}

/* tmp[ch][j] = in[b][ch][s] for the block's columns. */
static void gather(const lf_nn_conv *c, const lf_nn_block *bl, int C, const double *in,
                   double *tmp) {
  const long V = c->vol, L0 = c->L[0], nb = block_cols(c, bl), run = bl->nr * L0;
  for (int ch = 0; ch < C; ch++)
    for (int bb = 0; bb < bl->nsb; bb++)
      memcpy(tmp + (long)ch * nb + (long)bb * run,
             in + ((long)(bl->b0 + bb) * C + ch) * V + bl->r0 * L0, (size_t)run * sizeof(double));
}

/* All blocks of all groups, in group order; *nblk receives the count. */
static lf_nn_block *all_blocks(const lf_nn_conv *c, int batch, long *nblk, long *gstart,
                               lf_arena *ws) {
  int G = lf_nn_ngroups(batch);
  long n = 0;
  for (int g = 0; g < G; g++) {
    int b0, b1;
    lf_nn_group_range(batch, g, &b0, &b1);
    if (gstart) gstart[g] = n;
    n += group_blocks(c, b0, b1, NULL);
  }
  if (gstart) gstart[G] = n;
  lf_nn_block *bl = lf_arena_alloc(ws, (size_t)n * sizeof *bl);
  if (!bl) return NULL;
  long m = 0;
  for (int g = 0; g < G; g++) {
    int b0, b1;
    lf_nn_group_range(batch, g, &b0, &b1);
    m += group_blocks(c, b0, b1, bl + m);
  }
  *nblk = n;
  return bl;
}

static int check_args(const lf_nn_conv *c, int batch) {
  if (!c->rowsrc) return LF_ERROR(LF_ESTATE, "convolution used before lf_nn_conv_init");
  if (batch < 1) return LF_ERROR(LF_EINVAL, "batch size %d must be >= 1", batch);
  return LF_OK;
}

int lf_nn_conv_forward(const lf_nn_conv *c, int batch, const double *restrict w,
                       const double *restrict bias, const double *restrict x,
                       double *restrict y, lf_arena *ws) {
  LF_CHECK(check_args(c, batch));
  size_t mark = ws->used;
  if (lf_nn_conv_pick_lanes(c, batch)) {
    int rc = lf_nn_conv_lane_forward(c, batch, w, bias, x, y, ws);
    ws->used = mark;
    return rc;
  }
  lf_nn_blas_single_thread();
  long nblk;
  lf_nn_block *bl = all_blocks(c, batch, &nblk, NULL, ws);
  int nth = omp_get_max_threads();
  long nbmax = max_block_cols(c), K = (long)c->cin * c->taps;
  size_t per = (size_t)(K + c->cout) * (size_t)nbmax;
  double *buf = bl ? lf_arena_alloc(ws, (size_t)nth * per * sizeof(double)) : NULL;
  if (!buf) {
    ws->used = mark;
    return lf_error_context(LF_ENOMEM, "convolution scratch (enlarge the arena)");
  }
#pragma omp parallel num_threads(nth) if (lf_nn_conv_macs(c, batch) >= LF_NN_PAR_MIN_MACS)
  {
    double *col = buf + (size_t)omp_get_thread_num() * per;
    double *tmp = col + (size_t)K * (size_t)nbmax;
#pragma omp for schedule(static)
    for (long i = 0; i < nblk; i++) {
      long nb = block_cols(c, &bl[i]);
      im2col(c, &bl[i], c->cin, x, 0, col);
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->cout, (int)nb, (int)K, 1.0, w,
                  (int)K, col, (int)nb, 0.0, tmp, (int)nb);
      scatter(c, &bl[i], c->cout, tmp, bias, y);
    }
  }
  ws->used = mark;
  return LF_OK;
}

int lf_nn_conv_backward(const lf_nn_conv *c, int batch, const double *restrict w,
                        const double *restrict x, const double *restrict dy,
                        double *restrict dx, double *restrict dw, double *restrict db,
                        lf_arena *ws) {
  LF_CHECK(check_args(c, batch));
  size_t mark = ws->used;
  if (lf_nn_conv_pick_lanes(c, batch)) {
    int rc = lf_nn_conv_lane_backward(c, batch, w, x, dy, dx, dw, db, ws);
    ws->used = mark;
    return rc;
  }
  lf_nn_blas_single_thread();
  const int G = lf_nn_ngroups(batch), T = c->taps, cin = c->cin, cout = c->cout;
  long gstart[LF_NN_CONV_GROUPS + 1];
  long nblk;
  lf_nn_block *bl = all_blocks(c, batch, &nblk, gstart, ws);
  int nth = omp_get_max_threads();
  long nbmax = max_block_cols(c);
  long Kx = (long)cin * T, Ky = (long)cout * T, Kmax = Kx > Ky ? Kx : Ky;
  long nw = (long)cout * Kx, np = nw + cout; /* partial: dw then db */
  size_t per = (size_t)(Kmax + cin + cout) * (size_t)nbmax;
  double *buf = bl ? lf_arena_alloc(ws, (size_t)nth * per * sizeof(double)) : NULL;
  int want_w = dw || db;
  double *part = (buf && want_w) ? lf_arena_alloc(ws, (size_t)G * (size_t)np * sizeof(double))
                                 : NULL;
  double *wt = (buf && dx) ? lf_arena_alloc(ws, (size_t)nw * sizeof(double)) : NULL;
  if (!buf || (want_w && !part) || (dx && !wt)) {
    ws->used = mark;
    return lf_error_context(LF_ENOMEM, "convolution backward scratch (enlarge the arena)");
  }
  if (want_w) memset(part, 0, (size_t)G * (size_t)np * sizeof(double));
  if (dx) /* wt[ci][co*T + t] = w[co][ci*T + t] */
    for (int co = 0; co < cout; co++)
      for (int ci = 0; ci < cin; ci++)
        memcpy(wt + ((long)ci * cout + co) * T, w + ((long)co * cin + ci) * T,
               (size_t)T * sizeof(double));
#pragma omp parallel num_threads(nth) if (lf_nn_conv_macs(c, batch) >= LF_NN_PAR_MIN_MACS)
  {
    double *col = buf + (size_t)omp_get_thread_num() * per;
    double *dyt = col + (size_t)Kmax * (size_t)nbmax;
    double *dxt = dyt + (size_t)cout * (size_t)nbmax;
#pragma omp for schedule(static)
    for (int g = 0; g < G; g++) {
      double *pw = want_w ? part + (size_t)g * (size_t)np : NULL;
      for (long i = gstart[g]; i < gstart[g + 1]; i++) {
        const lf_nn_block *b = &bl[i];
        long nb = block_cols(c, b);
        gather(c, b, cout, dy, dyt);
        if (want_w) {
          im2col(c, b, cin, x, 0, col);
          cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, cout, (int)Kx, (int)nb, 1.0, dyt,
                      (int)nb, col, (int)nb, 1.0, pw, (int)Kx);
          for (int co = 0; co < cout; co++) {
            const double *r = dyt + (long)co * nb;
            double s = 0.0;
            for (long j = 0; j < nb; j++) s += r[j];
            pw[nw + co] += s;
          }
        }
        if (dx) {
          im2col(c, b, cout, dy, 1, col);
          cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cin, (int)nb, (int)Ky, 1.0, wt,
                      (int)Ky, col, (int)nb, 0.0, dxt, (int)nb);
          scatter(c, b, cin, dxt, NULL, dx);
        }
      }
    }
  }
  if (want_w)
    for (int g = 0; g < G; g++) {
      const double *pw = part + (size_t)g * (size_t)np;
      if (dw)
        for (long i = 0; i < nw; i++) dw[i] += pw[i];
      if (db)
        for (int co = 0; co < cout; co++) db[co] += pw[nw + co];
    }
  ws->used = mark;
  return LF_OK;
}

size_t lf_nn_conv_scratch_bytes(const lf_nn_conv *c, int batch) {
  int G = lf_nn_ngroups(batch);
  long nblk = 0;
  for (int g = 0; g < G; g++) {
    int b0, b1;
    lf_nn_group_range(batch, g, &b0, &b1);
    nblk += group_blocks(c, b0, b1, NULL);
  }
  long Kx = (long)c->cin * c->taps, Ky = (long)c->cout * c->taps, Kmax = Kx > Ky ? Kx : Ky;
  size_t per = (size_t)(Kmax + c->cin + c->cout) * (size_t)max_block_cols(c);
  size_t bytes = (size_t)nblk * sizeof(lf_nn_block) + (size_t)omp_get_max_threads() * per * 8 +
                 (size_t)G * (size_t)(c->cout * Kx + c->cout) * 8 + (size_t)(c->cout * Kx) * 8;
  size_t lane = lf_nn_conv_lane_scratch(c, batch);
  return (bytes > lane ? bytes : lane) + 4 * LF_ALIGN;
}
