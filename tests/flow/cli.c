/*
 * tests/flow/cli.c -- `latflow train/sample/eval` end to end on a 4x4 lattice:
 * JSON summaries, --resume continuing bitwise exactly (model and optimizer files and
 * metrics equal to an uninterrupted run), sample writing ILDG configurations that eval reads back, the
 * NaN stop keeping the last good checkpoint, and usage errors.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lf_test.h"

static char bin[1024], tmp[256];

static int run(const char *args, const char *outfile) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "%s %s > %s/%s 2> %s/%s.err", bin, args, tmp, outfile, tmp, outfile);
  int st = system(cmd);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)len + 1);
  size_t got = fread(b, 1, (size_t)len, f);
  b[got] = 0;
  fclose(f);
  if (n) *n = got;
  return b;
}

static char *out_of(const char *name) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", tmp, name);
  return slurp(p, NULL);
}

/* column k (0-based) of every CSV row, joined (to compare runs without the time column) */
static void csv_cols(const char *path, int upto, char *dst, size_t n) {
  char *s = slurp(path, NULL);
  dst[0] = 0;
  if (!s) return;
  size_t k = 0;
  for (char *line = strtok(s, "\n"); line && k + 256 < n; line = strtok(NULL, "\n")) {
    int c = 0;
    for (char *p = line; *p && c < upto; p++) {
      if (*p == ',') c++;
      if (c < upto) dst[k++] = *p;
    }
    dst[k++] = '\n';
  }
  dst[k] = 0;
  free(s);
}

