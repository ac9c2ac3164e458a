/*
 * bench/sunflow_train.c -- training curve of SU(N) spectral flows (sunflow module): batch
 * ESS and reverse-KL loss vs step for the su2-2d and su3-2d presets (8x8), Adam with a
 * cosine-decayed learning rate.
 *     sunflow_train [steps] [batch] [lr] [preset...] [--reparam]
 * (default 400 64 3e-3 su2-2d su3-2d, path gradients; --reparam: reparameterisation gradient)
 * Prints one line every 25 steps: step, mean loss and mean batch ESS/B over the last 25
 * steps, seconds so far; then the ESS/B of 4096 fresh samples (all at once, so the estimate
 * is not a mean of small-batch ESS values).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latflow/stats.h"
#include "latflow/sunflow.h"

static lf_sunflow_grad_kind kind = LF_SUNFLOW_GRAD_PATH;

static int train(const char *preset, long steps, int batch, double lr) {
  lf_sunflow_config cfg;
  lf_sunflow_model *m;
  lf_sunflow_batch *wb;
  lf_nn_adam opt;
  lf_nn_adam_cfg ac = lf_nn_adam_defaults();
  if (lf_sunflow_preset(preset, &cfg) || lf_sunflow_model_alloc(&m, &cfg, 1) ||
      lf_sunflow_batch_alloc(&wb, m, batch) ||
      lf_nn_adam_init(&opt, lf_sunflow_model_nparams(m), &ac)) {
    fprintf(stderr, "sunflow_train: %s\n", lf_last_error());
    return 1;
  }
  char cs[256];
  lf_sunflow_config_format(&cfg, cs, sizeof cs);
  printf("# preset %s: %s, %zu parameters, batch %d, lr %g cosine, %s gradient\n", preset, cs,
         lf_sunflow_model_nparams(m), batch, lr, kind == LF_SUNFLOW_GRAD_PATH ? "path" : "reparam");
  printf("# step  loss      ESS/B   seconds\n");
  lf_nn_lr_schedule sched = {.kind = LF_NN_LR_COSINE, .base = lr, .min = lr / 20, .total = steps};
  lf_sunflow_step_stats st;
  double t0 = lf_time_now(), sl = 0, se = 0;
  for (long s = 0; s < steps; s++) {
    if (lf_sunflow_train_step(m, wb, &opt, lf_nn_lr_at(&sched, s), 1, s, kind, &st)) {
      fprintf(stderr, "sunflow_train: %s\n", lf_last_error());
      return 1;
    }
    sl += st.loss, se += st.ess;
    if ((s + 1) % 25 == 0) {
      printf("%6ld  %8.4f  %6.4f  %7.1f\n", s + 1, sl / 25, se / 25, lf_time_now() - t0);
      fflush(stdout);
      sl = se = 0;
    }
  }
  /* ESS of 4096 fresh samples */
  const int NE = 4096;
  const size_t fs = lf_sunflow_model_fieldsize(m);
  lf_cplx *x = malloc((size_t)batch * fs * sizeof(lf_cplx));
  double *lq = malloc((size_t)batch * sizeof(double)), *logw = malloc(NE * sizeof(double));
  for (int c0 = 0; c0 < NE; c0 += batch) {
    int n = NE - c0 < batch ? NE - c0 : batch;
    lf_sunflow_prior_sample(m, 2, LF_RNG_TAG(LF_RNG_PURPOSE_PRIOR, 1ull << 46), c0, n, x);
    lf_sunflow_forward(m, wb, n, x, x, lq);
    for (int b = 0; b < n; b++) logw[c0 + b] = -lf_sunflow_action(m, cfg.beta, x + (size_t)b * fs, NULL) - lq[b];
  }
  printf("# %s: ESS/N of %d fresh samples %.4f\n", preset, NE, lf_stats_ess(logw, NE));
  free(x), free(lq), free(logw);
  lf_nn_adam_clear(&opt);
  lf_sunflow_batch_free(wb);
  lf_sunflow_model_free(m);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[argc - 1], "--reparam")) kind = LF_SUNFLOW_GRAD_REPARAM, argc--;
  long steps = argc > 1 ? atol(argv[1]) : 400;
  int batch = argc > 2 ? atoi(argv[2]) : 64;
  double lr = argc > 3 ? atof(argv[3]) : 3e-3;
  if (argc > 4) {
    for (int i = 4; i < argc; i++)
      if (train(argv[i], steps, batch, lr)) return 1;
    return 0;
  }
  return train("su2-2d", steps, batch, lr) || train("su3-2d", steps, batch, lr);
}
