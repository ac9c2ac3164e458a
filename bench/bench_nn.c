/*
 * bench_nn.c -- forward+backward time of the conv nets flows use (see docs/nn.md):
 *   U(1) tutorial net: batch 64, 8x8, 3x3 kernel, channels 2->8->8->3;
 *   4D nets: batch 16, 4^4 and 8^4, 3^4 kernel, channels 8->16->16->8.
 * Prints ms per forward+backward and GFLOP/s (2 flops per multiply-add; backward
 * counted as 2x forward). Usage: bench_nn [seconds per case, default 1].
 * Thread count from OMP_NUM_THREADS. Compare with bench/torch_nn.py.
 * BENCH_CPU=1 measures process CPU time instead of wall time (useful with
 * OMP_NUM_THREADS=1 on a busy machine: time while descheduled is not counted).
 */
#define _POSIX_C_SOURCE 200809L
#include "latflow/nn.h"

#include <time.h>

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

static int use_cpu;
static double now(void) {
  if (!use_cpu) return lf_time_now();
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
  const char *name;
  int nd, L[4], batch, nl, ch[4];
} bench_case;

static double run_case(const bench_case *bc, double secs) {
  lf_nn_params P;
  lf_nn_params_init(&P);
  lf_nn_convnet_cfg cfg = {.nd = bc->nd, .kernel = 3, .nlayers = bc->nl,
                           .act = LF_NN_ACT_LEAKY_RELU, .act_param = 0.01,
                           .out_act = LF_NN_ACT_NONE};
  for (int mu = 0; mu < bc->nd; mu++) cfg.L[mu] = bc->L[mu];
  for (int l = 0; l <= bc->nl; l++) cfg.channels[l] = bc->ch[l];
  lf_nn_convnet net;
  if (lf_nn_convnet_init(&net, &cfg, &P, "net")) {
    fprintf(stderr, "bench_nn: %s\n", lf_last_error());
    exit(1);
  }
  lf_nn_convnet_init_weights(&net, &P, 1.0, 1.0, 1);
  size_t nx = (size_t)bc->batch * (size_t)bc->ch[0] * (size_t)net.vol;
  size_t ny = (size_t)bc->batch * (size_t)bc->ch[bc->nl] * (size_t)net.vol;
  double *x = lf_alloc(nx * 8), *dx = lf_alloc(nx * 8), *y = lf_alloc(ny * 8),
         *dy = lf_alloc(ny * 8);
  for (size_t i = 0; i < nx; i++) x[i] = 0.37 * (double)(i % 17) - 2.1;
  for (size_t i = 0; i < ny; i++) dy[i] = 0.11 * (double)(i % 13) - 0.6;
  lf_arena a;
  if (lf_arena_init(&a, lf_nn_convnet_arena_bytes(&net, bc->batch))) exit(1);
  long iters = 0;
  double t0 = now(), best = 1e30;
  while (now() - t0 < secs || iters < 3) {
    double t1 = now();
    lf_arena_reset(&a);
    lf_nn_saved *sv;
    if (lf_nn_convnet_forward(&net, &P, bc->batch, x, y, &a, &sv) ||
        lf_nn_convnet_backward(&net, &P, sv, dy, dx, &a)) {
      fprintf(stderr, "bench_nn: %s\n", lf_last_error());
      exit(1);
    }
    double dt = now() - t1;
    if (dt < best) best = dt;
    iters++;
  }
  double mean = (now() - t0) / (double)iters;
  double flops = 3.0 * 2.0 * lf_nn_convnet_macs(&net, bc->batch);
  printf("%-34s %8.3f ms (best %8.3f ms)  %7.2f GFLOP/s  (%ld iters, %d threads%s)\n", bc->name,
         1e3 * mean, 1e3 * best, flops / best * 1e-9, iters, omp_get_max_threads(),
         use_cpu ? ", CPU time" : "");
  lf_free(x), lf_free(dx), lf_free(y), lf_free(dy);
  lf_arena_clear(&a);
  lf_nn_convnet_clear(&net);
  lf_nn_params_clear(&P);
  return best;
}

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 1.0;
  use_cpu = getenv("BENCH_CPU") && atoi(getenv("BENCH_CPU"));
  const bench_case cases[] = {
      {"u1 tutorial b64 8x8 2-8-8-3", 2, {8, 8, 1, 1}, 64, 3, {2, 8, 8, 3}},
      {"4d b16 4^4 8-16-16-8", 4, {4, 4, 4, 4}, 16, 3, {8, 16, 16, 8}},
      {"4d b16 8^4 8-16-16-8", 4, {8, 8, 8, 8}, 16, 3, {8, 16, 16, 8}},
      {"2d b64 16x16 2-32-32-3", 2, {16, 16, 1, 1}, 64, 3, {2, 32, 32, 3}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i], secs);
  return 0;
}
