/*
** Component binary decoder (Binary.md, version 0x0d layer 1): the preamble,
** every section, and the index spaces built as definitions are validated.
*/
#include "cmp_decode.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool cmp_dec_err(cmp_dec_t *d, shoal_err_t code, const char *fmt, ...) {
  if (d->r.failed) return false;
  d->r.failed = true;
  if (!d->diag) return false;
  char msg[SHOAL_DIAG_MSG];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  cmp_fail(d->diag, code, (int64_t)d->r.pos, "%s", msg);
  return false;
}

bool cmp_dec_oom(cmp_dec_t *d) { return cmp_dec_err(d, SHOAL_ERR_NOMEM, "out of host memory"); }

bool cmp_rd_vec(cmp_dec_t *d, uint32_t *n, const char *what) {
  if (!cmp_rd_u32(&d->r, n, what)) return false;
  if (*n > d->r.end - d->r.pos) return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "unexpected end: %u %s in %zu bytes", *n, what, d->r.end - d->r.pos);
  return true;
}

bool shoal_is_component(const uint8_t *b, size_t len) {
  return len >= 8 && b[0] == 0 && b[1] == 'a' && b[2] == 's' && b[3] == 'm' && b[6] == 1 && b[7] == 0;
}

static bool add_def(cmp_dec_t *d, cmp_scope_t *s, const cmp_def_t *def, uint32_t *out) {
  if (s->ndefs == s->defs_cap) {
    uint32_t cap = s->defs_cap ? s->defs_cap * 2 : 32;
    cmp_def_t *p = cmp_alloc(&d->c->arena, cap * sizeof *p);
    if (!p) return cmp_dec_oom(d);
    if (s->ndefs) memcpy(p, s->defs, s->ndefs * sizeof *p);
    s->defs = p;
    s->defs_cap = cap;
  }
  if (out) *out = s->ndefs;
  s->defs[s->ndefs++] = *def;
  return true;
}

/* Pushes an item for a definition: the definition is recorded, and the
** item points at it so instantiation can find how it was made. */
static bool define(cmp_dec_t *d, cmp_scope_t *s, cmp_def_t *def, cmp_item_t item) {
  uint32_t di = 0;
  def->index = s->space[def->sort].n;
  if (!add_def(d, s, def, &di)) return false;
  item.def = di;
  return cmp_space_push(d, s, def->sort, item, NULL);
}

static bool read_core_sort(cmp_dec_t *d, cmp_sort_t *out) {
  uint8_t c;
  if (!cmp_rd_byte(&d->r, &c, "unexpected end: core sort")) return false;
  switch (c) {
  case 0x00: *out = CMP_SORT_CORE_FUNC; return true;
  case 0x01: *out = CMP_SORT_CORE_TABLE; return true;
  case 0x02: *out = CMP_SORT_CORE_MEMORY; return true;
  case 0x03: *out = CMP_SORT_CORE_GLOBAL; return true;
  case 0x10: *out = CMP_SORT_CORE_TYPE; return true;
  case 0x11: *out = CMP_SORT_CORE_MODULE; return true;
  case 0x12: *out = CMP_SORT_CORE_INSTANCE; return true;
  case 0x04: return cmp_dec_err(d, SHOAL_ERR_UNSUPPORTED, "core tags are not supported");
  default: d->r.pos--; return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "invalid core sort 0x%02x", c);
  }
}

static bool read_sort(cmp_dec_t *d, cmp_sort_t *out) {
  uint8_t b;
  if (!cmp_rd_byte(&d->r, &b, "unexpected end: sort")) return false;
  if (b == 0x00) return read_core_sort(d, out);
  switch (b) {
  case 0x01: *out = CMP_SORT_FUNC; return true;
  case 0x02: return cmp_dec_err(d, SHOAL_ERR_UNSUPPORTED, "values are not supported");
  case 0x03: *out = CMP_SORT_TYPE; return true;
  case 0x04: *out = CMP_SORT_COMPONENT; return true;
  case 0x05: *out = CMP_SORT_INSTANCE; return true;
  default: d->r.pos--; return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "invalid sort 0x%02x", b);
  }
}

