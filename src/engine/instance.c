/*
** instance.c: instantiation (import matching, allocation, constant
** expressions, active segments, the start function), exports, linking by
** name, and the embedder's call entry points around eng_invoke.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

/* {===================================================================
** Import matching
** =================================================================== */

/* "(i32 i64) -> (f32)" into buf, truncated if long. */
static const char *fmt_functype(char *buf, size_t n, const eng_functype *ft) {
  size_t k = 0;
  for (uint32_t i = 0; i <= ft->nparams + ft->nresults && k < n; i++) {
    const char *pre = i == 0 ? "(" : i == ft->nparams ? ") -> (" : " ";
    const char *name = i < ft->nparams + ft->nresults
                           ? shoal_valtype_name((shoal_valtype_t)ft->types[i]) : ")";
    if (i == ft->nparams + ft->nresults && i != ft->nparams) pre = "";
    if (i == ft->nparams && ft->nparams == 0) pre = "() -> (";
    k += (size_t)snprintf(buf + k, n - k, "%s%s", pre, name);
  }
  return buf;
}

static const char *fmt_limits(char *buf, size_t n, uint64_t min, bool has_max, uint64_t max) {
  if (has_max)
    snprintf(buf, n, "{min %llu, max %llu}", (unsigned long long)min, (unsigned long long)max);
  else
    snprintf(buf, n, "{min %llu}", (unsigned long long)min);
  return buf;
}

/* Limits subtyping: the actual entity (current size as its min) must fit
** within what the import declares. */
static bool limits_match(uint64_t amin, bool ahas_max, uint64_t amax, const eng_limits *decl) {
  if (amin < decl->min) return false;
  if (decl->has_max && (!ahas_max || amax > decl->max)) return false;
  return true;
}

#define IMPORT_MISMATCH(diag, im, fmt, ...)                                        \
  ENG_ERR(diag, SHOAL_ERR_LINK, -1, "incompatible import type for \"%s\" \"%s\": " fmt, \
          (im)->module, (im)->name, __VA_ARGS__)

static shoal_err_t check_import(const shoal_module_t *m, const eng_import *im,
                                const shoal_extern_t *ex, shoal_diag_t *diag) {
  char a[96], b[96];
  if ((unsigned)ex->kind != im->kind)
    return IMPORT_MISMATCH(diag, im, "expected %s, got %s", shoal_extern_kind_name((shoal_extern_kind_t)im->kind),
                           shoal_extern_kind_name(ex->kind));
  switch (im->kind) {
  case SHOAL_EXTERN_FUNC: {
    const shoal_func_t *f = ex->of.func;
    if (!f) break;
    const eng_functype *ft = &m->types[im->type_idx];
    if (!eng_functype_eq(ft, f->type))
      return IMPORT_MISMATCH(diag, im, "expected func %s, got func %s",
                             fmt_functype(a, sizeof a, ft), fmt_functype(b, sizeof b, f->type));
    return SHOAL_ERR_OK;
  }
  case SHOAL_EXTERN_TABLE: {
    const shoal_table_t *t = ex->of.table;
    if (!t) break;
    if (t->elem != im->table.elem ||
        !limits_match(t->size, t->decl.has_max, t->decl.max, &im->table.lim))
      return IMPORT_MISMATCH(
          diag, im, "expected table %s %s, got table %s %s",
          shoal_valtype_name((shoal_valtype_t)im->table.elem),
          fmt_limits(a, sizeof a, im->table.lim.min, im->table.lim.has_max, im->table.lim.max),
          shoal_valtype_name((shoal_valtype_t)t->elem),
          fmt_limits(b, sizeof b, t->size, t->decl.has_max, t->decl.max));
    return SHOAL_ERR_OK;
  }
  case SHOAL_EXTERN_MEMORY: {
    const shoal_memory_t *mem = ex->of.memory;
    if (!mem) break;
    if (!limits_match(mem->pages, mem->decl.has_max, mem->decl.max, &im->mem))
      return IMPORT_MISMATCH(diag, im, "expected memory %s, got memory %s",
                             fmt_limits(a, sizeof a, im->mem.min, im->mem.has_max, im->mem.max),
                             fmt_limits(b, sizeof b, mem->pages, mem->decl.has_max,
                                        mem->decl.max));
    return SHOAL_ERR_OK;
  }
  case SHOAL_EXTERN_GLOBAL: {
    const shoal_global_t *g = ex->of.global;
    if (!g) break;
    if (g->type.type != im->global.type || g->type.mut != im->global.mut)
      return IMPORT_MISMATCH(diag, im, "expected global %s%s, got global %s%s",
                             im->global.mut ? "mut " : "",
                             shoal_valtype_name((shoal_valtype_t)im->global.type),
                             g->type.mut ? "mut " : "",
                             shoal_valtype_name((shoal_valtype_t)g->type.type));
    return SHOAL_ERR_OK;
  }
  default:
    return ENG_ERR(diag, SHOAL_ERR_LINK, -1, "import \"%s\" \"%s\" has an unknown kind",
                   im->module, im->name);
  }
  return ENG_ERR(diag, SHOAL_ERR_LINK, -1, "missing import \"%s\" \"%s\" (NULL %s)",
                 im->module, im->name, shoal_extern_kind_name((shoal_extern_kind_t)im->kind));
}

