/*
 * convnet.c -- a stack of periodic convolutions with activations (the coupling
 * network of lattice flows: Kanwar et al. 2003.06413, Albergo et al. 2101.08176).
 *
 *   a_{-1} = x,  z_l = conv_l(a_{l-1}),  a_l = act(z_l)  (out_act for the last layer).
 * Backward walks the layers in reverse: dz_l = act'(z_l) * da_l,
 * da_{l-1} = conv_l^T dz_l, parameter gradients accumulated into the store.
 *
 * Memory: forward with saving leaves x, z_l and a_l in the caller's arena (the
 * lf_nn_saved record); everything else is scratch. Thread contract: as conv.c --
 * outputs are bitwise independent of OMP_NUM_THREADS.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

int lf_nn_convnet_init(lf_nn_convnet *net, const lf_nn_convnet_cfg *cfg, lf_nn_params *P,
                       const char *prefix) {
  memset(net, 0, sizeof *net);
  if (!prefix || !prefix[0])
    return LF_ERROR(LF_EINVAL, "conv net needs a parameter name prefix (e.g. \"layer0.net\")");
  if (cfg->nlayers < 1 || cfg->nlayers > LF_NN_MAX_LAYERS)
    return LF_ERROR(LF_EINVAL, "conv net needs 1..%d layers (got %d)", LF_NN_MAX_LAYERS,
                    cfg->nlayers);
  net->cfg = *cfg;
  int rc = LF_OK;
  for (int l = 0; l < cfg->nlayers && !rc; l++) {
    rc = lf_nn_conv_init(&net->conv[l], cfg->nd, cfg->L, cfg->kernel, cfg->channels[l],
                         cfg->channels[l + 1]);
    if (rc) {
      lf_error_context(rc, "conv net layer %d", l);
      break;
    }
    char name[LF_NN_NAME_MAX];
    long shape[2 + LF_NN_MAXDIM];
    shape[0] = cfg->channels[l + 1];
    shape[1] = cfg->channels[l];
    for (int mu = 0; mu < cfg->nd; mu++) shape[2 + mu] = cfg->kernel;
    if (snprintf(name, sizeof name, "%s.%d.weight", prefix, l) >= (int)sizeof name) {
      rc = LF_ERROR(LF_EINVAL, "parameter prefix '%s' too long", prefix);
      break;
    }
    rc = lf_nn_params_add(P, name, 2 + cfg->nd, shape, &net->widx[l]);
    if (rc) break;
    snprintf(name, sizeof name, "%s.%d.bias", prefix, l);
    rc = lf_nn_params_add(P, name, 1, shape, &net->bidx[l]);
  }
  if (rc) {
    lf_nn_convnet_clear(net);
    return rc;
  }
  net->vol = net->conv[0].vol;
  return LF_OK;
}

static void outsites_free(lf_nn_outsites *o) {
  if (!o) return;
  lf_free(o->site), lf_free(o->nbr), lf_free(o->rowptr), lf_free(o->etap), lf_free(o->esrc);
  lf_free(o->mask);
  lf_free(o);
}

void lf_nn_convnet_clear(lf_nn_convnet *net) {
  for (int l = 0; l < LF_NN_MAX_LAYERS; l++) lf_nn_conv_clear(&net->conv[l]);
  outsites_free(net->out);
  net->out = NULL;
}

int lf_nn_convnet_set_output_sites(lf_nn_convnet *net, const int *sites, long n) {
  outsites_free(net->out);
  net->out = NULL;
  if (!sites) return LF_OK;
  const lf_nn_conv *c = &net->conv[net->cfg.nlayers - 1];
  const long V = c->vol;
  const int T = c->taps;
  if (n < 1 || n > V)
    return LF_ERROR(LF_EINVAL, "output site list of %ld sites for a lattice of %ld", n, V);
  if (!c->nbr) /* no lane kernels for this lattice: the restriction would gain nothing */
    return LF_OK;
  lf_nn_outsites *o = lf_alloc(sizeof *o);
  if (!o) return LF_ENOMEM;
  memset(o, 0, sizeof *o);
  o->n = n;
  o->site = lf_alloc(sizeof(int) * (size_t)n);
  o->nbr = lf_alloc(sizeof(int) * (size_t)n * (size_t)T);
  o->rowptr = lf_alloc(sizeof(long) * (size_t)(V + 1));
  o->etap = lf_alloc(sizeof(int) * (size_t)n * (size_t)T);
  o->esrc = lf_alloc(sizeof(int) * (size_t)n * (size_t)T);
  o->mask = lf_alloc((size_t)V);
  if (!o->site || !o->nbr || !o->rowptr || !o->etap || !o->esrc || !o->mask) {
    outsites_free(o);
    return LF_ENOMEM;
  }
  memset(o->mask, 0, (size_t)V);
  for (long j = 0; j < n; j++) {
    if (sites[j] < 0 || sites[j] >= V || o->mask[sites[j]]) {
      int bad = sites[j];
      outsites_free(o);
      return LF_ERROR(LF_EINVAL, "output site %d is out of range 0..%ld or listed twice", bad, V - 1);
    }
    o->mask[sites[j]] = 1;
    o->site[j] = sites[j];
    memcpy(o->nbr + j * T, c->nbr + (long)sites[j] * T, sizeof(int) * (size_t)T);
  }
  /* transposed taps: entry (t, j) belongs to site site(j) + d(t) = nbr[site(j)][t] */
  memset(o->rowptr, 0, sizeof(long) * (size_t)(V + 1));
  for (long j = 0; j < n; j++)
    for (int t = 0; t < T; t++) o->rowptr[o->nbr[j * T + t] + 1]++;
  for (long s = 0; s < V; s++) o->rowptr[s + 1] += o->rowptr[s];
  long *fill = lf_alloc(sizeof(long) * (size_t)V);
  if (!fill) {
    outsites_free(o);
    return LF_ENOMEM;
  }
  memcpy(fill, o->rowptr, sizeof(long) * (size_t)V);
  for (long j = 0; j < n; j++) /* (j, t) order inside every site */
    for (int t = 0; t < T; t++) {
      long e = fill[o->nbr[j * T + t]]++;
      o->etap[e] = t;
      o->esrc[e] = (int)j;
    }
  lf_free(fill);
  net->out = o;
  return LF_OK;
}

