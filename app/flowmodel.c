/*
 * app/flowmodel.c -- the U(1) and SU(N) flow families behind one interface (flowmodel.h)
 * for `latflow train`, `sample` and `eval`.
 */
#define _POSIX_C_SOURCE 200809L
#include "flowmodel.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latflow/par.h"

static int is_sun_preset(const char *p) { return !strncmp(p, "su2-", 4) || !strncmp(p, "su3-", 4); }

static void clear(app_flow *f) { memset(f, 0, sizeof *f); }

void app_flow_free(app_flow *f) {
  lf_flow_batch_free(f->u1b);
  lf_flow_model_free(f->u1);
  lf_sunflow_batch_free(f->smb);
  lf_sunflow_model_free(f->sm);
  clear(f);
}

/* extents from --lattice: dimension must be the family's */
static int parse_lattice(const char *lattice, int want_nd, int *L) {
  int nd, LL[LF_MAXDIM];
  if (lf_lattice_parse(lattice, &nd, LL) || nd != want_nd)
    return LF_ERROR(LF_EINVAL, "bad lattice '%s' for this model: give %d extents, e.g. %s",
                    lattice, want_nd, want_nd == 2 ? "8x8" : "4x4x4x4");
  for (int d = 0; d < nd; d++) L[d] = LL[d];
  return LF_OK;
}

int app_flow_arch_parse_hidden(const char *text, app_flow_arch *a) {
  a->nhidden = 0;
  if (!strcmp(text, "none")) return LF_OK;
  const char *p = text;
  while (*p) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p || v < 1 || v > 512 || a->nhidden == LF_FLOW_MAXHIDDEN || (*end && *end != ','))
      return LF_ERROR(LF_EINVAL, "bad hidden channel list '%s'; give up to %d counts in 1..512 "
                                 "separated by commas (e.g. 16,16) or 'none'",
                      text, LF_FLOW_MAXHIDDEN);
    a->hidden[a->nhidden++] = (int)v;
    p = *end ? end + 1 : end;
  }
  return a->nhidden ? LF_OK : LF_ERROR(LF_EINVAL, "empty hidden channel list; give e.g. 16,16 or 'none'");
}

static int arch_is_preset(const app_flow_arch *a) {
  return !a || (!a->layers && a->nhidden < 0 && !a->kernel && !a->bins && !a->rect);
}

/* the architecture fields both families share */
static void arch_apply(const app_flow_arch *a, int *layers, int *nhidden, int *hidden,
                       int *kernel, int *bins) {
  if (!a) return;
  if (a->layers) *layers = a->layers;
  if (a->nhidden >= 0) {
    *nhidden = a->nhidden;
    for (int i = 0; i < a->nhidden; i++) hidden[i] = a->hidden[i];
  }
  if (a->kernel) *kernel = a->kernel;
  if (a->bins) *bins = a->bins;
}

static int sun_config_from(const lf_sunflow_config *base, const char *lattice, double beta,
                           const app_flow_arch *a, lf_sunflow_config *c) {
  *c = *base;
  if (lattice) LF_CHECK(parse_lattice(lattice, c->nd, c->L));
  if (beta > 0) c->beta = beta;
  if (a && a->rect) return LF_ERROR(LF_EINVAL, "--rect-context is an option of the U(1) presets only");
  arch_apply(a, &c->nlayers, &c->nhidden, c->hidden, &c->kernel, &c->K);
  return lf_sunflow_config_check(c);
}

static int u1_config_from(const lf_flow_config *base, const char *lattice, double beta,
                          const app_flow_arch *a, lf_flow_config *c) {
  *c = *base;
  if (lattice) LF_CHECK(parse_lattice(lattice, 2, c->L));
  if (beta > 0) c->beta = beta;
  if (a && a->rect) c->rect_context = 1;
  arch_apply(a, &c->nlayers, &c->nhidden, c->hidden, &c->kernel, &c->tr.K);
  return lf_flow_config_check(c);
}

int app_flow_create(app_flow *f, const char *preset, const char *lattice, double beta,
                    const app_flow_arch *arch, const char *init_from, uint64_t seed) {
  clear(f);
  if (init_from && !arch_is_preset(arch))
    return LF_ERROR(LF_EINVAL, "the architecture comes from the --init-from model; drop --layers, "
                               "--hidden, --kernel, --bins and --rect-context");
  if (init_from) {
    app_flow src;
    LF_CHECK(app_flow_load(&src, init_from, NULL, NULL, NULL));
    int rc = LF_OK;
    f->sun = src.sun;
    if (src.sun) {
      lf_sunflow_config c;
      rc = sun_config_from(lf_sunflow_model_config(src.sm), lattice, beta, NULL, &c);
      if (!rc) rc = lf_sunflow_model_alloc(&f->sm, &c, seed);
      if (!rc) rc = lf_nn_params_copy(lf_sunflow_model_store(f->sm), lf_sunflow_model_store(src.sm));
    } else {
      lf_flow_config c;
      rc = u1_config_from(lf_flow_model_config(src.u1), lattice, beta, NULL, &c);
      if (!rc) rc = lf_flow_model_alloc(&f->u1, &c, seed);
      if (!rc) rc = lf_flow_model_copy_params(f->u1, src.u1);
    }
    app_flow_free(&src);
    if (rc) app_flow_free(f);
    return rc;
  }
  f->sun = is_sun_preset(preset);
  int rc;
  if (f->sun) {
    lf_sunflow_config base, c;
    rc = lf_sunflow_preset(preset, &base);
    if (!rc) rc = sun_config_from(&base, lattice, beta, arch, &c);
    if (!rc) rc = lf_sunflow_model_alloc(&f->sm, &c, seed);
  } else {
    lf_flow_config base, c;
    rc = lf_flow_preset(preset, &base);
    if (rc == LF_EINVAL && strncmp(preset, "u1-", 3))
      rc = LF_ERROR(LF_EINVAL, "unknown flow preset '%s'; use one of " APP_FLOW_PRESETS, preset);
    if (!rc) rc = u1_config_from(&base, lattice, beta, arch, &c);
    if (!rc) rc = lf_flow_model_alloc(&f->u1, &c, seed);
  }
  if (rc) app_flow_free(f);
  return rc;
}