/* }=================================================================== */

/* {===================================================================
** Constant expressions
** =================================================================== */
#define CE_STACK 32

/* Minimal LEB128 readers for already-validated bytes: they stop at the end
** of the expression instead of reporting errors. */
static uint64_t ce_leb(const uint8_t **pp, const uint8_t *end, bool sign) {
  const uint8_t *p = *pp;
  uint64_t v = 0;
  unsigned shift = 0;
  uint8_t b = 0;
  while (p < end) {
    b = *p++;
    if (shift < 64) v |= (uint64_t)(b & 0x7f) << shift;
    shift += 7;
    if (!(b & 0x80)) break;
  }
  if (sign && shift < 64 && (b & 0x40)) v |= ~(uint64_t)0 << shift;
  *pp = p;
  return v;
}

static uint64_t ce_bits(const uint8_t **pp, const uint8_t *end, unsigned n) {
  uint64_t v = 0;
  if ((size_t)(end - *pp) < n) { *pp = end; return 0; }
  memcpy(&v, *pp, n);   /* the engine targets little-endian hosts */
  *pp += n;
  return v;
}

shoal_raw_t eng_constexpr_eval(const shoal_instance_t *inst, const eng_constexpr *ce) {
  /* The bytes were validated; anything unexpected ends evaluation with the
  ** partial result rather than crashing. */
  const uint8_t *p = ce->code, *end = ce->code + ce->len;
  const shoal_module_t *m = inst->module;
  shoal_raw_t st[CE_STACK];
  unsigned sp = 0;
#define PUSH(v) do { shoal_raw_t v_ = (v); if (sp < CE_STACK) st[sp++] = v_; } while (0)
#define BIN(T, expr) do { if (sp < 2) goto done; T b = (T)st[--sp], a = (T)st[sp - 1]; \
                          st[sp - 1] = (T)(expr); } while (0)
  while (p < end) {
    uint8_t op = *p++;
    switch (op) {
    case 0x41: PUSH((uint32_t)ce_leb(&p, end, true)); break;   /* i32.const */
    case 0x42: PUSH(ce_leb(&p, end, true)); break;             /* i64.const */
    case 0x43: PUSH(ce_bits(&p, end, 4)); break;               /* f32.const */
    case 0x44: PUSH(ce_bits(&p, end, 8)); break;               /* f64.const */
    case 0xd0: p += p < end; PUSH(0); break;                   /* ref.null t */
    case 0xd2: {                                               /* ref.func x */
      uint64_t x = ce_leb(&p, end, false);
      if (x >= m->nfuncs) goto done;
      PUSH((shoal_raw_t)(uintptr_t)inst->funcs[x]);
      break;
    }
    case 0x23: {                                               /* global.get x */
      uint64_t x = ce_leb(&p, end, false);
      if (x >= m->nglobals || !inst->globals[x]) goto done;
      PUSH(inst->globals[x]->val);
      break;
    }
    /* extended-const */
    case 0x6a: BIN(uint32_t, a + b); break;
    case 0x6b: BIN(uint32_t, a - b); break;
    case 0x6c: BIN(uint32_t, a * b); break;
    case 0x7c: BIN(uint64_t, a + b); break;
    case 0x7d: BIN(uint64_t, a - b); break;
    case 0x7e: BIN(uint64_t, a * b); break;
    default: goto done;   /* 0x0b end, or not a constant instruction */
    }
  }
