/*
 * memory.c -- 64-byte aligned allocation, a failing-allocator hook for tests, and the
 * bump arena used for per-step activations (STYLE rule 8: no hidden temporaries).
 */
#include "latflow/core.h"

#include <stdlib.h>
#include <string.h>

static long fail_countdown; /* 0: never fail; n > 0: the n-th allocation fails */

void lf_alloc_fail_after(long n) { fail_countdown = n; }

void *lf_alloc(size_t bytes) {
  if (fail_countdown > 0 && --fail_countdown == 0) {
    LF_ERROR(LF_ENOMEM, "out of memory allocating %zu bytes (injected failure)", bytes);
    return NULL;
  }
  size_t sz = (bytes + LF_ALIGN - 1) / LF_ALIGN * LF_ALIGN;
  if (sz == 0) sz = LF_ALIGN;
  void *p = aligned_alloc(LF_ALIGN, sz);
  if (!p) {
    LF_ERROR(LF_ENOMEM, "out of memory allocating %zu bytes; use a smaller lattice or batch",
             bytes);
    return NULL;
  }
  memset(p, 0, sz);
  return p;
}

void lf_free(void *p) { free(p); }

int lf_arena_init(lf_arena *a, size_t cap) {
  a->base = lf_alloc(cap);
  a->cap = a->base ? cap : 0;
  a->used = a->peak = 0;
  return a->base ? LF_OK : LF_ENOMEM;
}

void lf_arena_clear(lf_arena *a) {
  lf_free(a->base);
  a->base = NULL;
  a->cap = a->used = a->peak = 0;
}

void *lf_arena_alloc(lf_arena *a, size_t bytes) {
  size_t start = (a->used + LF_ALIGN - 1) / LF_ALIGN * LF_ALIGN;
  if (start > a->cap || bytes > a->cap - start) {
    LF_ERROR(LF_ENOMEM, "arena of %zu bytes exhausted (asked %zu more, %zu in use)", a->cap,
             bytes, a->used);
    return NULL;
  }
  a->used = start + bytes;
  if (a->used > a->peak) a->peak = a->used;
  return a->base + start;
}
