/* tests/io/corrupt.c -- broken files give the expected status and a message naming the
 * file and the problem, never a crash: flipped data byte (checksum), truncation at many
 * offsets, wrong magic, wrong version, wrong extent in the format XML, zero-length
 * records, giant declared lengths, missing records, bad extents/precision/field,
 * non-unitary and NaN data with a valid checksum, a corrupt checksum record. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "latflow/io.h"
#include "lf_test.h"

static char dir[] = "/tmp/lf_io_bad_XXXXXX";
static unsigned char *good;
static long ngood;

static unsigned char *slurp(const char *path, long *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  *n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc((size_t)*n);
  if (b && fread(b, 1, (size_t)*n, f) != (size_t)*n) *n = -1;
  fclose(f);
  return b;
}

/* First occurrence of needle[k] in hay[n] (memmem is not in C17/POSIX). */
static char *find_bytes(unsigned char *hay, long n, const char *needle, size_t k) {
  for (long i = 0; i + (long)k <= n; i++)
    if (!memcmp(hay + i, needle, k)) return (char *)hay + i;
  return NULL;
}

static void spit(const char *path, const unsigned char *b, long n) {
  FILE *f = fopen(path, "wb");
  if (f) {
    fwrite(b, 1, (size_t)n, f);
    fclose(f);
  }
}

/* Offset of the header of the first record of `type` in buf (-1 if none). */
static long rec_at(const unsigned char *b, long n, const char *type) {
  long o = 0;
  while (o + 144 <= n) {
    uint64_t len = 0;
    for (int i = 0; i < 8; i++) len = len << 8 | b[o + 8 + i];
    if (!strncmp((const char *)b + o + 16, type, 128)) return o;
    o += 144 + (long)((len + 7) / 8 * 8);
  }
  return -1;
}

static void set_len(unsigned char *b, long hdr, uint64_t len) {
  for (int i = 0; i < 8; i++) b[hdr + 8 + i] = (unsigned char)(len >> (56 - 8 * i));
}

/* Read `b` (as file `name`) and check status and that the message contains the file
 * name and `needle`. */
static void expect(const char *name, const unsigned char *b, long n, unsigned flags, int want,
                   const char *needle) {
  char path[512], what[400];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  spit(path, b, n);
  lf_lattice lat;
  lf_gauge *f = NULL;
  lf_ildg_info info;
  lf_error_clear();
  int rc = lf_ildg_read(path, &lat, &f, &info, flags);
  const char *msg = lf_last_error();
  snprintf(what, sizeof what, "%-28s -> %s (want %s)", name, lf_strerror(rc), lf_strerror(want));
  LF_TEST_TRUE(what, rc == want);
  if (rc) printf("     message: %s\n", msg);
  if (want != LF_OK) {
    LF_TEST_TRUE("     message names the file", strstr(msg, path) != NULL);
    if (needle) {
      snprintf(what, sizeof what, "     message says '%s'", needle);
      LF_TEST_TRUE(what, strstr(msg, needle) != NULL);
    }
    LF_TEST_TRUE("     nothing returned", f == NULL && lat.vol == 0);
  } else if (rc == LF_OK) {
    lf_gauge_free(f);
    lf_lattice_clear(&lat);
  }
}

/* Replace the text `from` by `to` (same length) inside the ildg-format payload. */
static unsigned char *patch_format(const char *from, const char *to) {
  unsigned char *b = malloc((size_t)ngood);
  memcpy(b, good, (size_t)ngood);
  long h = rec_at(b, ngood, "ildg-format");
  char *p = find_bytes(b + h + 144, 400, from, strlen(from));
  if (p && strlen(from) == strlen(to)) memcpy(p, to, strlen(to));
  else printf("     (patch '%s' -> '%s' not applied)\n", from, to);
  return b;
}

/* Scale one link by 1.5 (or set NaN) and fix the checksum so only the unitarity check
 * can notice: returns a buffer to free. Data are 64-bit SU(2), 2D 4x4. */
