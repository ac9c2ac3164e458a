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
 * Both files are written atomically; the optimizer file first, so a crash between the two
 * leaves the model file's adam_step different from the optimizer's step, which the
 * loader reports instead of resuming from a torn checkpoint.
 * Thread contract: serial.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define FORMAT_TAG "latflow-sunflow-v1"
#define OPT_SUFFIX ".opt.safetensors"

/* "DIR/model.safetensors" -> "DIR/model.opt.safetensors" (as lf_flow_opt_path). */
static int opt_path(const char *path, char *buf, size_t n) {
  size_t len = strlen(path);
  const char *ext = ".safetensors";
  size_t el = strlen(ext);
  if (len >= el && !strcmp(path + len - el, ext)) len -= el;
  int w = snprintf(buf, n, "%.*s%s", (int)len, path, OPT_SUFFIX);
  if (w < 0 || (size_t)w >= n)
    return LF_ERROR(LF_EINVAL, "model path '%s' is too long; use a shorter directory", path);
  return LF_OK;
}

int lf_sunflow_save(const lf_sunflow_model *m, const lf_nn_adam *opt, long step, uint64_t seed,
                 const char *path) {
  char cfg[512], buf[64], opath[4096];
  if (opt) {
    if (opt->n != m->P.n)
      return LF_ERROR(LF_ESTATE, "the optimizer holds %zu moments but the SU(N) flow has %zu "
                                 "parameters", opt->n, m->P.n);
    LF_CHECK(opt_path(path, opath, sizeof opath));
    int rc = lf_nn_adam_save(opt, opath);
    if (rc) return lf_error_context(rc, "saving the optimizer state of the SU(N) flow");
  }
  lf_nn_meta meta;
  lf_nn_meta_init(&meta);
  lf_sunflow_config_format(&m->cfg, cfg, sizeof cfg);
  int rc = lf_nn_meta_set(&meta, "format", FORMAT_TAG);
  if (!rc) rc = lf_nn_meta_set(&meta, "config", cfg);
  snprintf(buf, sizeof buf, "%ld", step);
  if (!rc) rc = lf_nn_meta_set(&meta, "step", buf);
  snprintf(buf, sizeof buf, "%" PRIu64, seed);
  if (!rc) rc = lf_nn_meta_set(&meta, "seed", buf);
  if (opt) snprintf(buf, sizeof buf, "%ld", opt->step);
  else snprintf(buf, sizeof buf, "none");
  if (!rc) rc = lf_nn_meta_set(&meta, "adam_step", buf);
  if (!rc) rc = lf_nn_params_save(&m->P, path, &meta);
  lf_nn_meta_clear(&meta);
  if (rc) return lf_error_context(rc, "saving the SU(N) flow model");
  return LF_OK;
}

int lf_sunflow_load(lf_sunflow_model **out, lf_nn_adam *opt, long *step, uint64_t *seed,
                 const char *path) {
  *out = NULL;
  if (opt) memset(opt, 0, sizeof *opt);
  lf_nn_st_file *f = NULL;
  int rc = lf_nn_st_open(path, &f);
  if (rc)
    return lf_error_context(rc, "loading the SU(N) flow model (a training run writes "
                                "DIR/model.safetensors)");
  lf_nn_meta meta;
  lf_nn_meta_init(&meta);
  rc = lf_nn_st_meta(f, &meta);
  lf_nn_st_close(f);
  lf_sunflow_model *m = NULL;
  const char *fmt = lf_nn_meta_get(&meta, "format");
  const char *cfgs = lf_nn_meta_get(&meta, "config");
  lf_sunflow_config cfg;
  if (!rc && (!fmt || strcmp(fmt, FORMAT_TAG)))
    rc = LF_ERROR(LF_EFORMAT, "'%s' is not a latflow SU(N) flow model of this version (format "
                              "'%s', expected '" FORMAT_TAG "'); pass a file written by "
                              "'latflow train' (retrain models of older versions)", path,
                  fmt ? fmt : "missing");
  if (!rc && !cfgs)
    rc = LF_ERROR(LF_EFORMAT, "'%s' has no flow configuration in its metadata", path);
  if (!rc) rc = lf_sunflow_config_parse(cfgs, &cfg);
  if (!rc) rc = lf_sunflow_model_alloc(&m, &cfg, 0);
  if (!rc) rc = lf_nn_params_load(&m->P, path, NULL);
  for (size_t i = 0; !rc && i < m->P.n; i++)
    if (!isfinite(m->P.data[i]))
      rc = LF_ERROR(LF_ENAN, "'%s' contains non-finite parameters", path);
  if (!rc && opt) {
    char opath[4096];
    lf_nn_adam_cfg ac = lf_nn_adam_defaults();
    rc = opt_path(path, opath, sizeof opath);
    if (!rc) rc = lf_nn_adam_init(opt, m->P.n, &ac);
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
  if (rc) {
    if (opt) lf_nn_adam_clear(opt);
    lf_sunflow_model_free(m);
    return rc;
  }
  *out = m;
  return LF_OK;
}
