/*
 * app/chain.c -- `latflow hmc` and `latflow heatbath`: Markov chains with per-trajectory
 * measurements (CSV), ensembles (ILDG every --save-every with a manifest), checkpoints
 * (atomic, every --checkpoint-every and on SIGTERM/SIGUSR1/SIGINT), exact --resume, and a
 * Gamma-method summary (human-readable, and one JSON line with --json).
 *
 * Run directory (--out DIR):
 *   run.json            command and parameters (checked on --resume)
 *   measurements.csv    traj,phase,plaquette,action,dH,exp_minus_dH,accepted,poly_re,
 *                       poly_im,Q (Q: 2D U(1) geometric charge every trajectory, in 4D the
 *                       clover charge after Wilson flow on --flow-every trajectories, else empty)
 *                       (phase 0 = thermalisation, 1 = measurement); heatbath rows have
 *                       dH = exp_minus_dH = 0 and accepted = 1. No wall-clock columns, so an
 *                       interrupted and resumed run reproduces the file bitwise.
 *   timing.csv          traj,seconds
 *   flow.csv            traj,t,plaquette,E_plaq,E_clov,t2E_clov,Q (with --flow-time)
 *   checkpoint.lime     64-bit field + record "latflow-state" (JSON: next trajectory, seed,
 *                       counters). Random numbers are counter-based streams keyed by the
 *                       trajectory index, so (field, next trajectory, seed) is the whole state.
 *   cfg/<name>_<traj>.lime and ensemble.json (parameters + one entry per configuration
 *                       with trajectory, plaquette and SciDAC checksum)
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "exact.h"
#include "latflow/dist.h"
#include "latflow/io.h"
#include "latflow/mc.h"
#include "latflow/observe.h"
#include "latflow/stats.h"
#include "rundir.h"
#include "track.h"

typedef struct {
  int is_hmc;
  const char *cmd;
  /* options */
  const char *group_s, *lattice_s, *action_s, *integrator_s, *start_s, *out, *resume,
      *plane_s, *name, *registry, *experiment, *grid_s;
  double beta, c1, tau, flow_time, flow_eps, flow_dt;
  int steps, nor, precision, json, allow_change, quiet;
  long ntraj, therm, save_every, ckpt_every, flow_every;
  uint64_t seed;
  /* derived */
  lf_group group;
  lf_lattice lat;
  lf_action act;
  lf_hmc_params hp;
  int grid[LF_MAXDIM]; /* process grid from --grid (grid_s != NULL) */
  app_track track;
  cJSON *summary;      /* rank 0: the JSON summary of a finished run */
} chain_cfg;

static const char *conventions =
    "plaquette = <Re tr U_P / N>; S = -(beta/N) sum_P k_P [c0 Re tr U_P + c1 Re tr R], c0 = 1 - 8 c1";

/* ---------------------------------------------------------------- small helpers */
static int parse_planes(chain_cfg *c) {
  int np = lf_lattice_nplanes(&c->lat);
  if (!c->plane_s || !*c->plane_s) return CLI_OK;
  const char *p = c->plane_s;
  for (int k = 0; k < np; k++) {
    char *end;
    double v = strtod(p, &end);
    if (end == p || !isfinite(v) || v <= 0) goto bad;
    c->act.plane_coef[k] = v;
    p = end;
    if (k + 1 < np) {
      if (*p != ',') goto bad;
      p++;
    }
  }
  if (*p == '\0') return CLI_OK;
bad:
  cli_error(c->cmd, "give nd(nd-1)/2 positive numbers in plane order (01,02,03,12,13,23), e.g. 1,1,1,1,1,1",
            "--plane-coef '%s' is not a list of %d positive numbers", c->plane_s, np);
  return CLI_ERR;
}

static int has_geometric_q(const chain_cfg *c) { return c->group == LF_U1 && c->lat.nd == 2; }

static int validate(chain_cfg *c) {
  const char *cmd = c->cmd;
  if (lf_group_parse(c->group_s, &c->group)) {
    cli_error(cmd, NULL, "%s", lf_last_error());
    return CLI_ERR;
  }
  int nd, L[LF_MAXDIM];
  if (lf_lattice_parse(c->lattice_s, &nd, L) || lf_lattice_init(&c->lat, nd, L)) {
    cli_error(cmd, NULL, "--lattice: %s", lf_last_error());
    return CLI_ERR;
  }
  lf_action_kind kind;
  if (lf_action_parse_kind(c->action_s, &kind)) {
    cli_error(cmd, NULL, "--action: %s", lf_last_error());
    return CLI_ERR;
  }
  if (!(c->beta > 0) || !isfinite(c->beta)) {
    cli_error(cmd, "the inverse coupling must be a positive number, e.g. --beta 6.0", "--beta %g is not > 0", c->beta);
    return CLI_ERR;
  }
  if (lf_action_init(&c->act, kind, c->beta, nd)) {
    cli_error(cmd, NULL, "%s", lf_last_error());
    return CLI_ERR;
  }
  if (kind == LF_ACTION_LW && !isnan(c->c1)) c->act.c1 = c->c1;
  if (parse_planes(c)) return CLI_ERR;
  if (c->ntraj < 0 || c->therm < 0 || c->save_every < 0 || c->ckpt_every < 0) {
    cli_error(cmd, NULL, "counts (--%s, --therm, --save-every, --checkpoint-every) must be >= 0",
              c->is_hmc ? "ntraj" : "nsweep");
    return CLI_ERR;
  }
  if (c->flow_time < 0 || !(c->flow_eps > 0) || !(c->flow_dt > 0) || c->flow_every < 0 ||
      c->flow_time / c->flow_dt > 4096) {
    cli_error(cmd, NULL, "--flow-time must be >= 0, --flow-eps and --flow-dt > 0 (at most 4096 rows per flow)");
    return CLI_ERR;
  }
  if (c->flow_time > 0 && c->lat.nd != 4 && !has_geometric_q(c)) {
    cli_error(cmd, NULL, "--flow-time measures the clover charge, which needs a 4D lattice");
    return CLI_ERR;
  }
  if (c->grid_s) {
    if (lf_dist_grid_parse(c->grid_s, nd, c->grid)) {
      cli_error(cmd, NULL, "--grid: %s", lf_last_error());
      return CLI_ERR;
    }
    long prod = 1;
    for (int mu = 0; mu < nd; mu++) {
      prod *= c->grid[mu];
      if (L[mu] % c->grid[mu]) {
        cli_error(cmd, "each entry of --grid must divide the lattice extent in its direction",
                  "--grid %s does not divide the lattice %s (direction %d)", c->grid_s, c->lattice_s, mu);
        return CLI_ERR;
      }
    }
    if (prod != lf_par_size()) {
      cli_error(cmd, "the product of --grid must equal the number of ranks (mpirun -np N)",
                "--grid %s has %ld ranks, but %d %s running", c->grid_s, prod, lf_par_size(),
                lf_par_size() == 1 ? "rank is" : "ranks are");
      return CLI_ERR;
    }
  }
  if (c->precision != 32 && c->precision != 64) {
    cli_error(cmd, NULL, "--precision must be 32 or 64, got %d", c->precision);
    return CLI_ERR;
  }
  if (strcmp(c->start_s, "hot") && strcmp(c->start_s, "cold")) {
    cli_error(cmd, NULL, "--start must be hot or cold, got '%s'", c->start_s);
    return CLI_ERR;
  }
  if (c->is_hmc) {
    c->hp.tau = c->tau;
    c->hp.nsteps = c->steps;
    if (lf_mc_integrator_parse(c->integrator_s, &c->hp.integrator) || lf_mc_hmc_check(&c->hp)) {
      cli_error(cmd, NULL, "%s", lf_last_error());
      return CLI_ERR;
    }
  } else {
    if (kind != LF_ACTION_WILSON) {
      cli_error(cmd, "use 'latflow hmc --action lw' for the Lüscher-Weisz action",
                "the heatbath supports only the Wilson action");
      return CLI_ERR;
    }
    if (c->nor < 0) {
      cli_error(cmd, NULL, "--or must be >= 0, got %d", c->nor);
      return CLI_ERR;
    }
  }
  return CLI_OK;
}

