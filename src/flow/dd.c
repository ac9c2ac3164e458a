/*
 * dd.c -- domain-decomposed evaluation of 2D U(1) flows: one configuration spread over all
 * MPI ranks (issue #7), forward (proposal + log q), inverse (log q of a given
 * configuration), action / plaquette / charge, gather to rank 0.
 *
 * Method (docs/parallel.md "Flows: deep halos"): a coupling layer (coupling.c) changes link
 * U_mu(s) by a function of the input links within distance
 *     r = (nhidden + 1) * (kernel / 2) + 1 + rect_context
 * of s in each coordinate (active plaquette P(s) or P(s - x^); context CNN receptive field
 * of nconv = nhidden + 1 convolutions of size k; plaquette and 2x1 rectangle features).
 * Each rank holds its block of l0 x l1 sites plus a halo of H >= r + 1 layers in every
 * split direction (H a multiple of 4, so that the box of extents E = l + 2H starts at a
 * global coordinate divisible by 4 and the stripe masks built on the box have the global
 * phase). The "box model" is an ordinary lf_flow_model on extents E (unsplit directions
 * keep the full periodic extent), with the parameters of the global model and active
 * lists cut to the rank's own links (lf_flow_model_keep_active): it recomputes features
 * and networks on the whole box (the outer r layers are wrong because of the periodic
 * wrap inside the box and are never used), updates the own links exactly as the serial
 * layer does, and the halo of the updated direction is refreshed (lf_dist_halo_box) before
 * the next layer: one exchange of H layers of one direction per coupling layer.
 * Prior angles are drawn from the serial stream (seed, tag, sample) at the position of the
 * global link index mu*V + s (seek in the Philox counter), so x is bitwise the serial
 * lf_flow_prior_sample + lf_flow_forward. Per-link log h' are added into exact 128-bit
 * fixed-point sums (lf_xsum, dist.h) and summed over ranks: log q, S, plaquette and Q are
 * bitwise the same for every grid and rank count.
 *
 * MPI contract: functions documented as collective in flow.h; failures are agreed
 * (lf_par_agree) after every rank has made the same sequence of exchanges.
 * Thread contract: the per-link loops are OpenMP static loops writing disjoint data; the
 * layers are the thread-count independent batch passes of coupling.c.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

struct lf_flow_dd {
  lf_dist d;
  int self;
  int H;
  int batch;
  long gV;              /* global volume                                       */
  double logr;          /* log r of the global uniform prior                   */
  lf_flow_model *bm;    /* the model on the halo box, own links active          */
  lf_flow_batch *wb;
  double *xb;           /* [batch][2][boxvol] angles in box order              */
  double *ld;           /* [batch][max nact] log h' of the own active links     */
  double *lj;           /* [batch] (unused plain sums of the coupling layers)  */
  lf_xsum *acc;         /* [3 * batch] exact sums                              */
  lf_gauge *gf;         /* U(1) field on the local lattice for gathers          */
};

int lf_flow_dd_radius(const lf_flow_config *cfg) {
  return (cfg->nhidden + 1) * (cfg->kernel / 2) + 1 + cfg->rect_context + 1;
}

int lf_flow_dd_halo(const lf_flow_config *cfg) { return (lf_flow_dd_radius(cfg) + 3) / 4 * 4; }

/* ---------------------------------------------------------------- grid */
static int grid_valid(const int *L, const int *P, int H) {
  for (int mu = 0; mu < 2; mu++) {
    if (P[mu] < 1 || L[mu] % P[mu]) return 0;
    int l = L[mu] / P[mu];
    if (P[mu] > 1 && (l % 4 || l < H)) return 0;
  }
  return 1;
}

