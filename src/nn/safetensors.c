/*
 * safetensors.c -- model and optimizer files in the safetensors format
 * (https://github.com/huggingface/safetensors, "Format"): u64 little-endian header
 * length N, N bytes of UTF-8 JSON, then the raw little-endian tensor bytes.
 *
 *   {"__metadata__": {"k": "v", ...},
 *    "<name>": {"dtype": "F64", "shape": [d0, ...], "data_offsets": [begin, end]}, ...}
 *
 * Offsets are relative to the first byte after the header. The reader validates the
 * whole header when a file is opened (length, JSON, dtypes, shapes, offsets in range,
 * sizes matching shapes, no overlaps) so later reads cannot run out of bounds; every
 * rejection names the file and the offending entry. Writers go through
 * lf_write_file_atomic (a crash leaves the old file or the new one).
 * Host byte order must be little-endian (checked at compile time).
 * Thread contract: reentrant; a lf_nn_st_file may be read by several threads.
 */
#include "internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

/* ---------------------------------------------------------------- metadata */
void lf_nn_meta_init(lf_nn_meta *m) { memset(m, 0, sizeof *m); }

void lf_nn_meta_clear(lf_nn_meta *m) {
  for (int i = 0; i < m->n; i++) {
    lf_free(m->key[i]);
    lf_free(m->val[i]);
  }
  lf_free(m->key);
  lf_free(m->val);
  memset(m, 0, sizeof *m);
}

static char *dupstr(const char *s) {
  size_t n = strlen(s);
  char *d = lf_alloc(n + 1);
  if (d) memcpy(d, s, n + 1);
  return d;
}

const char *lf_nn_meta_get(const lf_nn_meta *m, const char *key) {
  for (int i = 0; i < m->n; i++)
    if (!strcmp(m->key[i], key)) return m->val[i];
  return NULL;
}

int lf_nn_meta_set(lf_nn_meta *m, const char *key, const char *val) {
  char *v = dupstr(val);
  if (!v) return LF_ENOMEM;
  for (int i = 0; i < m->n; i++)
    if (!strcmp(m->key[i], key)) {
      lf_free(m->val[i]);
      m->val[i] = v;
      return LF_OK;
    }
  if (m->n == m->cap) {
    int cap = m->cap ? 2 * m->cap : 8;
    char **nk = lf_alloc((size_t)cap * sizeof *nk), **nv = lf_alloc((size_t)cap * sizeof *nv);
    if (!nk || !nv) {
      lf_free(nk);
      lf_free(nv);
      lf_free(v);
      return LF_ENOMEM;
    }
    if (m->n) {
      memcpy(nk, m->key, (size_t)m->n * sizeof *nk);
      memcpy(nv, m->val, (size_t)m->n * sizeof *nv);
    }
    lf_free(m->key);
    lf_free(m->val);
    m->key = nk;
    m->val = nv;
    m->cap = cap;
  }
  char *k = dupstr(key);
  if (!k) {
    lf_free(v);
    return LF_ENOMEM;
  }
  m->key[m->n] = k;
  m->val[m->n] = v;
  m->n++;
  return LF_OK;
}