/* Q every trajectory: the 2D U(1) geometric charge. In 4D, Q (clover) is measured after
 * Wilson flow to --flow-time on every --flow-every-th trajectory. */
static int flows(const chain_cfg *c) { return c->flow_time > 0 && c->flow_every > 0; }

/* Wilson flow of a copy of f to flow_time (collective, domain-decomposed); rank 0 writes
 * one flow.csv row per measured flow time. Returns Q at the final time in *q (all ranks). */
static int measure_flow(const chain_cfg *c, const lf_dist *d, const lf_gauge *f, lf_gauge *tmp, lf_wflow_ws *ws,
                        long traj, FILE *fcsv, double *q) {
  int nt = (int)ceil(c->flow_time / c->flow_dt - 1e-9);
  if (nt < 1) nt = 1;
  double ts[4096];
  lf_wflow_point pts[4096];
  if (nt > 4096) nt = 4096;
  for (int i = 0; i < nt; i++) ts[i] = i + 1 == nt ? c->flow_time : (i + 1) * c->flow_dt;
  LF_CHECK(lf_gauge_copy(tmp, f));
  LF_CHECK(lf_dist_wflow_measure(d, tmp, ts, nt, c->flow_eps, ws, pts));
  for (int i = 0; fcsv && i < nt; i++)
    fprintf(fcsv, "%ld,%.6g,%.17g,%.17g,%.17g,%.17g,%.17g\n", traj, pts[i].t, pts[i].plaq,
            pts[i].E_plaq, pts[i].E_clov, pts[i].t2E_clov, pts[i].Q);
  if (fcsv) fflush(fcsv);
  *q = pts[nt - 1].Q;
  return LF_OK;
}

/* t0 from the ensemble average: t0^2 <E(t0)> = 0.3 (Lüscher 1006.4518 sec. 3.3), as a
 * Gamma-method derived quantity of the means <t_k^2 E_clov(t_k)> over configurations. */
typedef struct {
  double t[4096];
} t0_ctx;

static double t0_of_means(const double *m, int np, void *ctx) {
  double t0 = (double)NAN;
  if (lf_observe_wflow_scale_table(((t0_ctx *)ctx)->t, m, np, 0.3, &t0)) lf_error_clear();
  return t0;
}

static int flow_t0(const char *path, long therm, lf_stats_gamma_res *r, long *ncfg) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  static t0_ctx ctx;
  double *data = NULL;
  size_t cap = 0, len = 0;
  long traj, cur = -1, ncf = 0;
  int nt = 0, k = 0, ok = 1;
  double t, pl, ep, ec, t2e, q;
  char line[512];
  if (!fgets(line, sizeof line, f)) ok = 0; /* header */
  while (ok && fgets(line, sizeof line, f)) {
    if (sscanf(line, "%ld,%lf,%lf,%lf,%lf,%lf,%lf", &traj, &t, &pl, &ep, &ec, &t2e, &q) != 7) continue;
    if (traj < therm) continue;
    if (traj != cur) {
      if (cur >= 0 && k != nt) ok = 0;
      cur = traj, k = 0, ncf++;
    }
    if (ncf == 1) {
      if (nt >= 4096) ok = 0;
      else ctx.t[nt++] = t;
    } else if (k >= nt || ctx.t[k] != t) {
      ok = 0;
    }
    if (len == cap) {
      cap = cap ? 2 * cap : 4096;
      double *d2 = realloc(data, cap * sizeof *data);
      if (!d2) ok = 0;
      else data = d2;
    }
    if (ok) data[len++] = t2e, k++;
  }
  fclose(f);
  if (cur >= 0 && k != nt) ok = 0;
  int rc = -1;
  if (ok && ncf > 1 && nt > 1)
    rc = lf_stats_gamma_derived(data, ncf, nt, t0_of_means, &ctx, NULL, r, NULL, 0) == LF_OK &&
                 isfinite(r->value)
             ? 0
             : -1;
  free(data);
  *ncfg = ncf;
  lf_error_clear();
  return rc;
}

