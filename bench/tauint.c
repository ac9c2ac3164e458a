/*
 * bench/tauint.c -- Gamma-method analysis (Wolff, hep-lat/0306017; stats module) of one
 * column of a CSV file: mean, error, tau_int and its error. Used by bench/freezing.sh for
 * tau_int(Q) of HMC and flow chains.
 *
 *   tauint FILE COLUMN [SKIP_ROWS]    -> one JSON line {"n","mean","err","tau_int","tau_err"}
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latflow/stats.h"

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: tauint FILE COLUMN [SKIP_ROWS]\n");
    return 2;
  }
  FILE *f = fopen(argv[1], "r");
  if (!f) {
    fprintf(stderr, "tauint: cannot read %s\n", argv[1]);
    return 1;
  }
  long skip = argc > 3 ? atol(argv[3]) : 0, n = 0, cap = 1024, row = 0;
  double *x = malloc((size_t)cap * sizeof *x);
  char line[4096];
  int col = -1;
  if (fgets(line, sizeof line, f)) {
    int c = 0;
    for (char *t = strtok(line, ",\n"); t; t = strtok(NULL, ",\n"), c++)
      if (!strcmp(t, argv[2])) col = c;
  }
  if (col < 0) {
    fprintf(stderr, "tauint: no column '%s' in %s\n", argv[2], argv[1]);
    return 1;
  }
  while (fgets(line, sizeof line, f)) {
    if (row++ < skip) continue;
    char *p = line;
    for (int c = 0; c < col && p; c++) p = strchr(p, ','), p = p ? p + 1 : NULL;
    if (!p) continue;
    if (n == cap) x = realloc(x, (size_t)(cap *= 2) * sizeof *x);
    x[n++] = strtod(p, NULL);
  }
  fclose(f);
  lf_stats_gamma_res r;
  if (lf_stats_gamma(x, n, NULL, &r, NULL, 0)) {
    fprintf(stderr, "tauint: %s\n", lf_last_error());
    return 1;
  }
  printf("{\"n\":%ld,\"mean\":%.10g,\"err\":%.6g,\"tau_int\":%.6g,\"tau_err\":%.6g}\n", n, r.value,
         r.err, r.tau_int, r.tau_int_err);
  free(x);
  return 0;
}
