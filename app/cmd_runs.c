/*
 * app/cmd_runs.c -- `latflow runs list|show|compare|models|export|gc`: read the run
 * registry (include/latflow/registry.h, docs/registry.md).
 *
 * Every subcommand accepts --registry URL (else $LATFLOW_REGISTRY, else
 * ~/.latflow/registry.db) and run ids as unique uuid prefixes. Locations are printed
 * only in redacted form (password -> ***). With --json the last line of stdout is one
 * JSON object.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "latflow/core.h"
#include "latflow/registry.h"

static const char *shown_status(const lf_run_info *r) {
  return r->stale ? "KILLED" : lf_run_status_name(r->status);
}

static void fmt_time(double t, char *out, size_t cap) {
  if (t <= 0) {
    snprintf(out, cap, "-");
    return;
  }
  time_t s = (time_t)t;
  struct tm tm;
  gmtime_r(&s, &tm);
  strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm);
}

static double duration(const lf_run_info *r) {
  double end = r->end_time > 0 ? r->end_time : r->heartbeat;
  return end > r->start_time ? end - r->start_time : 0.0;
}

static cJSON *json_number_or_null(double v) {
  return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static cJSON *info_json(const lf_run_info *r) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "id", r->id);
  cJSON_AddStringToObject(o, "name", r->name);
  cJSON_AddStringToObject(o, "command", r->command);
  cJSON_AddStringToObject(o, "experiment", r->experiment);
  cJSON_AddStringToObject(o, "status", shown_status(r));
  cJSON_AddStringToObject(o, "stored_status", lf_run_status_name(r->status));
  cJSON_AddBoolToObject(o, "stale", r->stale);
  cJSON_AddNumberToObject(o, "start_time", r->start_time);
  cJSON_AddItemToObject(o, "end_time", r->end_time > 0 ? cJSON_CreateNumber(r->end_time)
                                                       : cJSON_CreateNull());
  cJSON_AddNumberToObject(o, "heartbeat", r->heartbeat);
  cJSON_AddNumberToObject(o, "seconds", duration(r));
  cJSON_AddStringToObject(o, "host", r->host);
  cJSON_AddNumberToObject(o, "pid", (double)r->pid);
  cJSON_AddStringToObject(o, "latflow_version", r->version);
  cJSON_AddStringToObject(o, "git_commit", r->git);
  return o;
}

static cJSON *record_json(const lf_run_record *rec, int with_history) {
  cJSON *o = info_json(&rec->info);
  cJSON *p = cJSON_AddObjectToObject(o, "params");
  for (size_t i = 0; i < rec->nparams; i++)
    cJSON_AddStringToObject(p, rec->params[i].key, rec->params[i].value);
  cJSON *t = cJSON_AddObjectToObject(o, "tags");
  for (size_t i = 0; i < rec->ntags; i++) cJSON_AddStringToObject(t, rec->tags[i].key, rec->tags[i].value);
  cJSON *fin = cJSON_AddObjectToObject(o, "final");
  cJSON *hist = with_history ? cJSON_AddObjectToObject(o, "metrics") : NULL;
  for (size_t i = 0; i < rec->nmetrics;) {
    size_t j = i;
    cJSON *arr = hist ? cJSON_CreateArray() : NULL;
    while (j < rec->nmetrics && !strcmp(rec->metrics[j].key, rec->metrics[i].key)) {
      if (arr) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddNumberToObject(m, "step", (double)rec->metrics[j].step);
        cJSON_AddNumberToObject(m, "timestamp", rec->metrics[j].time);
        cJSON_AddItemToObject(m, "value", json_number_or_null(rec->metrics[j].value));
        cJSON_AddItemToArray(arr, m);
      }
      j++;
    }
    cJSON_AddItemToObject(fin, rec->metrics[i].key, json_number_or_null(rec->metrics[j - 1].value));
    if (arr) cJSON_AddItemToObject(hist, rec->metrics[i].key, arr);
    i = j;
  }
  cJSON *arts = cJSON_AddArrayToObject(o, "artifacts");
  for (size_t i = 0; i < rec->nartifacts; i++) {
    const lf_artifact *a = &rec->artifacts[i];
    cJSON *x = cJSON_CreateObject();
    cJSON_AddNumberToObject(x, "id", (double)a->id);
    cJSON_AddStringToObject(x, "lineage", a->direction);
    cJSON_AddStringToObject(x, "kind", a->kind);
    cJSON_AddStringToObject(x, "path", a->path);
    cJSON_AddNumberToObject(x, "size", (double)a->size);
    cJSON_AddStringToObject(x, "sha256", a->sha256);
    cJSON_AddStringToObject(x, "producer", a->producer);
    cJSON_AddItemToArray(arts, x);
  }
  return o;
}

static int open_reg(const char *cmd, const char *url, lf_registry **reg) {
  int rc = lf_registry_open(reg, url);
  if (rc != LF_OK) return cli_fail(cmd, rc);
  return LF_EXIT_OK;
}

/* ---------------------------------------------------------------- list */
static int runs_list(int argc, char **argv) {
  const char *registry = NULL, *status = NULL, *command = NULL, *experiment = NULL;
  long limit = 50;
  double stale = LF_REGISTRY_STALE_SECONDS;
  int json = 0;
  const cli_opt opts[] = {
      {"registry", CLI_STR, &registry, "URL", "registry file or postgresql:// URL"},
      {"status", CLI_STR, &status, "S", "RUNNING, FINISHED, FAILED or KILLED (includes stale)"},
      {"command", CLI_STR, &command, "C", "only runs of this command (hmc, train, ...)"},
      {"experiment", CLI_STR, &experiment, "E", "only runs of this experiment"},
      {"limit", CLI_LONG, &limit, "N", "at most N runs, newest first (0: all; default 50)"},
      {"stale-after", CLI_DOUBLE, &stale, "SEC", "RUNNING without heartbeat for SEC s is shown KILLED"},
      {"json", CLI_FLAG, &json, NULL, "print one JSON object {\"runs\": [...]}"},
      {0}};
  const cli_spec spec = {"runs list", "latflow runs list [options]",
                         "List runs in the registry, newest first. A RUNNING run whose heartbeat "
                         "is older than --stale-after, or whose process on this host is gone, "
                         "is shown as KILLED (stale).",
                         0};
  int prc = cli_parse(&spec, opts, argc, argv, NULL, NULL, NULL);
  if (prc != CLI_OK) return prc == CLI_HELP ? LF_EXIT_OK : LF_EXIT_USAGE;
  lf_run_status st;
  if (status && lf_run_status_parse(status, &st) != LF_OK) {
    cli_error(spec.cmd, "use RUNNING, FINISHED, FAILED or KILLED", "unknown --status '%s'", status);
    return LF_EXIT_USAGE;
  }
  lf_registry *reg;
  int rc = open_reg(spec.cmd, registry, &reg);
  if (rc) return rc;
  lf_run_filter f = {status, command, experiment, limit, stale};
  lf_run_info *runs;
  size_t n;
  int lrc = lf_registry_list(reg, &f, &runs, &n);
  if (lrc != LF_OK) {
    rc = cli_fail(spec.cmd, lrc);
    lf_registry_close(reg);
    return rc;
  }
  if (json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "registry", lf_registry_location(reg));
    cJSON *arr = cJSON_AddArrayToObject(o, "runs");
    for (size_t i = 0; i < n; i++) cJSON_AddItemToArray(arr, info_json(&runs[i]));
    cli_json_print(o);
    cJSON_Delete(o);
  } else {
    printf("%-8s  %-8s  %-10s  %-19s  %9s  %s\n", "ID", "STATUS", "COMMAND", "START (UTC)",
           "SECONDS", "NAME");
    for (size_t i = 0; i < n; i++) {
      char t0[32];
      fmt_time(runs[i].start_time, t0, sizeof t0);
      printf("%.8s  %-8s  %-10s  %-19s  %9.1f  %s%s\n", runs[i].id, shown_status(&runs[i]),
             runs[i].command, t0, duration(&runs[i]), runs[i].name,
             runs[i].stale ? "  (stale)" : "");
    }
    if (n == 0) printf("(no runs in %s)\n", lf_registry_location(reg));
  }
  lf_run_info_free(runs, n);
  lf_registry_close(reg);
  return LF_EXIT_OK;
}