int main(void) {
  const char *b = getenv("LATFLOW_BIN");
  if (!b) {
    printf("LATFLOW_BIN not set (run through ctest)\n");
    return 1;
  }
  snprintf(bin, sizeof bin, "%s", b);
  snprintf(tmp, sizeof tmp, "/tmp/latflow_flow_cli_%d", (int)getpid());
  char cmd[2048], a[2048];
  snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", tmp, tmp);
  if (system(cmd)) return 1;
  const char *common = "--preset u1-tutorial --lattice 4x4 --beta 1.5 --batch 16 --lr 3e-3 "
                       "--seed 5 --checkpoint-every 10";
  /* uninterrupted 30 steps */
  snprintf(a, sizeof a, "train %s --steps 30 --out %s/full --json", common, tmp);
  LF_TEST_TRUE("train 30 steps exits 0", run(a, "full.out") == 0);
  char *o = out_of("full.out");
  LF_TEST_TRUE("train --json has ess, loss, steps_per_second, model",
               o && strstr(o, "\"ess\":") && strstr(o, "\"loss\":") &&
                   strstr(o, "\"steps_per_second\":") && strstr(o, "\"model\":"));
  free(o);
  /* 10 steps, then resume to 30 */
  snprintf(a, sizeof a, "train %s --steps 10 --out %s/part", common, tmp);
  LF_TEST_TRUE("train 10 steps exits 0", run(a, "part.out") == 0);
  snprintf(a, sizeof a, "train --resume %s/part --steps 30", tmp);
  LF_TEST_TRUE("train --resume to 30 steps exits 0", run(a, "resume.out") == 0);
  char p1[512], p2[512];
  size_t n1 = 0, n2 = 0;
  snprintf(p1, sizeof p1, "%s/full/model.safetensors", tmp);
  snprintf(p2, sizeof p2, "%s/part/model.safetensors", tmp);
  char *m1 = slurp(p1, &n1), *m2 = slurp(p2, &n2);
  LF_TEST_TRUE("resumed model file (params + step) bitwise equal to uninterrupted run",
               m1 && m2 && n1 == n2 && !memcmp(m1, m2, n1));
  free(m1), free(m2);
  snprintf(p1, sizeof p1, "%s/full/model.opt.safetensors", tmp);
  snprintf(p2, sizeof p2, "%s/part/model.opt.safetensors", tmp);
  m1 = slurp(p1, &n1), m2 = slurp(p2, &n2);
  LF_TEST_TRUE("resumed optimizer file (Adam state) bitwise equal to uninterrupted run",
               m1 && m2 && n1 == n2 && !memcmp(m1, m2, n1));
  free(m1), free(m2);
  static char c1[1 << 16], c2[1 << 16];
  snprintf(p1, sizeof p1, "%s/full/metrics.csv", tmp);
  snprintf(p2, sizeof p2, "%s/part/metrics.csv", tmp);
  csv_cols(p1, 6, c1, sizeof c1);
  csv_cols(p2, 6, c2, sizeof c2);
  LF_TEST_TRUE("resumed metrics.csv equal to uninterrupted run (all but seconds)",
               c1[0] && !strcmp(c1, c2));
  /* a torn checkpoint (optimizer file of another step) is refused, not resumed */
  snprintf(a, sizeof a, "train %s --steps 10 --out %s/torn", common, tmp);
  run(a, "torn.out");
  snprintf(cmd, sizeof cmd, "cp %s/full/model.opt.safetensors %s/torn/model.opt.safetensors", tmp,
           tmp);
  LF_TEST_TRUE("copy an optimizer file of step 30 over the one of step 10", system(cmd) == 0);
  snprintf(a, sizeof a, "train --resume %s/torn --steps 30", tmp);
  LF_TEST_TRUE("resume with model (step 10) and optimizer file (step 30) fails (1)",
               run(a, "torn2.out") == 1);
  o = out_of("torn2.out.err");
  LF_TEST_TRUE("torn checkpoint message names both files",
               o && strstr(o, "model.safetensors") && strstr(o, "model.opt.safetensors"));
  if (o) printf("     message: %s", o);
  free(o);
  /* sample + eval */
  snprintf(a, sizeof a, "sample --model %s/full/model.safetensors --n 600 --seed 3 --out %s/smp "
           "--save-every 300 --json", tmp, tmp);
  LF_TEST_TRUE("sample exits 0", run(a, "smp.out") == 0);
  o = out_of("smp.out");
  LF_TEST_TRUE("sample --json has acceptance, ess, plaquette{mean,err,tau_int}, "
               "topological_susceptibility",
               o && strstr(o, "\"acceptance\":") && strstr(o, "\"ess\":") &&
                   strstr(o, "\"plaquette\":{\"mean\":") && strstr(o, "\"tau_int\":") &&
                   strstr(o, "\"topological_susceptibility\":"));
  free(o);
  snprintf(a, sizeof a, "sample --model %s/full/model.safetensors --n 600 --seed 3 --batch 7 --json",
           tmp);
  run(a, "smp7.out");
  char *s1 = out_of("smp.out"), *s2 = out_of("smp7.out");
  char *j1 = s1 ? strstr(s1, "{\"n\"") : NULL, *j2 = s2 ? strstr(s2, "{\"n\"") : NULL;
  char *e1 = j1 ? strstr(j1, "\"seconds\"") : NULL, *e2 = j2 ? strstr(j2, "\"seconds\"") : NULL;
  LF_TEST_TRUE("sample results independent of --batch",
               e1 && e2 && e1 - j1 == e2 - j2 && !memcmp(j1, j2, (size_t)(e1 - j1)));
  free(s1), free(s2);
  snprintf(a, sizeof a, "eval --model %s/full/model.safetensors %s/smp/cfg_000300.lime "
           "%s/smp/cfg_000600.lime --json", tmp, tmp, tmp);
  LF_TEST_TRUE("eval of two sampled configurations exits 0", run(a, "eval.out") == 0);
  o = out_of("eval.out");
  LF_TEST_TRUE("eval --json lists logq, action, logw",
               o && strstr(o, "\"logq\":[") && strstr(o, "\"action\":[") && strstr(o, "\"logw\":["));
  free(o);
  /* NaN stop */
  snprintf(a, sizeof a, "train %s --steps 30 --lr 1e200 --out %s/nan", common, tmp);
  LF_TEST_TRUE("diverging training stops with exit 1", run(a, "nan.out") == 1);
  o = out_of("nan.out.err");
  LF_TEST_TRUE("NaN stop message names the learning rate", o && strstr(o, "--lr"));
  free(o);
  snprintf(a, sizeof a, "sample --model %s/nan/model.safetensors --n 50", tmp);
  LF_TEST_TRUE("the kept checkpoint is still usable", run(a, "nan2.out") == 0);
  /* usage errors */
  LF_TEST_TRUE("train without --out: usage error (2)", run("train --steps 3", "e1.out") == 2);
  LF_TEST_TRUE("train with 6x6 lattice: usage error (2)",
               run("train --lattice 6x6 --out /nonexistent/x", "e2.out") == 2);
  LF_TEST_TRUE("sample with a missing model: failure (1)",
               run("sample --model /nonexistent/model.safetensors --n 10", "e3.out") == 1);
  o = out_of("e3.out.err");
  LF_TEST_TRUE("missing model message names the file", o && strstr(o, "/nonexistent/model.safetensors"));
  free(o);
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
  if (lf_test_fails == 0 && system(cmd)) printf("could not remove %s\n", tmp);
  return lf_test_done();
}
