/*
** WIT printer: a component's world (imports and exports) as WIT text, laid
** out like `wasm-tools component wit` (and so `jco wit`).
*/
#include "cmp.h"
#include <stdlib.h>
#include <string.h>

/* Named types visible to the world: type exports of imported/exported
** instances and type imports/exports of the component itself. */
typedef struct wit_ctx {
  cmp_buf_t *b;
  const cmp_scope_t *root;
  const cmp_type_t *inst;  /* instance being printed inline, for its own names */
} wit_ctx_t;

static bool find_name_in(const cmp_extern_t *xs, uint32_t n, const cmp_type_t *t, const char **name, uint32_t *len) {
  for (uint32_t i = 0; i < n; i++)
    if (xs[i].sort == CMP_SORT_TYPE && xs[i].type == t) {
      *name = xs[i].name;
      *len = xs[i].name_len;
      return true;
    }
  return false;
}

static bool type_name(const wit_ctx_t *c, const cmp_type_t *t, const char **name, uint32_t *len) {
  if (c->inst && find_name_in(c->inst->exports, c->inst->nexports, t, name, len)) return true;
  const cmp_scope_t *r = c->root;
  if (find_name_in(r->imports, r->nimports, t, name, len)) return true;
  if (find_name_in(r->exports, r->nexports, t, name, len)) return true;
  for (int pass = 0; pass < 2; pass++) {
    const cmp_extern_t *xs = pass ? r->exports : r->imports;
    uint32_t n = pass ? r->nexports : r->nimports;
    for (uint32_t i = 0; i < n; i++)
      if (xs[i].sort == CMP_SORT_INSTANCE && find_name_in(xs[i].type->exports, xs[i].type->nexports, t, name, len))
        return true;
  }
  return false;
}

static void put_type(const wit_ctx_t *c, const cmp_type_t *t);

static void put_list(const wit_ctx_t *c, const char *open, const cmp_type_t *const *ts, uint32_t n) {
  cmp_buf_puts(c->b, open);
  cmp_buf_puts(c->b, "<");
  for (uint32_t i = 0; i < n; i++) {
    if (i) cmp_buf_puts(c->b, ", ");
    if (ts[i]) put_type(c, ts[i]);
    else cmp_buf_puts(c->b, "_");
  }
  cmp_buf_puts(c->b, ">");
}

static const char *const prim_names[] = {
  "bool", "s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64",
  "f32", "f64", "char", "string", "error-context"};

/* An anonymous structural type, for named kinds with no name in sight. */
static void put_anon(const wit_ctx_t *c, const cmp_type_t *t) {
  static const char *const kinds[] = {[SHOAL_CT_RECORD] = "record", [SHOAL_CT_VARIANT] = "variant",
                                      [SHOAL_CT_FLAGS] = "flags", [SHOAL_CT_ENUM] = "enum"};
  cmp_buf_printf(c->b, "%s { ", kinds[t->kind]);
  for (uint32_t i = 0; i < t->n; i++) {
    if (i) cmp_buf_puts(c->b, ", ");
    cmp_buf_put(c->b, t->fields[i].name, t->fields[i].name_len);
    if (t->fields[i].type) {
      cmp_buf_puts(c->b, t->kind == SHOAL_CT_RECORD ? ": " : "(");
      put_type(c, t->fields[i].type);
      if (t->kind != SHOAL_CT_RECORD) cmp_buf_puts(c->b, ")");
    }
  }
  cmp_buf_puts(c->b, " }");
}

static void put_type_body(const wit_ctx_t *c, const cmp_type_t *t);

static void put_type(const wit_ctx_t *c, const cmp_type_t *t) {
  const char *name;
  uint32_t len;
  if (cmp_is_prim(t->kind)) { cmp_buf_puts(c->b, prim_names[t->kind]); return; }
  if (type_name(c, t, &name, &len)) { cmp_buf_put(c->b, name, len); return; }
  put_type_body(c, t);
}

