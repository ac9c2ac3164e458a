/*
 * bench/bench_flow.c -- wall time of reverse-KL training steps of a flow preset.
 *     bench_flow [preset] [steps] [batch]     (default u1-tutorial 50 64)
 * Prints seconds per step, steps per second and the forward MAC count estimate.
 */
#include <stdio.h>
#include <stdlib.h>

#include "latflow/flow.h"

int main(int argc, char **argv) {
  const char *preset = argc > 1 ? argv[1] : "u1-tutorial";
  long steps = argc > 2 ? atol(argv[2]) : 50;
  int batch = argc > 3 ? atoi(argv[3]) : 64;
  lf_flow_config cfg;
  lf_flow_model *m;
  lf_flow_batch *wb;
  lf_nn_adam opt;
  lf_nn_adam_cfg ac = lf_nn_adam_defaults();
  if (lf_flow_preset(preset, &cfg) || lf_flow_model_alloc(&m, &cfg, 1) ||
      lf_flow_batch_alloc(&wb, m, batch) ||
      lf_nn_adam_init(&opt, lf_flow_model_nparams(m), &ac)) {
    fprintf(stderr, "bench_flow: %s\n", lf_last_error());
    return 1;
  }
  lf_flow_step_stats st;
  lf_flow_train_step(m, wb, &opt, -1, 1, 0, &st); /* warm up */
  double t0 = lf_time_now();
  for (long s = 1; s <= steps; s++) lf_flow_train_step(m, wb, &opt, -1, 1, s, &st);
  double dt = (lf_time_now() - t0) / (double)steps;
  printf("preset %s batch %d: %.4f s/step, %.1f steps/s (loss %.3f ess %.3f), %zu params\n",
         preset, batch, dt, 1.0 / dt, st.loss, st.ess, lf_flow_model_nparams(m));
  lf_nn_adam_clear(&opt);
  lf_flow_batch_free(wb);
  lf_flow_model_free(m);
  return 0;
}
