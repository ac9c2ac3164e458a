/*
 * bench_heatbath.c -- 4D SU(3) Wilson heatbath (Cabibbo-Marinari, 3 subgroups) and
 * overrelaxation: microseconds per link update, 1 and 2 OpenMP threads, 8^4 and 16^4,
 * beta = 6.0, after 2 thermalising sweeps from a hot start.
 *
 *     bench_heatbath [nsweeps=3] [sizes=8,16]
 */
#define _POSIX_C_SOURCE 200809L
#include <latflow/mc.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
  int nsw = argc > 1 ? atoi(argv[1]) : 3;
  int sizes[2] = {8, 16}, nsizes = 2;
  if (argc > 2) nsizes = sscanf(argv[2], "%d,%d", &sizes[0], &sizes[1]);
  printf("# 4D SU(3) Wilson beta 6.0: heatbath (CM) and overrelaxation, per link update\n");
  printf("# wall = elapsed; cpu = CPU time per thread (close to wall on a quiet machine)\n");
  printf("# %-5s %7s %12s %12s %12s %12s %8s\n", "L^4", "threads", "HB us/link", "cpu HB", "OR us/link",
         "cpu OR", "HB acc");
  for (int is = 0; is < nsizes; is++) {
    int L[4] = {sizes[is], sizes[is], sizes[is], sizes[is]};
    lf_lattice lat;
    lf_gauge *f;
    if (lf_lattice_init(&lat, 4, L) || lf_gauge_alloc(&f, &lat, LF_SU3)) return 1;
    lf_action a;
    lf_action_init(&a, LF_ACTION_WILSON, 6.0, 4);
    lf_gauge_hot(f, 1);
    for (long k = 0; k < 2; k++) lf_mc_heatbath_sweep(&a, f, 2, k, NULL);
    for (int nt = 1; nt <= 2; nt++) {
      omp_set_num_threads(nt);
      lf_hb_stats st = {0, 0};
      double t0 = lf_time_now(), c0 = cpu_now();
      for (long k = 0; k < nsw; k++) lf_mc_heatbath_sweep(&a, f, 2, 10 + k, &st);
      double th = lf_time_now() - t0, ch = (cpu_now() - c0) / nt;
      t0 = lf_time_now(), c0 = cpu_now();
      for (long k = 0; k < nsw; k++) lf_mc_overrelax_sweep(&a, f);
      double to = lf_time_now() - t0, co = (cpu_now() - c0) / nt;
      double nl = (double)f->nlinks * nsw;
      printf("  %-5d %7d %12.3f %12.3f %12.3f %12.3f %8.4f\n", sizes[is], nt, 1e6 * th / nl,
             1e6 * ch / nl, 1e6 * to / nl, 1e6 * co / nl, (double)st.updates / (double)st.trials);
      fflush(stdout);
    }
    lf_gauge_free(f);
    lf_lattice_clear(&lat);
  }
  return 0;
}
