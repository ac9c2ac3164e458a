/* tests/dist/halo.c -- domain decomposition against the serial code on non-cubic lattices
 * and uneven process grids (run with 1 rank and under mpirun -np 2 / 4; every grid whose
 * size matches the rank count is tested):
 *   - neighbour tables of the local lattice point to the right global sites;
 *   - hot start and momenta keyed by global site equal the global field's own links;
 *   - after lf_dist_halo every halo link (edges and corners included) equals the global
 *     link, for width 1 and 2; a one-direction exchange refreshes that direction only;
 *   - forces (Wilson, LW, anisotropic k) of own links are bitwise the serial forces;
 *   - plaquette, action, kinetic energy, Polyakov loop and 2D charge: bitwise equal to the
 *     exact sums of a private one-rank decomposition (so equal for every grid) and within
 *     1e-13 of the serial chunked double sums;
 *   - gather and scatter through rank 0 reproduce the global field;
 *   - exact sums: associativity where doubles fail, NaN propagation, grid parsing errors. */
#include <math.h>
#include <stdlib.h>

#include "dist_test.h"
#include "latflow/observe.h"

typedef struct {
  const char *lattice;
  lf_group g;
  const char *grids[8];
} hcase;

static int links_equal(const lf_gauge *a, long sa, const lf_gauge *b, long sb, int mu) {
  const size_t ls = lf_gauge_linksize(a);
  return !memcmp(lf_gauge_link(a, sa, mu), lf_gauge_link(b, sb, mu), ls * sizeof(lf_cplx));
}