/* ---------------------------------------------------------------- show */
static int runs_show(int argc, char **argv) {
  const char *registry = NULL;
  double stale = LF_REGISTRY_STALE_SECONDS;
  int json = 0, history = 0;
  const cli_opt opts[] = {
      {"registry", CLI_STR, &registry, "URL", "registry file or postgresql:// URL"},
      {"stale-after", CLI_DOUBLE, &stale, "SEC", "heartbeat age after which RUNNING is shown KILLED"},
      {"history", CLI_FLAG, &history, NULL, "with --json: include every metric value"},
      {"json", CLI_FLAG, &json, NULL, "print one JSON object"},
      {0}};
  const cli_spec spec = {"runs show", "latflow runs show ID [options]",
                         "Show one run: settings, parameters, tags, final metric values and "
                         "artifacts. ID may be a unique prefix of the run's uuid.",
                         1};
  const char *run_id = NULL;
  int prc = cli_parse_one(&spec, opts, argc, argv, "run id", "see latflow runs list for the ids", &run_id);
  if (prc != CLI_OK) return prc == CLI_HELP ? LF_EXIT_OK : LF_EXIT_USAGE;
  lf_registry *reg;
  int rc = open_reg(spec.cmd, registry, &reg);
  if (rc) return rc;
  lf_run_record rec;
  int lrc = lf_registry_load(reg, run_id, stale, &rec);
  if (lrc != LF_OK) {
    rc = cli_fail(spec.cmd, lrc);
    lf_registry_close(reg);
    return rc;
  }
  if (json) {
    cJSON *o = record_json(&rec, history);
    cli_json_print(o);
    cJSON_Delete(o);
  } else {
    const lf_run_info *r = &rec.info;
    char t0[32], t1[32];
    fmt_time(r->start_time, t0, sizeof t0);
    fmt_time(r->end_time, t1, sizeof t1);
    printf("run         %s\nname        %s\ncommand     %s\nexperiment  %s\nstatus      %s%s\n"
           "start       %s UTC\nend         %s UTC\nseconds     %.1f\nhost        %s (pid %ld)\n"
           "latflow     %s\ngit commit  %s\n",
           r->id, r->name, r->command, r->experiment, shown_status(r), r->stale ? " (stale)" : "",
           t0, t1, duration(r), r->host, r->pid, r->version, r->git);
    printf("\nparameters:\n");
    for (size_t i = 0; i < rec.nparams; i++) printf("  %-24s %s\n", rec.params[i].key, rec.params[i].value);
    printf("\ntags:\n");
    for (size_t i = 0; i < rec.ntags; i++) printf("  %-24s %s\n", rec.tags[i].key, rec.tags[i].value);
    printf("\nmetrics (last value, number of values):\n");
    for (size_t i = 0; i < rec.nmetrics;) {
      size_t j = i;
      while (j < rec.nmetrics && !strcmp(rec.metrics[j].key, rec.metrics[i].key)) j++;
      printf("  %-24s %.10g (step %ld, %zu values)\n", rec.metrics[i].key, rec.metrics[j - 1].value,
             rec.metrics[j - 1].step, j - i);
      i = j;
    }
    printf("\nartifacts:\n");
    for (size_t i = 0; i < rec.nartifacts; i++)
      printf("  %-8s %-8s %12lld  %.16s  %s\n", rec.artifacts[i].direction, rec.artifacts[i].kind,
             (long long)rec.artifacts[i].size, rec.artifacts[i].sha256, rec.artifacts[i].path);
  }
  lf_run_record_free(&rec);
  lf_registry_close(reg);
  return LF_EXIT_OK;
}