bool cmp_read_nameattr(cmp_dec_t *d, const char **name, uint32_t *len) {
  uint8_t b;
  if (!cmp_rd_byte(&d->r, &b, "unexpected end: extern name")) return false;
  if (b > 2) { d->r.pos--; return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "invalid extern name prefix 0x%02x", b); }
  if (!cmp_rd_name(&d->r, name, len, "extern name")) return false;
  if (*len == 0) return cmp_dec_err(d, SHOAL_ERR_INVALID, "extern name cannot be empty");
  if (!cmp_check_externname(d, *name, *len)) return false;
  if (b == 2) {
    uint32_t n;
    if (!cmp_rd_vec(d, &n, "name attributes")) return false;
    for (uint32_t i = 0; i < n; i++) {
      uint8_t k;
      const char *v;
      uint32_t vl;
      if (!cmp_rd_byte(&d->r, &k, "unexpected end: name attribute")) return false;
      if (k > 2) return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "invalid name attribute 0x%02x", k);
      if (!cmp_rd_name(&d->r, &v, &vl, "name attribute")) return false;
    }
  }
  return true;
}

/* {==================================================================
** Aliases (in components and in component/instance type declarations)
** =================================================================== */
bool cmp_read_alias(cmp_dec_t *d, cmp_scope_t *s, bool in_decl) {
  cmp_def_t def = {.offset = cmp_rd_off(&d->r)};
  cmp_item_t item = {0};
  uint8_t k;
  if (!read_sort(d, &def.sort) || !cmp_rd_byte(&d->r, &k, "unexpected end: alias target")) return false;
  switch (k) {
  case 0x00: { /* export of an instance */
    def.kind = CMP_DEF_ALIAS_EXPORT;
    if (!cmp_rd_u32(&d->r, &def.a, "instance index") || !cmp_rd_name(&d->r, &def.name, &def.name_len, "export name"))
      return false;
    if (in_decl && def.sort != CMP_SORT_TYPE && def.sort != CMP_SORT_INSTANCE)
      return cmp_dec_err(d, SHOAL_ERR_INVALID, "export aliases in type declarations may only alias types and instances");
    cmp_item_t *inst = cmp_space_get(d, s, CMP_SORT_INSTANCE, def.a);
    if (!inst) return false;
    const cmp_type_t *it = inst->type;
    uint32_t j = 0;
    for (; j < it->nexports; j++)
      if (it->exports[j].name_len == def.name_len && memcmp(it->exports[j].name, def.name, def.name_len) == 0) break;
    if (j == it->nexports)
      return cmp_dec_err(d, SHOAL_ERR_INVALID, "instance %u has no export named `%.*s`", def.a, (int)def.name_len, def.name);
    if (it->exports[j].sort != def.sort)
      return cmp_dec_err(d, SHOAL_ERR_INVALID, "export `%.*s` for instance %u is not a %s", (int)def.name_len,
                         def.name, def.a, cmp_sort_name(def.sort));
    item.type = it->exports[j].type;
    break;
  }
  case 0x01: { /* export of a core instance */
    def.kind = CMP_DEF_ALIAS_CORE_EXPORT;
    if (in_decl) return cmp_dec_err(d, SHOAL_ERR_INVALID, "core export aliases are not allowed in type declarations");
    if (!cmp_rd_u32(&d->r, &def.a, "core instance index") || !cmp_rd_name(&d->r, &def.name, &def.name_len, "export name"))
      return false;
    cmp_item_t *inst = cmp_space_get(d, s, CMP_SORT_CORE_INSTANCE, def.a);
    if (!inst) return false;
    const cmp_type_t *it = inst->type;
    uint32_t j = 0;
    for (; j < it->nexports; j++)
      if (it->core_exports[j].name_len == def.name_len && memcmp(it->core_exports[j].name, def.name, def.name_len) == 0)
        break;
    if (j == it->nexports)
      return cmp_dec_err(d, SHOAL_ERR_INVALID, "core instance %u has no export named `%.*s`", def.a, (int)def.name_len, def.name);
    static const cmp_sort_t of_kind[] = {CMP_SORT_CORE_FUNC, CMP_SORT_CORE_TABLE, CMP_SORT_CORE_MEMORY, CMP_SORT_CORE_GLOBAL};
    if (of_kind[it->core_exports[j].type.kind] != def.sort)
      return cmp_dec_err(d, SHOAL_ERR_INVALID, "export `%.*s` for core instance %u is not a %s", (int)def.name_len,
                         def.name, def.a, cmp_sort_name(def.sort));
    item.ct = it->core_exports[j].type;
    break;
  }
  case 0x02: { /* outer */
    def.kind = CMP_DEF_ALIAS_OUTER;
    if (!cmp_rd_u32(&d->r, &def.a, "outer count") || !cmp_rd_u32(&d->r, &def.b, "outer index")) return false;
    if (def.sort != CMP_SORT_TYPE && def.sort != CMP_SORT_CORE_TYPE &&
        (in_decl || (def.sort != CMP_SORT_CORE_MODULE && def.sort != CMP_SORT_COMPONENT)))
      return cmp_dec_err(d, SHOAL_ERR_INVALID, "outer aliases may not alias a %s", cmp_sort_name(def.sort));
    cmp_scope_t *t = s;
    for (uint32_t i = 0; i < def.a && t; i++) t = t->parent;
    if (!t) return cmp_dec_err(d, SHOAL_ERR_INVALID, "invalid outer alias count of %u", def.a);
    cmp_item_t *src = cmp_space_get(d, t, def.sort, def.b);
    if (!src) return false;
    if (def.a > 0 && def.sort == CMP_SORT_TYPE && src->type->kind == SHOAL_CT_RESOURCE && !in_decl)
      return cmp_dec_err(d, SHOAL_ERR_INVALID, "refers to resources not defined in the current component");
    item.type = src->type;
    item.ct = src->ct;
    break;
  }
  default:
    d->r.pos--;
    return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "invalid alias target 0x%02x", k);
  }
  return define(d, s, &def, item);
}
/* }================================================================== */

