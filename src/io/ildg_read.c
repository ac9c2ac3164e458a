/*
 * ildg_read.c -- read ILDG gauge configurations (and latflow's U(1)/SU(2), 2D/3D
 * variants) from LIME files: format record, LFN, binary data, SciDAC checksum,
 * unitarity check, reunitarisation of 32-bit data, plaquette.
 *
 * Format: ILDG file format 1.1 (ILDG Metadata Working Group, "ILDG File Format",
 * https://www.lqcd.org/ildg/docs); SciDAC checksum as in USQCD QIO; latflow extensions and
 * every check listed in docs/formats.md.
 *
 * Safety: the LIME reader has already checked every declared length against the file
 * size; here the binary-data length must equal the one implied by the format record
 * before the lattice and field are allocated, so memory is bounded by ~2x the file size.
 * Thread contract: conversion, CRC and defect scans are OpenMP loops over sites with XOR
 * and max reductions (exact, hence independent of the thread count).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "internal.h"
#include "latflow/observe.h"

#define XML_RECORD_MAX (1u << 20) /* format / checksum XML records are < 1 KiB in practice */
#define CHUNK_BYTES (1u << 22)    /* binary data are read in pieces of about 4 MiB        */

static const char *const extent_tag[LF_MAXDIM] = {"lx", "ly", "lz", "lt"};

const char *lf_ildg_checksum_name(int status) {
  switch (status) {
  case LF_ILDG_CHECKSUM_OK: return "ok";
  case LF_ILDG_CHECKSUM_ABSENT: return "absent";
  case LF_ILDG_CHECKSUM_BAD: return "mismatch";
  default: return "unknown";
  }
}

/* Read a small XML record i, refusing absurd sizes. */
static int read_xml(lf_lime_reader *r, int i, char **xml) {
  const lf_lime_record *rec = lf_lime_get(r, i);
  if (rec->bytes == 0)
    return LF_ERROR(LF_EFORMAT, "%s: record '%s' is empty (0 bytes); the file is corrupt",
                    lf_lime_path(r), rec->type);
  if (rec->bytes > XML_RECORD_MAX)
    return LF_ERROR(LF_EFORMAT,
                    "%s: record '%s' declares %" PRIu64
                    " bytes, absurd for an XML record (limit %u): the file is corrupt",
                    lf_lime_path(r), rec->type, rec->bytes, XML_RECORD_MAX);
  size_t n;
  return lf_lime_read_all(r, i, xml, &n);
}

static int parse_extent(const char *path, const char *tag, const char *text, int *out) {
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (end == text || *end || errno || v < 1 || v > 1024)
    return LF_ERROR(LF_EFORMAT,
                    "%s: ildg-format has <%s>%s</%s>; an extent must be an integer 1..1024",
                    path, tag, text, tag);
  *out = (int)v;
  return LF_OK;
}

/* Index of a record of `type` in the message `msg` (preferred) or anywhere after `from`. */
static int find_near(const lf_lime_reader *r, const char *type, int msg, int from) {
  for (int i = lf_lime_find(r, type, 0); i >= 0; i = lf_lime_find(r, type, i + 1))
    if (lf_lime_get(r, i)->message == msg) return i;
  return lf_lime_find(r, type, from);
}

