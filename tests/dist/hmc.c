/* tests/dist/hmc.c -- distributed Markov chains against the serial ones (run with 1 rank
 * and under mpirun -np 2 / 4, several process grids per rank count):
 *   - HMC (SU(3) Wilson Omelyan, SU(2) Lüscher-Weisz leapfrog with halo width 2, 2D U(1)):
 *     every trajectory's accept decision equals the serial lf_mc_hmc_trajectory's, dH agrees
 *     to rounding, the plaquette history is bitwise the exact-sum plaquette of the serial
 *     field (which does not depend on the grid, so the histories of 1, 2 and 4 ranks are
 *     bitwise identical), and the final field gathered on rank 0 is bitwise the serial one;
 *   - heatbath + overrelaxation (SU(3) 4D, SU(2) 3D, U(1) 2D), separate sweeps and the fused
 *     lf_dist_heatbath_update: field bitwise the serial lf_mc_heatbath_sweep /
 *     lf_mc_overrelax_sweep field, acceptance counts equal;
 *   - failures on one rank reach every rank with the same status and message: a NaN link
 *     on the last rank (LF_ENAN, field restored) and a wrong field given to scatter on rank 0. */
#include <math.h>
#include <stdlib.h>

#include "dist_test.h"
#include "latflow/observe.h"

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *c = p;
  for (size_t i = 0; i < n; i++) h = (h ^ c[i]) * 1099511628211ULL;
  return h;
}

/* The same message on every rank (hash compared as two exact doubles). */
static int same_message(const char *msg) {
  uint64_t h = fnv(1469598103934665603ULL, msg, strlen(msg));
  return same_on_ranks((double)(h >> 32)) && same_on_ranks((double)(h & 0xffffffffu));
}

typedef struct {
  const char *lattice;
  lf_group g;
  lf_action_kind kind;
  double beta;
  int hmc;        /* 1 HMC, 0 heatbath */
  lf_integrator integ;
  int nsteps;
  double tau;
  int ntraj;      /* trajectories or sweeps */
  const char *grids[6];
} ccase;

