/*
 * bench_hmc.c -- 4D SU(3) Wilson HMC timing: seconds per trajectory and nanoseconds per
 * link per force evaluation, for 1 and 2 OpenMP threads on 8^4 and 16^4.
 *
 * Setting: beta = 6.0, tau = 1, Omelyan 2MN with 10 steps (21 forces per trajectory),
 * start from 2 heatbath sweeps of a hot field. Reference (openQCD 2.4.2, one core of
 * the same machine kind): 0.106 s/trajectory at 8^4, 2.04 s at 16^4, ~0.39 us per link
 * per force evaluation.
 *
 *     bench_hmc [ntraj=3] [nforce=10] [sizes=8,16]
 */
#define _POSIX_C_SOURCE 200809L
#include <latflow/mc.h>
#include <time.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Process CPU time: with the machine shared, this (for 1 thread) is the better estimate of
 * the time on a quiet core. */
static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
  int ntraj = argc > 1 ? atoi(argv[1]) : 3;
  int nforce = argc > 2 ? atoi(argv[2]) : 10;
  int sizes[2] = {8, 16}, nsizes = 2;
  if (argc > 3) nsizes = sscanf(argv[3], "%d,%d", &sizes[0], &sizes[1]);
  printf("# 4D SU(3) Wilson, beta 6.0, tau 1, Omelyan 10 steps (21 forces/trajectory)\n");
  printf("# wall = elapsed time; cpu = CPU time per thread (close to wall on a quiet machine)\n");
  printf("# %-6s %7s %10s %10s %12s %12s %12s %6s\n", "L^4", "threads", "s/traj", "cpu s/traj",
         "ns/lk/force", "cpu ns/lk/f", "ns/lk/f traj", "acc");
  for (int is = 0; is < nsizes; is++) {
    int L[4] = {sizes[is], sizes[is], sizes[is], sizes[is]};
    lf_lattice lat;
    lf_gauge *f;
    if (lf_lattice_init(&lat, 4, L) || lf_gauge_alloc(&f, &lat, LF_SU3)) {
      fprintf(stderr, "%s\n", lf_last_error());
      return 1;
    }
    lf_action a;
    lf_action_init(&a, LF_ACTION_WILSON, 6.0, 4);
    lf_gauge_hot(f, 1);
    for (long k = 0; k < 2; k++) lf_mc_heatbath_sweep(&a, f, 2, k, NULL);
    lf_hmc_work *w;
    if (lf_mc_hmc_work_alloc(&w, f)) return 1;
    lf_cplx *force = lf_alloc(sizeof(lf_cplx) * f->nlinks * 9);
    for (int nt = 1; nt <= 2; nt++) {
      omp_set_num_threads(nt);
      lf_action_force(&a, f, force); /* warm-up */
      double t0 = lf_time_now(), c0 = cpu_now();
      for (int k = 0; k < nforce; k++) lf_action_force(&a, f, force);
      double tf = (lf_time_now() - t0) / nforce, cf = (cpu_now() - c0) / nforce / nt;
      lf_hmc_params p = {.tau = 1.0, .nsteps = 10, .integrator = LF_INTEGRATOR_OMELYAN};
      long nacc = 0;
      int nf = 0;
      t0 = lf_time_now();
      c0 = cpu_now();
      for (long t = 0; t < ntraj; t++) {
        lf_hmc_result res;
        if (lf_mc_hmc_trajectory(&a, &p, f, 7, t, w, &res)) return 1;
        nacc += res.accepted;
        nf = res.nforce;
      }
      double tt = (lf_time_now() - t0) / ntraj, ct = (cpu_now() - c0) / ntraj / nt;
      printf("  %-6d %7d %10.4f %10.4f %12.1f %12.1f %12.1f %6.2f\n", sizes[is], nt, tt, ct,
             1e9 * tf / (double)f->nlinks, 1e9 * cf / (double)f->nlinks,
             1e9 * tt / ((double)nf * (double)f->nlinks), (double)nacc / ntraj);
      fflush(stdout);
    }
    lf_free(force);
    lf_mc_hmc_work_free(w);
    lf_gauge_free(f);
    lf_lattice_clear(&lat);
  }
  printf("# reference openQCD 2.4.2 (1 core): 0.106 s/traj at 8^4, 2.04 s at 16^4, ~390 ns/link/force\n");
  return 0;
}