static int grid_check(const int *L, const int *P, int H, int nranks) {
  if ((long)P[0] * P[1] != nranks)
    return LF_ERROR(LF_EINVAL, "process grid %dx%d has %d ranks, but %d are running: give a grid whose "
                               "product is the number of ranks (or 'auto')", P[0], P[1], P[0] * P[1], nranks);
  for (int mu = 0; mu < 2; mu++) {
    if (P[mu] < 1 || L[mu] % P[mu])
      return LF_ERROR(LF_EINVAL, "process grid %dx%d: %d ranks do not divide the extent %d of direction %d; "
                                 "use a grid whose entries divide the %dx%d lattice", P[0], P[1], P[mu], L[mu], mu,
                      L[0], L[1]);
    int l = L[mu] / P[mu];
    if (P[mu] > 1 && l % 4)
      return LF_ERROR(LF_EINVAL, "process grid %dx%d on the %dx%d lattice: local extent %d in direction %d is not "
                                 "a multiple of 4 (the stripe masks of the flow need it); use a grid with "
                                 "L/P a multiple of 4 there", P[0], P[1], L[0], L[1], l, mu);
    if (P[mu] > 1 && l < H)
      return LF_ERROR(LF_EINVAL, "process grid %dx%d on the %dx%d lattice: local extent %d in direction %d is below "
                                 "the flow's halo width %d; use fewer ranks in that direction or a larger lattice",
                      P[0], P[1], L[0], L[1], l, mu, H);
  }
  return LF_OK;
}

/* smallest halo box (E0 * E1) among the valid grids; ties: more ranks in y */
static int grid_auto(const int *L, int H, int nranks, int *P) {
  long best = -1;
  for (int p0 = 1; p0 <= nranks; p0++) {
    if (nranks % p0) continue;
    int Q[2] = {p0, nranks / p0};
    if (!grid_valid(L, Q, H)) continue;
    long box = 1;
    for (int mu = 0; mu < 2; mu++) box *= L[mu] / Q[mu] + (Q[mu] > 1 ? 2 * H : 0);
    if (best < 0 || box < best) best = box, P[0] = Q[0], P[1] = Q[1]; /* p0 ascending: ties keep more ranks in y */
  }
  if (best < 0)
    return LF_ERROR(LF_EINVAL, "cannot split the %dx%d lattice over %d ranks for the flow: split local extents "
                               "must be multiples of 4 and at least the halo width %d; use another number of "
                               "ranks or a larger lattice", L[0], L[1], nranks, H);
  return LF_OK;
}

/* ---------------------------------------------------------------- setup */
void lf_flow_dd_free(lf_flow_dd *dd) {
  if (!dd) return;
  lf_flow_batch_free(dd->wb);
  lf_flow_model_free(dd->bm);
  lf_free(dd->xb), lf_free(dd->ld), lf_free(dd->lj), lf_free(dd->acc);
  lf_gauge_free(dd->gf);
  lf_dist_clear(&dd->d);
  lf_free(dd);
}

static int agree(const lf_flow_dd *dd, int rc) { return dd->self ? rc : lf_par_agree(rc); }

/* everything after the (collective, agreed) lf_dist_init: local */
static int setup_box(lf_flow_dd *dd, const lf_flow_model *m) {
  const lf_dist *d = &dd->d;
  lf_flow_config bc = m->cfg;
  bc.L[0] = d->E[0], bc.L[1] = d->E[1];
  int rc = lf_flow_model_alloc(&dd->bm, &bc, 0);
  if (rc) return lf_error_context(rc, "model on the %dx%d halo box", bc.L[0], bc.L[1]);
  LF_CHECK(lf_flow_model_copy_params(dd->bm, m));
  unsigned char *keep = lf_alloc((size_t)d->boxvol);
  if (!keep) return LF_ERROR(LF_ENOMEM, "no memory for the own-site mask of the halo box");
  memset(keep, 0, (size_t)d->boxvol);
  for (long s = 0; s < d->lat.vol; s++) keep[d->box[s]] = 1;
  rc = lf_flow_model_keep_active(dd->bm, keep);
  lf_free(keep);
  if (rc) return rc;
  int maxact = 0;
  for (int l = 0; l < bc.nlayers; l++)
    if (dd->bm->layers[l].nact > maxact) maxact = dd->bm->layers[l].nact;
  const size_t B = (size_t)dd->batch;
  dd->xb = lf_alloc(B * 2 * (size_t)d->boxvol * sizeof(double));
  dd->ld = lf_alloc(B * (size_t)(maxact > 0 ? maxact : 1) * sizeof(double));
  dd->lj = lf_alloc(B * sizeof(double));
  dd->acc = lf_alloc(3 * B * sizeof(lf_xsum));
  if (!dd->xb || !dd->ld || !dd->lj || !dd->acc)
    return LF_ERROR(LF_ENOMEM, "no memory for the decomposed flow buffers (batch %d, box %ld sites); use a "
                               "smaller batch or more ranks", dd->batch, d->boxvol);
  memset(dd->xb, 0, B * 2 * (size_t)d->boxvol * sizeof(double));
  LF_CHECK(lf_flow_batch_alloc(&dd->wb, dd->bm, dd->batch));
  return lf_dist_gauge_alloc(&dd->gf, d, LF_U1);
}

