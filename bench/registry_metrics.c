/*
 * bench/registry_metrics.c -- metric logging throughput of the registry.
 *
 * usage: registry_metrics [LOCATION] [N]   (default: a temporary SQLite file, N = 200000)
 * Logs N metric values (4 keys, heartbeat every step as a training loop would), ends the
 * run, then times loading the run back and rendering its report. Prints rows/s.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "latflow/core.h"
#include "latflow/registry.h"

int main(int argc, char **argv) {
  char tmp[] = "/tmp/lf_bench_registry_XXXXXX";
  char path[256];
  const char *loc = argc > 1 ? argv[1] : NULL;
  long n = argc > 2 ? atol(argv[2]) : 200000;
  if (!loc) {
    if (!mkdtemp(tmp)) return 1;
    snprintf(path, sizeof path, "%s/registry.db", tmp);
    loc = path;
  }
  lf_registry *reg;
  lf_run *run;
  if (lf_registry_open(&reg, loc) || lf_run_start(reg, &run, "bench", "registry_metrics", "bench")) {
    fprintf(stderr, "registry_metrics: %s\n", lf_last_error());
    return 1;
  }
  static const char *const keys[4] = {"loss", "ess", "lr", "plaquette"};
  double t0 = lf_time_now();
  for (long i = 0; i < n; i++) {
    if (lf_run_metric(run, keys[i % 4], i / 4, 0.5 + 1e-6 * (double)i) ||
        (i % 4 == 3 && lf_run_heartbeat(run))) {
      fprintf(stderr, "registry_metrics: %s\n", lf_last_error());
      return 1;
    }
  }
  char id[37];
  snprintf(id, sizeof id, "%s", lf_run_id(run));
  lf_run_end(run, LF_RUN_FINISHED);
  double t1 = lf_time_now();
  lf_run_record rec;
  int rc = lf_registry_load(reg, id, 0, &rec);
  double t2 = lf_time_now();
  size_t got = rc == LF_OK ? rec.nmetrics : 0;
  if (rc == LF_OK) lf_run_record_free(&rec);
  char html[300];
  snprintf(html, sizeof html, "/tmp/lf_bench_report_%ld.html", (long)getpid());
  rc = lf_registry_report(reg, id, html, NULL);
  double t3 = lf_time_now();
  unlink(html);
  printf("backend %s: log %ld metrics %.3f s (%.0f rows/s), load %zu rows %.3f s, report %.3f s%s\n",
         lf_registry_backend(reg), n, t1 - t0, (double)n / (t1 - t0), got, t2 - t1, t3 - t2,
         rc ? " (report failed)" : "");
  lf_registry_close(reg);
  if (loc == path) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) return 1;
  }
  return 0;
}
