/*
 * rng.c -- Philox4x32-10 counter-based random numbers.
 *
 * Reference: J. K. Salmon, M. A. Moraes, R. O. Dror, D. E. Shaw, "Parallel random
 * numbers: as easy as 1, 2, 3", SC11 (2011). Checked against the Random123
 * known-answer vectors in tests/core/rng.c.
 *
 * A stream is (key = seed, counter words 1..3 = stream id); counter word 0 counts
 * blocks of four 32-bit outputs. Streams are cheap to create, so parallel code gives
 * every site/sample/trajectory its own stream: results are independent of the
 * number of threads and ranks. Thread contract: one lf_rng per thread.
 */
#include "latflow/core.h"

#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

static inline void mulhilo(uint32_t a, uint32_t b, uint32_t *hi, uint32_t *lo) {
  uint64_t p = (uint64_t)a * (uint64_t)b;
  *hi = (uint32_t)(p >> 32);
  *lo = (uint32_t)p;
}

void lf_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
  uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
  uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; round++) {
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo(PHILOX_M0, c0, &hi0, &lo0);
    mulhilo(PHILOX_M1, c2, &hi1, &lo1);
    uint32_t n0 = hi1 ^ c1 ^ k0;
    uint32_t n1 = lo1;
    uint32_t n2 = hi0 ^ c3 ^ k1;
    uint32_t n3 = lo0;
    c0 = n0, c1 = n1, c2 = n2, c3 = n3;
    k0 += PHILOX_W0;
    k1 += PHILOX_W1;
  }
  out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

void lf_rng_init(lf_rng *r, uint64_t seed, uint64_t a, uint64_t b) {
  r->key[0] = (uint32_t)seed;
  r->key[1] = (uint32_t)(seed >> 32);
  r->ctr[0] = 0;
  r->ctr[1] = (uint32_t)b;
  r->ctr[2] = (uint32_t)a;
  r->ctr[3] = (uint32_t)(a >> 32);
  r->pos = 4;
}

uint32_t lf_rng_u32(lf_rng *r) {
  if (r->pos >= 4) {
    lf_philox4x32_10(r->ctr, r->key, r->buf);
    r->ctr[0]++;
    r->pos = 0;
  }
  return r->buf[r->pos++];
}

uint64_t lf_rng_u64(lf_rng *r) {
  uint64_t hi = lf_rng_u32(r);
  return (hi << 32) | lf_rng_u32(r);
}

double lf_rng_uniform(lf_rng *r) {
  /* 53 random bits, offset by half a unit so 0 and 1 are never returned. */
  uint64_t x = lf_rng_u64(r) >> 11;
  return ((double)x + 0.5) * 0x1.0p-53;
}

void lf_rng_normal2(lf_rng *r, double *z0, double *z1) {
  double u1 = lf_rng_uniform(r), u2 = lf_rng_uniform(r);
  double rad = sqrt(-2.0 * log(u1));
  double phi = LF_TWOPI * u2;
  *z0 = rad * cos(phi);
  *z1 = rad * sin(phi);
}

double lf_rng_normal(lf_rng *r) {
  double z0, z1;
  lf_rng_normal2(r, &z0, &z1);
  return z0;
}
