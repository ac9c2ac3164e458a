/*
 * app/rundir.c -- run directories: parameters as JSON, resume checks, CSV truncation.
 */
#define _POSIX_C_SOURCE 200809L
#include "rundir.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "latflow/core.h"

int rundir_path(char *out, size_t n, const char *dir, const char *name) {
  int k = snprintf(out, n, "%s/%s", dir, name);
  return (k < 0 || (size_t)k >= n) ? -1 : 0;
}

static int in_list(const char *name, const char *const *list) {
  for (; list && *list; list++)
    if (!strcmp(*list, name)) return 1;
  return 0;
}

cJSON *rundir_opts_to_json(const cli_opt *opts, const char *const *skip) {
  cJSON *o = cJSON_CreateObject();
  for (; opts->name; opts++) {
    if (in_list(opts->name, skip)) continue;
    switch (opts->kind) {
    case CLI_STR: {
      const char *v = *(const char **)opts->dst;
      if (v) cJSON_AddStringToObject(o, opts->name, v);
      else cJSON_AddNullToObject(o, opts->name);
      break;
    }
    case CLI_FLAG: cJSON_AddBoolToObject(o, opts->name, *(int *)opts->dst); break;
    case CLI_INT: cJSON_AddNumberToObject(o, opts->name, *(int *)opts->dst); break;
    case CLI_LONG: cJSON_AddNumberToObject(o, opts->name, (double)*(long *)opts->dst); break;
    case CLI_U64: {
      /* seeds may exceed 2^53: store as a decimal string */
      char buf[32];
      snprintf(buf, sizeof buf, "%llu", (unsigned long long)*(uint64_t *)opts->dst);
      cJSON_AddStringToObject(o, opts->name, buf);
      break;
    }
    case CLI_DOUBLE: {
      /* cJSON prints the shortest text that reads back to the same double, so a value
       * survives any number of write/parse cycles unchanged */
      double v = *(double *)opts->dst;
      if (isfinite(v)) cJSON_AddNumberToObject(o, opts->name, v);
      else cJSON_AddNullToObject(o, opts->name); /* NaN = "not set" */
      break;
    }
    }
  }
  return o;
}

static int same_value(const cli_opt *o, const cJSON *v) {
  switch (o->kind) {
  case CLI_STR: {
    const char *cur = *(const char **)o->dst;
    if (cJSON_IsNull(v)) return cur == NULL;
    return cJSON_IsString(v) && cur && !strcmp(cur, v->valuestring);
  }
  case CLI_FLAG: return cJSON_IsBool(v) && (cJSON_IsTrue(v) != 0) == (*(int *)o->dst != 0);
  case CLI_INT: return cJSON_IsNumber(v) && v->valuedouble == (double)*(int *)o->dst;
  case CLI_LONG: return cJSON_IsNumber(v) && v->valuedouble == (double)*(long *)o->dst;
  case CLI_U64:
    return cJSON_IsString(v) && strtoull(v->valuestring, NULL, 10) == *(uint64_t *)o->dst;
  case CLI_DOUBLE:
    if (cJSON_IsNull(v)) return !isfinite(*(double *)o->dst);
    return cJSON_IsNumber(v) && v->valuedouble == *(double *)o->dst;
  }
  return 0;
}

/* strings restored from run.json: they live until rundir_free_restored (main, at exit) */
static char **restored;
static size_t nrestored;

void rundir_free_restored(void) {
  for (size_t i = 0; i < nrestored; i++) free(restored[i]);
  free(restored);
  restored = NULL, nrestored = 0;
}

static const char *keep(const char *s) {
  char *d = strdup(s);
  char **r = d ? realloc(restored, (nrestored + 1) * sizeof *r) : NULL;
  if (!r) {
    free(d);
    return NULL;
  }
  restored = r;
  restored[nrestored++] = d;
  return d;
}

static void set_from_json(const cli_opt *o, const cJSON *v) {
  switch (o->kind) {
  case CLI_STR:
    *(const char **)o->dst = cJSON_IsString(v) ? keep(v->valuestring) : NULL;
    break;
  case CLI_FLAG: *(int *)o->dst = cJSON_IsTrue(v); break;
  case CLI_INT: *(int *)o->dst = (int)v->valuedouble; break;
  case CLI_LONG: *(long *)o->dst = (long)v->valuedouble; break;
  case CLI_U64: *(uint64_t *)o->dst = cJSON_IsString(v) ? strtoull(v->valuestring, NULL, 10) : 0; break;
  case CLI_DOUBLE: *(double *)o->dst = cJSON_IsNumber(v) ? v->valuedouble : (double)NAN; break;
  }
}

