/*
 * ildg_write.c -- write gauge configurations as ILDG/LIME files with SciDAC checksum.
 *
 * Layout (docs/formats.md; ILDG file format 1.1, USQCD QIO/SciDAC record conventions):
 *   message 1: scidac-private-file-xml (MB), scidac-file-xml (ME)
 *   message 2: scidac-private-record-xml (MB), scidac-record-xml, ildg-format,
 *              ildg-data-lfn, ildg-binary-data, scidac-checksum (ME)
 *   message 3..: one per extra record of the caller (MB|ME)
 * Binary data: big-endian IEEE, sites x fastest, per site mu = 0..nd-1, per link the
 * n x n row-major matrix as (re, im) pairs. The data are converted and checksummed in
 * chunks of sites while streaming, so no second copy of the field is made.
 *
 * Atomicity: lf_lime_writer writes "<path>.tmp.<pid>" and renames it after fsync.
 * Thread contract: conversion + CRC per chunk are OpenMP loops with an XOR reduction.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"
#include "latflow/observe.h"

#define CHUNK_BYTES (1u << 22)
#define XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"

static const char *const extent_tag[LF_MAXDIM] = {"lx", "ly", "lz", "lt"};

/* A growing lf_alloc'ed string; `oom` remembers a failed allocation. */
typedef struct {
  char *s;
  size_t len, cap;
  int oom;
} sbuf;

static void sb_put(sbuf *b, const char *text, size_t k) {
  if (b->oom) return;
  if (b->len + k + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + k + 1) cap *= 2;
    char *p = lf_alloc(cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    if (b->len) memcpy(p, b->s, b->len);
    lf_free(b->s);
    b->s = p;
    b->cap = cap;
  }
  memcpy(b->s + b->len, text, k);
  b->len += k;
  b->s[b->len] = '\0';
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (k < 0) return;
  sb_put(b, tmp, (size_t)k < sizeof tmp ? (size_t)k : sizeof tmp - 1);
}

static void sb_escaped(sbuf *b, const char *text) {
  for (const char *p = text; *p; p++) {
    switch (*p) {
    case '&': sb_put(b, "&amp;", 5); break;
    case '<': sb_put(b, "&lt;", 4); break;
    case '>': sb_put(b, "&gt;", 4); break;
    default: sb_put(b, p, 1);
    }
  }
}

static const char *field_name(lf_group g) {
  return g == LF_U1 ? "u1gauge" : g == LF_SU2 ? "su2gauge" : "su3gauge";
}

static int write_xml(lf_lime_writer *w, const char *type, sbuf *b, int mb, int me) {
  if (b->oom) return LF_ERROR(LF_ENOMEM, "out of memory building the '%s' record", type);
  return lf_lime_write_record(w, type, b->s, b->len, mb, me);
}

