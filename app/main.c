/*
 * app/main.c -- the `latflow` command: dispatches to the subcommands in app/cmd_*.c.
 *
 * Exit codes: 0 success, 1 failure (message on stderr), 2 usage error,
 * 3 interrupted by SIGTERM/SIGUSR1/SIGINT after writing a checkpoint.
 * Under an MPI launcher (mpirun, srun) MPI is started here and finished after the command;
 * every command runs on all ranks (hmc and heatbath domain-decomposed, docs/parallel.md;
 * train data-parallel, sample with proposals on all ranks, docs/flows.md); only rank 0
 * prints (stdout and stderr of the others go to /dev/null; errors are agreed on with
 * lf_par_agree / cli_agree_exit so rank 0 reports them) and writes shared files.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "rundir.h"
#include "latflow/core.h"
#include "latflow/par.h"

/* Weak defaults so the command builds while a subcommand is still being written. */
#define LF_STUB(name)                                                                    \
  __attribute__((weak)) int cmd_##name(int argc, char **argv) {                          \
    (void)argc, (void)argv;                                                              \
    cli_error(#name, NULL, "this subcommand is not available in this build");            \
    return LF_EXIT_FAIL;                                                                 \
  }
LF_STUB(hmc)
LF_STUB(heatbath)
LF_STUB(measure)
LF_STUB(train)
LF_STUB(sample)
LF_STUB(eval)
LF_STUB(runs)
LF_STUB(report)

static const struct {
  const char *name;
  int (*fn)(int, char **);
  const char *summary;
} commands[] = {
    {"hmc", cmd_hmc, "hybrid Monte Carlo (leapfrog / Omelyan) for U(1), SU(2), SU(3)"},
    {"heatbath", cmd_heatbath, "heatbath + overrelaxation (Creutz/KP, Cabibbo-Marinari)"},
    {"measure", cmd_measure, "measure plaquette, Polyakov loop, Q of stored configurations"},
    {"train", cmd_train, "train a gauge-equivariant normalizing flow"},
    {"sample", cmd_sample, "sample with a trained flow (independence Metropolis)"},
    {"eval", cmd_eval, "log q, action and log weight of given configurations"},
    {"runs", cmd_runs, "list, show, compare and export runs in the registry"},
    {"report", cmd_report, "write a self-contained HTML report of a run"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out) {
  fprintf(out,
          "latflow %s -- normalizing flows and Monte Carlo for lattice gauge theory\n\n"
          "usage: latflow <command> [options]   (latflow <command> --help for details)\n\n"
          "commands:\n",
          lf_version());
  for (size_t i = 0; i < NCOMMANDS; i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\nConventions: plaquette = Re tr U_P / N; S = -(beta/N) sum_P Re tr U_P "
               "(docs/conventions.md).\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return LF_EXIT_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return LF_EXIT_OK;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("latflow %s\n", lf_version());
    return LF_EXIT_OK;
  }
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (!strcmp(argv[1], commands[i].name)) {
      if (lf_par_init(&argc, &argv)) {
        fprintf(stderr, "latflow %s: %s\n", argv[1], lf_last_error());
        return LF_EXIT_FAIL;
      }
      if (!lf_par_root()) {
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) {
          /* keep printing rather than fail */
        }
      }
      int rc = commands[i].fn(argc - 1, argv + 1);
      rundir_free_restored();
      lf_par_finalize();
      return rc;
    }
  fprintf(stderr, "latflow: unknown command '%s'\n  run 'latflow --help' for the list\n", argv[1]);
  return LF_EXIT_USAGE;
}
