/* tests/io/roundtrip.c -- write/read round trips for U(1), SU(2), SU(3) in 2, 3 and 4
 * dimensions at 32 and 64 bits (64: bitwise equal; 32: the stored floats exactly, and
 * within float rounding after reunitarisation); extra records; LFN; read_into; atomic
 * writes; failed allocations. The files are also walked by an independent LIME parser
 * written here (own header decoding, own big-endian decoding, own zlib checksum), which
 * checks that a 4D SU(3) file carries what another ILDG reader needs. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "latflow/io.h"
#include "latflow/observe.h"
#include "io_test.h"
#include "lf_test.h"

/* Float rounding (2^-24 relative) plus the reunitarisation step: both O(1e-7). */
#define TOL_FLOAT 1e-6

/* ---------------------------------------------------------------- independent walker */
typedef struct {
  char type[129];
  long off, len;
  int mb, me;
} rec_t;

static unsigned char *slurp(const char *path, long *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  *n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc((size_t)*n + 1);
  if (b && fread(b, 1, (size_t)*n, f) != (size_t)*n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  return b;
}

static uint64_t be(const unsigned char *p, int k) {
  uint64_t v = 0;
  for (int i = 0; i < k; i++) v = v << 8 | p[i];
  return v;
}

/* Returns the number of records, -1 on a structural error (printed). */
static int walk(const unsigned char *b, long n, rec_t *rec, int max) {
  long o = 0;
  int k = 0, open_msg = 0;
  while (o < n && k < max) {
    if (n - o < 144 || be(b + o, 4) != 0x456789ABu || be(b + o + 4, 2) != 1) return -1;
    unsigned flags = (unsigned)be(b + o + 6, 2);
    rec[k].mb = (flags >> 15) & 1;
    rec[k].me = (flags >> 14) & 1;
    if (rec[k].mb == open_msg) return -1; /* MB exactly when no message is open */
    open_msg = !rec[k].me;
    rec[k].len = (long)be(b + o + 8, 8);
    memcpy(rec[k].type, b + o + 16, 128);
    rec[k].type[128] = 0;
    rec[k].off = o + 144;
    long pad = (8 - rec[k].len % 8) % 8;
    if (rec[k].off + rec[k].len + pad > n) return -1;
    for (long i = 0; i < pad; i++)
      if (b[rec[k].off + rec[k].len + i]) return -1; /* zero padding */
    o = rec[k].off + rec[k].len + pad;
    k++;
  }
  return open_msg ? -1 : k;
}

static int find(const rec_t *r, int n, const char *type) {
  for (int i = 0; i < n; i++)
    if (!strcmp(r[i].type, type)) return i;
  return -1;
}

static uint32_t rotl(uint32_t x, unsigned k) { return k ? x << k | x >> (32 - k) : x; }

/* Independent check of a written file against the field. */
static void check_file(const char *path, const lf_gauge *f, int prec, const char *lfn) {
  long n;
  unsigned char *b = slurp(path, &n);
  rec_t r[32];
  int nr = b ? walk(b, n, r, 32) : -1;
  char what[160];
  snprintf(what, sizeof what, "  independent walk: valid LIME (%d records)", nr);
  LF_TEST_TRUE(what, nr > 0);
  if (nr <= 0) {
    free(b);
    return;
  }
  int fi = find(r, nr, "ildg-format"), li = find(r, nr, "ildg-data-lfn");
  int bi = find(r, nr, "ildg-binary-data"), ci = find(r, nr, "scidac-checksum");
  LF_TEST_TRUE("  records ildg-format, ildg-data-lfn, ildg-binary-data, scidac-checksum",
               fi >= 0 && li >= 0 && bi >= 0 && ci >= 0);
  LF_TEST_TRUE("  private SciDAC records present", find(r, nr, "scidac-private-file-xml") == 0 &&
                                                       find(r, nr, "scidac-private-record-xml") >= 0);
  if (fi < 0 || li < 0 || bi < 0 || ci < 0) {
    free(b);
    return;
  }
  LF_TEST_TRUE("  order format < lfn < binary < checksum, checksum ends the message",
               fi < li && li < bi && bi < ci && r[ci].me);
  char xml[2048];
  long k = r[fi].len < 2047 ? r[fi].len : 2047;
  memcpy(xml, b + r[fi].off, (size_t)k);
  xml[k] = 0;
  const lf_lattice *lat = f->lat;
  const char *fname = f->group == LF_SU3 ? "su3gauge" : f->group == LF_SU2 ? "su2gauge" : "u1gauge";
  char want[64];
  snprintf(want, sizeof want, "<field>%s</field>", fname);
  LF_TEST_TRUE("  format XML names the field", strstr(xml, want) != NULL);
  snprintf(want, sizeof want, "<precision>%d</precision>", prec);
  LF_TEST_TRUE("  format XML gives the precision", strstr(xml, want) != NULL);
  const char *tags[4] = {"lx", "ly", "lz", "lt"};
  int ext_ok = 1;
  for (int mu = 0; mu < 4; mu++) {
    snprintf(want, sizeof want, "<%s>%d</%s>", tags[mu], lat->L[mu], tags[mu]);
    ext_ok &= (mu < lat->nd) == (strstr(xml, want) != NULL);
    snprintf(want, sizeof want, "<%s>", tags[mu]);
    ext_ok &= (mu < lat->nd) == (strstr(xml, want) != NULL);
  }
  LF_TEST_TRUE("  format XML has exactly the first nd of lx ly lz lt", ext_ok);
  LF_TEST_TRUE("  LFN payload", (size_t)r[li].len == strlen(lfn) &&
                                     !memcmp(b + r[li].off, lfn, strlen(lfn)));
  int nn = f->n * f->n, w = prec / 8;
  long site = (long)lat->nd * nn * 2 * w;
  LF_TEST_TRUE("  binary data length = V nd n^2 2 prec/8", r[bi].len == lat->vol * site);
  /* Decode every number independently and compare with the field. */
  double maxdiff = 0;
  uint32_t sa = 0, sb = 0;
  for (long s = 0; s < lat->vol && r[bi].len == lat->vol * site; s++) {
    const unsigned char *p = b + r[bi].off + s * site;
    uint32_t c = (uint32_t)crc32(0, p, (uInt)site);
    sa ^= rotl(c, (unsigned)(s % 29));
    sb ^= rotl(c, (unsigned)(s % 31));
    for (int j = 0; j < lat->nd * nn * 2; j++) {
      double x;
      if (w == 8) {
        uint64_t u = be(p + 8 * j, 8);
        memcpy(&x, &u, 8);
      } else {
        uint32_t u = (uint32_t)be(p + 4 * j, 4);
        float y;
        memcpy(&y, &u, 4);
        x = (double)y;
      }
      lf_cplx z = f->u[(size_t)s * (size_t)(lat->nd * nn) + (size_t)(j / 2)];
      double want_x = (j % 2) ? cimag(z) : creal(z);
      if (w == 4) want_x = (double)(float)want_x;
      double d = fabs(x - want_x);
      if (d > maxdiff) maxdiff = d;
    }
  }
  LF_TEST_ABS("  big-endian data decode to the field (x fastest, mu, row-major re/im)", maxdiff, 0,
              0);
  k = r[ci].len < 2047 ? r[ci].len : 2047;
  memcpy(xml, b + r[ci].off, (size_t)k);
  xml[k] = 0;
  char sums[64];
  snprintf(sums, sizeof sums, "<suma>%08x</suma><sumb>%08x</sumb>", sa, sb);
  LF_TEST_TRUE("  scidac-checksum equals an independent CRC-32 computation",
               strstr(xml, sums) != NULL);
  free(b);
}

int main(void) {
  char dir[] = "/tmp/lf_io_rt_XXXXXX";
  if (!mkdtemp(dir)) return 1;
  const lf_group groups[3] = {LF_U1, LF_SU2, LF_SU3};
  const int Ls[3][4] = {{6, 4, 1, 1}, {4, 2, 6, 1}, {2, 4, 2, 6}};
  char path[512];
  for (int gi = 0; gi < 3; gi++)
    for (int nd = 2; nd <= 4; nd++) {
      lf_lattice lat;
      if (lf_lattice_init(&lat, nd, Ls[nd - 2])) return 1;
      lf_gauge *f;
      if (lf_gauge_alloc(&f, &lat, groups[gi])) return 1;
      lf_gauge_hot(f, 2385u + (uint64_t)(10 * gi + nd));
      for (int prec = 32; prec <= 64; prec += 32) {
        char geom[32], what[200];
        lf_lattice_format(&lat, geom, sizeof geom);
        printf("--- %s %s %d bits\n", lf_group_name(groups[gi]), geom, prec);
        snprintf(path, sizeof path, "%s/cfg_%s_%dd_%d.lime", dir, lf_group_name(groups[gi]), nd, prec);
        const char *state = "{\"trajectory\": 17, \"seed\": 2385}";
        lf_ildg_record extra[2] = {{"latflow-state", state, strlen(state)},
                                   {"latflow-empty", NULL, 0}};
        lf_ildg_meta meta = {.lfn = prec == 64 ? "lfn://latflow/test/rt" : NULL,
                             .extra = extra, .nextra = 2, .date = ""};
        int rc = lf_ildg_write(path, f, prec, &meta);
        if (rc) printf("     %s\n", lf_last_error());
        LF_TEST_TRUE("write", rc == LF_OK);
        LF_TEST_TRUE("no temporary file left", no_tmp_files(dir));
        const char *base = strrchr(path, '/') + 1;
        check_file(path, f, prec, prec == 64 ? "lfn://latflow/test/rt" : base);

        lf_lattice lat2;
        lf_gauge *g = NULL;
        lf_ildg_info in;
        rc = lf_ildg_read(path, &lat2, &g, &in, 0);
        if (rc) printf("     %s\n", lf_last_error());
        LF_TEST_TRUE("read back", rc == LF_OK);
        if (rc) continue;
        int same = in.group == groups[gi] && in.nd == nd && lat2.nd == nd && in.precision == prec;
        for (int mu = 0; mu < nd; mu++) same &= lat2.L[mu] == lat.L[mu];
        LF_TEST_TRUE("group, geometry and precision from the file", same);
        LF_TEST_TRUE("checksum ok", in.checksum == LF_ILDG_CHECKSUM_OK &&
                                        in.suma == in.file_suma && in.sumb == in.file_sumb);
        LF_TEST_TRUE("LFN", !strcmp(in.lfn, prec == 64 ? "lfn://latflow/test/rt" : base));
        LF_TEST_TRUE("records: 8 + 2 extra in 4 messages", in.nrecords == 10 && in.nmessages == 4);
        size_t nbytes = sizeof(lf_cplx) * f->nlinks * lf_gauge_linksize(f);
        double md = 0;
        for (size_t i = 0; i < f->nlinks * lf_gauge_linksize(f); i++)
          md = fmax(md, cabs(f->u[i] - g->u[i]));
        if (prec == 64) {
          LF_TEST_TRUE("64 bit: bitwise equal", !memcmp(f->u, g->u, nbytes));
          LF_TEST_TRUE("64 bit: not reunitarised", in.reunitarized == 0);
          LF_TEST_ABS("64 bit: plaquette identical", in.plaquette, lf_observe_plaquette(f), 0);
        } else {
          snprintf(what, sizeof what, "32 bit: max |U_read - U| (reunitarised)");
          LF_TEST_ABS(what, md, 0, TOL_FLOAT);
          LF_TEST_TRUE("32 bit: reunitarised", in.reunitarized == 1);
          LF_TEST_TRUE("32 bit: back in the group to double precision",
                       lf_gauge_max_defect(g) < 1e-13);
          LF_TEST_REL("32 bit: plaquette", in.plaquette_field, lf_observe_plaquette(f), TOL_FLOAT);
          /* Without reunitarisation: exactly the rounded floats. */
          lf_gauge *h = NULL;
          lf_lattice lat3;
          rc = lf_ildg_read(path, &lat3, &h, &in, LF_ILDG_NO_REUNITARIZE);
          double mx = 0;
          for (size_t i = 0; !rc && i < f->nlinks * lf_gauge_linksize(f); i++) {
            lf_cplx z = f->u[i];
            mx = fmax(mx, cabs(h->u[i] - CMPLX((double)(float)creal(z), (double)(float)cimag(z))));
          }
          LF_TEST_TRUE("32 bit, no reunitarisation: read ok", rc == LF_OK && !in.reunitarized);
          LF_TEST_ABS("32 bit, no reunitarisation: equals (float)U exactly", mx, 0, 0);
          if (!rc) {
            lf_gauge_free(h);
            lf_lattice_clear(&lat3);
          }
        }
        /* Extra records. */
        char *data;
        size_t n;
        rc = lf_ildg_read_record(path, "latflow-state", &data, &n);
        LF_TEST_TRUE("extra record read back",
                     rc == LF_OK && n == strlen(state) && !strcmp(data, state));
        if (!rc) lf_free(data);
        rc = lf_ildg_read_record(path, "latflow-empty", &data, &n);
        LF_TEST_TRUE("empty extra record", rc == LF_OK && n == 0 && data && !data[0]);
        if (!rc) lf_free(data);
        LF_TEST_TRUE("has_record yes/no", lf_ildg_has_record(path, "latflow-state") == 1 &&
                                              lf_ildg_has_record(path, "latflow-nothing") == 0);
        rc = lf_ildg_read_record(path, "latflow-nothing", &data, &n);
        LF_TEST_TRUE("missing record: LF_EFORMAT naming the type",
                     rc == LF_EFORMAT && strstr(lf_last_error(), "latflow-nothing") && !data);
        /* read_into: same geometry works, another one is refused. */
        lf_gauge_cold(g);
        rc = lf_ildg_read_into(path, g, &in, LF_ILDG_NO_REUNITARIZE);
        LF_TEST_TRUE("read_into same geometry", rc == LF_OK && (prec == 32 || !memcmp(f->u, g->u, nbytes)));
        lf_ildg_info pin;
        rc = lf_ildg_probe(path, &pin);
        LF_TEST_TRUE("probe", rc == LF_OK && pin.group == groups[gi] && pin.nd == nd &&
                                  pin.precision == prec);
        lf_gauge_free(g);
        lf_lattice_clear(&lat2);
      }
      /* A field of another group cannot receive this file. */
      if (nd == 4) {
        lf_gauge *other;
        lf_gauge_alloc(&other, &lat, groups[(gi + 1) % 3]);
        int rc = lf_ildg_read_into(path, other, NULL, 0);
        LF_TEST_TRUE("read_into another group: LF_ESTATE", rc == LF_ESTATE);
        printf("     message: %s\n", lf_last_error());
        lf_gauge_free(other);
      }
      lf_gauge_free(f);
      lf_lattice_clear(&lat);
    }

  /* Error paths of the writer. */
  lf_lattice lat;
  int L[2] = {4, 4};
  lf_lattice_init(&lat, 2, L);
  lf_gauge *f;
  lf_gauge_alloc(&f, &lat, LF_SU2);
  lf_gauge_hot(f, 7);
  snprintf(path, sizeof path, "%s/x.lime", dir);
  LF_TEST_TRUE("precision 16 refused", lf_ildg_write(path, f, 16, NULL) == LF_EINVAL);
  lf_ildg_record bad = {"ildg-format", "x", 1};
  lf_ildg_meta m = {.extra = &bad, .nextra = 1};
  LF_TEST_TRUE("extra record with a reserved type refused", lf_ildg_write(path, f, 64, &m) == LF_EINVAL);
  LF_TEST_TRUE("nothing written", access(path, F_OK) != 0 && no_tmp_files(dir));
  snprintf(path, sizeof path, "%s/missing/dir/x.lime", dir);
  int rc = lf_ildg_write(path, f, 64, NULL);
  LF_TEST_TRUE("write into a missing directory: LF_EIO naming it",
               rc == LF_EIO && strstr(lf_last_error(), "missing/dir"));
  /* A field with a NaN is not written (LF_ENAN, no file, no temporary). */
  snprintf(path, sizeof path, "%s/nan.lime", dir);
  lf_cplx keep = lf_gauge_link(f, 9, 1)[2];
  lf_gauge_link(f, 9, 1)[2] = CMPLX(0.0, (double)NAN);
  rc = lf_ildg_write(path, f, 64, NULL);
  printf("     message: %s\n", lf_last_error());
  LF_TEST_TRUE("NaN in the field: LF_ENAN naming the site, nothing written",
               rc == LF_ENAN && strstr(lf_last_error(), "(1,2,0,0)") && access(path, F_OK) != 0 &&
                   no_tmp_files(dir));
  lf_gauge_link(f, 9, 1)[2] = keep;
  /* Default LFN without a directory part; default date and info. */
  snprintf(path, sizeof path, "%s/plain.lime", dir);
  LF_TEST_TRUE("write with meta = NULL", lf_ildg_write(path, f, 64, NULL) == LF_OK);
  lf_ildg_info in;
  LF_TEST_TRUE("LFN defaults to the base name",
               lf_ildg_probe(path, &in) == LF_OK && !strcmp(in.lfn, "plain.lime"));
  /* Overwriting an existing file replaces it atomically. */
  lf_gauge_hot(f, 8);
  LF_TEST_TRUE("overwrite", lf_ildg_write(path, f, 64, NULL) == LF_OK && no_tmp_files(dir));
  lf_lattice lat2;
  lf_gauge *g;
  rc = lf_ildg_read(path, &lat2, &g, &in, 0);
  LF_TEST_TRUE("overwritten file holds the new field",
               rc == LF_OK && !memcmp(f->u, g->u, sizeof(lf_cplx) * f->nlinks * 4));
  if (!rc) {
    lf_gauge_free(g);
    lf_lattice_clear(&lat2);
  }
  /* Failed allocations at every point of a read and a write: an error, never a crash or
   * a leak (the sanitizer build checks leaks). */
  int fails = 0, tries = 0;
  for (long k = 1; k < 200; k++, tries++) {
    lf_alloc_fail_after(k);
    rc = lf_ildg_read(path, &lat2, &g, &in, 0);
    lf_alloc_fail_after(0);
    if (rc == LF_OK) {
      lf_gauge_free(g);
      lf_lattice_clear(&lat2);
      break;
    }
    fails += rc == LF_ENOMEM;
  }
  printf("     read: %d allocation points failed cleanly with LF_ENOMEM\n", fails);
  LF_TEST_TRUE("every failed allocation in a read gives LF_ENOMEM", fails == tries && fails > 3);
  fails = tries = 0;
  snprintf(path, sizeof path, "%s/alloc.lime", dir);
  for (long k = 1; k < 200; k++, tries++) {
    lf_alloc_fail_after(k);
    rc = lf_ildg_write(path, f, 32, NULL);
    lf_alloc_fail_after(0);
    if (rc == LF_OK) break;
    fails += rc == LF_ENOMEM && access(path, F_OK) != 0;
  }
  printf("     write: %d allocation points failed cleanly with LF_ENOMEM\n", fails);
  LF_TEST_TRUE("every failed allocation in a write gives LF_ENOMEM and no file",
               fails == tries && fails > 3 && no_tmp_files(dir));
  lf_gauge_free(f);
  lf_lattice_clear(&lat);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) return 1;
  return lf_test_done();
}