static void run_case(const ccase *cc, const char *grid) {
  int nd, L[LF_MAXDIM], P[LF_MAXDIM];
  lf_lattice glob;
  lf_lattice_parse(cc->lattice, &nd, L);
  lf_lattice_init(&glob, nd, L);
  if (grid) lf_dist_grid_parse(grid, nd, P);
  const int width = cc->kind == LF_ACTION_LW ? 2 : 1;
  lf_dist d, ds;
  if (lf_dist_init(&d, &glob, grid ? P : NULL, width)) {
    printf("FAIL init: %s\n", lf_last_error());
    LF_TEST_TRUE("dist init", 0);
    return;
  }
  lf_dist_init_self(&ds, &glob, width);
  char gs[64], what[256];
  lf_dist_grid_format(&d, gs, sizeof gs);
  lf_action act;
  lf_action_init(&act, cc->kind, cc->beta, nd);
  if (nd == 4) act.plane_coef[5] = 1.1; /* anisotropic (2,3) plane: non-uniform kernel path */
  lf_hmc_params hp = {.tau = cc->tau, .nsteps = cc->nsteps, .integrator = cc->integ};
  const uint64_t seed = 2385;
  lf_gauge *f, *R;
  lf_dist_gauge_alloc(&f, &d, cc->g);
  lf_dist_gauge_alloc(&R, &ds, cc->g);
  lf_gauge_hot(f, seed);
  lf_gauge_hot(R, seed);
  lf_dist_hmc_work *w = NULL;
  lf_hmc_work *wR = NULL;
  if (cc->hmc) {
    lf_dist_hmc_work_alloc(&w, &d, f);
    lf_mc_hmc_work_alloc(&wR, R);
  }
  int same_acc = 1, same_plaq = 1, rc = LF_OK, nacc = 0;
  double maxddH = 0;
  uint64_t hist = 1469598103934665603ULL;
  lf_hb_stats hb = {0, 0}, hbR = {0, 0};
  for (int t = 0; t < cc->ntraj && !rc; t++) {
    lf_hmc_result res, resR;
    if (cc->hmc) {
      rc = lf_dist_hmc_trajectory(&d, &act, &hp, f, seed, t, w, &res);
      lf_mc_hmc_trajectory(&act, &hp, R, seed, t, wR, &resR);
      same_acc &= res.accepted == resR.accepted;
      nacc += res.accepted;
      if (fabs(res.dH - resR.dH) > maxddH) maxddH = fabs(res.dH - resR.dH);
    } else {
      if (t % 2) { /* separate sweeps, or the fused update (one halo refresh) */
        rc = lf_dist_heatbath_sweep(&d, &act, f, seed, t, &hb);
        for (int o = 0; o < 2 && !rc; o++) rc = lf_dist_overrelax_sweep(&d, &act, f);
      } else {
        rc = lf_dist_heatbath_update(&d, &act, f, seed, t, 2, &hb);
      }
      lf_mc_heatbath_sweep(&act, R, seed, t, &hbR);
      for (int o = 0; o < 2; o++) lf_mc_overrelax_sweep(&act, R);
    }
    double p = 0, pR = 0;
    if (!rc) rc = lf_dist_plaquette(&d, f, &p);
    lf_dist_plaquette(&ds, R, &pR);
    same_plaq &= !memcmp(&p, &pR, sizeof p) && same_on_ranks(p);
    hist = fnv(hist, &p, sizeof p);
  }
  const char *name = cc->hmc ? "HMC" : "heatbath+OR";
#define CHECK(label, cond) \
  (snprintf(what, sizeof what, "%s %s %s %s grid %s: %s", name, lf_group_name(cc->g), lf_action_kind_name(cc->kind), \
            cc->lattice, gs, label), LF_TEST_TRUE(what, all_ranks(cond)))
  CHECK("all steps succeed", rc == LF_OK);
  if (rc) printf("     %s\n", lf_last_error());
  printf("     %d %s, plaquette history hash %016llx%s\n", cc->ntraj, cc->hmc ? "trajectories" : "sweeps",
         (unsigned long long)hist, cc->hmc ? "" : " (heatbath)");
  if (cc->hmc) {
    printf("     accepted %d of %d, max |dH - dH_serial| = %.2g\n", nacc, cc->ntraj, maxddH);
    CHECK("accept decisions = serial lf_mc_hmc_trajectory", same_acc);
    CHECK("|dH - serial dH| < 1e-9 (sums differ only in rounding)", maxddH < 1e-9);
    if (cc->g == LF_U1) CHECK("coarse steps: accepted and rejected trajectories both occur", nacc > 0 && nacc < cc->ntraj);
  } else {
    CHECK("heatbath acceptance counts = serial", hb.updates == hbR.updates && hb.trials == hbR.trials);
  }
  CHECK("plaquette history bitwise = exact plaquette of the serial chain (grid independent)", same_plaq);
  lf_gauge *back = NULL;
  if (lf_par_root()) lf_gauge_alloc(&back, &glob, cc->g);
  rc = lf_dist_gather(&d, f, back);
  CHECK("final field gathered on rank 0 bitwise = serial field",
        rc == LF_OK && (!back || !memcmp(back->u, R->u, sizeof(lf_cplx) * R->nlinks * lf_gauge_linksize(R))));

  /* NaN on the last rank: every rank fails with LF_ENAN and the same message, field kept */
  if (cc->hmc && cc->g == LF_SU3) {
    lf_gauge *before;
    lf_gauge_alloc(&before, &d.lat, cc->g);
    if (lf_par_rank() == lf_par_size() - 1) f->u[5] = NAN;
    lf_gauge_copy(before, f);
    lf_hmc_result res;
    rc = lf_dist_hmc_trajectory(&d, &act, &hp, f, seed, 99, w, &res);
    const char *msg = lf_last_error();
    printf("     NaN on rank %d -> %s\n", lf_par_size() - 1, msg);
    CHECK("NaN link on the last rank: LF_ENAN on every rank", rc == LF_ENAN);
    char rk[32];
    snprintf(rk, sizeof rk, "on rank %d", lf_par_size() - 1);
    CHECK("NaN link on the last rank: same message on every rank, naming that rank",
          same_message(msg) && (lf_par_size() == 1 || strstr(msg, rk)));
    CHECK("NaN link: field restored to the start of the trajectory",
          !memcmp(before->u + 9, f->u + 9, sizeof(lf_cplx) * (f->nlinks * 9 - 9)));
    lf_gauge_free(before);
    lf_error_clear();
    /* a wrong global field on rank 0 for scatter: every rank gets rank 0's error */
    lf_lattice small;
    int Ls[4] = {2, 2, 2, 2};
    lf_lattice_init(&small, 4, Ls);
    lf_gauge *wrong = NULL;
    if (lf_par_root()) lf_gauge_alloc(&wrong, &small, cc->g);
    rc = lf_dist_scatter(&d, wrong, f);
    msg = lf_last_error();
    printf("     wrong field on rank 0 -> %s\n", msg);
    CHECK("scatter of a wrong field on rank 0: LF_ESTATE on every rank with the same message",
          rc == LF_ESTATE && same_message(msg) && (lf_par_size() == 1 || strstr(msg, "rank 0")));
    lf_gauge_free(wrong);
    lf_lattice_clear(&small);
    lf_error_clear();
  }
#undef CHECK
  lf_gauge_free(back);
  lf_dist_hmc_work_free(w);
  lf_mc_hmc_work_free(wR);
  lf_gauge_free(f);
  lf_gauge_free(R);
  lf_dist_clear(&d);
  lf_dist_clear(&ds);
  lf_lattice_clear(&glob);
}

int main(int argc, char **argv) {
  dist_test_start(&argc, &argv);
  const ccase cases[] = {
      {"4x4x4x8", LF_SU3, LF_ACTION_WILSON, 5.7, 1, LF_INTEGRATOR_OMELYAN, 4, 0.5, 6, {"1x1x1x2", "2x1x1x1", "1x2x1x2", "2x1x1x2", NULL}},
      {"4x4x4x4", LF_SU2, LF_ACTION_LW, 2.3, 1, LF_INTEGRATOR_LEAPFROG, 6, 0.4, 4, {"1x1x2x1", "2x1x1x2", NULL}},
      {"8x6", LF_U1, LF_ACTION_WILSON, 2.0, 1, LF_INTEGRATOR_LEAPFROG, 2, 1.2, 16, {"2x1", "1x2", "2x2", NULL}},
      {"4x4x4x8", LF_SU3, LF_ACTION_WILSON, 5.7, 0, 0, 0, 0, 3, {"1x1x1x2", "1x2x1x2", NULL}},
      {"4x6x2", LF_SU2, LF_ACTION_WILSON, 2.2, 0, 0, 0, 0, 4, {"1x2x1", "2x1x2", NULL}},
      {"6x8", LF_U1, LF_ACTION_WILSON, 1.5, 0, 0, 0, 0, 5, {"2x1", "1x4", NULL}},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    int nd, L[LF_MAXDIM];
    lf_lattice_parse(cases[c].lattice, &nd, L);
    run_case(&cases[c], NULL);
    for (int k = 0; cases[c].grids[k]; k++)
      if (grid_fits(cases[c].grids[k], nd)) run_case(&cases[c], cases[c].grids[k]);
  }
  return dist_test_done();
}
