/*
** module.c: making and freeing modules (decode, then compile every defined
** function) and the read-only views of a module's imports, exports, names
** and sections.
*/
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "module.h"

/* Builds m->api_types: the public API describes function types with
** shoal_valtype_t arrays, the module stores bytes. One allocation holds the
** pointer table followed by all the arrays. */
static shoal_err_t build_api_types(shoal_module_t *m) {
  size_t total = 0;
  for (uint32_t i = 0; i < m->ntypes; i++)
    total += (size_t)m->types[i].nparams + m->types[i].nresults;
  size_t bytes = (size_t)m->ntypes * sizeof(shoal_valtype_t *) + total * sizeof(shoal_valtype_t);
  shoal_valtype_t **tab = malloc(bytes ? bytes : 1);
  if (!tab) return SHOAL_ERR_NOMEM;
  shoal_valtype_t *vt = (shoal_valtype_t *)(tab + m->ntypes);
  for (uint32_t i = 0; i < m->ntypes; i++) {
    const eng_functype *ft = &m->types[i];
    uint32_t n = ft->nparams + ft->nresults;
    tab[i] = vt;
    for (uint32_t k = 0; k < n; k++) vt[k] = (shoal_valtype_t)ft->types[k];
    vt += n;
  }
  m->api_types = tab;
  return SHOAL_ERR_OK;
}

/* Frees everything but the struct itself. Safe on a partly built module. */
static void module_release_all(shoal_module_t *m) {
  free(m->api_types);
  m->api_types = NULL;
  /* Compiled code is compile.c's, not the decoder's: free it here. */
  for (uint32_t i = m->nimported_funcs; m->funcs && i < m->nfuncs; i++) {
    if (m->funcs[i].code) {
      eng_code_free(m->funcs[i].code);
      m->funcs[i].code = NULL;
    }
  }
  eng_module_release(m);
  free(m->bytes);
  m->bytes = NULL;
}

shoal_err_t shoal_module_new(const uint8_t *bytes, size_t len,
                             shoal_module_t **out, shoal_diag_t *diag) {
  shoal_err_t err;
  if (!out || (len && !bytes))
    return ENG_ERR(diag, SHOAL_ERR_ARG, -1, "shoal_module_new: NULL %s", out ? "bytes" : "out");
  *out = NULL;
  shoal_module_t *m = calloc(1, sizeof *m);
  if (!m) return ENG_ERR(diag, SHOAL_ERR_NOMEM, -1, "out of host memory for a module");
  m->start = -1;
  m->bytes = malloc(len ? len : 1);
  if (!m->bytes) {
    free(m);
    return ENG_ERR(diag, SHOAL_ERR_NOMEM, -1, "out of host memory for a %zu-byte module", len);
  }
  if (len) memcpy(m->bytes, bytes, len);
  m->len = len;

  TRY(eng_decode(m, diag));
  for (uint32_t i = m->nimported_funcs; i < m->nfuncs; i++)
    TRY(eng_compile_func(m, i, diag));
  if (build_api_types(m) != SHOAL_ERR_OK) {
    err = ENG_ERR(diag, SHOAL_ERR_NOMEM, -1, "out of host memory for a module");
    goto fail;
  }
  eng_memory_image_build(m);
  *out = m;
  return SHOAL_ERR_OK;
fail:
  module_release_all(m);
  free(m);
  return err;
}

void shoal_module_free(shoal_module_t *m) {
  if (!m) return;
  if (m->image_len) close(m->image_fd);
  module_release_all(m);
  free(m);
}

/* {===================================================================
** Descriptions of imports and exports
** =================================================================== */
static void set_limits(shoal_limits_t *out, const eng_limits *lim) {
  out->min = lim->min;
  out->max = lim->has_max ? lim->max : 0;
  out->has_max = lim->has_max;
}

