/* tests/flow/dd.c -- domain-decomposed flow evaluation (lf_flow_dd_*, deep halos) against
 * the serial flow, run with 1 rank and under mpirun -np 1 / 2 / 4; every grid of the list
 * whose size is the rank count is tested, plus the automatic grid:
 *   - lf_dist_halo_box with deep halos (widths 4 and 8, more components than fit one
 *     message): every box entry equals the global value of its site afterwards;
 *   - on non-square lattices (16x24, 24x16, 32x16), for an NCP model and a spline model with
 *     rect_context = 1, both with random (non-trivial) parameters: the decomposed proposal x
 *     is bitwise the serial lf_flow_prior_sample + lf_flow_forward; log q (forward and
 *     inverse) within 1e-12 of the serial lf_flow_forward / lf_flow_inverse; log q, S,
 *     plaquette and Q bitwise equal to a private one-rank decomposition (so equal for every
 *     grid and rank count) and within 1e-12 of lf_flow_action / _plaquette / _topo_charge;
 *     a configuration gathered to rank 0 equals lf_flow_to_gauge of the serial one;
 *   - the test can fail: with 2 or more ranks the spline model (reach 5) run with halo 4
 *     instead of 8 must NOT reproduce the serial proposal;
 *   - impossible grids (wrong product, extent not divisible, local extent not a multiple
 *     of 4 or below the halo, no automatic grid) give LF_EINVAL on every rank with a
 *     message that says what to change. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist_test.h"
#include "latflow/flow.h"

#define LOGQ_TOL 1e-12 /* exact sums vs the serial plain double sums */

/* ---------------------------------------------------------------- box exchange */
static void check_box(const char *lattice, const int *P, int width, long ncomp) {
  int nd, L[LF_MAXDIM];
  lf_lattice_parse(lattice, &nd, L);
  lf_lattice glob;
  lf_lattice_init(&glob, nd, L);
  lf_dist d;
  char what[160];
  int rc = lf_dist_init(&d, &glob, P, width);
  snprintf(what, sizeof what, "%s grid %dx%d width %d: lf_dist_init", lattice, P[0], P[1], width);
  LF_TEST_TRUE(what, all_ranks(rc == LF_OK));
  if (rc) {
    lf_lattice_clear(&glob);
    return;
  }
  const long bv = d.boxvol, stride = bv + 3;
  double *x = malloc((size_t)(ncomp * stride) * sizeof *x);
  for (long i = 0; i < ncomp * stride; i++) x[i] = -1.0;
  for (long c = 0; c < ncomp; c++) /* own sites only */
    for (long s = 0; s < d.lat.vol; s++) x[c * stride + d.box[s]] = 1000.0 * (double)c + (double)d.lat.global[s] + 0.25;
  rc = lf_dist_halo_box(&d, x, ncomp, stride);
  int ok = rc == LF_OK && bv == d.lat.vol + d.nhalo;
  for (long c = 0; c < ncomp; c++)
    for (long s = 0; s < bv; s++) ok &= x[c * stride + d.box[s]] == 1000.0 * (double)c + (double)d.lat.global[s] + 0.25;
  snprintf(what, sizeof what, "%s grid %dx%d width %d, %ld components: every box entry (halo, edges, corners) = global value",
           lattice, P[0], P[1], width, ncomp);
  LF_TEST_TRUE(what, all_ranks(ok));
  free(x);
  lf_dist_clear(&d);
  lf_lattice_clear(&glob);
}

/* ---------------------------------------------------------------- flow cases */
typedef struct {
  const char *name;
  lf_flow_config cfg;
} fcase;

static lf_flow_config make_cfg(int spline) {
  lf_flow_config c;
  lf_flow_preset(spline ? "u1-spline" : "u1-tutorial", &c);
  c.nlayers = 8; /* every (direction, stripe offset) once */
  c.beta = 1.7;
  if (spline) { /* reach 3 + 1 + 1 = 5: halo 8 */
    c.tr.K = 6;
    c.rect_context = 1;
    c.nhidden = 2, c.hidden[0] = 5, c.hidden[1] = 4;
  } else { /* NCP, weighted mixture, reach 2 + 1 = 3: halo 4 */
    c.tr.K = 3;
    c.tr.weighted = 1;
    c.nhidden = 1, c.hidden[0] = 6;
  }
  return c;
}

