/*
 * sha256.c -- SHA-256 of buffers and files (artifact checksums in the registry).
 *
 * Implements FIPS 180-4, "Secure Hash Standard", section 6.2 (SHA-256), written from the
 * specification; checked in tests/registry/api.c against the FIPS test vectors "abc",
 * "" and the 448-bit two-block message. Thread contract: reentrant, no shared state.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

typedef struct {
  uint32_t h[8];
  uint64_t len; /* bytes hashed */
  unsigned char blk[64];
  size_t nblk;
} sha256_ctx;

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

static inline uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void compress(uint32_t h[8], const unsigned char *p) {
  uint32_t w[64];
  for (int t = 0; t < 16; t++)
    w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 | (uint32_t)p[4 * t + 2] << 8 |
           (uint32_t)p[4 * t + 3];
  for (int t = 16; t < 64; t++) {
    uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
    uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
    w[t] = w[t - 16] + s0 + w[t - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int t = 0; t < 64; t++) {
    uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
    uint32_t ch = (e & f) ^ (~e & g);
    uint32_t t1 = hh + S1 + ch + K[t] + w[t];
    uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
    uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
    uint32_t t2 = S0 + maj;
    hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
  }
  h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

static void sha_init(sha256_ctx *c) {
  static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(c->h, h0, sizeof h0);
  c->len = 0;
  c->nblk = 0;
}

static void sha_update(sha256_ctx *c, const unsigned char *p, size_t n) {
  c->len += n;
  while (n > 0) {
    size_t take = 64 - c->nblk < n ? 64 - c->nblk : n;
    memcpy(c->blk + c->nblk, p, take);
    c->nblk += take, p += take, n -= take;
    if (c->nblk == 64) {
      compress(c->h, c->blk);
      c->nblk = 0;
    }
  }
}

static void sha_final(sha256_ctx *c, char hex[65]) {
  uint64_t bits = c->len * 8u;
  unsigned char pad = 0x80, zero = 0;
  sha_update(c, &pad, 1);
  while (c->nblk != 56) sha_update(c, &zero, 1);
  unsigned char lenb[8];
  for (int i = 0; i < 8; i++) lenb[i] = (unsigned char)(bits >> (56 - 8 * i));
  sha_update(c, lenb, 8);
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 4; j++) {
      unsigned byte = (c->h[i] >> (24 - 8 * j)) & 0xffu;
      hex[8 * i + 2 * j] = digits[byte >> 4];
      hex[8 * i + 2 * j + 1] = digits[byte & 15u];
    }
  hex[64] = '\0';
}

void lf_sha256_hex(const void *data, size_t len, char hex[65]) {
  sha256_ctx c;
  sha_init(&c);
  sha_update(&c, data, len);
  sha_final(&c, hex);
}

int lf_sha256_file(const char *path, char hex[65], int64_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return LF_ERROR(LF_EIO, "cannot open artifact '%s': %s (give the path of an existing file)",
                    path, strerror(errno));
  sha256_ctx c;
  sha_init(&c);
  unsigned char buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) sha_update(&c, buf, n);
  int err = ferror(f);
  fclose(f);
  if (err) return LF_ERROR(LF_EIO, "reading artifact '%s' failed", path);
  if (size) *size = (int64_t)c.len;
  sha_final(&c, hex);
  return LF_OK;
}