void lf_nn_convnet_init_weights(lf_nn_convnet *net, lf_nn_params *P, double gain,
                                double last_gain, uint64_t seed) {
  int n = net->cfg.nlayers;
  for (int l = 0; l < n; l++) {
    lf_nn_init_xavier_normal(P, net->widx[l], l == n - 1 ? last_gain : gain, seed);
    lf_nn_init_zeros(P, net->bidx[l]);
  }
}

double lf_nn_convnet_macs(const lf_nn_convnet *net, int batch) {
  double m = 0.0;
  for (int l = 0; l < net->cfg.nlayers; l++) m += lf_nn_conv_macs(&net->conv[l], batch);
  return m;
}

static long max_channels(const lf_nn_convnet *net) {
  long m = 0;
  for (int l = 0; l <= net->cfg.nlayers; l++)
    if (net->cfg.channels[l] > m) m = net->cfg.channels[l];
  return m;
}

static int net_lanes(const lf_nn_convnet *net, int batch) {
  for (int l = 0; l < net->cfg.nlayers; l++)
    if (!lf_nn_conv_pick_lanes(&net->conv[l], batch)) return 0;
  return 1;
}

size_t lf_nn_convnet_saved_bytes(const lf_nn_convnet *net, int batch) {
  int bp = lf_nn_lanes_batch(batch); /* lane layout pads the batch; bound both layouts */
  size_t bv = (size_t)bp * (size_t)net->vol * sizeof(double);
  size_t saved = sizeof(lf_nn_saved) + LF_ALIGN + bv * (size_t)net->cfg.channels[0] + LF_ALIGN;
  for (int l = 0; l < net->cfg.nlayers; l++)
    saved += 2 * (bv * (size_t)net->cfg.channels[l + 1] + LF_ALIGN);
  return saved;
}

size_t lf_nn_convnet_arena_bytes(const lf_nn_convnet *net, int batch) {
  int bp = lf_nn_lanes_batch(batch);
  size_t bv = (size_t)bp * (size_t)net->vol * sizeof(double);
  size_t scratch = 0;
  for (int l = 0; l < net->cfg.nlayers; l++) {
    size_t sc = lf_nn_conv_scratch_bytes(&net->conv[l], batch);
    if (sc > scratch) scratch = sc;
  }
  return lf_nn_convnet_saved_bytes(net, batch) + 3 * (bv * (size_t)max_channels(net) + LF_ALIGN) +
         scratch;
}

static inline lf_nn_act layer_act(const lf_nn_convnet *net, int l) {
  return l == net->cfg.nlayers - 1 ? net->cfg.out_act : net->cfg.act;
}