/* The structure of t, without looking for a name of t itself. */
static void put_type_body(const wit_ctx_t *c, const cmp_type_t *t) {
  const char *name;
  uint32_t len;
  if (cmp_is_prim(t->kind)) { cmp_buf_puts(c->b, prim_names[t->kind]); return; }
  switch (t->kind) {
  case SHOAL_CT_LIST:
    if (t->fixed_len) {
      cmp_buf_puts(c->b, "list<");
      put_type(c, t->elem);
      cmp_buf_printf(c->b, ", %u>", t->fixed_len);
    } else {
      put_list(c, "list", (const cmp_type_t *const[]){t->elem}, 1);
    }
    return;
  case SHOAL_CT_OPTION: put_list(c, "option", (const cmp_type_t *const[]){t->elem}, 1); return;
  case SHOAL_CT_RESULT:
    if (!t->elem && !t->err) cmp_buf_puts(c->b, "result");
    else if (!t->err) put_list(c, "result", (const cmp_type_t *const[]){t->elem}, 1);
    else put_list(c, "result", (const cmp_type_t *const[]){t->elem, t->err}, 2);
    return;
  case SHOAL_CT_TUPLE: {
    cmp_buf_puts(c->b, "tuple<");
    for (uint32_t i = 0; i < t->n; i++) {
      if (i) cmp_buf_puts(c->b, ", ");
      put_type(c, t->fields[i].type);
    }
    cmp_buf_puts(c->b, ">");
    return;
  }
  case SHOAL_CT_OWN:
  case SHOAL_CT_BORROW:
    if (t->kind == SHOAL_CT_BORROW) cmp_buf_puts(c->b, "borrow<");
    if (type_name(c, t->elem, &name, &len)) cmp_buf_put(c->b, name, len);
    else cmp_buf_puts(c->b, "resource");
    if (t->kind == SHOAL_CT_BORROW) cmp_buf_puts(c->b, ">");
    return;
  case SHOAL_CT_STREAM:
  case SHOAL_CT_FUTURE:
    if (t->elem) put_list(c, t->kind == SHOAL_CT_STREAM ? "stream" : "future", (const cmp_type_t *const[]){t->elem}, 1);
    else cmp_buf_puts(c->b, t->kind == SHOAL_CT_STREAM ? "stream" : "future");
    return;
  case SHOAL_CT_MAP: put_list(c, "map", (const cmp_type_t *const[]){t->elem, t->err}, 2); return;
  case SHOAL_CT_RECORD: case SHOAL_CT_VARIANT: case SHOAL_CT_FLAGS: case SHOAL_CT_ENUM:
    put_anon(c, t);
    return;
  case SHOAL_CT_RESOURCE: cmp_buf_puts(c->b, "resource"); return;
  default: cmp_buf_puts(c->b, "<unknown>"); return;
  }
}

/* skip: params to leave out (a method's self); kw: "func", "static func", or
** NULL for a constructor, whose own<resource> result is implied. */
static void put_func_as(const wit_ctx_t *c, const cmp_type_t *f, uint32_t skip, const char *kw) {
  if (kw) cmp_buf_printf(c->b, "%s%s(", f->async ? "async " : "", kw);
  else cmp_buf_puts(c->b, "constructor(");
  for (uint32_t i = skip; i < f->n; i++) {
    if (i > skip) cmp_buf_puts(c->b, ", ");
    cmp_buf_put(c->b, f->fields[i].name, f->fields[i].name_len);
    cmp_buf_puts(c->b, ": ");
    put_type(c, f->fields[i].type);
  }
  cmp_buf_puts(c->b, ")");
  if (f->result && !(kw == NULL && f->result->kind == SHOAL_CT_OWN)) {
    cmp_buf_puts(c->b, " -> ");
    put_type(c, f->result);
  }
}

static void put_func(const wit_ctx_t *c, const cmp_type_t *f) {
  cmp_buf_puts(c->b, f->async ? "async func(" : "func(");
  for (uint32_t i = 0; i < f->n; i++) {
    if (i) cmp_buf_puts(c->b, ", ");
    cmp_buf_put(c->b, f->fields[i].name, f->fields[i].name_len);
    cmp_buf_puts(c->b, ": ");
    put_type(c, f->fields[i].type);
  }
  cmp_buf_puts(c->b, ")");
  if (f->result) {
    cmp_buf_puts(c->b, " -> ");
    put_type(c, f->result);
  }
}