done:
#undef PUSH
#undef BIN
  return sp ? st[sp - 1] : 0;
}

void *eng_elem_item(const shoal_instance_t *inst, const eng_elem *seg, uint32_t i) {
  if (seg->func_idx && seg->func_idx[i] != UINT32_MAX)
    return inst->funcs[seg->func_idx[i]];
  if (!seg->exprs) return NULL;
  return (void *)(uintptr_t)eng_constexpr_eval(inst, &seg->exprs[i]);
}

/* }=================================================================== */

/* {===================================================================
** Instantiation
** =================================================================== */

/* Steps 1-2: an instance with its entities, not yet linked or initialised
** by segments. Entities it creates are owned by the store from the start.
** The instance and its arrays are one allocation from the store's arena
** (an instance lives as long as its store). */
static shoal_err_t instance_alloc(shoal_store_t *s, const shoal_module_t *m,
                                  const shoal_extern_t *imports, shoal_instance_t **out,
                                  shoal_diag_t *diag) {
  shoal_err_t err = SHOAL_ERR_OK;
  const size_t al = sizeof(max_align_t);
#define PART(n, size) (((size_t)(n) * (size) + al - 1) / al * al)
  size_t sz[9] = {PART(1, sizeof(shoal_instance_t)),
                  PART(m->nfuncs, sizeof(shoal_func_t *)),
                  PART(m->nfuncs - m->nimported_funcs, sizeof(shoal_func_t)),
                  PART(m->ntables, sizeof(shoal_table_t *)),
                  PART(m->nmems, sizeof(shoal_memory_t *)),
                  PART(m->nglobals, sizeof(shoal_global_t *)),
                  PART(m->nglobals - m->nimported_globals, sizeof(shoal_global_t)),
                  PART(m->nelems, 1),
                  PART(m->ndatas, 1)};
#undef PART
  size_t total = 0;
  for (int i = 0; i < 9; i++) total += sz[i];
  char *p = eng_store_alloc(s, total);
  if (!p) return ENG_ERR(diag, SHOAL_ERR_NOMEM, -1, "out of host memory for an instance");
  shoal_instance_t *inst = (shoal_instance_t *)(void *)p;
  p += sz[0];
  inst->funcs = (shoal_func_t **)(void *)p;
  p += sz[1];
  inst->own_funcs = (shoal_func_t *)(void *)p;
  p += sz[2];
  inst->tables = (shoal_table_t **)(void *)p;
  p += sz[3];
  inst->mems = (shoal_memory_t **)(void *)p;
  p += sz[4];
  inst->globals = (shoal_global_t **)(void *)p;
  p += sz[5];
  inst->own_globals = (shoal_global_t *)(void *)p;
  p += sz[6];
  inst->elem_dropped = (uint8_t *)p;
  p += sz[7];
  inst->data_dropped = (uint8_t *)p;
  inst->store = s;
  inst->module = m;

  /* Imports come first in each index space, in import order. */
  uint32_t nf = 0, nt = 0, nm = 0, ng = 0;
  for (uint32_t i = 0; i < m->nimports; i++) {
    switch (m->imports[i].kind) {
    case SHOAL_EXTERN_FUNC: inst->funcs[nf++] = imports[i].of.func; break;
    case SHOAL_EXTERN_TABLE: inst->tables[nt++] = imports[i].of.table; break;
    case SHOAL_EXTERN_MEMORY: inst->mems[nm++] = imports[i].of.memory; break;
    case SHOAL_EXTERN_GLOBAL: inst->globals[ng++] = imports[i].of.global; break;
    }
  }

  for (uint32_t i = m->nimported_funcs; i < m->nfuncs; i++) {
    shoal_func_t *f = &inst->own_funcs[i - m->nimported_funcs];
    f->type = m->funcs[i].type;   /* canonical: equal types share a pointer */
    f->inst = inst;
    f->code = m->funcs[i].code;
    f->idx = i;
    inst->funcs[i] = f;
  }
  for (uint32_t i = m->nimported_tables; i < m->ntables; i++)
    TRY(eng_table_create(s, m->tables[i].elem, &m->tables[i].lim, NULL, &inst->tables[i], diag));
  for (uint32_t i = m->nimported_mems; i < m->nmems; i++)
    TRY(eng_memory_create(s, &m->mems[i], &inst->mems[i], diag));
  inst->mem0 = m->nmems ? inst->mems[0] : NULL;
  /* In order: an initialiser may read only imported globals (validated),
  ** which are already in place. */
  for (uint32_t i = m->nimported_globals; i < m->nglobals; i++) {
    shoal_global_t *g = &inst->own_globals[i - m->nimported_globals];
    g->type = m->globals[i].type;
    inst->globals[i] = g;
    g->val = eng_constexpr_eval(inst, &m->globals[i].init);
  }
  *out = inst;
  return SHOAL_ERR_OK;
fail:  /* what was made so far belongs to the store already */
  return err;
}

