/*
 * src/io/internal.h -- private helpers of the io module: stream-based LIME reader (used
 * by the fuzz harness through fmemopen), ILDG read from an open reader, tiny XML element
 * extraction and big-endian conversions.
 */
#ifndef LATFLOW_IO_INTERNAL_H
#define LATFLOW_IO_INTERNAL_H

#include <stdio.h>
#include <string.h>

#include "latflow/io.h"

/* Open a reader on an already open stream (must be seekable). `name` is used in
 * messages. If owns != 0 the stream is fclose'd by lf_lime_close (also on failure). */
int lf_lime_open_stream(lf_lime_reader **r, FILE *fp, const char *name, int owns);

/* lf_ildg_read / lf_ildg_read_into on an open reader. Exactly one of (lat, f) pair or
 * `into` is used: if into != NULL the data go there (geometry must match). */
int lf_ildg_read_reader(lf_lime_reader *r, lf_lattice *lat, lf_gauge **f, lf_gauge *into,
                        lf_ildg_info *info, unsigned flags);
/* Parse the format record (and LFN) only; fills info's group/nd/L/precision/lfn. */
int lf_ildg_probe_reader(lf_lime_reader *r, lf_ildg_info *info, int *format_index);

/* Text of the first element <name>...</name> (namespace prefixes ignored) in xml, with
 * surrounding white space removed, copied into out[n]. Returns 1 found, 0 absent,
 * -1 found but longer than n-1 bytes. */
int lf_xml_element(const char *xml, const char *name, char *out, size_t n);

/* Big-endian loads and stores (independent of the host byte order). */
static inline uint32_t lf_be32_load(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}
static inline uint64_t lf_be64_load(const unsigned char *p) {
  return (uint64_t)lf_be32_load(p) << 32 | (uint64_t)lf_be32_load(p + 4);
}
static inline void lf_be32_store(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}
static inline void lf_be64_store(unsigned char *p, uint64_t v) {
  lf_be32_store(p, (uint32_t)(v >> 32));
  lf_be32_store(p + 4, (uint32_t)v);
}
static inline double lf_be_double(const unsigned char *p) {
  uint64_t u = lf_be64_load(p);
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}
static inline double lf_be_float(const unsigned char *p) {
  uint32_t u = lf_be32_load(p);
  float x;
  memcpy(&x, &u, sizeof x);
  return (double)x;
}
static inline void lf_be_store_double(unsigned char *p, double d) {
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  lf_be64_store(p, u);
}
static inline void lf_be_store_float(unsigned char *p, double d) {
  float x = (float)d;
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  lf_be32_store(p, u);
}

#endif
