/*
 * fuzz/fuzz_lime.c -- libFuzzer harness for the LIME walker and the ILDG reader.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined (see fuzz/fuzz.cmake, which the io
 * tests include; the CTest io_fuzz_lime runs it for ~20 s from fuzz/seeds and the broken
 * files of tests/io/corpus). Any input that crashes or leaks belongs in tests/io/corpus
 * afterwards, where the normal suite replays it (tests/io/corpus.c).
 *
 * The input is a whole file, opened in memory with fmemopen. Each input is read twice:
 * strictly (checksum required, so mutated data mostly stop there) and with
 * LF_ILDG_NO_CHECKSUM | LF_ILDG_ALLOW_NONUNITARY so the conversion, unitarity and
 * plaquette code sees mutated data too. Every record payload up to 64 KiB is also read.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>

#include "../src/io/internal.h"

static void one_pass(const uint8_t *data, size_t size, unsigned flags) {
  FILE *fp = fmemopen((void *)(uintptr_t)data, size, "r");
  if (!fp) return;
  lf_lime_reader *r;
  if (lf_lime_open_stream(&r, fp, "fuzz-input", 1)) return;
  for (int i = 0; i < lf_lime_count(r); i++) {
    if (lf_lime_get(r, i)->bytes > (1u << 16)) continue;
    char *p;
    size_t n;
    if (lf_lime_read_all(r, i, &p, &n) == LF_OK) lf_free(p);
  }
  lf_ildg_info info;
  lf_lattice lat;
  lf_gauge *f = NULL;
  if (lf_ildg_probe_reader(r, &info, NULL) == LF_OK &&
      lf_ildg_read_reader(r, &lat, &f, NULL, &info, flags) == LF_OK) {
    lf_gauge_free(f);
    lf_lattice_clear(&lat);
  }
  lf_lime_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0; /* fmemopen refuses an empty buffer */
  one_pass(data, size, 0);
  one_pass(data, size, LF_ILDG_NO_CHECKSUM | LF_ILDG_ALLOW_NONUNITARY);
  return 0;
}