/* ---------------------------------------------------------------- writing */
int lf_nn_st_write(const char *path, const lf_nn_st_entry *e, int n, const lf_nn_meta *meta) {
  cJSON *root = cJSON_CreateObject();
  if (!root) return LF_ERROR(LF_ENOMEM, "out of memory building the safetensors header");
  int rc = LF_OK;
  if (meta && meta->n > 0) {
    cJSON *md = cJSON_AddObjectToObject(root, "__metadata__");
    for (int i = 0; md && i < meta->n; i++)
      if (!cJSON_AddStringToObject(md, meta->key[i], meta->val[i])) md = NULL;
    if (!md) rc = LF_ERROR(LF_ENOMEM, "out of memory building the safetensors metadata");
  }
  size_t off = 0;
  for (int i = 0; i < n && !rc; i++) {
    if (!e[i].name || !e[i].name[0] || !strcmp(e[i].name, "__metadata__") ||
        cJSON_GetObjectItemCaseSensitive(root, e[i].name)) {
      rc = LF_ERROR(LF_EINVAL, "%s: tensor name '%s' is empty, reserved or repeated", path,
                    e[i].name ? e[i].name : "(null)");
      break;
    }
    size_t cnt = 1;
    cJSON *t = cJSON_AddObjectToObject(root, e[i].name);
    cJSON *shape = t ? cJSON_AddArrayToObject(t, "shape") : NULL;
    for (int d = 0; shape && d < e[i].ndim; d++) {
      cnt *= (size_t)e[i].shape[d];
      cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)e[i].shape[d]));
    }
    cJSON *offs = t ? cJSON_AddArrayToObject(t, "data_offsets") : NULL;
    if (!offs || !cJSON_AddStringToObject(t, "dtype", "F64")) {
      rc = LF_ERROR(LF_ENOMEM, "out of memory building the safetensors header");
      break;
    }
    cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
    off += cnt * sizeof(double);
    cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
  }
  char *js = rc ? NULL : cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  if (rc) return rc;
  if (!js) return LF_ERROR(LF_ENOMEM, "out of memory printing the safetensors header");
  size_t hl = strlen(js), hpad = (hl + 7) / 8 * 8, total = 8 + hpad + off;
  unsigned char *buf = lf_alloc(total);
  if (!buf) {
    free(js);
    return lf_error_context(LF_ENOMEM, "writing %s", path);
  }
  for (int b = 0; b < 8; b++) buf[b] = (unsigned char)((uint64_t)hpad >> (8 * b));
  memcpy(buf + 8, js, hl);
  memset(buf + 8 + hl, ' ', hpad - hl);
  free(js);
  size_t pos = 8 + hpad;
  for (int i = 0; i < n; i++) {
    size_t cnt = 1;
    for (int d = 0; d < e[i].ndim; d++) cnt *= (size_t)e[i].shape[d];
    if (cnt) memcpy(buf + pos, e[i].data, cnt * sizeof(double));
    pos += cnt * sizeof(double);
  }
  rc = lf_write_file_atomic(path, buf, total);
  lf_free(buf);
  return rc;
}

/* ---------------------------------------------------------------- reading */
typedef struct {
  char *name;
  int ndim;
  long shape[LF_NN_MAX_NDIM];
  size_t begin, end;
} st_tensor;

struct lf_nn_st_file {
  char path[512];
  unsigned char *buf;
  size_t size, data0; /* file size; first data byte */
  int n;
  st_tensor *t;
  lf_nn_meta meta;
};

void lf_nn_st_close(lf_nn_st_file *f) {
  if (!f) return;
  for (int i = 0; i < f->n; i++) lf_free(f->t[i].name);
  lf_free(f->t);
  lf_free(f->buf);
  lf_nn_meta_clear(&f->meta);
  lf_free(f);
}

static int read_all(const char *path, unsigned char **out, size_t *size) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return LF_ERROR(LF_EIO, "cannot open %s: %s", path, strerror(errno));
  if (fseek(fp, 0, SEEK_END) != 0) {
    fclose(fp);
    return LF_ERROR(LF_EIO, "cannot seek in %s", path);
  }
  long len = ftell(fp);
  rewind(fp);
  if (len < 0) {
    fclose(fp);
    return LF_ERROR(LF_EIO, "cannot size %s", path);
  }
  unsigned char *b = lf_alloc((size_t)len + 1);
  if (!b) {
    fclose(fp);
    return lf_error_context(LF_ENOMEM, "reading %s", path);
  }
  if (fread(b, 1, (size_t)len, fp) != (size_t)len) {
    fclose(fp);
    lf_free(b);
    return LF_ERROR(LF_EIO, "short read from %s", path);
  }
  fclose(fp);
  *out = b;
  *size = (size_t)len;
  return LF_OK;
}

/* A JSON number that is an exact non-negative integer below 2^53. */
static int json_uint(const cJSON *j, size_t *v) {
  if (!cJSON_IsNumber(j)) return 0;
  double d = j->valuedouble;
  if (!(d >= 0 && d <= 9007199254740992.0) || d != (double)(uint64_t)d) return 0;
  *v = (size_t)d;
  return 1;
}

static int cmp_begin(const void *a, const void *b) {
  const st_tensor *x = *(const st_tensor *const *)a, *y = *(const st_tensor *const *)b;
  return x->begin < y->begin ? -1 : x->begin > y->begin;
}

