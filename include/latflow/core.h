/*
 * latflow/core.h -- status codes, error messages, aligned memory, arenas, timers,
 * progress bar and the counter-based random number generator (Philox4x32-10).
 *
 * Every library function that can fail returns an `int` status: LF_OK (0) or a
 * negative LF_E* code. The failing function records a message (with file and
 * line) through LF_ERROR; the caller reads it back with lf_last_error(). The
 * library never prints and never exits; only app/ decides what the user sees.
 *
 *     int rc = lf_lattice_init(&lat, 2, L);
 *     if (rc) fprintf(stderr, "latflow: %s\n", lf_last_error());
 *
 * Random numbers: a draw is a pure function of (seed, stream, counter), so every
 * site or sample gets its own stream and results do not depend on the number of
 * threads or ranks:
 *
 *     lf_rng r;
 *     lf_rng_init(&r, seed, LF_RNG_PURPOSE_HEATBATH, (uint64_t)site);
 *     double u = lf_rng_uniform(&r);
 *
 * Thread contract: the error record is thread-local; arenas and rng states are
 * owned by one thread at a time.
 */
#ifndef LATFLOW_CORE_H
#define LATFLOW_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- status */
enum {
  LF_OK = 0,
  LF_EINVAL = -1,    /* bad argument or user input                 */
  LF_ENOMEM = -2,    /* allocation failed                          */
  LF_EIO = -3,       /* read/write/open failed                     */
  LF_EFORMAT = -4,   /* malformed or foreign file                  */
  LF_ECHECKSUM = -5, /* checksum mismatch                          */
  LF_ENOCONV = -6,   /* iteration did not converge                 */
  LF_ENAN = -7,      /* NaN or Inf produced                        */
  LF_EUNSUP = -8,    /* valid but not supported (yet)              */
  LF_ESTATE = -9,    /* object in the wrong state / mismatch       */
  LF_EINTR = -10,    /* interrupted by a signal (checkpoint taken) */
  LF_EDB = -11,      /* database error                             */
  LF_EMPI = -12,     /* MPI / communication error                  */
  LF_ERANGE = -13    /* value out of the representable range       */
};