int lf_flow_dd_alloc(lf_flow_dd **out, const lf_flow_model *m, const int *L, int batch,
                     const lf_flow_dd_opts *o) {
  *out = NULL;
  const lf_flow_dd_opts none = {NULL, 0, 0};
  if (!o) o = &none;
  lf_flow_dd *dd = lf_alloc(sizeof *dd);
  int rc = dd ? LF_OK : LF_ERROR(LF_ENOMEM, "no memory for a decomposed flow");
  if (dd) memset(dd, 0, sizeof *dd);
  const int nranks = o->self ? 1 : lf_par_size();
  lf_flow_config gc = m->cfg;
  if (L) gc.L[0] = L[0], gc.L[1] = L[1];
  const int H = o->halo > 0 ? o->halo : lf_flow_dd_halo(&gc);
  int P[LF_MAXDIM] = {1, 1, 1, 1};
  if (!rc) rc = lf_flow_config_check(&gc);
  if (!rc && o->halo < 0) rc = LF_ERROR(LF_EINVAL, "halo width %d; use 0 (automatic) or a positive width", o->halo);
  if (!rc && H % 4)
    rc = LF_ERROR(LF_EINVAL, "halo width %d is not a multiple of 4 (the stripe masks have period 4)", H);
  if (!rc && batch < 1) rc = LF_ERROR(LF_EINVAL, "batch %d; use at least 1 sample", batch);
  if (!rc && o->grid) {
    P[0] = o->grid[0], P[1] = o->grid[1];
    rc = grid_check(gc.L, P, H, nranks);
  } else if (!rc) {
    rc = grid_auto(gc.L, H, nranks, P);
  }
  lf_lattice glob = {0};
  if (!rc) rc = lf_lattice_init(&glob, 2, gc.L);
  if (o->self) {
    if (!rc) rc = lf_dist_init_self(&dd->d, &glob, H);
  } else {
    rc = lf_par_agree(rc); /* lf_dist_init is collective: enter it together or not at all */
    if (!rc) rc = lf_dist_init(&dd->d, &glob, P, H);
  }
  if (glob.up) lf_lattice_clear(&glob);
  if (dd) {
    dd->self = o->self, dd->H = H, dd->batch = batch;
    dd->gV = (long)gc.L[0] * gc.L[1];
    dd->logr = -2.0 * (double)dd->gV * log(LF_TWOPI); /* lf_flow_prior_logp of the global model */
  }
  if (!rc) rc = agree(dd, setup_box(dd, m));
  if (rc) {
    lf_flow_dd_free(dd);
    return rc;
  }
  *out = dd;
  return LF_OK;
}

const lf_dist *lf_flow_dd_dist(const lf_flow_dd *dd) { return &dd->d; }
long lf_flow_dd_volume(const lf_flow_dd *dd) { return dd->d.lat.vol; }
int lf_flow_dd_batch(const lf_flow_dd *dd) { return dd->batch; }
double lf_flow_dd_overhead(const lf_flow_dd *dd) { return (double)dd->d.boxvol / (double)dd->d.lat.vol; }

void lf_flow_dd_restrict(const lf_flow_dd *dd, int n, const double *xg, double *x) {
  const long vol = dd->d.lat.vol, V = dd->gV;
  for (int b = 0; b < n; b++)
    for (int mu = 0; mu < 2; mu++) {
      const double *src = xg + ((size_t)b * 2 + (size_t)mu) * (size_t)V;
      double *dst = x + ((size_t)b * 2 + (size_t)mu) * (size_t)vol;
      for (long s = 0; s < vol; s++) dst[s] = src[dd->d.lat.global[s]];
    }
}

