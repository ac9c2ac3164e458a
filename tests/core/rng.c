/* tests/core/rng.c -- Philox4x32-10 against the Random123 known-answer vectors (Salmon et
 * al., SC11), stream independence, uniform/normal moments, error records, arena. */
#include "latflow/core.h"
#include "lf_test.h"

#include <string.h>

int main(void) {
  /* Random123 kat_vectors, philox4x32 10 rounds: ctr[4] key[2] -> out[4] */
  static const uint32_t kat[3][10] = {
      {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
      {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
       0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
      {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
       0x94fdcceb, 0x5001e420, 0x24126ea1}};
  for (int k = 0; k < 3; k++) {
    uint32_t out[4];
    lf_philox4x32_10(kat[k], kat[k] + 4, out);
    char what[64];
    snprintf(what, sizeof what, "philox4x32-10 known-answer vector %d", k);
    LF_TEST_TRUE(what, !memcmp(out, kat[k] + 6, sizeof out));
  }

  /* The stream API maps (seed, a, b) onto key and counter words as documented. */
  lf_rng r;
  lf_rng_init(&r, 0x299f31d0a4093822ull, 0x0370734413198a2eull, 0x85a308d3u);
  r.ctr[0] = 0x243f6a88;
  LF_TEST_TRUE("stream words map onto the KAT counter/key", lf_rng_u32(&r) == 0xd16cfe09);

  /* Moments of uniform and normal draws: tolerance from the known variance (5 sigma). */
  const long NS = 400000;
  const double N = (double)NS;
  double s1 = 0, s2 = 0, n1 = 0, n2 = 0, n4 = 0;
  lf_rng_init(&r, 2385, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, 1), 7);
  for (long i = 0; i < NS; i++) {
    double u = lf_rng_uniform(&r);
    if (!(u > 0 && u < 1)) { LF_TEST_TRUE("uniform in (0,1)", 0); break; }
    s1 += u, s2 += u * u;
    double z = lf_rng_normal(&r);
    n1 += z, n2 += z * z, n4 += z * z * z * z;
  }
  LF_TEST_SIGMA("uniform mean", s1 / N, sqrt(1.0 / 12 / N), 0.5, 5);
  LF_TEST_SIGMA("uniform second moment", s2 / N, sqrt((1.0 / 5 - 1.0 / 9) / N), 1.0 / 3, 5);
  LF_TEST_SIGMA("normal mean", n1 / N, sqrt(1.0 / N), 0.0, 5);
  LF_TEST_SIGMA("normal variance", n2 / N, sqrt(2.0 / N), 1.0, 5);
  LF_TEST_SIGMA("normal fourth moment", n4 / N, sqrt(96.0 / N), 3.0, 5);

  /* Different streams differ; the same stream repeats. */
  lf_rng a, b, c;
  lf_rng_init(&a, 1, 2, 3);
  lf_rng_init(&b, 1, 2, 4);
  lf_rng_init(&c, 1, 2, 3);
  uint64_t xa = lf_rng_u64(&a), xb = lf_rng_u64(&b), xc = lf_rng_u64(&c);
  LF_TEST_TRUE("neighbouring streams differ", xa != xb);
  LF_TEST_TRUE("same stream repeats", xa == xc);

  /* Error record, failing allocator and arena. */
  lf_error_clear();
  int rc = LF_ERROR(LF_EINVAL, "beta = %g must be positive", -1.0);
  LF_TEST_TRUE("LF_ERROR returns its code", rc == LF_EINVAL);
  LF_TEST_TRUE("message recorded", strstr(lf_last_error(), "beta = -1 must be positive") != NULL);
  LF_TEST_TRUE("code recorded", lf_last_error_code() == LF_EINVAL);
  lf_alloc_fail_after(1);
  void *p = lf_alloc(100);
  LF_TEST_TRUE("injected allocation failure returns NULL", p == NULL &&
               lf_last_error_code() == LF_ENOMEM);
  p = lf_alloc(100);
  LF_TEST_TRUE("allocation works again, aligned", p && ((uintptr_t)p % LF_ALIGN) == 0);
  lf_free(p);
  lf_arena ar;
  LF_TEST_TRUE("arena init", lf_arena_init(&ar, 1000) == LF_OK);
  void *a1 = lf_arena_alloc(&ar, 500);
  void *a2 = lf_arena_alloc(&ar, 500);
  LF_TEST_TRUE("arena refuses overflow", a1 && !a2 && lf_last_error_code() == LF_ENOMEM);
  lf_arena_reset(&ar);
  LF_TEST_TRUE("arena reset reuses memory", lf_arena_alloc(&ar, 500) == a1);
  lf_arena_clear(&ar);
  return lf_test_done();
}
