/* tests/io/milc.c -- a configuration written by the MILC code reads with a valid SciDAC
 * checksum and the plaquette other readers report (/work/shared/data/README.md); the same
 * through `latflow measure --json`. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "latflow/io.h"
#include "latflow/observe.h"
#include "lf_test.h"

/* Reference (tmLQCD reading the file): Re tr U_P / 3 over all 6V plaquettes. */
#define MILC_PLAQ 0.594850158947
/* The reference has 12 digits; the stored (unreunitarised) data reproduce all of them. */
#define TOL_REF 2e-12
/* Reunitarising 32-bit links moves them by O(float eps) = 6e-8: allow 1e-6. */
#define TOL_FLOAT 1e-6

int main(void) {
  char path[1024];
  snprintf(path, sizeof path, "%s/data/milc-lat.sample.l4444.ildg", LF_SHARED_DIR);
  lf_lattice lat;
  lf_gauge *f = NULL;
  lf_ildg_info info;
  int rc = lf_ildg_read(path, &lat, &f, &info, 0);
  if (rc) printf("read failed: %s\n", lf_last_error());
  LF_TEST_TRUE("MILC file reads", rc == LF_OK);
  if (rc) return lf_test_done();
  LF_TEST_TRUE("group SU(3), 4D", info.group == LF_SU3 && info.nd == 4 && lat.nd == 4);
  LF_TEST_TRUE("lattice 4x4x4x4", info.L[0] == 4 && info.L[1] == 4 && info.L[2] == 4 &&
                                      info.L[3] == 4 && lat.vol == 256);
  LF_TEST_TRUE("precision 32", info.precision == 32);
  LF_TEST_TRUE("checksum ok", info.checksum == LF_ILDG_CHECKSUM_OK);
  printf("     suma %08x sumb %08x (file %08x %08x)\n", info.suma, info.sumb, info.file_suma,
         info.file_sumb);
  LF_TEST_TRUE("suma = 37affb9c (computed)", info.suma == 0x37affb9cu);
  LF_TEST_TRUE("sumb = 2fc07bbf (computed)", info.sumb == 0x2fc07bbfu);
  LF_TEST_TRUE("file sums read back", info.file_suma == 0x37affb9cu && info.file_sumb == 0x2fc07bbfu);
  LF_TEST_TRUE("LFN read", !strcmp(info.lfn, "lfn://USQCD/MILC/test/lat.sample.l4444"));
  LF_TEST_REL("plaquette of the stored data vs tmLQCD", info.plaquette, MILC_PLAQ, TOL_REF);
  LF_TEST_TRUE("32-bit data reunitarised", info.reunitarized == 1);
  LF_TEST_REL("plaquette after reunitarisation", info.plaquette_field, MILC_PLAQ, TOL_FLOAT);
  LF_TEST_ABS("field plaquette = info.plaquette_field", lf_observe_plaquette(f),
              info.plaquette_field, 1e-15);
  printf("     max defect as stored %.3g, after reunitarisation %.3g\n", info.max_defect,
         lf_gauge_max_defect(f));
  LF_TEST_TRUE("defect at float level (< 1e-5)", info.max_defect < 1e-5 && info.max_defect > 0);
  LF_TEST_TRUE("reunitarised to double precision (< 1e-13)", lf_gauge_max_defect(f) < 1e-13);
  LF_TEST_TRUE("LIME structure: 8 records, 2 messages", info.nrecords == 8 && info.nmessages == 2);
  /* MILC's own log: spatial and temporal Re tr sums 1.794675 and 1.774426 (= 3 * P). */
  double pl[6];
  lf_observe_plaquette_planes(f, pl);
  double ps = (pl[0] + pl[1] + pl[3]) / 3, pt = (pl[2] + pl[4] + pl[5]) / 3;
  LF_TEST_ABS("MILC spatial Re tr (3 P_s)", 3 * ps, 1.794675, 1e-6);
  LF_TEST_ABS("MILC temporal Re tr (3 P_t)", 3 * pt, 1.774426, 1e-6);
  lf_gauge_free(f);
  lf_lattice_clear(&lat);

  /* Without reunitarisation the field is bit-for-bit the stored floats. */
  rc = lf_ildg_read(path, &lat, &f, &info, LF_ILDG_NO_REUNITARIZE);
  LF_TEST_TRUE("read with LF_ILDG_NO_REUNITARIZE", rc == LF_OK && info.reunitarized == 0);
  if (!rc) {
    LF_TEST_REL("field plaquette = stored plaquette", lf_observe_plaquette(f), MILC_PLAQ, TOL_REF);
    lf_gauge_free(f);
    lf_lattice_clear(&lat);
  }

  /* Writing the MILC field back at 32 bits reproduces MILC's binary data byte for byte
   * and its checksum: same site order, link order, matrix order, byte order, CRC. */
  rc = lf_ildg_read(path, &lat, &f, &info, LF_ILDG_NO_REUNITARIZE);
  if (!rc) {
    char out[] = "/tmp/lf_io_milc_XXXXXX";
    int fd = mkstemp(out);
    if (fd >= 0) close(fd);
    rc = lf_ildg_write(out, f, 32, NULL);
    LF_TEST_TRUE("rewrite at 32 bits", rc == LF_OK);
    lf_lime_reader *a, *b;
    if (!rc && lf_lime_open(&a, path) == LF_OK) {
      if (lf_lime_open(&b, out) == LF_OK) {
        char *da, *db;
        size_t na, nb;
        int ia = lf_lime_find(a, "ildg-binary-data", 0), ib = lf_lime_find(b, "ildg-binary-data", 0);
        if (!lf_lime_read_all(a, ia, &da, &na) && !lf_lime_read_all(b, ib, &db, &nb)) {
          LF_TEST_TRUE("binary data identical to MILC's (73728 bytes)",
                       na == 73728 && na == nb && !memcmp(da, db, na));
          lf_free(da);
          lf_free(db);
        }
        lf_lime_close(b);
      }
      lf_lime_close(a);
      lf_ildg_info again;
      lf_lattice l2;
      lf_gauge *g;
      rc = lf_ildg_read(out, &l2, &g, &again, LF_ILDG_NO_REUNITARIZE);
      LF_TEST_TRUE("rewritten file has MILC's checksum",
                   rc == LF_OK && again.file_suma == 0x37affb9cu && again.file_sumb == 0x2fc07bbfu);
      if (!rc) lf_gauge_free(g), lf_lattice_clear(&l2);
    }
    unlink(out);
    lf_gauge_free(f);
    lf_lattice_clear(&lat);
  }

  /* The command line. */
  const char *bin = getenv("LATFLOW_BIN");
  LF_TEST_TRUE("LATFLOW_BIN set", bin != NULL);
  if (!bin) return lf_test_done();
  char cmd[2400], line[8192], last[8192] = "";
  snprintf(cmd, sizeof cmd, "'%s' measure --json '%s'", bin, path);
  FILE *p = popen(cmd, "r");
  while (p && fgets(line, sizeof line, p)) {
    fputs("     | ", stdout);
    fputs(line, stdout);
    if (line[0] != '\n') memcpy(last, line, sizeof line);
  }
  int status = p ? pclose(p) : -1;
  LF_TEST_TRUE("latflow measure exits 0", status == 0);
  cJSON *j = cJSON_Parse(last);
  LF_TEST_TRUE("last line is JSON", j != NULL);
  if (j) {
    cJSON *pq = cJSON_GetObjectItem(j, "plaquette");
    LF_TEST_TRUE("JSON has numeric plaquette", cJSON_IsNumber(pq));
    if (cJSON_IsNumber(pq)) LF_TEST_REL("JSON plaquette", pq->valuedouble, MILC_PLAQ, TOL_REF);
    cJSON *ck = cJSON_GetObjectItem(j, "checksum");
    LF_TEST_TRUE("JSON checksum \"ok\"", cJSON_IsString(ck) && !strcmp(ck->valuestring, "ok"));
    cJSON *poly = cJSON_GetObjectItem(j, "polyakov");
    LF_TEST_TRUE("JSON has polyakov {re, im}", cJSON_IsNumber(cJSON_GetObjectItem(poly, "re")) &&
                                                   cJSON_IsNumber(cJSON_GetObjectItem(poly, "im")));
    LF_TEST_TRUE("JSON has topological_charge (4D clover)",
                 cJSON_IsNumber(cJSON_GetObjectItem(j, "topological_charge")));
    cJSON *g = cJSON_GetObjectItem(j, "group");
    LF_TEST_TRUE("JSON group \"su3\"", cJSON_IsString(g) && !strcmp(g->valuestring, "su3"));
    cJSON_Delete(j);
  }
  /* Two files: "configs" lists both. */
  snprintf(cmd, sizeof cmd, "'%s' measure --json '%s' '%s' 2>&1", bin, path, path);
  p = popen(cmd, "r");
  last[0] = '\0';
  while (p && fgets(line, sizeof line, p))
    if (line[0] != '\n') memcpy(last, line, sizeof line);
  status = p ? pclose(p) : -1;
  j = cJSON_Parse(last);
  cJSON *cf = j ? cJSON_GetObjectItem(j, "configs") : NULL;
  LF_TEST_TRUE("two files: exit 0 and configs[2]",
               status == 0 && cJSON_IsArray(cf) && cJSON_GetArraySize(cf) == 2);
  if (cJSON_IsArray(cf) && cJSON_GetArraySize(cf) == 2) {
    cJSON *pq = cJSON_GetObjectItem(cJSON_GetArrayItem(cf, 1), "plaquette");
    LF_TEST_TRUE("configs[1].plaquette", cJSON_IsNumber(pq) && fabs(pq->valuedouble - MILC_PLAQ) < 1e-11);
  }
  cJSON_Delete(j);
  return lf_test_done();
}