/* Step 3: active segments in order; declarative ones are just dropped. */
static shoal_err_t init_segments(shoal_instance_t *inst, shoal_diag_t *diag) {
  const shoal_module_t *m = inst->module;
  for (uint32_t i = 0; i < m->nelems; i++) {
    const eng_elem *seg = &m->elems[i];
    if (seg->mode == ENG_SEG_DECLARATIVE) {
      inst->elem_dropped[i] = 1;
    } else if (seg->mode == ENG_SEG_ACTIVE) {
      uint32_t off = (uint32_t)eng_constexpr_eval(inst, &seg->offset);
      shoal_table_t *t = inst->tables[seg->table];
      if ((uint64_t)off + seg->count > t->size)
        return ENG_ERR(diag, SHOAL_ERR_TRAP_TABLE_OOB, seg->offset_in_binary,
                       "out of bounds table access");
      for (uint32_t k = 0; k < seg->count; k++) t->elems[off + k] = eng_elem_item(inst, seg, k);
      inst->elem_dropped[i] = 1;
    }
  }
  /* every active segment is in the image (memory.c checked they fit) */
  bool imaged = m->image_len && (inst->mems[0]->imaged || eng_memory_map_image(inst->mems[0], m));
  for (uint32_t i = 0; i < m->ndatas; i++) {
    const eng_data *d = &m->datas[i];
    if (d->mode != ENG_SEG_ACTIVE) continue;
    if (imaged) {
      inst->data_dropped[i] = 1;
      continue;
    }
    uint32_t off = (uint32_t)eng_constexpr_eval(inst, &d->offset);
    shoal_memory_t *mem = inst->mems[d->mem];
    if ((uint64_t)off + d->len > mem->size)
      return ENG_ERR(diag, SHOAL_ERR_TRAP_MEM_OOB, d->offset_in_binary,
                     "out of bounds memory access");
    if (d->len) memcpy(mem->base + off, d->bytes, d->len);
    inst->data_dropped[i] = 1;
  }
  return SHOAL_ERR_OK;
}

