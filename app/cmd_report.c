/*
 * app/cmd_report.c -- `latflow report ID --out report.html`: a self-contained HTML
 * report of one run (lf_registry_report; docs/registry.md, "Report").
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "latflow/core.h"
#include "latflow/registry.h"

int cmd_report(int argc, char **argv) {
  const char *registry = NULL, *out = NULL, *hist = NULL, *title = NULL;
  int bins = 40, json = 0;
  const cli_opt opts[] = {
      {"registry", CLI_STR, &registry, "URL", "registry file or postgresql:// URL"},
      {"out", CLI_STR, &out, "FILE", "HTML file to write (default report-<id>.html)"},
      {"histogram", CLI_STR, &hist, "KEY", "also draw a histogram of metric KEY (e.g. log_weight)"},
      {"bins", CLI_INT, &bins, "N", "histogram bins (default 40)"},
      {"title", CLI_STR, &title, "T", "report title (default: the run name)"},
      {"json", CLI_FLAG, &json, NULL, "print one JSON object {\"report\": FILE, \"run\": ID}"},
      {0}};
  const cli_spec spec = {"report", "latflow report ID [--out report.html] [options]",
                         "Write one self-contained HTML file (inline SVG plots, no network, no "
                         "scripts) for a run: every metric against step, autocorrelation of "
                         "plaquette and topological charge histories, an optional histogram, "
                         "and tables of parameters, tags, final values and artifacts. ID may be "
                         "a unique uuid prefix.",
                         1};
  const char *run_id = NULL;
  int prc = cli_parse_one(&spec, opts, argc, argv, "run id", "see latflow runs list for the ids", &run_id);
  if (prc != CLI_OK) return prc == CLI_HELP ? LF_EXIT_OK : LF_EXIT_USAGE;
  if (bins < 1 || bins > 10000) {
    cli_error(spec.cmd, NULL, "--bins must be between 1 and 10000, got %d", bins);
    return LF_EXIT_USAGE;
  }
  lf_registry *reg;
  int rc = lf_registry_open(&reg, registry);
  if (rc != LF_OK) return cli_fail(spec.cmd, rc);
  char id[37];
  rc = lf_registry_resolve(reg, run_id, id);
  char def[64];
  if (rc == LF_OK && !out) {
    snprintf(def, sizeof def, "report-%.8s.html", id);
    out = def;
  }
  lf_report_opts ro = {hist, bins, title};
  if (rc == LF_OK) rc = lf_registry_report(reg, id, out, &ro);
  lf_registry_close(reg);
  if (rc != LF_OK) return cli_fail(spec.cmd, rc);
  if (json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "report", out);
    cJSON_AddStringToObject(o, "run", id);
    cli_json_print(o);
    cJSON_Delete(o);
  } else {
    printf("wrote %s\n", out);
  }
  return LF_EXIT_OK;
}