static int write_checkpoint(const chain_cfg *c, const lf_gauge *f, long next, long accepted) {
  char path[4096], state[1024];
  rundir_path(path, sizeof path, c->out, "checkpoint.lime");
  snprintf(state, sizeof state,
           "{\"command\":\"%s\",\"next_traj\":%ld,\"seed\":\"%llu\",\"accepted\":%ld,"
           "\"rng\":\"philox4x32-10 streams keyed by (seed, purpose|trajectory, site)\"}",
           c->cmd, next, (unsigned long long)c->seed, accepted);
  lf_ildg_record rec = {"latflow-state", state, strlen(state)};
  lf_ildg_meta meta = {.lfn = "checkpoint", .date = "", .extra = &rec, .nextra = 1};
  return lf_ildg_write(path, f, 64, &meta);
}

static int save_config(chain_cfg *c, const lf_gauge *f, long traj, cJSON *manifest) {
  char rel[256], path[4096], lfn[512];
  snprintf(rel, sizeof rel, "cfg/%s_%06ld.lime", c->name, traj);
  rundir_path(path, sizeof path, c->out, rel);
  snprintf(lfn, sizeof lfn, "%s/%s_%06ld", c->name, c->name, traj);
  lf_ildg_meta meta = {.lfn = lfn, .date = ""};
  LF_CHECK(lf_ildg_write(path, f, c->precision, &meta));
  /* read back into scratch storage: verifies the file and gives its checksum */
  lf_ildg_info info;
  lf_lattice rl;
  lf_gauge *rf = NULL;
  LF_CHECK(lf_ildg_read(path, &rl, &rf, &info, LF_ILDG_NO_REUNITARIZE));
  lf_gauge_free(rf);
  lf_lattice_clear(&rl);
  cJSON *e = cJSON_CreateObject();
  cJSON_AddStringToObject(e, "file", rel);
  cJSON_AddNumberToObject(e, "traj", (double)traj);
  cJSON_AddNumberToObject(e, "plaquette", info.plaquette);
  char sum[32];
  snprintf(sum, sizeof sum, "%08x %08x", info.suma, info.sumb);
  cJSON_AddStringToObject(e, "scidac_checksum", sum);
  cJSON_AddNumberToObject(e, "precision", c->precision);
  cJSON_AddItemToArray(cJSON_GetObjectItem(manifest, "configs"), e);
  track_produced(&c->track, path, LF_ARTIFACT_ENSEMBLE);
  rundir_path(path, sizeof path, c->out, "ensemble.json");
  return rundir_write_json(path, manifest);
}

