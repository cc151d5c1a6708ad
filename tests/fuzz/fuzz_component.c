/*
** libFuzzer target for the component layer. The first byte picks the mode:
**   0x00-0xef  decode and validate the input as a component; if valid, print
**              its world as WIT, instantiate it (imports: types only) in a
**              store with fuel and call each function export taking no
**              arguments, then put the instance back as made
**              (shoal_cinstance_reinit) and call them again;
**   0xf0-0xff  WAVE: parse the rest as a value of one of a fixed set of
**              types; if it parses, print it, parse the print again and
**              check the second print is the same text.
** Built with -DSHOAL_FUZZ=ON (clang): build-fuzz/tests/fuzz_component.
*/
#include <shoal/component.h>
#include "component/cmp.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* {==================================================================
** Types for the WAVE mode, built once
** =================================================================== */
static cmp_field_t f_point[] = {{"x", 1, NULL}, {"y", 1, NULL}, {"tag", 3, NULL}};
static cmp_field_t f_shape[] = {{"circle", 6, NULL}, {"rect", 4, NULL}, {"empty", 5, NULL}, {"ok", 2, NULL}};
static cmp_field_t f_flags[] = {{"read", 4, NULL}, {"write", 5, NULL}, {"none", 4, NULL}};
static cmp_field_t f_tuple[] = {{NULL, 0, NULL}, {NULL, 0, NULL}, {NULL, 0, NULL}};
static cmp_type_t t_point, t_shape, t_flags, t_enum, t_tuple, t_list, t_opt, t_optopt, t_res, t_res_empty, t_list_rec;
static const cmp_type_t *wave_types[16];

static void init_types(void) {
  static bool done;
  if (done) return;
  done = true;
  t_opt = (cmp_type_t){.kind = SHOAL_CT_OPTION, .elem = cmp_prim(SHOAL_CT_U8)};
  f_point[0].type = cmp_prim(SHOAL_CT_S32);
  f_point[1].type = cmp_prim(SHOAL_CT_F64);
  f_point[2].type = &t_opt;
  t_point = (cmp_type_t){.kind = SHOAL_CT_RECORD, .n = 3, .fields = f_point};
  f_shape[0].type = cmp_prim(SHOAL_CT_F32);
  f_shape[1].type = &t_point;
  t_shape = (cmp_type_t){.kind = SHOAL_CT_VARIANT, .n = 4, .fields = f_shape};
  t_flags = (cmp_type_t){.kind = SHOAL_CT_FLAGS, .n = 3, .fields = f_flags};
  t_enum = (cmp_type_t){.kind = SHOAL_CT_ENUM, .n = 4, .fields = f_shape};
  f_tuple[0].type = cmp_prim(SHOAL_CT_CHAR);
  f_tuple[1].type = cmp_prim(SHOAL_CT_STRING);
  f_tuple[2].type = cmp_prim(SHOAL_CT_S64);
  t_tuple = (cmp_type_t){.kind = SHOAL_CT_TUPLE, .n = 3, .fields = f_tuple};
  t_list = (cmp_type_t){.kind = SHOAL_CT_LIST, .elem = &t_tuple};
  t_optopt = (cmp_type_t){.kind = SHOAL_CT_OPTION, .elem = &t_opt};
  t_res = (cmp_type_t){.kind = SHOAL_CT_RESULT, .elem = cmp_prim(SHOAL_CT_U64), .err = &t_shape};
  t_res_empty = (cmp_type_t){.kind = SHOAL_CT_RESULT};
  t_list_rec = (cmp_type_t){.kind = SHOAL_CT_LIST, .elem = &t_point};
  const cmp_type_t *ts[16] = {&t_point, &t_shape, &t_flags, &t_enum, &t_tuple, &t_list, &t_opt, &t_optopt,
                              &t_res, &t_res_empty, &t_list_rec, cmp_prim(SHOAL_CT_STRING), cmp_prim(SHOAL_CT_CHAR),
                              cmp_prim(SHOAL_CT_F32), cmp_prim(SHOAL_CT_S8), cmp_prim(SHOAL_CT_BOOL)};
  memcpy(wave_types, ts, sizeof ts);
}
/* }================================================================== */