/* model on lattice L with random parameters U(-a, a) (keyed by the seed, not by L) */
static lf_flow_model *make_model(const lf_flow_config *base, const int *L, double a) {
  lf_flow_config c = *base;
  c.L[0] = L[0], c.L[1] = L[1];
  lf_flow_model *m;
  if (lf_flow_model_alloc(&m, &c, 11)) return NULL;
  double *p = lf_flow_model_params(m);
  lf_rng r;
  lf_rng_init(&r, 2024, 77, 0);
  for (size_t i = 0; i < lf_flow_model_nparams(m); i++) p[i] = a * (2.0 * lf_rng_uniform(&r) - 1.0);
  return m;
}

typedef struct { /* results of one evaluation, own links only */
  double *x, lq[4], lqi[4], S[4], pl[4], Q[4];
} result;

#define NS 3        /* samples per evaluation */
#define FIRST 5     /* first sample index */
#define SEED 4711u
#define TAG LF_RNG_TAG(LF_RNG_PURPOSE_PRIOR, 9)

static int bits_equal(const double *a, const double *b, long n) { return !memcmp(a, b, (size_t)n * sizeof(double)); }

/* decomposed run: sample, inverse of the serial proposals, measurements */
static int run_dd(lf_flow_dd *dd, const double *xg_serial, result *r) {
  const long vol = lf_flow_dd_volume(dd);
  r->x = malloc((size_t)NS * 2 * (size_t)vol * sizeof(double));
  double *xs = malloc((size_t)NS * 2 * (size_t)vol * sizeof(double));
  int rc = lf_flow_dd_sample(dd, SEED, TAG, FIRST, NS, r->x, r->lq);
  lf_flow_dd_restrict(dd, NS, xg_serial, xs);
  if (!rc) rc = lf_flow_dd_logq(dd, NS, xs, r->lqi);
  if (!rc) rc = lf_flow_dd_measure(dd, NS, r->x, 1.7, r->S, r->pl, r->Q);
  free(xs);
  return rc;
}