int rundir_opts_merge(const char *cmd, const cli_opt *opts, const int *seen, const cJSON *saved,
                      const char *const *mutable_keys, int allow_change) {
  for (int i = 0; opts[i].name; i++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(saved, opts[i].name);
    if (!v) continue;
    if (!seen[i]) {
      set_from_json(&opts[i], v);
      continue;
    }
    if (same_value(&opts[i], v) || allow_change || in_list(opts[i].name, mutable_keys)) continue;
    char *was = cJSON_PrintUnformatted(v);
    cli_error(cmd, "leave it out to keep the saved value, or add --allow-change to change it",
              "--%s differs from the value %s saved in the run being resumed", opts[i].name,
              was ? was : "?");
    cJSON_free(was);
    return CLI_ERR;
  }
  return CLI_OK;
}

char *rundir_slurp(const char *cmd, const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    cli_error(cmd, NULL, "cannot open %s: %s", path, strerror(errno));
    return NULL;
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    cli_error(cmd, NULL, "cannot read %s", path);
    free(buf);
    fclose(f);
    return NULL;
  }
  fclose(f);
  buf[n] = '\0';
  if (len) *len = (size_t)n;
  return buf;
}

cJSON *rundir_read_json(const char *cmd, const char *path) {
  char *txt = rundir_slurp(cmd, path, NULL);
  if (!txt) return NULL;
  cJSON *j = cJSON_Parse(txt);
  free(txt);
  if (!j) cli_error(cmd, "the file may be damaged; restore it or start a new run", "%s is not valid JSON", path);
  return j;
}

int rundir_write_json(const char *path, const cJSON *obj) {
  char *s = cJSON_Print(obj);
  if (!s) return LF_ERROR(LF_ENOMEM, "cannot format JSON for %s", path);
  size_t n = strlen(s);
  char *t = malloc(n + 2);
  if (!t) {
    cJSON_free(s);
    return LF_ERROR(LF_ENOMEM, "out of memory");
  }
  memcpy(t, s, n);
  t[n] = '\n';
  int rc = lf_write_file_atomic(path, t, n + 1);
  free(t);
  cJSON_free(s);
  return rc;
}

int rundir_check_fresh(const char *cmd, const char *dir) {
  char p[4096];
  struct stat st;
  if (rundir_path(p, sizeof p, dir, "run.json") == 0 && stat(p, &st) == 0) {
    cli_error(cmd, "continue it with --resume DIR, or choose another --out",
              "%s already holds a run; refusing to overwrite it", dir);
    return CLI_ERR;
  }
  return CLI_OK;
}

long rundir_csv_truncate(const char *path, long last_step) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t cap = 1 << 16, len = 0;
  char *out = malloc(cap);
  char *line = NULL;
  size_t lcap = 0;
  long kept = 0;
  ssize_t r;
  int first = 1;
  while (out && (r = getline(&line, &lcap, f)) > 0) {
    int keep = first;
    if (!first) {
      char *end;
      long step = strtol(line, &end, 10);
      keep = end != line && *end == ',' && step <= last_step && line[r - 1] == '\n';
    }
    first = 0;
    if (!keep) continue;
    if (len + (size_t)r + 1 > cap) {
      while (len + (size_t)r + 1 > cap) cap *= 2;
      char *o2 = realloc(out, cap);
      if (!o2) break;
      out = o2;
    }
    memcpy(out + len, line, (size_t)r);
    len += (size_t)r;
    kept++;
  }
  free(line);
  fclose(f);
  if (!out) return -1;
  int rc = lf_write_file_atomic(path, out, len);
  free(out);
  return rc ? -1 : kept - 1;
}

double *rundir_csv_column(const char *path, int col, long skip_below, long *n) {
  *n = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1024;
  double *v = malloc(cap * sizeof *v);
  char *line = NULL;
  size_t lcap = 0;
  int first = 1;
  while (v && getline(&line, &lcap, f) > 0) {
    if (first) {
      first = 0;
      continue;
    }
    char *p = line, *end;
    long step = strtol(p, &end, 10);
    if (end == p || step <= skip_below) continue;
    for (int c = 0; c < col && p; c++) {
      p = strchr(p, ',');
      if (p) p++;
    }
    if (!p) continue;
    double x = strtod(p, &end);
    if (end == p) continue;
    if ((size_t)*n == cap) {
      cap *= 2;
      double *v2 = realloc(v, cap * sizeof *v);
      if (!v2) break;
      v = v2;
    }
    v[(*n)++] = x;
  }
  free(line);
  fclose(f);
  return v;
}