/* Rank 0: Gamma-method summary from measurements.csv (printed; JSON into c->summary). */
static void summarize(chain_cfg *c, const lf_dist *d, const lf_prof_summary *prof, const lf_hb_stats *hb,
                      double seconds, long done_now, cJSON *manifest) {
  char path[4096];
  rundir_path(path, sizeof path, c->out, "measurements.csv");
  long n = 0, nq = 0, ne = 0, na = 0;
  double *plaq = rundir_csv_column(path, 2, c->therm - 1, &n);
  double *qs = rundir_csv_column(path, 9, c->therm - 1, &nq);
  long npl = 0;
  double *plv = rundir_csv_column(path, 7, c->therm - 1, &npl);
  double *em = rundir_csv_column(path, 5, c->therm - 1, &ne);
  double *acc = rundir_csv_column(path, 6, c->therm - 1, &na);
  cJSON *js = cJSON_CreateObject();
  cJSON_AddStringToObject(js, "command", c->cmd);
  cJSON_AddStringToObject(js, "group", lf_group_name(c->group));
  char lat[64];
  lf_lattice_format(&c->lat, lat, sizeof lat);
  cJSON_AddStringToObject(js, "lattice", lat);
  cJSON_AddNumberToObject(js, "beta", c->beta);
  cJSON_AddStringToObject(js, "action", lf_action_kind_name(c->act.kind));
  cJSON_AddStringToObject(js, "conventions", conventions);
  cJSON_AddNumberToObject(js, c->is_hmc ? "ntraj" : "nsweep", (double)c->ntraj);
  cJSON_AddNumberToObject(js, "therm", (double)c->therm);
  printf("latflow %s: %s %s beta = %g, %s action, %ld %s after %ld thermalisation\n", c->cmd,
         lf_group_name(c->group), lat, c->beta, lf_action_kind_name(c->act.kind), n,
         c->is_hmc ? "trajectories" : "sweeps", c->therm);
  lf_stats_gamma_res r;
  if (n > 0 && lf_stats_gamma(plaq, n, NULL, &r, NULL, 0) == LF_OK) {
    printf("  plaquette          %.8f +- %.8f   tau_int %.2f +- %.2f\n", r.value, r.err, r.tau_int,
           r.tau_int_err);
    cJSON_AddItemToObject(js, "plaquette", cli_json_estimate(r.value, r.err, r.tau_int));
    double exact;
    const char *kind;
    if (lf_app_exact_plaquette(c->group, &c->lat, &c->act, &exact, &kind) == 0) {
      printf("  exact (%s) %.8f   deviation %.1f sigma\n", kind, exact,
             r.err > 0 ? (r.value - exact) / r.err : 0.0);
      cJSON_AddNumberToObject(js, "plaquette_exact", exact);
    }
  }
  if (c->is_hmc && na > 0) {
    double a = lf_stats_mean(acc, na);
    printf("  acceptance         %.4f\n", a);
    cJSON_AddNumberToObject(js, "acceptance", a);
    if (lf_stats_gamma(em, ne, NULL, &r, NULL, 0) == LF_OK) {
      printf("  <exp(-dH)>         %.5f +- %.5f   (must be 1)\n", r.value, r.err);
      cJSON_AddItemToObject(js, "exp_minus_dH", cli_json_estimate(r.value, r.err, -1));
    }
  }
  if (npl > 0 && lf_stats_gamma(plv, npl, NULL, &r, NULL, 0) == LF_OK) {
    printf("  Re Polyakov loop   %.6f +- %.6f\n", r.value, r.err);
    cJSON_AddItemToObject(js, "polyakov_re", cli_json_estimate(r.value, r.err, r.tau_int));
  }
  long ncfg = 0;
  char fpath[4096];
  rundir_path(fpath, sizeof fpath, c->out, "flow.csv");
  if (flows(c) && flow_t0(fpath, c->therm, &r, &ncfg) == 0) {
    printf("  t0/a^2             %.5f +- %.5f   (t^2 <E_clov> = 0.3, %ld configurations)\n", r.value,
           r.err, ncfg);
    cJSON_AddItemToObject(js, "t0", cli_json_estimate(r.value, r.err, r.tau_int));
  } else if (flows(c) && ncfg > 0) {
    printf("  t0/a^2             not reached: t^2 <E> stays below 0.3 up to t = %g (raise --flow-time)\n",
           c->flow_time);
  }
  if (nq > 0) {
    double vol = (double)c->lat.vol;
    for (long i = 0; i < nq; i++) qs[i] = qs[i] * qs[i] / vol;
    if (lf_stats_gamma(qs, nq, NULL, &r, NULL, 0) == LF_OK) {
      if (!has_geometric_q(c)) printf("  (Q: clover definition after Wilson flow to t = %g)\n", c->flow_time);
      printf("  <Q^2>/V            %.6g +- %.3g   tau_int %.2f +- %.2f\n", r.value, r.err,
             r.tau_int, r.tau_int_err);
      cJSON_AddItemToObject(js, "topological_susceptibility", cli_json_estimate(r.value, r.err, r.tau_int));
    }
  }
  if (!c->is_hmc && hb->trials > 0)
    cJSON_AddNumberToObject(js, "heatbath_acceptance", (double)hb->updates / (double)hb->trials);
  cJSON_AddNumberToObject(js, "seconds", seconds);
  if (done_now > 0) {
    cJSON_AddNumberToObject(js, c->is_hmc ? "seconds_per_traj" : "seconds_per_sweep",
                            seconds / (double)done_now);
    printf("  time               %.3f s (%.4g s per %s)\n", seconds, seconds / (double)done_now,
           c->is_hmc ? "trajectory" : "sweep");
  }
  cJSON_AddStringToObject(js, "out", c->out);
  cJSON_AddNumberToObject(js, "configs_saved", cJSON_GetArraySize(cJSON_GetObjectItem(manifest, "configs")));
  printf("  output             %s (measurements.csv, checkpoint.lime%s)\n", c->out,
         c->save_every > 0 ? ", ensemble.json, cfg/" : "");
  /* parallel run: decomposition and the measured compute/communication split */
  char grid[64];
  lf_dist_grid_format(d, grid, sizeof grid);
  cJSON *pj = cJSON_AddObjectToObject(js, "parallel");
  cJSON_AddNumberToObject(pj, "ranks", d->nranks);
  cJSON_AddStringToObject(pj, "grid", grid);
  cJSON_AddNumberToObject(pj, "load_balance", prof->load_balance);
  cJSON_AddNumberToObject(pj, "comm_efficiency", prof->comm_efficiency);
  cJSON *rj = cJSON_AddObjectToObject(pj, "regions");
  double comm = 0;
  for (int i = 0; i < prof->nregions; i++) {
    const lf_prof_stat *st = &prof->region[i];
    cJSON *o = cJSON_AddObjectToObject(rj, st->name);
    cJSON_AddStringToObject(o, "kind", st->kind == LF_PROF_COMPUTE ? "compute" : st->kind == LF_PROF_COMM ? "comm" : "io");
    cJSON_AddNumberToObject(o, "calls", (double)st->calls);
    cJSON_AddNumberToObject(o, "avg", st->tavg);
    cJSON_AddNumberToObject(o, "max", st->tmax);
    if (st->kind == LF_PROF_COMM) comm += st->tavg;
  }
  if (d->nranks > 1)
    printf("  parallel           %d ranks, grid %s: communication %.1f%% of %.3f s, load balance %.3f\n", d->nranks,
           grid, prof->wall > 0 ? 100.0 * comm / prof->wall : 0.0, prof->wall, prof->load_balance);
  c->summary = js;
  free(plaq), free(qs), free(em), free(acc), free(plv);
}

/* ---------------------------------------------------------------- the chain */
/* Rank 0 opens `path` (mode "w" or "a"); the status is agreed over the ranks. */
static int root_open(FILE **fp, const char *path, const char *mode) {
  int st = LF_OK;
  *fp = NULL;
  if (lf_par_root() && !(*fp = fopen(path, mode)))
    st = LF_ERROR(LF_EIO, "cannot write %s: check that the output directory is writable", path);
  return lf_par_agree(st);
}

/* Collective: any rank got a stop signal (SIGTERM/SIGUSR1/SIGINT) -> its number on all. */
static int stop_signal(void) {
  double sig = (double)cli_stop_signal;
  if (lf_par_size() > 1) lf_par_allreduce_max(&sig, 1);
  return (int)sig;
}

