/* tests/par/collectives.c -- the par module on 1 rank (serial) and under mpirun -np 2/4:
 * block partitions cover the index range, reductions match closed forms, the chunked
 * deterministic sum is bitwise equal to the serial sum for any rank count, a failure on
 * one rank reaches every rank with the same message, profiler metrics are sane. */
#include "latflow/par.h"
#include "lf_test.h"

#include <math.h>
#include <string.h>

int main(int argc, char **argv) {
  if (lf_par_init(&argc, &argv)) {
    printf("FAIL init: %s\n", lf_last_error());
    return 1;
  }
  int rank = lf_par_rank(), size = lf_par_size();
  if (rank != 0) freopen("/dev/null", "w", stdout); /* rank 0 reports */
  printf("backend: %s, %d rank(s)\n", lf_par_backend(), size);

  /* block partition: counts add up, blocks are contiguous */
  long n = 1037, first, count;
  lf_par_block(n, &first, &count);
  double cover[2] = {(double)count, (double)(first == 0 ? 1 : 0)};
  lf_par_allreduce_sum(cover, 2);
  LF_TEST_TRUE("block partition covers all items once", cover[0] == (double)n && cover[1] == 1);

  /* allreduce sum / max / min against closed forms */
  double v[3] = {rank + 1.0, rank + 1.0, rank + 1.0};
  lf_par_allreduce_sum(v, 1);
  lf_par_allreduce_max(v + 1, 1);
  lf_par_allreduce_min(v + 2, 1);
  LF_TEST_ABS("allreduce sum = size(size+1)/2", v[0], size * (size + 1) / 2.0, 0);
  LF_TEST_ABS("allreduce max = size", v[1], size, 0);
  LF_TEST_ABS("allreduce min = 1", v[2], 1, 0);

  /* deterministic chunked sum: bitwise equal to the serial order for any rank count */
  const long nchunks = 37, len = 5;
  double ref[5] = {0}, out[5];
  for (long c = 0; c < nchunks; c++)
    for (long k = 0; k < len; k++) ref[k] += sin(1.3 * (double)c + 0.7 * (double)k) * exp(0.1 * (double)c);
  lf_par_block(nchunks, &first, &count);
  double local[37 * 5];
  for (long c = 0; c < count; c++)
    for (long k = 0; k < len; k++)
      local[c * len + k] = sin(1.3 * (double)(first + c) + 0.7 * (double)k) * exp(0.1 * (double)(first + c));
  int rc = lf_par_sum_chunks(local, first, count, nchunks, len, out);
  LF_TEST_TRUE("chunked sum succeeds", rc == LF_OK);
  LF_TEST_TRUE("chunked sum bitwise equal to the serial sum", !memcmp(out, ref, sizeof ref));

  /* allgather: every rank gets all chunks in global order */
  double all[37 * 5];
  rc = lf_par_allgather(local, first, count, nchunks, len, all);
  int same = rc == LF_OK;
  for (long c = 0; c < nchunks && same; c++)
    for (long k = 0; k < len; k++)
      same &= all[c * len + k] == sin(1.3 * (double)c + 0.7 * (double)k) * exp(0.1 * (double)c);
  LF_TEST_TRUE("allgather returns every chunk in global order", same);
  if (size == 1) {
    LF_TEST_TRUE("allgather with a missing chunk is refused",
                 lf_par_allgather(local, 0, nchunks - 1, nchunks, len, all) == LF_EINVAL);
    lf_error_clear();
  }
  /* allgather: block r holds rank r's value; sendrecv around a ring: from the rank below */
  {
    long mine = 1000 + rank, blocks[64] = {0};
    int okg = size <= 64 && lf_par_allgather_bytes(&mine, sizeof mine, blocks) == LF_OK;
    for (int r = 0; okg && r < size; r++) okg = blocks[r] == 1000 + r;
    LF_TEST_TRUE("allgather_bytes: block r is rank r's contribution", okg);
    double sent = 2.385 * rank, in = -1;
    int rc2 = lf_par_sendrecv(&sent, sizeof sent, (rank + 1) % size, &in, sizeof in, (rank + size - 1) % size);
    double ok2 = rc2 == LF_OK && in == 2.385 * ((rank + size - 1) % size);
    lf_par_allreduce_min(&ok2, 1);
    LF_TEST_TRUE("sendrecv around the ring: each rank receives from the rank below", ok2 == 1);
    LF_TEST_TRUE("sendrecv above 1 GiB refused", lf_par_sendrecv(&sent, (size_t)1 << 31, 0, NULL, 0, -1) == LF_EINVAL);
    lf_error_clear();
  }

  /* a failure on the last rank reaches every rank with its message */
  int st = LF_OK;
  if (rank == size - 1) st = LF_ERROR(LF_EIO, "cannot open bad.lime");
  int agreed = lf_par_agree(st);
  double got[2] = {agreed == LF_EIO ? 1.0 : 0.0, strstr(lf_last_error(), "bad.lime") ? 1.0 : 0.0};
  lf_par_allreduce_min(got, 2);
  LF_TEST_TRUE("failure status agreed on every rank", got[0] == 1);
  LF_TEST_TRUE("failure message present on every rank", got[1] == 1);
  LF_TEST_TRUE("success agreed", lf_par_agree(LF_OK) == LF_OK);

  /* profiler: compute region on every rank, a communication region, POP metrics in (0, 1] */
  lf_prof_reset();
  int id = lf_prof_begin("work", LF_PROF_COMPUTE);
  volatile double acc = 0;
  for (long i = 0; i < 2000000L * (rank + 1); i++) acc += 1e-9 * (double)i;
  lf_prof_end(id);
  id = lf_prof_begin("allreduce", LF_PROF_COMM);
  lf_par_barrier();
  lf_prof_end(id);
  lf_prof_summary s;
  LF_TEST_TRUE("profile collected", lf_prof_collect(&s) == LF_OK && s.nregions == 2);
  LF_TEST_TRUE("region min <= avg <= max",
               s.region[0].tmin <= s.region[0].tavg + 1e-12 && s.region[0].tavg <= s.region[0].tmax + 1e-12);
  LF_TEST_TRUE("POP metrics in (0, 1]", s.load_balance > 0 && s.load_balance <= 1 &&
               s.comm_efficiency > 0 && s.comm_efficiency <= 1.0 + 1e-9);
  printf("     load balance %.3f, communication efficiency %.3f, energy %s\n", s.load_balance,
         s.comm_efficiency, s.energy_joules >= 0 ? "measured" : "not exposed (RAPL)");
  if (size > 1) LF_TEST_TRUE("unequal work shows as load imbalance", s.load_balance < 0.95);
  int fails = lf_test_done();
  double f = fails;
  lf_par_allreduce_max(&f, 1);
  lf_par_finalize();
  return f > 0;
}