int app_flow_load(app_flow *f, const char *path, lf_nn_adam *opt, long *step, uint64_t *seed) {
  clear(f);
  /* the family from the file's format tag (the loaders give the detailed errors) */
  lf_nn_st_file *st = NULL;
  lf_nn_meta meta;
  lf_nn_meta_init(&meta);
  if (!lf_nn_st_open(path, &st) && !lf_nn_st_meta(st, &meta)) {
    const char *fmt = lf_nn_meta_get(&meta, "format");
    f->sun = fmt && !strncmp(fmt, "latflow-sunflow", 15);
  }
  lf_nn_st_close(st);
  lf_nn_meta_clear(&meta);
  lf_error_clear();
  int rc = f->sun ? lf_sunflow_load(&f->sm, opt, step, seed, path)
                  : lf_flow_load(&f->u1, opt, step, seed, path);
  if (rc) app_flow_free(f);
  return rc;
}

int app_flow_retarget(app_flow *f, const char *lattice, double beta) {
  if (!lattice && !(beta > 0)) return LF_OK;
  app_flow g;
  clear(&g);
  g.sun = f->sun;
  int rc;
  if (f->sun) {
    lf_sunflow_config c;
    rc = sun_config_from(lf_sunflow_model_config(f->sm), lattice, beta, NULL, &c);
    if (!rc) rc = lf_sunflow_model_alloc(&g.sm, &c, 1);
    if (!rc) rc = lf_nn_params_copy(lf_sunflow_model_store(g.sm), lf_sunflow_model_store(f->sm));
  } else {
    lf_flow_config c;
    rc = u1_config_from(lf_flow_model_config(f->u1), lattice, beta, NULL, &c);
    if (!rc) rc = lf_flow_model_alloc(&g.u1, &c, 1);
    if (!rc) rc = lf_flow_model_copy_params(g.u1, f->u1);
  }
  if (rc) {
    app_flow_free(&g);
    return rc;
  }
  app_flow_free(f);
  *f = g;
  return LF_OK;
}

int app_flow_save(const app_flow *f, const lf_nn_adam *opt, long step, uint64_t seed,
                  const char *path) {
  return f->sun ? lf_sunflow_save(f->sm, opt, step, seed, path)
                : lf_flow_save(f->u1, opt, step, seed, path);
}

int app_flow_preset_training(const char *preset, lf_flow_train_defaults *d) {
  if (!is_sun_preset(preset)) {
    int rc = lf_flow_preset_training(preset, d);
    if (rc == LF_EINVAL && strncmp(preset, "u1-", 3))
      rc = LF_ERROR(LF_EINVAL, "unknown flow preset '%s'; use one of " APP_FLOW_PRESETS, preset);
    return rc;
  }
  lf_sunflow_config c;
  LF_CHECK(lf_sunflow_preset(preset, &c));
  /* SU(N) spectral flows: Adam with a cosine-decayed rate, as for u1-best */
  d->steps = 2000, d->batch = 64, d->lr = 1e-3, d->lr_min = 1e-4;
  return LF_OK;
}

size_t app_flow_nparams(const app_flow *f) {
  return f->sun ? lf_sunflow_model_nparams(f->sm) : lf_flow_model_nparams(f->u1);
}

int app_flow_workspace(app_flow *f, int n) {
  if (f->batch == n) return LF_OK;
  lf_flow_batch_free(f->u1b);
  lf_sunflow_batch_free(f->smb);
  f->u1b = NULL, f->smb = NULL, f->batch = 0;
  int rc = f->sun ? lf_sunflow_batch_alloc(&f->smb, f->sm, n) : lf_flow_batch_alloc(&f->u1b, f->u1, n);
  if (!rc) f->batch = n;
  return rc;
}

int app_flow_train_step(app_flow *f, lf_nn_adam *opt, double lr, long batch,
                        const lf_flow_train_opts *o, uint64_t seed, long step,
                        lf_flow_step_stats *st) {
  if (!f->sun) return lf_flow_train_step_par(f->u1, f->u1b, opt, lr, batch, o, seed, step, st);
  return lf_sunflow_train_step_par(f->sm, f->smb, opt, lr, batch, o, seed, step, st);
}