/* ---------------------------------------------------------------- compare */
static int key_seen(char **keys, size_t n, const char *k) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(keys[i], k)) return 1;
  return 0;
}

static int runs_compare(int argc, char **argv) {
  const char *registry = NULL;
  int json = 0;
  const cli_opt opts[] = {
      {"registry", CLI_STR, &registry, "URL", "registry file or postgresql:// URL"},
      {"json", CLI_FLAG, &json, NULL, "print one JSON object {\"runs\": [...]}"},
      {0}};
  const cli_spec spec = {"runs compare", "latflow runs compare ID ID... [options]",
                         "Compare runs side by side: every parameter and the final value of "
                         "every metric (\"-\" where a run lacks it).",
                         -1};
  int npos = 0;
  char **pos = NULL;
  int prc = cli_parse(&spec, opts, argc, argv, &npos, &pos, NULL);
  if (prc != CLI_OK) return prc == CLI_HELP ? LF_EXIT_OK : LF_EXIT_USAGE;
  if (npos < 2) {
    cli_error(spec.cmd, "e.g. latflow runs compare 3f2a 9b1c", "give at least two run ids");
    return LF_EXIT_USAGE;
  }
  lf_registry *reg;
  int rc = open_reg(spec.cmd, registry, &reg);
  if (rc) return rc;
  lf_run_record *recs = calloc((size_t)npos, sizeof *recs);
  int nrec = 0;
  for (; recs && nrec < npos; nrec++) {
    int lrc = lf_registry_load(reg, pos[nrec], 0, &recs[nrec]);
    if (lrc != LF_OK) {
      rc = cli_fail(spec.cmd, lrc);
      break;
    }
  }
  if (!recs) rc = cli_fail(spec.cmd, LF_ENOMEM);
  if (rc == LF_EXIT_OK && json) {
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "runs");
    for (int i = 0; i < nrec; i++) cJSON_AddItemToArray(arr, record_json(&recs[i], 0));
    cli_json_print(o);
    cJSON_Delete(o);
  } else if (rc == LF_EXIT_OK) {
    size_t cap = 0;
    for (int i = 0; i < nrec; i++) cap += recs[i].nparams + recs[i].nmetrics;
    char **keys = malloc((cap + 1) * sizeof *keys);
    size_t nk = 0;
    printf("%-24s", "");
    for (int i = 0; i < nrec; i++) printf("  %-16.8s", recs[i].info.id);
    printf("\n%-24s", "status");
    for (int i = 0; i < nrec; i++) printf("  %-16s", shown_status(&recs[i].info));
    printf("\n%-24s", "command");
    for (int i = 0; i < nrec; i++) printf("  %-16s", recs[i].info.command);
    printf("\n-- parameters\n");
    for (int i = 0; keys && i < nrec; i++)
      for (size_t p = 0; p < recs[i].nparams; p++) {
        const char *k = recs[i].params[p].key;
        if (key_seen(keys, nk, k)) continue;
        keys[nk++] = (char *)k;
        printf("%-24s", k);
        for (int j = 0; j < nrec; j++) {
          const char *v = lf_run_record_param(&recs[j], k);
          printf("  %-16s", v ? v : "-");
        }
        printf("\n");
      }
    nk = 0;
    printf("-- final metrics\n");
    for (int i = 0; keys && i < nrec; i++)
      for (size_t m = 0; m < recs[i].nmetrics; m++) {
        const char *k = recs[i].metrics[m].key;
        if (key_seen(keys, nk, k)) continue;
        keys[nk++] = (char *)k;
        printf("%-24s", k);
        for (int j = 0; j < nrec; j++) {
          double v = lf_run_record_final(&recs[j], k);
          if (isnan(v)) printf("  %-16s", "-");
          else printf("  %-16.10g", v);
        }
        printf("\n");
      }
    free(keys);
  }
  for (int i = 0; recs && i < nrec; i++) lf_run_record_free(&recs[i]);
  free(recs);
  lf_registry_close(reg);
  return rc;
}