/* ---------------------------------------------------------------- passes */
static int check_n(const lf_flow_dd *dd, int n) {
  if (n < 0 || n > dd->batch)
    return LF_ERROR(LF_EINVAL, "%d samples do not fit a decomposed flow of batch %d", n, dd->batch);
  return LF_OK;
}

/* own links x [n][2][vol] <-> box array xb [n][2][boxvol] */
static void own_to_box(lf_flow_dd *dd, int n, const double *x) {
  const long vol = dd->d.lat.vol, bv = dd->d.boxvol;
  const long *box = dd->d.box;
  for (long c = 0; c < 2L * n; c++) {
    const double *src = x + (size_t)c * (size_t)vol;
    double *dst = dd->xb + (size_t)c * (size_t)bv;
#pragma omp parallel for schedule(static) if (vol >= 4096)
    for (long s = 0; s < vol; s++) dst[box[s]] = src[s];
  }
}

static void box_to_own(const lf_flow_dd *dd, int n, double *x) {
  const long vol = dd->d.lat.vol, bv = dd->d.boxvol;
  const long *box = dd->d.box;
  for (long c = 0; c < 2L * n; c++) {
    const double *src = dd->xb + (size_t)c * (size_t)bv;
    double *dst = x + (size_t)c * (size_t)vol;
#pragma omp parallel for schedule(static) if (vol >= 4096)
    for (long s = 0; s < vol; s++) dst[s] = src[box[s]];
  }
}

/* Uniform number i of the stream (seed, tag, sample) as lf_rng_uniform draws it: uniform i
 * takes the 32-bit words 2i, 2i+1, i.e. half of Philox block i/2 (core/rng.c). */
static double prior_angle(uint64_t seed, uint64_t tag, uint64_t sample, uint64_t i) {
  lf_rng r;
  lf_rng_init(&r, seed, tag, sample);
  r.ctr[0] = (uint32_t)(i / 2);
  lf_philox4x32_10(r.ctr, r.key, r.buf);
  r.ctr[0]++;
  r.pos = (int)(2 * (i % 2));
  return LF_TWOPI * lf_rng_uniform(&r) - LF_PI; /* the expression of lf_flow_prior_sample */
}

/* The layers in order (forward) or reversed (inverse) on xb, log h' into acc[0..n-1].
 * Every rank makes the same exchanges whatever happens; the status is agreed at the end. */
static int run_layers(lf_flow_dd *dd, int n, int inverse) {
  lf_flow_model *bm = dd->bm;
  const int L = bm->cfg.nlayers;
  const long bv = dd->d.boxvol;
  int rc = LF_OK;
  for (int b = 0; b < n; b++) lf_xsum_zero(&dd->acc[b]);
  for (int k = 0; k < L; k++) {
    const int l = inverse ? L - 1 - k : k, nact = bm->layers[l].nact;
    int prof = lf_prof_begin("dd_layer", LF_PROF_COMPUTE);
    if (!rc)
      rc = inverse ? lf_flow_coupling_inverse_ld(bm, dd->wb, l, n, dd->xb, dd->lj, dd->ld)
                   : lf_flow_coupling_forward_ld(bm, dd->wb, l, n, dd->xb, dd->lj, dd->ld, 0);
    if (!rc) {
#pragma omp parallel for schedule(static)
      for (int b = 0; b < n; b++)
        for (int j = 0; j < nact; j++) lf_xsum_add(&dd->acc[b], dd->ld[(size_t)b * (size_t)nact + (size_t)j]);
    }
    lf_prof_end(prof);
    /* the own links of direction mu changed: refresh that direction's halo */
    if (k < L - 1) {
      int hr = lf_dist_halo_box(&dd->d, dd->xb + (size_t)bm->layers[l].mu * (size_t)bv, n, 2 * bv);
      if (!rc) rc = hr;
    }
  }
  rc = agree(dd, rc);
  if (!rc) rc = lf_dist_xsum_allreduce(&dd->d, dd->acc, n);
  return rc;
}