/* Step 4: the start function, if any (it may not suspend). */
static shoal_err_t run_start(shoal_instance_t *inst, shoal_diag_t *diag) {
  shoal_store_t *s = inst->store;
  int32_t start = inst->module->start;
  if (start < 0) return SHOAL_ERR_OK;
  shoal_raw_t io[1] = { 0 };
  shoal_err_t err = eng_invoke(s, inst->funcs[start], io, diag);
  if (err == SHOAL_ERR_SUSPENDED) {
    shoal_store_cancel(s);
    err = ENG_ERR(diag, SHOAL_ERR_UNSUPPORTED, -1, "the start function cannot suspend");
  } else if (err == SHOAL_ERR_EXIT && diag) {
    diag->code = SHOAL_ERR_EXIT;
    diag->exit_code = s->exit_code;
  }
  return err;
}

shoal_err_t shoal_instance_new(shoal_store_t *s, const shoal_module_t *m,
                               const shoal_extern_t *imports, size_t nimports,
                               shoal_instance_t **out, shoal_diag_t *diag) {
  shoal_err_t err;
  if (out) *out = NULL;
  if (!s || !m || !out || (nimports && !imports))
    return ENG_ERR(diag, SHOAL_ERR_ARG, -1, "shoal_instance_new: NULL argument");
  if (nimports < m->nimports)
    return ENG_ERR(diag, SHOAL_ERR_LINK, -1, "module needs %u imports, %zu given",
                   m->nimports, nimports);
  if (m->start >= 0 && s->susp.active)
    return ENG_ERR(diag, SHOAL_ERR_ARG, -1,
                   "store has a suspended execution: resume or cancel it first");
  for (uint32_t i = 0; i < m->nimports; i++)
    TRY(check_import(m, &m->imports[i], &imports[i], diag));

  shoal_instance_t *inst = NULL;
  TRY(instance_alloc(s, m, imports, &inst, diag));
  /* Linked before anything runs: segments and the start function may put
  ** this instance's functions into imported tables, which outlive a failed
  ** instantiation, so its functions must live as long as the store. */
  inst->next_in_store = s->instances;
  s->instances = inst;

  TRY(init_segments(inst, diag));
  TRY(run_start(inst, diag));
  *out = inst;
  return SHOAL_ERR_OK;
fail:
  return err;
}

shoal_err_t shoal_instance_reinit(shoal_instance_t *inst, shoal_diag_t *diag) {
  if (!inst) return ENG_ERR(diag, SHOAL_ERR_ARG, -1, "shoal_instance_reinit: NULL instance");
  shoal_store_t *s = inst->store;
  const shoal_module_t *m = inst->module;
  if (s->stack_top || s->depth || s->susp.active)
    return ENG_ERR(diag, SHOAL_ERR_ARG, -1, "shoal_instance_reinit: the store is executing");
  for (uint32_t i = m->nimported_mems; i < m->nmems; i++)
    if (!eng_memory_rewind(s, inst->mems[i], m->mems[i].min))
      return ENG_ERR(diag, SHOAL_ERR_NOMEM, -1, "memory %u cannot be put back (the kernel refused)", i);
  for (uint32_t i = m->nimported_tables; i < m->ntables; i++) {
    shoal_table_t *t = inst->tables[i];
    uint32_t min = (uint32_t)m->tables[i].lim.min;  /* no more than its size: tables only grow */
    if (t->size) memset(t->elems, 0, (size_t)t->size * sizeof *t->elems);
    t->size = min;
    t->decl.min = min;
  }
  for (uint32_t i = m->nimported_globals; i < m->nglobals; i++)
    inst->globals[i]->val = eng_constexpr_eval(inst, &m->globals[i].init);
  memset(inst->elem_dropped, 0, m->nelems);
  memset(inst->data_dropped, 0, m->ndatas);
  shoal_err_t err = init_segments(inst, diag);
  return err ? err : run_start(inst, diag);
}