static int parse_header(lf_nn_st_file *f) {
  const char *p = f->path;
  if (f->size < 8)
    return LF_ERROR(LF_EFORMAT, "%s: %zu bytes is too short for a safetensors file", p, f->size);
  uint64_t hl = 0;
  for (int b = 7; b >= 0; b--) hl = (hl << 8) | f->buf[b];
  if (hl > f->size - 8)
    return LF_ERROR(LF_EFORMAT,
                    "%s: header length %llu beyond the file size %zu (truncated or not a "
                    "safetensors file)",
                    p, (unsigned long long)hl, f->size);
  f->data0 = 8 + (size_t)hl;
  size_t dsize = f->size - f->data0;
  cJSON *root = cJSON_ParseWithLength((const char *)f->buf + 8, (size_t)hl);
  if (!root || !cJSON_IsObject(root)) {
    cJSON_Delete(root);
    return LF_ERROR(LF_EFORMAT, "%s: header is not a JSON object (bad JSON)", p);
  }
  int rc = LF_OK, cnt = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, root) if (strcmp(it->string, "__metadata__")) cnt++;
  f->t = lf_alloc((size_t)(cnt ? cnt : 1) * sizeof *f->t);
  if (!f->t) {
    cJSON_Delete(root);
    return LF_ENOMEM;
  }
  cJSON_ArrayForEach(it, root) {
    const char *name = it->string;
    if (!strcmp(name, "__metadata__")) {
      if (!cJSON_IsObject(it)) {
        rc = LF_ERROR(LF_EFORMAT, "%s: __metadata__ must be an object of strings", p);
        break;
      }
      const cJSON *kv;
      cJSON_ArrayForEach(kv, it) {
        if (!cJSON_IsString(kv)) {
          rc = LF_ERROR(LF_EFORMAT, "%s: metadata '%s' is not a string", p, kv->string);
          break;
        }
        if ((rc = lf_nn_meta_set(&f->meta, kv->string, kv->valuestring))) break;
      }
      if (rc) break;
      continue;
    }
    if (lf_nn_st_find(f, name) >= 0) {
      rc = LF_ERROR(LF_EFORMAT, "%s: tensor '%s' appears twice", p, name);
      break;
    }
    st_tensor *t = &f->t[f->n];
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(it, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(it, "shape");
    const cJSON *of = cJSON_GetObjectItemCaseSensitive(it, "data_offsets");
    if (!cJSON_IsObject(it) || !cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(of)) {
      rc = LF_ERROR(LF_EFORMAT, "%s: tensor '%s' lacks dtype, shape or data_offsets", p, name);
      break;
    }
    if (strcmp(dt->valuestring, "F64")) {
      rc = LF_ERROR(LF_EUNSUP, "%s: tensor '%s' has dtype %s; latflow reads F64 only", p, name,
                    dt->valuestring);
      break;
    }
    int nd = cJSON_GetArraySize(sh);
    if (nd > LF_NN_MAX_NDIM) {
      rc = LF_ERROR(LF_EFORMAT, "%s: tensor '%s' has rank %d > %d", p, name, nd, LF_NN_MAX_NDIM);
      break;
    }
    size_t count = 1, v;
    int d = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, sh) {
      if (!json_uint(e, &v) || v > (1UL << 40) || (v && count > (SIZE_MAX / 8) / v)) {
        rc = LF_ERROR(LF_EFORMAT, "%s: tensor '%s' has a bad shape entry", p, name);
        break;
      }
      t->shape[d++] = (long)v;
      count *= v;
    }
    if (rc) break;
    size_t b0, b1;
    if (cJSON_GetArraySize(of) != 2 || !json_uint(cJSON_GetArrayItem(of, 0), &b0) ||
        !json_uint(cJSON_GetArrayItem(of, 1), &b1) || b0 > b1 || b1 > dsize) {
      rc = LF_ERROR(LF_EFORMAT,
                    "%s: tensor '%s' has data_offsets out of range (data section %zu bytes)", p,
                    name, dsize);
      break;
    }
    if (b1 - b0 != count * 8) {
      rc = LF_ERROR(LF_EFORMAT, "%s: tensor '%s' spans %zu bytes but its shape needs %zu", p,
                    name, b1 - b0, count * 8);
      break;
    }
    if (!(t->name = dupstr(name))) {
      rc = LF_ENOMEM;
      break;
    }
    t->ndim = nd;
    t->begin = b0;
    t->end = b1;
    f->n++;
  }
  cJSON_Delete(root);
  if (rc || f->n < 2) return rc;
  st_tensor **order = lf_alloc((size_t)f->n * sizeof *order);
  if (!order) return LF_ENOMEM;
  for (int i = 0; i < f->n; i++) order[i] = &f->t[i];
  qsort(order, (size_t)f->n, sizeof *order, cmp_begin);
  for (int i = 1; i < f->n && !rc; i++)
    if (order[i]->begin < order[i - 1]->end)
      rc = LF_ERROR(LF_EFORMAT, "%s: tensors '%s' and '%s' overlap in the data section", p,
                    order[i - 1]->name, order[i]->name);
  lf_free(order);
  return rc;
}