static void flow_case(const char *label, const lf_flow_config *base, const char *lattice,
                      const char *const *grids) {
  int nd, L[LF_MAXDIM];
  lf_lattice_parse(lattice, &nd, L);
  char what[200];
  lf_flow_model *m = make_model(base, L, 0.5);
  if (!m) {
    LF_TEST_TRUE("model allocation", 0);
    return;
  }
  const long V = lf_flow_model_volume(m);
  /* serial reference */
  lf_flow_batch *wb;
  lf_flow_batch_alloc(&wb, m, NS);
  double *xg = malloc((size_t)NS * 2 * (size_t)V * sizeof(double)), *zg = malloc((size_t)NS * 2 * (size_t)V * sizeof(double));
  double lq[NS], lqi[NS];
  lf_flow_prior_sample(m, SEED, TAG, FIRST, NS, xg);
  int rc = lf_flow_forward(m, wb, NS, xg, xg, lq);
  if (!rc) rc = lf_flow_inverse(m, wb, NS, xg, zg, lqi);
  LF_TEST_TRUE("serial forward + inverse", rc == LF_OK);
  /* private one-rank decomposition: the reference for bitwise grid independence */
  lf_flow_dd_opts so = {NULL, 0, 1};
  lf_flow_dd *ds;
  rc = lf_flow_dd_alloc(&ds, m, NULL, NS, &so);
  result ref = {0};
  if (!rc) rc = run_dd(ds, xg, &ref);
  snprintf(what, sizeof what, "%s %s one-rank decomposition runs", label, lattice);
  LF_TEST_TRUE(what, rc == LF_OK);
  if (!rc) {
    int okx = bits_equal(ref.x, xg, NS * 2 * V);
    snprintf(what, sizeof what, "%s %s one rank: x bitwise = serial", label, lattice);
    LF_TEST_TRUE(what, okx);
    for (int b = 0; b < NS; b++) {
      snprintf(what, sizeof what, "%s %s one rank: log q sample %d vs lf_flow_forward", label, lattice, FIRST + b);
      LF_TEST_REL(what, ref.lq[b], lq[b], LOGQ_TOL);
      snprintf(what, sizeof what, "%s %s one rank: inverse log q sample %d vs lf_flow_inverse", label, lattice, FIRST + b);
      LF_TEST_REL(what, ref.lqi[b], lqi[b], LOGQ_TOL);
      const double *xb = xg + (size_t)b * 2 * (size_t)V;
      snprintf(what, sizeof what, "%s %s one rank: S sample %d vs lf_flow_action", label, lattice, FIRST + b);
      LF_TEST_REL(what, ref.S[b], lf_flow_action(m, 1.7, xb, NULL), LOGQ_TOL);
      snprintf(what, sizeof what, "%s %s one rank: plaquette sample %d vs lf_flow_plaquette", label, lattice, FIRST + b);
      LF_TEST_REL(what, ref.pl[b], lf_flow_plaquette(m, xb), LOGQ_TOL);
      snprintf(what, sizeof what, "%s %s one rank: Q sample %d vs lf_flow_topo_charge", label, lattice, FIRST + b);
      LF_TEST_ABS(what, ref.Q[b], lf_flow_topo_charge(m, xb), 1e-10);
    }
  }
  /* every grid that fits, and the automatic one */
  int ngrids = 0;
  while (grids[ngrids]) ngrids++;
  for (int k = 0; k <= ngrids; k++) {
    const char *g = k < ngrids ? grids[k] : NULL; /* NULL: automatic */
    int P[LF_MAXDIM] = {1, 1, 1, 1};
    if (g && !grid_fits(g, 2)) continue;
    if (g) lf_dist_grid_parse(g, 2, P);
    lf_flow_dd_opts o = {g ? P : NULL, 0, 0};
    lf_flow_dd *dd;
    rc = lf_flow_dd_alloc(&dd, m, NULL, NS, &o);
    const int H = lf_flow_dd_halo(base);
    int fits = 1;
    for (int mu = 0; mu < 2; mu++) fits &= P[mu] == 1 || (L[mu] / P[mu] % 4 == 0 && L[mu] / P[mu] >= H);
    if (g && !fits) {
      snprintf(what, sizeof what, "%s %s grid %s (halo %d) refused with LF_EINVAL on every rank", label, lattice, g, H);
      LF_TEST_TRUE(what, all_ranks(rc == LF_EINVAL));
      continue;
    }
    if (!all_ranks(rc == LF_OK)) {
      snprintf(what, sizeof what, "%s %s grid %s: decomposition (%s)", label, lattice, g ? g : "auto", lf_last_error());
      LF_TEST_TRUE(what, 0);
      continue;
    }
    char gs[32];
    lf_dist_grid_format(lf_flow_dd_dist(dd), gs, sizeof gs);
    snprintf(what, sizeof what, "%s %s grid %s%s", label, lattice, gs, g ? "" : " (automatic)");
    printf("-- %s: halo %d, radius %d, box/own volume %.3f\n", what, H, lf_flow_dd_radius(base), lf_flow_dd_overhead(dd));
    result r = {0};
    rc = run_dd(dd, xg, &r);
    char w2[400];
    snprintf(w2, sizeof w2, "%s: sample, inverse and measure run on every rank", what);
    LF_TEST_TRUE(w2, all_ranks(rc == LF_OK));
    if (!rc) {
      const long vol = lf_flow_dd_volume(dd);
      double *xo = malloc((size_t)NS * 2 * (size_t)vol * sizeof(double));
      lf_flow_dd_restrict(dd, NS, xg, xo);
      double maxdev = 0;
      for (long i = 0; i < NS * 2 * vol; i++) maxdev = fmax(maxdev, fabs(r.x[i] - xo[i]));
      snprintf(w2, sizeof w2, "%s: own links of x bitwise = serial prior + lf_flow_forward (max |dev| %.3g)", what, maxdev);
      LF_TEST_TRUE(w2, all_ranks(bits_equal(r.x, xo, NS * 2 * vol)));
      int same = 1, close = 1;
      for (int b = 0; b < NS; b++) {
        same &= bits_equal(&r.lq[b], &ref.lq[b], 1) && bits_equal(&r.lqi[b], &ref.lqi[b], 1) &&
                bits_equal(&r.S[b], &ref.S[b], 1) && bits_equal(&r.pl[b], &ref.pl[b], 1) &&
                bits_equal(&r.Q[b], &ref.Q[b], 1) && same_on_ranks(r.lq[b]) && same_on_ranks(r.S[b]);
        close &= fabs(r.lq[b] - lq[b]) <= LOGQ_TOL * fabs(lq[b]) && fabs(r.lqi[b] - lqi[b]) <= LOGQ_TOL * fabs(lqi[b]);
      }
      snprintf(w2, sizeof w2, "%s: log q (forward, inverse) within %.0e of the serial flow", what, LOGQ_TOL);
      LF_TEST_TRUE(w2, all_ranks(close));
      snprintf(w2, sizeof w2, "%s: log q, inverse log q, S, plaquette, Q bitwise = one-rank decomposition, same on all ranks", what);
      LF_TEST_TRUE(w2, all_ranks(same));
      /* gather sample FIRST+1 to rank 0: lf_flow_to_gauge of the serial configuration */
      lf_lattice gl;
      lf_lattice_init(&gl, 2, L);
      lf_gauge *G = NULL, *Gs = NULL;
      if (lf_par_root()) lf_gauge_alloc(&G, &gl, LF_U1), lf_gauge_alloc(&Gs, &gl, LF_U1);
      rc = lf_flow_dd_gather(dd, r.x + 2 * (size_t)vol, G);
      int okg = rc == LF_OK;
      if (G) {
        lf_flow_to_gauge(m, xg + 2 * (size_t)V, Gs);
        okg &= !memcmp(G->u, Gs->u, (size_t)(2 * V) * sizeof(lf_cplx));
      }
      snprintf(w2, sizeof w2, "%s: gathered configuration bitwise = lf_flow_to_gauge of the serial one", what);
      LF_TEST_TRUE(w2, all_ranks(okg));
      lf_gauge_free(G), lf_gauge_free(Gs);
      lf_lattice_clear(&gl);
      free(xo);
    }
    free(r.x);
    lf_flow_dd_free(dd);
  }
  /* halo below the reach: must fail when the lattice is split */
  if (lf_par_size() > 1 && base->rect_context) {
    lf_flow_dd_opts o = {NULL, 4, 0};
    lf_flow_dd *dd;
    rc = lf_flow_dd_alloc(&dd, m, NULL, NS, &o);
    if (all_ranks(rc == LF_OK)) {
      result r = {0};
      rc = run_dd(dd, xg, &r);
      const long vol = lf_flow_dd_volume(dd);
      double *xo = malloc((size_t)NS * 2 * (size_t)vol * sizeof(double));
      lf_flow_dd_restrict(dd, NS, xg, xo);
      int eq = bits_equal(r.x, xo, NS * 2 * vol);
      double maxdev = 0;
      for (long i = 0; i < NS * 2 * vol; i++) maxdev = fmax(maxdev, fabs(r.x[i] - xo[i]));
      lf_par_allreduce_max(&maxdev, 1);
      snprintf(what, sizeof what, "%s %s halo 4 < reach 5: proposal differs from the serial one (max |dev| %.3g) -- "
               "the comparison can fail", label, lattice, maxdev);
      LF_TEST_TRUE(what, !all_ranks(eq) && maxdev > 1e-6);
      free(xo), free(r.x);
      lf_flow_dd_free(dd);
    }
  }
  free(ref.x);
  lf_flow_dd_free(ds);
  lf_flow_batch_free(wb);
  free(xg), free(zg);
  lf_flow_model_free(m);
}