/* Stream the binary data record and compute the checksum. */
static int write_data(lf_lime_writer *w, const char *path, const lf_gauge *f, int prec,
                      lf_scidac_sum *sum) {
  const int nd = f->lat->nd, nn = f->n * f->n;
  const size_t word = (size_t)prec / 8;
  const size_t site_bytes = (size_t)nd * (size_t)nn * 2 * word;
  const long vol = f->lat->vol;
  long chunk = (long)(CHUNK_BYTES / site_bytes);
  if (chunk < 1) chunk = 1;
  if (chunk > vol) chunk = vol;
  unsigned char *buf = lf_alloc((size_t)chunk * site_bytes);
  if (!buf) return LF_ERROR(LF_ENOMEM, "out of memory for the write buffer");
  int rc = lf_lime_write_begin(w, "ildg-binary-data", (uint64_t)vol * site_bytes, 0, 0);
  uint32_t sa = 0, sb = 0;
  long bad = -1; /* a site with a non-finite number: refuse to write it */
  for (long s0 = 0; s0 < vol && !rc && bad < 0; s0 += chunk) {
    long ns = vol - s0 < chunk ? vol - s0 : chunk;
#pragma omp parallel for schedule(static) reduction(^ : sa, sb) reduction(max : bad)
    for (long k = 0; k < ns; k++) {
      unsigned char *p = buf + (size_t)k * site_bytes;
      const lf_cplx *u = lf_gauge_link(f, s0 + k, 0);
      for (int j = 0; j < nd * nn; j++) {
        if (!isfinite(creal(u[j])) || !isfinite(cimag(u[j]))) bad = s0 + k;
        unsigned char *q = p + (size_t)j * 2 * word;
        if (prec == 64) {
          lf_be_store_double(q, creal(u[j]));
          lf_be_store_double(q + 8, cimag(u[j]));
        } else {
          lf_be_store_float(q, creal(u[j]));
          lf_be_store_float(q + 4, cimag(u[j]));
        }
      }
      lf_scidac_sum one = {0, 0};
      lf_scidac_sum_site(&one, (uint64_t)(s0 + k), p, site_bytes);
      sa ^= one.suma;
      sb ^= one.sumb;
    }
    if (bad < 0) rc = lf_lime_write_data(w, buf, (size_t)ns * site_bytes);
  }
  lf_free(buf);
  if (!rc && bad >= 0) {
    int x[LF_MAXDIM] = {0};
    lf_lattice_coords(f->lat, bad, x);
    rc = LF_ERROR(LF_ENAN,
                  "writing %s: the field holds NaN or infinity at site (%d,%d,%d,%d); nothing "
                  "written (the run diverged: check the step size / input)",
                  path, x[0], x[1], x[2], x[3]);
  }
  sum->suma = sa;
  sum->sumb = sb;
  return rc;
}