/* ---------------------------------------------------------------- models */
static const char *first_param(const lf_run_record *r, const char *const *keys) {
  for (; *keys; keys++) {
    const char *v = lf_run_record_param(r, *keys);
    if (v) return v;
  }
  return NULL;
}

static double first_metric(const lf_run_record *r, const char *const *keys) {
  for (; *keys; keys++) {
    double v = lf_run_record_final(r, *keys);
    if (!isnan(v)) return v;
  }
  return (double)NAN;
}

static int runs_models(int argc, char **argv) {
  const char *registry = NULL;
  int json = 0;
  const cli_opt opts[] = {
      {"registry", CLI_STR, &registry, "URL", "registry file or postgresql:// URL"},
      {"json", CLI_FLAG, &json, NULL, "print one JSON object {\"models\": [...]}"},
      {0}};
  const cli_spec spec = {"runs models", "latflow runs models [options]",
                         "List model artifacts (newest first) with the producing run, its "
                         "theory and lattice parameters and its final ESS.",
                         0};
  int prc = cli_parse(&spec, opts, argc, argv, NULL, NULL, NULL);
  if (prc != CLI_OK) return prc == CLI_HELP ? LF_EXIT_OK : LF_EXIT_USAGE;
  lf_registry *reg;
  int rc = open_reg(spec.cmd, registry, &reg);
  if (rc) return rc;
  lf_artifact *arts;
  size_t n;
  int lrc = lf_registry_artifacts(reg, "model", &arts, &n);
  if (lrc != LF_OK) {
    rc = cli_fail(spec.cmd, lrc);
    lf_registry_close(reg);
    return rc;
  }
  static const char *const theory_keys[] = {"theory", "group", "gauge_group", NULL};
  static const char *const lattice_keys[] = {"lattice", "L", "extent", "shape", NULL};
  static const char *const ess_keys[] = {"ess", "ESS", "ess_fraction", NULL};
  cJSON *o = json ? cJSON_CreateObject() : NULL;
  cJSON *arr = o ? cJSON_AddArrayToObject(o, "models") : NULL;
  if (!json)
    printf("%-6s %-8s %-8s %-10s %-10s %10s %12s  %s\n", "ID", "RUN", "STATUS", "THEORY", "LATTICE",
           "ESS", "BYTES", "PATH");
  for (size_t i = 0; i < n; i++) {
    lf_run_record rec;
    int have = arts[i].producer[0] && lf_registry_load(reg, arts[i].producer, 0, &rec) == LF_OK;
    const char *theory = have ? first_param(&rec, theory_keys) : NULL;
    const char *lattice = have ? first_param(&rec, lattice_keys) : NULL;
    double ess = have ? first_metric(&rec, ess_keys) : (double)NAN;
    const char *status = have ? shown_status(&rec.info) : "-";
    if (json) {
      cJSON *m = cJSON_CreateObject();
      cJSON_AddNumberToObject(m, "id", (double)arts[i].id);
      cJSON_AddStringToObject(m, "path", arts[i].path);
      cJSON_AddNumberToObject(m, "size", (double)arts[i].size);
      cJSON_AddStringToObject(m, "sha256", arts[i].sha256);
      cJSON_AddStringToObject(m, "run", arts[i].producer);
      cJSON_AddStringToObject(m, "status", status);
      cJSON_AddItemToObject(m, "theory", theory ? cJSON_CreateString(theory) : cJSON_CreateNull());
      cJSON_AddItemToObject(m, "lattice", lattice ? cJSON_CreateString(lattice) : cJSON_CreateNull());
      cJSON_AddItemToObject(m, "ess", json_number_or_null(ess));
      cJSON_AddItemToArray(arr, m);
    } else {
      char es[32];
      if (isnan(ess)) snprintf(es, sizeof es, "-");
      else snprintf(es, sizeof es, "%.4g", ess);
      printf("%-6lld %-8.8s %-8s %-10s %-10s %10s %12lld  %s\n", (long long)arts[i].id,
             arts[i].producer[0] ? arts[i].producer : "-", status, theory ? theory : "-",
             lattice ? lattice : "-", es, (long long)arts[i].size, arts[i].path);
    }
    if (have) lf_run_record_free(&rec);
    lf_error_clear();
  }
  if (json) {
    cli_json_print(o);
    cJSON_Delete(o);
  } else if (n == 0) {
    printf("(no model artifacts in %s)\n", lf_registry_location(reg));
  }
  lf_artifact_free(arts, n);
  lf_registry_close(reg);
  return LF_EXIT_OK;
}

