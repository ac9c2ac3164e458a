/*
 * profile.c -- named timing regions (compute / communication / I/O), their min/avg/max
 * over ranks, the POP efficiency metrics (load balance, communication efficiency,
 * parallel efficiency; POP CoE, https://pop-coe.eu, "POP metrics") and RAPL energy.
 *
 * Compute time of a rank = sum of its top-level LF_PROF_COMPUTE regions (regions opened
 * while no other region is open), so nested regions are not double counted.
 * Thread contract: call from the master thread only.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "latflow/par.h"

typedef struct {
  char name[32];
  lf_prof_kind kind;
  long calls;
  double total, top, t0;
  int depth_at_open;
} region;

static region regs[LF_PROF_MAXREGIONS];
static int nregs, depth;
static double t_reset = -1;
static double e_reset = -1;

static double rapl_joules(void) {
  FILE *f = fopen("/sys/class/powercap/intel-rapl:0/energy_uj", "r");
  if (!f) return -1;
  unsigned long long uj = 0;
  int ok = fscanf(f, "%llu", &uj) == 1;
  fclose(f);
  return ok ? 1e-6 * (double)uj : -1;
}

void lf_prof_reset(void) {
  memset(regs, 0, sizeof regs);
  nregs = depth = 0;
  t_reset = lf_time_now();
  e_reset = rapl_joules();
}

int lf_prof_begin(const char *name, lf_prof_kind kind) {
  if (t_reset < 0) lf_prof_reset();
  int id = -1;
  for (int i = 0; i < nregs; i++)
    if (!strncmp(regs[i].name, name, sizeof regs[i].name - 1)) id = i;
  if (id < 0) {
    if (nregs == LF_PROF_MAXREGIONS) return -1;
    id = nregs++;
    snprintf(regs[id].name, sizeof regs[id].name, "%s", name);
    regs[id].kind = kind;
  }
  regs[id].depth_at_open = depth++;
  regs[id].t0 = lf_time_now();
  return id;
}

void lf_prof_end(int id) {
  if (id < 0 || id >= nregs) return;
  double dt = lf_time_now() - regs[id].t0;
  regs[id].total += dt;
  if (regs[id].depth_at_open == 0) regs[id].top += dt;
  regs[id].calls++;
  depth--;
}

int lf_prof_collect(lf_prof_summary *s) {
  memset(s, 0, sizeof *s);
  if (t_reset < 0) lf_prof_reset();
  double wall = lf_time_now() - t_reset;
  double compute = 0;
  for (int i = 0; i < nregs; i++)
    if (regs[i].kind == LF_PROF_COMPUTE) compute += regs[i].top;
  int n = nregs;
  double nranks = (double)lf_par_size();
  double vmin[LF_PROF_MAXREGIONS + 2], vmax[LF_PROF_MAXREGIONS + 2], vsum[LF_PROF_MAXREGIONS + 2];
  for (int i = 0; i < n; i++) vmin[i] = vmax[i] = vsum[i] = regs[i].total;
  vmin[n] = vmax[n] = vsum[n] = compute;
  vmin[n + 1] = vmax[n + 1] = vsum[n + 1] = wall;
  LF_CHECK(lf_par_allreduce_min(vmin, n + 2));
  LF_CHECK(lf_par_allreduce_max(vmax, n + 2));
  LF_CHECK(lf_par_allreduce_sum(vsum, n + 2));
  s->nregions = n;
  for (int i = 0; i < n; i++) {
    lf_prof_stat *r = &s->region[i];
    memcpy(r->name, regs[i].name, sizeof r->name);
    r->kind = regs[i].kind;
    r->calls = regs[i].calls;
    r->tmin = vmin[i], r->tmax = vmax[i], r->tavg = vsum[i] / nranks;
  }
  s->wall = vmax[n + 1];
  double cavg = vsum[n] / nranks, cmax = vmax[n];
  s->load_balance = cmax > 0 ? cavg / cmax : 1.0;
  s->comm_efficiency = s->wall > 0 ? cmax / s->wall : 1.0;
  s->parallel_efficiency = s->load_balance * s->comm_efficiency;
  double e = rapl_joules();
  s->energy_joules = (e >= 0 && e_reset >= 0 && e >= e_reset) ? e - e_reset : -1;
  return LF_OK;
}