int lf_ildg_probe_reader(lf_lime_reader *r, lf_ildg_info *info, int *format_index) {
  const char *path = lf_lime_path(r);
  memset(info, 0, sizeof *info);
  info->nrecords = lf_lime_count(r);
  info->nmessages = lf_lime_get(r, info->nrecords - 1)->message + 1;
  int fi = lf_lime_find(r, "ildg-format", 0);
  if (fi < 0) {
    if (lf_lime_find(r, "scidac-binary-data", 0) >= 0)
      return LF_ERROR(LF_EUNSUP,
                      "%s: SciDAC file without an 'ildg-format' record; latflow reads ILDG "
                      "gauge configurations only",
                      path);
    char list[256] = "";
    size_t k = 0;
    for (int i = 0; i < info->nrecords && k + 2 < sizeof list; i++)
      k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "",
                            lf_lime_get(r, i)->type);
    return LF_ERROR(LF_EFORMAT,
                    "%s: no 'ildg-format' record: not an ILDG gauge configuration (records: %s)",
                    path, list);
  }
  char *xml = NULL;
  LF_CHECK(read_xml(r, fi, &xml));
  char v[64];
  int rc = LF_OK, got = lf_xml_element(xml, "field", v, sizeof v);
  if (got != 1) {
    rc = LF_ERROR(LF_EFORMAT, "%s: ildg-format has no <field> element (expected su3gauge)", path);
    goto done;
  }
  if (!strcmp(v, "su3gauge")) info->group = LF_SU3;
  else if (!strcmp(v, "su2gauge")) info->group = LF_SU2;
  else if (!strcmp(v, "u1gauge")) info->group = LF_U1;
  else {
    rc = LF_ERROR(LF_EUNSUP,
                  "%s: ildg-format <field>%s</field> is not supported; latflow reads su3gauge, "
                  "su2gauge and u1gauge",
                  path, v);
    goto done;
  }
  got = lf_xml_element(xml, "precision", v, sizeof v);
  if (got != 1 || (strcmp(v, "32") && strcmp(v, "64"))) {
    rc = LF_ERROR(LF_EFORMAT, "%s: ildg-format <precision> is %s%s%s; it must be 32 or 64", path,
                  got == 1 ? "'" : "", got == 1 ? v : "missing", got == 1 ? "'" : "");
    goto done;
  }
  info->precision = v[0] == '3' ? 32 : 64;
  int nd = 0, seen_gap = 0;
  for (int mu = 0; mu < LF_MAXDIM; mu++) {
    got = lf_xml_element(xml, extent_tag[mu], v, sizeof v);
    if (got == 0) {
      seen_gap = 1;
      continue;
    }
    if (seen_gap) {
      rc = LF_ERROR(LF_EFORMAT,
                    "%s: ildg-format has <%s> but not <%s>; extents are lx, ly[, lz[, lt]] "
                    "without gaps",
                    path, extent_tag[mu], extent_tag[mu - 1]);
      goto done;
    }
    if (got < 0) {
      rc = LF_ERROR(LF_EFORMAT, "%s: ildg-format <%s> is too long", path, extent_tag[mu]);
      goto done;
    }
    if ((rc = parse_extent(path, extent_tag[mu], v, &info->L[mu]))) goto done;
    nd++;
  }
  if (nd < 2) {
    rc = LF_ERROR(LF_EFORMAT, "%s: ildg-format gives %d extent(s); need at least <lx> and <ly>",
                  path, nd);
    goto done;
  }
  info->nd = nd;
  for (int mu = nd; mu < LF_MAXDIM; mu++) info->L[mu] = 1;
  /* Logical file name (optional on read). */
  int li = find_near(r, "ildg-data-lfn", lf_lime_get(r, fi)->message, 0);
  if (li >= 0) {
    size_t n = (size_t)lf_lime_get(r, li)->bytes;
    if (n > sizeof info->lfn - 1) n = sizeof info->lfn - 1;
    if ((rc = lf_lime_read(r, li, 0, info->lfn, n))) goto done;
    info->lfn[n] = '\0';
    for (size_t k = 0; k < n; k++) /* keep it printable; it ends at a NUL if any */
      if (info->lfn[k] && ((unsigned char)info->lfn[k] < 32 || info->lfn[k] == 127))
        info->lfn[k] = '?';
  }
  if (format_index) *format_index = fi;
done:
  lf_free(xml);
  return rc;
}

static int parse_hex32(const char *s, uint32_t *out) {
  size_t k = strlen(s);
  if (k == 0 || k > 8) return 0;
  uint32_t v = 0;
  for (size_t i = 0; i < k; i++) {
    int c = (unsigned char)s[i], d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return 0;
    v = v << 4 | (uint32_t)d;
  }
  *out = v;
  return 1;
}

