/*
** Instantiation of components: replays each scope's definitions in order
** (core modules and instances on the engine, nested components, aliases,
** canon lift/lower and resource built-ins), imports from the host.
*/
#include "cmp_inst.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct frame {
  shoal_cinstance_t *ci;
  const cmp_scope_t *scope;
  struct frame *parent;
  cmp_rval_t *vals[CMP_SORT__COUNT];
  cmp_cinst_t *inst;
  /* imports: by name, from the enclosing instantiate (or the host) */
  const cmp_def_t *inst_def;      /* the instantiate definition in the parent */
  const shoal_cpre_t *pre;        /* the root's imports, resolved */
  shoal_diag_t *diag;
} frame_t;

static shoal_err_t link_err(frame_t *f, const char *fmt, const char *name, uint32_t len) {
  return cmp_fail(f->diag, SHOAL_ERR_LINK, -1, fmt, (int)len, name);
}

static void *ralloc(frame_t *f, size_t n) {
  void *p = cmp_alloc(&f->ci->arena, n);
  if (!p) cmp_fail(f->diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
  return p;
}

cmp_rinst_t *cmp_rinst_alloc(cmp_arena_t *a, uint32_t n) {
  cmp_rinst_t *ri = cmp_alloc(a, sizeof *ri);
  if (!ri) return NULL;
  ri->n = n;
  ri->names = cmp_alloc(a, (n + 1) * sizeof *ri->names);
  ri->name_lens = cmp_alloc(a, (n + 1) * sizeof *ri->name_lens);
  ri->sorts = cmp_alloc(a, (n + 1) * sizeof *ri->sorts);
  ri->vals = cmp_alloc(a, (n + 1) * sizeof *ri->vals);
  return ri->names && ri->name_lens && ri->sorts && ri->vals ? ri : NULL;
}

static bool name_is(const char *a, uint32_t al, const char *b, size_t bl) {
  return al == bl && memcmp(a, b, al) == 0;
}

/* {==================================================================
** Host resources
** =================================================================== */
/* Room for one more of n elements of size bytes in the arena array *arr
** (its capacity *cap doubling; the old array stays in the arena). */
static bool arena_room(shoal_cinstance_t *ci, void **arr, uint32_t n, uint32_t *cap, size_t size, shoal_diag_t *diag) {
  if (n < *cap) return true;
  uint32_t c = *cap ? *cap * 2 : 8;
  void *p = cmp_alloc(&ci->arena, c * size);
  if (!p) {
    cmp_fail(diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
    return false;
  }
  if (n) memcpy(p, *arr, n * size);
  *arr = p;
  *cap = c;
  return true;
}

static cmp_dtor_t *dtor_push(frame_t *f) {
  shoal_cinstance_t *ci = f->ci;
  void *arr = ci->dtors;
  if (!arena_room(ci, &arr, ci->ndtors, &ci->dtors_cap, sizeof *ci->dtors, f->diag)) return NULL;
  ci->dtors = arr;
  cmp_dtor_t *dt = &ci->dtors[ci->ndtors++];
  memset(dt, 0, sizeof *dt);
  return dt;
}

const cmp_dtor_t *cmp_find_dtor(const shoal_cinstance_t *ci, const cmp_type_t *rt) {
  for (uint32_t k = 0; k < ci->nhost_dtors; k++)
    if (ci->host_dtors[k].rt == rt) return &ci->host_dtors[k];
  for (uint32_t k = 0; k < ci->ndtors; k++)
    if (ci->dtors[k].rt == rt) return &ci->dtors[k];
  return NULL;
}

/* Calls a host resource's destructor for a dropped own handle. */
static shoal_err_t host_dtor_call(shoal_store_t *s, shoal_wasi_ctx_t *w, const cmp_dtor_t *dt, uint32_t rep,
                                  shoal_diag_t *d) {
  cmp_rfunc_t rf = {.kind = CMP_FN_HOST, .host = dt->host.fn, .env = dt->host.env, .name = dt->host.name};
  cmp_type_t own = {.kind = SHOAL_CT_OWN, .elem = (cmp_type_t *)dt->rt};
  cmp_field_t param = {.name = "self", .name_len = 4, .type = &own};
  cmp_type_t ft = {.kind = SHOAL_CT_FUNC, .n = 1, .fields = &param};
  rf.type = &ft;
  shoal_cval_t arg = {.kind = SHOAL_CT_OWN, .of.handle = rep}, res;
  memset(&res, 0, sizeof res);
  shoal_err_t e = cmp_call(s, &rf, NULL, w, &arg, 1, &res, d);
  shoal_cval_free(&res);
  return e;
}

/* }================================================================== */

/* {==================================================================
** Resource built-ins
** =================================================================== */
typedef struct res_env {
  const cmp_type_t *rt;
  cmp_cinst_t *inst;
  shoal_cinstance_t *ci;
} res_env_t;

static shoal_err_t res_new(shoal_caller_t *c, void *envp, shoal_raw_t *io) {
  res_env_t *env = envp;
  shoal_diag_t d;
  shoal_diag_clear(&d);
  cmp_cx_t cx = {.diag = &d};
  cmp_handle_t h = {.rt = env->rt, .rep = (uint32_t)io[0], .own = true};
  uint32_t idx;
  if (cmp_table_add(&cx, &env->inst->handles, h, &idx)) return shoal_caller_trap(c, "%s", d.message);
  io[0] = idx;
  return SHOAL_ERR_OK;
}

static shoal_err_t res_rep(shoal_caller_t *c, void *envp, shoal_raw_t *io) {
  res_env_t *env = envp;
  cmp_handle_t *h = cmp_table_get(&env->inst->handles, (uint32_t)io[0]);
  if (!h) return shoal_caller_trap(c, "resource.rep: unknown handle index %u", (uint32_t)io[0]);
  if (h->rt != env->rt) return shoal_caller_trap(c, "resource.rep: handle %u is of another resource type", (uint32_t)io[0]);
  io[0] = h->rep;
  return SHOAL_ERR_OK;
}

static shoal_err_t res_drop(shoal_caller_t *c, void *envp, shoal_raw_t *io) {
  res_env_t *env = envp;
  uint32_t i = (uint32_t)io[0];
  cmp_handle_t *h = cmp_table_get(&env->inst->handles, i);
  if (!h) return shoal_caller_trap(c, "resource.drop: unknown handle index %u", i);
  if (h->rt != env->rt) return shoal_caller_trap(c, "resource.drop: handle %u is of another resource type", i);
  if (h->num_lends) return shoal_caller_trap(c, "resource.drop: handle %u is lent out", i);
  cmp_handle_t copy = *h;
  cmp_table_remove(&env->inst->handles, i);
  if (!copy.own) {
    if (env->inst->num_borrows) env->inst->num_borrows--;
    return SHOAL_ERR_OK;
  }
  const cmp_dtor_t *dt = cmp_find_dtor(env->ci, copy.rt);
  if (dt && dt->has_host) {
    shoal_diag_t d;
    shoal_diag_clear(&d);
    shoal_err_t e = host_dtor_call(shoal_caller_store(c), env->inst->wasi, dt, copy.rep, &d);
    if (e == SHOAL_ERR_EXIT) return e;
    if (e) return shoal_caller_trap(c, "%s", d.message[0] ? d.message : shoal_err_message(e));
    return SHOAL_ERR_OK;
  }
  if (!dt || !dt->fn) return SHOAL_ERR_OK;
  shoal_raw_t dio[1] = {copy.rep};
  shoal_diag_t d;
  shoal_diag_clear(&d);
  shoal_err_t e = shoal_func_call_raw(shoal_caller_store(c), dt->fn, dio, &d);
  if (e == SHOAL_ERR_EXIT) return e;
  if (e) return shoal_caller_trap(c, "resource destructor: %s", d.message[0] ? d.message : shoal_err_message(e));
  return SHOAL_ERR_OK;
}
/* }================================================================== */

static shoal_err_t instantiate_scope(frame_t *f, cmp_rinst_t **exports);

/* Records a core instance of ci, in order (for shoal_cinstance_reinit). */
static shoal_err_t core_push(shoal_cinstance_t *ci, shoal_instance_t *inst, shoal_diag_t *diag) {
  void *arr = ci->cores;
  if (!arena_room(ci, &arr, ci->ncores, &ci->cores_cap, sizeof *ci->cores, diag)) return SHOAL_ERR_NOMEM;
  ci->cores = arr;
  ci->cores[ci->ncores++] = inst;
  return SHOAL_ERR_OK;
}

/* Export `name` of core instance rc; *hint: its position last time. */
static bool core_lookup(const cmp_rcore_t *rc, const char *name, uint32_t len, _Atomic uint32_t *hint,
                        shoal_extern_t *out) {
  uint32_t h = atomic_load_explicit(hint, memory_order_relaxed);
  if (rc->inst) {
    uint32_t was = h;
    bool ok = shoal_instance_export_hinted(rc->inst, name, len, &h, out);
    if (h != was) atomic_store_explicit(hint, h, memory_order_relaxed);  /* no write: no cache line bouncing */
    return ok;
  }
  if (h < rc->n && name_is(rc->names[h].name, rc->names[h].name_len, name, len)) {
    *out = rc->ex[h];
    return true;
  }
  for (uint32_t i = 0; i < rc->n; i++)
    if (name_is(rc->names[i].name, rc->names[i].name_len, name, len)) {
      atomic_store_explicit(hint, i, memory_order_relaxed);
      *out = rc->ex[i];
      return true;
    }
  return false;
}

static bool rinst_lookup(const cmp_rinst_t *ri, const char *name, uint32_t len, _Atomic uint32_t *hint,
                         cmp_rval_t *out) {
  uint32_t h = hint ? atomic_load_explicit(hint, memory_order_relaxed) : UINT32_MAX;
  if (h < ri->n && name_is(ri->names[h], ri->name_lens[h], name, len)) {
    *out = ri->vals[h];
    return true;
  }
  for (uint32_t i = 0; i < ri->n; i++)
    if (name_is(ri->names[i], ri->name_lens[i], name, len)) {
      if (hint) atomic_store_explicit(hint, i, memory_order_relaxed);
      *out = ri->vals[i];
      return true;
    }
  return false;
}

/* {==================================================================
** Core instantiation plans: which argument and which export position
** each import of a core instantiation came from, recorded by the first
** instantiation and read-only after (published with one atomic store).
** An entry holds while the module and its source are the same (the
** source's module, or an inline instance's export list), which a pointer
** comparison checks: the name lookups are done once per component.
** =================================================================== */
typedef struct cmp_core_plan {
  const shoal_module_t *module;
  size_t n;
  struct plan_imp {
    const void *src;
    uint32_t arg, pos;
  } imp[];
} cmp_core_plan_t;

static const void *core_identity(const cmp_rcore_t *rc) {
  return rc->inst ? (const void *)shoal_instance_module(rc->inst) : (const void *)rc->names;
}

static bool core_at(const cmp_rcore_t *rc, uint32_t pos, shoal_extern_t *out) {
  if (rc->inst) return shoal_instance_export_at(rc->inst, pos, out);
  if (pos >= rc->n) return false;
  *out = rc->ex[pos];
  return true;
}

/* Import i of m by name: from the argument named as its module; fills
** the plan entry when there is one. */
static shoal_err_t resolve_import(frame_t *f, const cmp_def_t *def, const shoal_module_t *m, size_t i,
                                  shoal_extern_t *out, struct plan_imp *rec) {
  shoal_import_desc_t id;
  shoal_module_import(m, i, &id);
  for (uint32_t j = 0; j < def->nargs; j++) {
    if (!name_is(def->args[j].name, def->args[j].name_len, id.module, id.module_len)) continue;
    const cmp_rcore_t *rc = f->vals[CMP_SORT_CORE_INSTANCE][def->args[j].idx].core;
    _Atomic uint32_t pos = UINT32_MAX;
    if (!core_lookup(rc, id.name, (uint32_t)id.name_len, &pos, out)) break;
    if (rec) *rec = (struct plan_imp){core_identity(rc), j, atomic_load(&pos)};
    return SHOAL_ERR_OK;
  }
  return cmp_fail(f->diag, SHOAL_ERR_LINK, def->offset, "core import `%.*s`.`%.*s` not found", (int)id.module_len,
                  id.module, (int)id.name_len, id.name);
}

/* The imports of def's instantiation of m, into imps. */
static shoal_err_t core_imports(frame_t *f, const cmp_def_t *def, const shoal_module_t *m, size_t n,
                                shoal_extern_t *imps) {
  cmp_def_t *d = (cmp_def_t *)def;  /* only its atomic plan changes */
  const cmp_core_plan_t *plan = atomic_load_explicit(&d->plan, memory_order_acquire);
  bool use = plan && plan->module == m && plan->n == n;
  cmp_core_plan_t *rec = plan ? NULL : malloc(sizeof *rec + n * sizeof rec->imp[0]);
  for (size_t i = 0; i < n; i++) {
    if (use) {
      const struct plan_imp *p = &plan->imp[i];
      const cmp_rcore_t *rc = p->arg < def->nargs ? f->vals[CMP_SORT_CORE_INSTANCE][def->args[p->arg].idx].core : NULL;
      if (rc && core_identity(rc) == p->src && core_at(rc, p->pos, &imps[i])) continue;
    }
    shoal_err_t e = resolve_import(f, def, m, i, &imps[i], rec ? &rec->imp[i] : NULL);
    if (e) {
      free(rec);
      return e;
    }
  }
  if (rec) {
    rec->module = m;
    rec->n = n;
    cmp_core_plan_t *expected = NULL;
    if (!atomic_compare_exchange_strong_explicit(&d->plan, &expected, rec, memory_order_acq_rel,
                                                 memory_order_acquire))
      free(rec);  /* another thread's is there */
  }
  return SHOAL_ERR_OK;
}
/* }================================================================== */

static shoal_err_t def_import(frame_t *f, const cmp_def_t *def, cmp_rval_t *out) {
  if (!f->parent) {
    *out = f->pre->imports[def - f->scope->defs];
    return SHOAL_ERR_OK;
  }
  const cmp_def_t *idef = f->inst_def;
  for (uint32_t i = 0; i < idef->nargs; i++) {
    const cmp_arg_t *a = &idef->args[i];
    if (name_is(a->name, a->name_len, def->name, def->name_len)) {
      if (a->sort == CMP_SORT_TYPE) return SHOAL_ERR_OK;
      *out = f->parent->vals[a->sort][a->idx];
      return SHOAL_ERR_OK;
    }
  }
  return link_err(f, "missing instantiation argument `%.*s`", def->name, def->name_len);
}

/* Static definitions reached by outer aliases: modules and components. */
static shoal_err_t outer_static(frame_t *f, const cmp_def_t *def, cmp_rval_t *out) {
  frame_t *t = f;
  for (uint32_t i = 0; i < def->a && t; i++) t = t->parent;
  if (def->sort == CMP_SORT_TYPE || def->sort == CMP_SORT_CORE_TYPE) return SHOAL_ERR_OK;
  if (!t) return cmp_fail(f->diag, SHOAL_ERR_UNSUPPORTED, -1, "outer alias beyond the instantiated component");
  *out = t->vals[def->sort][def->b];
  return SHOAL_ERR_OK;
}

static shoal_err_t run_def(frame_t *f, const cmp_def_t *def) {
  /* written in place: a copy through a local would stall on reading back
  ** a 16-byte union just written in 8-byte halves */
  cmp_rval_t scratch;
  bool typed = def->sort == CMP_SORT_TYPE || def->sort == CMP_SORT_CORE_TYPE;
  cmp_rval_t *out = typed ? &scratch : &f->vals[def->sort][def->index];
  memset(out, 0, sizeof *out);
  shoal_err_t e = SHOAL_ERR_OK;
  switch (def->kind) {
  case CMP_DEF_CORE_MODULE: out->module = def->module; break;
  case CMP_DEF_CORE_INSTANTIATE: {
    shoal_module_t *m = f->vals[CMP_SORT_CORE_MODULE][def->a].module;
    size_t n = shoal_module_import_count(m);
    shoal_extern_t small[64];
    shoal_extern_t *imps = n <= 64 ? small : calloc(n, sizeof *imps);
    if (!imps) return cmp_fail(f->diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
    e = core_imports(f, def, m, n, imps);
    cmp_rcore_t *rc = e ? NULL : ralloc(f, sizeof *rc);
    if (!e && !rc) e = SHOAL_ERR_NOMEM;
    if (!e) e = shoal_instance_new(f->ci->store, m, imps, n, &rc->inst, f->diag);
    if (imps != small) free(imps);
    if (e) return e;
    if ((e = core_push(f->ci, rc->inst, f->diag))) return e;
    out->core = rc;
    break;
  }
  case CMP_DEF_CORE_INLINE: {
    cmp_rcore_t *rc = ralloc(f, sizeof *rc);
    if (!rc || !(rc->ex = ralloc(f, (def->nargs + 1) * sizeof *rc->ex))) return SHOAL_ERR_NOMEM;
    rc->n = def->nargs;
    rc->names = def->args;
    for (uint32_t i = 0; i < def->nargs; i++) rc->ex[i] = f->vals[def->args[i].sort][def->args[i].idx].ext;
    out->core = rc;
    break;
  }
  case CMP_DEF_COMPONENT: out->comp = def->scope; break;
  case CMP_DEF_INSTANTIATE: {
    frame_t child = {.ci = f->ci, .scope = f->vals[CMP_SORT_COMPONENT][def->a].comp, .parent = f,
                     .inst_def = def, .diag = f->diag};
    if ((e = instantiate_scope(&child, &out->inst))) return e;
    break;
  }
  case CMP_DEF_INLINE: {
    cmp_rinst_t *ri = cmp_rinst_alloc(&f->ci->arena, def->nargs);
    if (!ri) return cmp_fail(f->diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
    for (uint32_t i = 0; i < def->nargs; i++) {
      ri->names[i] = def->args[i].name;
      ri->name_lens[i] = def->args[i].name_len;
      ri->sorts[i] = def->args[i].sort;
      ri->vals[i] = f->vals[def->args[i].sort][def->args[i].idx];
    }
    out->inst = ri;
    break;
  }
  case CMP_DEF_ALIAS_EXPORT:
    if (def->sort == CMP_SORT_TYPE) break;
    if (!rinst_lookup(f->vals[CMP_SORT_INSTANCE][def->a].inst, def->name, def->name_len,
                      (_Atomic uint32_t *)&def->hint, out))
      return link_err(f, "instance has no export `%.*s`", def->name, def->name_len);
    break;
  case CMP_DEF_ALIAS_CORE_EXPORT:
    if (!core_lookup(f->vals[CMP_SORT_CORE_INSTANCE][def->a].core, def->name, def->name_len, (_Atomic uint32_t *)&def->hint,
                     &out->ext))
      return link_err(f, "core instance has no export `%.*s`", def->name, def->name_len);
    break;
  case CMP_DEF_ALIAS_OUTER:
    if ((e = outer_static(f, def, out))) return e;
    break;
  case CMP_DEF_TYPE: {  /* a resource definition: remember its destructor */
    cmp_dtor_t *dt = dtor_push(f);
    if (!dt) return SHOAL_ERR_NOMEM;
    dt->rt = def->type;
    dt->inst = f->inst;
    dt->fn = def->type->dtor >= 0 ? f->vals[CMP_SORT_CORE_FUNC][def->type->dtor].ext.of.func : NULL;
    return SHOAL_ERR_OK;
  }
  case CMP_DEF_CANON_LIFT: {
    struct shoal_cfunc *cf = ralloc(f, sizeof *cf);
    if (!cf) return SHOAL_ERR_NOMEM;
    cmp_rfunc_t *rf = &cf->f;
    rf->type = def->type;
    rf->kind = CMP_FN_LIFTED;
    rf->core = f->vals[CMP_SORT_CORE_FUNC][def->a].ext.of.func;
    rf->memory = def->opts.memory >= 0 ? f->vals[CMP_SORT_CORE_MEMORY][def->opts.memory].ext.of.memory : NULL;
    rf->realloc = def->opts.realloc >= 0 ? f->vals[CMP_SORT_CORE_FUNC][def->opts.realloc].ext.of.func : NULL;
    rf->post_return = def->opts.post_return >= 0 ? f->vals[CMP_SORT_CORE_FUNC][def->opts.post_return].ext.of.func : NULL;
    rf->encoding = def->opts.encoding;
    rf->inst = f->inst;
    out->func = rf;
    break;
  }
  case CMP_DEF_CANON_LOWER: {
    cmp_lower_env_t *env = ralloc(f, sizeof *env);
    if (!env) return SHOAL_ERR_NOMEM;
    env->callee = f->vals[CMP_SORT_FUNC][def->a].func;
    env->lowered = def->type;
    if (!env->callee) return cmp_fail(f->diag, SHOAL_ERR_LINK, def->offset, "canon lower of a function with no value");
    env->memory = def->opts.memory >= 0 ? f->vals[CMP_SORT_CORE_MEMORY][def->opts.memory].ext.of.memory : NULL;
    env->realloc = def->opts.realloc >= 0 ? f->vals[CMP_SORT_CORE_FUNC][def->opts.realloc].ext.of.func : NULL;
    env->encoding = def->opts.encoding;
    env->inst = f->inst;
    out->ext.kind = SHOAL_EXTERN_FUNC;
    out->ext.of.func = shoal_func_new_host_typed(f->ci->store, def->type->host_type, cmp_lowered_fn, env, NULL);
    if (!out->ext.of.func) return cmp_fail(f->diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
    break;
  }
  case CMP_DEF_CANON_RESOURCE_NEW: case CMP_DEF_CANON_RESOURCE_DROP: case CMP_DEF_CANON_RESOURCE_REP: {
    res_env_t *env = ralloc(f, sizeof *env);
    if (!env) return SHOAL_ERR_NOMEM;
    env->rt = f->scope->space[CMP_SORT_TYPE].items[def->b].type;
    env->inst = f->inst;
    env->ci = f->ci;
    shoal_host_fn_t fn = def->kind == CMP_DEF_CANON_RESOURCE_NEW ? res_new
                       : def->kind == CMP_DEF_CANON_RESOURCE_REP ? res_rep : res_drop;
    out->ext.kind = SHOAL_EXTERN_FUNC;
    out->ext.of.func = shoal_func_new_host_typed(f->ci->store, def->type->host_type, fn, env, NULL);
    if (!out->ext.of.func) return cmp_fail(f->diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
    break;
  }
  case CMP_DEF_IMPORT:
    if ((e = def_import(f, def, out))) return e;
    break;
  case CMP_DEF_EXPORT:
    *out = f->vals[def->sort][def->a];
    break;
  default:
    return cmp_fail(f->diag, SHOAL_ERR_UNSUPPORTED, def->offset, "definition kind %d cannot be instantiated", (int)def->kind);
  }
  return SHOAL_ERR_OK;
}

/* {==================================================================
** Templates: what every instantiation of a pre's root scope gets the same
** (core modules, nested components, the imports and what is aliased or
** exported from them) is worked out once; each instantiation copies those
** values and runs only the definitions that make something new. A lookup
** that fails here is left to run, so that it fails where it always did.
** =================================================================== */
shoal_err_t cmp_pre_template(shoal_cpre_t *p, shoal_diag_t *diag) {
  const cmp_scope_t *s = p->comp->root;
  bool *fixed[CMP_SORT__COUNT] = {0};
  shoal_err_t e = SHOAL_ERR_OK;
  for (int k = 0; k < CMP_SORT__COUNT && !e; k++) {
    p->tmpl[k] = cmp_alloc(&p->arena, (s->space[k].n + 1) * sizeof(cmp_rval_t));
    fixed[k] = calloc(s->space[k].n + 1, sizeof(bool));
    if (!p->tmpl[k] || !fixed[k]) e = cmp_fail(diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
  }
  if (!e && !(p->run = cmp_alloc(&p->arena, (s->ndefs + 1) * sizeof *p->run)))
    e = cmp_fail(diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
  for (uint32_t i = 0; !e && i < s->ndefs; i++) {
    cmp_def_t *def = &s->defs[i];
    bool typed = def->sort == CMP_SORT_TYPE || def->sort == CMP_SORT_CORE_TYPE;
    bool same = false;
    cmp_rval_t v;
    memset(&v, 0, sizeof v);
    switch (def->kind) {
    case CMP_DEF_CORE_MODULE: v.module = def->module; same = true; break;
    case CMP_DEF_COMPONENT: v.comp = def->scope; same = true; break;
    case CMP_DEF_IMPORT: v = p->imports[i]; same = true; break;
    case CMP_DEF_ALIAS_EXPORT:
      same = typed || (fixed[CMP_SORT_INSTANCE][def->a] &&
                       rinst_lookup(p->tmpl[CMP_SORT_INSTANCE][def->a].inst, def->name, def->name_len, &def->hint, &v));
      break;
    case CMP_DEF_EXPORT:
      same = typed || fixed[def->sort][def->a];
      if (!typed) v = p->tmpl[def->sort][def->a];
      break;
    default: break;
    }
    if (!same) {
      p->run[p->nrun++] = i;
    } else if (!typed) {
      p->tmpl[def->sort][def->index] = v;
      fixed[def->sort][def->index] = true;
    }
  }
  for (int k = 0; k < CMP_SORT__COUNT; k++) free(fixed[k]);
  return e;
}
/* }================================================================== */

static shoal_err_t instantiate_scope(frame_t *f, cmp_rinst_t **exports) {
  const cmp_scope_t *s = f->scope;
  const shoal_cpre_t *pre = f->parent ? NULL : f->pre;  /* the root: from its template */
  for (int k = 0; k < CMP_SORT__COUNT; k++) {
    if (!(f->vals[k] = ralloc(f, (s->space[k].n + 1) * sizeof(cmp_rval_t)))) return SHOAL_ERR_NOMEM;
    if (pre) memcpy(f->vals[k], pre->tmpl[k], (s->space[k].n + 1) * sizeof(cmp_rval_t));
  }
  cmp_cinst_t *inst = ralloc(f, sizeof *inst);
  if (!inst) return SHOAL_ERR_NOMEM;
  inst->may_enter = inst->may_leave = true;
  inst->scope = s;
  inst->wasi = f->ci->wasi;
  inst->next_all = f->ci->all;
  f->ci->all = inst;
  f->inst = inst;
  uint32_t n = pre ? pre->nrun : s->ndefs;
  for (uint32_t i = 0; i < n; i++) {
    shoal_err_t e = run_def(f, &s->defs[pre ? pre->run[i] : i]);
    if (e) return e;
  }
  cmp_rinst_t *ri = cmp_rinst_alloc(&f->ci->arena, s->nexports);
  if (!ri) return cmp_fail(f->diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
  uint32_t k = 0;
  for (uint32_t i = 0; i < s->ndefs; i++) {
    const cmp_def_t *d = &s->defs[i];
    if (d->kind != CMP_DEF_EXPORT) continue;
    ri->names[k] = d->name;
    ri->name_lens[k] = d->name_len;
    ri->sorts[k] = d->sort;
    ri->vals[k] = f->vals[d->sort][d->index];
    k++;
  }
  *exports = ri;
  return SHOAL_ERR_OK;
}

shoal_err_t shoal_cpre_instantiate(const shoal_cpre_t *p, shoal_store_t *s, shoal_wasi_ctx_t *w,
                                   shoal_cinstance_t **out, shoal_diag_t *diag) {
  *out = NULL;
  if (diag) shoal_diag_clear(diag);
  shoal_cinstance_t *ci = calloc(1, sizeof *ci);
  if (!ci) return cmp_fail(diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
  ci->store = s;
  ci->comp = p->comp;
  ci->wasi = w;
  /* its core instances live as long as the store: so do its own tables
  ** (no malloc per instance, and nothing to free one by one) */
  ci->arena.store = s;
  shoal_err_t e = SHOAL_ERR_OK;
  ci->host_dtors = p->dtors;
  ci->nhost_dtors = p->ndtors;
  frame_t f = {.ci = ci, .scope = p->comp->root, .pre = p, .diag = diag};
  if (!e) e = instantiate_scope(&f, &ci->exports);
  if (e) {
    if (diag && diag->code == SHOAL_ERR_OK) cmp_fail(diag, e, -1, "%s", shoal_err_message(e));
    shoal_cinstance_free(ci);
    return e;
  }
  *out = ci;
  return SHOAL_ERR_OK;
}

shoal_err_t shoal_cinstance_new(shoal_store_t *s, const shoal_component_t *c, const shoal_cimport_t *imports,
                                size_t nimports, shoal_cinstance_t **out, shoal_diag_t *diag) {
  *out = NULL;
  shoal_cpre_t *p;
  shoal_err_t e = shoal_cpre_new(c, imports, nimports, &p, diag);
  if (e) return e;
  if ((e = shoal_cpre_instantiate(p, s, NULL, out, diag))) {
    shoal_cpre_free(p);
    return e;
  }
  (*out)->own_pre = p;
  return SHOAL_ERR_OK;
}

/* Own handles of host resources still held: the host's destructors. */
static void drop_host_handles(shoal_cinstance_t *ci) {
  for (cmp_cinst_t *i = ci->all; ci->nhost_dtors; i = i->next_all) {
    cmp_table_t *t = i ? &i->handles : &ci->host_table;
    for (uint32_t h = 1; h < t->n; h++) {
      if (!t->h[h].own || !t->h[h].rt) continue;
      const cmp_dtor_t *dt = cmp_find_dtor(ci, t->h[h].rt);
      if (!dt || !dt->has_host) continue;
      shoal_diag_t d;
      shoal_diag_clear(&d);
      uint32_t rep = t->h[h].rep;
      cmp_table_remove(t, h);
      host_dtor_call(ci->store, ci->wasi, dt, rep, &d);
    }
    if (!i) break;
  }
}

void shoal_cinstance_release(shoal_cinstance_t *ci) {
  if (!ci) return;
  drop_host_handles(ci);
  for (cmp_cinst_t *i = ci->all; i; i = i->next_all) cmp_table_clear(&i->handles);
  cmp_table_clear(&ci->host_table);
}

shoal_err_t shoal_cinstance_reinit(shoal_cinstance_t *ci, shoal_wasi_ctx_t *w, shoal_diag_t *diag) {
  if (diag) shoal_diag_clear(diag);
  if (!ci) return cmp_fail(diag, SHOAL_ERR_ARG, -1, "shoal_cinstance_reinit: NULL instance");
  shoal_cinstance_release(ci);
  ci->wasi = w;
  for (cmp_cinst_t *i = ci->all; i; i = i->next_all) {
    i->may_enter = i->may_leave = true;
    i->num_borrows = 0;
    i->wasi = w;
  }
  shoal_err_t e = shoal_store_rearm(ci->store);
  if (e) return cmp_fail(diag, e, -1, "shoal_cinstance_reinit: the store is executing");
  for (uint32_t k = 0; k < ci->ncores; k++)
    if ((e = shoal_instance_reinit(ci->cores[k], diag))) return e;
  return SHOAL_ERR_OK;
}

void shoal_cinstance_free(shoal_cinstance_t *ci) {
  if (!ci) return;
  drop_host_handles(ci);
  for (cmp_cinst_t *i = ci->all; i; i = i->next_all) cmp_table_free(&i->handles);
  cmp_table_free(&ci->host_table);
  cmp_arena_free(&ci->arena);
  shoal_cpre_free(ci->own_pre);
  if (ci->own_wasi) shoal_wasi_ctx_free(ci->wasi);
  free(ci);
}

shoal_cfunc_t *shoal_cinstance_func(shoal_cinstance_t *ci, const char *name) {
  const char *hash = strchr(name, '#');
  size_t len = hash ? (size_t)(hash - name) : strlen(name);
  cmp_rinst_t *ri = ci->exports;
  for (uint32_t i = 0; i < ri->n; i++) {
    if (!name_is(ri->names[i], ri->name_lens[i], name, len)) continue;
    if (!hash && ri->sorts[i] == CMP_SORT_FUNC) return (shoal_cfunc_t *)ri->vals[i].func;
    if (hash && ri->sorts[i] == CMP_SORT_INSTANCE) {
      cmp_rval_t v;
      if (rinst_lookup(ri->vals[i].inst, hash + 1, (uint32_t)strlen(hash + 1), NULL, &v)) {
        cmp_rinst_t *sub = ri->vals[i].inst;
        for (uint32_t j = 0; j < sub->n; j++)
          if (name_is(sub->names[j], sub->name_lens[j], hash + 1, strlen(hash + 1)) && sub->sorts[j] == CMP_SORT_FUNC)
            return (shoal_cfunc_t *)v.func;
      }
    }
  }
  if (hash) return NULL;
  /* a bare name: the one function of that name in the exported instances */
  cmp_rfunc_t *found = NULL;
  for (uint32_t i = 0; i < ri->n; i++) {
    if (ri->sorts[i] != CMP_SORT_INSTANCE) continue;
    cmp_rinst_t *sub = ri->vals[i].inst;
    for (uint32_t j = 0; j < sub->n; j++)
      if (sub->sorts[j] == CMP_SORT_FUNC && name_is(sub->names[j], sub->name_lens[j], name, len)) {
        if (found) return NULL;  /* ambiguous */
        found = sub->vals[j].func;
      }
  }
  return (shoal_cfunc_t *)found;
}

const shoal_ctype_t *shoal_cfunc_type(const shoal_cfunc_t *f) { return ((const cmp_rfunc_t *)(const void *)f)->type; }

shoal_err_t shoal_cfunc_call(shoal_store_t *s, shoal_cfunc_t *f, const shoal_cval_t *args, size_t nargs,
                             shoal_cval_t *result, shoal_diag_t *diag) {
  if (diag) shoal_diag_clear(diag);
  cmp_rfunc_t *rf = (cmp_rfunc_t *)(void *)f;
  if (result) memset(result, 0, sizeof *result);
  shoal_cval_t dummy;
  memset(&dummy, 0, sizeof dummy);
  shoal_err_t e = cmp_call(s, rf, NULL, NULL, args, nargs, result ? result : &dummy, diag);
  shoal_cval_free(&dummy);
  return e;
}