static bool read_opts(cmp_dec_t *d, cmp_opts_t *o) {
  uint32_t n;
  bool have_enc = false;
  o->encoding = 0;
  o->memory = o->realloc = o->post_return = -1;
  if (!cmp_rd_vec(d, &n, "canonical options")) return false;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t b;
    uint32_t v;
    if (!cmp_rd_byte(&d->r, &b, "unexpected end: canonical option")) return false;
    switch (b) {
    case 0x00: case 0x01: case 0x02:
      if (have_enc) return cmp_dec_err(d, SHOAL_ERR_INVALID, "canonical encoding option conflicts with another");
      have_enc = true;
      o->encoding = b;
      break;
    case 0x03: case 0x04: case 0x05: {
      int64_t *slot = b == 0x03 ? &o->memory : b == 0x04 ? &o->realloc : &o->post_return;
      if (*slot >= 0) return cmp_dec_err(d, SHOAL_ERR_INVALID, "`%s` is specified more than once",
                                         b == 0x03 ? "memory" : b == 0x04 ? "realloc" : "post-return");
      if (!cmp_rd_u32(&d->r, &v, "option index")) return false;
      *slot = v;
      break;
    }
    case 0x06: case 0x07:
      return cmp_dec_err(d, SHOAL_ERR_UNSUPPORTED, "async canonical options are not supported");
    default:
      d->r.pos--;
      return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "invalid canonical option 0x%02x", b);
    }
  }
  return true;
}