void app_flow_describe(const app_flow *f, char *cfg, size_t ncfg, char *theory, size_t ntheory,
                       char *lattice, size_t nlattice) {
  int L[4], nd = app_flow_nd(f);
  app_flow_extents(f, L);
  if (f->sun) lf_sunflow_config_format(lf_sunflow_model_config(f->sm), cfg, ncfg);
  else lf_flow_config_format(lf_flow_model_config(f->u1), cfg, ncfg);
  snprintf(theory, ntheory, "%s %dd", f->sun ? (app_flow_group(f) == LF_SU2 ? "su2" : "su3") : "u1", nd);
  size_t k = 0;
  for (int d = 0; d < nd && k < nlattice; d++)
    k += (size_t)snprintf(lattice + k, nlattice - k, "%s%d", d ? "x" : "", L[d]);
}

double app_flow_beta(const app_flow *f) {
  return f->sun ? lf_sunflow_model_config(f->sm)->beta : lf_flow_model_config(f->u1)->beta;
}

lf_group app_flow_group(const app_flow *f) {
  return f->sun ? lf_sunflow_model_config(f->sm)->group : LF_U1;
}

int app_flow_nd(const app_flow *f) { return f->sun ? lf_sunflow_model_config(f->sm)->nd : 2; }

void app_flow_extents(const app_flow *f, int *L) {
  const int *src = f->sun ? lf_sunflow_model_config(f->sm)->L : lf_flow_model_config(f->u1)->L;
  for (int d = 0; d < app_flow_nd(f); d++) L[d] = src[d];
}

size_t app_flow_doubles(const app_flow *f) {
  return f->sun ? 2 * lf_sunflow_model_fieldsize(f->sm) : 2 * (size_t)lf_flow_model_volume(f->u1);
}

int app_flow_propose(app_flow *f, uint64_t seed, uint64_t tag, long first, int n, double *x,
                     double *logq) {
  if (!f->sun) {
    lf_flow_prior_sample(f->u1, seed, tag, first, n, x);
    return lf_flow_forward(f->u1, f->u1b, n, x, x, logq);
  }
  lf_sunflow_prior_sample(f->sm, seed, tag, first, n, (lf_cplx *)x);
  return lf_sunflow_forward(f->sm, f->smb, n, (const lf_cplx *)x, (lf_cplx *)x, logq);
}

void app_flow_measure(const app_flow *f, const double *x, double *S, double *plaq, double *Q) {
  if (!f->sun) {
    const double beta = lf_flow_model_config(f->u1)->beta;
    *S = lf_flow_action(f->u1, beta, x, NULL);
    *plaq = lf_flow_plaquette(f->u1, x);
    *Q = lf_flow_topo_charge(f->u1, x);
    return;
  }
  const lf_cplx *u = (const lf_cplx *)x;
  *S = lf_sunflow_action(f->sm, lf_sunflow_model_config(f->sm)->beta, u, NULL);
  *plaq = lf_sunflow_plaquette(f->sm, u);
  *Q = NAN;
}

int app_flow_logq(app_flow *f, const double *x, double *logq) {
  const size_t nd = app_flow_doubles(f);
  double *z = lf_alloc(nd * sizeof(double));
  if (!z) return LF_ERROR(LF_ENOMEM, "out of memory for one configuration");
  int rc = f->sun ? lf_sunflow_inverse(f->sm, f->smb, 1, (const lf_cplx *)x, (lf_cplx *)z, logq)
                  : lf_flow_inverse(f->u1, f->u1b, 1, x, z, logq);
  lf_free(z);
  return rc;
}

/* the gauge field must have the model's group and lattice */
static int check_gauge(const app_flow *f, const lf_gauge *g) {
  int L[4], nd = app_flow_nd(f), same = g->group == app_flow_group(f) && g->lat->nd == nd;
  app_flow_extents(f, L);
  for (int d = 0; same && d < nd; d++) same = g->lat->L[d] == L[d];
  if (!same) {
    char cfg[16], th[32], lat[64];
    app_flow_describe(f, cfg, sizeof cfg, th, sizeof th, lat, sizeof lat);
    return LF_ERROR(LF_EINVAL, "the configuration does not match the model (%s on %s); give a "
                               "configuration of that group and lattice", th, lat);
  }
  return LF_OK;
}

int app_flow_to_gauge(const app_flow *f, const double *x, lf_gauge *g) {
  if (!f->sun) return lf_flow_to_gauge(f->u1, x, g);
  LF_CHECK(check_gauge(f, g));
  memcpy(g->u, x, app_flow_doubles(f) * sizeof(double));
  return LF_OK;
}

int app_flow_from_gauge(const app_flow *f, const lf_gauge *g, double *x) {
  if (!f->sun) return lf_flow_from_gauge(f->u1, g, x);
  LF_CHECK(check_gauge(f, g));
  memcpy(x, g->u, app_flow_doubles(f) * sizeof(double));
  return LF_OK;
}