/* ---------------------------------------------------------------- export */
static void csv_field(FILE *f, const char *s) {
  if (!strpbrk(s, ",\"\n\r")) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

static int runs_export(int argc, char **argv) {
  const char *registry = NULL, *format = "csv", *out = NULL;
  const cli_opt opts[] = {
      {"registry", CLI_STR, &registry, "URL", "registry file or postgresql:// URL"},
      {"format", CLI_STR, &format, "F", "csv (metrics: run_id,key,step,timestamp,value) or json "
                                        "(everything)"},
      {"out", CLI_STR, &out, "FILE", "write to FILE (atomically) instead of standard output"},
      {0}};
  const cli_spec spec = {"runs export", "latflow runs export ID [--format csv|json] [options]",
                         "Export one run: its metric history as CSV, or the whole record "
                         "(params, tags, metrics, artifacts) as JSON.",
                         1};
  const char *run_id = NULL;
  int prc = cli_parse_one(&spec, opts, argc, argv, "run id", "see latflow runs list for the ids", &run_id);
  if (prc != CLI_OK) return prc == CLI_HELP ? LF_EXIT_OK : LF_EXIT_USAGE;
  if (strcmp(format, "csv") && strcmp(format, "json")) {
    cli_error(spec.cmd, "use --format csv or --format json", "unknown format '%s'", format);
    return LF_EXIT_USAGE;
  }
  lf_registry *reg;
  int rc = open_reg(spec.cmd, registry, &reg);
  if (rc) return rc;
  lf_run_record rec;
  int lrc = lf_registry_load(reg, run_id, 0, &rec);
  if (lrc != LF_OK) {
    rc = cli_fail(spec.cmd, lrc);
    lf_registry_close(reg);
    return rc;
  }
  char *buf = NULL;
  size_t len = 0;
  FILE *f = out ? open_memstream(&buf, &len) : stdout;
  if (!f) rc = cli_fail(spec.cmd, LF_ENOMEM);
  else if (!strcmp(format, "json")) {
    cJSON *o = record_json(&rec, 1);
    char *s = cJSON_PrintUnformatted(o);
    if (s) fprintf(f, "%s\n", s);
    cJSON_free(s);
    cJSON_Delete(o);
  } else {
    fprintf(f, "run_id,key,step,timestamp,value\n");
    for (size_t i = 0; i < rec.nmetrics; i++) {
      fprintf(f, "%s,", rec.info.id);
      csv_field(f, rec.metrics[i].key);
      fprintf(f, ",%ld,%.3f,", rec.metrics[i].step, rec.metrics[i].time);
      if (isnan(rec.metrics[i].value)) fprintf(f, "nan\n");
      else fprintf(f, "%.17g\n", rec.metrics[i].value);
    }
  }
  if (f && out) {
    fclose(f);
    int wrc = lf_write_file_atomic(out, buf, len);
    if (wrc != LF_OK) rc = cli_fail(spec.cmd, wrc);
    free(buf);
  }
  lf_run_record_free(&rec);
  lf_registry_close(reg);
  return rc;
}

/* ---------------------------------------------------------------- gc */
static int runs_gc(int argc, char **argv) {
  const char *registry = NULL;
  double stale = LF_REGISTRY_STALE_SECONDS;
  int json = 0;
  const cli_opt opts[] = {
      {"registry", CLI_STR, &registry, "URL", "registry file or postgresql:// URL"},
      {"stale-after", CLI_DOUBLE, &stale, "SEC", "heartbeat age that counts as killed (s)"},
      {"json", CLI_FLAG, &json, NULL, "print one JSON object {\"marked\": N}"},
      {0}};
  const cli_spec spec = {"runs gc", "latflow runs gc [options]",
                         "Mark RUNNING runs as KILLED when their heartbeat is older than "
                         "--stale-after seconds or their process on this host is gone "
                         "(e.g. after kill -9).",
                         0};
  int prc = cli_parse(&spec, opts, argc, argv, NULL, NULL, NULL);
  if (prc != CLI_OK) return prc == CLI_HELP ? LF_EXIT_OK : LF_EXIT_USAGE;
  lf_registry *reg;
  int rc = open_reg(spec.cmd, registry, &reg);
  if (rc) return rc;
  long marked = 0;
  int grc = lf_registry_gc(reg, stale, &marked);
  if (grc != LF_OK) rc = cli_fail(spec.cmd, grc);
  else if (json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "marked", (double)marked);
    cli_json_print(o);
    cJSON_Delete(o);
  } else {
    printf("marked %ld stale run%s as KILLED\n", marked, marked == 1 ? "" : "s");
  }
  lf_registry_close(reg);
  return rc;
}

