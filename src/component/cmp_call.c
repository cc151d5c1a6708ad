/*
** Calls across the canonical ABI: `canon lift` (calling a core function
** with component values) and `canon lower` (a core host function that
** calls a component function), with realloc, post-return and the flat
** limits (16 params, 1 result, else through memory).
*/
#include "cmp_inst.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether a value of kind k owns memory (strings, lists, records, ...). */
static bool owns_memory(shoal_ctype_kind_t k) {
  switch (k) {
  case SHOAL_CT_STRING: case SHOAL_CT_LIST: case SHOAL_CT_RECORD: case SHOAL_CT_TUPLE:
  case SHOAL_CT_VARIANT: case SHOAL_CT_ENUM: case SHOAL_CT_OPTION: case SHOAL_CT_RESULT:
    return true;
  default:
    return false;
  }
}

void shoal_cval_free(shoal_cval_t *v) {
  if (!v) return;
  switch (v->kind) {
  case SHOAL_CT_STRING: free(v->of.str.ptr); break;
  case SHOAL_CT_LIST: case SHOAL_CT_RECORD: case SHOAL_CT_TUPLE:
    for (size_t i = 0; i < v->of.list.n; i++)  /* a list of bytes: no call per byte */
      if (owns_memory(v->of.list.items[i].kind)) shoal_cval_free(&v->of.list.items[i]);
    free(v->of.list.items);
    break;
  case SHOAL_CT_VARIANT: case SHOAL_CT_ENUM: case SHOAL_CT_OPTION: case SHOAL_CT_RESULT:
    if (v->of.var.payload) { shoal_cval_free(v->of.var.payload); free(v->of.var.payload); }
    break;
  default: break;
  }
  memset(v, 0, sizeof *v);
}

/* The params of a function as one tuple type (for passing through memory). */
static cmp_type_t params_tuple(cmp_type_t *ft) {
  cmp_type_t t;
  memset(&t, 0, sizeof t);
  t.kind = SHOAL_CT_TUPLE;
  t.n = ft->n;
  t.fields = ft->fields;
  t.dtor = -1;
  cmp_abi_layout(&t);
  return t;
}

/* Flat core types of all params (count may exceed the cap: then via memory). */
uint32_t cmp_params_flat(cmp_type_t *ft, uint8_t *out) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < ft->n; i++) {
    uint8_t tmp[CMP_FLAT_CAP];
    uint32_t k = cmp_flat_types(ft->fields[i].type, tmp, CMP_FLAT_CAP);
    if (k > CMP_FLAT_CAP || n + k > CMP_MAX_FLAT_PARAMS) return CMP_MAX_FLAT_PARAMS + 1;
    memcpy(out + n, tmp, k);
    n += k;
  }
  return n;
}

shoal_err_t cmp_call(shoal_store_t *s, cmp_rfunc_t *f, cmp_table_t *caller_table, shoal_wasi_ctx_t *wasi,
                     const shoal_cval_t *args, size_t nargs, shoal_cval_t *result, shoal_diag_t *diag) {
  cmp_type_t *ft = f->type;
  if (nargs != ft->n) return cmp_fail(diag, SHOAL_ERR_ARG, -1, "%zu arguments given, %u expected", nargs, ft->n);
  if (f->kind == CMP_FN_HOST) {
    shoal_diag_t local;
    shoal_diag_clear(&local);
    shoal_ccall_t call = {.store = s, .diag = diag ? diag : &local, .wasi = wasi};
    call.diag->message[0] = 0;
    shoal_err_t e = f->host(&call, f->env, args, nargs, result);
    if (e == SHOAL_ERR_EXIT) {
      call.diag->code = e;
      call.diag->exit_code = call.exit_status;
      if (!call.diag->message[0]) snprintf(call.diag->message, sizeof call.diag->message, "exit %d", call.exit_status);
    } else if (e != SHOAL_ERR_OK && !call.diag->message[0]) {
      cmp_fail(call.diag, e, -1, "host function %s failed", f->name ? f->name : "?");
    }
    if (e == SHOAL_ERR_OK && ft->result) {
      /* the host's value is lowered next: it must have the declared shape */
      cmp_cx_t cx = {.store = s, .diag = call.diag};
      e = cmp_check_value(&cx, result, ft->result);
    }
    if (e != SHOAL_ERR_OK) shoal_cval_free(result);
    return e;
  }
  cmp_cinst_t *inst = f->inst;
  cmp_cx_t cx = {.store = s, .mem = f->memory, .realloc = f->realloc, .encoding = f->encoding,
                 .inst = inst, .host_table = caller_table, .diag = diag};
  for (size_t i = 0; i < nargs; i++) {
    shoal_err_t e = cmp_check_value(&cx, &args[i], ft->fields[i].type);
    if (e) return e;
  }
  if (!inst->may_enter) return cmp_trap(&cx, "cannot enter component instance: it is already running");
  uint8_t pflat[CMP_MAX_FLAT_PARAMS + 1];
  uint32_t np = cmp_params_flat(ft, pflat);
  uint8_t rflat[CMP_FLAT_CAP];
  uint32_t nr = ft->result ? cmp_flat_types(ft->result, rflat, CMP_FLAT_CAP) : 0;
  shoal_raw_t io[CMP_MAX_FLAT_PARAMS + 1];
  memset(io, 0, sizeof io);
  shoal_err_t e = SHOAL_ERR_OK;
  inst->may_enter = false;
  if (np <= CMP_MAX_FLAT_PARAMS) {
    uint32_t k = 0;
    for (size_t i = 0; i < nargs && !e; i++) e = cmp_lower_flat(&cx, &args[i], ft->fields[i].type, io, pflat, &k);
  } else {
    cmp_type_t tup = params_tuple(ft);
    uint32_t ptr;
    shoal_cval_t tv = {.kind = SHOAL_CT_TUPLE};
    tv.of.list.items = (shoal_cval_t *)args;
    tv.of.list.n = nargs;
    e = cmp_realloc(&cx, 0, 0, tup.align, tup.size, &ptr);
    if (!e) e = cmp_store(&cx, &tv, &tup, ptr);
    io[0] = ptr;
  }
  if (!e) e = shoal_func_call_raw(s, f->core, io, diag);
  if (e) { inst->may_enter = true; return e; }
  shoal_raw_t core_results[1] = {io[0]};
  if (ft->result) {
    if (nr <= CMP_MAX_FLAT_RESULTS) {
      uint32_t k = 0;
      e = cmp_lift_flat(&cx, io, rflat, &k, ft->result, result);
    } else {
      e = cmp_load(&cx, (uint32_t)io[0], ft->result, result);
    }
    if (e) { shoal_cval_free(result); inst->may_enter = true; return e; }
  }
  if (f->post_return) {
    shoal_raw_t pio[1] = {core_results[0]};
    e = shoal_func_call_raw(s, f->post_return, pio, diag);
    if (e) { if (ft->result) shoal_cval_free(result); inst->may_enter = true; return e; }
  }
  inst->may_enter = true;
  if (inst->num_borrows) {
    inst->num_borrows = 0;
    if (ft->result) shoal_cval_free(result);
    return cmp_trap(&cx, "borrowed handles still remain at the end of the call");
  }
  return SHOAL_ERR_OK;
}