static int run_chain(chain_cfg *c, cJSON *params, long start, long accepted0) {
  const char *cmd = c->cmd;
  const int root = lf_par_root();
  lf_dist d = {0};
  lf_gauge *f = NULL, *gf = NULL; /* this rank's field; the global field (rank 0) for I/O */
  lf_dist_hmc_work *w = NULL;
  FILE *csv = NULL, *tcsv = NULL, *fcsv = NULL;
  lf_gauge *ftmp = NULL;
  lf_wflow_ws ws = {0};
  cJSON *manifest = NULL;
  int rc = LF_EXIT_FAIL, st;
  char path[4096];
  long total = c->therm + c->ntraj, accepted = accepted0;

  /* domain decomposition (one rank: the whole lattice, no halo) */
  const int width = c->act.kind == LF_ACTION_LW && c->act.c1 != 0 ? 2 : 1;
  if ((st = lf_dist_init(&d, &c->lat, c->grid_s ? c->grid : NULL, width))) goto lib_fail;
  if ((st = lf_par_agree(lf_dist_gauge_alloc(&f, &d, c->group)))) goto lib_fail;
  /* one rank: the local field is laid out as the global one, so I/O uses it in place */
  lf_gauge gview;
  if (d.nranks == 1) {
    gview = *f;
    gview.lat = &c->lat;
    gf = &gview;
  } else if ((st = lf_par_agree(root ? lf_gauge_alloc(&gf, &c->lat, c->group) : LF_OK))) {
    goto lib_fail;
  }
  if (start > 0) {
    rundir_path(path, sizeof path, c->out, "checkpoint.lime");
    track_consumed(&c->track, path, LF_ARTIFACT_CONFIG);
    int prof = lf_prof_begin("io", LF_PROF_IO);
    st = lf_par_agree(root ? lf_ildg_read_into(path, gf, NULL, 0) : LF_OK);
    if (!st) st = lf_dist_scatter(&d, gf, f);
    lf_prof_end(prof);
    if (st) goto lib_fail;
  } else if (!strcmp(c->start_s, "hot")) {
    lf_gauge_hot(f, c->seed); /* keyed by global site: the same field for any grid */
  }
  if (c->is_hmc && (st = lf_dist_hmc_work_alloc(&w, &d, f))) goto lib_fail;
  if (flows(c)) {
    if ((st = lf_dist_gauge_alloc(&ftmp, &d, c->group)) == LF_OK) st = lf_observe_wflow_init(&ws, f);
    if ((st = lf_par_agree(st))) goto lib_fail;
    char fpath[4096];
    rundir_path(fpath, sizeof fpath, c->out, "flow.csv");
    if (start > 0 && root) rundir_csv_truncate(fpath, start - 1);
    if ((st = root_open(&fcsv, fpath, start > 0 ? "a" : "w"))) goto lib_fail;
    if (start == 0 && root) fprintf(fcsv, "traj,t,plaquette,E_plaq,E_clov,t2E_clov,Q\n");
  }

  /* measurements: truncate to the checkpoint on resume, then append (rank 0 writes) */
  rundir_path(path, sizeof path, c->out, "measurements.csv");
  st = start > 0 && root && rundir_csv_truncate(path, start - 1) < 0
           ? LF_ERROR(LF_EIO, "cannot truncate %s to the checkpoint", path)
           : LF_OK;
  if ((st = lf_par_agree(st))) goto lib_fail;
  if ((st = root_open(&csv, path, start > 0 ? "a" : "w"))) goto lib_fail;
  char tpath[4096];
  rundir_path(tpath, sizeof tpath, c->out, "timing.csv");
  if (start > 0 && root) rundir_csv_truncate(tpath, start - 1);
  if ((st = root_open(&tcsv, tpath, start > 0 ? "a" : "w"))) goto lib_fail;
  if (start == 0 && root) {
    fprintf(csv, "traj,phase,plaquette,action,dH,exp_minus_dH,accepted,poly_re,poly_im,Q\n");
    fprintf(tcsv, "traj,seconds\n");
  }

  /* ensemble manifest (rank 0) */
  rundir_path(path, sizeof path, c->out, "ensemble.json");
  st = LF_OK;
  if (root && start > 0 && access(path, F_OK) == 0) {
    manifest = rundir_read_json(cmd, path);
    if (!manifest) {
      st = LF_ERROR(LF_EFORMAT, "%s cannot be read", path);
    } else {
      cJSON *cf = cJSON_GetObjectItem(manifest, "configs");
      for (int i = cJSON_GetArraySize(cf) - 1; i >= 0; i--) {
        cJSON *t = cJSON_GetObjectItem(cJSON_GetArrayItem(cf, i), "traj");
        if (t && t->valuedouble >= (double)start) cJSON_DeleteItemFromArray(cf, i);
      }
    }
  } else if (root) {
    manifest = cJSON_CreateObject();
    cJSON_AddStringToObject(manifest, "conventions", conventions);
    cJSON_AddItemToObject(manifest, "parameters", cJSON_Duplicate(params, 1));
    cJSON_AddItemToObject(manifest, "configs", cJSON_CreateArray());
  }
  if (!st && root && c->save_every > 0) {
    rundir_path(path, sizeof path, c->out, "cfg");
    st = lf_mkdir_p(path);
  }
  if ((st = lf_par_agree(st))) goto lib_fail;

  lf_progress bar;
  if (root) {
    lf_progress_init(&bar, total, cmd);
    lf_progress_update(&bar, start);
  }
  lf_hb_stats hb = {0, 0};
  lf_prof_reset();
  double t_run = lf_time_now();
  for (long t = start; t < total; t++) {
    double t0 = lf_time_now();
    lf_hmc_result res = {0};
    if (c->is_hmc) {
      if ((st = lf_dist_hmc_trajectory(&d, &c->act, &c->hp, f, c->seed, t, w, &res))) goto lib_fail;
      accepted += res.accepted;
    } else {
      if ((st = lf_dist_heatbath_update(&d, &c->act, f, c->seed, t, c->nor, &hb))) goto lib_fail;
      res.accepted = 1;
      accepted++;
    }
    double plaq, S = res.S_new;
    if ((st = lf_dist_plaquette(&d, f, &plaq))) goto lib_fail;
    if (!c->is_hmc && (st = lf_dist_action(&d, &c->act, f, &S))) goto lib_fail;
    if (!isfinite(plaq) || !isfinite(S)) { /* exact sums: the same on every rank */
      cli_error(cmd, "lower the step size (--steps) or check --beta; the last checkpoint is intact",
                "trajectory %ld produced a non-finite plaquette/action", t);
      goto done;
    }
    lf_cplx poly = 0;
    if ((st = lf_dist_polyakov(&d, f, &poly))) goto lib_fail;
    char qs[40] = "";
    double q = 0;
    if (has_geometric_q(c)) {
      if ((st = lf_dist_topo_u1(&d, f, &q))) goto lib_fail;
      snprintf(qs, sizeof qs, "%.17g", q);
    } else if (flows(c) && t >= c->therm && (t - c->therm + 1) % c->flow_every == 0) {
      if ((st = lf_par_agree(measure_flow(c, &d, f, ftmp, &ws, t, fcsv, &q)))) goto lib_fail;
      snprintf(qs, sizeof qs, "%.17g", q);
    }
    int prof = lf_prof_begin("io", LF_PROF_IO);
    if (root) {
      fprintf(csv, "%ld,%d,%.17g,%.17g,%.17g,%.17g,%d,%.17g,%.17g,%s\n", t, t >= c->therm, plaq, S,
              res.dH, c->is_hmc ? res.exp_mdH : 1.0, res.accepted, creal(poly), cimag(poly), qs);
      fflush(csv);
      fprintf(tcsv, "%ld,%.6f\n", t, lf_time_now() - t0);
      fflush(tcsv);
    }
    track_metric(&c->track, "plaquette", t, plaq);
    if (c->is_hmc) {
      track_metric(&c->track, "dH", t, res.dH);
      track_metric(&c->track, "accepted", t, res.accepted);
    }
    if (qs[0]) track_metric(&c->track, "Q", t, q);
    track_tick(&c->track);
    int save = c->save_every > 0 && t >= c->therm && (t - c->therm + 1) % c->save_every == 0;
    int stop = stop_signal();
    int ckpt = stop || t + 1 == total || (c->ckpt_every > 0 && (t + 1) % c->ckpt_every == 0);
    if (save || ckpt) {
      if ((st = lf_dist_gather(&d, f, gf))) goto lib_fail;
      st = root && save ? save_config(c, gf, t, manifest) : LF_OK;
      if (!st && root && ckpt) st = write_checkpoint(c, gf, t + 1, accepted);
      if ((st = lf_par_agree(st))) goto lib_fail;
    }
    lf_prof_end(prof);
    if (root) {
      lf_progress_note(&bar, "plaq %.5f acc %.2f", plaq, (double)accepted / (double)(t + 1));
      lf_progress_update(&bar, t + 1);
    }
    if (stop) {
      if (root) {
        lf_progress_finish(&bar);
        fprintf(stderr,
                "latflow %s: stopped by signal %d after trajectory %ld; checkpoint written.\n"
                "  continue with: latflow %s --resume %s\n",
                cmd, stop, t, cmd, c->out);
      }
      rc = LF_EXIT_INTERRUPTED;
      track_end(&c->track, LF_RUN_KILLED, NULL, t);
      goto done;
    }
  }
  if (root) lf_progress_finish(&bar);
  double seconds = lf_time_now() - t_run;
  lf_prof_summary prof;
  if ((st = lf_prof_collect(&prof))) goto lib_fail;
  if (root) {
    fclose(csv), csv = NULL;
    fclose(tcsv), tcsv = NULL;
    summarize(c, &d, &prof, &hb, seconds, total - start, manifest);
  }
  track_end(&c->track, LF_RUN_FINISHED, c->summary, total - 1);
  if (c->json && c->summary) cli_json_print(c->summary);
  cJSON_Delete(c->summary);
  c->summary = NULL;
  rc = LF_EXIT_OK;
  goto done;

lib_fail:
  rc = cli_fail(cmd, st);
done:
  if (c->track.run) track_end(&c->track, LF_RUN_FAILED, NULL, -1);
  if (csv) fclose(csv);
  if (tcsv) fclose(tcsv);
  if (fcsv) fclose(fcsv);
  lf_gauge_free(ftmp);
  if (ws.z || ws.force) lf_observe_wflow_clear(&ws);
  cJSON_Delete(manifest);
  lf_dist_hmc_work_free(w);
  if (d.nranks > 1) lf_gauge_free(gf); /* one rank: gf is a view of f */
  lf_gauge_free(f);
  lf_dist_clear(&d);
  return rc;
}

