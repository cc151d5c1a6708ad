/*
** Shared state of the component decoder files (cmp_decode.c, cmp_deftype.c,
** cmp_validate.c): the reader plus the component being built.
*/
#ifndef SHOAL_CMP_DECODE_H
#define SHOAL_CMP_DECODE_H

#include "cmp_reader.h"

#define CMP_MAX_INDEX 1000000u  /* items in one index space */
#define CMP_MAX_DEPTH 100       /* nesting of components and types */

typedef struct cmp_dec {
  shoal_component_t *c;
  cmp_reader_t r;
  shoal_diag_t *diag;
} cmp_dec_t;

/* Records an error at the reader's position; always returns false. */
bool cmp_dec_err(cmp_dec_t *d, shoal_err_t code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool cmp_dec_oom(cmp_dec_t *d);
/* A vector count, bounded by the bytes left (each element takes one at least). */
bool cmp_rd_vec(cmp_dec_t *d, uint32_t *n, const char *what);

bool cmp_space_push(cmp_dec_t *d, cmp_scope_t *s, cmp_sort_t sort, cmp_item_t item, uint32_t *idx);
cmp_item_t *cmp_space_get(cmp_dec_t *d, cmp_scope_t *s, cmp_sort_t sort, uint32_t idx);
cmp_type_t *cmp_new_type(cmp_dec_t *d, shoal_ctype_kind_t k);
bool cmp_push_type(cmp_dec_t *d, cmp_scope_t *s, cmp_type_t *t);

bool cmp_read_valtype(cmp_dec_t *d, cmp_scope_t *s, cmp_type_t **out);
bool cmp_read_type(cmp_dec_t *d, cmp_scope_t *s, cmp_type_t **out);
bool cmp_read_core_type(cmp_dec_t *d, cmp_scope_t *s);
bool cmp_read_externtype(cmp_dec_t *d, cmp_scope_t *s, cmp_extern_t *x);
bool cmp_read_alias(cmp_dec_t *d, cmp_scope_t *s, bool in_decl);
bool cmp_read_nameattr(cmp_dec_t *d, const char **name, uint32_t *len);
bool cmp_declare_extern(cmp_dec_t *d, cmp_scope_t *s, const cmp_extern_t *x);

/* cmp_validate.c */
bool cmp_check_label(cmp_dec_t *d, const char *s, uint32_t n);
bool cmp_check_externname(cmp_dec_t *d, const char *s, uint32_t n);
bool cmp_check_func_name(cmp_dec_t *d, const cmp_extern_t *xs, uint32_t n, const cmp_extern_t *x);
bool cmp_names_clash(const char *a, uint32_t an, const char *b, uint32_t bn);
bool cmp_check_core_instantiate(cmp_dec_t *d, cmp_scope_t *s, cmp_def_t *def, cmp_type_t **out);
bool cmp_check_instantiate(cmp_dec_t *d, cmp_scope_t *s, cmp_def_t *def, cmp_type_t **out);
bool cmp_check_canon(cmp_dec_t *d, cmp_scope_t *s, cmp_def_t *def);
cmp_type_t *cmp_sortidx_type(cmp_dec_t *d, cmp_scope_t *s, cmp_sort_t sort, uint32_t idx,
                             shoal_externtype_t *ct);

#endif