int lf_flow_dd_sample(lf_flow_dd *dd, uint64_t seed, uint64_t tag, long first, int n, double *x,
                      double *logq) {
  LF_CHECK(check_n(dd, n));
  const lf_dist *d = &dd->d;
  const long vol = d->lat.vol, bv = d->boxvol, V = dd->gV;
  int prof = lf_prof_begin("dd_prior", LF_PROF_COMPUTE);
  for (int b = 0; b < n; b++)
    for (int mu = 0; mu < 2; mu++) {
      double *xb = dd->xb + ((size_t)b * 2 + (size_t)mu) * (size_t)bv;
#pragma omp parallel for schedule(static) if (vol >= 1024)
      for (long s = 0; s < vol; s++)
        xb[d->box[s]] = prior_angle(seed, tag, (uint64_t)(first + b), (uint64_t)((long)mu * V + d->lat.global[s]));
    }
  lf_prof_end(prof);
  int rc = lf_dist_halo_box(d, dd->xb, 2L * n, bv);
  rc = agree(dd, rc);
  if (!rc) rc = run_layers(dd, n, 0);
  if (rc) return rc;
  for (int b = 0; b < n; b++) logq[b] = dd->logr - lf_xsum_value(&dd->acc[b]);
  box_to_own(dd, n, x);
  return LF_OK;
}

int lf_flow_dd_logq(lf_flow_dd *dd, int n, const double *x, double *logq) {
  LF_CHECK(check_n(dd, n));
  own_to_box(dd, n, x);
  int rc = agree(dd, lf_dist_halo_box(&dd->d, dd->xb, 2L * n, dd->d.boxvol));
  if (!rc) rc = run_layers(dd, n, 1);
  if (rc) return lf_error_context(rc, "inverting the decomposed flow");
  for (int b = 0; b < n; b++) logq[b] = dd->logr - lf_xsum_value(&dd->acc[b]);
  return LF_OK;
}

int lf_flow_dd_measure(lf_flow_dd *dd, int n, const double *x, double beta, double *S,
                       double *plaq, double *Q) {
  LF_CHECK(check_n(dd, n));
  own_to_box(dd, n, x);
  int rc = agree(dd, lf_dist_halo_box(&dd->d, dd->xb, 2L * n, dd->d.boxvol));
  if (rc) return rc;
  const long vol = dd->d.lat.vol, bv = dd->d.boxvol;
  const int *up0 = dd->bm->up0, *up1 = dd->bm->up1; /* periodic box neighbours */
  lf_xsum *acc = dd->acc;
#pragma omp parallel for schedule(static)
  for (int b = 0; b < n; b++) {
    const double *t0 = dd->xb + (size_t)b * 2 * (size_t)bv, *t1 = t0 + bv;
    lf_xsum_zero(&acc[2 * b]), lf_xsum_zero(&acc[2 * b + 1]);
    for (long s = 0; s < vol; s++) {
      const long i = dd->d.box[s];
      /* the plaquette angle as lf_flow_action / lf_flow_topo_charge form it */
      const double P = t0[i] + t1[up0[i]] - t0[up1[i]] - t1[i];
      lf_xsum_add(&acc[2 * b], cos(P));
      lf_xsum_add(&acc[2 * b + 1], lf_flow_wrap(P));
    }
  }
  rc = lf_dist_xsum_allreduce(&dd->d, acc, 2 * n);
  if (rc) return rc;
  for (int b = 0; b < n; b++) {
    const double c = lf_xsum_value(&acc[2 * b]), q = lf_xsum_value(&acc[2 * b + 1]);
    if (S) S[b] = -beta * c;
    if (plaq) plaq[b] = c / (double)dd->gV;
    if (Q) Q[b] = q / LF_TWOPI;
  }
  return LF_OK;
}

int lf_flow_dd_gather(lf_flow_dd *dd, const double *x, lf_gauge *glob) {
  const long vol = dd->d.lat.vol;
  for (long s = 0; s < vol; s++)
    for (int mu = 0; mu < 2; mu++) {
      double a = lf_flow_wrap(x[(long)mu * vol + s]);
      *lf_gauge_link(dd->gf, s, mu) = cos(a) + LF_I * sin(a);
    }
  return lf_dist_gather(&dd->d, dd->gf, glob);
}
