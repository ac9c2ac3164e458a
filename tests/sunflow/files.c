/*
 * tests/sunflow/files.c -- SU(N) flow configuration, presets, model files and error paths:
 *   - config format/parse round trip for every preset (su3-4d-lal included); unknown
 *     presets, bad configurations and a malformed ' lal=' tail are refused with messages;
 *   - save (model + optimizer) and load: parameters, config, step, seed and Adam state equal,
 *     the loaded model's forward pass is bitwise the original's; a model file whose optimizer
 *     companion is missing is refused for resuming;
 *   - a training step is bitwise independent of the number of OpenMP threads;
 *   - non-SU(N) input is refused with LF_ENAN.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "latflow/sunflow.h"
#include "lf_test.h"

static char dir[] = "/tmp/lf_sunflow_XXXXXX";

int main(void) {
  if (!mkdtemp(dir)) return 1;
  char path[512], opath[512], buf[512], buf2[512];
  snprintf(path, sizeof path, "%s/model.safetensors", dir);
  snprintf(opath, sizeof opath, "%s/model.opt.safetensors", dir);
  const char *presets[4] = {"su2-2d", "su3-2d", "su3-4d-plaq", "su3-4d-lal"};
  for (int i = 0; i < 4; i++) {
    lf_sunflow_config c, d;
    int ok = lf_sunflow_preset(presets[i], &c) == 0;
    lf_sunflow_config_format(&c, buf, sizeof buf);
    ok = ok && lf_sunflow_config_parse(buf, &d) == 0;
    lf_sunflow_config_format(&d, buf2, sizeof buf2);
    char what[700];
    snprintf(what, sizeof what, "preset %s: config round trip (%s)", presets[i], buf);
    LF_TEST_TRUE(what, ok && !strcmp(buf, buf2));
  }
  snprintf(path, sizeof path, "%s/model.safetensors", dir);
  lf_sunflow_config c;
  lf_sunflow_preset("su3-4d-plaq", &c);
  lf_sunflow_config_format(&c, buf, sizeof buf);
  strcat(buf, " lal=2y8");
  LF_TEST_TRUE("malformed ' lal=' tail refused", lf_sunflow_config_parse(buf, &c) == LF_EFORMAT);
  lf_sunflow_preset("su3-4d-lal", &c);
  c.lal_width = 0;
  LF_TEST_TRUE("staple-network width 0 refused",
               lf_sunflow_config_check(&c) == LF_EINVAL && strstr(lf_last_error(), "width"));
  LF_TEST_TRUE("unknown preset refused", lf_sunflow_preset("su4", &c) == LF_EINVAL);
  lf_sunflow_preset("su2-2d", &c);
  c.L[0] = 6;
  LF_TEST_TRUE("extent not a multiple of the period refused",
               lf_sunflow_config_check(&c) == LF_EINVAL && strstr(lf_last_error(), "period"));
  lf_sunflow_preset("su2-2d", &c);
  c.group = LF_U1;
  LF_TEST_TRUE("U(1) refused", lf_sunflow_config_check(&c) == LF_EINVAL);

  /* ---- files */
  lf_sunflow_preset("su3-2d", &c);
  c.L[0] = c.L[1] = 4, c.nlayers = 4, c.hidden[0] = c.hidden[1] = 4;
  lf_sunflow_model *m, *m2;
  lf_sunflow_batch *wb, *wb2;
  lf_nn_adam opt, opt2;
  lf_nn_adam_cfg ac = lf_nn_adam_defaults();
  lf_sunflow_model_alloc(&m, &c, 3);
  lf_sunflow_batch_alloc(&wb, m, 4);
  lf_nn_adam_init(&opt, lf_sunflow_model_nparams(m), &ac);
  lf_sunflow_step_stats st;
  for (long s = 0; s < 3; s++) lf_sunflow_train_step(m, wb, &opt, -1, 9, s, LF_SUNFLOW_GRAD_PATH, &st);
  LF_TEST_TRUE("save model + optimizer", lf_sunflow_save(m, &opt, 3, 9, path) == 0);
  long step = 0;
  uint64_t seed = 0;
  int rc = lf_sunflow_load(&m2, &opt2, &step, &seed, path);
  LF_TEST_TRUE("load model + optimizer", rc == 0);
  if (rc) {
    printf("     %s\n", lf_last_error());
    return lf_test_done();
  }
  lf_nn_params *P = lf_sunflow_model_store(m), *P2 = lf_sunflow_model_store(m2);
  int same = P->n == P2->n && !memcmp(P->data, P2->data, P->n * sizeof(double));
  same = same && opt2.step == opt.step && !memcmp(opt.m, opt2.m, P->n * sizeof(double)) &&
         !memcmp(opt.v, opt2.v, P->n * sizeof(double));
  lf_sunflow_config_format(lf_sunflow_model_config(m), buf, sizeof buf);
  lf_sunflow_config_format(lf_sunflow_model_config(m2), buf2, sizeof buf2);
  LF_TEST_TRUE("loaded parameters, Adam state, config, step and seed equal",
               same && !strcmp(buf, buf2) && step == 3 && seed == 9);
  const size_t fs = lf_sunflow_model_fieldsize(m);
  lf_cplx *z = lf_alloc(4 * fs * sizeof(lf_cplx)), *x = lf_alloc(4 * fs * sizeof(lf_cplx));
  lf_cplx *y = lf_alloc(4 * fs * sizeof(lf_cplx));
  double lq[4], lq2[4];
  lf_sunflow_prior_sample(m, 1, 77, 0, 4, z);
  lf_sunflow_batch_alloc(&wb2, m2, 4);
  lf_sunflow_forward(m, wb, 4, z, x, lq);
  lf_sunflow_forward(m2, wb2, 4, z, y, lq2);
  LF_TEST_TRUE("loaded model: forward pass bitwise equal",
               !memcmp(x, y, 4 * fs * sizeof(lf_cplx)) && !memcmp(lq, lq2, sizeof lq));
  lf_nn_adam_clear(&opt2);
  lf_sunflow_batch_free(wb2);
  lf_sunflow_model_free(m2);
  unlink(opath);
  rc = lf_sunflow_load(&m2, &opt2, NULL, NULL, path);
  LF_TEST_TRUE("resuming without the optimizer file is refused", rc != 0 && m2 == NULL);
  printf("     (%s)\n", lf_last_error());
  rc = lf_sunflow_load(&m2, NULL, NULL, NULL, path);
  LF_TEST_TRUE("loading the model alone works", rc == 0);
  lf_sunflow_model_free(m2);
  unlink(path);
  rmdir(dir);

  /* ---- thread-count independence of a training step */
  {
    lf_nn_params *Pm = lf_sunflow_model_store(m);
    double *g1 = lf_alloc(Pm->n * sizeof(double));
    omp_set_num_threads(1);
    lf_sunflow_loss_grad(m, wb, 5, 11, LF_SUNFLOW_GRAD_PATH, &st);
    double l1 = st.loss;
    memcpy(g1, Pm->grad, Pm->n * sizeof(double));
    omp_set_num_threads(2);
    lf_sunflow_loss_grad(m, wb, 5, 11, LF_SUNFLOW_GRAD_PATH, &st);
    LF_TEST_TRUE("loss and gradient bitwise equal with 1 and 2 threads",
                 st.loss == l1 && !memcmp(g1, Pm->grad, Pm->n * sizeof(double)));
    lf_free(g1);
  }

  /* ---- non-SU(N) input */
  memcpy(x, z, fs * sizeof(lf_cplx));
  x[0] *= 1.5;
  rc = lf_sunflow_forward(m, wb, 1, x, y, lq);
  LF_TEST_TRUE("a non-unitary link is refused (LF_ENAN)", rc == LF_ENAN);
  printf("     (%s)\n", lf_last_error());
  lf_free(z), lf_free(x), lf_free(y);
  lf_nn_adam_clear(&opt);
  lf_sunflow_batch_free(wb);
  lf_sunflow_model_free(m);
  return lf_test_done();
}
