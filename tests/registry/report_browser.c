/*
 * tests/registry/report_browser.c -- render a report in headless Chromium and look at it.
 *
 * Writes a run with loss, ESS, plaquette (an AR(1) history, so its autocorrelation is
 * not trivial), topological charge Q and log weights; renders report.html with a
 * histogram of log_weight; takes a screenshot with /usr/bin/chromium (or $CHROMIUM)
 * and decodes the PNG here (zlib + the five PNG row filters, RFC 2083 section 6).
 * Checks: every plot cell of the layout contract in src/registry/report.c (80 px
 * header, 560 x 320 cells, 2 per row) holds coloured plot ink inside its data area
 * and the page below the plots is not blank; --dump-dom shows the plot titles and the
 * escaped run name, and no script element. A missing Chromium is a failure that says
 * how to install it.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "latflow/core.h"
#include "latflow/registry.h"
#include "lf_test.h"
#include "testutil.h"

/* Layout contract of report.c. */
#define HEADER_H 80
#define PAD_L 20
#define CELL_W 560
#define CELL_H 320
#define GAP 20
#define DATA_X0 70
#define DATA_X1 540
#define DATA_Y0 36
#define DATA_Y1 276
#define NPLOTS 8
#define MIN_INK 150 /* coloured pixels a drawn curve or histogram leaves at least */

