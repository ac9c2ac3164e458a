/*
 * mpi.c -- MPI wrapper with a serial fallback: initialisation under a launcher, collective
 * status agreement, reductions (fast and deterministic), broadcast, block partitioning.
 *
 * Built with MPI when CMake finds it (LATFLOW_HAVE_MPI); MPI_Init is called only when an
 * MPI launcher is detected (OMPI_COMM_WORLD_SIZE, PMI_SIZE, PMIX_RANK, SLURM_NTASKS with
 * SLURM_PROCID) or LATFLOW_MPI=1, so plain serial runs pay nothing. The library never calls
 * MPI_Abort: failures are agreed on with lf_par_agree and returned.
 */
#define _POSIX_C_SOURCE 200809L
#include "latflow/par.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef LATFLOW_HAVE_MPI
#include <mpi.h>
#endif

static int g_rank = 0, g_size = 1, g_mpi = 0, g_inited = 0;

static int launched_by_mpi(void) {
  const char *force = getenv("LATFLOW_MPI");
  if (force && *force) return atoi(force) != 0;
  return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK") ||
         getenv("MPI_LOCALNRANKS") || (getenv("SLURM_NTASKS") && getenv("SLURM_PROCID"));
}

int lf_par_init(int *argc, char ***argv) {
  if (g_inited) return LF_OK;
  g_inited = 1;
#ifdef LATFLOW_HAVE_MPI
  if (launched_by_mpi()) {
    int already = 0;
    MPI_Initialized(&already);
    if (!already && MPI_Init(argc, argv) != MPI_SUCCESS)
      return LF_ERROR(LF_EMPI, "MPI_Init failed; check the MPI installation and launcher");
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    g_mpi = 1;
  }
#else
  (void)argc, (void)argv;
  if (launched_by_mpi() && getenv("OMPI_COMM_WORLD_SIZE") && atoi(getenv("OMPI_COMM_WORLD_SIZE")) > 1)
    return LF_ERROR(LF_EUNSUP, "started by mpirun with %s ranks, but this latflow was built without MPI; "
                    "rebuild with -DLATFLOW_MPI=ON (Debian: libopenmpi-dev)", getenv("OMPI_COMM_WORLD_SIZE"));
#endif
  return LF_OK;
}

void lf_par_finalize(void) {
#ifdef LATFLOW_HAVE_MPI
  if (g_mpi) {
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin) MPI_Finalize();
  }
#endif
  g_mpi = 0;
}

int lf_par_rank(void) { return g_rank; }
int lf_par_size(void) { return g_size; }
int lf_par_mpi_active(void) { return g_mpi; }

