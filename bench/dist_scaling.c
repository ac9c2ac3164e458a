/*
 * dist_scaling.c -- strong and weak scaling of domain-decomposed HMC (dist module) and the
 * measured compute/communication split; optionally a ping-pong of lf_par_sendrecv.
 *
 * Setting: 4D SU(3) Wilson, beta = 6.0, tau = 1, Omelyan 2MN with `nsteps` steps (2n+1
 * forces per trajectory), hot start plus one untimed trajectory. Per trajectory the wall
 * time is the maximum over ranks (barrier before); the median over trajectories is quoted.
 * Per-site costs for the communication model of docs/parallel.md:
 *   md ns/site/force = "md" region (forces + link updates) / (forces x own sites),
 *   halo bytes per exchange = 2 sum_mu nface[mu] x 4 links x 144 bytes,
 *   halo us per exchange    = "halo" region / calls.
 *
 *     mpirun -np 2 build/dist_scaling 8x8x8x16 [ntraj=5] [grid=auto] [nsteps=10] [pingpong=0]
 */
#define _POSIX_C_SOURCE 200809L
#include <latflow/dist.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void pingpong(void) {
  if (lf_par_size() < 2) return;
  const int r = lf_par_rank();
  static char buf[2][1 << 24];
  if (r == 0) printf("# ping-pong rank 0 <-> 1 (lf_par_sendrecv, one direction each way): bytes, us per exchange, GB/s\n");
  for (size_t n = 8; n <= (1u << 24); n *= 8) {
    const int reps = n < 65536 ? 2000 : 50;
    lf_par_barrier();
    double t0 = lf_time_now();
    for (int k = 0; k < reps; k++) {
      if (r == 0) lf_par_sendrecv(buf[0], n, 1, buf[1], n, 1);
      else if (r == 1) lf_par_sendrecv(buf[0], n, 0, buf[1], n, 0);
    }
    double dt = (lf_time_now() - t0) / reps;
    if (r == 0) printf("pingpong %9zu %10.2f %8.2f\n", n, 1e6 * dt, (double)n / dt * 1e-9);
  }
}

int main(int argc, char **argv) {
  if (lf_par_init(&argc, &argv)) {
    fprintf(stderr, "%s\n", lf_last_error());
    return 1;
  }
  const int root = lf_par_root();
  const char *lat_s = argc > 1 ? argv[1] : "8x8x8x16";
  int ntraj = argc > 2 ? atoi(argv[2]) : 5;
  const char *grid_s = argc > 3 && strcmp(argv[3], "auto") ? argv[3] : NULL;
  int nsteps = argc > 4 ? atoi(argv[4]) : 10;
  int ping = argc > 5 ? atoi(argv[5]) : 0;
  int nd, L[LF_MAXDIM], P[LF_MAXDIM];
  lf_lattice glob;
  lf_dist d;
  if (lf_lattice_parse(lat_s, &nd, L) || lf_lattice_init(&glob, nd, L) ||
      (grid_s && lf_dist_grid_parse(grid_s, nd, P)) || lf_dist_init(&d, &glob, grid_s ? P : NULL, 1)) {
    if (root) fprintf(stderr, "dist_scaling: %s\n", lf_last_error());
    lf_par_finalize();
    return 1;
  }
  lf_gauge *f;
  lf_dist_hmc_work *w;
  lf_action a;
  lf_action_init(&a, LF_ACTION_WILSON, 6.0, nd);
  lf_hmc_params hp = {.tau = 1.0, .nsteps = nsteps, .integrator = LF_INTEGRATOR_OMELYAN};
  if (lf_dist_gauge_alloc(&f, &d, LF_SU3) || lf_dist_hmc_work_alloc(&w, &d, f)) return 1;
  lf_gauge_hot(f, 1);
  lf_hmc_result res;
  lf_dist_hmc_trajectory(&d, &a, &hp, f, 7, 0, w, &res); /* warm-up, untimed */
  lf_prof_reset();
  double *tt = malloc(sizeof(double) * (size_t)ntraj);
  int nforce = 0;
  for (int t = 0; t < ntraj; t++) {
    lf_par_barrier();
    double t0 = lf_time_now();
    if (lf_dist_hmc_trajectory(&d, &a, &hp, f, 7, t + 1, w, &res)) {
      if (root) fprintf(stderr, "dist_scaling: %s\n", lf_last_error());
      return 1;
    }
    double dt = lf_time_now() - t0;
    lf_par_allreduce_max(&dt, 1);
    tt[t] = dt;
    nforce += res.nforce;
  }
  lf_prof_summary s;
  lf_prof_collect(&s);
  qsort(tt, (size_t)ntraj, sizeof *tt, cmp_d);
  double med = ntraj % 2 ? tt[ntraj / 2] : 0.5 * (tt[ntraj / 2 - 1] + tt[ntraj / 2]);
  double md = 0, halo = 0, red = 0, sums = 0;
  long halo_calls = 0;
  for (int i = 0; i < s.nregions; i++) {
    if (!strcmp(s.region[i].name, "md")) md = s.region[i].tavg;
    if (!strcmp(s.region[i].name, "halo")) halo = s.region[i].tavg, halo_calls = s.region[i].calls;
    if (!strcmp(s.region[i].name, "reduce")) red = s.region[i].tavg;
    if (!strcmp(s.region[i].name, "hmc.sums")) sums = s.region[i].tavg;
  }
  double halo_bytes = 0;
  for (int mu = 0; mu < nd; mu++)
    if (d.P[mu] > 1) halo_bytes += 2.0 * (double)d.nface[mu] * nd * 9 * sizeof(lf_cplx);
  char gs[64];
  lf_dist_grid_format(&d, gs, sizeof gs);
  if (root) {
    printf("# SU(3) Wilson HMC, beta 6, tau 1, Omelyan %d steps; %s on %d rank(s) x %d thread(s), grid %s, "
           "local %ld sites + %ld halo\n",
           nsteps, lat_s, d.nranks, omp_get_max_threads(), gs, d.lat.vol, d.nhalo);
    printf("# trajectories (s, sorted):");
    for (int t = 0; t < ntraj; t++) printf(" %.4f", tt[t]);
    printf("\n");
    printf("{\"lattice\":\"%s\",\"ranks\":%d,\"threads\":%d,\"grid\":\"%s\",\"s_per_traj_median\":%.5g,"
           "\"md_s\":%.5g,\"halo_s\":%.5g,\"reduce_s\":%.5g,\"sums_s\":%.5g,\"wall_s\":%.5g,"
           "\"comm_fraction\":%.4f,\"load_balance\":%.4f,\"md_ns_per_site_force\":%.4g,"
           "\"halo_bytes_per_exchange\":%.0f,\"halo_us_per_exchange\":%.4g,\"forces_per_traj\":%d}\n",
           lat_s, d.nranks, omp_get_max_threads(), gs, med, md, halo, red, sums, s.wall,
           s.wall > 0 ? (halo + red) / s.wall : 0, s.load_balance,
           1e9 * md / ((double)nforce * (double)d.lat.vol), halo_bytes,
           halo_calls ? 1e6 * halo / (double)halo_calls : 0, nforce / ntraj);
  }
  if (ping) pingpong();
  free(tt);
  lf_dist_hmc_work_free(w);
  lf_gauge_free(f);
  lf_dist_clear(&d);
  lf_lattice_clear(&glob);
  lf_par_finalize();
  return 0;
}