static void fuzz_wave(const uint8_t *data, size_t size) {
  init_types();
  const cmp_type_t *t = wave_types[data[0] & 15];
  shoal_cval_t v;
  if (shoal_wave_parse(t, (const char *)data + 1, size - 1, &v, NULL) != SHOAL_ERR_OK) return;
  char *a = NULL, *b = NULL;
  if (shoal_wave_print(t, &v, &a) != SHOAL_ERR_OK) abort();
  shoal_cval_free(&v);
  shoal_cval_t w;
  shoal_diag_t d;
  if (shoal_wave_parse(t, a, strlen(a), &w, &d) != SHOAL_ERR_OK) abort();  /* printed text must parse */
  if (shoal_wave_print(t, &w, &b) != SHOAL_ERR_OK) abort();
  /* NaN payloads and -0 print stably, so the text round-trips exactly */
  if (strcmp(a, b) != 0) abort();
  shoal_cval_free(&w);
  free(a);
  free(b);
}

/* Calls each function export of inst taking no arguments (the first 16). */
static void call_exports(shoal_store_t *s, const shoal_component_t *c, shoal_cinstance_t *inst) {
  const cmp_scope_t *r = c->root;
  for (uint32_t i = 0; i < r->nexports && i < 16; i++) {
    if (r->exports[i].sort != CMP_SORT_FUNC || r->exports[i].type->n != 0) continue;
    char name[256];
    if (r->exports[i].name_len >= sizeof name || memchr(r->exports[i].name, '#', r->exports[i].name_len)) continue;
    memcpy(name, r->exports[i].name, r->exports[i].name_len);
    name[r->exports[i].name_len] = 0;
    shoal_cfunc_t *f = shoal_cinstance_func(inst, name);
    shoal_cval_t res;
    shoal_store_set_fuel(s, 10000);
    if (f && shoal_cfunc_call(s, f, NULL, 0, &res, NULL) == SHOAL_ERR_OK && shoal_ctype_result(shoal_cfunc_type(f))) {
      char *txt;
      if (shoal_wave_print(shoal_ctype_result(shoal_cfunc_type(f)), &res, &txt) == SHOAL_ERR_OK) free(txt);
      shoal_cval_free(&res);
    }
  }
}

static void fuzz_component(const uint8_t *data, size_t size) {
  shoal_component_t *c = NULL;
  if (shoal_component_new(data, size, &c, NULL) != SHOAL_ERR_OK) return;
  char *wit = NULL;
  size_t n;
  if (shoal_component_wit(c, &wit, &n) == SHOAL_ERR_OK) free(wit);
  shoal_store_config_t cfg = {.size = sizeof cfg, .stack_bytes = 256u * 1024u, .max_call_depth = 2000,
                              .max_memory_bytes = 4u * 65536u, .max_table_elems = 10000, .fuel = 10000};
  shoal_store_t *s = NULL;
  shoal_cinstance_t *inst = NULL;
  if (shoal_store_new(&cfg, &s) == SHOAL_ERR_OK && shoal_cinstance_new(s, c, NULL, 0, &inst, NULL) == SHOAL_ERR_OK) {
    call_exports(s, c, inst);
    /* then again, put back as instantiation made it */
    shoal_cinstance_release(inst);
    if (shoal_cinstance_reinit(inst, NULL, NULL) == SHOAL_ERR_OK) call_exports(s, c, inst);
  }
  shoal_cinstance_free(inst);
  shoal_store_free(s);
  shoal_component_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size >= 1 && data[0] >= 0xf0) fuzz_wave(data, size);
  else fuzz_component(data, size);
  return 0;
}
