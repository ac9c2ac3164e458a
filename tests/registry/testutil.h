/*
 * tests/registry/testutil.h -- helpers shared by the registry tests: temporary
 * directories, whole-file reads (to prove a file is untouched), running the latflow
 * command and capturing its output.
 */
#ifndef LF_REGISTRY_TESTUTIL_H
#define LF_REGISTRY_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Whole file into a malloc'ed buffer (NUL-terminated); NULL if unreadable. */
static inline char *tu_slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap + 1);
  size_t got;
  while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      cap *= 2;
      char *nb = realloc(buf, cap + 1);
      if (!nb) {
        free(buf);
        buf = NULL;
      }
      buf = nb;
    }
  }
  fclose(f);
  if (buf) buf[n] = '\0';
  if (len) *len = n;
  return buf;
}

static inline int tu_write(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = fwrite(data, 1, len, f);
  fclose(f);
  return w == len ? 0 : -1;
}

static inline int tu_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* Run a shell command, capture stdout+stderr (malloc'ed) and the exit status. */
static inline char *tu_run(const char *cmd, int *status) {
  char full[8192];
  snprintf(full, sizeof full, "%s 2>&1", cmd);
  FILE *p = popen(full, "r");
  if (!p) {
    *status = -1;
    return NULL;
  }
  size_t cap = 1 << 16, n = 0, got;
  char *buf = malloc(cap + 1);
  while (buf && (got = fread(buf + n, 1, cap - n, p)) > 0) {
    n += got;
    if (n == cap) {
      cap *= 2;
      buf = realloc(buf, cap + 1);
    }
  }
  int st = pclose(p);
  *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  if (buf) buf[n] = '\0';
  return buf;
}

/* The last non-empty line of s (static copy). */
static inline const char *tu_last_line(const char *s) {
  static char line[1 << 16];
  line[0] = '\0';
  if (!s) return line;
  const char *end = s + strlen(s);
  while (end > s && (end[-1] == '\n' || end[-1] == '\r')) end--;
  const char *beg = end;
  while (beg > s && beg[-1] != '\n') beg--;
  size_t n = (size_t)(end - beg) < sizeof line - 1 ? (size_t)(end - beg) : sizeof line - 1;
  memcpy(line, beg, n);
  line[n] = '\0';
  return line;
}

static inline const char *tu_latflow_bin(void) {
  const char *b = getenv("LATFLOW_BIN");
  return b && *b ? b : "latflow";
}

static inline int tu_rm_rf(const char *dir) {
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd);
}

/* Fork `nproc` writers; each opens `url`, starts a run of command `cmd`, logs `nmetric`
 * values of two keys (flushing every few hundred rows, heartbeats in between) and ends it
 * FINISHED. Returns the number of children that exited 0. */
#include "latflow/registry.h"
static inline int tu_concurrent_writers(const char *url, int nproc, int nmetric, const char *cmd) {
  pid_t pids[64];
  for (int p = 0; p < nproc; p++) {
    pids[p] = fork();
    if (pids[p] == 0) {
      lf_registry *reg;
      lf_run *run;
      if (lf_registry_open(&reg, url)) {
        fprintf(stderr, "writer %d: %s\n", p, lf_last_error());
        _exit(2);
      }
      if (lf_run_start(reg, &run, cmd, "writer", "concurrency")) {
        fprintf(stderr, "writer %d: %s\n", p, lf_last_error());
        _exit(3);
      }
      char pv[16];
      snprintf(pv, sizeof pv, "%d", p);
      if (lf_run_param(run, "writer", pv)) _exit(4);
      for (int i = 0; i < nmetric; i++) {
        if (lf_run_metric(run, i % 2 ? "loss" : "ess", i / 2, 0.125 * i + p)) {
          fprintf(stderr, "writer %d: %s\n", p, lf_last_error());
          _exit(5);
        }
        if (i % 97 == 0 && lf_run_heartbeat(run)) {
          fprintf(stderr, "writer %d: %s\n", p, lf_last_error());
          _exit(6);
        }
        if (i % 300 == 299 && lf_run_flush(run)) {
          fprintf(stderr, "writer %d: %s\n", p, lf_last_error());
          _exit(7);
        }
      }
      if (lf_run_end(run, LF_RUN_FINISHED)) {
        fprintf(stderr, "writer %d: %s\n", p, lf_last_error());
        _exit(8);
      }
      lf_registry_close(reg);
      _exit(0);
    }
  }
  int ok = 0;
  for (int p = 0; p < nproc; p++) {
    int st;
    if (pids[p] > 0 && waitpid(pids[p], &st, 0) == pids[p] && WIFEXITED(st) && WEXITSTATUS(st) == 0)
      ok++;
  }
  return ok;
}

#endif