static bool is_interface_name(const char *n, uint32_t len) { return memchr(n, ':', len) != NULL; }

/* Is f the constructor (0), a method (1) or a static function (2) of the
** resource export r? rest is the function's own name after the dot. */
static int annotated(const cmp_extern_t *f, const cmp_extern_t *r, const char **rest, uint32_t *restlen) {
  static const char *const anno[] = {"[constructor]", "[method]", "[static]"};
  if (f->sort != CMP_SORT_FUNC) return -1;
  for (int k = 0; k < 3; k++) {
    uint32_t al = (uint32_t)strlen(anno[k]);
    if (f->name_len < al + r->name_len || memcmp(f->name, anno[k], al) != 0 ||
        memcmp(f->name + al, r->name, r->name_len) != 0)
      continue;
    const char *after = f->name + al + r->name_len;
    uint32_t left = f->name_len - al - r->name_len;
    if (k == 0 && left == 0) { *rest = after; *restlen = 0; return 0; }
    if (k > 0 && left > 1 && after[0] == '.') { *rest = after + 1; *restlen = left - 1; return k; }
  }
  return -1;
}

/* A type definition inside an inline interface: `record point { ... }`. */
static void put_typedef(const wit_ctx_t *c, const cmp_extern_t *x, const char *ind) {
  const cmp_type_t *t = x->type;
  cmp_buf_puts(c->b, ind);
  const char *kw = NULL;
  switch (t->kind) {
  case SHOAL_CT_RECORD: kw = "record"; break;
  case SHOAL_CT_VARIANT: kw = "variant"; break;
  case SHOAL_CT_FLAGS: kw = "flags"; break;
  case SHOAL_CT_ENUM: kw = "enum"; break;
  case SHOAL_CT_RESOURCE: {
    /* with its constructor, methods and static functions from the same instance */
    cmp_buf_puts(c->b, "resource ");
    cmp_buf_put(c->b, x->name, x->name_len);
    bool any = false;
    const cmp_type_t *it = c->inst;
    for (uint32_t i = 0; it && i < it->nexports; i++) {
      const cmp_extern_t *f = &it->exports[i];
      const char *rest;
      uint32_t restlen;
      int k = annotated(f, x, &rest, &restlen);
      if (k < 0) continue;
      cmp_buf_puts(c->b, any ? "" : " {\n");
      any = true;
      cmp_buf_printf(c->b, "%s  ", ind);
      if (k > 0) {
        cmp_buf_put(c->b, rest, restlen);
        cmp_buf_puts(c->b, ": ");
      }
      put_func_as(c, f->type, k == 1 ? 1 : 0, k == 0 ? NULL : k == 1 ? "func" : "static func");
      cmp_buf_puts(c->b, ";\n");
    }
    if (any) cmp_buf_printf(c->b, "%s}\n", ind);
    else cmp_buf_puts(c->b, ";\n");
    return;
  }
  default:
    /* an alias: the structure, not the alias's own name */
    cmp_buf_puts(c->b, "type ");
    cmp_buf_put(c->b, x->name, x->name_len);
    cmp_buf_puts(c->b, " = ");
    put_type_body(c, t);
    cmp_buf_puts(c->b, ";\n");
    return;
  }
  cmp_buf_printf(c->b, "%s ", kw);
  cmp_buf_put(c->b, x->name, x->name_len);
  cmp_buf_puts(c->b, " {\n");
  for (uint32_t i = 0; i < t->n; i++) {
    cmp_buf_printf(c->b, "%s  ", ind);
    cmp_buf_put(c->b, t->fields[i].name, t->fields[i].name_len);
    if (t->fields[i].type) {
      cmp_buf_puts(c->b, t->kind == SHOAL_CT_RECORD ? ": " : "(");
      put_type(c, t->fields[i].type);
      if (t->kind != SHOAL_CT_RECORD) cmp_buf_puts(c->b, ")");
    }
    cmp_buf_puts(c->b, ",\n");
  }
  cmp_buf_printf(c->b, "%s}\n", ind);
}

