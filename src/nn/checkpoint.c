/*
 * checkpoint.c -- model checkpoints shared by the flow families (flow, sunflow): a
 * parameter store with string metadata and, for training checkpoints, the Adam state in a
 * companion file (docs/nn.md "Model checkpoints").
 *
 *   PATH        lf_nn_params_save of the store; metadata format, config, step, seed,
 *               adam_step ("none" without an optimizer)
 *   PATH.opt    "<PATH without .safetensors>.opt.safetensors": lf_nn_adam_save
 *
 * Both files are written atomically, the optimizer first, so a crash between the two leaves
 * the model file's adam_step different from the optimizer's step; the loader reports that
 * instead of resuming from a torn checkpoint. Thread contract: serial.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define OPT_SUFFIX ".opt.safetensors"

int lf_nn_opt_path(const char *path, char *buf, size_t n) {
  size_t len = strlen(path);
  const char *ext = ".safetensors";
  size_t el = strlen(ext);
  if (len >= el && !strcmp(path + len - el, ext)) len -= el;
  int w = snprintf(buf, n, "%.*s%s", (int)len, path, OPT_SUFFIX);
  if (w < 0 || (size_t)w >= n)
    return LF_ERROR(LF_EINVAL, "model path '%s' is too long; use a shorter directory", path);
  return LF_OK;
}

int lf_nn_checkpoint_save(const lf_nn_params *P, const lf_nn_adam *opt, const char *format,
                          const char *config, long step, uint64_t seed, const char *path) {
  char buf[64], opath[4096];
  if (opt) {
    if (opt->n != P->n)
      return LF_ERROR(LF_ESTATE, "the optimizer holds %zu moments but the model has %zu "
                                 "parameters", opt->n, P->n);
    LF_CHECK(lf_nn_opt_path(path, opath, sizeof opath));
    int rc = lf_nn_adam_save(opt, opath);
    if (rc) return lf_error_context(rc, "saving the optimizer state");
  }
  lf_nn_meta meta;
  lf_nn_meta_init(&meta);
  int rc = lf_nn_meta_set(&meta, "format", format);
  if (!rc) rc = lf_nn_meta_set(&meta, "config", config);
  snprintf(buf, sizeof buf, "%ld", step);
  if (!rc) rc = lf_nn_meta_set(&meta, "step", buf);
  snprintf(buf, sizeof buf, "%" PRIu64, seed);
  if (!rc) rc = lf_nn_meta_set(&meta, "seed", buf);
  if (opt) snprintf(buf, sizeof buf, "%ld", opt->step);
  else snprintf(buf, sizeof buf, "none");
  if (!rc) rc = lf_nn_meta_set(&meta, "adam_step", buf);
  if (!rc) rc = lf_nn_params_save(P, path, &meta);
  lf_nn_meta_clear(&meta);
  return rc ? lf_error_context(rc, "saving the model") : LF_OK;
}

int lf_nn_checkpoint_config(const char *path, const char *format, const char *what,
                            char *config, size_t n) {
  lf_nn_st_file *f = NULL;
  int rc = lf_nn_st_open(path, &f);
  if (rc)
    return lf_error_context(rc, "loading the %s model (a training run writes "
                                "DIR/model.safetensors)", what);
  lf_nn_meta meta;
  lf_nn_meta_init(&meta);
  rc = lf_nn_st_meta(f, &meta);
  lf_nn_st_close(f);
  const char *fmt = lf_nn_meta_get(&meta, "format");
  const char *cfgs = lf_nn_meta_get(&meta, "config");
  if (!rc && (!fmt || strcmp(fmt, format)))
    rc = LF_ERROR(LF_EFORMAT, "'%s' is not a latflow %s model of this version (format '%s', "
                              "expected '%s'); pass a file written by 'latflow train' (retrain "
                              "models of older versions)", path, what, fmt ? fmt : "missing",
                  format);
  if (!rc && !cfgs)
    rc = LF_ERROR(LF_EFORMAT, "'%s' has no model configuration in its metadata", path);
  if (!rc && (size_t)snprintf(config, n, "%s", cfgs) >= n)
    rc = LF_ERROR(LF_EFORMAT, "'%s' has a model configuration longer than %zu bytes", path, n);
  lf_nn_meta_clear(&meta);
  return rc;
}

int lf_nn_checkpoint_load(lf_nn_params *P, lf_nn_adam *opt, long *step, uint64_t *seed,
                          const char *path) {
  if (opt) memset(opt, 0, sizeof *opt);
  lf_nn_meta meta;
  lf_nn_meta_init(&meta);
  int rc = lf_nn_params_load(P, path, &meta);
  for (size_t i = 0; !rc && i < P->n; i++)
    if (!isfinite(P->data[i])) rc = LF_ERROR(LF_ENAN, "'%s' contains non-finite parameters", path);
  if (!rc && opt) {
    char opath[4096];
    lf_nn_adam_cfg ac = lf_nn_adam_defaults();
    rc = lf_nn_opt_path(path, opath, sizeof opath);
    if (!rc) rc = lf_nn_adam_init(opt, P->n, &ac);
    if (!rc) {
      rc = lf_nn_adam_load(opt, opath);
      if (rc) lf_error_context(rc, "resuming needs the optimizer file written with the model");
    }
    const char *as = lf_nn_meta_get(&meta, "adam_step");
    if (!rc && (!as || strtol(as, NULL, 10) != opt->step || !strcmp(as, "none")))
      rc = LF_ERROR(LF_ESTATE, "'%s' was saved with Adam at step %s but '%s' holds step %ld "
                               "(a checkpoint interrupted between the two files?); the files do "
                               "not belong together", path, as ? as : "(missing)", opath,
                    opt->step);
  }
  if (!rc) {
    const char *st = lf_nn_meta_get(&meta, "step"), *sd = lf_nn_meta_get(&meta, "seed");
    if (step) *step = st ? strtol(st, NULL, 10) : 0;
    if (seed) *seed = sd ? strtoull(sd, NULL, 10) : 0;
  }
  lf_nn_meta_clear(&meta);
  if (rc && opt) lf_nn_adam_clear(opt);
  return rc;
}