static bool read_args(cmp_dec_t *d, cmp_def_t *def, bool core) {
  if (!cmp_rd_vec(d, &def->nargs, core ? "instantiation arguments" : "instantiation arguments")) return false;
  def->args = cmp_alloc(&d->c->arena, (def->nargs + 1) * sizeof *def->args);
  if (!def->args) return cmp_dec_oom(d);
  for (uint32_t i = 0; i < def->nargs; i++) {
    cmp_arg_t *a = &def->args[i];
    if (core) {
      uint8_t k;
      if (!cmp_rd_name(&d->r, &a->name, &a->name_len, "argument name") || !cmp_rd_byte(&d->r, &k, "unexpected end: argument kind"))
        return false;
      if (k != 0x12) return cmp_dec_err(d, SHOAL_ERR_INVALID, "only instances are allowed as core instantiation arguments");
      a->sort = CMP_SORT_CORE_INSTANCE;
    } else {
      if (!cmp_rd_name(&d->r, &a->name, &a->name_len, "argument name") || !read_sort(d, &a->sort)) return false;
    }
    if (!cmp_rd_u32(&d->r, &a->idx, "argument index")) return false;
    for (uint32_t j = 0; j < i; j++)
      if (def->args[j].name_len == a->name_len && memcmp(def->args[j].name, a->name, a->name_len) == 0)
        return cmp_dec_err(d, SHOAL_ERR_INVALID, "instantiation argument `%.*s` conflicts with previous argument", (int)a->name_len, a->name);
  }
  return true;
}

static bool read_inline_exports(cmp_dec_t *d, cmp_def_t *def, bool core) {
  if (!cmp_rd_vec(d, &def->nargs, "inline exports")) return false;
  def->args = cmp_alloc(&d->c->arena, (def->nargs + 1) * sizeof *def->args);
  if (!def->args) return cmp_dec_oom(d);
  for (uint32_t i = 0; i < def->nargs; i++) {
    cmp_arg_t *a = &def->args[i];
    if (core) {
      if (!cmp_rd_name(&d->r, &a->name, &a->name_len, "export name") || !read_core_sort(d, &a->sort))
        return false;
    } else if (!cmp_read_nameattr(d, &a->name, &a->name_len) || !read_sort(d, &a->sort)) {
      return false;
    }
    if (!cmp_rd_u32(&d->r, &a->idx, "export index")) return false;
    for (uint32_t j = 0; j < i; j++)
      if (cmp_names_clash(def->args[j].name, def->args[j].name_len, a->name, a->name_len))
        return cmp_dec_err(d, SHOAL_ERR_INVALID, "export name `%.*s` already defined", (int)a->name_len, a->name);
  }
  return true;
}

static void free_hints(cmp_scope_t *s);
static shoal_err_t decode_scope(cmp_dec_t *d, cmp_scope_t *s, size_t end);

static bool push_extern(cmp_dec_t *d, cmp_extern_t **xs, uint32_t *n, uint32_t *cap, const cmp_extern_t *x, const char *what) {
  if (!cmp_check_func_name(d, *xs, *n, x)) return false;
  for (uint32_t i = 0; i < *n; i++)
    if (cmp_names_clash((*xs)[i].name, (*xs)[i].name_len, x->name, x->name_len))
      return cmp_dec_err(d, SHOAL_ERR_INVALID, "%s name `%.*s` conflicts with previous name `%.*s`", what,
                         (int)x->name_len, x->name, (int)(*xs)[i].name_len, (*xs)[i].name);
  if (*n == *cap) {
    uint32_t nc = *cap ? *cap * 2 : 8;
    cmp_extern_t *p = cmp_alloc(&d->c->arena, nc * sizeof *p);
    if (!p) return cmp_dec_oom(d);
    if (*n) memcpy(p, *xs, *n * sizeof *p);
    *xs = p;
    *cap = nc;
  }
  (*xs)[(*n)++] = *x;
  return true;
}

