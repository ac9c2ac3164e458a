/* tests/io/measure.c -- `latflow measure` on files written by the library: the JSON
 * summary agrees with the library's observables (plaquette, Polyakov loop, 2D U(1)
 * geometric charge), bad files give exit 1 and a message naming them, --no-checksum
 * accepts a corrupted file and says so, usage errors give exit 2. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "latflow/io.h"
#include "latflow/observe.h"
#include "lf_test.h"

static char dir[] = "/tmp/lf_io_meas_XXXXXX";

/* Run a command; capture the last non-empty stdout line (and stderr into err). */
static int run(const char *args, char *last, size_t nlast, char *err, size_t nerr) {
  char cmd[2048], errf[600], line[8192];
  snprintf(errf, sizeof errf, "%s/stderr.txt", dir);
  snprintf(cmd, sizeof cmd, "'%s' measure %s 2>'%s'", getenv("LATFLOW_BIN"), args, errf);
  FILE *p = popen(cmd, "r");
  last[0] = '\0';
  while (p && fgets(line, sizeof line, p))
    if (line[0] != '\n') snprintf(last, nlast, "%s", line);
  int st = p ? pclose(p) : -1;
  FILE *e = fopen(errf, "r");
  size_t k = e ? fread(err, 1, nerr - 1, e) : 0;
  err[k] = '\0';
  if (e) fclose(e);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static double num(cJSON *j, const char *a, const char *b) {
  cJSON *x = cJSON_GetObjectItem(j, a);
  if (b && x) x = cJSON_GetObjectItem(x, b);
  return cJSON_IsNumber(x) ? x->valuedouble : (double)NAN;
}

int main(void) {
  if (!getenv("LATFLOW_BIN")) {
    printf("LATFLOW_BIN not set (run through ctest)\n");
    return 1;
  }
  if (!mkdtemp(dir)) return 1;
  char path[512], bad[512], args[2048], last[8192], err[4096];
  /* 2D U(1), 64 bit: a hot field has some integer charge. */
  lf_lattice lat;
  int L[2] = {8, 6};
  lf_lattice_init(&lat, 2, L);
  lf_gauge *f;
  lf_gauge_alloc(&f, &lat, LF_U1);
  lf_gauge_hot(f, 2385);
  snprintf(path, sizeof path, "%s/u1.lime", dir);
  LF_TEST_TRUE("write 2D U(1)", lf_ildg_write(path, f, 64, NULL) == LF_OK);
  double Q, plaq = lf_observe_plaquette(f);
  lf_cplx P;
  lf_observe_topo_u1(f, &Q);
  lf_observe_polyakov(f, &P);
  snprintf(args, sizeof args, "--json '%s'", path);
  int rc = run(args, last, sizeof last, err, sizeof err);
  LF_TEST_TRUE("exit 0", rc == 0);
  cJSON *j = cJSON_Parse(last);
  LF_TEST_TRUE("JSON last line", j != NULL);
  LF_TEST_ABS("plaquette = library", num(j, "plaquette", NULL), plaq, 1e-15);
  LF_TEST_ABS("Polyakov re = library", num(j, "polyakov", "re"), creal(P), 1e-15);
  LF_TEST_ABS("Polyakov im = library", num(j, "polyakov", "im"), cimag(P), 1e-15);
  LF_TEST_ABS("Q = library (geometric)", num(j, "topological_charge", NULL), Q, 1e-12);
  LF_TEST_ABS("Q is an integer", num(j, "topological_charge", NULL),
              round(num(j, "topological_charge", NULL)), 1e-9);
  LF_TEST_ABS("precision 64", num(j, "precision", NULL), 64, 0);
  cJSON_Delete(j);
  /* A corrupted copy: refused (exit 1, stderr names it), accepted with --no-checksum. */
  {
    FILE *in = fopen(path, "rb");
    unsigned char buf[1 << 16];
    size_t n = in ? fread(buf, 1, sizeof buf, in) : 0;
    if (in) fclose(in);
    /* flip a low mantissa bit of the last number of the binary data (before the
     * checksum record, i.e. 8 bytes before the header of the last record) */
    long o = 0, last_hdr = 0, bin = 0;
    while (o + 144 <= (long)n) {
      long len = 0;
      for (int i = 8; i < 16; i++) len = len << 8 | buf[o + i];
      if (!strcmp((char *)buf + o + 16, "ildg-binary-data")) bin = o + 144 + len;
      last_hdr = o;
      o += 144 + (len + 7) / 8 * 8;
    }
    (void)last_hdr;
    buf[bin - 1] ^= 1;
    snprintf(bad, sizeof bad, "%s/u1-flipped.lime", dir);
    FILE *out = fopen(bad, "wb");
    if (out) fwrite(buf, 1, n, out), fclose(out);
  }
  snprintf(args, sizeof args, "--json '%s'", bad);
  rc = run(args, last, sizeof last, err, sizeof err);
  printf("     stderr: %s", err);
  LF_TEST_TRUE("corrupted file: exit 1", rc == 1);
  LF_TEST_TRUE("stderr names the file and the checksum", strstr(err, bad) && strstr(err, "checksum"));
  j = cJSON_Parse(last);
  LF_TEST_TRUE("JSON has an error entry", j && cJSON_IsString(cJSON_GetObjectItem(j, "error")));
  cJSON_Delete(j);
  snprintf(args, sizeof args, "--json --no-checksum '%s'", bad);
  rc = run(args, last, sizeof last, err, sizeof err);
  j = cJSON_Parse(last);
  cJSON *ck = j ? cJSON_GetObjectItem(j, "checksum") : NULL;
  LF_TEST_TRUE("--no-checksum: exit 0, checksum \"mismatch\"",
               rc == 0 && cJSON_IsString(ck) && !strcmp(ck->valuestring, "mismatch"));
  cJSON_Delete(j);
  /* Several files, one bad: all measured, exit 1, configs lists both. */
  snprintf(args, sizeof args, "--json '%s' '%s'", path, bad);
  rc = run(args, last, sizeof last, err, sizeof err);
  j = cJSON_Parse(last);
  cJSON *cf = j ? cJSON_GetObjectItem(j, "configs") : NULL;
  LF_TEST_TRUE("good + bad: exit 1, configs[2], failed 1",
               rc == 1 && cJSON_GetArraySize(cf) == 2 && num(j, "failed", NULL) == 1);
  cJSON_Delete(j);
  /* Usage. */
  LF_TEST_TRUE("no file: exit 2", run("", last, sizeof last, err, sizeof err) == 2);
  LF_TEST_TRUE("unknown option: exit 2", run("--frobnicate x", last, sizeof last, err, sizeof err) == 2);
  LF_TEST_TRUE("--help: exit 0", run("--help", last, sizeof last, err, sizeof err) == 0);
  lf_gauge_free(f);
  lf_lattice_clear(&lat);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) return 1;
  return lf_test_done();
}
