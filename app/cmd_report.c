/*
 * app/cmd_report.c -- `latflow report ID --out report.html`: a self-contained HTML
 * report of one run (lf_registry_report; docs/registry.md, "Report"); with several ids,
 * one comparison of the runs (lf_registry_compare, "Comparing runs").
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "latflow/core.h"
#include "latflow/registry.h"

int cmd_report(int argc, char **argv) {
  const char *registry = NULL, *out = NULL, *hist = NULL, *title = NULL;
  int bins = 40, json = 0, smooth = 1;
  const cli_opt opts[] = {
      {"registry", CLI_STR, &registry, "URL", "registry file or postgresql:// URL"},
      {"out", CLI_STR, &out, "FILE", "HTML file to write (default report-<id>.html)"},
      {"histogram", CLI_STR, &hist, "KEY", "also draw a histogram of metric KEY (e.g. log_weight)"},
      {"bins", CLI_INT, &bins, "N", "histogram bins (default 40)"},
      {"title", CLI_STR, &title, "T", "report title (default: the run name)"},
      {"smooth", CLI_INT, &smooth, "N", "comparison: trailing mean over N points (default 1: raw)"},
      {"json", CLI_FLAG, &json, NULL, "print one JSON object {\"report\": FILE, \"run\": ID}"},
      {0}};
  const cli_spec spec = {"report", "latflow report ID [ID...] [--out report.html] [options]",
                         "Write one self-contained HTML file (inline SVG plots, no network, no "
                         "scripts) for a run: every metric against step, autocorrelation of "
                         "plaquette and topological charge histories, an optional histogram, "
                         "and tables of parameters, tags, final values and artifacts. With 2 to "
                         "8 ids: a comparison of the runs, every shared metric of all of them "
                         "in one plot against step and one against wall-clock time (e.g. two "
                         "flow architectures trained for the same time). An ID may be a unique "
                         "uuid prefix.",
                         -1};
  int npos = 0;
  char **pos = NULL;
  int prc = cli_parse(&spec, opts, argc, argv, &npos, &pos, NULL);
  if (prc != CLI_OK) return prc == CLI_HELP ? LF_EXIT_OK : LF_EXIT_USAGE;
  if (npos < 1 || npos > LF_COMPARE_MAX) {
    cli_error(spec.cmd, "see latflow runs list for the ids", "give 1 run id (a report) or 2 to %d "
              "(a comparison); got %d", LF_COMPARE_MAX, npos);
    return LF_EXIT_USAGE;
  }
  if (bins < 1 || bins > 10000 || smooth < 1 || smooth > 100000) {
    cli_error(spec.cmd, NULL, "--bins must be between 1 and 10000 and --smooth between 1 and "
              "100000, got %d and %d", bins, smooth);
    return LF_EXIT_USAGE;
  }
  lf_registry *reg;
  int rc = lf_registry_open(&reg, registry);
  if (rc != LF_OK) return cli_fail(spec.cmd, rc);
  char ids[LF_COMPARE_MAX][37];
  const char *idp[LF_COMPARE_MAX];
  for (int i = 0; i < npos && rc == LF_OK; i++) {
    rc = lf_registry_resolve(reg, pos[i], ids[i]);
    idp[i] = ids[i];
  }
  const char *id = ids[0];
  char def[64];
  if (rc == LF_OK && !out) {
    snprintf(def, sizeof def, npos > 1 ? "compare-%.8s.html" : "report-%.8s.html", id);
    out = def;
  }
  lf_report_opts ro = {hist, bins, title};
  lf_compare_opts co = {smooth, title};
  if (rc == LF_OK)
    rc = npos > 1 ? lf_registry_compare(reg, idp, npos, out, &co) : lf_registry_report(reg, id, out, &ro);
  lf_registry_close(reg);
  if (rc != LF_OK) return cli_fail(spec.cmd, rc);
  if (json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "report", out);
    cJSON_AddStringToObject(o, "run", id);
    if (npos > 1) {
      cJSON *a = cJSON_AddArrayToObject(o, "runs");
      for (int i = 0; i < npos; i++) cJSON_AddItemToArray(a, cJSON_CreateString(ids[i]));
    }
    cli_json_print(o);
    cJSON_Delete(o);
  } else {
    printf("wrote %s\n", out);
  }
  return LF_EXIT_OK;
}