/* Short description of a status code ("invalid argument", ...). */
const char *lf_strerror(int code);
/* The last error message recorded on this thread ("" if none). */
const char *lf_last_error(void);
/* The code of the last recorded error on this thread (LF_OK if none). */
int lf_last_error_code(void);
/* Forget the recorded error. */
void lf_error_clear(void);
/* Record an error; returns `code` so it can be used in `return LF_ERROR(...)`. */
int lf_error_set(int code, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Prefix the recorded message with more context ("reading cfg.lime: ..."). */
int lf_error_context(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define LF_ERROR(code, ...) lf_error_set((code), __FILE__, __LINE__, __VA_ARGS__)
/* Propagate a failing status. */
#define LF_CHECK(expr)                                                                   \
  do {                                                                                   \
    int lf_rc_ = (expr);                                                                 \
    if (lf_rc_ < 0) return lf_rc_;                                                       \
  } while (0)

/* Programmer-error checks (active unless NDEBUG). */
#ifdef NDEBUG
#define LF_ASSERT(x) ((void)0)
#else
void lf_assert_fail(const char *expr, const char *file, int line);
#define LF_ASSERT(x) ((x) ? (void)0 : lf_assert_fail(#x, __FILE__, __LINE__))
#endif

/* ---------------------------------------------------------------- memory */
#define LF_ALIGN 64
/* 64-byte aligned, zero-initialised allocation; NULL (and LF_ENOMEM recorded) on failure. */
void *lf_alloc(size_t bytes);
void lf_free(void *p); /* no-op on NULL */
/* Test hook: make the n-th following allocation fail (n = 0 disables). */
void lf_alloc_fail_after(long n);

/* Bump allocator for per-step activations. Caller owns the struct;
 * lf_arena_init allocates `cap` bytes, lf_arena_clear releases them. */
typedef struct {
  unsigned char *base;
  size_t cap, used, peak;
} lf_arena;
int lf_arena_init(lf_arena *a, size_t cap);
void lf_arena_clear(lf_arena *a);
/* 64-byte aligned, NOT zeroed; NULL + LF_ENOMEM if the arena is full. */
void *lf_arena_alloc(lf_arena *a, size_t bytes);
static inline void lf_arena_reset(lf_arena *a) { a->used = 0; }

/* ---------------------------------------------------------------- timing */
double lf_time_now(void); /* monotonic seconds */
double lf_cpu_time(void); /* CPU seconds of this process, all threads (user + system) */

/* Progress bar on stderr, drawn only when stderr is a terminal (or forced). */
typedef struct {
  long total, done;
  double t0, last_draw;
  int enabled;
  char label[32];
  char extra[96];
} lf_progress;
void lf_progress_init(lf_progress *p, long total, const char *label);
/* Set the trailing text (e.g. "loss -12.3 ess 0.41"). */
void lf_progress_note(lf_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lf_progress_update(lf_progress *p, long done);
void lf_progress_finish(lf_progress *p);

/* ---------------------------------------------------------------- random numbers */
/* Philox4x32-10 (Salmon, Moraes, Dror, Shaw, SC11): 128-bit counter, 64-bit key. */
void lf_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* A stream: key = seed; counter = (draw index, b, a_lo, a_hi).
 * Stream identifiers (a, b) name what the numbers are for, e.g. a = purpose tag
 * combined with trajectory number, b = global site or sample index. */
typedef struct {
  uint32_t key[2];
  uint32_t ctr[4];
  uint32_t buf[4];
  int pos; /* next unused word in buf (4 = empty) */
} lf_rng;

void lf_rng_init(lf_rng *r, uint64_t seed, uint64_t a, uint64_t b);
uint32_t lf_rng_u32(lf_rng *r);
uint64_t lf_rng_u64(lf_rng *r);
/* Uniform in the open interval (0, 1) with 53 random bits. */
double lf_rng_uniform(lf_rng *r);
/* Standard normal (Box-Muller; consumes two uniforms per call pair, no caching). */
double lf_rng_normal(lf_rng *r);
void lf_rng_normal2(lf_rng *r, double *z0, double *z1);

/* Purpose tags for the `a` stream word (high 16 bits), so streams never collide. */
#define LF_RNG_TAG(tag, index) (((uint64_t)(tag) << 48) ^ (uint64_t)(index))
enum {
  LF_RNG_PURPOSE_START = 1,    /* hot start                        */
  LF_RNG_PURPOSE_MOMENTA = 2,  /* HMC momenta                      */
  LF_RNG_PURPOSE_ACCEPT = 3,   /* Metropolis accept/reject         */
  LF_RNG_PURPOSE_HEATBATH = 4, /* heatbath link updates            */
  LF_RNG_PURPOSE_OVERRELAX = 5,
  LF_RNG_PURPOSE_GAUGE = 6,    /* random gauge transformations     */
  LF_RNG_PURPOSE_PRIOR = 7,    /* flow prior samples               */
  LF_RNG_PURPOSE_INIT = 8,     /* network initialisation           */
  LF_RNG_PURPOSE_TEST = 15
};

/* ---------------------------------------------------------------- misc */
#define LF_PI 3.14159265358979323846
#define LF_TWOPI 6.28318530717958647692

/* Library version string, e.g. "0.1.0 (git abc123)". */
const char *lf_version(void);
/* Write `bytes` to `path` atomically: temp file in the same directory, fsync, rename. */
int lf_write_file_atomic(const char *path, const void *data, size_t bytes);
/* Create a directory (and parents) if missing. */
int lf_mkdir_p(const char *path);

#ifdef __cplusplus
}
#endif
#endif
