/*
 * app/cli.c -- option parsing (long options, --opt=value, INI input files), error
 * messages, JSON printing and signal flags for the latflow subcommands.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "latflow/par.h"

#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latflow/core.h"
#include "latflow/par.h"

volatile sig_atomic_t cli_stop_signal;

static void on_signal(int sig) { cli_stop_signal = sig; }

void cli_signals_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
}

/* The last message given to cli_error / cli_fail (rank 0 shows another rank's with
 * cli_agree_exit). Under MPI only rank 0 prints; the other ranks also record the message as
 * the library's last error, so that a collective agreement (lf_par_agree) can hand it to
 * rank 0. */
static char last_msg[1024];

void cli_error(const char *cmd, const char *hint, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(last_msg, sizeof last_msg, "%s%s%s", msg, hint ? "\n  " : "", hint ? hint : "");
  if (!lf_par_root()) {
    lf_error_set(LF_EINVAL, __FILE__, __LINE__, "%s%s%s", msg, hint ? "; " : "", hint ? hint : "");
    return;
  }
  fprintf(stderr, "latflow %s: %s\n", cmd, msg);
  if (hint) fprintf(stderr, "  %s\n", hint);
}

int cli_agree_exit(const char *cmd, int code) {
  if (lf_par_size() == 1) return code;
  double c[2] = {(double)code, code ? (double)lf_par_rank() : 1e9};
  lf_par_allreduce_max(c, 1);
  lf_par_allreduce_min(c + 1, 1);
  if (c[0] != 0) {
    /* the lowest failing rank's message reaches rank 0 */
    char msg[sizeof last_msg];
    memcpy(msg, last_msg, sizeof msg);
    lf_par_bcast(msg, sizeof msg, (int)c[1]);
    msg[sizeof msg - 1] = 0;
    if (lf_par_root() && c[1] != 0)
      fprintf(stderr, "latflow %s: rank %.0f: %s\n", cmd, c[1],
              msg[0] ? msg : "stopped (no message)");
  }
  return (int)c[0];
}

int cli_stop_agreed(void) {
  double s = cli_stop_signal ? (double)cli_stop_signal : 0.0;
  lf_par_allreduce_max(&s, 1);
  if (s != 0 && !cli_stop_signal) cli_stop_signal = (int)s;
  return s != 0;
}

int cli_fail(const char *cmd, int status) {
  const char *msg = lf_last_error();
  snprintf(last_msg, sizeof last_msg, "%s", *msg ? msg : lf_strerror(status));
  if (lf_par_root()) fprintf(stderr, "latflow %s: %s\n", cmd, *msg ? msg : lf_strerror(status));
  return LF_EXIT_FAIL;
}

static void print_help(const cli_spec *spec, const cli_opt *opts) {
  if (!lf_par_root()) return;
  printf("usage: %s\n\n%s\n\noptions:\n", spec->synopsis, spec->about);
  for (const cli_opt *o = opts; o->name; o++) {
    char left[64];
    snprintf(left, sizeof left, "--%s%s%s", o->name, o->meta ? " " : "", o->meta ? o->meta : "");
    printf("  %-26s %s\n", left, o->help);
  }
  printf("  %-26s %s\n", "--input FILE", "read options from an INI file (flags override it)");
  printf("  %-26s %s\n", "--help", "show this help");
}

static const cli_opt *find(const cli_opt *opts, const char *name, size_t len, int *idx) {
  for (int i = 0; opts[i].name; i++)
    if (strlen(opts[i].name) == len && !strncmp(opts[i].name, name, len)) {
      *idx = i;
      return &opts[i];
    }
  return NULL;
}