static unsigned char *bad_link(int nan) {
  unsigned char *b = malloc((size_t)ngood);
  memcpy(b, good, (size_t)ngood);
  long h = rec_at(b, ngood, "ildg-binary-data");
  unsigned char *d = b + h + 144;
  const long site = 2 * 4 * 2 * 8, vol = 16;
  long s = 5; /* site 5 = (1,1) */
  for (int j = 0; j < 8; j++) { /* mu = 0 link: 4 complex = 8 doubles */
    unsigned char *q = d + s * site + 8 * j;
    uint64_t u = 0;
    for (int i = 0; i < 8; i++) u = u << 8 | q[i];
    double x;
    memcpy(&x, &u, 8);
    x = nan ? (j == 3 ? (double)NAN : x) : 1.5 * x;
    memcpy(&u, &x, 8);
    for (int i = 0; i < 8; i++) q[i] = (unsigned char)(u >> (56 - 8 * i));
  }
  uint32_t sa = 0, sb = 0;
  for (long r = 0; r < vol; r++) {
    uint32_t c = (uint32_t)crc32(0, d + r * site, (uInt)site);
    unsigned ka = (unsigned)(r % 29), kb = (unsigned)(r % 31);
    sa ^= ka ? c << ka | c >> (32 - ka) : c;
    sb ^= kb ? c << kb | c >> (32 - kb) : c;
  }
  long ch = rec_at(b, ngood, "scidac-checksum");
  char *p = find_bytes(b + ch + 144, 300, "<suma>", 6);
  char sums[64];
  snprintf(sums, sizeof sums, "<suma>%08x</suma><sumb>%08x</sumb>", sa, sb);
  if (p) memcpy(p, sums, strlen(sums));
  return b;
}

