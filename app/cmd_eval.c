/*
 * app/cmd_eval.c -- `latflow eval --model FILE CONFIG... [--json]`: for each stored
 * configuration (ILDG/LIME) of the model's group and lattice (2D U(1) or SU(N)), the flow
 * density log q(U) (inverse pass, docs/flows.md, docs/sunflow.md), the action
 * S = -(beta/N) sum_P Re tr U_P and the log weight log w = -S - log q, in the order given. JSON: {"logq": [...], "action": [...], "logw": [...], "files": [...]}.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>

#include "cli.h"
#include "flowmodel.h"
#include "latflow/io.h"

#define CMD "eval"

int cmd_eval(int argc, char **argv) {
  const char *model = NULL;
  int json = 0, npos = 0;
  char **pos = NULL;
  const cli_opt opts[] = {
      {"model", CLI_STR, &model, "FILE", "model file written by 'latflow train'"},
      {"json", CLI_FLAG, &json, NULL, "print a one-line JSON summary last"},
      {0}};
  const cli_spec spec = {CMD, "latflow eval --model FILE CONFIG... [--json]",
                         "log q, action and log weight (log w = -S - log q) of stored "
                         "configurations under a trained flow (U(1) or SU(N)). "
                         "S = -(beta/N) sum_P Re tr U_P.",
                         -1};
  int pr = cli_parse(&spec, opts, argc, argv, &npos, &pos, NULL);
  if (pr != CLI_OK) return pr == CLI_HELP ? LF_EXIT_OK : LF_EXIT_USAGE;
  if (!model || npos < 1) {
    cli_error(CMD, "usage: latflow eval --model DIR/model.safetensors cfg1.lime [cfg2.lime ...]",
              "%s", !model ? "no model given" : "no configuration files given");
    return LF_EXIT_USAGE;
  }
  app_flow fl;
  int rc = app_flow_load(&fl, model, NULL, NULL, NULL);
  if (rc) return cli_fail(CMD, rc);
  double *th = lf_alloc(app_flow_doubles(&fl) * sizeof(double));
  if (!th) rc = LF_ENOMEM;
  if (!rc) rc = app_flow_workspace(&fl, 1);
  cJSON *jl = cJSON_CreateArray(), *ja = cJSON_CreateArray(), *jw = cJSON_CreateArray(),
        *jf = cJSON_CreateArray();
  int failed = 0;
  if (!rc) printf("%-40s %16s %16s %16s\n", "# file", "log q", "S", "log w");
  for (int i = 0; !rc && i < npos; i++) {
    lf_lattice lat;
    lf_gauge *f = NULL;
    int r = lf_ildg_read(pos[i], &lat, &f, NULL, 0);
    double lq = 0, S = 0;
    if (!r) {
      double pl, Q;
      r = app_flow_from_gauge(&fl, f, th);
      if (!r) r = app_flow_logq(&fl, th, &lq);
      if (!r) app_flow_measure(&fl, th, &S, &pl, &Q);
      lf_gauge_free(f);
      lf_lattice_clear(&lat);
    }
    if (r) {
      cli_error(CMD, NULL, "%s: %s", pos[i], lf_last_error());
      failed++;
      cJSON_AddItemToArray(jl, cJSON_CreateNull());
      cJSON_AddItemToArray(ja, cJSON_CreateNull());
      cJSON_AddItemToArray(jw, cJSON_CreateNull());
    } else {
      printf("%-40s %16.8f %16.8f %16.8f\n", pos[i], lq, S, -S - lq);
      cJSON_AddItemToArray(jl, cJSON_CreateNumber(lq));
      cJSON_AddItemToArray(ja, cJSON_CreateNumber(S));
      cJSON_AddItemToArray(jw, cJSON_CreateNumber(-S - lq));
    }
    cJSON_AddItemToArray(jf, cJSON_CreateString(pos[i]));
  }
  if (!rc && json) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "logq", jl);
    cJSON_AddItemToObject(j, "action", ja);
    cJSON_AddItemToObject(j, "logw", jw);
    cJSON_AddItemToObject(j, "files", jf);
    cJSON_AddNumberToObject(j, "failed", failed);
    cJSON_AddStringToObject(j, "model", model);
    cli_json_print(j);
    cJSON_Delete(j);
  } else {
    cJSON_Delete(jl), cJSON_Delete(ja), cJSON_Delete(jw), cJSON_Delete(jf);
  }
  app_flow_free(&fl);
  lf_free(th);
  if (rc) return cli_fail(CMD, rc);
  return failed ? LF_EXIT_FAIL : LF_EXIT_OK;
}
