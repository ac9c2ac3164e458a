/*
 * app/flowmodel.h -- one interface over the two flow families for the train, sample and eval
 * commands: U(1) plaquette-coupling flows (src/flow, flow.h) and SU(N) spectral flows
 * (src/sunflow, sunflow.h). The commands never branch on the family themselves.
 *
 * A configuration is an array of app_flow_doubles() doubles: U(1) link angles
 * ([mu][site], flow.h) or SU(N) links as complex numbers ([site][mu][N*N], the lf_gauge
 * layout, sunflow.h). Presets "u1-*" are U(1), "su2-*" and "su3-*" SU(N); model files are
 * recognised by their "format" metadata.
 */
#ifndef LATFLOW_APP_FLOWMODEL_H
#define LATFLOW_APP_FLOWMODEL_H

#include <stddef.h>
#include <stdint.h>

#include "latflow/field.h"
#include "latflow/flow.h"
#include "latflow/sunflow.h"

typedef struct {
  int sun;                 /* 0: U(1) flow, 1: SU(N) spectral flow */
  lf_flow_model *u1;
  lf_flow_batch *u1b;
  lf_sunflow_model *sm;
  lf_sunflow_batch *smb;
  int batch;               /* size of the workspace (0: none yet)  */
} app_flow;

/* Preset names of both families, for --help and error messages. */
#define APP_FLOW_PRESETS "u1-tutorial, u1-spline, u1-best, su2-2d, su3-2d, su3-4d-plaq, su3-4d-lal"

/* Architecture overrides of a preset (train --layers/--hidden/--kernel/--bins/--rect-context);
 * a zero (nhidden: negative) entry keeps the preset's value. */
typedef struct {
  int layers;  /* coupling layers                                              */
  int nhidden; /* hidden conv layers of the context nets (0 allowed), -1: preset */
  int hidden[LF_FLOW_MAXHIDDEN];
  int kernel;  /* odd conv kernel size                                         */
  int bins;    /* spline bins / NCP components (U(1)), spline bins K (SU(N))   */
  int rect;    /* 1: rectangle context (U(1) only)                              */
} app_flow_arch;
#define APP_FLOW_ARCH_PRESET {0, -1, {0}, 0, 0, 0}
/* Parse "16,16" (or "none") into a->nhidden/hidden; LF_EINVAL with what to write. */
int app_flow_arch_parse_hidden(const char *text, app_flow_arch *a);

/* A new model from a preset; lattice (NULL: the preset's), beta (<= 0: the preset's) and
 * arch (NULL: the preset's) override it. With init_from != NULL the architecture and
 * parameters come from that model file instead (same family; arch must then be NULL or
 * all-preset), the lattice and beta from the options. LF_EINVAL with what to change. */
int app_flow_create(app_flow *f, const char *preset, const char *lattice, double beta,
                    const app_flow_arch *arch, const char *init_from, uint64_t seed);
/* Load a model file of either family (opt, step, seed may be NULL). */
int app_flow_load(app_flow *f, const char *path, lf_nn_adam *opt, long *step, uint64_t *seed);
/* The same networks on another lattice and/or at another beta (NULL / <= 0: unchanged). */
int app_flow_retarget(app_flow *f, const char *lattice, double beta);
int app_flow_save(const app_flow *f, const lf_nn_adam *opt, long step, uint64_t seed,
                  const char *path);
void app_flow_free(app_flow *f);

/* Training defaults of a preset of either family. */
int app_flow_preset_training(const char *preset, lf_flow_train_defaults *d);
size_t app_flow_nparams(const app_flow *f);
/* (Re)allocate the batch workspace for n samples at once. */
int app_flow_workspace(app_flow *f, int n);
/* Collective under MPI: one data-parallel training step on a global batch, both families
 * through flow's driver (lf_flow_train_step_par, lf_sunflow_train_step_par); the workspace
 * must hold lf_flow_local_batch(batch, o) samples. o->path selects path gradients. */
int app_flow_train_step(app_flow *f, lf_nn_adam *opt, double lr, long batch,
                        const lf_flow_train_opts *o, uint64_t seed, long step,
                        lf_flow_step_stats *st);

/* Description: configuration string (run.json "flow"), theory ("u1 2d", "su3 4d") and
 * lattice ("8x8"). */
void app_flow_describe(const app_flow *f, char *cfg, size_t ncfg, char *theory, size_t ntheory,
                       char *lattice, size_t nlattice);
double app_flow_beta(const app_flow *f);
lf_group app_flow_group(const app_flow *f);
int app_flow_nd(const app_flow *f);
void app_flow_extents(const app_flow *f, int *L); /* nd entries */
size_t app_flow_doubles(const app_flow *f);

/* Proposals first..first+n-1 (n <= workspace) of prior stream `tag` pushed through the
 * flow: x [n][app_flow_doubles], log q [n]. */
int app_flow_propose(app_flow *f, uint64_t seed, uint64_t tag, long first, int n, double *x,
                     double *logq);
/* Action, plaquette (Re tr U_P / N) and topological charge (U(1): geometric; NAN for
 * SU(N)) of one configuration. */
void app_flow_measure(const app_flow *f, const double *x, double *S, double *plaq, double *Q);
/* log q of one configuration (inverse pass; needs a workspace). */
int app_flow_logq(app_flow *f, const double *x, double *logq);
/* Between one configuration and a gauge field of the model's group and lattice. */
int app_flow_to_gauge(const app_flow *f, const double *x, lf_gauge *g);
int app_flow_from_gauge(const app_flow *f, const lf_gauge *g, double *x);

#endif