static bool read_section_item(cmp_dec_t *d, cmp_scope_t *s, uint8_t id, size_t end) {
  cmp_def_t def = {.offset = cmp_rd_off(&d->r)};
  cmp_item_t item = {0};
  uint8_t b;
  switch (id) {
  case 2: /* core instance */
    def.sort = CMP_SORT_CORE_INSTANCE;
    if (!cmp_rd_byte(&d->r, &b, "unexpected end: core instance")) return false;
    if (b == 0x00) {
      def.kind = CMP_DEF_CORE_INSTANTIATE;
      if (!cmp_rd_u32(&d->r, &def.a, "module index") || !read_args(d, &def, true)) return false;
    } else if (b == 0x01) {
      def.kind = CMP_DEF_CORE_INLINE;
      if (!read_inline_exports(d, &def, true)) return false;
    } else {
      d->r.pos--;
      return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "invalid core instance kind 0x%02x", b);
    }
    if (!cmp_check_core_instantiate(d, s, &def, &item.type)) return false;
    return define(d, s, &def, item);
  case 3:
    return cmp_read_core_type(d, s);
  case 5:
    def.sort = CMP_SORT_INSTANCE;
    if (!cmp_rd_byte(&d->r, &b, "unexpected end: instance")) return false;
    if (b == 0x00) {
      def.kind = CMP_DEF_INSTANTIATE;
      if (!cmp_rd_u32(&d->r, &def.a, "component index") || !read_args(d, &def, false)) return false;
    } else if (b == 0x01) {
      def.kind = CMP_DEF_INLINE;
      if (!read_inline_exports(d, &def, false)) return false;
    } else {
      d->r.pos--;
      return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "invalid instance kind 0x%02x", b);
    }
    if (!cmp_check_instantiate(d, s, &def, &item.type)) return false;
    return define(d, s, &def, item);
  case 6:
    return cmp_read_alias(d, s, false);
  case 7: {
    cmp_type_t *t;
    if (!cmp_read_type(d, s, &t)) return false;
    if (t->kind == SHOAL_CT_RESOURCE) {
      /* a runtime definition: each instance gets its own handle table */
      def.kind = CMP_DEF_TYPE;
      def.sort = CMP_SORT_TYPE;
      def.type = t;
      def.index = s->space[CMP_SORT_TYPE].n - 1;
      uint32_t di = 0;
      if (!add_def(d, s, &def, &di)) return false;
      s->space[CMP_SORT_TYPE].items[def.index].def = di;
    }
    return true;
  }
  case 8: {
    uint8_t k;
    if (!cmp_rd_byte(&d->r, &b, "unexpected end: canonical function")) return false;
    switch (b) {
    case 0x00: case 0x01:
      if (!cmp_rd_byte(&d->r, &k, "unexpected end: canonical function")) return false;
      if (k != 0x00) return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "invalid canonical function sort 0x%02x", k);
      def.kind = b == 0 ? CMP_DEF_CANON_LIFT : CMP_DEF_CANON_LOWER;
      def.sort = b == 0 ? CMP_SORT_FUNC : CMP_SORT_CORE_FUNC;
      if (!cmp_rd_u32(&d->r, &def.a, "function index") || !read_opts(d, &def.opts)) return false;
      if (b == 0 && !cmp_rd_u32(&d->r, &def.b, "type index")) return false;
      break;
    case 0x02: case 0x03: case 0x04:
      def.kind = b == 2 ? CMP_DEF_CANON_RESOURCE_NEW : b == 3 ? CMP_DEF_CANON_RESOURCE_DROP : CMP_DEF_CANON_RESOURCE_REP;
      def.sort = CMP_SORT_CORE_FUNC;
      if (!cmp_rd_u32(&d->r, &def.b, "resource type index")) return false;
      break;
    default:
      d->r.pos--;
      return cmp_dec_err(d, SHOAL_ERR_UNSUPPORTED, "canonical function 0x%02x (async, threads, error-context) is not supported", b);
    }
    if (!cmp_check_canon(d, s, &def)) return false;
    item.type = def.type;
    if (def.sort == CMP_SORT_CORE_FUNC) {
      item.ct.kind = SHOAL_EXTERN_FUNC;
      item.ct.func = def.type->core_func;
    }
    if (define(d, s, &def, item)) return true;
    if (def.sort == CMP_SORT_CORE_FUNC) {  /* not in the scope: the component would not free it */
      shoal_hosttype_free(def.type->host_type);
      def.type->host_type = NULL;
    }
    return false;
  }
  case 10: {
    cmp_extern_t x;
    def.kind = CMP_DEF_IMPORT;
    if (!cmp_read_nameattr(d, &x.name, &x.name_len) || !cmp_read_externtype(d, s, &x)) return false;
    if (!push_extern(d, &s->imports, &s->nimports, &s->imports_cap, &x, "import")) return false;
    def.sort = x.sort;
    def.name = x.name;
    def.name_len = x.name_len;
    def.type = x.type;
    def.a = s->nimports - 1;
    item.type = x.type;
    return define(d, s, &def, item);
  }
  case 11: {
    cmp_extern_t x;
    def.kind = CMP_DEF_EXPORT;
    if (!cmp_read_nameattr(d, &x.name, &x.name_len) || !read_sort(d, &def.sort) || !cmp_rd_u32(&d->r, &def.a, "export index"))
      return false;
    if (def.sort < CMP_SORT_FUNC && def.sort != CMP_SORT_CORE_MODULE)
      return cmp_dec_err(d, SHOAL_ERR_INVALID, "a %s cannot be exported from a component", cmp_sort_name(def.sort));
    x.sort = def.sort;
    if (!(x.type = cmp_sortidx_type(d, s, def.sort, def.a, NULL))) return false;
    if (!cmp_rd_byte(&d->r, &b, "unexpected end: export type")) return false;
    if (b == 1) {
      cmp_extern_t asc;
      int64_t at = cmp_rd_off(&d->r);
      if (!cmp_read_externtype(d, s, &asc)) return false;
      char why[160] = "";
      cmp_subst_t m = {0};
      bool ok = asc.sort == x.sort &&
                (asc.type->kind == SHOAL_CT_RESOURCE && !asc.type->owner
                     ? x.type->kind == SHOAL_CT_RESOURCE
                     : cmp_subtype(x.sort, x.type, asc.type, &m, why, sizeof why));
      cmp_subst_free(&m);
      if (!ok) {
        d->r.pos = (size_t)at;
        return cmp_dec_err(d, SHOAL_ERR_INVALID, "type mismatch in export `%.*s`: %s", (int)x.name_len, x.name,
                           why[0] ? why : "ascribed type differs");
      }
      if (asc.type->kind != SHOAL_CT_RESOURCE) x.type = asc.type;
    } else if (b != 0) {
      return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "invalid optional export type flag 0x%02x", b);
    }
    if (!push_extern(d, &s->exports, &s->nexports, &s->exports_cap, &x, "export")) return false;
    def.name = x.name;
    def.name_len = x.name_len;
    def.type = x.type;
    def.b = s->nexports - 1;
    item.type = x.type;
    if (def.sort == CMP_SORT_CORE_MODULE) item.ct = (shoal_externtype_t){0};
    return define(d, s, &def, item);
  }
  default:
    (void)end;
    return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "unknown section id %u", id);
  }
}