int lf_nn_st_open(const char *path, lf_nn_st_file **out) {
  *out = NULL;
  lf_nn_st_file *f = lf_alloc(sizeof *f);
  if (!f) return LF_ENOMEM;
  snprintf(f->path, sizeof f->path, "%s", path);
  int rc = read_all(path, &f->buf, &f->size);
  if (!rc) rc = parse_header(f);
  if (rc) {
    lf_nn_st_close(f);
    return rc;
  }
  *out = f;
  return LF_OK;
}

int lf_nn_st_count(const lf_nn_st_file *f) { return f->n; }
const char *lf_nn_st_name(const lf_nn_st_file *f, int i) { return f->t[i].name; }

int lf_nn_st_find(const lf_nn_st_file *f, const char *name) {
  for (int i = 0; i < f->n; i++)
    if (!strcmp(f->t[i].name, name)) return i;
  return -1;
}

int lf_nn_st_shape(const lf_nn_st_file *f, int i, long *shape) {
  for (int d = 0; d < f->t[i].ndim; d++) shape[d] = f->t[i].shape[d];
  return f->t[i].ndim;
}

static void fmt_shape(char *buf, size_t n, int ndim, const long *shape) {
  size_t k = (size_t)snprintf(buf, n, "[");
  for (int d = 0; d < ndim && k < n; d++)
    k += (size_t)snprintf(buf + k, n - k, d ? ", %ld" : "%ld", shape[d]);
  if (k < n) snprintf(buf + k, n - k, "]");
}

int lf_nn_st_read(const lf_nn_st_file *f, const char *name, int ndim, const long *shape,
                  double *out) {
  int i = lf_nn_st_find(f, name);
  if (i < 0)
    return LF_ERROR(LF_EFORMAT, "%s: tensor '%s' is missing (file written by another model?)",
                    f->path, name);
  const st_tensor *t = &f->t[i];
  int same = t->ndim == ndim;
  for (int d = 0; same && d < ndim; d++) same = t->shape[d] == shape[d];
  if (!same) {
    char a[128], b[128];
    fmt_shape(a, sizeof a, t->ndim, t->shape);
    fmt_shape(b, sizeof b, ndim, shape);
    return LF_ERROR(LF_EFORMAT, "%s: tensor '%s' has shape %s, the model expects %s", f->path,
                    name, a, b);
  }
  if (t->end > t->begin) memcpy(out, f->buf + f->data0 + t->begin, t->end - t->begin);
  return LF_OK;
}

int lf_nn_st_meta(const lf_nn_st_file *f, lf_nn_meta *m) {
  for (int i = 0; i < f->meta.n; i++) LF_CHECK(lf_nn_meta_set(m, f->meta.key[i], f->meta.val[i]));
  return LF_OK;
}

/* ---------------------------------------------------------------- parameter stores */
int lf_nn_params_save(const lf_nn_params *P, const char *path, const lf_nn_meta *meta) {
  lf_nn_st_entry *e = lf_alloc((size_t)(P->count ? P->count : 1) * sizeof *e);
  if (!e) return LF_ENOMEM;
  for (int i = 0; i < P->count; i++)
    e[i] = (lf_nn_st_entry){P->info[i].name, P->info[i].ndim, P->info[i].shape,
                            P->data + P->info[i].offset};
  int rc = lf_nn_st_write(path, e, P->count, meta);
  lf_free(e);
  return rc;
}

int lf_nn_params_load(lf_nn_params *P, const char *path, lf_nn_meta *meta_out) {
  lf_nn_st_file *f;
  LF_CHECK(lf_nn_st_open(path, &f));
  int rc = LF_OK;
  for (int i = 0; i < f->n && !rc; i++)
    if (lf_nn_params_find(P, f->t[i].name) < 0)
      rc = LF_ERROR(LF_EFORMAT, "%s: tensor '%s' is not a parameter of this model (wrong "
                    "architecture?)", path, f->t[i].name);
  double *tmp = rc ? NULL : lf_alloc((P->n ? P->n : 1) * sizeof(double));
  if (!rc && !tmp) rc = LF_ENOMEM;
  for (int i = 0; i < P->count && !rc; i++)
    rc = lf_nn_st_read(f, P->info[i].name, P->info[i].ndim, P->info[i].shape,
                       tmp + P->info[i].offset);
  if (!rc && meta_out) rc = lf_nn_st_meta(f, meta_out);
  if (!rc && P->n) memcpy(P->data, tmp, P->n * sizeof(double));
  lf_free(tmp);
  lf_nn_st_close(f);
  return rc;
}