/* ---------------------------------------------------------------- start-up */
/* Collective: every rank's decision -> one decision on all ranks. code < 0: this rank goes
 * on; code >= 0: it stops with that exit status, its message printed (rank 0) or recorded
 * (other ranks; cli_error). If any rank stops, all stop with the status of the lowest
 * stopping rank, and rank 0 prints that rank's message when it did not stop itself. */
static int agree_exit(const char *cmd, int code) {
  if (lf_par_size() == 1) return code;
  int all = lf_par_agree(code < 0 ? LF_OK : -(code + 100));
  if (all == LF_OK) return -1;
  int agreed = -all - 100;
  if (lf_par_root() && code < 0 && agreed != LF_EXIT_OK) fprintf(stderr, "latflow %s: %s\n", cmd, lf_last_error());
  return agreed;
}

/* Collective: refuse ranks started with other parameters than rank 0 (e.g. a different
 * seed through an MPMD command line). Returns an exit status or -1. */
static int same_params(const char *cmd, const cJSON *params) {
  if (lf_par_size() == 1) return -1;
  char *mine = cJSON_PrintUnformatted(params);
  long n = mine ? (long)strlen(mine) + 1 : 0;
  if (lf_par_bcast(&n, sizeof n, 0)) return LF_EXIT_FAIL;
  char *ref = malloc((size_t)n + 1);
  if (!ref || !mine) {
    free(ref);
    cJSON_free(mine);
    cli_error(cmd, NULL, "out of memory comparing the parameters of the ranks");
    return LF_EXIT_FAIL;
  }
  if (lf_par_root()) memcpy(ref, mine, (size_t)n);
  int code = -1;
  if (lf_par_bcast(ref, (size_t)n, 0)) code = LF_EXIT_FAIL;
  else if (strcmp(ref, mine)) {
    cli_error(cmd, "start every rank with the same options (mpirun -np N latflow ...)",
              "rank %d was started with parameters that differ from rank 0's", lf_par_rank());
    code = LF_EXIT_USAGE;
  }
  free(ref);
  cJSON_free(mine);
  return code;
}

/* Parse, merge a run to resume (run.json) and read its checkpoint state. Returns an exit
 * status, or -1 to go on with *params (owned by the caller) set. */