static int set_value(const cli_spec *spec, const cli_opt *o, const char *v, const char *where) {
  char *end;
  errno = 0;
  switch (o->kind) {
  case CLI_STR: *(const char **)o->dst = v; return CLI_OK;
  case CLI_FLAG: {
    if (!v || !strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes")) *(int *)o->dst = 1;
    else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no")) *(int *)o->dst = 0;
    else {
      cli_error(spec->cmd, NULL, "%s--%s expects true or false, got '%s'", where, o->name, v);
      return CLI_ERR;
    }
    return CLI_OK;
  }
  case CLI_INT:
  case CLI_LONG: {
    long x = strtol(v, &end, 10);
    if (end == v || *end || errno || (o->kind == CLI_INT && (x > 2147483647L || x < -2147483647L))) {
      cli_error(spec->cmd, "give a whole number, e.g. --%s 10", "%s--%s expects an integer, got '%s'",
                where, o->name, v);
      return CLI_ERR;
    }
    if (o->kind == CLI_INT) *(int *)o->dst = (int)x;
    else *(long *)o->dst = x;
    return CLI_OK;
  }
  case CLI_U64: {
    if (*v == '-') goto bad_u64;
    unsigned long long x = strtoull(v, &end, 0);
    if (end == v || *end || errno) goto bad_u64;
    *(uint64_t *)o->dst = (uint64_t)x;
    return CLI_OK;
  bad_u64:
    cli_error(spec->cmd, NULL, "%s--%s expects a non-negative integer, got '%s'", where, o->name, v);
    return CLI_ERR;
  }
  case CLI_DOUBLE: {
    double x = strtod(v, &end);
    if (end == v || *end || errno || !isfinite(x)) {
      cli_error(spec->cmd, NULL, "%s--%s expects a finite number, got '%s'", where, o->name, v);
      return CLI_ERR;
    }
    *(double *)o->dst = x;
    return CLI_OK;
  }
  }
  return CLI_ERR;
}

typedef struct {
  const cli_spec *spec;
  const cli_opt *opts;
  int *seen;
  int rc;
  const char *file;
  char **store; /* strdup'ed values kept alive for CLI_STR options */
  int nstore;
} ini_ctx;

static int cli_ini_line(void *user, const char *section, const char *name, const char *value) {
  ini_ctx *c = user;
  if (c->rc != CLI_OK) return 0;
  if (section && *section && strcmp(section, c->spec->cmd) && strcmp(section, "latflow")) return 1;
  int idx;
  const cli_opt *o = find(c->opts, name, strlen(name), &idx);
  if (!o) {
    cli_error(c->spec->cmd, "see --help for the accepted keys", "%s: unknown key '%s'", c->file, name);
    c->rc = CLI_ERR;
    return 0;
  }
  char *v = strdup(value);
  if (!v || c->nstore >= 256) return 0;
  c->store[c->nstore++] = v;
  char where[300];
  snprintf(where, sizeof where, "%s: ", c->file);
  if (set_value(c->spec, o, v, where) != CLI_OK) {
    c->rc = CLI_ERR;
    return 0;
  }
  if (c->seen) c->seen[idx] = 1;
  return 1;
}

int cli_parse(const cli_spec *spec, const cli_opt *opts, int argc, char **argv, int *npos,
              char ***pos, int *seen) {
  static char *store[256]; /* INI values live until exit */
  int nopt = 0;
  while (opts[nopt].name) nopt++;
  if (seen) memset(seen, 0, sizeof(int) * (size_t)nopt);
  if (npos) *npos = 0;
  /* First pass: --help and --input. */
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      print_help(spec, opts);
      return CLI_HELP;
    }
  }
  for (int i = 1; i < argc; i++) {
    const char *file = NULL;
    if (!strcmp(argv[i], "--input")) {
      if (i + 1 >= argc) {
        cli_error(spec->cmd, NULL, "--input needs a file name");
        return CLI_ERR;
      }
      file = argv[i + 1];
    } else if (!strncmp(argv[i], "--input=", 8)) {
      file = argv[i] + 8;
    }
    if (!file) continue;
    ini_ctx c = {spec, opts, seen, CLI_OK, file, store, 0};
    int r = ini_parse(file, cli_ini_line, &c);
    if (c.rc != CLI_OK) return CLI_ERR;
    if (r < 0) {
      cli_error(spec->cmd, "check the path given to --input", "cannot open input file '%s'", file);
      return CLI_ERR;
    }
    if (r > 0) {
      cli_error(spec->cmd, "lines look like 'beta = 2.0' (section [hmc] optional)",
                "%s: syntax error on line %d", file, r);
      return CLI_ERR;
    }
  }
  /* Second pass: options override the input file. */
  for (int i = 1; i < argc; i++) {
    char *a = argv[i];
    if (!strcmp(a, "--input")) {
      i++;
      continue;
    }
    if (!strncmp(a, "--input=", 8)) continue;
    if (a[0] == '-' && a[1] == '-' && a[2]) {
      const char *name = a + 2;
      const char *eq = strchr(name, '=');
      size_t len = eq ? (size_t)(eq - name) : strlen(name);
      int idx;
      const cli_opt *o = find(opts, name, len, &idx);
      if (!o) {
        cli_error(spec->cmd, "run with --help to see the options", "unknown option '%.*s'",
                  (int)len + 2, a);
        return CLI_ERR;
      }
      const char *v = NULL;
      if (eq) v = eq + 1;
      else if (o->kind != CLI_FLAG) {
        if (i + 1 >= argc) {
          cli_error(spec->cmd, NULL, "option --%s needs a value (%s)", o->name,
                    o->meta ? o->meta : "value");
          return CLI_ERR;
        }
        v = argv[++i];
      }
      if (set_value(spec, o, v, "") != CLI_OK) return CLI_ERR;
      if (seen) seen[idx] = 1;
    } else if (a[0] == '-' && a[1] && strcmp(a, "-")) {
      cli_error(spec->cmd, "options are long (--name value); run with --help", "unknown option '%s'", a);
      return CLI_ERR;
    } else {
      if (spec->max_positional == 0 || (spec->max_positional > 0 && npos && *npos >= spec->max_positional) || !npos) {
        cli_error(spec->cmd, "run with --help to see the usage", "unexpected argument '%s'", a);
        return CLI_ERR;
      }
      static char *posbuf[4096];
      if (*npos >= 4096) {
        cli_error(spec->cmd, NULL, "too many arguments (at most 4096)");
        return CLI_ERR;
      }
      posbuf[(*npos)++] = a;
      *pos = posbuf;
    }
  }
  return CLI_OK;
}

int cli_parse_one(const cli_spec *spec, const cli_opt *opts, int argc, char **argv,
                  const char *what, const char *hint, const char **arg) {
  int npos = 0;
  char **pos = NULL;
  int rc = cli_parse(spec, opts, argc, argv, &npos, &pos, NULL);
  if (rc != CLI_OK) return rc;
  if (npos != 1) {
    cli_error(spec->cmd, hint, "give one %s", what);
    return CLI_ERR;
  }
  *arg = pos[0];
  return CLI_OK;
}

void cli_json_print(cJSON *obj) {
  if (!lf_par_root()) return;
  char *s = cJSON_PrintUnformatted(obj);
  if (s) {
    printf("%s\n", s);
    fflush(stdout);
    cJSON_free(s);
  }
}

cJSON *cli_json_estimate(double mean, double err, double tau_int) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "mean", mean);
  cJSON_AddNumberToObject(o, "err", err);
  if (tau_int >= 0) cJSON_AddNumberToObject(o, "tau_int", tau_int);
  return o;
}
