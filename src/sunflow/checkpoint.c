/*
 * checkpoint.c -- SU(N) flow model files, written and read with the nn module's
 * safetensors code (lf_nn_params_save/load, lf_nn_adam_save/load; format in docs/nn.md,
 * docs/sunflow.md "files"; same scheme as the U(1) flow's src/flow/checkpoint.c).
 *
 *   PATH             the parameter store: tensors "layer<l>.net.<i>.weight" [cout][cin][k]^nd
 *                    and "layer<l>.net.<i>.bias" [cout] (F64, PyTorch Conv2d layout), string
 *                    metadata format, config (lf_sunflow_config_format), step, seed, adam_step
 *   PATH.opt         "<PATH without .safetensors>.opt.safetensors": nn's Adam state
 *                    (adam.m, adam.v, adam.step + its configuration), training checkpoints only
 *
 * The files are written and read by nn's checkpoint functions (src/nn/checkpoint.c);
 * both are written atomically; the optimizer file first, so a crash between the two
 * leaves the model file's adam_step different from the optimizer's step, which the
 * loader reports instead of resuming from a torn checkpoint.
 * Thread contract: serial.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "internal.h"

#define FORMAT_TAG "latflow-sunflow-v1"

int lf_sunflow_save(const lf_sunflow_model *m, const lf_nn_adam *opt, long step, uint64_t seed,
                    const char *path) {
  char cfg[512];
  lf_sunflow_config_format(&m->cfg, cfg, sizeof cfg);
  int rc = lf_nn_checkpoint_save(&m->P, opt, FORMAT_TAG, cfg, step, seed, path);
  return rc ? lf_error_context(rc, "saving the SU(N) flow model") : LF_OK;
}

int lf_sunflow_load(lf_sunflow_model **out, lf_nn_adam *opt, long *step, uint64_t *seed,
                    const char *path) {
  *out = NULL;
  if (opt) memset(opt, 0, sizeof *opt);
  char cfgs[1024];
  lf_sunflow_config cfg;
  lf_sunflow_model *m = NULL;
  int rc = lf_nn_checkpoint_config(path, FORMAT_TAG, "SU(N) flow", cfgs, sizeof cfgs);
  if (!rc) rc = lf_sunflow_config_parse(cfgs, &cfg);
  if (!rc) rc = lf_sunflow_model_alloc(&m, &cfg, 0);
  if (!rc) rc = lf_nn_checkpoint_load(&m->P, opt, step, seed, path);
  if (rc) {
    lf_sunflow_model_free(m);
    return rc;
  }
  *out = m;
  return LF_OK;
}
