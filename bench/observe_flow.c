/*
 * bench/observe_flow.c -- timings of the observables and of the Wilson flow on a hot
 * SU(3) field: plaquette, clover Q + E, Wilson loops up to 4x4, Polyakov loop, one RK3
 * flow step. Usage: observe_flow [L=8] [reps=3]. Prints seconds per call and per site.
 */
#include <stdio.h>
#include <stdlib.h>

#include "latflow/observe.h"

int main(int argc, char **argv) {
  int Ls = argc > 1 ? atoi(argv[1]) : 8, reps = argc > 2 ? atoi(argv[2]) : 3;
  const int L[4] = {Ls, Ls, Ls, Ls};
  lf_lattice lat;
  lf_gauge *f;
  lf_wflow_ws ws;
  if (lf_lattice_init(&lat, 4, L) || lf_gauge_alloc(&f, &lat, LF_SU3) ||
      lf_observe_wflow_init(&ws, f)) {
    fprintf(stderr, "observe_flow: %s\n", lf_last_error());
    return 1;
  }
  lf_gauge_hot(f, 1);
  double W[16], Q, E, x = 0, t0;
  lf_cplx P;
  const char *names[5] = {"plaquette", "clover Q", "clover E", "Wilson loops 4x4", "Polyakov"};
  for (int k = 0; k < 6; k++) {
    t0 = lf_time_now();
    for (int r = 0; r < reps; r++) {
      switch (k) {
      case 0: x += lf_observe_plaquette(f); break;
      case 1: lf_observe_topo_clover(f, &Q); x += Q; break;
      case 2: lf_observe_energy(f, NULL, &E); x += E; break;
      case 3: lf_observe_wilson_loops(f, 4, 4, W); x += W[15]; break;
      case 4: lf_observe_polyakov(f, &P); x += creal(P); break;
      case 5: lf_observe_wflow_step(f, 0.01, &ws); break;
      }
    }
    double dt = (lf_time_now() - t0) / reps;
    printf("%-18s %dx%dx%dx%d SU(3): %.4f s/call, %.3f us/site\n", k < 5 ? names[k] : "RK3 flow step",
           Ls, Ls, Ls, Ls, dt, 1e6 * dt / (double)lat.vol);
  }
  printf("(checksum %g)\n", x);
  lf_observe_wflow_clear(&ws);
  lf_gauge_free(f);
  lf_lattice_clear(&lat);
  return 0;
}
