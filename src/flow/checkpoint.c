/*
 * checkpoint.c -- flow model files in the safetensors format
 * (https://github.com/huggingface/safetensors): u64 little-endian header length, JSON
 * header, raw little-endian data. Tensors: "params" (F64 [nparams]) and, for training
 * checkpoints, "adam_m", "adam_v". String metadata: format, config (lf_flow_config_format),
 * step, seed, adam_t, lr. The header is written and read here directly (a fixed, small
 * schema), so the flow module does not depend on a JSON library.
 * Writes are atomic (lf_write_file_atomic). Thread contract: serial.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define FORMAT_TAG "latflow-flow-u1-v1"

int lf_flow_save(const lf_flow_model *m, const lf_flow_adam *opt, long step, uint64_t seed,
                 const char *path) {
  const size_t n = m->nparams, nb = n * sizeof(double);
  char cfg[512], hdr[2048];
  lf_flow_config_format(&m->cfg, cfg, sizeof cfg);
  int ntens = opt ? 3 : 1;
  int len = snprintf(hdr, sizeof hdr,
                     "{\"__metadata__\":{\"format\":\"" FORMAT_TAG "\",\"config\":\"%s\","
                     "\"step\":\"%ld\",\"seed\":\"%" PRIu64 "\",\"adam_t\":\"%ld\","
                     "\"lr\":\"%.17g\"},"
                     "\"params\":{\"dtype\":\"F64\",\"shape\":[%zu],\"data_offsets\":[0,%zu]}",
                     cfg, step, seed, opt ? opt->t : 0L, opt ? opt->lr : 0.0, n, nb);
  if (opt)
    len += snprintf(hdr + len, sizeof hdr - (size_t)len,
                    ",\"adam_m\":{\"dtype\":\"F64\",\"shape\":[%zu],\"data_offsets\":[%zu,%zu]}"
                    ",\"adam_v\":{\"dtype\":\"F64\",\"shape\":[%zu],\"data_offsets\":[%zu,%zu]}",
                    n, nb, 2 * nb, n, 2 * nb, 3 * nb);
  len += snprintf(hdr + len, sizeof hdr - (size_t)len, "}");
  while (len % 8) hdr[len++] = ' ';
  size_t total = 8 + (size_t)len + (size_t)ntens * nb;
  unsigned char *buf = lf_alloc(total);
  if (!buf) return LF_ERROR(LF_ENOMEM, "out of memory writing %s", path);
  uint64_t hl = (uint64_t)len;
  for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(hl >> (8 * i));
  memcpy(buf + 8, hdr, (size_t)len);
  memcpy(buf + 8 + len, m->params, nb);
  if (opt) {
    memcpy(buf + 8 + len + nb, opt->m, nb);
    memcpy(buf + 8 + len + 2 * nb, opt->v, nb);
  }
  int rc = lf_write_file_atomic(path, buf, total);
  lf_free(buf);
  if (rc) return lf_error_context(rc, "saving the flow model");
  return LF_OK;
}

/* value of a string metadata entry "key":"value" */
static int meta_str(const char *hdr, const char *key, char *out, size_t n) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":\"", key);
  const char *p = strstr(hdr, pat);
  if (!p) return -1;
  p += strlen(pat);
  const char *e = strchr(p, '"');
  if (!e || (size_t)(e - p) >= n) return -1;
  memcpy(out, p, (size_t)(e - p));
  out[e - p] = 0;
  return 0;
}

/* data offsets of tensor `name`; -1 if absent */
static int tensor_range(const char *hdr, const char *name, size_t *a, size_t *b) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":{", name);
  const char *p = strstr(hdr, pat);
  if (!p) return -1;
  if (!strstr(p, "\"dtype\":\"F64\"")) return -2;
  const char *q = strstr(p, "\"data_offsets\":[");
  if (!q) return -2;
  unsigned long long x, y;
  if (sscanf(q, "\"data_offsets\":[%llu,%llu]", &x, &y) != 2) return -2;
  *a = (size_t)x, *b = (size_t)y;
  return 0;
}