static void set_functype(const shoal_module_t *m, uint32_t type_idx, shoal_functype_t *out) {
  if (type_idx >= m->ntypes) return;
  const eng_functype *ft = &m->types[type_idx];
  out->nparams = ft->nparams;
  out->nresults = ft->nresults;
  out->params = m->api_types[type_idx];
  out->results = m->api_types[type_idx] + ft->nparams;
}

/* The type of entity `index` of kind `kind` in m's index spaces. */
static void describe(const shoal_module_t *m, uint8_t kind, uint32_t index,
                     shoal_externtype_t *out) {
  memset(out, 0, sizeof *out);
  out->kind = (shoal_extern_kind_t)kind;
  switch (kind) {
  case SHOAL_EXTERN_FUNC:
    if (index < m->nfuncs) set_functype(m, m->funcs[index].type_idx, &out->func);
    break;
  case SHOAL_EXTERN_TABLE:
    if (index < m->ntables) {
      out->elem = (shoal_valtype_t)m->tables[index].elem;
      set_limits(&out->limits, &m->tables[index].lim);
    }
    break;
  case SHOAL_EXTERN_MEMORY:
    if (index < m->nmems) set_limits(&out->limits, &m->mems[index]);
    break;
  case SHOAL_EXTERN_GLOBAL:
    if (index < m->nglobals) {
      out->global_type = (shoal_valtype_t)m->globals[index].type.type;
      out->global_mutable = m->globals[index].type.mut;
    }
    break;
  }
}

size_t shoal_module_import_count(const shoal_module_t *m) { return m ? m->nimports : 0; }

void shoal_module_import(const shoal_module_t *m, size_t i, shoal_import_desc_t *out) {
  if (!out) return;
  memset(out, 0, sizeof *out);
  if (!m || i >= m->nimports) return;
  const eng_import *im = &m->imports[i];
  out->module = im->module;
  out->module_len = im->module_len;
  out->name = im->name;
  out->name_len = im->name_len;
  /* Described from the import itself, not the index spaces, so this does
  ** not depend on where the decoder put imported entities. */
  shoal_externtype_t *t = &out->type;
  t->kind = (shoal_extern_kind_t)im->kind;
  switch (im->kind) {
  case SHOAL_EXTERN_FUNC: set_functype(m, im->type_idx, &t->func); break;
  case SHOAL_EXTERN_TABLE:
    t->elem = (shoal_valtype_t)im->table.elem;
    set_limits(&t->limits, &im->table.lim);
    break;
  case SHOAL_EXTERN_MEMORY: set_limits(&t->limits, &im->mem); break;
  case SHOAL_EXTERN_GLOBAL:
    t->global_type = (shoal_valtype_t)im->global.type;
    t->global_mutable = im->global.mut;
    break;
  }
}

size_t shoal_module_export_count(const shoal_module_t *m) { return m ? m->nexports : 0; }

void shoal_module_export(const shoal_module_t *m, size_t i, shoal_export_desc_t *out) {
  if (!out) return;
  memset(out, 0, sizeof *out);
  if (!m || i >= m->nexports) return;
  const eng_export *ex = &m->exports[i];
  out->name = ex->name;
  out->name_len = ex->name_len;
  describe(m, ex->kind, ex->index, &out->type);
}

/* }=================================================================== */

const char *shoal_module_func_name(const shoal_module_t *m, uint32_t idx) {
  if (!m || !m->func_names || idx >= m->nfuncs) return NULL;
  return m->func_names[idx];
}

size_t shoal_module_section_count(const shoal_module_t *m) { return m ? m->nsections : 0; }

void shoal_module_section(const shoal_module_t *m, size_t i, shoal_section_info_t *out) {
  if (!out) return;
  memset(out, 0, sizeof *out);
  if (!m || i >= m->nsections) return;
  const eng_section *sec = &m->sections[i];
  out->id = sec->id;
  out->custom_name = sec->custom_name;
  out->custom_name_len = sec->custom_name_len;
  out->offset = sec->offset;
  out->size = sec->size;
}