static void put_extern(const wit_ctx_t *c0, const char *dir, const cmp_extern_t *x) {
  wit_ctx_t c = *c0;
  cmp_buf_printf(c.b, "  %s ", dir);
  cmp_buf_put(c.b, x->name, x->name_len);
  switch (x->sort) {
  case CMP_SORT_INSTANCE:
    if (is_interface_name(x->name, x->name_len)) { cmp_buf_puts(c.b, ";\n"); return; }
    cmp_buf_puts(c.b, ": interface {\n");
    c.inst = x->type;
    for (uint32_t i = 0; i < x->type->nexports; i++) {
      const cmp_extern_t *e = &x->type->exports[i];
      if (e->sort == CMP_SORT_TYPE) put_typedef(&c, e, "    ");
    }
    for (uint32_t i = 0; i < x->type->nexports; i++) {
      const cmp_extern_t *e = &x->type->exports[i];
      if (e->sort != CMP_SORT_FUNC || e->name[0] == '[') continue;  /* [..] are inside their resource */
      cmp_buf_puts(c.b, "    ");
      cmp_buf_put(c.b, e->name, e->name_len);
      cmp_buf_puts(c.b, ": ");
      put_func(&c, e->type);
      cmp_buf_puts(c.b, ";\n");
    }
    cmp_buf_puts(c.b, "  }\n");
    return;
  case CMP_SORT_FUNC:
    cmp_buf_puts(c.b, ": ");
    put_func(&c, x->type);
    cmp_buf_puts(c.b, ";\n");
    return;
  default:
    cmp_buf_printf(c.b, ": %s;\n", cmp_sort_name(x->sort));
    return;
  }
}

shoal_err_t shoal_component_wit(const shoal_component_t *comp, char **out, size_t *len) {
  cmp_buf_t b = {0};
  wit_ctx_t c = {.b = &b, .root = comp->root};
  const cmp_scope_t *r = comp->root;
  cmp_buf_puts(&b, "package root:component;\n\nworld root {\n");
  /* type imports equal to a type of an imported interface: `use` lines */
  bool *used = calloc(r->nimports + 1, sizeof *used);
  if (!used) { free(b.p); return SHOAL_ERR_NOMEM; }
  for (uint32_t i = 0; i < r->nimports; i++) {
    const cmp_extern_t *inst = &r->imports[i];
    if (inst->sort != CMP_SORT_INSTANCE) continue;
    bool open = false;
    for (uint32_t j = 0; j < r->nimports; j++) {
      const cmp_extern_t *t = &r->imports[j];
      if (t->sort != CMP_SORT_TYPE || used[j]) continue;
      for (uint32_t k = 0; k < inst->type->nexports; k++) {
        const cmp_extern_t *e = &inst->type->exports[k];
        if (e->sort != CMP_SORT_TYPE || e->type != t->type) continue;
        cmp_buf_puts(&b, open ? ", " : "  use ");
        if (!open) { cmp_buf_put(&b, inst->name, inst->name_len); cmp_buf_puts(&b, ".{"); }
        open = true;
        used[j] = true;
        cmp_buf_put(&b, e->name, e->name_len);
        if (e->name_len != t->name_len || memcmp(e->name, t->name, t->name_len) != 0) {
          cmp_buf_puts(&b, " as ");
          cmp_buf_put(&b, t->name, t->name_len);
        }
        break;
      }
    }
    if (open) cmp_buf_puts(&b, "};\n");
  }
  for (uint32_t i = 0; i < r->nimports; i++)
    if (r->imports[i].sort == CMP_SORT_TYPE && !used[i]) put_typedef(&c, &r->imports[i], "  ");
  free(used);
  for (uint32_t i = 0; i < r->nimports; i++)
    if (r->imports[i].sort != CMP_SORT_TYPE) put_extern(&c, "import", &r->imports[i]);
  if (r->nimports && r->nexports) cmp_buf_puts(&b, "\n");
  for (uint32_t i = 0; i < r->nexports; i++)
    if (r->exports[i].sort != CMP_SORT_TYPE) put_extern(&c, "export", &r->exports[i]);
  cmp_buf_puts(&b, "}\n");
  if (b.oom) {
    free(b.p);
    return SHOAL_ERR_NOMEM;
  }
  *out = b.p;
  if (len) *len = b.n;
  return SHOAL_ERR_OK;
}
