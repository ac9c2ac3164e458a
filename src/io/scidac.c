/*
 * scidac.c -- SciDAC checksum (per-site CRC-32 with rank-dependent rotations) and the tiny
 * XML element reader used for the ILDG/SciDAC XML records.
 *
 * Checksum (USQCD QIO, qio_checksum / DML_checksum_accum; docs/formats.md): for the site
 * with global lexicographic rank r (x fastest), c = crc32(0, site bytes as stored);
 * suma ^= rotl32(c, r mod 29), sumb ^= rotl32(c, r mod 31). XOR is associative and
 * exact, so callers may accumulate over sites in any order (or in OpenMP threads with an
 * XOR reduction) and get the same result.
 *
 * The XML reader is not a parser: it finds the first start tag with the given local name
 * (namespace prefixes ignored) and returns the text up to the next '<'. That is all the
 * leaf elements of ildgFormat and scidacChecksum need; anything malformed simply reads as
 * "absent" and the caller reports which element is missing.
 */
#include <ctype.h>
#include <zlib.h>

#include "internal.h"

static inline uint32_t rotl32(uint32_t x, unsigned k) {
  return k ? (x << k) | (x >> (32u - k)) : x; /* rotation by 0 leaves x unchanged */
}

void lf_scidac_sum_site(lf_scidac_sum *s, uint64_t rank, const void *bytes, size_t n) {
  const unsigned char *p = bytes;
  uLong c = crc32(0L, Z_NULL, 0);
  while (n > 0) {
    uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
    c = crc32(c, p, k);
    p += k;
    n -= k;
  }
  uint32_t crc = (uint32_t)c;
  s->suma ^= rotl32(crc, (unsigned)(rank % 29));
  s->sumb ^= rotl32(crc, (unsigned)(rank % 31));
}

int lf_xml_element(const char *xml, const char *name, char *out, size_t n) {
  size_t nl = strlen(name);
  for (const char *p = strchr(xml, '<'); p; p = strchr(p + 1, '<')) {
    const char *q = p + 1;
    if (*q == '/' || *q == '?' || *q == '!') continue;
    const char *t = q;
    while (*t && !isspace((unsigned char)*t) && *t != '>' && *t != '/') t++;
    const char *nm = q;
    for (const char *c = q; c < t; c++)
      if (*c == ':') nm = c + 1;
    if ((size_t)(t - nm) != nl || strncmp(nm, name, nl)) continue;
    const char *gt = strchr(t, '>');
    if (!gt) return 0;
    const char *b = gt + 1, *e;
    if (gt[-1] == '/') e = b; /* <name/> : empty */
    else {
      e = strchr(b, '<');
      if (!e) return 0;
    }
    while (b < e && isspace((unsigned char)*b)) b++;
    while (e > b && isspace((unsigned char)e[-1])) e--;
    size_t k = (size_t)(e - b);
    if (k + 1 > n) return -1;
    memcpy(out, b, k);
    out[k] = '\0';
    return 1;
  }
  return 0;
}
