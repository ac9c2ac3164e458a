/*
 * app/cmd_train.c -- `latflow train`: reverse-KL training of a gauge-equivariant U(1) flow
 * (src/flow, docs/flows.md).
 *
 *   latflow train --preset u1-tutorial --out DIR [--lattice 8x8] [--beta 2] [--steps 1000]
 *                 [--batch 64] [--lr 1e-3] [--seed 1] [--checkpoint-every 100] [--json]
 *   latflow train --resume DIR [--steps N]
 *
 * DIR holds run.json (parameters), metrics.csv (step, loss, loss_err, ess, acceptance,
 * grad_norm, seconds, cpu_seconds: wall and CPU time of this process since training
 * started), model.safetensors (parameters + step) and model.opt.safetensors (Adam state;
 * both written atomically every --checkpoint-every steps, at the end, and on
 * SIGTERM/SIGUSR1/SIGINT). Adam and the cosine learning-rate schedule are the nn module's.
 * The prior sample of step t is keyed by (seed, t), so --resume continues bitwise exactly.
 * A non-finite loss or gradient stops the run with exit status 1; model.safetensors keeps
 * the last good checkpoint. With --json the last stdout line is
 * {"ess", "loss", "steps_per_second", "model", ...}; "ess" is measured on 1024 fresh samples.
 * --gradient path uses the path-gradient estimator (Vaitl et al. 2207.08219; the default for
 * SU(N) presets), --gradient reparam the reparameterisation gradient (default for U(1)).
 * Under mpirun/srun the global batch is split over the ranks for both families (one
 * driver, docs/flows.md, docs/sunflow.md): sample b
 * is the same on any rank count, gradients are all-reduced (--deterministic: chunked sums
 * in global order, bitwise independent of the rank count); rank 0 writes the files.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "flowmodel.h"
#include "latflow/par.h"
#include "rundir.h"
#include "track.h"

#define CMD "train"
#define FINAL_ESS_SAMPLES 1024

/* Collective: ESS of n fresh samples (stream separate from training), chunks of 256 split
 * over the ranks, log weights gathered in sample order */
static int final_ess(app_flow *f, uint64_t seed, long n, double *ess, double *loss) {
  const int B = 256;
  const long nchunks = (n + B - 1) / B;
  long c0, nc;
  lf_par_block(nchunks, &c0, &nc);
  int rc = app_flow_workspace(f, B);
  const size_t D = app_flow_doubles(f);
  double *x = lf_alloc((size_t)B * D * sizeof(double));
  double *lq = lf_alloc((size_t)B * sizeof(double));
  double *logw = lf_alloc((size_t)(nchunks * B) * sizeof(double));
  double *all = lf_alloc((size_t)(nchunks * B) * sizeof(double));
  if (!rc && !(x && lq && logw && all)) rc = LF_ERROR(LF_ENOMEM, "out of memory for the final ESS");
  for (long c = c0; !rc && c < c0 + nc; c++) {
    int nb = (int)(n - c * B < B ? n - c * B : B);
    rc = app_flow_propose(f, seed, LF_RNG_TAG(LF_RNG_PURPOSE_PRIOR, (1ull << 46) | (uint64_t)c), 0,
                          nb, x, lq);
    for (int b = 0; !rc && b < B; b++) { /* padding of the last chunk: weight 0 */
      double S = 0, pl, Q;
      if (b < nb) app_flow_measure(f, x + (size_t)b * D, &S, &pl, &Q);
      logw[(c - c0) * B + b] = b < nb ? -S - lq[b] : -(double)INFINITY;
    }
  }
  rc = lf_par_agree(rc);
  if (!rc) rc = lf_par_allgather(logw, c0, nc, nchunks, B, all);
  if (!rc) {
    double lsum = 0;
    for (long i = 0; i < n; i++) lsum -= all[i];
    *ess = lf_flow_ess(all, n), *loss = lsum / (double)n;
  }
  lf_free(x), lf_free(lq), lf_free(logw), lf_free(all);
  return rc;
}