/* The output-site restriction that applies to layer l in the chosen layout (or NULL). */
static const lf_nn_outsites *restricted(const lf_nn_convnet *net, int l, int lanes) {
  return lanes && l == net->cfg.nlayers - 1 ? net->out : NULL;
}

/* One layer's conv in the chosen layout. */
static int conv_fwd(const lf_nn_convnet *net, const lf_nn_params *P, int l, int batch, int lanes,
                    const double *in, double *out, lf_arena *arena) {
  const lf_nn_conv *c = &net->conv[l];
  const double *w = lf_nn_params_ptr(P, net->widx[l]), *b = lf_nn_params_ptr(P, net->bidx[l]);
  return lanes ? lf_nn_conv_lane_forward_t(c, restricted(net, l, lanes), batch, w, b, in, out, arena)
               : lf_nn_conv_forward(c, batch, w, b, in, out, arena);
}

int lf_nn_convnet_forward(const lf_nn_convnet *net, const lf_nn_params *P, int batch,
                          const double *x, double *y, lf_arena *arena, lf_nn_saved **saved) {
  const int n = net->cfg.nlayers;
  if (batch < 1) return LF_ERROR(LF_EINVAL, "batch size %d must be >= 1", batch);
  const int lanes = net_lanes(net, batch);
  const int par = lf_nn_convnet_macs(net, batch) >= LF_NN_PAR_MIN_MACS;
  const size_t bv = (size_t)(lanes ? lf_nn_lanes_batch(batch) : batch) * (size_t)net->vol;
  const int c0 = net->cfg.channels[0];
  size_t mark = arena->used;
  lf_nn_saved *sv = NULL;
  double *ping = NULL, *pong = NULL, *xin = NULL;
  if (saved) {
    *saved = NULL;
    sv = lf_arena_alloc(arena, sizeof *sv);
    if (!sv) goto nomem;
    memset(sv, 0, sizeof *sv);
    sv->batch = batch;
    sv->lanes = lanes;
    xin = sv->x = lf_arena_alloc(arena, bv * (size_t)c0 * sizeof(double));
    if (!sv->x) goto nomem;
    for (int l = 0; l < n; l++) {
      size_t sz = bv * (size_t)net->cfg.channels[l + 1] * sizeof(double);
      sv->z[l] = lf_arena_alloc(arena, sz);
      if (!sv->z[l]) goto nomem;
      if (l == n - 1) sv->a[l] = NULL; /* the output lives in y */
      else if (layer_act(net, l) == LF_NN_ACT_NONE) sv->a[l] = sv->z[l];
      else if (!(sv->a[l] = lf_arena_alloc(arena, sz))) goto nomem;
    }
  } else {
    size_t sz = bv * (size_t)max_channels(net) * sizeof(double);
    ping = lf_arena_alloc(arena, sz);
    pong = ping ? lf_arena_alloc(arena, sz) : NULL;
    xin = pong && lanes ? lf_arena_alloc(arena, bv * (size_t)c0 * sizeof(double)) : NULL;
    if (!pong || (lanes && !xin)) goto nomem;
  }
  size_t keep = arena->used;
  if (lanes) lf_nn_lanes_pack(batch, c0, net->vol, x, xin, par);
  else if (sv) memcpy(sv->x, x, bv * (size_t)c0 * sizeof(double));
  const double *in = lanes || sv ? xin : x;
  for (int l = 0; l < n; l++) {
    const int cout = net->cfg.channels[l + 1];
    double *z = sv ? sv->z[l] : (l % 2 ? pong : ping);
    int last = l == n - 1;
    double *a = last ? y : (sv ? sv->a[l] : z);
    if (last && !lanes) z = sv ? z : y; /* public layout: write the output in place */
    int rc = conv_fwd(net, P, l, batch, lanes, in, z, arena);
    if (rc) {
      arena->used = mark;
      return lf_error_context(rc, "conv net forward, layer %d", l);
    }
    if (last && lanes && net->out) {
      lf_nn_lanes_unpack_sites(batch, cout, net->vol, net->out, z, y, par);
      lf_nn_act_forward(layer_act(net, l), net->cfg.act_param,
                        (size_t)batch * (size_t)cout * (size_t)net->vol, y, y);
    } else if (last && lanes) {
      lf_nn_lanes_unpack(batch, cout, net->vol, z, y, par);
      lf_nn_act_forward(layer_act(net, l), net->cfg.act_param,
                        (size_t)batch * (size_t)cout * (size_t)net->vol, y, y);
    } else
      lf_nn_act_forward(layer_act(net, l), net->cfg.act_param, bv * (size_t)cout, z, a);
    in = a;
  }
  arena->used = sv ? keep : mark;
  if (saved) *saved = sv;
  return LF_OK;
nomem:
  arena->used = mark;
  return lf_error_context(LF_ENOMEM, "conv net forward needs %zu arena bytes at batch %d",
                          lf_nn_convnet_arena_bytes(net, batch), batch);
}