int lf_ildg_write(const char *path, const lf_gauge *f, int precision, const lf_ildg_meta *meta) {
  static const lf_ildg_meta none = {0};
  if (!meta) meta = &none;
  if (precision != 32 && precision != 64)
    return LF_ERROR(LF_EINVAL, "writing %s: precision %d; use 32 or 64 (bits)", path, precision);
  const lf_lattice *lat = f->lat;
  const int nd = lat->nd, n = f->n;
  if (nd < 2 || nd > LF_MAXDIM)
    return LF_ERROR(LF_EINVAL, "writing %s: dimension %d not in 2..4", path, nd);
  if (meta->nextra < 0 || (meta->nextra > 0 && !meta->extra))
    return LF_ERROR(LF_EINVAL, "writing %s: nextra = %d but extra = NULL", path, meta->nextra);
  for (int i = 0; i < meta->nextra; i++) {
    const char *t = meta->extra[i].type;
    if (!t || !*t || strlen(t) > LF_LIME_TYPE_MAX || !strncmp(t, "ildg-", 5) ||
        !strncmp(t, "scidac-", 7))
      return LF_ERROR(LF_EINVAL,
                      "writing %s: extra record type '%s' must have 1..128 characters and not "
                      "start with 'ildg-' or 'scidac-' (those are the configuration's own)",
                      path, t ? t : "(null)");
    if (meta->extra[i].bytes && !meta->extra[i].data)
      return LF_ERROR(LF_EINVAL, "writing %s: extra record '%s' has %zu bytes but data = NULL",
                      path, t, meta->extra[i].bytes);
  }
  char geom[64];
  lf_lattice_format(lat, geom, sizeof geom);
  const int typesize = n * n * 2 * precision / 8;

  sbuf pf = {0}, fx = {0}, pr = {0}, rx = {0}, fm = {0}, ck = {0};
  /* scidac-private-file-xml */
  sb_printf(&pf, XML_HEAD "<scidacFile><version>1.1</version><spacetime>%d</spacetime><dims>",
            nd);
  for (int mu = 0; mu < nd; mu++) sb_printf(&pf, "%d ", lat->L[mu]);
  sb_printf(&pf, "</dims><volfmt>0</volfmt></scidacFile>");
  /* scidac-file-xml */
  sb_printf(&fx, XML_HEAD "<title>latflow %s gauge configuration %s</title>", lf_group_name(f->group),
            geom);
  /* scidac-private-record-xml */
  char date[64] = "";
  if (!meta->date) {
    time_t now = time(NULL);
    struct tm tmv;
    if (gmtime_r(&now, &tmv)) strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y UTC", &tmv);
  }
  sb_printf(&pr, XML_HEAD "<scidacRecord><version>1.0</version>");
  if (!meta->date || *meta->date) {
    sb_put(&pr, "<date>", 6);
    sb_escaped(&pr, meta->date ? meta->date : date);
    sb_put(&pr, "</date>", 7);
  }
  sb_printf(&pr,
            "<globaldata>0</globaldata><datatype>QDP_%c%d_ColorMatrix</datatype>"
            "<precision>%c</precision><colors>%d</colors><typesize>%d</typesize>"
            "<datacount>%d</datacount></scidacRecord>",
            precision == 32 ? 'F' : 'D', n, precision == 32 ? 'F' : 'D', n, typesize, nd);
  /* scidac-record-xml */
  sb_printf(&rx, XML_HEAD "<info>");
  if (meta->info) sb_escaped(&rx, meta->info);
  else
    sb_printf(&rx, "latflow %s\ngroup = %s\nlattice = %s\nplaquette = %.15f\n", lf_version(),
              lf_group_name(f->group), geom, lf_observe_plaquette(f));
  sb_printf(&rx, "</info>");
  /* ildg-format */
  sb_printf(&fm,
            XML_HEAD "<ildgFormat xmlns=\"http://www.lqcd.org/ildg\" "
            "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
            "xsi:schemaLocation=\"http://www.lqcd.org/ildg/filefmt.xsd\">"
            "<version>1.0</version><field>%s</field><precision>%d</precision>",
            field_name(f->group), precision);
  for (int mu = 0; mu < nd; mu++)
    sb_printf(&fm, "<%s>%d</%s>", extent_tag[mu], lat->L[mu], extent_tag[mu]);
  sb_printf(&fm, "</ildgFormat>");
  /* ildg-data-lfn: default the base name of the path */
  const char *lfn = meta->lfn && *meta->lfn ? meta->lfn : path;
  if (lfn == path) {
    const char *slash = strrchr(path, '/');
    if (slash && slash[1]) lfn = slash + 1;
  }

  lf_lime_writer *w = NULL;
  lf_scidac_sum sum = {0, 0};
  int rc = lf_lime_writer_open(&w, path);
  if (!rc) rc = write_xml(w, "scidac-private-file-xml", &pf, 1, 0);
  if (!rc) rc = write_xml(w, "scidac-file-xml", &fx, 0, 1);
  if (!rc) rc = write_xml(w, "scidac-private-record-xml", &pr, 1, 0);
  if (!rc) rc = write_xml(w, "scidac-record-xml", &rx, 0, 0);
  if (!rc) rc = write_xml(w, "ildg-format", &fm, 0, 0);
  if (!rc) rc = lf_lime_write_record(w, "ildg-data-lfn", lfn, strlen(lfn), 0, 0);
  if (!rc) rc = write_data(w, path, f, precision, &sum);
  if (!rc) {
    sb_printf(&ck,
              XML_HEAD "<scidacChecksum><version>1.0</version><suma>%08" PRIx32
              "</suma><sumb>%08" PRIx32 "</sumb></scidacChecksum>",
              sum.suma, sum.sumb);
    rc = write_xml(w, "scidac-checksum", &ck, 0, 1);
  }
  for (int i = 0; !rc && i < meta->nextra; i++)
    rc = lf_lime_write_record(w, meta->extra[i].type, meta->extra[i].data, meta->extra[i].bytes,
                              1, 1);
  if (w) {
    if (rc) lf_lime_writer_abort(w);
    else rc = lf_lime_writer_commit(w);
  }
  lf_free(pf.s), lf_free(fx.s), lf_free(pr.s), lf_free(rx.s), lf_free(fm.s), lf_free(ck.s);
  return rc;
}
