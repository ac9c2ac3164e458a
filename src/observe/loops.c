/*
 * loops.c -- rectangles (1x2, 2x1), R x T Wilson loops and the Polyakov loop
 * (docs/observables.md). Normalisation Re tr / N (Polyakov: tr / N, complex).
 * Thread contract: OpenMP over sites through lf_obs_reduce (fixed chunk partition, sums
 * in chunk order): results are independent of the number of threads.
 */
#include "internal.h"

/* ---------------------------------------------------------------- rectangles */
static void rect_site(const void *ctx, long s, double *acc, void *scratch) {
  (void)scratch;
  const lf_gauge *f = ctx;
  const int nd = f->lat->nd, n = f->n;
  lf_cplx a[9], b[9];
  for (int mu = 0; mu < nd; mu++)
    for (int nu = mu + 1; nu < nd; nu++) {
      /* 2 along mu, 1 along nu; then 1 along mu, 2 along nu. Both split in two halves
       * so that Re tr(a b^dag) closes the loop. */
      const int m = mu + 1, u = nu + 1;
      const int h1[3] = {m, m, u}, h2[3] = {u, m, m};
      lf_obs_path(f, s, h1, 3, a);
      lf_obs_path(f, s, h2, 3, b);
      acc[0] += lf_mat_retr_mul_dag(n, a, b);
      const int k1[3] = {m, u, u}, k2[3] = {u, u, m};
      lf_obs_path(f, s, k1, 3, a);
      lf_obs_path(f, s, k2, 3, b);
      acc[0] += lf_mat_retr_mul_dag(n, a, b);
    }
}

int lf_observe_rectangle(const lf_gauge *f, double *rect) {
  double sum;
  LF_CHECK(lf_obs_reduce(f->lat->vol, 1, rect_site, f, 0, &sum));
  *rect = sum / (2.0 * (double)f->lat->vol * (double)lf_lattice_nplanes(f->lat) * (double)f->n);
  return LF_OK;
}

/* ---------------------------------------------------------------- Wilson loops */
typedef struct {
  const lf_gauge *f;
  int rmax, tmax;
} wl_ctx;

/* Line of `len` links in direction mu from s: M = U_mu(s) U_mu(s+mu) ... */
static void line(const lf_gauge *f, long s, int mu, int len, lf_cplx *M) {
  const int n = f->n;
  lf_cplx t[9];
  lf_mat_identity(n, M);
  for (int k = 0; k < len; k++) {
    lf_obs_mul(n, t, M, lf_gauge_link(f, s, mu), 0);
    lf_mat_copy(n, M, t);
    s = lf_lattice_up(f->lat, s, mu);
  }
}