static void bad_grids(void) {
  lf_flow_config c = make_cfg(1); /* halo 8 */
  const int L[2] = {16, 24};
  lf_flow_model *m = make_model(&c, L, 0.3);
  const int np = lf_par_size();
  lf_flow_dd *dd = NULL;
  int rc;
  {
    int P[2] = {np + 1, 1};
    lf_flow_dd_opts o = {P, 0, 0};
    rc = lf_flow_dd_alloc(&dd, m, NULL, 2, &o);
    LF_TEST_TRUE("grid whose product is not the rank count: LF_EINVAL on every rank, message names the product",
                 all_ranks(rc == LF_EINVAL && strstr(lf_last_error(), "product") && !dd));
  }
  if (np > 1) {
    int P[2] = {1, np}; /* np = 2: 16x24 -> l1 = 12 fine, 16x20 -> 10; np = 4: 24/4 = 6 */
    const int L2[2] = {16, np == 2 ? 20 : 24};
    lf_flow_dd_opts o = {P, 0, 0};
    rc = lf_flow_dd_alloc(&dd, m, L2, 2, &o);
    LF_TEST_TRUE("split local extent not a multiple of 4: LF_EINVAL on every rank, message says so",
                 all_ranks(rc == LF_EINVAL && strstr(lf_last_error(), "multiple of 4")));
    int Q[2] = {np, 1}; /* 16 / np = 8 or 4: below halo 8 for np = 4; np = 2: use 8x24 */
    const int L3[2] = {np == 2 ? 8 : 16, 24};
    lf_flow_dd_opts o3 = {Q, 0, 0};
    rc = lf_flow_dd_alloc(&dd, m, L3, 2, &o3);
    LF_TEST_TRUE("split local extent below the halo width: LF_EINVAL on every rank, message names the halo",
                 all_ranks(rc == LF_EINVAL && strstr(lf_last_error(), "halo width")));
    const int L5[2] = {12, 12};
    rc = lf_flow_dd_alloc(&dd, m, L5, 2, NULL);
    LF_TEST_TRUE("no automatic grid for 12x12: LF_EINVAL on every rank, message says what to change",
                 all_ranks(rc == LF_EINVAL && strstr(lf_last_error(), "another number of ranks")));
  }
  {
    lf_flow_dd_opts o = {NULL, 6, 1};
    rc = lf_flow_dd_alloc(&dd, m, NULL, 2, &o);
    LF_TEST_TRUE("halo width 6 (not a multiple of 4) refused", rc == LF_EINVAL && strstr(lf_last_error(), "multiple of 4"));
    const int L6[2] = {16, 18};
    o.halo = 0;
    rc = lf_flow_dd_alloc(&dd, m, L6, 2, &o);
    LF_TEST_TRUE("global lattice 16x18 refused (stripe masks need multiples of 4)", rc == LF_EINVAL);
  }
  lf_error_clear();
  lf_flow_model_free(m);
}

int main(int argc, char **argv) {
  dist_test_start(&argc, &argv);
  const int np = lf_par_size();
  /* deep box exchange */
  const char *bgrids[] = {"1x1", "2x1", "1x2", "2x2", "4x1", "1x4", NULL};
  for (int k = 0; bgrids[k]; k++) {
    if (!grid_fits(bgrids[k], 2)) continue;
    int P[LF_MAXDIM];
    lf_dist_grid_parse(bgrids[k], 2, P);
    check_box("32x24", P, 4, 3);
    if (P[0] <= 2 && P[1] <= 2) check_box("16x24", P, 8, 50); /* 50 > 36 per message */
  }
  (void)np;
  const char *grids[] = {"1x1", "2x1", "1x2", "2x2", "4x1", "1x4", NULL};
  lf_flow_config ncp = make_cfg(0), spl = make_cfg(1);
  flow_case("ncp", &ncp, "16x24", grids);
  flow_case("ncp", &ncp, "24x16", grids);
  flow_case("spline+rect", &spl, "16x24", grids);
  flow_case("spline+rect", &spl, "32x16", grids);
  bad_grids();
  return dist_test_done();
}