static int train_main(int argc, char **argv) {
  const char *preset = "u1-tutorial", *lattice = NULL, *out = NULL, *resume = NULL;
  const char *registry = NULL, *experiment = NULL, *init_from = NULL, *gradient = NULL;
  double beta = 0, lr = 1e-3, lr_min = -1, clip = 0;
  long steps = 1000, ckevery = 100;
  int batch = 64, json = 0, rect = 0, determ = 0, layers = 0, kernel = 0, bins = 0;
  long ess_samples = FINAL_ESS_SAMPLES;
  const char *hidden = NULL;
  uint64_t seed = 1;
  const cli_opt opts[] = {
      {"preset", CLI_STR, &preset, "NAME", "u1-tutorial (default), u1-spline, u1-best (2D U(1)); su2-2d, su3-2d, su3-4d-plaq, su3-4d-lal (SU(N) spectral flows; lal = learned active loops)"},
      {"lattice", CLI_STR, &lattice, "LxL..", "lattice extents, multiples of the mask period 4 (preset: 8x8, 4^4 in 4D)"},
      {"beta", CLI_DOUBLE, &beta, "B", "Wilson coupling, S = -(beta/N) sum_P Re tr U_P (preset's)"},
      {"steps", CLI_LONG, &steps, "N", "total training steps (preset default; 1000)"},
      {"batch", CLI_INT, &batch, "B", "samples per step (preset default; 64)"},
      {"lr", CLI_DOUBLE, &lr, "R", "Adam learning rate (preset default; 1e-3)"},
      {"lr-min", CLI_DOUBLE, &lr_min, "R", "final rate of a cosine schedule (default: preset; = lr: constant)"},
      {"seed", CLI_U64, &seed, "S", "seed of initialisation and prior samples (default 1)"},
      {"checkpoint-every", CLI_LONG, &ckevery, "N", "write model.safetensors every N steps (100)"},
      {"out", CLI_STR, &out, "DIR", "run directory (must be new)"},
      {"resume", CLI_STR, &resume, "DIR", "continue the run in DIR exactly"},
      {"json", CLI_FLAG, &json, NULL, "print a one-line JSON summary last"},
      {"ess-samples", CLI_LONG, &ess_samples, "N", "fresh samples for the final ESS (default 1024; 0: skip, e.g. for timing runs)"},
      {"registry", CLI_STR, &registry, "URL", "run registry: SQLite path or postgresql:// URL, 'none' = off"},
      {"experiment", CLI_STR, &experiment, "NAME", "experiment name in the registry"},
      {"rect-context", CLI_FLAG, &rect, NULL, "also feed frozen 2x1 rectangles to the context CNN"},
      {"layers", CLI_INT, &layers, "N", "coupling layers (preset's; U(1): even, SU(N): a multiple of nd x mask period)"},
      {"hidden", CLI_STR, &hidden, "C1,C2..", "hidden channels of each context CNN, e.g. 16,16, or 'none' (preset's)"},
      {"kernel", CLI_INT, &kernel, "K", "odd kernel size of the context CNNs (preset's; 3)"},
      {"bins", CLI_INT, &bins, "K", "spline bins (U(1) NCP: mixture components) (preset's)"},
      {"init-from", CLI_STR, &init_from, "FILE", "start from this model's parameters and architecture (another lattice or beta allowed)"},
      {"gradient", CLI_STR, &gradient, "KIND", "path (Vaitl et al. 2207.08219) or reparam (default: path for SU(N), reparam for U(1))"},
      {"clip-grad", CLI_DOUBLE, &clip, "NORM", "rescale gradients whose 2-norm exceeds NORM (default 0: off)"},
      {"deterministic", CLI_FLAG, &determ, NULL, "MPI: sum gradients in a fixed order (bitwise equal for any rank count)"},
      {0}};
  const cli_spec spec = {CMD, "latflow train --preset NAME --out DIR [options]",
                         "Train a gauge-equivariant normalizing flow by minimising the reverse KL "
                         "divergence with Adam: 2D U(1) plaquette-coupling flows (Kanwar et al. "
                         "2003.06413) or SU(2)/SU(3) spectral flows in 2D and 4D (Boyda et al. "
                         "2008.05456). Conventions: plaquette = Re tr U_P / N (cos theta_P for "
                         "U(1)), S = -(beta/N) sum_P Re tr U_P.",
                         0};
  int seen[32] = {0};
  int pr = cli_parse(&spec, opts, argc, argv, NULL, NULL, seen);
  if (pr != CLI_OK) return pr == CLI_HELP ? LF_EXIT_OK : LF_EXIT_USAGE;
  static const char *const not_saved[] = {"resume", "json", "out", "registry", "experiment", NULL};
  static const char *const mutable_keys[] = {"steps", "checkpoint-every", NULL};
  char path[4096], mpath[4096];
  int code = LF_EXIT_OK;
  if (resume) {
    /* every rank reads run.json (a shared file system); one that cannot stops all */
    out = resume;
    rundir_path(path, sizeof path, out, "run.json");
    cJSON *saved = rundir_read_json(CMD, path);
    if (!saved) {
      cli_error(CMD, "give the --out directory of an earlier 'latflow train'",
                "%s holds no training run to resume", out);
      code = LF_EXIT_USAGE;
    } else {
      cJSON *cmdj = cJSON_GetObjectItem(saved, "command");
      int ok = cJSON_IsString(cmdj) && !strcmp(cmdj->valuestring, CMD);
      int mr = ok ? rundir_opts_merge(CMD, opts, seen, cJSON_GetObjectItem(saved, "parameters"),
                                      mutable_keys, 0)
                  : CLI_ERR;
      if (!ok) cli_error(CMD, NULL, "%s was not written by 'latflow train'", out);
      cJSON_Delete(saved);
      if (mr != CLI_OK) code = LF_EXIT_USAGE;
    }
  }
  if ((code = cli_agree_exit(CMD, code)) != LF_EXIT_OK) return code;
  lf_flow_train_defaults td;
  if (app_flow_preset_training(preset, &td)) return cli_fail(CMD, LF_EINVAL), LF_EXIT_USAGE;
  if (!seen[3] && !resume) steps = td.steps;
  if (!seen[4] && !resume) batch = td.batch;
  if (!seen[5] && !resume) lr = td.lr;
  if (!seen[6] && !resume) lr_min = seen[5] ? lr : td.lr_min;
  if (!out) {
    cli_error(CMD, "add --out DIR (a new directory for metrics and the model)", "no output directory");
    return LF_EXIT_USAGE;
  }
  if (steps < 1 || batch < 1 || ckevery < 1 || !(lr > 0) || !(lr_min > 0) || lr_min > lr ||
      (seen[2] && !(beta > 0)) || !(clip >= 0) || ess_samples < 0 || ess_samples > 1000000) {
    cli_error(CMD, "use --steps >= 1, --batch >= 1, --checkpoint-every >= 1, 0 < --lr-min <= --lr, --beta > 0, --clip-grad >= 0, 0 <= --ess-samples <= 1000000",
              "invalid value: steps %ld, batch %d, checkpoint-every %ld, lr %g, lr-min %g, beta %g, "
              "clip-grad %g, ess-samples %ld", steps, batch, ckevery, lr, lr_min, beta, clip, ess_samples);
    return LF_EXIT_USAGE;
  }
  if (gradient && strcmp(gradient, "path") && strcmp(gradient, "reparam")) {
    cli_error(CMD, "use --gradient path or --gradient reparam", "unknown gradient estimator '%s'", gradient);
    return LF_EXIT_USAGE;
  }
  lf_flow_train_opts topts = lf_flow_train_opts_default();
  topts.deterministic = determ, topts.clip = clip;
  app_flow fl;
  memset(&fl, 0, sizeof fl);
  lf_nn_adam opt;
  memset(&opt, 0, sizeof opt);
  long start = 0;
  rundir_path(mpath, sizeof mpath, out, "model.safetensors");
  rundir_path(path, sizeof path, out, "metrics.csv");
  const int root = lf_par_root();
  if (resume) {
    /* every rank loads the checkpoint; rank 0 alone truncates the metrics */
    uint64_t s2;
    int rc = app_flow_load(&fl, mpath, &opt, &start, &s2);
    if (rc) code = cli_fail(CMD, rc);
    else if (start > steps) {
      cli_error(CMD, "raise --steps to continue further", "the checkpoint is at step %ld, beyond --steps %ld", start, steps);
      code = LF_EXIT_USAGE;
    } else if (root && rundir_csv_truncate(path, start - 1) < 0) {
      code = cli_fail(CMD, LF_EIO);
    }
  } else {
    /* every rank builds the same model from the seed; rank 0 creates the run directory */
    app_flow_arch arch = APP_FLOW_ARCH_PRESET;
    arch.layers = layers, arch.kernel = kernel, arch.bins = bins, arch.rect = rect;
    int rc = hidden ? app_flow_arch_parse_hidden(hidden, &arch) : LF_OK;
    if (!rc) rc = app_flow_create(&fl, preset, lattice, seen[2] ? beta : 0, &arch, init_from, seed);
    if (rc) code = rc == LF_EINVAL || rc == LF_EUNSUP ? (cli_fail(CMD, rc), LF_EXIT_USAGE)
                                                       : cli_fail(CMD, rc);
    else if (root && rundir_check_fresh(CMD, out) != CLI_OK) code = LF_EXIT_USAGE;
    else if (root && lf_mkdir_p(out)) code = cli_fail(CMD, LF_EIO);
    lf_nn_adam_cfg ac = lf_nn_adam_defaults();
    ac.lr = lr;
    if (!code) rc = lf_nn_adam_init(&opt, app_flow_nparams(&fl), &ac);
    if (!code && !rc && root) {
      cJSON *params = rundir_opts_to_json(opts, not_saved);
      cJSON *run = cJSON_CreateObject();
      char cs[512], th[32], lt[64];
      app_flow_describe(&fl, cs, sizeof cs, th, sizeof th, lt, sizeof lt);
      cJSON_AddStringToObject(run, "command", CMD);
      cJSON_AddStringToObject(run, "latflow", lf_version());
      cJSON_AddStringToObject(run, "conventions", fl.sun ? "plaquette = Re tr U_P / N; S = -(beta/N) sum_P Re tr U_P"
                                                         : "plaquette = cos theta_P; S = -beta sum_P cos theta_P");
      cJSON_AddStringToObject(run, "theory", th);
      cJSON_AddStringToObject(run, "flow", cs);
      cJSON_AddItemToObject(run, "parameters", params);
      char rpath[4096];
      rundir_path(rpath, sizeof rpath, out, "run.json");
      rc = rundir_write_json(rpath, run);
      cJSON_Delete(run);
      if (!rc) rc = app_flow_save(&fl, &opt, 0, seed, mpath);
    }
    if (!code && rc) code = cli_fail(CMD, rc);
  }
  FILE *csv = NULL;
  if (!code && root && !(csv = fopen(path, start > 0 ? "a" : "w"))) {
    cli_error(CMD, "check that DIR is writable", "cannot write %s", path);
    code = LF_EXIT_FAIL;
  }
  topts.path = gradient ? !strcmp(gradient, "path") : fl.sun;
  const long local_batch = lf_flow_local_batch(batch, &topts);
  int rc = code ? LF_OK : app_flow_workspace(&fl, (int)local_batch);
  if (rc) code = cli_fail(CMD, rc);
  if ((code = cli_agree_exit(CMD, code)) != LF_EXIT_OK) {
    if (csv) fclose(csv);
    app_flow_free(&fl), lf_nn_adam_clear(&opt);
    return code;
  }
  if (csv && start == 0) fprintf(csv, "step,loss,loss_err,ess,acceptance,grad_norm,seconds,cpu_seconds\n");
  /* run registry: parameters, per-step metrics, the model, end status */
  app_track trk;
  cJSON *tparams = rundir_opts_to_json(opts, not_saved);
  int trc = track_begin(&trk, CMD, registry, out, experiment, tparams, out);
  cJSON_Delete(tparams);
  if (cli_agree_exit(CMD, trc ? LF_EXIT_FAIL : LF_EXIT_OK)) {
    if (csv) fclose(csv);
    app_flow_free(&fl), lf_nn_adam_clear(&opt);
    return LF_EXIT_FAIL;
  }
  {
    char cs[512], th[32], lt[64];
    app_flow_describe(&fl, cs, sizeof cs, th, sizeof th, lt, sizeof lt);
    track_param(&trk, "theory", th);
    if (!lattice) track_param(&trk, "lattice", lt);
  }
  cli_signals_install();
  lf_progress prog;
  lf_progress_init(&prog, steps, CMD);
  lf_progress_update(&prog, start);
  double t0 = lf_time_now(), cpu0 = lf_cpu_time();
  long step = start, last_ck = start;
  int exit_code = LF_EXIT_OK;
  double ess_avg = 0, loss_avg = 0;
  long navg = 0, avg_from = steps - (steps / 10 > 1 ? steps / 10 : 1);
  lf_nn_lr_schedule sched;
  memset(&sched, 0, sizeof sched);
  sched.kind = lr_min < lr ? LF_NN_LR_COSINE : LF_NN_LR_CONSTANT;
  sched.base = lr, sched.min = lr_min, sched.total = steps;
  for (; step < steps; step++) {
    lf_flow_step_stats st;
    const double lr_t = lf_nn_lr_at(&sched, step);
    rc = app_flow_train_step(&fl, &opt, lr_t, batch, &topts, seed, step, &st);
    if (rc) {
      cli_fail(CMD, rc);
      fprintf(stderr, "  model.safetensors keeps the last good checkpoint (step %ld); "
                      "resume with a smaller --lr: edit run.json or start a new run\n", last_ck);
      exit_code = LF_EXIT_FAIL;
      break;
    }
    const double cpu_s = lf_cpu_time() - cpu0; /* the same value in the CSV and the registry */
    if (csv)
      fprintf(csv, "%ld,%.10g,%.4g,%.6g,%.6g,%.6g,%.4f,%.4f\n", step, st.loss, st.loss_err, st.ess,
              st.acceptance, st.grad_norm, lf_time_now() - t0, cpu_s);
    if (step >= avg_from) ess_avg += st.ess, loss_avg += st.loss, navg++;
    track_metric(&trk, "loss", step, st.loss);
    track_metric(&trk, "ess_batch", step, st.ess);
    track_metric(&trk, "acceptance", step, st.acceptance);
    track_metric(&trk, "lr", step, lr_t);
    track_metric(&trk, "cpu_seconds", step, cpu_s);
    track_tick(&trk);
    lf_progress_note(&prog, "loss %.2f ess %.3f", st.loss, st.ess);
    lf_progress_update(&prog, step + 1);
    int stop = cli_stop_agreed();
    if ((step + 1) % ckevery == 0 || step + 1 == steps || stop) {
      if (csv) fflush(csv);
      rc = lf_par_agree(root ? app_flow_save(&fl, &opt, step + 1, seed, mpath) : LF_OK);
      if (rc) {
        cli_fail(CMD, rc);
        exit_code = LF_EXIT_FAIL;
        step++;
        break;
      }
      last_ck = step + 1;
    }
    if (stop) {
      step++;
      fprintf(stderr, "latflow train: interrupted; checkpoint at step %ld written, continue "
                      "with 'latflow train --resume %s'\n", last_ck, out);
      exit_code = LF_EXIT_INTERRUPTED;
      break;
    }
  }
  lf_progress_finish(&prog);
  if (csv) fclose(csv);
  double secs = lf_time_now() - t0;
  long done = step - start;
  if (exit_code == LF_EXIT_INTERRUPTED) track_end(&trk, LF_RUN_KILLED, NULL, step);
  if (exit_code == LF_EXIT_FAIL) track_end(&trk, LF_RUN_FAILED, NULL, step);
  if (exit_code == LF_EXIT_OK) {
    double ess = NAN, loss = NAN;
    rc = ess_samples > 0 ? final_ess(&fl, seed, ess_samples, &ess, &loss) : LF_OK;
    if (rc) {
      exit_code = cli_fail(CMD, rc);
      track_end(&trk, LF_RUN_FAILED, NULL, step);
    } else {
      /* "ess" (from fresh samples) is what `latflow runs models` lists */
      if (ess_samples > 0) {
        track_metric(&trk, "ess", steps, ess);
        track_metric(&trk, "loss_final", steps, loss);
      }
      track_metric(&trk, "steps_per_second", steps, done > 0 ? (double)done / secs : 0.0);
      track_produced(&trk, mpath, LF_ARTIFACT_MODEL);
      track_end(&trk, LF_RUN_FINISHED, NULL, steps);
      if (ess_samples > 0)
        printf("trained %ld steps in %.1f s (%.2f steps/s); ESS %.4f (%ld fresh samples), loss "
               "%.4f; model %s\n",
               done, secs, done > 0 ? (double)done / secs : 0.0, ess, ess_samples, loss, mpath);
      else
        printf("trained %ld steps in %.1f s (%.2f steps/s); final ESS not measured "
               "(--ess-samples 0); model %s\n",
               done, secs, done > 0 ? (double)done / secs : 0.0, mpath);
      if (json) {
        cJSON *j = cJSON_CreateObject();
        if (ess_samples > 0) {
          cJSON_AddNumberToObject(j, "ess", ess);
          cJSON_AddNumberToObject(j, "loss", loss);
        } else {
          cJSON_AddNullToObject(j, "ess");
          cJSON_AddNullToObject(j, "loss");
        }
        cJSON_AddNumberToObject(j, "ess_train", navg ? ess_avg / (double)navg : 0.0);
        cJSON_AddNumberToObject(j, "loss_train", navg ? loss_avg / (double)navg : 0.0);
        cJSON_AddNumberToObject(j, "steps", (double)steps);
        cJSON_AddNumberToObject(j, "steps_run", (double)done);
        cJSON_AddNumberToObject(j, "seconds", secs);
        cJSON_AddNumberToObject(j, "cpu_seconds", lf_cpu_time() - cpu0);
        cJSON_AddNumberToObject(j, "steps_per_second", done > 0 ? (double)done / secs : 0.0);
        cJSON_AddNumberToObject(j, "batch", batch);
        cJSON_AddNumberToObject(j, "ranks", lf_par_size());
        cJSON_AddStringToObject(j, "gradient", topts.path ? "path" : "reparam");
        cJSON_AddStringToObject(j, "preset", preset);
        cJSON_AddStringToObject(j, "model", mpath);
        cJSON_AddStringToObject(j, "metrics", path);
        cli_json_print(j);
        cJSON_Delete(j);
      }
    }
  }
  app_flow_free(&fl);
  lf_nn_adam_clear(&opt);
  return exit_code;
}

int cmd_train(int argc, char **argv) { return train_main(argc, argv); }