static bool module_type(cmp_dec_t *d, shoal_module_t *m, cmp_type_t **out) {
  cmp_type_t *t = cmp_new_type(d, SHOAL_CT_CORE_MODULE);
  if (!t) return false;
  t->n = (uint32_t)shoal_module_import_count(m);
  t->nexports = (uint32_t)shoal_module_export_count(m);
  t->core_imports = cmp_alloc(&d->c->arena, (t->n + 1) * sizeof *t->core_imports);
  t->core_exports = cmp_alloc(&d->c->arena, (t->nexports + 1) * sizeof *t->core_exports);
  if (!t->core_imports || !t->core_exports) return cmp_dec_oom(d);
  for (uint32_t i = 0; i < t->n; i++) {
    shoal_import_desc_t id;
    shoal_module_import(m, i, &id);
    t->core_imports[i] = (cmp_core_extern_t){id.module, id.name, (uint32_t)id.module_len, (uint32_t)id.name_len, id.type};
  }
  for (uint32_t i = 0; i < t->nexports; i++) {
    shoal_export_desc_t ed;
    shoal_module_export(m, i, &ed);
    t->core_exports[i] = (cmp_core_extern_t){"", ed.name, 0, (uint32_t)ed.name_len, ed.type};
  }
  *out = t;
  return true;
}