static void run_case(const hcase *hc, const char *grid, int width) {
  int nd, L[LF_MAXDIM], P[LF_MAXDIM];
  lf_lattice glob;
  lf_lattice_parse(hc->lattice, &nd, L);
  lf_lattice_init(&glob, nd, L);
  const int *Pp = NULL;
  if (grid) {
    lf_dist_grid_parse(grid, nd, P);
    Pp = P;
  }
  lf_dist d, ds;
  char what[256], gs[64];
  int rc = lf_dist_init(&d, &glob, Pp, width);
  if (rc) {
    printf("FAIL init %s grid %s: %s\n", hc->lattice, grid ? grid : "auto", lf_last_error());
    LF_TEST_TRUE("dist init", 0);
    lf_lattice_clear(&glob);
    return;
  }
  lf_dist_init_self(&ds, &glob, width);
  lf_dist_grid_format(&d, gs, sizeof gs);
  printf("-- %s %s, grid %s%s, halo width %d: %ld own + %ld halo sites per rank\n", lf_group_name(hc->g),
         hc->lattice, gs, grid ? "" : " (automatic)", width, d.lat.vol, d.nhalo);
#define CHECK(label, cond) \
  (snprintf(what, sizeof what, "%s %s %s w%d: %s", lf_group_name(hc->g), hc->lattice, gs, width, label), \
   LF_TEST_TRUE(what, all_ranks(cond)))
  const uint64_t seed = 2385;
  lf_gauge *G, *f, *R; /* global, local, one-rank reference */
  lf_gauge_alloc(&G, &glob, hc->g);
  lf_dist_gauge_alloc(&f, &d, hc->g);
  lf_dist_gauge_alloc(&R, &ds, hc->g);
  lf_gauge_hot(G, seed);
  lf_gauge_hot(f, seed);
  lf_gauge_hot(R, seed);
  const long vol = d.lat.vol, ntot = d.lat.vol + d.nhalo;

  /* neighbour tables: up/dn of every local site is the global neighbour (or -1 at the box edge) */
  int ok = 1;
  for (long s = 0; s < ntot; s++)
    for (int mu = 0; mu < nd; mu++) {
      long u = d.lat.up[s * nd + mu], dn = d.lat.dn[s * nd + mu];
      if (s < vol && (u < 0 || dn < 0)) ok = 0;
      if (u >= 0 && d.lat.global[u] != lf_lattice_up(&glob, d.lat.global[s], mu)) ok = 0;
      if (dn >= 0 && d.lat.global[dn] != lf_lattice_dn(&glob, d.lat.global[s], mu)) ok = 0;
      if (d.lat.parity[s] != glob.parity[d.lat.global[s]]) ok = 0;
    }
  CHECK("neighbour tables and parity match the global lattice", ok);

  /* hot start keyed by global site */
  ok = 1;
  for (long s = 0; s < vol; s++)
    for (int mu = 0; mu < nd; mu++) ok &= links_equal(f, s, G, d.lat.global[s], mu);
  CHECK("hot start: own links bitwise = global field", ok);

  /* full halo exchange */
  rc = lf_dist_halo(&d, f, -1);
  ok = rc == LF_OK;
  for (long s = vol; s < ntot; s++)
    for (int mu = 0; mu < nd; mu++) ok &= links_equal(f, s, G, d.lat.global[s], mu);
  CHECK("halo exchange: every halo link (edges, corners) bitwise = global link", ok);

  /* one-direction exchange: change direction mu of own links, refresh mu only */
  const int mu0 = nd - 1;
  lf_gauge *G2;
  lf_gauge_alloc(&G2, &glob, hc->g);
  lf_gauge_hot(G2, seed + 1);
  for (long s = 0; s < vol; s++)
    memcpy(lf_gauge_link(f, s, mu0), lf_gauge_link(G2, d.lat.global[s], mu0), lf_gauge_linksize(f) * sizeof(lf_cplx));
  rc = lf_dist_halo(&d, f, mu0);
  ok = rc == LF_OK;
  for (long s = vol; s < ntot; s++)
    for (int mu = 0; mu < nd; mu++) ok &= links_equal(f, s, mu == mu0 ? G2 : G, d.lat.global[s], mu);
  CHECK("halo exchange of one direction refreshes that direction only", ok);
  for (long s = 0; s < vol; s++)
    memcpy(lf_gauge_link(f, s, mu0), lf_gauge_link(G, d.lat.global[s], mu0), lf_gauge_linksize(f) * sizeof(lf_cplx));
  lf_dist_halo(&d, f, -1);
  lf_gauge_free(G2);

  /* forces: Wilson with anisotropic k, and LW (needs width 2) */
  const size_t ls = lf_gauge_linksize(f);
  lf_cplx *FG = lf_alloc(sizeof(lf_cplx) * G->nlinks * ls), *Ff = lf_alloc(sizeof(lf_cplx) * f->nlinks * ls);
  for (int kind = 0; kind < 2; kind++) {
    if (kind == 1 && width < 2) continue;
    lf_action act;
    lf_action_init(&act, kind ? LF_ACTION_LW : LF_ACTION_WILSON, 2.385, nd);
    for (int p = 0; p < lf_lattice_nplanes(&glob); p++) act.plane_coef[p] = 1.0 + 0.1 * p;
    lf_action_force(&act, G, FG);
    lf_action_force(&act, f, Ff);
    ok = 1;
    for (long s = 0; s < vol; s++)
      ok &= !memcmp(Ff + (size_t)s * (size_t)nd * ls, FG + (size_t)d.lat.global[s] * (size_t)nd * ls,
                    sizeof(lf_cplx) * (size_t)nd * ls);
    CHECK(kind ? "LW force of own links bitwise = serial force" : "Wilson force (anisotropic k) bitwise = serial", ok);
    double S, Sr;
    rc = lf_dist_action(&d, &act, f, &S);
    lf_dist_action(&ds, &act, R, &Sr);
    CHECK(kind ? "LW action: exact sum bitwise = one-rank exact sum" : "Wilson action: exact sum bitwise = one-rank",
          rc == LF_OK && !memcmp(&S, &Sr, sizeof S) && same_on_ranks(S));
    snprintf(what, sizeof what, "%s %s %s w%d: action vs serial lf_action_eval", lf_group_name(hc->g), hc->lattice, gs, width);
    LF_TEST_REL(what, S, lf_action_eval(&act, G), 1e-13);
  }
  if (width < 2) { /* LW refused with width 1 on a split lattice */
    lf_action act;
    lf_action_init(&act, LF_ACTION_LW, 2.0, nd);
    double S;
    rc = lf_dist_action(&d, &act, f, &S);
    lf_error_clear();
    CHECK("LW with halo width 1 refused (LF_EINVAL) when split", d.nhalo == 0 || rc == LF_EINVAL);
  }
  lf_free(FG);
  lf_free(Ff);

  /* plaquette */
  double p, pr;
  rc = lf_dist_plaquette(&d, f, &p);
  lf_dist_plaquette(&ds, R, &pr);
  CHECK("plaquette: exact sum bitwise = one-rank exact sum, same on all ranks",
        rc == LF_OK && !memcmp(&p, &pr, sizeof p) && same_on_ranks(p));
  snprintf(what, sizeof what, "%s %s %s w%d: plaquette vs lf_observe_plaquette", lf_group_name(hc->g), hc->lattice, gs, width);
  LF_TEST_REL(what, p, lf_observe_plaquette(G), 1e-13);

  /* kinetic energy of momenta keyed by global site */
  lf_cplx *mG = lf_alloc(sizeof(lf_cplx) * G->nlinks * ls), *mf = lf_alloc(sizeof(lf_cplx) * f->nlinks * ls),
          *mR = lf_alloc(sizeof(lf_cplx) * R->nlinks * ls);
  lf_mc_hmc_draw_momenta(G, mG, seed, 7);
  lf_mc_hmc_draw_momenta(f, mf, seed, 7);
  lf_mc_hmc_draw_momenta(R, mR, seed, 7);
  ok = 1;
  for (long s = 0; s < vol; s++)
    ok &= !memcmp(mf + (size_t)s * (size_t)nd * ls, mG + (size_t)d.lat.global[s] * (size_t)nd * ls,
                  sizeof(lf_cplx) * (size_t)nd * ls);
  CHECK("momenta keyed by global site bitwise = serial momenta", ok);
  double K, Kr;
  rc = lf_dist_kinetic(&d, f, mf, &K);
  lf_dist_kinetic(&ds, R, mR, &Kr);
  CHECK("kinetic energy: exact sum bitwise = one-rank", rc == LF_OK && !memcmp(&K, &Kr, sizeof K) && same_on_ranks(K));
  snprintf(what, sizeof what, "%s %s %s w%d: kinetic energy vs lf_mc_hmc_kinetic", lf_group_name(hc->g), hc->lattice, gs, width);
  LF_TEST_REL(what, K, lf_mc_hmc_kinetic(G, mG), 1e-13);
  lf_free(mG), lf_free(mf), lf_free(mR);

  /* Polyakov loop (products passed along the time ranks) */
  lf_cplx P1, Pr, Ps;
  rc = lf_dist_polyakov(&d, f, &P1);
  lf_dist_polyakov(&ds, R, &Pr);
  lf_observe_polyakov(G, &Ps);
  CHECK("Polyakov loop: bitwise = one-rank exact sum", rc == LF_OK && !memcmp(&P1, &Pr, sizeof P1) &&
        same_on_ranks(creal(P1)) && same_on_ranks(cimag(P1)));
  snprintf(what, sizeof what, "%s %s %s w%d: |Polyakov - lf_observe_polyakov|", lf_group_name(hc->g), hc->lattice, gs, width);
  LF_TEST_ABS(what, cabs(P1 - Ps), 0, 1e-14);

  if (nd == 2 && hc->g == LF_U1) {
    double Q, Qr, Qs;
    rc = lf_dist_topo_u1(&d, f, &Q);
    lf_dist_topo_u1(&ds, R, &Qr);
    lf_observe_topo_u1(G, &Qs);
    CHECK("2D U(1) charge: bitwise = one-rank exact sum", rc == LF_OK && !memcmp(&Q, &Qr, sizeof Q));
    snprintf(what, sizeof what, "%s %s %s w%d: Q vs lf_observe_topo_u1", lf_group_name(hc->g), hc->lattice, gs, width);
    LF_TEST_ABS(what, Q, Qs, 1e-12);
  }

  /* gather to rank 0 and scatter a different field from rank 0 */
  lf_gauge *back = NULL;
  if (lf_par_root()) lf_gauge_alloc(&back, &glob, hc->g);
  rc = lf_dist_gather(&d, f, back);
  ok = rc == LF_OK && (!back || !memcmp(back->u, G->u, sizeof(lf_cplx) * G->nlinks * ls));
  CHECK("gather to rank 0 = global field", ok);
  lf_gauge *G3;
  lf_gauge_alloc(&G3, &glob, hc->g);
  lf_gauge_hot(G3, seed + 3);
  rc = lf_dist_scatter(&d, lf_par_root() ? G3 : NULL, f);
  ok = rc == LF_OK;
  for (long s = 0; s < ntot; s++)
    for (int mu = 0; mu < nd; mu++) ok &= links_equal(f, s, G3, d.lat.global[s], mu);
  CHECK("scatter from rank 0: own and halo links = global field", ok);
  lf_gauge_free(G3);
  lf_gauge_free(back);
  lf_gauge_free(G);
  lf_gauge_free(f);
  lf_gauge_free(R);
  lf_dist_clear(&d);
  lf_dist_clear(&ds);
  lf_lattice_clear(&glob);
#undef CHECK
}