int lf_flow_load(lf_flow_model **out, lf_flow_adam *opt, long *step, uint64_t *seed,
                 const char *path) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return LF_ERROR(LF_EIO, "cannot open model file '%s'; check the path (a training "
                                  "run writes DIR/model.safetensors)", path);
  unsigned char lb[8];
  char *hdr = NULL;
  unsigned char *data = NULL;
  lf_flow_model *m = NULL;
  int rc = LF_OK;
  if (fread(lb, 1, 8, f) != 8) {
    rc = LF_ERROR(LF_EFORMAT, "'%s' is too short to be a safetensors file", path);
    goto done;
  }
  uint64_t hl = 0;
  for (int i = 0; i < 8; i++) hl |= (uint64_t)lb[i] << (8 * i);
  if (hl < 2 || hl > (1u << 24)) {
    rc = LF_ERROR(LF_EFORMAT, "'%s' is not a safetensors file (header length %" PRIu64 ")",
                  path, hl);
    goto done;
  }
  hdr = lf_alloc((size_t)hl + 1);
  if (!hdr || fread(hdr, 1, (size_t)hl, f) != (size_t)hl) {
    rc = LF_ERROR(hdr ? LF_EFORMAT : LF_ENOMEM, "cannot read the header of '%s'", path);
    goto done;
  }
  hdr[hl] = 0;
  char fmt[64], cfgs[512], tmp[64];
  if (meta_str(hdr, "format", fmt, sizeof fmt) || strcmp(fmt, FORMAT_TAG)) {
    rc = LF_ERROR(LF_EFORMAT, "'%s' is not a latflow U(1) flow model (format tag missing or "
                              "different); pass a file written by 'latflow train'", path);
    goto done;
  }
  lf_flow_config cfg;
  if (meta_str(hdr, "config", cfgs, sizeof cfgs)) {
    rc = LF_ERROR(LF_EFORMAT, "'%s' has no flow configuration in its metadata", path);
    goto done;
  }
  rc = lf_flow_config_parse(cfgs, &cfg);
  if (rc) goto done;
  rc = lf_flow_model_alloc(&m, &cfg, 0);
  if (rc) goto done;
  const size_t nb = m->nparams * sizeof(double);
  size_t a, b;
  if (tensor_range(hdr, "params", &a, &b) || b - a != nb) {
    rc = LF_ERROR(LF_EFORMAT, "'%s': tensor 'params' missing or of the wrong size for the "
                              "configuration '%s'", path, cfgs);
    goto done;
  }
  int has_adam = !tensor_range(hdr, "adam_m", &a, &b) && b - a == nb &&
                 !tensor_range(hdr, "adam_v", &a, &b) && b - a == nb;
  size_t need = has_adam ? 3 * nb : nb;
  data = lf_alloc(need);
  if (!data || fread(data, 1, need, f) != need) {
    rc = LF_ERROR(data ? LF_EFORMAT : LF_ENOMEM, "'%s' is truncated (expected %zu data bytes)",
                  path, need);
    goto done;
  }
  memcpy(m->params, data, nb);
  for (size_t i = 0; i < m->nparams; i++)
    if (!isfinite(m->params[i])) {
      rc = LF_ERROR(LF_ENAN, "'%s' contains non-finite parameters", path);
      goto done;
    }
  if (step) *step = meta_str(hdr, "step", tmp, sizeof tmp) ? 0 : atol(tmp);
  if (seed) *seed = meta_str(hdr, "seed", tmp, sizeof tmp) ? 0 : strtoull(tmp, NULL, 10);
  if (opt) {
    double lr = meta_str(hdr, "lr", tmp, sizeof tmp) ? 1e-3 : atof(tmp);
    rc = lf_flow_adam_init(opt, m, lr > 0 ? lr : 1e-3);
    if (rc) goto done;
    if (has_adam) {
      memcpy(opt->m, data + nb, nb);
      memcpy(opt->v, data + 2 * nb, nb);
      opt->t = meta_str(hdr, "adam_t", tmp, sizeof tmp) ? 0 : atol(tmp);
    }
  }
done:
  fclose(f);
  lf_free(hdr);
  lf_free(data);
  if (rc) {
    lf_flow_model_free(m);
    return rc;
  }
  *out = m;
  return LF_OK;
}