typedef struct {
  int w, h;
  unsigned char *rgb; /* w*h*3 */
} image;

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int paeth(int a, int b, int c) {
  int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* 8-bit RGB or RGBA, non-interlaced: what Chromium writes. */
static int png_decode(const unsigned char *d, size_t n, image *im) {
  static const unsigned char sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
  if (n < 8 || memcmp(d, sig, 8)) return -1;
  size_t pos = 8, zlen = 0, zcap = 0;
  unsigned char *z = NULL;
  int depth = 0, ctype = -1, interlace = 0;
  while (pos + 12 <= n) {
    uint32_t len = be32(d + pos);
    const unsigned char *type = d + pos + 4, *data = d + pos + 8;
    if (pos + 12 + len > n) break;
    if (!memcmp(type, "IHDR", 4)) {
      im->w = (int)be32(data);
      im->h = (int)be32(data + 4);
      depth = data[8];
      ctype = data[9];
      interlace = data[12];
    } else if (!memcmp(type, "IDAT", 4)) {
      if (zlen + len > zcap) {
        zcap = 2 * (zlen + len);
        z = realloc(z, zcap);
        if (!z) return -1;
      }
      memcpy(z + zlen, data, len);
      zlen += len;
    } else if (!memcmp(type, "IEND", 4)) {
      break;
    }
    pos += 12 + len;
  }
  int bpp = ctype == 2 ? 3 : ctype == 6 ? 4 : 0;
  if (depth != 8 || !bpp || interlace || im->w <= 0 || im->h <= 0 || !z) {
    free(z);
    return -1;
  }
  size_t stride = (size_t)im->w * (size_t)bpp;
  uLongf rawlen = (uLongf)((stride + 1) * (size_t)im->h);
  unsigned char *raw = malloc(rawlen);
  int zrc = raw ? uncompress(raw, &rawlen, z, (uLong)zlen) : Z_MEM_ERROR;
  free(z);
  if (zrc != Z_OK || rawlen != (stride + 1) * (size_t)im->h) {
    free(raw);
    return -1;
  }
  unsigned char *cur = malloc(stride), *prev = calloc(1, stride);
  im->rgb = malloc((size_t)im->w * (size_t)im->h * 3);
  for (int y = 0; y < im->h; y++) {
    const unsigned char *row = raw + (size_t)y * (stride + 1);
    int f = row[0];
    for (size_t i = 0; i < stride; i++) {
      int a = i >= (size_t)bpp ? cur[i - (size_t)bpp] : 0, b = prev[i],
          c = i >= (size_t)bpp ? prev[i - (size_t)bpp] : 0, x = row[1 + i];
      int v = f == 0 ? x : f == 1 ? x + a : f == 2 ? x + b : f == 3 ? x + (a + b) / 2 : x + paeth(a, b, c);
      cur[i] = (unsigned char)v;
    }
    for (int x = 0; x < im->w; x++)
      memcpy(im->rgb + ((size_t)y * (size_t)im->w + (size_t)x) * 3, cur + (size_t)x * (size_t)bpp, 3);
    unsigned char *t = prev;
    prev = cur;
    cur = t;
  }
  free(cur);
  free(prev);
  free(raw);
  return 0;
}

/* Saturated (coloured) pixels: plot lines and bars, not text, grid or background. */
static long count_ink(const image *im, int x0, int y0, int x1, int y1) {
  long n = 0;
  for (int y = y0 < 0 ? 0 : y0; y < y1 && y < im->h; y++)
    for (int x = x0 < 0 ? 0 : x0; x < x1 && x < im->w; x++) {
      const unsigned char *p = im->rgb + ((size_t)y * (size_t)im->w + (size_t)x) * 3;
      int mx = p[0] > p[1] ? (p[0] > p[2] ? p[0] : p[2]) : (p[1] > p[2] ? p[1] : p[2]);
      int mn = p[0] < p[1] ? (p[0] < p[2] ? p[0] : p[2]) : (p[1] < p[2] ? p[1] : p[2]);
      n += mx - mn > 60;
    }
  return n;
}

static long count_nonwhite(const image *im, int x0, int y0, int x1, int y1) {
  long n = 0;
  for (int y = y0 < 0 ? 0 : y0; y < y1 && y < im->h; y++)
    for (int x = x0 < 0 ? 0 : x0; x < x1 && x < im->w; x++) {
      const unsigned char *p = im->rgb + ((size_t)y * (size_t)im->w + (size_t)x) * 3;
      n += p[0] < 200 || p[1] < 200 || p[2] < 200;
    }
  return n;
}

int main(void) {
  const char *chromium = getenv("CHROMIUM");
  if (!chromium || !*chromium) chromium = "/usr/bin/chromium";
  if (access(chromium, X_OK) != 0) {
    printf("FAIL headless Chromium not found at %s: install it (Debian: apt-get install -y chromium) "
           "or set CHROMIUM to its path\n", chromium);
    return 1;
  }
  char dir[] = "/tmp/lf_report_browser_XXXXXX";
  if (!mkdtemp(dir)) return 1;
  char db[300], html[300], png[300], prof[300];
  snprintf(db, sizeof db, "%s/registry.db", dir);
  snprintf(html, sizeof html, "%s/report.html", dir);
  snprintf(png, sizeof png, "%s/shot.png", dir);
  snprintf(prof, sizeof prof, "%s/profile", dir);

  lf_registry *reg;
  lf_run *run;
  int rc = lf_registry_open(&reg, db);
  if (rc == LF_OK) rc = lf_run_start(reg, &run, "train", "<script>alert(1)</script>", "browser");
  LF_TEST_TRUE("registry and run", rc == LF_OK);
  if (rc) return lf_test_done();
  lf_run_param(run, "beta", "2.385");
  lf_rng r;
  lf_rng_init(&r, 2385, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, 7), 0);
  double plaq = 0.0;
  for (int s = 0; s < 400; s++) {
    lf_run_metric(run, "loss", s, -8.0 + 4.0 * exp(-s / 80.0) + 0.1 * lf_rng_normal(&r));
    lf_run_metric(run, "ess", s, 0.8 * (1.0 - exp(-s / 120.0)));
    plaq = 0.9 * plaq + 0.02 * lf_rng_normal(&r); /* AR(1): tau_int = (1 + 0.9) / (2 (1 - 0.9)) */
    lf_run_metric(run, "plaquette", s, 0.58 + plaq);
    lf_run_metric(run, "Q", s, round(3.0 * sin(s / 25.0) + 0.4 * lf_rng_normal(&r)));
    lf_run_metric(run, "log_weight", s, -2.0 + 0.7 * lf_rng_normal(&r));
  }
  char id[37];
  snprintf(id, sizeof id, "%s", lf_run_id(run));
  lf_run_end(run, LF_RUN_FINISHED);
  lf_report_opts ro = {"log_weight", 30, NULL};
  rc = lf_registry_report(reg, id, html, &ro);
  lf_registry_close(reg);
  LF_TEST_TRUE("report.html written", rc == LF_OK);

  const char *flags = "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                      "--disable-background-networking --disable-component-update --disable-sync "
                      "--hide-scrollbars --force-device-scale-factor=1 --window-size=1200,2000";
  char cmd[4096];
  int status;
  double t0 = lf_time_now();
  snprintf(cmd, sizeof cmd, "'%s' %s --user-data-dir='%s' --screenshot='%s' 'file://%s'", chromium, flags, prof, png, html);
  char *out = tu_run(cmd, &status);
  printf("     screenshot in %.1f s\n", lf_time_now() - t0);
  size_t n = 0;
  unsigned char *data = (unsigned char *)tu_slurp(png, &n);
  image im = {0, 0, NULL};
  int dec = data ? png_decode(data, n, &im) : -1;
  LF_TEST_TRUE("Chromium wrote a PNG screenshot that decodes", dec == 0 && im.w >= 1180 && im.h >= 1500);
  if (dec != 0 && out) printf("     chromium said: %.2000s\n", out);
  free(out);
  free(data);
  for (int k = 0; dec == 0 && k < NPLOTS; k++) {
    int cx = PAD_L + (k % 2) * (CELL_W + GAP), cy = HEADER_H + (k / 2) * (CELL_H + GAP);
    long ink = count_ink(&im, cx + DATA_X0 + 2, cy + DATA_Y0 + 2, cx + DATA_X1 - 2, cy + DATA_Y1 - 2);
    char what[200];
    snprintf(what, sizeof what, "plot %d at (%d,%d): %ld coloured pixels in its data area (need >= %d)", k, cx, cy,
             ink, MIN_INK);
    LF_TEST_TRUE(what, ink >= MIN_INK);
  }
  if (dec == 0) {
    int below = HEADER_H + (NPLOTS / 2) * (CELL_H + GAP);
    long text = count_nonwhite(&im, 0, below, im.w, im.h);
    long head = count_nonwhite(&im, 0, 0, im.w, HEADER_H);
    char what[200];
    snprintf(what, sizeof what, "header (%ld) and tables below the plots (%ld) are not blank", head, text);
    LF_TEST_TRUE(what, head > 500 && text > 2000);
    long gap = count_ink(&im, PAD_L + CELL_W + 2, HEADER_H, PAD_L + CELL_W + GAP - 2, below);
    snprintf(what, sizeof what, "no plot ink between the columns (%ld coloured pixels): layout as contracted", gap);
    LF_TEST_TRUE(what, gap == 0);
  }
  free(im.rgb);

  snprintf(cmd, sizeof cmd, "'%s' %s --user-data-dir='%s' --dump-dom 'file://%s' 2>/dev/null", chromium, flags, prof, html);
  out = tu_run(cmd, &status);
  LF_TEST_TRUE("--dump-dom: title with the escaped run name", out && strstr(out, "latflow run &lt;script&gt;alert(1)&lt;/script&gt;"));
  LF_TEST_TRUE("--dump-dom: no script element", out && !strstr(out, "<script"));
  const char *titles[] = {"loss", "ess", "plaquette", "Q", "log_weight", "autocorrelation of plaquette (tau_int",
                          "autocorrelation of Q (tau_int", "histogram of log_weight (400 values)", "Final results", "Parameters"};
  for (size_t i = 0; i < sizeof titles / sizeof titles[0]; i++) {
    char needle[200], what[300];
    snprintf(needle, sizeof needle, ">%s", titles[i]);
    snprintf(what, sizeof what, "--dump-dom: '%s' present", titles[i]);
    LF_TEST_TRUE(what, out && strstr(out, needle));
  }
  free(out);
  int rcd = lf_test_done();
  if (rcd == 0 && !getenv("LF_KEEP")) tu_rm_rf(dir);
  else printf("kept %s (report.html, shot.png) for inspection\n", dir);
  return rcd;
}