/* canon lower: the core function a component calls for an import. */
shoal_err_t cmp_lowered_fn(shoal_caller_t *caller, void *envp, shoal_raw_t *io) {
  cmp_lower_env_t *env = envp;
  cmp_type_t *ft = env->callee->type;
  shoal_diag_t diag;
  shoal_diag_clear(&diag);
  cmp_cx_t cx = {.store = shoal_caller_store(caller), .mem = env->memory, .realloc = env->realloc,
                 .encoding = env->encoding, .inst = env->inst, .diag = &diag};
  if (!env->inst->may_leave) return shoal_caller_trap(caller, "cannot leave component instance");
  const uint8_t *pflat = env->lowered->lower_flat;  /* worked out when decoded */
  uint32_t np = env->lowered->lower_nflat;
  /* most imports take a few parameters: no allocation per call for those */
  shoal_cval_t small[8];
  shoal_cval_t *args = ft->n <= 8 ? small : calloc(ft->n, sizeof *args);
  if (args == small) memset(small, 0, ft->n * sizeof *small);
  if (!args) return shoal_caller_trap(caller, "out of host memory");
  shoal_err_t e = SHOAL_ERR_OK;
  uint32_t nlifted = 0;
  if (np <= CMP_MAX_FLAT_PARAMS) {
    uint32_t k = 0;
    for (; nlifted < ft->n && !e; nlifted++) e = cmp_lift_flat(&cx, io, pflat, &k, ft->fields[nlifted].type, &args[nlifted]);
  } else {
    cmp_type_t tup = params_tuple(ft);
    shoal_cval_t tv;
    e = cmp_load(&cx, (uint32_t)io[0], &tup, &tv);
    if (!e) {
      for (uint32_t i = 0; i < ft->n; i++) args[i] = tv.of.list.items[i];
      free(tv.of.list.items);
      nlifted = ft->n;
    } else {
      shoal_cval_free(&tv);
    }
    np = 1;
  }
  shoal_cval_t result;
  memset(&result, 0, sizeof result);
  if (!e) {
    env->inst->may_leave = false;
    e = cmp_call(cx.store, env->callee, &env->inst->handles, env->inst->wasi, args, ft->n, &result, &diag);
    env->inst->may_leave = true;
  }
  if (!e && ft->result) {
    uint8_t rflat[CMP_FLAT_CAP];
    uint32_t nr = cmp_flat_types(ft->result, rflat, CMP_FLAT_CAP);
    if (nr <= CMP_MAX_FLAT_RESULTS) {
      uint32_t k = 0;
      shoal_raw_t out[1] = {0};
      e = cmp_lower_flat(&cx, &result, ft->result, out, rflat, &k);
      io[0] = out[0];
    } else {
      e = cmp_store(&cx, &result, ft->result, (uint32_t)io[np]);
    }
  }
  for (uint32_t i = 0; i < nlifted; i++) shoal_cval_free(&args[i]);
  if (args != small) free(args);
  if (ft->result) shoal_cval_free(&result);
  if (e == SHOAL_ERR_OK) return SHOAL_ERR_OK;
  if (e == SHOAL_ERR_EXIT) return shoal_caller_exit(caller, diag.exit_code);
  return shoal_caller_trap(caller, "%s", diag.message[0] ? diag.message : shoal_err_message(e));
}

shoal_store_t *shoal_ccall_store(shoal_ccall_t *call) { return call->store; }

shoal_err_t shoal_ccall_trap(shoal_ccall_t *call, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(call->diag->message, sizeof call->diag->message, fmt, ap);
  va_end(ap);
  call->diag->code = SHOAL_ERR_TRAP_HOST;
  return SHOAL_ERR_TRAP_HOST;
}

shoal_err_t shoal_ccall_exit(shoal_ccall_t *call, int status) {
  call->exit_status = status;
  return SHOAL_ERR_EXIT;
}