int main(int argc, char **argv) {
  dist_test_start(&argc, &argv);
  const hcase cases[] = {
      {"6x4x4x8", LF_SU3, {"1x1x1x1", "1x1x1x2", "2x1x1x1", "1x2x1x2", "2x1x1x2", "1x1x1x4", "2x2x1x1", NULL}},
      {"6x8", LF_U1, {"1x1", "2x1", "1x2", "2x2", "1x4", NULL}},
      {"4x6x2", LF_SU2, {"1x1x1", "1x2x1", "1x1x2", "2x2x1", "1x2x2", NULL}},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    int nd, L[LF_MAXDIM];
    lf_lattice_parse(cases[c].lattice, &nd, L);
    for (int k = 0; cases[c].grids[k]; k++) {
      if (!grid_fits(cases[c].grids[k], nd)) continue;
      for (int w = 1; w <= 2; w++) {
        int P[LF_MAXDIM], small = 0;
        lf_dist_grid_parse(cases[c].grids[k], nd, P);
        for (int mu = 0; mu < nd; mu++) small |= P[mu] > 1 && L[mu] / P[mu] < w;
        if (!small) run_case(&cases[c], cases[c].grids[k], w);
      }
    }
    run_case(&cases[c], NULL, 1); /* automatic grid */
  }

  /* process grids: automatic choice and errors */
  int P[LF_MAXDIM];
  const int L4[4] = {6, 4, 4, 8};
  int rc = lf_dist_grid_auto(4, L4, 4, 1, P);
  LF_TEST_TRUE("automatic grid for 6x4x4x8 on 4 ranks splits the longest local extent each time: 2x1x1x2",
               rc == LF_OK && P[0] == 2 && P[1] == 1 && P[2] == 1 && P[3] == 2);
  rc = lf_dist_grid_auto(4, L4, 6, 1, P);
  LF_TEST_TRUE("automatic grid for 6x4x4x8 on 6 ranks: 3x1x1x2", rc == LF_OK && P[0] == 3 && P[3] == 2);
  rc = lf_dist_grid_auto(4, L4, 7, 1, P);
  LF_TEST_TRUE("7 ranks on 6x4x4x8 refused with a message naming --grid", rc == LF_EINVAL && strstr(lf_last_error(), "--grid"));
  LF_TEST_TRUE("grid '1x1x2' for a 4D lattice refused", lf_dist_grid_parse("1x1x2", 4, P) == LF_EINVAL);
  LF_TEST_TRUE("grid '1x0x1x1' refused", lf_dist_grid_parse("1x0x1x1", 4, P) == LF_EINVAL);
  {
    lf_lattice glob;
    lf_lattice_init(&glob, 4, L4);
    lf_dist d;
    int bad[4] = {1, 1, 1, 3 * lf_par_size()}; /* 3 does not divide 8 */
    rc = lf_dist_init(&d, &glob, bad, 1);
    LF_TEST_TRUE("grid that does not divide the lattice refused on every rank", all_ranks(rc == LF_EINVAL));
    int wrong[4] = {1, 1, 1, 2 * lf_par_size()};
    rc = lf_dist_init(&d, &glob, wrong, 1);
    LF_TEST_TRUE("grid whose size is not the rank count refused on every rank",
                 all_ranks(rc == LF_EINVAL && strstr(lf_last_error(), "number of ranks")));
    lf_lattice_clear(&glob);
  }

  /* exact sums */
  lf_xsum a, b;
  lf_xsum_zero(&a);
  lf_xsum_zero(&b);
  const double xs[4] = {1e16, 1.0, -1e16, 2.385e-10};
  for (int i = 0; i < 4; i++) lf_xsum_add(&a, xs[i]);
  for (int i = 3; i >= 0; i--) lf_xsum_add(&b, xs[i]);
  double plain = ((xs[0] + xs[1]) + xs[2]) + xs[3];
  LF_TEST_TRUE("exact sum: 1e16 + 1 - 1e16 + 2.385e-10 = 1.0000000002385 in both orders (doubles give 2.385e-10)",
               lf_xsum_value(&a) == 1.0000000002385 && lf_xsum_value(&b) == lf_xsum_value(&a) && plain != lf_xsum_value(&a));
  lf_xsum_add(&a, (double)NAN);
  LF_TEST_TRUE("exact sum with a NaN term is NaN", isnan(lf_xsum_value(&a)));
  lf_xsum_zero(&a);
  lf_xsum_add(&a, 1e19);
  lf_xsum_add(&a, 1e19);
  lf_xsum_add(&a, 1e19);
  lf_xsum_add(&a, 1e19);
  lf_xsum_add(&a, 1e19);
  lf_xsum_add(&a, 1e19);
  lf_xsum_add(&a, 1e19);
  lf_xsum_add(&a, 1e19);
  LF_TEST_TRUE("exact sum beyond the range (8e19 > 2^66) is NaN, not wrapped", isnan(lf_xsum_value(&a)));
  return dist_test_done();
}