/* Convert the binary data to doubles in f and accumulate the checksum. */
static int read_data(lf_lime_reader *r, int bi, lf_gauge *f, int prec, lf_scidac_sum *sum) {
  const int nd = f->lat->nd, nn = f->n * f->n;
  const size_t word = (size_t)prec / 8;
  const size_t site_bytes = (size_t)nd * (size_t)nn * 2 * word;
  const long vol = f->lat->vol;
  long chunk = (long)(CHUNK_BYTES / site_bytes);
  if (chunk < 1) chunk = 1;
  if (chunk > vol) chunk = vol;
  unsigned char *buf = lf_alloc((size_t)chunk * site_bytes);
  if (!buf) return LF_ERROR(LF_ENOMEM, "%s: out of memory for the read buffer", lf_lime_path(r));
  uint32_t sa = 0, sb = 0;
  int rc = LF_OK;
  for (long s0 = 0; s0 < vol && !rc; s0 += chunk) {
    long ns = vol - s0 < chunk ? vol - s0 : chunk;
    rc = lf_lime_read(r, bi, (uint64_t)s0 * site_bytes, buf, (size_t)ns * site_bytes);
    if (rc) break;
#pragma omp parallel for schedule(static) reduction(^ : sa, sb)
    for (long k = 0; k < ns; k++) {
      const unsigned char *p = buf + (size_t)k * site_bytes;
      lf_scidac_sum one = {0, 0};
      lf_scidac_sum_site(&one, (uint64_t)(s0 + k), p, site_bytes);
      sa ^= one.suma;
      sb ^= one.sumb;
      lf_cplx *u = lf_gauge_link(f, s0 + k, 0); /* the nd links of a site are contiguous */
      for (int j = 0; j < nd * nn; j++, p += 2 * word) {
        double re = prec == 64 ? lf_be_double(p) : lf_be_float(p);
        double im = prec == 64 ? lf_be_double(p + word) : lf_be_float(p + word);
        u[j] = CMPLX(re, im);
      }
    }
  }
  lf_free(buf);
  sum->suma = sa;
  sum->sumb = sb;
  return rc;
}

/* Largest defect; LF_ERANGE for non-finite numbers or (unless allowed) gross defects. */
static int check_links(const char *path, lf_gauge *f, unsigned flags, double *maxdef) {
  const lf_lattice *lat = f->lat;
  const int nd = lat->nd, nn = f->n * f->n;
  double dmax = 0;
  long bad = -1;
#pragma omp parallel for schedule(static) reduction(max : dmax, bad)
  for (long s = 0; s < lat->vol; s++)
    for (int mu = 0; mu < nd; mu++) {
      const lf_cplx *u = lf_gauge_link(f, s, mu);
      int finite = 1;
      for (int j = 0; j < nn; j++) finite &= isfinite(creal(u[j])) && isfinite(cimag(u[j]));
      if (!finite) {
        if (s * nd + mu > bad) bad = s * nd + mu;
        continue;
      }
      double d = lf_group_defect(f->group, u);
      if (d > dmax) dmax = d;
    }
  *maxdef = dmax;
  int x[LF_MAXDIM] = {0};
  if (bad >= 0) {
    lf_lattice_coords(lat, bad / nd, x);
    return LF_ERROR(LF_ERANGE,
                    "%s: link mu=%ld at site (%d,%d,%d,%d) holds NaN or infinity: the data are "
                    "corrupt",
                    path, bad % nd, x[0], x[1], x[2], x[3]);
  }
  if (dmax > LF_ILDG_MAX_DEFECT && !(flags & LF_ILDG_ALLOW_NONUNITARY)) {
    for (long s = 0; s < lat->vol; s++)
      for (int mu = 0; mu < nd; mu++)
        if (lf_group_defect(f->group, lf_gauge_link(f, s, mu)) == dmax) {
          lf_lattice_coords(lat, s, x);
          return LF_ERROR(LF_ERANGE,
                          "%s: links are not in %s: largest unitarity defect %.3g (limit %.0e) at "
                          "site (%d,%d,%d,%d) mu=%d; wrong <field>, precision or byte order? "
                          "(allow it with LF_ILDG_ALLOW_NONUNITARY / --allow-nonunitary)",
                          path, lf_group_name(f->group), dmax, LF_ILDG_MAX_DEFECT, x[0], x[1],
                          x[2], x[3], mu);
        }
  }
  return LF_OK;
}