static bool read_module(cmp_dec_t *d, cmp_scope_t *s, size_t start, size_t size) {
  shoal_component_t *c = d->c;
  if (c->nmodules == c->modules_cap) {
    uint32_t cap = c->modules_cap ? c->modules_cap * 2 : 4;
    shoal_module_t **p = realloc(c->modules, cap * sizeof *p);
    if (!p) return cmp_dec_oom(d);
    c->modules = p;
    c->modules_cap = cap;
  }
  shoal_diag_t md;
  shoal_diag_clear(&md);
  shoal_module_t *m = NULL;
  shoal_err_t e = shoal_module_new(d->r.base + start, size, &m, &md);
  if (e != SHOAL_ERR_OK) {
    if (!d->r.failed && d->diag) {
      d->r.failed = true;
      cmp_fail(d->diag, e, md.offset >= 0 ? (int64_t)start + md.offset : (int64_t)start,
               "core module %u: %s", s->space[CMP_SORT_CORE_MODULE].n, md.message);
    }
    return false;
  }
  c->modules[c->nmodules++] = m;
  cmp_def_t def = {.kind = CMP_DEF_CORE_MODULE, .sort = CMP_SORT_CORE_MODULE, .module = m, .offset = (int64_t)start};
  cmp_item_t item = {0};
  if (!module_type(d, m, &item.type)) return false;
  def.type = item.type;
  return define(d, s, &def, item);
}

static bool finish_scope_type(cmp_dec_t *d, cmp_scope_t *s) {
  cmp_type_t *t = cmp_new_type(d, SHOAL_CT_COMPONENT);
  if (!t) return false;
  t->n = s->nimports;
  t->imports = s->imports;
  t->nexports = s->nexports;
  t->exports = s->exports;
  s->type = t;
  return true;
}

static shoal_err_t decode_scope(cmp_dec_t *d, cmp_scope_t *s, size_t end) {
  cmp_reader_t *r = &d->r;
  if (end - r->pos < 8) return cmp_fail(d->diag, SHOAL_ERR_MALFORMED, (int64_t)r->pos, "unexpected end: preamble");
  const uint8_t *p = r->base + r->pos;
  if (memcmp(p, "\0asm", 4) != 0) return cmp_fail(d->diag, SHOAL_ERR_MALFORMED, (int64_t)r->pos, "magic header not detected");
  if (p[6] != 1 || p[7] != 0)
    return cmp_fail(d->diag, SHOAL_ERR_MALFORMED, (int64_t)r->pos + 6, "not a component (layer %u)", p[6] | p[7] << 8);
  if (p[4] != 0x0d || p[5] != 0)
    return cmp_fail(d->diag, SHOAL_ERR_MALFORMED, (int64_t)r->pos + 4, "unknown component version 0x%x (0x0d expected)", p[4] | p[5] << 8);
  r->pos += 8;
  while (r->pos < end) {
    uint8_t id;
    uint32_t size;
    int64_t sec_at = cmp_rd_off(r);
    if (!cmp_rd_byte(r, &id, "section id") || !cmp_rd_u32(r, &size, "section size")) return d->diag ? d->diag->code : SHOAL_ERR_MALFORMED;
    if (size > end - r->pos) {
      r->pos = (size_t)sec_at;
      return cmp_fail(d->diag, SHOAL_ERR_MALFORMED, sec_at, "section %u: size %u out of bounds", id, size);
    }
    size_t sec_end = r->pos + size, outer_end = r->end;
    r->end = sec_end;
    bool ok = true;
    if (id == 0) {
      const char *nm;
      uint32_t nl;
      ok = cmp_rd_name(r, &nm, &nl, "custom section name");
      r->pos = sec_end;
    } else if (id == 1) {
      ok = read_module(d, s, r->pos, size);
      r->pos = sec_end;
    } else if (id == 4) {
      if (s->depth >= CMP_MAX_DEPTH) ok = cmp_dec_err(d, SHOAL_ERR_INVALID, "components nested too deeply");
      cmp_scope_t *inner = ok ? cmp_alloc(&d->c->arena, sizeof *inner) : NULL;
      if (ok && !inner) ok = cmp_dec_oom(d);
      if (ok) {
        inner->parent = s;
        inner->depth = s->depth + 1;
        ok = decode_scope(d, inner, sec_end) == SHOAL_ERR_OK && finish_scope_type(d, inner);
      }
      if (ok) {
        cmp_def_t def = {.kind = CMP_DEF_COMPONENT, .sort = CMP_SORT_COMPONENT, .scope = inner, .offset = sec_at};
        cmp_item_t item = {.type = inner->type};
        ok = define(d, s, &def, item);
      }
      if (!ok && inner) free_hints(inner);  /* not attached: the component would not free them */
    } else if (id == 9 || id == 12) {
      ok = cmp_dec_err(d, SHOAL_ERR_UNSUPPORTED, "%s section is not supported", id == 9 ? "start" : "value");
    } else if (id > 12) {
      r->pos = (size_t)sec_at;
      ok = cmp_dec_err(d, SHOAL_ERR_MALFORMED, "unknown section id %u", id);
    } else {
      uint32_t n = 1;
      bool vec = id != 4;
      if (vec) ok = cmp_rd_vec(d, &n, "section items");
      for (uint32_t i = 0; ok && i < n; i++) ok = read_section_item(d, s, id, sec_end);
      if (ok && r->pos != sec_end) ok = cmp_dec_err(d, SHOAL_ERR_MALFORMED, "section %u size mismatch: unexpected data at the end", id);
    }
    r->end = outer_end;
    if (!ok) return d->diag ? d->diag->code : SHOAL_ERR_MALFORMED;
  }
  if (r->pos != end) return cmp_fail(d->diag, SHOAL_ERR_MALFORMED, (int64_t)r->pos, "unexpected end of component");
  return SHOAL_ERR_OK;
}

