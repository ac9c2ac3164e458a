/*
 * latflow/par.h -- parallel execution: MPI when latflow is built with it and started by an
 * MPI launcher (mpirun, srun), a serial single-rank fallback otherwise; collective error
 * agreement; deterministic reductions; a region profiler that splits compute from
 * communication and I/O.
 *
 *     lf_par_init(&argc, &argv);            // MPI_Init only under a launcher
 *     ...
 *     rc = lf_par_agree(rc);                // every rank gets the same status + message
 *     int id = lf_prof_begin("force", LF_PROF_COMPUTE); ...; lf_prof_end(id);
 *     lf_par_finalize();
 *
 * Reductions:
 *   lf_par_allreduce_sum: MPI_SUM, fast; the rounding depends on the rank count.
 *   lf_par_sum_chunks: contributions split into a fixed global list of chunks (e.g. one
 *     per sample); all chunks are gathered and summed in global chunk order on every rank,
 *     so the result is bitwise independent of the number of ranks (the
 *     "deterministic-reduction mode" of data-parallel training).
 *
 * Contract (STYLE rule 6): every function marked "collective" must be called by all ranks
 * and returns the same status on all ranks. Thread contract: call from one thread per rank.
 */
#ifndef LATFLOW_PAR_H
#define LATFLOW_PAR_H

#include <stddef.h>

#include "latflow/core.h"

/* Start MPI if built with it and launched by mpirun/srun (or LATFLOW_MPI=1 in the
 * environment); otherwise run as a single rank. Idempotent. */
int lf_par_init(int *argc, char ***argv);
void lf_par_finalize(void);
int lf_par_rank(void);
int lf_par_size(void);
static inline int lf_par_root(void) { return lf_par_rank() == 0; }
/* 1 if MPI is running (size may still be 1). */
int lf_par_mpi_active(void);
/* "serial" or "MPI (OpenMPI ...)" */
const char *lf_par_backend(void);

/* Collective: the minimum (most severe) status over ranks; if it is an error, the message
 * of the lowest failing rank is installed on every rank (prefixed with "rank R: "). */
int lf_par_agree(int status);
/* Collective reductions, in place. */
int lf_par_allreduce_sum(double *buf, long n);
int lf_par_allreduce_max(double *buf, long n);
int lf_par_allreduce_min(double *buf, long n);
/* Collective: this rank holds chunks [first, first + nlocal) of a global list of nglobal
 * chunks of `len` doubles each (contiguous in `local`); out[len] receives the sum over
 * all chunks in global order, identical on all ranks and for any rank count. */
int lf_par_sum_chunks(const double *local, long first, long nlocal, long nglobal, long len,
                      double *out);
/* Collective: the same chunk layout as lf_par_sum_chunks; out[nglobal * len] receives all
 * chunks in global order on every rank (e.g. per-sample log weights for a global ESS). */
int lf_par_allgather(const double *local, long first, long nlocal, long nglobal, long len,
                     double *out);
/* Collective broadcast of `bytes` bytes from `root`. */
int lf_par_bcast(void *buf, size_t bytes, int root);
void lf_par_barrier(void);
/* Collective: every rank contributes `bytes` bytes; out[r * bytes ...] receives rank r's
 * block on every rank (out holds size() * bytes bytes). */
int lf_par_allgather_bytes(const void *in, size_t bytes, void *out);
/* Point to point (not collective; the partner ranks call the matching halves): send
 * `sbytes` bytes to rank `dest` and receive `rbytes` bytes from rank `src` at the same
 * time (MPI_Sendrecv; deadlock-free in rings). dest or src may be the calling rank; a
 * negative dest/src skips that half. At most 1 GiB each way (LF_EINVAL: callers split
 * larger data). One rank: only dest = src = 0 (a copy) or negative ranks. */
int lf_par_sendrecv(const void *sbuf, size_t sbytes, int dest, void *rbuf, size_t rbytes, int src);
/* Split n items into size() contiguous blocks: this rank gets [*first, *first + *count). */
void lf_par_block(long n, long *first, long *count);

/* ---------------------------------------------------------------- profiler */
typedef enum { LF_PROF_COMPUTE = 0, LF_PROF_COMM = 1, LF_PROF_IO = 2 } lf_prof_kind;
#define LF_PROF_MAXREGIONS 64

/* Open a named region (created on first use) and return its id; regions may nest, times
 * are inclusive. lf_prof_end closes it. Cheap: a clock read each. */
int lf_prof_begin(const char *name, lf_prof_kind kind);
void lf_prof_end(int id);
void lf_prof_reset(void);

typedef struct {
  char name[32];
  lf_prof_kind kind;
  long calls;               /* on rank 0 */
  double tmin, tavg, tmax;  /* seconds over ranks */
} lf_prof_stat;

typedef struct {
  int nregions;
  lf_prof_stat region[LF_PROF_MAXREGIONS];
  double wall;              /* max over ranks of the time since lf_prof_reset/init */
  double load_balance;      /* POP: avg(compute) / max(compute)                    */
  double comm_efficiency;   /* POP: max(compute) / wall                            */
  double parallel_efficiency; /* load_balance * comm_efficiency                    */
  double energy_joules;     /* RAPL package energy since reset on rank 0, -1 if n/a */
} lf_prof_summary;

/* Collective: statistics over ranks of every region (regions must be opened in the same
 * order on every rank). Compute time = sum of top-level LF_PROF_COMPUTE regions. */
int lf_prof_collect(lf_prof_summary *s);

#endif