int main(void) {
  if (!mkdtemp(dir)) return 1;
  lf_lattice lat;
  int L[2] = {4, 4};
  lf_lattice_init(&lat, 2, L);
  lf_gauge *f;
  lf_gauge_alloc(&f, &lat, LF_SU2);
  lf_gauge_hot(f, 2385);
  char path[512];
  snprintf(path, sizeof path, "%s/good.lime", dir);
  lf_ildg_meta meta = {.date = ""};
  if (lf_ildg_write(path, f, 64, &meta)) return 1;
  good = slurp(path, &ngood);
  LF_TEST_TRUE("reference file written", good && ngood > 1000);
  expect("good.lime", good, ngood, 0, LF_OK, NULL);

  unsigned char *b = malloc((size_t)ngood);
  long hb = rec_at(good, ngood, "ildg-binary-data");
  long hf = rec_at(good, ngood, "ildg-format");
  long hc = rec_at(good, ngood, "scidac-checksum");
  LF_TEST_TRUE("records located", hb > 0 && hf > 0 && hc > 0);

  /* 1. flipped byte in the data: checksum error; accepted with NO_CHECKSUM. */
  memcpy(b, good, (size_t)ngood);
  b[hb + 144 + 100] ^= 0x01; /* a low mantissa bit: still unitary to 1e-13 */
  expect("flip-data.lime", b, ngood, 0, LF_ECHECKSUM, "checksum mismatch");
  expect("flip-data-nocheck.lime", b, ngood, LF_ILDG_NO_CHECKSUM, LF_OK, NULL);
  {
    lf_lattice l2;
    lf_gauge *g;
    lf_ildg_info in;
    snprintf(path, sizeof path, "%s/flip-data-nocheck.lime", dir);
    int rc = lf_ildg_read(path, &l2, &g, &in, LF_ILDG_NO_CHECKSUM);
    LF_TEST_TRUE("NO_CHECKSUM reports the mismatch in info", rc == LF_OK && in.checksum == LF_ILDG_CHECKSUM_BAD);
    if (!rc) lf_gauge_free(g), lf_lattice_clear(&l2);
  }
  /* 2. truncation at many offsets (headers, XML, data, checksum, inside padding). */
  long pad_last = (long)((8 - good[hc + 15] % 8) % 8); /* checksum record is the last */
  printf("     last record has %ld padding bytes\n", pad_last);
  long cuts[] = {0, 1, 4, 100, 143, 144, 150, hf + 10, hf + 144 + 20, hb, hb + 144,
                 hb + 144 + 513, hc - 1, hc + 100, ngood - 8, ngood - 1};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    char name[64];
    snprintf(name, sizeof name, "truncated-at-%ld.lime", cuts[i]);
    /* Cutting inside the final padding loses no data: still a valid file. */
    int want = LF_EFORMAT;
    const char *needle = cuts[i] == 0 ? "empty file" : NULL;
    if (cuts[i] >= ngood - pad_last) want = LF_OK;
    expect(name, good, cuts[i], 0, want, needle);
  }
  /* 3. wrong magic (first record and a later one). */
  memcpy(b, good, (size_t)ngood);
  b[0] = 0x12;
  expect("bad-magic-first.lime", b, ngood, 0, LF_EFORMAT, "not a LIME/ILDG file");
  memcpy(b, good, (size_t)ngood);
  b[hb + 1] = 0;
  expect("bad-magic-later.lime", b, ngood, 0, LF_EFORMAT, "bad magic");
  memcpy(b, good, (size_t)ngood);
  b[hf + 5] = 2;
  expect("bad-version.lime", b, ngood, 0, LF_EFORMAT, "version 2");
  /* 4. format XML disagrees with the data length. */
  unsigned char *p = patch_format("<lx>4</lx>", "<lx>6</lx>");
  expect("wrong-size-format.lime", p, ngood, 0, LF_EFORMAT, "declares su2 6x4");
  free(p);
  p = patch_format("<precision>64</precision>", "<precision>32</precision>");
  expect("wrong-precision.lime", p, ngood, 0, LF_EFORMAT, "at 32 bits");
  free(p);
  p = patch_format("<field>su2gauge</field>", "<field>su3gauge</field>");
  expect("wrong-field.lime", p, ngood, 0, LF_EFORMAT, "declares su3");
  free(p);
  p = patch_format("<field>su2gauge</field>", "<field>xyzgauge</field>");
  expect("unknown-field.lime", p, ngood, 0, LF_EUNSUP, "xyzgauge");
  free(p);
  p = patch_format("<precision>64</precision>", "<precision>16</precision>");
  expect("bad-precision.lime", p, ngood, 0, LF_EFORMAT, "must be 32 or 64");
  free(p);
  p = patch_format("<lx>4</lx>", "<lx>0</lx>");
  expect("zero-extent.lime", p, ngood, 0, LF_EFORMAT, "<lx>0</lx>");
  free(p);
  p = patch_format("<ly>4</ly>", "<ly>-4</ly");
  expect("negative-extent.lime", p, ngood, 0, LF_EFORMAT, "<ly>-4");
  free(p);
  p = patch_format("<lx>4</lx>", "<lx>a</lx>");
  expect("text-extent.lime", p, ngood, 0, LF_EFORMAT, "<lx>a</lx>");
  free(p);
  p = patch_format("<ly>4</ly>", "<qq>4</qq>");
  expect("missing-extent.lime", p, ngood, 0, LF_EFORMAT, "need at least <lx> and <ly>");
  free(p);
  p = patch_format("<field>", "<fjeld>");
  expect("missing-field.lime", p, ngood, 0, LF_EFORMAT, "no <field>");
  free(p);
  /* 5. zero-length records. */
  memcpy(b, good, (size_t)ngood);
  set_len(b, hf, 0); /* the old payload now reads as garbage where a header should be */
  expect("zero-length-format.lime", b, ngood, 0, LF_EFORMAT, NULL);
  {
    /* A well-formed file whose ildg-format record is empty: rebuild the LIME stream. */
    long nfmt = (long)((good[hf + 8 + 6] << 8 | good[hf + 8 + 7]) + 7) / 8 * 8;
    long n2 = ngood - nfmt;
    unsigned char *c = malloc((size_t)n2);
    memcpy(c, good, (size_t)hf + 144);
    memcpy(c + hf + 144, good + hf + 144 + nfmt, (size_t)(ngood - hf - 144 - nfmt));
    set_len(c, hf, 0);
    expect("empty-format-record.lime", c, n2, 0, LF_EFORMAT, "is empty");
    free(c);
    long nbin = 16 * 2 * 4 * 2 * 8;
    n2 = ngood - nbin;
    c = malloc((size_t)n2);
    memcpy(c, good, (size_t)hb + 144);
    memcpy(c + hb + 144, good + hb + 144 + nbin, (size_t)(ngood - hb - 144 - nbin));
    set_len(c, hb, 0);
    expect("empty-binary-record.lime", c, n2, 0, LF_EFORMAT, "ildg-binary-data has 0 bytes");
    free(c);
  }
  /* 6. giant declared lengths: refused before any allocation. */
  uint64_t giants[] = {UINT64_MAX, (uint64_t)1 << 62, (uint64_t)ngood};
  for (int i = 0; i < 3; i++) {
    memcpy(b, good, (size_t)ngood);
    set_len(b, hb, giants[i]);
    char name[64];
    snprintf(name, sizeof name, "giant-length-%d.lime", i);
    expect(name, b, ngood, 0, LF_EFORMAT, "remain in the file");
  }
  memcpy(b, good, (size_t)ngood);
  set_len(b, 0, UINT64_MAX - 100);
  expect("giant-length-first.lime", b, ngood, 0, LF_EFORMAT, "declares");
  /* 7. missing records (renamed types). */
  memcpy(b, good, (size_t)ngood);
  memcpy(b + hb + 16, "ildg-binary-dat", 16);
  expect("missing-binary.lime", b, ngood, 0, LF_EFORMAT, "no 'ildg-binary-data'");
  memcpy(b, good, (size_t)ngood);
  memcpy(b + hf + 16, "ildg-formax", 12);
  expect("missing-format.lime", b, ngood, 0, LF_EFORMAT, "no 'ildg-format'");
  memcpy(b, good, (size_t)ngood);
  memcpy(b + hc + 16, "scidac-checksux", 16);
  expect("missing-checksum.lime", b, ngood, 0, LF_OK, NULL); /* absent is allowed ...   */
  {
    snprintf(path, sizeof path, "%s/missing-checksum.lime", dir);
    lf_lattice l2;
    lf_gauge *g;
    lf_ildg_info in;
    int rc = lf_ildg_read(path, &l2, &g, &in, 0);
    LF_TEST_TRUE("... and reported as absent", rc == LF_OK && in.checksum == LF_ILDG_CHECKSUM_ABSENT);
    if (!rc) lf_gauge_free(g), lf_lattice_clear(&l2);
  }
  /* 8. corrupt checksum record. */
  memcpy(b, good, (size_t)ngood);
  {
    char *q = find_bytes(b + hc + 144, 300, "<suma>", 6);
    if (q) memcpy(q + 6, "zz", 2);
  }
  expect("bad-checksum-xml.lime", b, ngood, 0, LF_EFORMAT, "no valid <suma>");
  expect("bad-checksum-xml-nocheck.lime", b, ngood, LF_ILDG_NO_CHECKSUM, LF_OK, NULL);
  /* 9. valid checksum, but links not in the group / not finite. */
  p = bad_link(0);
  expect("nonunitary.lime", p, ngood, 0, LF_ERANGE, "unitarity defect");
  expect("nonunitary-allowed.lime", p, ngood, LF_ILDG_ALLOW_NONUNITARY, LF_OK, NULL);
  free(p);
  p = bad_link(1);
  expect("nan.lime", p, ngood, LF_ILDG_ALLOW_NONUNITARY, LF_ERANGE, "NaN");
  free(p);
  /* 10. odd extent consistent with the data: the lattice module refuses it. */
  {
    lf_lattice l3;
    int L3[2] = {4, 4};
    lf_lattice_init(&l3, 2, L3);
    lf_gauge *u1;
    lf_gauge_alloc(&u1, &l3, LF_U1);
    snprintf(path, sizeof path, "%s/u1.lime", dir);
    lf_ildg_write(path, u1, 64, &meta);
    long n;
    unsigned char *c = slurp(path, &n);
    long h = rec_at(c, n, "ildg-format");
    char *q = find_bytes(c + h + 144, 400, "<lx>4</lx><ly>4</ly>", 20);
    if (q) memcpy(q, "<lx>2</lx><ly>8</ly>", 20); /* same volume: data length agrees */
    /* Same bytes, same ranks: a reshaped file is undetectable by length or checksum. */
    expect("reshaped-u1.lime", c, n, 0, LF_OK, NULL);
    if (q) memcpy(q, "<lx>1</lx><ly>16</ly", 20);
    expect("odd-extent.lime", c, n, 0, LF_EINVAL, "lattice 1x16");
    free(c);
    lf_gauge_free(u1);
    lf_lattice_clear(&l3);
  }
  /* 11. not a file / missing file. */
  snprintf(path, sizeof path, "%s/does-not-exist.lime", dir);
  lf_lattice l4;
  lf_gauge *g4;
  int rc = lf_ildg_read(path, &l4, &g4, NULL, 0);
  LF_TEST_TRUE("missing file: LF_EIO naming it", rc == LF_EIO && strstr(lf_last_error(), path));
  rc = lf_ildg_read(dir, &l4, &g4, NULL, 0);
  printf("     directory: %s\n", lf_last_error());
  LF_TEST_TRUE("a directory: an error", rc < 0 && g4 == NULL);
  const unsigned char junk[] = "this is not a gauge configuration, just some text.\n";
  expect("text.lime", junk, (long)sizeof junk - 1, 0, LF_EFORMAT, NULL);

  free(b);
  free(good);
  lf_gauge_free(f);
  lf_lattice_clear(&lat);
  /* LF_CORRUPT_KEEP=1 keeps the files (that is how tests/io/corpus was seeded). */
  if (getenv("LF_CORRUPT_KEEP")) printf("files kept in %s\n", dir);
  else {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 1;
  }
  return lf_test_done();
}
