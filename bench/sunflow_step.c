/*
 * bench/sunflow_step.c -- wall time of one SU(N) flow training step (path or
 * reparameterisation gradient) and of one sampling forward pass (prior + flow + action),
 * with checksums of the results so that optimisations can be checked for unchanged output.
 *     sunflow_step [preset] [batch] [steps] [--reparam]
 * (default su3-4d-lal 8 3). Prints per-step wall and CPU seconds (all threads), their
 * medians, the seconds of a sampling forward pass of one batch (median of 5), and the
 * step losses, gradient norms, sum of the parameters after the last step, log q and action
 * of the forward batch at full precision (%.17g).
 * docs/benchmarks.md "SU(N) flow training step" quotes it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "latflow/sunflow.h"

/* CPU seconds of the process (all threads): robust against other jobs on the machine */
static double cpu_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  lf_sunflow_grad_kind kind = LF_SUNFLOW_GRAD_PATH;
  if (argc > 1 && !strcmp(argv[argc - 1], "--reparam")) kind = LF_SUNFLOW_GRAD_REPARAM, argc--;
  const char *preset = argc > 1 ? argv[1] : "su3-4d-lal";
  int batch = argc > 2 ? atoi(argv[2]) : 8;
  long steps = argc > 3 ? atol(argv[3]) : 3;
  if (batch < 1 || steps < 1 || steps > 1000) {
    fprintf(stderr, "sunflow_step: batch >= 1, 1 <= steps <= 1000\n");
    return 2;
  }
  lf_sunflow_config cfg;
  lf_sunflow_model *m;
  lf_sunflow_batch *wb;
  lf_nn_adam opt;
  lf_nn_adam_cfg ac = lf_nn_adam_defaults();
  if (lf_sunflow_preset(preset, &cfg) || lf_sunflow_model_alloc(&m, &cfg, 1) ||
      lf_sunflow_batch_alloc(&wb, m, batch) ||
      lf_nn_adam_init(&opt, lf_sunflow_model_nparams(m), &ac)) {
    fprintf(stderr, "sunflow_step: %s\n", lf_last_error());
    return 1;
  }
  double *ts = malloc(2 * (size_t)steps * sizeof(double)), *tc = ts + steps;
  printf("# preset %s, batch %d, %s gradient\n", preset, batch,
         kind == LF_SUNFLOW_GRAD_PATH ? "path" : "reparam");
  for (long s = 0; s < steps; s++) {
    lf_sunflow_step_stats st;
    double t0 = lf_time_now(), c0 = cpu_now();
    if (lf_sunflow_train_step(m, wb, &opt, 1e-3, 1, s, kind, &st)) {
      fprintf(stderr, "sunflow_step: %s\n", lf_last_error());
      return 1;
    }
    ts[s] = lf_time_now() - t0, tc[s] = cpu_now() - c0;
    printf("step %ld  %.3f s  %.3f cpu s  loss %.17g  grad_norm %.17g\n", s, ts[s], tc[s], st.loss, st.grad_norm);
  }
  qsort(ts, (size_t)steps, sizeof *ts, cmp);
  qsort(tc, (size_t)steps, sizeof *tc, cmp);
  const lf_nn_params *P = lf_sunflow_model_store(m);
  double psum = 0;
  for (size_t i = 0; i < P->n; i++) psum += P->data[i];
  const size_t fs = lf_sunflow_model_fieldsize(m);
  lf_cplx *x = malloc((size_t)batch * fs * sizeof(lf_cplx));
  double *lq = malloc((size_t)batch * sizeof(double));
  /* sampling: prior + flow + action of one batch, 5 times (the same samples), median */
  enum { NF = 5 };
  double tfs[NF], cfs[NF], ssum = 0;
  for (int r = 0; r < NF; r++) {
    double t0 = lf_time_now(), c0 = cpu_now();
    ssum = 0;
    lf_sunflow_prior_sample(m, 2, LF_RNG_TAG(LF_RNG_PURPOSE_PRIOR, 1ull << 46), 0, batch, x);
    if (lf_sunflow_forward(m, wb, batch, x, x, lq)) {
      fprintf(stderr, "sunflow_step: %s\n", lf_last_error());
      return 1;
    }
    for (int b = 0; b < batch; b++) ssum += lf_sunflow_action(m, cfg.beta, x + (size_t)b * fs, NULL);
    tfs[r] = lf_time_now() - t0, cfs[r] = cpu_now() - c0;
  }
  qsort(tfs, NF, sizeof *tfs, cmp);
  qsort(cfs, NF, sizeof *cfs, cmp);
  double tf = tfs[NF / 2], cf = cfs[NF / 2], lsum = 0;
  for (int b = 0; b < batch; b++) lsum += lq[b];
  printf("median step %.3f s (%.3f cpu s)  forward %.3f s (%.3f cpu s)\n", ts[steps / 2],
         tc[steps / 2], tf, cf);
  printf("param_sum %.17g  logq_sum %.17g  action_sum %.17g\n", psum, lsum, ssum);
  free(ts), free(x), free(lq);
  lf_nn_adam_clear(&opt);
  lf_sunflow_batch_free(wb);
  lf_sunflow_model_free(m);
  return 0;
}
