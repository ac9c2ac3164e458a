/*
 * bench_spectral.c -- single-thread cost of the spectral kernels (src/group/eig.c,
 * spectral.c, polar.c) on a pool of 4096 random inputs, in ns per call:
 *   eig SU(3) / SU(2), eigh 3x3, spectral map forward (eig + map), map VJP
 *   (vjp_angles + divdiff + map_vjp), polar SU(3) forward, polar VJP.
 * Usage: bench_spectral [seconds per case, default 0.5] [only cases whose name contains
 * this string]; with `perf stat -e cycles` and one case, cycles/call = cycles / calls. Prints wall-clock and thread CPU
 * time per call (CPU time is the more robust number on a loaded machine).
 */
#define _POSIX_C_SOURCE 200809L
#include "latflow/group.h"

#include <time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#define POOL 4096

static lf_cplx W3[POOL][9], W2[POOL][4], M3[POOL][9], G3[POOL][9], H3[POOL][9];
static lf_spec_eigsys E3[POOL];
static lf_spec_polar_state PS[POOL];
static double TH1[POOL][3];
static volatile double sink;

typedef void (*kernel)(int i);

static void k_eig3(int i) {
  lf_spec_eigsys e;
  lf_spec_eig(3, 1, W3[i], &e);
  sink += e.theta[0];
}
static void k_eig2(int i) {
  lf_spec_eigsys e;
  lf_spec_eig(2, 1, W2[i], &e);
  sink += e.theta[0];
}
static void k_eigh3(int i) {
  double lam[3];
  lf_cplx v[9];
  lf_spec_eigh(3, H3[i], lam, v);
  sink += lam[0];
}
static void k_map(int i) {
  lf_spec_eigsys e;
  lf_cplx w1[9];
  double th1[3];
  lf_spec_eig(3, 1, W3[i], &e);
  for (int j = 0; j < 3; j++) th1[j] = e.theta[j] + 0.3 * sin(e.theta[j]);
  lf_spec_map(&e, th1, w1);
  sink += creal(w1[0]);
}
static void k_map_vjp(int i) {
  double g1[3], s[9], jac[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  lf_cplx gw[9];
  lf_spec_map_vjp_angles(&E3[i], TH1[i], G3[i], g1);
  lf_spec_divdiff(3, E3[i].theta, TH1[i], jac, s);
  lf_spec_map_vjp(&E3[i], TH1[i], s, G3[i], g1, gw);
  sink += creal(gw[0]);
}
static void k_polar(int i) {
  lf_cplx p[9];
  lf_spec_polar(3, 1, M3[i], p, &PS[i]);
  sink += creal(p[0]);
}
static void k_polar_vjp(int i) {
  lf_cplx gm[9];
  lf_spec_polar_vjp(&PS[i], G3[i], gm);
  sink += creal(gm[0]);
}

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double time_kernel(kernel k, double secs, double *cpu_ns, long *ncalls) {
  long calls = 0;
  double t0 = lf_time_now(), c0 = cpu_now(), t;
  do {
    for (int i = 0; i < POOL; i++) k(i);
    calls += POOL;
    t = lf_time_now() - t0;
  } while (t < secs);
  *cpu_ns = 1e9 * (cpu_now() - c0) / (double)calls;
  *ncalls = calls;
  return 1e9 * t / (double)calls;
}

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 0.5;
  lf_rng r;
  for (int i = 0; i < POOL; i++) {
    lf_rng_init(&r, 2385, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, 70), (uint64_t)i);
    lf_group_haar(LF_SU3, W3[i], &r);
    lf_group_haar(LF_SU2, W2[i], &r);
    for (int j = 0; j < 9; j++) {
      M3[i][j] = lf_rng_normal(&r) + LF_I * lf_rng_normal(&r);
      G3[i][j] = lf_rng_normal(&r) + LF_I * lf_rng_normal(&r);
    }
    for (int a = 0; a < 3; a++)
      for (int b = 0; b < 3; b++) H3[i][a * 3 + b] = M3[i][a * 3 + b] + conj(M3[i][b * 3 + a]);
    lf_spec_eig(3, 1, W3[i], &E3[i]);
    for (int j = 0; j < 3; j++) TH1[i][j] = E3[i].theta[j] + 0.3 * sin(E3[i].theta[j]);
    lf_cplx p[9];
    if (lf_spec_polar(3, 1, M3[i], p, &PS[i])) {
      fprintf(stderr, "bench_spectral: %s\n", lf_last_error());
      return 1;
    }
  }
  struct {
    const char *name;
    kernel k;
  } cases[] = {{"eig SU(3) (Cayley + Jacobi)", k_eig3},
               {"eig SU(2) (closed form)", k_eig2},
               {"eigh 3x3 hermitian (Jacobi)", k_eigh3},
               {"spectral map SU(3) fwd (eig + map)", k_map},
               {"spectral map SU(3) VJP", k_map_vjp},
               {"polar SU(3) fwd (Jacobi SVD)", k_polar},
               {"polar SU(3) VJP", k_polar_vjp}};
  printf("# bench_spectral: single thread, pool %d inputs, %.2f s per case\n", POOL, secs);
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    if (argc > 2 && !strstr(cases[c].name, argv[2])) continue;
    long calls;
    double cpu, wall = time_kernel(cases[c].k, secs, &cpu, &calls);
    printf("%-38s %8.1f ns/call wall %8.1f ns/call cpu (%ld calls)\n", cases[c].name, wall, cpu,
           calls);
  }
  return sink == 12345.678 ? 2 : 0;
}