const char *lf_par_backend(void) {
#ifdef LATFLOW_HAVE_MPI
  static char buf[MPI_MAX_LIBRARY_VERSION_STRING + 8];
  if (!g_mpi) return "serial (MPI available, not launched by mpirun/srun)";
  char lib[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(lib, &len);
  char *nl = strchr(lib, ',');
  if (nl) *nl = '\0';
  snprintf(buf, sizeof buf, "MPI: %s", lib);
  return buf;
#else
  return "serial (built without MPI)";
#endif
}

void lf_par_block(long n, long *first, long *count) {
  long base = n / g_size, rem = n % g_size;
  *count = base + (g_rank < rem ? 1 : 0);
  *first = g_rank * base + (g_rank < rem ? g_rank : rem);
}

int lf_par_agree(int status) {
#ifdef LATFLOW_HAVE_MPI
  if (!g_mpi || g_size == 1) return status;
  int minst = status;
  MPI_Allreduce(&status, &minst, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (minst >= 0) return minst;
  /* lowest rank among those that failed sends its message */
  int me = status < 0 ? g_rank : g_size, first = g_size;
  MPI_Allreduce(&me, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  char msg[900];
  int code = status;
  if (g_rank == first) snprintf(msg, sizeof msg, "%s", lf_last_error());
  MPI_Bcast(msg, sizeof msg, MPI_CHAR, first, MPI_COMM_WORLD);
  MPI_Bcast(&code, 1, MPI_INT, first, MPI_COMM_WORLD);
  msg[sizeof msg - 1] = '\0';
  LF_ERROR(code, "rank %d: %s", first, msg);
  return code;
#else
  return status;
#endif
}

#ifdef LATFLOW_HAVE_MPI
static int reduce(double *buf, long n, MPI_Op op) {
  if (!g_mpi || g_size == 1) return LF_OK;
  if (MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_DOUBLE, op, MPI_COMM_WORLD) != MPI_SUCCESS)
    return LF_ERROR(LF_EMPI, "MPI_Allreduce of %ld doubles failed", n);
  return LF_OK;
}
#endif

int lf_par_allreduce_sum(double *buf, long n) {
#ifdef LATFLOW_HAVE_MPI
  return reduce(buf, n, MPI_SUM);
#else
  (void)buf, (void)n;
  return LF_OK;
#endif
}

int lf_par_allreduce_max(double *buf, long n) {
#ifdef LATFLOW_HAVE_MPI
  return reduce(buf, n, MPI_MAX);
#else
  (void)buf, (void)n;
  return LF_OK;
#endif
}

int lf_par_allreduce_min(double *buf, long n) {
#ifdef LATFLOW_HAVE_MPI
  return reduce(buf, n, MPI_MIN);
#else
  (void)buf, (void)n;
  return LF_OK;
#endif
}

int lf_par_allgather(const double *local, long first, long nlocal, long nglobal, long len,
                     double *out) {
#ifdef LATFLOW_HAVE_MPI
  if (g_mpi && g_size > 1) {
    int *counts = malloc(sizeof(int) * (size_t)g_size), *displs = malloc(sizeof(int) * (size_t)g_size);
    int *pairs = malloc(sizeof(int) * 2 * (size_t)g_size);
    int ok = counts && displs && pairs && nglobal * len < 2147483647L, allok = 0;
    MPI_Allreduce(&ok, &allok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (!allok) {
      free(counts), free(displs), free(pairs);
      return LF_ERROR(LF_ENOMEM, "cannot gather %ld chunks of %ld doubles (out of memory or "
                                 "more than 2^31 values)", nglobal, len);
    }
    int mine[2] = {(int)(first * len), (int)(nlocal * len)};
    MPI_Allgather(mine, 2, MPI_INT, pairs, 2, MPI_INT, MPI_COMM_WORLD);
    long total = 0;
    for (int r = 0; r < g_size; r++) displs[r] = pairs[2 * r], counts[r] = pairs[2 * r + 1], total += counts[r];
    int rc = LF_OK;
    if (total != nglobal * len)
      rc = LF_ERROR(LF_EINVAL, "ranks hold %ld values in all, not the %ld of %ld chunks; every "
                               "chunk must be on exactly one rank", total, nglobal * len, nglobal);
    else
      MPI_Allgatherv(local, mine[1], MPI_DOUBLE, out, counts, displs, MPI_DOUBLE, MPI_COMM_WORLD);
    free(counts), free(displs), free(pairs);
    return rc;
  }
#endif
  if (first != 0 || nlocal != nglobal)
    return LF_ERROR(LF_EINVAL, "on one rank lf_par_allgather needs all %ld chunks (got %ld from "
                               "%ld)", nglobal, nlocal, first);
  if (out != local) memmove(out, local, sizeof(double) * (size_t)(nglobal * len));
  return LF_OK;
}

int lf_par_sum_chunks(const double *local, long first, long nlocal, long nglobal, long len,
                      double *out) {
  const double *all = local;
  double *gathered = NULL;
  if (lf_par_size() > 1) {
    gathered = lf_alloc(sizeof(double) * (size_t)(nglobal * len));
    int rc = gathered ? LF_OK
                      : LF_ERROR(LF_ENOMEM, "out of memory gathering %ld chunks of %ld doubles",
                                 nglobal, len);
    if ((rc = lf_par_agree(rc)) != LF_OK) return rc;
    rc = lf_par_allgather(local, first, nlocal, nglobal, len, gathered);
    if (rc) {
      lf_free(gathered);
      return rc;
    }
    all = gathered;
  } else if (first != 0 || nlocal != nglobal) {
    return LF_ERROR(LF_EINVAL, "on one rank lf_par_sum_chunks needs all %ld chunks (got %ld from "
                               "%ld)", nglobal, nlocal, first);
  }
  for (long k = 0; k < len; k++) out[k] = 0;
  for (long c = 0; c < nglobal; c++)
    for (long k = 0; k < len; k++) out[k] += all[c * len + k];
  lf_free(gathered);
  return LF_OK;
}

int lf_par_bcast(void *buf, size_t bytes, int root) {
#ifdef LATFLOW_HAVE_MPI
  if (g_mpi && g_size > 1 && MPI_Bcast(buf, (int)bytes, MPI_BYTE, root, MPI_COMM_WORLD) != MPI_SUCCESS)
    return LF_ERROR(LF_EMPI, "MPI_Bcast of %zu bytes failed", bytes);
#else
  (void)buf, (void)bytes, (void)root;
#endif
  return LF_OK;
}

int lf_par_allgather_bytes(const void *in, size_t bytes, void *out) {
#ifdef LATFLOW_HAVE_MPI
  if (g_mpi && g_size > 1) {
    if (bytes > (size_t)1 << 30)
      return LF_ERROR(LF_EINVAL, "lf_par_allgather_bytes of %zu bytes per rank: at most 1 GiB", bytes);
    if (MPI_Allgather(in, (int)bytes, MPI_BYTE, out, (int)bytes, MPI_BYTE, MPI_COMM_WORLD) != MPI_SUCCESS)
      return LF_ERROR(LF_EMPI, "MPI_Allgather of %zu bytes per rank failed", bytes);
    return LF_OK;
  }
#endif
  if (bytes) memmove(out, in, bytes);
  return LF_OK;
}

/* Largest message of lf_par_sendrecv (MPI counts are int); callers split larger data. */
#define LF_PAR_MSG_MAX ((size_t)1 << 30)

int lf_par_sendrecv(const void *sbuf, size_t sbytes, int dest, void *rbuf, size_t rbytes, int src) {
  if (dest >= g_size || src >= g_size)
    return LF_ERROR(LF_EINVAL, "lf_par_sendrecv with rank %d of %d ranks", dest >= g_size ? dest : src, g_size);
  if (sbytes > LF_PAR_MSG_MAX || rbytes > LF_PAR_MSG_MAX)
    return LF_ERROR(LF_EINVAL, "lf_par_sendrecv of %zu bytes: split messages above 1 GiB",
                    sbytes > rbytes ? sbytes : rbytes);
#ifdef LATFLOW_HAVE_MPI
  if (g_mpi && g_size > 1) {
    int rc = MPI_Sendrecv(sbuf, dest < 0 ? 0 : (int)sbytes, MPI_BYTE, dest < 0 ? MPI_PROC_NULL : dest, 77,
                          rbuf, src < 0 ? 0 : (int)rbytes, MPI_BYTE, src < 0 ? MPI_PROC_NULL : src, 77,
                          MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS)
      return LF_ERROR(LF_EMPI, "MPI_Sendrecv (%zu bytes to rank %d, %zu from rank %d) failed", sbytes,
                      dest, rbytes, src);
    return LF_OK;
  }
#endif
  if (dest > 0 || src > 0)
    return LF_ERROR(LF_EINVAL, "lf_par_sendrecv to rank %d / from rank %d on a single rank", dest, src);
  if (dest == 0 && src == 0) {
    if (sbytes != rbytes)
      return LF_ERROR(LF_EINVAL, "lf_par_sendrecv to self with %zu bytes sent and %zu received", sbytes, rbytes);
    if (sbytes) memmove(rbuf, sbuf, sbytes);
  }
  return LF_OK;
}

void lf_par_barrier(void) {
#ifdef LATFLOW_HAVE_MPI
  if (g_mpi && g_size > 1) MPI_Barrier(MPI_COMM_WORLD);
#endif
}
