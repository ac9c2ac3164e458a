/*
 * app/cmd_sample.c -- `latflow sample`: exact sampling with a trained flow (U(1) or SU(N),
 * app/flowmodel.h) by independence
 * Metropolis (proposals x ~ q, accepted with min(1, w(x')/w(x)), w = exp(-S - log q)),
 * plus reweighting estimates (docs/flows.md "sampling").
 *
 *   latflow sample --model DIR/model.safetensors --n N [--seed S] [--out DIR] [--json]
 *
 * Proposal chunk c is drawn from the prior stream (seed, PRIOR | 2^47 | c), the accept
 * test of proposal i from (seed, ACCEPT, i): the chain does not depend on --batch or the
 * number of threads. Observables of the chain: plaquette <cos theta_P> and the
 * topological susceptibility chi = <Q^2>/V and the charge Q itself (geometric), with
 * Gamma-method errors and tau_int (stats module). Under mpirun/srun the proposals are
 * computed on all ranks (chunk k on rank k mod P) and the chain is run in global order:
 * the same chain for any rank count; rank 0 writes. With --decompose (U(1) models) each
 * proposal is instead spread over all ranks (flow.h lf_flow_dd_*, deep halos; docs/parallel.md
 * "Flows"): the proposals, log q, S, plaquette and Q of proposal i are those of the serial
 * run up to exact-sum round-off, so the chain is the serial one. With --out DIR: DIR/chain.csv (one row per proposal) and ILDG
 * configurations DIR/cfg_<i>.lime of the chain every --save-every steps.
 * JSON: acceptance, ess, plaquette {mean, err, tau_int}, topological_susceptibility
 * {mean, err, tau_int}, reweighted estimates, n, seconds.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "flowmodel.h"
#include "latflow/io.h"
#include "latflow/par.h"
#include "latflow/stats.h"
#include "rundir.h"
#include "track.h"
#include "exact.h"

#define CMD "sample"

int cmd_sample(int argc, char **argv) {
  const char *model = NULL, *out = NULL, *registry = NULL, *experiment = NULL, *lattice = NULL;
  const char *decompose = NULL;
  double beta = 0;
  long n = 10000, save_every = 0;
  int batch = 0, json = 0;
  uint64_t seed = 1;
  const cli_opt opts[] = {
      {"model", CLI_STR, &model, "FILE", "model file written by 'latflow train' (model.safetensors)"},
      {"n", CLI_LONG, &n, "N", "number of flow proposals = Markov chain length (default 10000)"},
      {"lattice", CLI_STR, &lattice, "LxL..", "sample another lattice with the trained networks (default: the model's)"},
      {"beta", CLI_DOUBLE, &beta, "B", "target coupling (default: the model's); Metropolis keeps it exact"},
      {"seed", CLI_U64, &seed, "S", "seed of proposals and accept/reject (default 1)"},
      {"batch", CLI_INT, &batch, "B", "proposals per flow evaluation (default 64, 8 with --decompose; no effect on results)"},
      {"decompose", CLI_STR, &decompose, "auto|PxQ", "under mpirun, U(1) models: spread each proposal over all ranks "
                                                     "with process grid PxQ (auto: smallest halo); for large lattices"},
      {"out", CLI_STR, &out, "DIR", "write chain.csv and ILDG configurations here"},
      {"save-every", CLI_LONG, &save_every, "K", "with --out: write every K-th chain configuration (0: none)"},
      {"json", CLI_FLAG, &json, NULL, "print a one-line JSON summary last"},
      {"registry", CLI_STR, &registry, "URL", "run registry: SQLite path or postgresql:// URL, 'none' = off"},
      {"experiment", CLI_STR, &experiment, "NAME", "experiment name in the registry"},
      {0}};
  const cli_spec spec = {CMD, "latflow sample --model FILE --n N [options]",
                         "Exact sampling with flow proposals (independence Metropolis) and "
                         "reweighting, for U(1) and SU(N) flow models. Conventions: plaquette = "
                         "Re tr U_P / N (cos theta_P), S = -(beta/N) sum_P Re tr U_P; U(1): "
                         "geometric Q, chi = <Q^2>/V.",
                         0};
  int pr = cli_parse(&spec, opts, argc, argv, NULL, NULL, NULL);
  if (pr != CLI_OK) return pr == CLI_HELP ? LF_EXIT_OK : LF_EXIT_USAGE;
  if (!model) {
    cli_error(CMD, "add --model DIR/model.safetensors", "no model given");
    return LF_EXIT_USAGE;
  }
  if (batch == 0) batch = decompose ? 8 : 64;
  if (n < 2 || batch < 1 || save_every < 0) {
    cli_error(CMD, "use --n >= 2, --batch >= 1, --save-every >= 0", "invalid --n %ld / --batch %d / --save-every %ld", n, batch, save_every);
    return LF_EXIT_USAGE;
  }
  app_track trk = {0};
  app_flow fl;
  int rc = lf_par_agree(app_flow_load(&fl, model, NULL, NULL, NULL)); /* every rank loads it */
  if (!rc && (beta < 0 || !isfinite(beta))) rc = LF_ERROR(LF_EINVAL, "--beta %g; use beta > 0", beta);
  /* the same networks on another lattice / at another beta */
  if (!rc) rc = app_flow_retarget(&fl, lattice, beta);
  /* --decompose: one proposal over all ranks (the same status on every rank) */
  lf_flow_dd *dd = NULL;
  if (!rc && decompose) {
    int P[LF_MAXDIM];
    lf_flow_dd_opts o = {NULL, 0, 0};
    if (fl.sun) rc = LF_ERROR(LF_EINVAL, "--decompose supports U(1) flow models only; sample SU(N) models without it");
    else if (strcmp(decompose, "auto")) {
      rc = lf_dist_grid_parse(decompose, 2, P);
      o.grid = P;
    }
    rc = lf_par_agree(rc);
    if (!rc) rc = lf_flow_dd_alloc(&dd, fl.u1, NULL, batch, &o);
  }
  if (rc) {
    app_flow_free(&fl);
    return cli_fail(CMD, rc);
  }
  const double tbeta = app_flow_beta(&fl);
  const int nd = app_flow_nd(&fl), has_q = !fl.sun; /* geometric Q: 2D U(1) only */
  int L[4];
  app_flow_extents(&fl, L);
  long V = 1;
  for (int d = 0; d < nd; d++) V *= L[d];
  const size_t V2 = app_flow_doubles(&fl); /* doubles per configuration */
  /* doubles per proposal held by this rank: all, or its own links with --decompose */
  const size_t V2c = dd ? 2 * (size_t)lf_flow_dd_volume(dd) : V2;
  double *x = lf_alloc((size_t)batch * V2c * sizeof(double));
  double *cur = lf_alloc(V2c * sizeof(double));
  double *dm = dd ? lf_alloc(3 * (size_t)batch * sizeof(double)) : NULL;
  double *lq = lf_alloc((size_t)batch * sizeof(double));
  double *logw = lf_alloc((size_t)n * sizeof(double));
  double *pl = lf_alloc((size_t)n * sizeof(double)), *q2 = lf_alloc((size_t)n * sizeof(double));
  double *qs = lf_alloc((size_t)n * sizeof(double));
  double *vals = lf_alloc(3 * (size_t)batch * sizeof(double));
  double *allv = lf_alloc(3 * (size_t)batch * (size_t)lf_par_size() * sizeof(double));
  double *allx = NULL;
  double *ppl = lf_alloc((size_t)n * sizeof(double)), *pq2 = lf_alloc((size_t)n * sizeof(double));
  FILE *csv = NULL;
  lf_lattice lat = {0};
  lf_gauge *field = NULL;
  if (!x || !cur || !lq || !logw || !pl || !q2 || !qs || !ppl || !pq2 || !vals || !allv || (dd && !dm))
    rc = LF_ENOMEM;
  if (!rc && !dd) rc = app_flow_workspace(&fl, batch);
  if (!rc && out) {
    char path[4096];
    if (lf_par_root()) { /* rank 0 alone writes */
      rc = lf_mkdir_p(out);
      rundir_path(path, sizeof path, out, "chain.csv");
      if (!rc && !(csv = fopen(path, "w"))) rc = LF_ERROR(LF_EIO, "cannot write %s; check that the directory is writable", path);
      if (csv) fprintf(csv, "i,accepted,logw,plaquette%s\n", has_q ? ",Q" : "");
    }
    if (!rc && save_every > 0) {
      rc = lf_lattice_init(&lat, nd, L);
      if (!rc) rc = lf_gauge_alloc(&field, &lat, app_flow_group(&fl));
      if (!rc && !dd && !(allx = lf_alloc((size_t)batch * V2 * (size_t)lf_par_size() * sizeof(double))))
        rc = LF_ENOMEM;
    }
  }
  if ((rc = lf_par_agree(rc)) != LF_OK) goto done;
  static const char *const not_tracked[] = {"json", "registry", "experiment", NULL};
  cJSON *tparams = rundir_opts_to_json(opts, not_tracked);
  int trc = track_begin(&trk, CMD, registry, out ? out : model, experiment, tparams, out);
  cJSON_Delete(tparams);
  if (cli_agree_exit(CMD, trc ? LF_EXIT_FAIL : LF_EXIT_OK)) {
    rc = 2;
    goto done;
  }
  track_consumed(&trk, model, LF_ARTIFACT_MODEL);
  cli_signals_install();
  lf_progress prog;
  lf_progress_init(&prog, n, CMD);
  if (dd) lf_prof_reset();
  double t0 = lf_time_now(), lwcur = 0, plcur = 0, qcur = 0;
  long accepted = 0;
  /* Rounds of P chunks of `batch` proposals: rank r computes chunk k0 + r, the values (and,
   * when configurations are saved, the proposals) are gathered, and every rank runs the
   * same sequential accept/reject in global proposal order; rank 0 writes. With --decompose
   * a round is one chunk computed by all ranks together; each keeps its own links. */
  const long nchunks = (n + batch - 1) / batch, P = dd ? 1 : lf_par_size();
  const uint64_t ptag = LF_RNG_TAG(LF_RNG_PURPOSE_PRIOR, 1ull << 47);
  for (long k0 = 0; k0 < nchunks; k0 += P) {
    if (cli_stop_agreed()) break;
    const long k = k0 + (dd ? 0 : lf_par_rank());
    const int nb = k < nchunks ? (int)(n - k * batch < batch ? n - k * batch : batch) : 0;
    /* key proposals by their global index: independent of --batch and of the rank count */
    if (dd) {
      rc = lf_flow_dd_sample(dd, seed, ptag, k * batch, nb, x, lq);
      if (!rc) rc = lf_flow_dd_measure(dd, nb, x, tbeta, dm, dm + batch, dm + 2 * batch);
      for (int b = 0; !rc && b < nb; b++) {
        double *v = allv + 3 * (size_t)b;
        v[0] = -dm[b] - lq[b], v[1] = dm[batch + b], v[2] = dm[2 * batch + b];
      }
      if (rc) goto done; /* collective calls: the status is the same on every rank */
      allx = x;
    } else {
      rc = app_flow_propose(&fl, seed, ptag, k * batch, nb, x, lq);
      for (int b = 0; !rc && b < batch; b++) {
        double *v = vals + 3 * (size_t)b;
        if (b >= nb) {
          v[0] = v[1] = v[2] = 0;
          continue;
        }
        double S;
        app_flow_measure(&fl, x + (size_t)b * V2, &S, &v[1], &v[2]);
        v[0] = -S - lq[b];
        if (!has_q) v[2] = 0;
      }
      if ((rc = lf_par_agree(rc)) != LF_OK) goto done;
      rc = lf_par_allgather(vals, lf_par_rank(), 1, P, 3 * (long)batch, allv);
      if (!rc && field) rc = lf_par_allgather(x, lf_par_rank(), 1, P, (long)batch * (long)V2, allx);
      if (rc) goto done;
    }
    const long iend = (k0 + P) * batch < n ? (k0 + P) * batch : n;
    for (long i = k0 * batch; i < iend; i++) {
      const double *v = allv + 3 * (size_t)(i - k0 * batch);
      logw[i] = v[0];
      double Q = v[2];
      ppl[i] = v[1], pq2[i] = Q * Q / (double)V;
      int acc = 1;
      if (i > 0) {
        lf_rng r;
        lf_rng_init(&r, seed, LF_RNG_TAG(LF_RNG_PURPOSE_ACCEPT, 0), (uint64_t)i);
        acc = log(lf_rng_uniform(&r)) < logw[i] - lwcur;
      }
      if (acc) {
        if (field) memcpy(cur, allx + (size_t)(i - k0 * batch) * V2c, V2c * sizeof(double));
        lwcur = logw[i], plcur = ppl[i], qcur = Q;
        if (i > 0) accepted++;
      }
      pl[i] = plcur, q2[i] = qcur * qcur / (double)V, qs[i] = qcur;
      if (csv && has_q) fprintf(csv, "%ld,%d,%.10g,%.12g,%.10g\n", i, acc, logw[i], plcur, qcur);
      else if (csv) fprintf(csv, "%ld,%d,%.10g,%.12g\n", i, acc, logw[i], plcur);
      track_metric(&trk, "logw", i, logw[i]);
      track_metric(&trk, "plaquette", i, plcur);
      if (has_q) track_metric(&trk, "Q", i, qcur);
      if (field && (i + 1) % save_every == 0) {
        char name[64], path[4096];
        snprintf(name, sizeof name, "cfg_%06ld.lime", i + 1);
        rundir_path(path, sizeof path, out, name);
        rc = dd ? lf_flow_dd_gather(dd, cur, field) : app_flow_to_gauge(&fl, cur, field);
        if (!rc && lf_par_root()) rc = lf_ildg_write(path, field, 64, NULL);
        if ((rc = lf_par_agree(rc)) != LF_OK) goto done;
        track_produced(&trk, path, LF_ARTIFACT_CONFIG);
      }
    }
    lf_progress_update(&prog, iend);
    track_tick(&trk);
  }
  lf_progress_finish(&prog);
  if (cli_stop_signal) {
    cli_error(CMD, NULL, "interrupted; no summary written");
    rc = 1;
    goto done;
  }
  double secs = lf_time_now() - t0;
  lf_prof_summary prof;
  if (dd && (rc = lf_prof_collect(&prof)) != LF_OK) goto done;
  double acc_rate = (double)accepted / (double)(n - 1);
  double ess = lf_stats_ess(logw, n);
  lf_stats_gamma_res rp, rq, rQ;
  rc = lf_stats_gamma(pl, n, NULL, &rp, NULL, 0);
  memset(&rq, 0, sizeof rq), memset(&rQ, 0, sizeof rQ);
  if (!rc && has_q) rc = lf_stats_gamma(q2, n, NULL, &rq, NULL, 0);
  if (!rc && has_q) rc = lf_stats_gamma(qs, n, NULL, &rQ, NULL, 0);
  double rwp = 0, rwpe = 0, rwq = 0, rwqe = 0;
  long bins = n / 20 > 0 ? n / 20 : 1;
  int rwok = !rc && !lf_stats_reweight(logw, ppl, n, bins, &rwp, &rwpe) &&
             (!has_q || !lf_stats_reweight(logw, pq2, n, bins, &rwq, &rwqe));
  if (rc) goto done;
  track_metric(&trk, "acceptance", n, acc_rate);
  track_metric(&trk, "ess", n, ess);
  track_metric(&trk, "plaquette_mean", n, rp.value);
  if (has_q) track_metric(&trk, "chi_top", n, rq.value);
  track_end(&trk, LF_RUN_FINISHED, NULL, n);
  printf("flow Metropolis: %ld proposals, acceptance %.4f, ESS/N %.4f (%.1f s)\n", n, acc_rate,
         ess, secs);
  printf("  plaquette                 %.6f +- %.6f  (tau_int %.2f)\n", rp.value, rp.err, rp.tau_int);
  {
    lf_lattice xl;
    lf_action xa;
    double exact;
    const char *kind;
    if (!lf_lattice_init(&xl, nd, L)) {
      if (!lf_action_init(&xa, LF_ACTION_WILSON, tbeta, nd) &&
          !lf_app_exact_plaquette(app_flow_group(&fl), &xl, &xa, &exact, &kind))
        printf("  exact plaquette           %.6f  (%s; deviation %.1f sigma)\n", exact, kind,
               rp.err > 0 ? (rp.value - exact) / rp.err : 0.0);
      lf_lattice_clear(&xl);
    }
  }
  if (has_q) {
    printf("  chi_top = <Q^2>/V         %.6f +- %.6f  (tau_int %.2f)\n", rq.value, rq.err, rq.tau_int);
    printf("  <Q>                       %.6f +- %.6f  (tau_int %.2f)\n", rQ.value, rQ.err, rQ.tau_int);
  }
  char grid[64] = "";
  double comm = 0;
  if (dd) {
    lf_dist_grid_format(lf_flow_dd_dist(dd), grid, sizeof grid);
    for (int i = 0; i < prof.nregions; i++)
      if (prof.region[i].kind == LF_PROF_COMM) comm += prof.region[i].tavg;
    printf("  decomposed                %d ranks, grid %s, halo %d, box/own volume %.3f, communication %.1f%% of "
           "%.3f s\n", lf_flow_dd_dist(dd)->nranks, grid, lf_flow_dd_dist(dd)->width, lf_flow_dd_overhead(dd),
           prof.wall > 0 ? 100.0 * comm / prof.wall : 0.0, prof.wall);
  }
  if (rwok) printf("  reweighted plaquette      %.6f +- %.6f\n", rwp, rwpe);
  if (rwok && has_q) printf("  reweighted chi_top        %.6f +- %.6f\n", rwq, rwqe);
  if (json) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "n", (double)n);
    cJSON_AddNumberToObject(j, "acceptance", acc_rate);
    cJSON_AddNumberToObject(j, "ess", ess);
    const lf_stats_gamma_res *est[3] = {&rp, &rq, &rQ};
    const char *names[3] = {"plaquette", "topological_susceptibility", "topological_charge"};
    for (int e = 0; e < (has_q ? 3 : 1); e++) {
      cJSON *o = cli_json_estimate(est[e]->value, est[e]->err, est[e]->tau_int);
      cJSON_AddNumberToObject(o, "tau_int_err", est[e]->tau_int_err);
      cJSON_AddItemToObject(j, names[e], o);
    }
    if (rwok) {
      cJSON_AddItemToObject(j, "plaquette_reweighted", cli_json_estimate(rwp, rwpe, -1));
      if (has_q)
        cJSON_AddItemToObject(j, "topological_susceptibility_reweighted",
                              cli_json_estimate(rwq, rwqe, -1));
    }
    cJSON_AddNumberToObject(j, "beta", tbeta);
    cJSON_AddStringToObject(j, "conventions", has_q ? "plaquette = cos theta_P; S = -beta sum_P cos theta_P; chi = <Q^2>/V, geometric Q"
                                                    : "plaquette = Re tr U_P / N; S = -(beta/N) sum_P Re tr U_P");
    cJSON_AddNumberToObject(j, "seconds", secs);
    if (dd) { /* the decomposition and the measured compute/communication split */
      cJSON *pj = cJSON_AddObjectToObject(j, "parallel");
      cJSON_AddNumberToObject(pj, "ranks", lf_flow_dd_dist(dd)->nranks);
      cJSON_AddStringToObject(pj, "grid", grid);
      cJSON_AddNumberToObject(pj, "halo", lf_flow_dd_dist(dd)->width);
      cJSON_AddNumberToObject(pj, "box_overhead", lf_flow_dd_overhead(dd));
      cJSON_AddNumberToObject(pj, "comm_seconds", comm);
      cJSON_AddNumberToObject(pj, "wall_seconds", prof.wall);
      cJSON_AddNumberToObject(pj, "load_balance", prof.load_balance);
      cJSON *rj = cJSON_AddObjectToObject(pj, "regions");
      for (int i = 0; i < prof.nregions; i++) {
        const lf_prof_stat *st = &prof.region[i];
        cJSON *o = cJSON_AddObjectToObject(rj, st->name);
        cJSON_AddStringToObject(o, "kind", st->kind == LF_PROF_COMPUTE ? "compute" : st->kind == LF_PROF_COMM ? "comm" : "io");
        cJSON_AddNumberToObject(o, "calls", (double)st->calls);
        cJSON_AddNumberToObject(o, "avg", st->tavg);
        cJSON_AddNumberToObject(o, "max", st->tmax);
      }
    }
    cJSON_AddStringToObject(j, "model", model);
    if (out) cJSON_AddStringToObject(j, "out", out);
    cli_json_print(j);
    cJSON_Delete(j);
  }
done:
  if (trk.run) track_end(&trk, rc == 1 ? LF_RUN_KILLED : LF_RUN_FAILED, NULL, -1);
  if (csv) fclose(csv);
  lf_gauge_free(field);
  if (lat.up) lf_lattice_clear(&lat);
  app_flow_free(&fl);
  lf_free(x), lf_free(cur), lf_free(lq), lf_free(logw);
  lf_free(pl), lf_free(q2), lf_free(qs), lf_free(ppl), lf_free(pq2);
  lf_free(vals), lf_free(allv), lf_free(dm);
  if (!dd) lf_free(allx); /* with --decompose allx is x */
  lf_flow_dd_free(dd);
  if (rc == 1) return LF_EXIT_INTERRUPTED;
  if (rc == 2) return LF_EXIT_FAIL; /* registry message already printed */
  if (rc) return cli_fail(CMD, rc);
  return LF_EXIT_OK;
}