static int setup(chain_cfg *c, const cli_spec *spec, cli_opt *opts, int *seen, int argc, char **argv,
                 const char *const *not_saved, cJSON **params, long *start, long *accepted) {
  static const char *const mutable_keys[] = {"ntraj", "nsweep", "checkpoint-every", NULL};
  char path[4096];
  int pr = cli_parse(spec, opts, argc, argv, NULL, NULL, seen);
  if (pr != CLI_OK) return pr == CLI_HELP ? LF_EXIT_OK : LF_EXIT_USAGE;
  if (c->resume) {
    c->out = c->resume;
    rundir_path(path, sizeof path, c->out, "run.json");
    cJSON *saved = rundir_read_json(c->cmd, path);
    if (!saved) {
      cli_error(c->cmd, "give the --out directory of an earlier run", "%s holds no run to resume", c->out);
      return LF_EXIT_USAGE;
    }
    cJSON *cmdj = cJSON_GetObjectItem(saved, "command");
    if (!cJSON_IsString(cmdj) || strcmp(cmdj->valuestring, c->cmd)) {
      cli_error(c->cmd, NULL, "%s was written by 'latflow %s', not 'latflow %s'", c->out,
                cJSON_IsString(cmdj) ? cmdj->valuestring : "?", c->cmd);
      cJSON_Delete(saved);
      return LF_EXIT_USAGE;
    }
    int mr = rundir_opts_merge(c->cmd, opts, seen, cJSON_GetObjectItem(saved, "parameters"),
                               mutable_keys, c->allow_change);
    cJSON_Delete(saved);
    if (mr != CLI_OK) return LF_EXIT_USAGE;
  }
  if (validate(c) != CLI_OK) return LF_EXIT_USAGE;
  *params = rundir_opts_to_json(opts, not_saved);
  if (!c->resume) return -1;
  rundir_path(path, sizeof path, c->out, "checkpoint.lime");
  char *state = NULL;
  size_t n;
  if (lf_ildg_read_record(path, "latflow-state", &state, &n)) return cli_fail(c->cmd, LF_EIO);
  cJSON *sj = cJSON_Parse(state);
  lf_free(state);
  cJSON *nt = cJSON_GetObjectItem(sj, "next_traj"), *ac = cJSON_GetObjectItem(sj, "accepted");
  if (!cJSON_IsNumber(nt) || !cJSON_IsNumber(ac)) {
    cli_error(c->cmd, NULL, "%s: damaged latflow-state record", path);
    cJSON_Delete(sj);
    return LF_EXIT_FAIL;
  }
  *start = (long)nt->valuedouble;
  *accepted = (long)ac->valuedouble;
  cJSON_Delete(sj);
  if (*start > c->therm + c->ntraj) {
    cli_error(c->cmd, "raise --ntraj to continue further", "the checkpoint is at trajectory %ld, beyond the requested %ld",
              *start, c->therm + c->ntraj);
    return LF_EXIT_USAGE;
  }
  return -1;
}

/* Rank 0: create (or reuse on resume) the run directory, write run.json, open the
 * registry run. Returns an exit status or -1. */
static int prepare_rundir(chain_cfg *c, const cJSON *params, long start) {
  char path[4096];
  if (!c->resume) {
    if (rundir_check_fresh(c->cmd, c->out) != CLI_OK) return LF_EXIT_USAGE;
    if (lf_mkdir_p(c->out)) return cli_fail(c->cmd, LF_EIO);
  }
  /* run.json always reflects the parameters in force (ntraj may grow on resume) */
  cJSON *run = cJSON_CreateObject();
  cJSON_AddStringToObject(run, "command", c->cmd);
  cJSON_AddStringToObject(run, "latflow", lf_version());
  cJSON_AddStringToObject(run, "conventions", conventions);
  cJSON_AddItemToObject(run, "parameters", cJSON_Duplicate(params, 1));
  rundir_path(path, sizeof path, c->out, "run.json");
  int st = rundir_write_json(path, run);
  cJSON_Delete(run);
  if (st) return cli_fail(c->cmd, st);
  const char *slash = strrchr(c->out, '/');
  const char *run_name = slash && slash[1] ? slash + 1 : c->out;
  if (track_begin(&c->track, c->cmd, c->registry, run_name, c->experiment, params, c->out)) return LF_EXIT_FAIL;
  if (start > 0 && c->track.run) {
    char tag[32];
    snprintf(tag, sizeof tag, "%ld", start);
    lf_run_tag(c->track.run, "resumed_at_traj", tag);
  }
  return -1;
}

