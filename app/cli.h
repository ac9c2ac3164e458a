/*
 * app/cli.h -- shared machinery of the `latflow` subcommands: option tables, INI input
 * files, exit codes, JSON summaries, signals. Only app/ prints; the library never does.
 *
 * A subcommand declares a table of options and calls cli_parse:
 *
 *     double beta = 2.0; int json = 0;
 *     const cli_opt opts[] = {
 *       {"beta", CLI_DOUBLE, &beta, "B", "inverse coupling (> 0)"},
 *       {"json", CLI_FLAG, &json, NULL, "print a one-line JSON summary last"},
 *       {0}};
 *     int rc = cli_parse(&spec, opts, argc, argv, NULL);
 *     if (rc != CLI_OK) return rc == CLI_HELP ? 0 : LF_EXIT_USAGE;
 *
 * `--input FILE` (INI) is accepted by every command: keys are option names (any section,
 * or a section named after the command); flags on the command line override the file.
 */
#ifndef LATFLOW_APP_CLI_H
#define LATFLOW_APP_CLI_H

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdint.h>

enum { LF_EXIT_OK = 0, LF_EXIT_FAIL = 1, LF_EXIT_USAGE = 2, LF_EXIT_INTERRUPTED = 3 };

typedef enum { CLI_STR, CLI_INT, CLI_LONG, CLI_U64, CLI_DOUBLE, CLI_FLAG } cli_kind;

typedef struct {
  const char *name; /* long option without "--"; NULL ends the table */
  cli_kind kind;
  void *dst;        /* char const** / int* / long* / uint64_t* / double* / int* */
  const char *meta; /* placeholder in --help, e.g. "N" */
  const char *help;
} cli_opt;

typedef struct {
  const char *cmd;      /* "hmc" */
  const char *synopsis; /* "latflow hmc [options]" */
  const char *about;    /* one paragraph for --help */
  int max_positional;   /* 0: none allowed; -1: any number */
} cli_spec;

enum { CLI_OK = 0, CLI_HELP = 1, CLI_ERR = 2 };

/* Parse; on CLI_ERR a message naming the command, the option and what to do has been
 * printed to stderr. Positional arguments (when allowed) are returned in pos/npos
 * (pointers into argv). `seen`, if not NULL, receives one flag per table entry: 1 if
 * given on the command line or input file. */
int cli_parse(const cli_spec *spec, const cli_opt *opts, int argc, char **argv, int *npos,
              char ***pos, int *seen);
/* cli_parse for commands that take exactly one positional argument (e.g. a run id):
 * *arg receives it; a missing or extra argument is a usage error naming `what`, with `hint`. */
int cli_parse_one(const cli_spec *spec, const cli_opt *opts, int argc, char **argv,
                  const char *what, const char *hint, const char **arg);
/* Print "latflow <cmd>: <message>" to stderr (with a hint line if hint != NULL). Under
 * MPI only rank 0 prints (also for cli_fail, --help and cli_json_print); other ranks keep
 * the message as lf_last_error() for a collective agreement (app/chain.c). */
void cli_error(const char *cmd, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Print the library's last error for a failed call and return LF_EXIT_FAIL. */
int cli_fail(const char *cmd, int status);

/* MPI: collective over all ranks (a no-op with one): the largest exit code any rank
 * reached, so that every rank leaves together (a usage error or failure seen by one rank
 * only, e.g. a file it cannot read, stops all; its message is printed by that rank, and
 * rank 0 adds where it came from). */
int cli_agree_exit(const char *cmd, int code);
/* MPI: 1 on every rank if any rank received a stop signal (collective). */
int cli_stop_agreed(void);

/* JSON: print the object on one line to stdout (the last line of the command's output). */
void cli_json_print(cJSON *obj);
/* {"mean": m, "err": e} (+ "tau_int": t if t >= 0). */
cJSON *cli_json_estimate(double mean, double err, double tau_int);

/* Signals: SIGTERM/SIGUSR1/SIGINT set the flag; commands checkpoint and exit with
 * LF_EXIT_INTERRUPTED when it is set. */
void cli_signals_install(void);
extern volatile sig_atomic_t cli_stop_signal;

/* Subcommands. */
int cmd_hmc(int argc, char **argv);
int cmd_heatbath(int argc, char **argv);
int cmd_measure(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_report(int argc, char **argv);

#endif