/* scratch: 3 * tmax matrices (time lines at s and at s + r i, spatial lines at s + T t). */
static void wl_site(const void *vctx, long s, double *acc, void *scratch) {
  const wl_ctx *c = vctx;
  const lf_gauge *f = c->f;
  const lf_lattice *lat = f->lat;
  const int n = f->n, nn = n * n, td = lat->nd - 1, T = c->tmax;
  lf_cplx *tl0 = scratch, *tlr = tl0 + T * nn, *top = tlr + T * nn;
  lf_cplx sp[9], tmp[9], a[9], b[9];
  /* time lines from s: tl0[t-1] = product of t time links */
  {
    long y = s;
    lf_mat_identity(n, tmp);
    for (int t = 0; t < T; t++) {
      lf_obs_mul(n, tl0 + t * nn, tmp, lf_gauge_link(f, y, td), 0);
      lf_mat_copy(n, tmp, tl0 + t * nn);
      y = lf_lattice_up(lat, y, td);
    }
  }
  for (int i = 0; i < td; i++) {
    /* spatial lines of length 0 at s + t*td */
    for (int t = 0; t < T; t++) lf_mat_identity(n, top + t * nn);
    lf_mat_identity(n, sp);
    long sr = s;                    /* s + r i */
    long st[1024 + 1];              /* s + t td + r i, t = 1..T (T <= L <= 1024) */
    {
      long y = s;
      for (int t = 0; t < T; t++) {
        y = lf_lattice_up(lat, y, td);
        st[t] = y;
      }
    }
    for (int r = 1; r <= c->rmax; r++) {
      lf_obs_mul(n, tmp, sp, lf_gauge_link(f, sr, i), 0);
      lf_mat_copy(n, sp, tmp);
      sr = lf_lattice_up(lat, sr, i);
      for (int t = 0; t < T; t++) {
        lf_obs_mul(n, tmp, top + t * nn, lf_gauge_link(f, st[t], i), 0);
        lf_mat_copy(n, top + t * nn, tmp);
        st[t] = lf_lattice_up(lat, st[t], i);
      }
      lf_mat_identity(n, tmp);
      long y = sr;
      for (int t = 0; t < T; t++) {
        lf_obs_mul(n, tlr + t * nn, tmp, lf_gauge_link(f, y, td), 0);
        lf_mat_copy(n, tmp, tlr + t * nn);
        y = lf_lattice_up(lat, y, td);
      }
      for (int t = 0; t < T; t++) {
        /* W = S_r(s) T_t(s + r i) S_r(s + t td)^dag T_t(s)^dag = a b^dag */
        lf_obs_mul(n, a, sp, tlr + t * nn, 0);
        lf_obs_mul(n, b, tl0 + t * nn, top + t * nn, 0);
        acc[(r - 1) * T + t] += lf_mat_retr_mul_dag(n, a, b);
      }
    }
  }
}

int lf_observe_wilson_loops(const lf_gauge *f, int rmax, int tmax, double *W) {
  const lf_lattice *lat = f->lat;
  const int td = lat->nd - 1;
  int lmin = lat->L[0];
  for (int i = 1; i < td; i++)
    if (lat->L[i] < lmin) lmin = lat->L[i];
  if (rmax < 1 || rmax > lmin || tmax < 1 || tmax > lat->L[td])
    return LF_ERROR(LF_EINVAL, "Wilson loops up to %d x %d on a lattice with smallest spatial "
                    "extent %d and time extent %d; use 1 <= R <= %d and 1 <= T <= %d",
                    rmax, tmax, lmin, lat->L[td], lmin, lat->L[td]);
  wl_ctx c = {f, rmax, tmax};
  size_t scratch = sizeof(lf_cplx) * 3 * (size_t)tmax * (size_t)(f->n * f->n);
  LF_CHECK(lf_obs_reduce(lat->vol, rmax * tmax, wl_site, &c, scratch, W));
  const double norm = (double)lat->vol * (double)td * (double)f->n;
  for (int k = 0; k < rmax * tmax; k++) W[k] /= norm;
  return LF_OK;
}

/* ---------------------------------------------------------------- Polyakov loop */
static lf_cplx poly_site(const lf_gauge *f, long xs) {
  const int n = f->n, td = f->lat->nd - 1;
  lf_cplx M[9];
  line(f, xs, td, f->lat->L[td], M);
  return lf_mat_trace(n, M) / (double)n;
}

void lf_observe_polyakov_field(const lf_gauge *f, lf_cplx *out) {
  const long vs = f->lat->vol / f->lat->L[f->lat->nd - 1];
#pragma omp parallel for schedule(static)
  for (long xs = 0; xs < vs; xs++) out[xs] = poly_site(f, xs);
}

static void poly_acc(const void *ctx, long xs, double *acc, void *scratch) {
  (void)scratch;
  lf_cplx p = poly_site(ctx, xs);
  acc[0] += creal(p);
  acc[1] += cimag(p);
}

int lf_observe_polyakov(const lf_gauge *f, lf_cplx *P) {
  const long vs = f->lat->vol / f->lat->L[f->lat->nd - 1];
  double sum[2];
  LF_CHECK(lf_obs_reduce(vs, 2, poly_acc, f, 0, sum));
  *P = (sum[0] + LF_I * sum[1]) / (double)vs;
  return LF_OK;
}