/* }=================================================================== */

/* {===================================================================
** Exports and linking by name
** =================================================================== */
static bool export_value(const shoal_instance_t *inst, const eng_export *ex, shoal_extern_t *out) {
  shoal_extern_t e;
  memset(&e, 0, sizeof e);
  e.kind = (shoal_extern_kind_t)ex->kind;
  switch (ex->kind) {
  case SHOAL_EXTERN_FUNC: e.of.func = inst->funcs[ex->index]; break;
  case SHOAL_EXTERN_TABLE: e.of.table = inst->tables[ex->index]; break;
  case SHOAL_EXTERN_MEMORY: e.of.memory = inst->mems[ex->index]; break;
  case SHOAL_EXTERN_GLOBAL: e.of.global = inst->globals[ex->index]; break;
  default: return false;
  }
  if (out) *out = e;
  return true;
}

static bool export_is(const eng_export *ex, const char *name, size_t len) {
  return ex->name_len == len && (!len || memcmp(ex->name, name, len) == 0);
}

bool shoal_instance_export_hinted(const shoal_instance_t *inst, const char *name, size_t name_len, uint32_t *hint,
                                  shoal_extern_t *out) {
  if (!inst || (!name && name_len)) return false;
  const shoal_module_t *m = inst->module;
  if (hint && *hint < m->nexports && export_is(&m->exports[*hint], name, name_len))
    return export_value(inst, &m->exports[*hint], out);
  for (uint32_t i = 0; i < m->nexports; i++) {
    if (!export_is(&m->exports[i], name, name_len)) continue;
    if (hint) *hint = i;
    return export_value(inst, &m->exports[i], out);
  }
  return false;
}

bool shoal_instance_export(const shoal_instance_t *inst, const char *name, size_t name_len,
                           shoal_extern_t *out) {
  return shoal_instance_export_hinted(inst, name, name_len, NULL, out);
}

bool shoal_instance_export_at(const shoal_instance_t *inst, uint32_t i, shoal_extern_t *out) {
  if (!inst || i >= inst->module->nexports) return false;
  return export_value(inst, &inst->module->exports[i], out);
}

shoal_func_t *shoal_instance_func(const shoal_instance_t *inst, const char *name) {
  shoal_extern_t e;
  if (!name || !shoal_instance_export(inst, name, strlen(name), &e)) return NULL;
  return e.kind == SHOAL_EXTERN_FUNC ? e.of.func : NULL;
}

shoal_memory_t *shoal_instance_memory(const shoal_instance_t *inst, const char *name) {
  shoal_extern_t e;
  if (!name || !shoal_instance_export(inst, name, strlen(name), &e)) return NULL;
  return e.kind == SHOAL_EXTERN_MEMORY ? e.of.memory : NULL;
}

const shoal_module_t *shoal_instance_module(const shoal_instance_t *inst) {
  return inst ? inst->module : NULL;
}

shoal_err_t shoal_module_resolve_imports(const shoal_module_t *m, shoal_resolve_fn fn, void *ud,
                                         shoal_extern_t *imports, shoal_diag_t *diag) {
  if (!m || !fn || (m->nimports && !imports))
    return ENG_ERR(diag, SHOAL_ERR_ARG, -1, "shoal_module_resolve_imports: NULL argument");
  for (uint32_t i = 0; i < m->nimports; i++) {
    shoal_import_desc_t d;
    shoal_module_import(m, i, &d);
    memset(&imports[i], 0, sizeof imports[i]);
    if (!fn(ud, &d, &imports[i]))
      return ENG_ERR(diag, SHOAL_ERR_LINK, -1, "unknown import \"%s\" \"%s\" (%s)",
                     d.module, d.name, shoal_extern_kind_name(d.type.kind));
  }
  return SHOAL_ERR_OK;
}

/* }=================================================================== */