int cmd_runs(int argc, char **argv) {
  static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *about;
  } subs[] = {
      {"list", runs_list, "list runs (--status, --command, --limit, --json)"},
      {"show", runs_show, "show one run: params, tags, final metrics, artifacts"},
      {"compare", runs_compare, "compare runs side by side"},
      {"models", runs_models, "list model artifacts with ESS, theory, lattice, size"},
      {"export", runs_export, "export a run as CSV (metrics) or JSON (everything)"},
      {"gc", runs_gc, "mark runs killed by kill -9 (stale heartbeat) as KILLED"},
  };
  const size_t nsubs = sizeof subs / sizeof subs[0];
  if (argc >= 2)
    for (size_t i = 0; i < nsubs; i++)
      if (!strcmp(argv[1], subs[i].name)) return subs[i].fn(argc - 1, argv + 1);
  int help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
  FILE *out = help ? stdout : stderr;
  if (argc >= 2 && !help) fprintf(stderr, "latflow runs: unknown subcommand '%s'\n", argv[1]);
  fprintf(out, "usage: latflow runs <subcommand> [options]   (--help after it for details)\n\n");
  for (size_t i = 0; i < nsubs; i++) fprintf(out, "  %-8s %s\n", subs[i].name, subs[i].about);
  fprintf(out, "\nThe registry: --registry PATH|postgresql://..., else $LATFLOW_REGISTRY, else "
               "~/.latflow/registry.db.\n");
  return help ? LF_EXIT_OK : LF_EXIT_USAGE;
}
