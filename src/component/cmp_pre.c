/*
** Pre-linked components (shoal_cpre_t, like wasmtime's InstancePre): the
** host imports of a component resolved by name once, so that each of many
** instances only copies the resolved values instead of searching names.
*/
#include "cmp_inst.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct resolver {
  shoal_cpre_t *pre;
  const shoal_cimport_t *v;
  size_t n;
  size_t *lens;                   /* strlen of each v[i].name, measured once */
  shoal_diag_t *diag;
} resolver_t;

static const shoal_cimport_t *host_find(const resolver_t *r, const char *a, uint32_t al, const char *b, uint32_t bl) {
  for (size_t i = 0; i < r->n; i++) {
    const char *n = r->v[i].name;
    size_t len = r->lens[i];
    if (!b) {
      if (len == al && memcmp(n, a, al) == 0) return &r->v[i];
    } else if (len == (size_t)al + 1 + bl && memcmp(n, a, al) == 0 && n[al] == '#' && memcmp(n + al + 1, b, bl) == 0) {
      return &r->v[i];
    }
  }
  return NULL;
}

static void *palloc(resolver_t *r, size_t n) {
  void *p = cmp_alloc(&r->pre->arena, n);
  if (!p) cmp_fail(r->diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
  return p;
}

static cmp_rfunc_t *host_func(resolver_t *r, cmp_type_t *ft, const shoal_cimport_t *imp) {
  struct shoal_cfunc *cf = palloc(r, sizeof *cf);
  if (!cf) return NULL;
  cf->f.type = ft;
  cf->f.kind = CMP_FN_HOST;
  cf->f.host = imp->fn;
  cf->f.env = imp->env;
  cf->f.name = imp->name;
  return &cf->f;
}

/* A host resource R of instance import `iface` gets the host's destructor
** "iface#[resource-drop]R" when the host provides one. */
static shoal_err_t host_resource(resolver_t *r, const cmp_def_t *def, const cmp_extern_t *x) {
  char name[256];
  int n = snprintf(name, sizeof name, "[resource-drop]%.*s", (int)x->name_len, x->name);
  if (n < 0 || (size_t)n >= sizeof name) return SHOAL_ERR_OK;
  const shoal_cimport_t *imp = host_find(r, def->name, def->name_len, name, (uint32_t)n);
  if (!imp) return SHOAL_ERR_OK;
  shoal_cpre_t *p = r->pre;
  if (p->ndtors == p->dtors_cap) {
    uint32_t cap = p->dtors_cap ? p->dtors_cap * 2 : 8;
    cmp_dtor_t *d = realloc(p->dtors, cap * sizeof *d);
    if (!d) return cmp_fail(r->diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
    p->dtors = d;
    p->dtors_cap = cap;
  }
  p->dtors[p->ndtors++] = (cmp_dtor_t){.rt = x->type, .has_host = true, .host = *imp};
  return SHOAL_ERR_OK;
}

static shoal_err_t host_import(resolver_t *r, const cmp_def_t *def, cmp_rval_t *out) {
  if (def->sort == CMP_SORT_FUNC) {
    const shoal_cimport_t *imp = host_find(r, def->name, def->name_len, NULL, 0);
    if (!imp)
      return cmp_fail(r->diag, SHOAL_ERR_LINK, -1, "no host implementation for imported function `%.*s`",
                      (int)def->name_len, def->name);
    return (out->func = host_func(r, def->type, imp)) ? SHOAL_ERR_OK : SHOAL_ERR_NOMEM;
  }
  if (def->sort == CMP_SORT_INSTANCE) {
    const cmp_type_t *it = def->type;
    cmp_rinst_t *ri = cmp_rinst_alloc(&r->pre->arena, it->nexports);
    if (!ri) return cmp_fail(r->diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
    for (uint32_t i = 0; i < it->nexports; i++) {
      const cmp_extern_t *x = &it->exports[i];
      ri->names[i] = x->name;
      ri->name_lens[i] = x->name_len;
      ri->sorts[i] = x->sort;
      if (x->sort == CMP_SORT_TYPE) {  /* types have no run-time value */
        shoal_err_t e = x->type->kind == SHOAL_CT_RESOURCE ? host_resource(r, def, x) : SHOAL_ERR_OK;
        if (e) return e;
        continue;
      }
      if (x->sort != CMP_SORT_FUNC)
        return cmp_fail(r->diag, SHOAL_ERR_LINK, -1, "import `%.*s`: host instances can only provide functions and types",
                        (int)def->name_len, def->name);
      const shoal_cimport_t *imp = host_find(r, def->name, def->name_len, x->name, x->name_len);
      if (!imp)
        return cmp_fail(r->diag, SHOAL_ERR_LINK, -1, "no host implementation for `%.*s#%.*s`", (int)def->name_len,
                        def->name, (int)x->name_len, x->name);
      if (!(ri->vals[i].func = host_func(r, x->type, imp))) return SHOAL_ERR_NOMEM;
    }
    out->inst = ri;
    return SHOAL_ERR_OK;
  }
  if (def->sort == CMP_SORT_TYPE) return SHOAL_ERR_OK;
  return cmp_fail(r->diag, SHOAL_ERR_LINK, -1, "cannot satisfy import `%.*s` from the host", (int)def->name_len,
                  def->name);
}

shoal_err_t shoal_cpre_new(const shoal_component_t *c, const shoal_cimport_t *imports, size_t nimports,
                           shoal_cpre_t **out, shoal_diag_t *diag) {
  *out = NULL;
  if (diag) shoal_diag_clear(diag);
  shoal_cpre_t *p = calloc(1, sizeof *p);
  if (!p) return cmp_fail(diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
  p->comp = c;
  const cmp_scope_t *root = c->root;
  resolver_t r = {p, imports, nimports, malloc((nimports ? nimports : 1) * sizeof(size_t)), diag};
  p->imports = cmp_alloc(&p->arena, (root->ndefs + 1) * sizeof *p->imports);
  shoal_err_t e = r.lens && p->imports ? SHOAL_ERR_OK : cmp_fail(diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
  for (size_t i = 0; !e && i < nimports; i++) r.lens[i] = strlen(imports[i].name);
  for (uint32_t i = 0; !e && i < root->ndefs; i++)
    if (root->defs[i].kind == CMP_DEF_IMPORT) e = host_import(&r, &root->defs[i], &p->imports[i]);
  free(r.lens);
  if (!e) e = cmp_pre_template(p, diag);
  if (e) {
    if (diag && diag->code == SHOAL_ERR_OK) cmp_fail(diag, e, -1, "%s", shoal_err_message(e));
    shoal_cpre_free(p);
    return e;
  }
  cmp_abi_layout_all(c);
  *out = p;
  return SHOAL_ERR_OK;
}

void shoal_cpre_free(shoal_cpre_t *p) {
  if (!p) return;
  if (p->cleanup) p->cleanup(p->cleanup_data);
  free(p->dtors);
  cmp_arena_free(&p->arena);
  free(p);
}