static int read_checksum(lf_lime_reader *r, int ci, lf_ildg_info *info) {
  const char *path = lf_lime_path(r);
  char *xml = NULL;
  LF_CHECK(read_xml(r, ci, &xml));
  char a[32], b[32];
  int ok = lf_xml_element(xml, "suma", a, sizeof a) == 1 &&
           lf_xml_element(xml, "sumb", b, sizeof b) == 1 && parse_hex32(a, &info->file_suma) &&
           parse_hex32(b, &info->file_sumb);
  lf_free(xml);
  if (!ok)
    return LF_ERROR(LF_EFORMAT,
                    "%s: scidac-checksum record has no valid <suma>/<sumb> (8 hex digits each): "
                    "corrupt record (read with --no-checksum to ignore it)",
                    path);
  return LF_OK;
}

int lf_ildg_read_reader(lf_lime_reader *r, lf_lattice *lat, lf_gauge **fout, lf_gauge *into,
                        lf_ildg_info *info_out, unsigned flags) {
  const char *path = lf_lime_path(r);
  lf_ildg_info info;
  int fi, rc;
  if (fout) *fout = NULL;
  if (lat) memset(lat, 0, sizeof *lat);
  LF_CHECK(lf_ildg_probe_reader(r, &info, &fi));
  const int msg = lf_lime_get(r, fi)->message;
  int bi = find_near(r, "ildg-binary-data", msg, 0);
  if (bi < 0)
    return LF_ERROR(LF_EFORMAT, "%s: no 'ildg-binary-data' record: the file holds no gauge field",
                    path);
  const int n = (int)info.group, nd = info.nd;
  uint64_t vol = 1;
  for (int mu = 0; mu < nd; mu++) vol *= (uint64_t)info.L[mu];
  const uint64_t expect = vol * (uint64_t)nd * (uint64_t)(n * n) * 2u * (uint64_t)(info.precision / 8);
  const uint64_t have = lf_lime_get(r, bi)->bytes;
  char geom[64];
  {
    size_t k = 0;
    for (int mu = 0; mu < nd; mu++)
      k += (size_t)snprintf(geom + k, sizeof geom - k, "%s%d", mu ? "x" : "", info.L[mu]);
  }
  if (have != expect)
    return LF_ERROR(LF_EFORMAT,
                    "%s: ildg-binary-data has %" PRIu64 " bytes but ildg-format declares %s %s at "
                    "%d bits = %" PRIu64
                    " bytes: the format record or the data are wrong (truncated?)",
                    path, have, lf_group_name(info.group), geom, info.precision, expect);
  /* Geometry and field. */
  lf_gauge *f = into;
  if (into) {
    int same = into->group == info.group && into->lat->nd == nd;
    for (int mu = 0; same && mu < nd; mu++) same = into->lat->L[mu] == info.L[mu];
    if (!same) {
      char want[64];
      lf_lattice_format(into->lat, want, sizeof want);
      return LF_ERROR(LF_ESTATE, "%s holds %s on %s but the field to fill is %s on %s", path,
                      lf_group_name(info.group), geom, lf_group_name(into->group), want);
    }
  } else {
    if ((rc = lf_lattice_init(lat, nd, info.L)))
      return lf_error_context(rc, "%s: lattice %s from ildg-format", path, geom);
    if ((rc = lf_gauge_alloc(&f, lat, info.group))) {
      lf_lattice_clear(lat);
      return LF_ERROR(LF_ENOMEM, "%s: out of memory for a %s field on %s", path,
                      lf_group_name(info.group), geom);
    }
  }
  lf_scidac_sum sum = {0, 0};
  if ((rc = read_data(r, bi, f, info.precision, &sum))) goto fail;
  info.suma = sum.suma;
  info.sumb = sum.sumb;
  int ci = find_near(r, "scidac-checksum", msg, bi + 1);
  if (ci < 0) info.checksum = LF_ILDG_CHECKSUM_ABSENT;
  else {
    if ((rc = read_checksum(r, ci, &info))) {
      if (!(flags & LF_ILDG_NO_CHECKSUM)) goto fail;
      lf_error_clear();
      rc = LF_OK;
      info.checksum = LF_ILDG_CHECKSUM_BAD;
    } else if (info.file_suma == sum.suma && info.file_sumb == sum.sumb) {
      info.checksum = LF_ILDG_CHECKSUM_OK;
    } else {
      info.checksum = LF_ILDG_CHECKSUM_BAD;
      if (!(flags & LF_ILDG_NO_CHECKSUM)) {
        rc = LF_ERROR(LF_ECHECKSUM,
                      "%s: SciDAC checksum mismatch: file says suma %08" PRIx32 " sumb %08" PRIx32
                      ", data give %08" PRIx32 " %08" PRIx32
                      ": the binary data are corrupt (read with --no-checksum to accept them)",
                      path, info.file_suma, info.file_sumb, sum.suma, sum.sumb);
        goto fail;
      }
    }
  }
  if ((rc = check_links(path, f, flags, &info.max_defect))) goto fail;
  info.plaquette = info.plaquette_field = lf_observe_plaquette(f);
  if (info.precision == 32 && !(flags & LF_ILDG_NO_REUNITARIZE)) {
    lf_gauge_unitarize(f);
    info.reunitarized = 1;
    info.plaquette_field = lf_observe_plaquette(f);
  }
  if (info_out) *info_out = info;
  if (fout) *fout = f;
  return LF_OK;
fail:
  if (!into) {
    lf_gauge_free(f);
    lf_lattice_clear(lat);
    memset(lat, 0, sizeof *lat);
  }
  return rc;
}