/* ---------------------------------------------------------------- entry points */
static int chain_main(int is_hmc, int argc, char **argv) {
  chain_cfg c = {0};
  c.is_hmc = is_hmc;
  c.cmd = is_hmc ? "hmc" : "heatbath";
  c.group_s = "u1";
  c.lattice_s = "8x8";
  c.action_s = "wilson";
  c.integrator_s = "omelyan";
  c.start_s = "hot";
  c.out = is_hmc ? "out/hmc" : "out/heatbath";
  c.name = "cfg";
  c.beta = 2.0;
  c.c1 = NAN;
  c.tau = 1.0;
  c.steps = 10;
  c.nor = 4;
  c.precision = 64;
  c.ntraj = 1000;
  c.therm = 100;
  c.ckpt_every = 100;
  c.seed = 1;
  c.flow_every = 10;
  c.flow_eps = 0.01;
  c.flow_dt = 0.05;
  /* One table for both commands; `for` says which command takes an option (H = hmc,
   * B = heatbath). The run.json of each command follows this order. */
  enum { H = 1, B = 2, HB = 3 };
  static const char *const unit[2] = {"sweeps", "trajectories"};
  char h_ntraj[96], h_therm[64], h_save[96], h_ckpt[64], h_out[64], h_flow[80];
  snprintf(h_ntraj, sizeof h_ntraj, "measured %s after thermalisation (default 1000)", unit[is_hmc]);
  snprintf(h_therm, sizeof h_therm, "thermalisation %s (default 100)", unit[is_hmc]);
  snprintf(h_save, sizeof h_save, "write a configuration every K %s (default 0: none)", unit[is_hmc]);
  snprintf(h_ckpt, sizeof h_ckpt, "checkpoint every K %s (default 100)", unit[is_hmc]);
  snprintf(h_out, sizeof h_out, "run directory (default %s)", c.out);
  snprintf(h_flow, sizeof h_flow, "Wilson-flow measurement every K %s (default 10)", unit[is_hmc]);
  const struct {
    int for_cmd;
    cli_opt opt;
  } all[] = {
      {HB, {"group", CLI_STR, &c.group_s, "G", "gauge group: u1, su2, su3 (default u1)"}},
      {HB, {"lattice", CLI_STR, &c.lattice_s, "LxL..", "lattice extents, even, e.g. 8x8 or 8x8x8x8 (default 8x8)"}},
      {HB, {"beta", CLI_DOUBLE, &c.beta, "B", "inverse coupling, > 0 (default 2.0)"}},
      {H, {"action", CLI_STR, &c.action_s, "A", "wilson or lw (Lüscher-Weisz) (default wilson)"}},
      {B, {"action", CLI_STR, &c.action_s, "A", "wilson (the only action with a heatbath)"}},
      {H, {"c1", CLI_DOUBLE, &c.c1, "C", "rectangle coefficient of the lw action (default -1/12)"}},
      {HB, {"plane-coef", CLI_STR, &c.plane_s, "K,K,..", "coupling factor per plane 01,02,03,12,13,23 (default all 1)"}},
      {H, {"ntraj", CLI_LONG, &c.ntraj, "N", h_ntraj}},
      {B, {"nsweep", CLI_LONG, &c.ntraj, "N", h_ntraj}},
      {HB, {"therm", CLI_LONG, &c.therm, "N", h_therm}},
      {H, {"tau", CLI_DOUBLE, &c.tau, "T", "trajectory length (default 1.0)"}},
      {H, {"steps", CLI_INT, &c.steps, "N", "integration steps per trajectory (default 10)"}},
      {H, {"integrator", CLI_STR, &c.integrator_s, "I", "leapfrog or omelyan (2MN, lambda = 0.1931833) (default omelyan)"}},
      {B, {"or", CLI_INT, &c.nor, "K", "overrelaxation sweeps after each heatbath sweep (default 4)"}},
      {HB, {"start", CLI_STR, &c.start_s, "S", "hot (Haar-random) or cold (unit links) (default hot)"}},
      {HB, {"seed", CLI_U64, &c.seed, "S", "random seed (default 1)"}},
      {HB, {"flow-time", CLI_DOUBLE, &c.flow_time, "T", "Wilson-flow time for Q (clover) and t0 in 4D (default 0: off)"}},
      {HB, {"flow-every", CLI_LONG, &c.flow_every, "K", h_flow}},
      {HB, {"flow-eps", CLI_DOUBLE, &c.flow_eps, "E", "Wilson-flow RK3 step size (default 0.01)"}},
      {HB, {"flow-dt", CLI_DOUBLE, &c.flow_dt, "D", "flow-time spacing of the rows of flow.csv (default 0.05)"}},
      {HB, {"out", CLI_STR, &c.out, "DIR", h_out}},
      {HB, {"save-every", CLI_LONG, &c.save_every, "K", h_save}},
      {HB, {"precision", CLI_INT, &c.precision, "P", "precision of saved configurations: 32 or 64 (default 64)"}},
      {HB, {"name", CLI_STR, &c.name, "NAME", "file name stem of saved configurations (default cfg)"}},
      {HB, {"checkpoint-every", CLI_LONG, &c.ckpt_every, "K", h_ckpt}},
      {HB, {"resume", CLI_STR, &c.resume, "DIR", "continue the run in DIR from its checkpoint"}},
      {HB, {"allow-change", CLI_FLAG, &c.allow_change, NULL, "with --resume: accept parameters that differ from the saved run"}},
      {HB, {"json", CLI_FLAG, &c.json, NULL, "print a one-line JSON summary as the last line"}},
      {HB, {"grid", CLI_STR, &c.grid_s, "AxBx..", "MPI process grid, e.g. 1x1x1x2 (default: automatic; under mpirun only)"}},
      {HB, {"registry", CLI_STR, &c.registry, "URL", "run registry: SQLite path or postgresql:// URL, 'none' = off (default $LATFLOW_REGISTRY or ~/.latflow/registry.db)"}},
      {HB, {"experiment", CLI_STR, &c.experiment, "NAME", "experiment name in the registry (default: Default)"}},
  };
  cli_opt opts[sizeof all / sizeof all[0] + 1];
  int nopt = 0;
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (all[i].for_cmd & (is_hmc ? H : B)) opts[nopt++] = all[i].opt;
  memset(&opts[nopt], 0, sizeof opts[nopt]);
  cli_spec spec = {c.cmd,
                   is_hmc ? "latflow hmc [--group u1|su2|su3] [--lattice 8x8] [--beta B] [options]"
                          : "latflow heatbath [--group u1|su2|su3] [--lattice 8x8] [--beta B] [options]",
                   is_hmc ? "Hybrid Monte Carlo for the Wilson or Lüscher-Weisz gauge action. Writes "
                            "measurements.csv, checkpoints and (with --save-every) an ILDG ensemble "
                            "into --out; prints the plaquette, acceptance, <exp(-dH)> and (2D U(1)) "
                            "<Q^2>/V with Gamma-method errors. SIGTERM/SIGUSR1 checkpoint and exit 3."
                          : "Heatbath (U(1) exact, SU(2) Kennedy-Pendleton, SU(3) Cabibbo-Marinari) "
                            "plus overrelaxation for the Wilson action; outputs as for 'latflow hmc'.",
                   0};
  int seen[sizeof all / sizeof all[0] + 1];
  static const char *const not_saved[] = {"resume", "allow-change", "json", "out", "registry", "experiment",
                                          "grid", NULL};
  long start = 0, accepted = 0;
  cJSON *params = NULL;
  /* every rank parses its arguments and reads the run to resume; then all agree */
  int code = setup(&c, &spec, opts, seen, argc, argv, not_saved, &params, &start, &accepted);
  code = agree_exit(c.cmd, code);
  if (code < 0) code = agree_exit(c.cmd, same_params(c.cmd, params));
  if (code < 0) code = agree_exit(c.cmd, lf_par_root() ? prepare_rundir(&c, params, start) : -1);
  if (code >= 0) {
    cJSON_Delete(params);
    lf_lattice_clear(&c.lat);
    return code;
  }
  cli_signals_install();
  int rc = run_chain(&c, params, start, accepted);
  cJSON_Delete(params);
  lf_lattice_clear(&c.lat);
  return rc;
}

int cmd_hmc(int argc, char **argv) { return chain_main(1, argc, argv); }
int cmd_heatbath(int argc, char **argv) { return chain_main(0, argc, argv); }