/* ---------------------------------------------------------------- optimizer state */
int lf_nn_adam_save(const lf_nn_adam *opt, const char *path) {
  lf_nn_meta m;
  lf_nn_meta_init(&m);
  char buf[64];
  const struct {
    const char *k;
    double v;
  } kv[] = {{"lr", opt->cfg.lr},   {"beta1", opt->cfg.beta1}, {"beta2", opt->cfg.beta2},
            {"eps", opt->cfg.eps}, {"weight_decay", opt->cfg.weight_decay}};
  int rc = lf_nn_meta_set(&m, "optimizer", "adam");
  for (size_t i = 0; i < sizeof kv / sizeof kv[0] && !rc; i++) {
    snprintf(buf, sizeof buf, "%.17g", kv[i].v);
    rc = lf_nn_meta_set(&m, kv[i].k, buf);
  }
  snprintf(buf, sizeof buf, "%ld", opt->step);
  if (!rc) rc = lf_nn_meta_set(&m, "step", buf);
  long n = (long)opt->n, one = 1;
  double step = (double)opt->step;
  lf_nn_st_entry e[3] = {{"adam.m", 1, &n, opt->m}, {"adam.v", 1, &n, opt->v},
                         {"adam.step", 1, &one, &step}};
  if (!rc) rc = lf_nn_st_write(path, e, 3, &m);
  lf_nn_meta_clear(&m);
  return rc;
}

int lf_nn_adam_load(lf_nn_adam *opt, const char *path) {
  lf_nn_st_file *f;
  LF_CHECK(lf_nn_st_open(path, &f));
  int rc = LF_OK;
  const char *keys[] = {"lr", "beta1", "beta2", "eps", "weight_decay"};
  double vals[5];
  const char *kind = lf_nn_meta_get(&f->meta, "optimizer");
  if (!kind || strcmp(kind, "adam"))
    rc = LF_ERROR(LF_EFORMAT, "%s: not an Adam state file (metadata optimizer = %s)", path,
                  kind ? kind : "missing");
  for (int i = 0; i < 5 && !rc; i++) {
    const char *s = lf_nn_meta_get(&f->meta, keys[i]);
    char *end = NULL;
    vals[i] = s ? strtod(s, &end) : 0.0;
    if (!s || end == s || *end)
      rc = LF_ERROR(LF_EFORMAT, "%s: metadata '%s' missing or not a number", path, keys[i]);
  }
  int it = rc ? -1 : lf_nn_st_find(f, "adam.m");
  if (!rc && it >= 0 && (f->t[it].ndim != 1 || (size_t)f->t[it].shape[0] != opt->n))
    rc = LF_ERROR(LF_ESTATE, "%s: optimizer state is for %ld parameters, the model has %zu",
                  path, f->t[it].ndim == 1 ? f->t[it].shape[0] : -1L, opt->n);
  long n = (long)opt->n, one = 1;
  double step = 0.0;
  double *m = rc ? NULL : lf_alloc((opt->n ? opt->n : 1) * 2 * sizeof(double));
  if (!rc && !m) rc = LF_ENOMEM;
  if (!rc) rc = lf_nn_st_read(f, "adam.m", 1, &n, m);
  if (!rc) rc = lf_nn_st_read(f, "adam.v", 1, &n, m + opt->n);
  if (!rc) rc = lf_nn_st_read(f, "adam.step", 1, &one, &step);
  if (!rc && !(step >= 0 && step == (double)(long)step))
    rc = LF_ERROR(LF_EFORMAT, "%s: adam.step %g is not a step count", path, step);
  if (!rc) {
    if (opt->n) {
      memcpy(opt->m, m, opt->n * sizeof(double));
      memcpy(opt->v, m + opt->n, opt->n * sizeof(double));
    }
    opt->step = (long)step;
    opt->cfg.lr = vals[0];
    opt->cfg.beta1 = vals[1];
    opt->cfg.beta2 = vals[2];
    opt->cfg.eps = vals[3];
    opt->cfg.weight_decay = vals[4];
  }
  lf_free(m);
  lf_nn_st_close(f);
  return rc;
}