int lf_ildg_read(const char *path, lf_lattice *lat, lf_gauge **f, lf_ildg_info *info,
                 unsigned flags) {
  lf_lime_reader *r;
  *f = NULL;
  memset(lat, 0, sizeof *lat);
  LF_CHECK(lf_lime_open(&r, path));
  int rc = lf_ildg_read_reader(r, lat, f, NULL, info, flags);
  lf_lime_close(r);
  return rc;
}

int lf_ildg_read_into(const char *path, lf_gauge *f, lf_ildg_info *info, unsigned flags) {
  lf_lime_reader *r;
  LF_CHECK(lf_lime_open(&r, path));
  int rc = lf_ildg_read_reader(r, NULL, NULL, f, info, flags);
  lf_lime_close(r);
  return rc;
}

int lf_ildg_probe(const char *path, lf_ildg_info *info) {
  lf_lime_reader *r;
  LF_CHECK(lf_lime_open(&r, path));
  int rc = lf_ildg_probe_reader(r, info, NULL);
  lf_lime_close(r);
  return rc;
}

int lf_ildg_read_record(const char *path, const char *type, char **data, size_t *bytes) {
  lf_lime_reader *r;
  *data = NULL;
  *bytes = 0;
  LF_CHECK(lf_lime_open(&r, path));
  int i = lf_lime_find(r, type, 0), rc;
  if (i < 0) rc = LF_ERROR(LF_EFORMAT, "%s has no record of type '%s'", path, type);
  else rc = lf_lime_read_all(r, i, data, bytes);
  lf_lime_close(r);
  return rc;
}

int lf_ildg_has_record(const char *path, const char *type) {
  lf_lime_reader *r;
  LF_CHECK(lf_lime_open(&r, path));
  int i = lf_lime_find(r, type, 0);
  lf_lime_close(r);
  return i >= 0;
}
