/* tests/dist/wflow.c -- distributed Wilson flow against the serial lf_observe_wflow_measure
 * (1 rank and mpirun -np 2 / 4, several grids): the flowed field gathered on rank 0 is
 * bitwise the serial flowed field; plaquette, E_clov and Q (4D clover, 2D U(1) geometric)
 * are bitwise those of a private one-rank decomposition (grid independent) and within 1e-12
 * of the serial chunked sums; t^2 E grows with t (a flow that smooths). */
#include <math.h>

#include "dist_test.h"
#include "latflow/observe.h"

static void run_case(const char *lattice, lf_group g, double beta, const char *grid) {
  int nd, L[LF_MAXDIM], P[LF_MAXDIM];
  lf_lattice glob;
  lf_lattice_parse(lattice, &nd, L);
  lf_lattice_init(&glob, nd, L);
  if (grid) lf_dist_grid_parse(grid, nd, P);
  lf_dist d, ds;
  if (lf_dist_init(&d, &glob, grid ? P : NULL, 1)) {
    printf("FAIL init: %s\n", lf_last_error());
    LF_TEST_TRUE("dist init", 0);
    return;
  }
  lf_dist_init_self(&ds, &glob, 1);
  char gs[64], what[256];
  lf_dist_grid_format(&d, gs, sizeof gs);
  lf_action act;
  lf_action_init(&act, LF_ACTION_WILSON, beta, nd);
  lf_gauge *f, *R, *G;
  lf_dist_gauge_alloc(&f, &d, g);
  lf_dist_gauge_alloc(&R, &ds, g);
  lf_gauge_alloc(&G, &glob, g);
  lf_gauge_hot(f, 11);
  lf_gauge_hot(R, 11);
  for (int k = 0; k < 3; k++) {
    lf_dist_heatbath_sweep(&d, &act, f, 5, k, NULL);
    lf_dist_heatbath_sweep(&ds, &act, R, 5, k, NULL);
  }
  lf_gauge_copy(G, R); /* same site order: the one-rank local lattice is the global one */
  const double ts[3] = {0.05, 0.1, 0.16};
  lf_wflow_point pd[3], pr[3], ps[3];
  lf_wflow_ws wd, wr, wg;
  lf_observe_wflow_init(&wd, f);
  lf_observe_wflow_init(&wr, R);
  lf_observe_wflow_init(&wg, G);
  int rc = lf_dist_wflow_measure(&d, f, ts, 3, 0.02, &wd, pd);
  lf_dist_wflow_measure(&ds, R, ts, 3, 0.02, &wr, pr);
  lf_observe_wflow_measure(G, ts, 3, 0.02, &wg, ps);
#define CHECK(label, cond) \
  (snprintf(what, sizeof what, "%s %s grid %s: %s", lf_group_name(g), lattice, gs, label), LF_TEST_TRUE(what, all_ranks(cond)))
  CHECK("distributed flow succeeds", rc == LF_OK);
  lf_gauge *back = NULL;
  if (lf_par_root()) lf_gauge_alloc(&back, &glob, g);
  lf_dist_gather(&d, f, back);
  CHECK("flowed field gathered on rank 0 bitwise = serial flowed field",
        !back || !memcmp(back->u, G->u, sizeof(lf_cplx) * G->nlinks * lf_gauge_linksize(G)));
  int same = 1;
  double dev = 0;
  for (int i = 0; i < 3; i++) {
    same &= !memcmp(&pd[i].plaq, &pr[i].plaq, sizeof(double)) && !memcmp(&pd[i].E_clov, &pr[i].E_clov, sizeof(double)) &&
            !memcmp(&pd[i].Q, &pr[i].Q, sizeof(double)) && same_on_ranks(pd[i].E_clov) && same_on_ranks(pd[i].Q);
    dev = fmax(dev, fabs(pd[i].plaq - ps[i].plaq));
    dev = fmax(dev, fabs(pd[i].E_clov - ps[i].E_clov) / fmax(1.0, fabs(ps[i].E_clov)));
    dev = fmax(dev, fabs(pd[i].Q - ps[i].Q));
  }
  CHECK("plaquette, E_clov, Q bitwise = one-rank exact sums (grid independent)", same);
  snprintf(what, sizeof what, "%s %s grid %s: max deviation from lf_observe_wflow_measure", lf_group_name(g), lattice, gs);
  LF_TEST_ABS(what, dev, 0, 1e-12);
  CHECK("t^2 E_clov increases along the flow", pd[0].t2E_clov < pd[1].t2E_clov && pd[1].t2E_clov < pd[2].t2E_clov);
  printf("     t = %.2f: plaquette %.10f, E_clov %.8f, Q %.6f\n", pd[2].t, pd[2].plaq, pd[2].E_clov, pd[2].Q);
#undef CHECK
  lf_observe_wflow_clear(&wd);
  lf_observe_wflow_clear(&wr);
  lf_observe_wflow_clear(&wg);
  lf_gauge_free(back);
  lf_gauge_free(f);
  lf_gauge_free(R);
  lf_gauge_free(G);
  lf_dist_clear(&d);
  lf_dist_clear(&ds);
  lf_lattice_clear(&glob);
}

int main(int argc, char **argv) {
  dist_test_start(&argc, &argv);
  const char *g4[] = {"1x1x1x2", "2x1x1x1", "1x2x1x2", "2x2x1x1", NULL};
  const char *g2[] = {"2x1", "1x2", "2x2", NULL};
  run_case("4x4x6x8", LF_SU3, 5.8, NULL);
  for (int k = 0; g4[k]; k++)
    if (grid_fits(g4[k], 4)) run_case("4x4x6x8", LF_SU3, 5.8, g4[k]);
  run_case("8x6", LF_U1, 1.5, NULL);
  for (int k = 0; g2[k]; k++)
    if (grid_fits(g2[k], 2)) run_case("8x6", LF_U1, 1.5, g2[k]);
  return dist_test_done();
}