static int backward(const lf_nn_convnet *net, const lf_nn_params *P, const lf_nn_saved *sv,
                    const double *dy, double *dx, lf_arena *arena, int want_params) {
  if (!sv) return LF_ERROR(LF_EINVAL, "backward needs the record of a forward with saving");
  const int n = net->cfg.nlayers, batch = sv->batch, lanes = sv->lanes;
  const int par = lf_nn_convnet_macs(net, batch) >= LF_NN_PAR_MIN_MACS;
  const size_t bv = (size_t)(lanes ? lf_nn_lanes_batch(batch) : batch) * (size_t)net->vol;
  size_t mark = arena->used, sz = bv * (size_t)max_channels(net) * sizeof(double);
  double *dz = lf_arena_alloc(arena, sz);
  double *g = dz ? lf_arena_alloc(arena, sz) : NULL;
  if (!g) {
    arena->used = mark;
    return lf_error_context(LF_ENOMEM, "conv net backward scratch at batch %d", batch);
  }
  const double *gin = dy; /* dL/da_l in the working layout */
  if (lanes && net->out) {
    lf_nn_lanes_pack_sites(batch, net->cfg.channels[n], net->vol, net->out, dy, g, par);
    gin = g;
  } else if (lanes) {
    lf_nn_lanes_pack(batch, net->cfg.channels[n], net->vol, dy, g, par);
    gin = g;
  }
  for (int l = n - 1; l >= 0; l--) {
    const lf_nn_conv *c = &net->conv[l];
    const lf_nn_outsites *o = restricted(net, l, lanes);
    const size_t bvl = o ? bv / (size_t)net->vol * (size_t)o->n : bv;
    lf_nn_act_backward(layer_act(net, l), net->cfg.act_param, bvl * (size_t)c->cout, sv->z[l], gin,
                       dz);
    if (l == n - 1 && !lanes && net->out) /* dense layout: dy off the listed sites is 0 */
      for (size_t bc = 0; bc < (size_t)sv->batch * (size_t)c->cout; bc++)
        for (long s = 0; s < net->vol; s++)
          if (!net->out->mask[s]) dz[bc * (size_t)net->vol + (size_t)s] = 0.0;
    const double *in = l == 0 ? sv->x : sv->a[l - 1];
    double *out = l == 0 && !lanes ? dx : (l == 0 && !dx ? NULL : g);
    const double *w = lf_nn_params_ptr(P, net->widx[l]);
    double *dw = want_params ? lf_nn_params_gptr(P, net->widx[l]) : NULL;
    double *db = want_params ? lf_nn_params_gptr(P, net->bidx[l]) : NULL;
    int rc = lanes ? lf_nn_conv_lane_backward_t(c, o, batch, w, in, dz, out, dw, db, arena)
                   : lf_nn_conv_backward(c, batch, w, in, dz, out, dw, db, arena);
    if (rc) {
      arena->used = mark;
      return lf_error_context(rc, "conv net backward, layer %d", l);
    }
    gin = g;
  }
  if (lanes && dx) lf_nn_lanes_unpack(batch, net->cfg.channels[0], net->vol, g, dx, par);
  arena->used = mark;
  return LF_OK;
}

int lf_nn_convnet_backward(const lf_nn_convnet *net, const lf_nn_params *P,
                           const lf_nn_saved *sv, const double *dy, double *dx,
                           lf_arena *arena) {
  return backward(net, P, sv, dy, dx, arena, 1);
}

int lf_nn_convnet_backward_input(const lf_nn_convnet *net, const lf_nn_params *P,
                                 const lf_nn_saved *sv, const double *dy, double *dx,
                                 lf_arena *arena) {
  if (!dx) return LF_ERROR(LF_EINVAL, "lf_nn_convnet_backward_input needs dx");
  return backward(net, P, sv, dy, dx, arena, 0);
}