shoal_err_t cmp_decode(shoal_component_t *c, shoal_diag_t *diag) {
  cmp_dec_t d = {.c = c, .diag = diag};
  d.r = (cmp_reader_t){.base = c->bytes, .pos = 0, .end = c->len, .diag = diag};
  c->root = cmp_alloc(&c->arena, sizeof *c->root);
  if (!c->root) return cmp_fail(diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
  shoal_err_t e = decode_scope(&d, c->root, c->len);
  if (e == SHOAL_ERR_OK && !finish_scope_type(&d, c->root)) e = diag ? diag->code : SHOAL_ERR_NOMEM;
  if (e != SHOAL_ERR_OK && d.r.failed == false && diag && diag->code == SHOAL_ERR_OK) diag->code = e;
  return e;
}

shoal_err_t shoal_component_new(const uint8_t *bytes, size_t len, shoal_component_t **out, shoal_diag_t *diag) {
  *out = NULL;
  if (diag) shoal_diag_clear(diag);
  if (!bytes && len) return cmp_fail(diag, SHOAL_ERR_ARG, -1, "no bytes");
  shoal_component_t *c = calloc(1, sizeof *c);
  if (!c) return cmp_fail(diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
  c->bytes = malloc(len ? len : 1);
  if (!c->bytes) { free(c); return cmp_fail(diag, SHOAL_ERR_NOMEM, -1, "out of host memory"); }
  if (len) memcpy(c->bytes, bytes, len);
  c->len = len;
  shoal_diag_t local;
  shoal_err_t e = cmp_decode(c, diag ? diag : &local);
  if (e != SHOAL_ERR_OK) {
    shoal_component_free(c);
    return e;
  }
  *out = c;
  return SHOAL_ERR_OK;
}

/* The plans instantiation made (cmp_instance.c), and the engine's copies
** of lowered functions' types. */
static void free_hints(cmp_scope_t *s) {
  for (uint32_t i = 0; i < s->ndefs; i++) {
    free(atomic_load(&s->defs[i].plan));
    cmp_def_kind_t k = s->defs[i].kind;
    if ((k == CMP_DEF_CANON_LOWER || k == CMP_DEF_CANON_RESOURCE_NEW || k == CMP_DEF_CANON_RESOURCE_DROP ||
         k == CMP_DEF_CANON_RESOURCE_REP) && s->defs[i].type)
    {
      shoal_hosttype_free(s->defs[i].type->host_type);
      s->defs[i].type->host_type = NULL;
    }
    if (s->defs[i].kind == CMP_DEF_COMPONENT && s->defs[i].scope) free_hints(s->defs[i].scope);
  }
}

void shoal_component_free(shoal_component_t *c) {
  if (!c) return;
  if (c->root) free_hints(c->root);
  for (uint32_t i = 0; i < c->nmodules; i++) shoal_module_free(c->modules[i]);
  free(c->modules);
  cmp_arena_free(&c->arena);
  free(c->bytes);
  free(c);
}