/* {===================================================================
** Calls
**
** Suspension: eng_invoke returns SHOAL_ERR_SUSPENDED with the execution
** parked in s->susp and the outer results not yet written. The io buffer
** given to eng_invoke usually lives in the caller's C frame, so on
** suspension it is copied into the store-owned s->susp_iobuf and s->susp.io
** repointed there (eng_resume writes the outer results to s->susp.io, and
** an outer host call is retried with its arguments from there). We also
** record in s->susp where the embedder wants the results: the typed buffer
** (shoal_func_call) or the raw one (shoal_func_call_raw), their count and
** the outer type; shoal_store_resume converts/copies them on completion.
** Those buffers must stay valid until the execution completes or is
** cancelled. Only outermost calls may suspend.
** =================================================================== */
#define CALL_STACK_SLOTS 16

static bool slot_valtype(eng_valtype t) { return t != SHOAL_V128; }

/* Moves io into the store and records where the results go. */
static shoal_err_t park_io(shoal_store_t *s, const shoal_raw_t *io, size_t n,
                           const eng_functype *ft, shoal_val_t *results,
                           shoal_raw_t *raw_results, shoal_diag_t *diag) {
  if (n > s->susp_iocap) {
    shoal_raw_t *b = realloc(s->susp_iobuf, n * sizeof *b);
    if (!b) {
      shoal_store_cancel(s);
      return ENG_ERR(diag, SHOAL_ERR_NOMEM, -1, "out of host memory to suspend");
    }
    s->susp_iobuf = b;
    s->susp_iocap = n;
  }
  if (n && io != s->susp_iobuf) memcpy(s->susp_iobuf, io, n * sizeof *io);
  s->susp.io = s->susp_iobuf;
  s->susp.results = results;
  s->susp.raw_results = raw_results;
  s->susp.nresults = ft->nresults;
  s->susp.outer_type = ft;
  return SHOAL_ERR_SUSPENDED;
}

static void note_exit(shoal_store_t *s, shoal_err_t err, shoal_diag_t *diag) {
  if (err == SHOAL_ERR_EXIT && diag) {
    diag->code = SHOAL_ERR_EXIT;
    diag->exit_code = s->exit_code;
  }
}

static shoal_err_t call_check(shoal_store_t *s, shoal_func_t *f, shoal_diag_t *diag) {
  if (!s || !f || !f->type)
    return ENG_ERR(diag, SHOAL_ERR_ARG, -1, "call: NULL store or function");
  if (f->inst && f->inst->store != s)
    return ENG_ERR(diag, SHOAL_ERR_ARG, -1, "call: the function belongs to another store");
  if (s->susp.active)
    return ENG_ERR(diag, SHOAL_ERR_ARG, -1,
                   "store has a suspended execution: resume or cancel it first");
  return SHOAL_ERR_OK;
}

