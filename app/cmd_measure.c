/*
 * app/cmd_measure.c -- `latflow measure FILE... [--json] [--no-checksum]`: read stored
 * configurations (ILDG/LIME, docs/formats.md) and print group, lattice, precision,
 * checksum status, unitarity defect, plaquette, Polyakov loop and topological charge.
 *
 * With --json the last line of stdout is one JSON object: for one file the measurement
 * object itself ({"file", "group", "plaquette", ...}), for several files
 * {"configs": [one object per file], "failed": k}. A file that cannot be read is reported
 * on stderr (naming the file and what is wrong), appears in JSON as {"file", "error"},
 * and makes the exit status 1; the other files are still measured.
 */
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "latflow/io.h"
#include "latflow/observe.h"

typedef struct {
  int json, no_checksum, allow_nonunitary, no_reunitarize;
} measure_opts;

static cJSON *measure_one(const char *path, const measure_opts *o, int *failed) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "file", path);
  unsigned flags = (o->no_checksum ? LF_ILDG_NO_CHECKSUM : 0u) |
                   (o->allow_nonunitary ? LF_ILDG_ALLOW_NONUNITARY : 0u) |
                   (o->no_reunitarize ? LF_ILDG_NO_REUNITARIZE : 0u);
  lf_lattice lat;
  lf_gauge *f = NULL;
  lf_ildg_info in;
  int rc = lf_ildg_read(path, &lat, &f, &in, flags);
  if (rc) {
    const char *msg = *lf_last_error() ? lf_last_error() : lf_strerror(rc);
    cli_error("measure", rc == LF_ECHECKSUM ? "use --no-checksum to measure it anyway" : NULL,
              "%s", msg);
    cJSON_AddStringToObject(j, "error", msg);
    cJSON_AddStringToObject(j, "status", lf_strerror(rc));
    *failed += 1;
    return j;
  }
  char geom[64], sa[16], sb[16];
  lf_lattice_format(&lat, geom, sizeof geom);
  snprintf(sa, sizeof sa, "%08x", (unsigned)in.suma);
  snprintf(sb, sizeof sb, "%08x", (unsigned)in.sumb);
  const char *ck = lf_ildg_checksum_name(in.checksum);

  printf("%s\n", path);
  printf("  group %s, lattice %s, precision %d bits, LFN '%s'\n", lf_group_name(in.group), geom,
         in.precision, in.lfn);
  if (in.checksum == LF_ILDG_CHECKSUM_BAD)
    printf("  checksum MISMATCH (file %08x %08x, data %s %s; accepted with --no-checksum)\n",
           (unsigned)in.file_suma, (unsigned)in.file_sumb, sa, sb);
  else
    printf("  checksum %s (suma %s sumb %s)\n", ck, sa, sb);
  printf("  unitarity defect %.3g as stored%s\n", in.max_defect,
         in.reunitarized ? " (32-bit links reunitarised after reading)" : "");
  printf("  plaquette %.12f  (Re tr U_P / N, data as stored)\n", in.plaquette);

  cJSON_AddStringToObject(j, "group", lf_group_name(in.group));
  cJSON_AddStringToObject(j, "lattice", geom);
  cJSON_AddNumberToObject(j, "nd", in.nd);
  cJSON_AddNumberToObject(j, "precision", in.precision);
  cJSON_AddStringToObject(j, "checksum", ck);
  cJSON_AddStringToObject(j, "suma", sa);
  cJSON_AddStringToObject(j, "sumb", sb);
  cJSON_AddStringToObject(j, "lfn", in.lfn);
  cJSON_AddNumberToObject(j, "max_defect", in.max_defect);
  cJSON_AddBoolToObject(j, "reunitarized", in.reunitarized);
  cJSON_AddNumberToObject(j, "plaquette", in.plaquette);

  /* Polyakov loop along the last direction, on the field as returned. */
  lf_cplx P;
  if (lf_observe_polyakov(f, &P) == LF_OK) {
    printf("  Polyakov loop %.12f %+.12f i  (|P| %.6g; tr / N along direction %d)\n", creal(P),
           cimag(P), cabs(P), in.nd - 1);
    cJSON *pj = cJSON_AddObjectToObject(j, "polyakov");
    cJSON_AddNumberToObject(pj, "re", creal(P));
    cJSON_AddNumberToObject(pj, "im", cimag(P));
    cJSON_AddNumberToObject(pj, "abs", cabs(P));
  } else {
    printf("  Polyakov loop not available: %s\n", lf_last_error());
  }
  /* Topological charge: 2D U(1) geometric (an integer); 4D clover without smoothing
   * (not an integer on rough fields: flow first for a physical charge). */
  double Q;
  const char *method = NULL;
  if (in.nd == 2 && in.group == LF_U1 && lf_observe_topo_u1(f, &Q) == LF_OK) method = "geometric";
  else if (in.nd == 4 && lf_observe_topo_clover(f, &Q) == LF_OK) method = "clover, unsmoothed";
  if (method) {
    printf("  topological charge %.6f  (%s)\n", Q, method);
    cJSON_AddNumberToObject(j, "topological_charge", Q);
    cJSON_AddStringToObject(j, "topological_charge_method", method);
  }
  lf_gauge_free(f);
  lf_lattice_clear(&lat);
  return j;
}

int cmd_measure(int argc, char **argv) {
  measure_opts o = {0};
  const cli_opt opts[] = {
      {"json", CLI_FLAG, &o.json, NULL, "print a one-line JSON summary last"},
      {"no-checksum", CLI_FLAG, &o.no_checksum, NULL,
       "report a SciDAC checksum mismatch instead of refusing the file"},
      {"allow-nonunitary", CLI_FLAG, &o.allow_nonunitary, NULL,
       "accept links far from the group (defect > 1e-3)"},
      {"no-reunitarize", CLI_FLAG, &o.no_reunitarize, NULL,
       "keep 32-bit links exactly as stored"},
      {0}};
  const cli_spec spec = {
      "measure", "latflow measure FILE... [options]",
      "Read gauge configurations (ILDG/LIME with SciDAC checksum; U(1)/SU(2)/SU(3) in 2-4 "
      "dimensions, docs/formats.md) and print group, lattice, precision, checksum status, "
      "unitarity defect, plaquette (Re tr U_P / N), Polyakov loop and topological charge.",
      -1};
  int npos = 0;
  char **pos = NULL;
  int rc = cli_parse(&spec, opts, argc, argv, &npos, &pos, NULL);
  if (rc != CLI_OK) return rc == CLI_HELP ? LF_EXIT_OK : LF_EXIT_USAGE;
  if (npos == 0) {
    cli_error("measure", "usage: latflow measure FILE... [--json]", "no configuration file given");
    return LF_EXIT_USAGE;
  }
  int failed = 0;
  cJSON *list = cJSON_CreateArray();
  for (int i = 0; i < npos; i++) cJSON_AddItemToArray(list, measure_one(pos[i], &o, &failed));
  if (o.json) {
    if (npos == 1) {
      cJSON *one = cJSON_DetachItemFromArray(list, 0);
      cli_json_print(one);
      cJSON_Delete(one);
    } else {
      cJSON *top = cJSON_CreateObject();
      cJSON_AddItemToObject(top, "configs", list);
      cJSON_AddNumberToObject(top, "failed", failed);
      list = NULL;
      cli_json_print(top);
      cJSON_Delete(top);
    }
  }
  cJSON_Delete(list);
  return failed ? LF_EXIT_FAIL : LF_EXIT_OK;
}
