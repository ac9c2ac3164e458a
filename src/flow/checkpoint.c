/*
 * checkpoint.c -- flow model files, written and read with the nn module's safetensors
 * code (lf_nn_params_save/load, lf_nn_adam_save/load; format in docs/nn.md and
 * docs/flows.md "Files").
 *
 *   PATH             the parameter store: tensors "layer<l>.net.<i>.weight" [cout][cin][k][k]
 *                    and "layer<l>.net.<i>.bias" [cout] (F64, PyTorch Conv2d layout), string
 *                    metadata format, config (lf_flow_config_format), step, seed, adam_step
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

#define FORMAT_TAG "latflow-flow-u1-v2"

int lf_flow_opt_path(const char *path, char *buf, size_t n) { return lf_nn_opt_path(path, buf, n); }

int lf_flow_save(const lf_flow_model *m, const lf_nn_adam *opt, long step, uint64_t seed,
                 const char *path) {
  char cfg[512];
  lf_flow_config_format(&m->cfg, cfg, sizeof cfg);
  int rc = lf_nn_checkpoint_save(&m->P, opt, FORMAT_TAG, cfg, step, seed, path);
  return rc ? lf_error_context(rc, "saving the U(1) flow model") : LF_OK;
}

int lf_flow_load(lf_flow_model **out, lf_nn_adam *opt, long *step, uint64_t *seed,
                 const char *path) {
  *out = NULL;
  if (opt) memset(opt, 0, sizeof *opt);
  char cfgs[1024];
  lf_flow_config cfg;
  lf_flow_model *m = NULL;
  int rc = lf_nn_checkpoint_config(path, FORMAT_TAG, "U(1) flow", cfgs, sizeof cfgs);
  if (!rc) rc = lf_flow_config_parse(cfgs, &cfg);
  if (!rc) rc = lf_flow_model_alloc(&m, &cfg, 0);
  if (!rc) rc = lf_nn_checkpoint_load(&m->P, opt, step, seed, path);
  if (rc) {
    lf_flow_model_free(m);
    return rc;
  }
  *out = m;
  return LF_OK;
}