shoal_err_t shoal_func_call(shoal_store_t *s, shoal_func_t *f,
                            const shoal_val_t *args, size_t nargs,
                            shoal_val_t *results, size_t nresults,
                            shoal_diag_t *diag) {
  shoal_err_t err = call_check(s, f, diag);
  if (err) return err;
  const eng_functype *ft = f->type;
  if ((nargs && !args) || (nresults && !results))
    return ENG_ERR(diag, SHOAL_ERR_ARG, -1, "call: NULL arguments or results");
  if (nargs != ft->nparams)
    return ENG_ERR(diag, SHOAL_ERR_ARG, -1, "call: expected %u arguments, got %zu",
                   ft->nparams, nargs);
  if (nresults != ft->nresults)
    return ENG_ERR(diag, SHOAL_ERR_ARG, -1, "call: function has %u results, room for %zu given",
                   ft->nresults, nresults);
  for (uint32_t i = 0; i < ft->nparams + ft->nresults; i++)
    if (!slot_valtype(ft->types[i]))
      return ENG_ERR(diag, SHOAL_ERR_UNSUPPORTED, -1,
                     "call: v128 parameters and results are not supported");
  for (size_t i = 0; i < nargs; i++)
    if ((eng_valtype)args[i].type != ft->types[i])
      return ENG_ERR(diag, SHOAL_ERR_ARG, -1, "call: argument %zu: expected %s, got %s", i,
                     shoal_valtype_name((shoal_valtype_t)ft->types[i]),
                     shoal_valtype_name(args[i].type));

  size_t n = ft->nparams > ft->nresults ? ft->nparams : ft->nresults;
  shoal_raw_t small[CALL_STACK_SLOTS];
  shoal_raw_t *io = small;
  if (n > CALL_STACK_SLOTS && !(io = malloc(n * sizeof *io)))
    return ENG_ERR(diag, SHOAL_ERR_NOMEM, -1, "out of host memory for call arguments");
  for (size_t i = 0; i < nargs; i++) io[i] = shoal_val_to_raw(&args[i]);

  err = eng_invoke(s, f, io, diag);
  if (err == SHOAL_ERR_OK) {
    for (uint32_t i = 0; i < ft->nresults; i++)
      results[i] = shoal_val_from_raw((shoal_valtype_t)ft->types[ft->nparams + i], io[i]);
  } else if (err == SHOAL_ERR_SUSPENDED) {
    err = park_io(s, io, n, ft, results, NULL, diag);
  }
  note_exit(s, err, diag);
  if (io != small) free(io);
  return err;
}

shoal_err_t shoal_func_call_raw(shoal_store_t *s, shoal_func_t *f, shoal_raw_t *io,
                                shoal_diag_t *diag) {
  shoal_err_t err = call_check(s, f, diag);
  if (err) return err;
  const eng_functype *ft = f->type;
  size_t n = ft->nparams > ft->nresults ? ft->nparams : ft->nresults;
  if (n && !io) return ENG_ERR(diag, SHOAL_ERR_ARG, -1, "call: NULL io buffer");
  err = eng_invoke(s, f, io, diag);
  if (err == SHOAL_ERR_SUSPENDED) err = park_io(s, io, n, ft, NULL, io, diag);
  note_exit(s, err, diag);
  return err;
}

shoal_err_t shoal_store_resume(shoal_store_t *s, shoal_diag_t *diag) {
  if (!s) return ENG_ERR(diag, SHOAL_ERR_ARG, -1, "resume: NULL store");
  if (!s->susp.active) return ENG_ERR(diag, SHOAL_ERR_ARG, -1, "resume: nothing is suspended");
  /* Saved: eng_resume may reset s->susp as it resumes. */
  shoal_val_t *results = s->susp.results;
  shoal_raw_t *raw_results = s->susp.raw_results;
  const eng_functype *ft = s->susp.outer_type;
  shoal_raw_t *io = s->susp.io;

  shoal_err_t err = eng_resume(s, diag);
  if (err == SHOAL_ERR_SUSPENDED) {
    s->susp.io = io;
    s->susp.results = results;
    s->susp.raw_results = raw_results;
    s->susp.nresults = ft ? ft->nresults : 0;
    s->susp.outer_type = ft;
    return err;
  }
  memset(&s->susp, 0, sizeof s->susp);
  if (err == SHOAL_ERR_OK && ft) {
    if (results) {
      for (uint32_t i = 0; i < ft->nresults; i++)
        results[i] = shoal_val_from_raw((shoal_valtype_t)ft->types[ft->nparams + i], io[i]);
    } else if (raw_results && raw_results != io) {
      memcpy(raw_results, io, ft->nresults * sizeof *io);
    }
  }
  note_exit(s, err, diag);
  return err;
}

bool shoal_store_suspended(const shoal_store_t *s) { return s && s->susp.active; }

void shoal_store_cancel(shoal_store_t *s) {
  if (!s) return;
  memset(&s->susp, 0, sizeof s->susp);
  s->depth = 0;
}

/* }=================================================================== */
