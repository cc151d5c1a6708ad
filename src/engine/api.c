/*
** api.c: small pieces of the public API that belong to no particular
** object: error names and messages, diagnostics, value conversion, type
** names and what a host function can ask about its caller.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime.h"

/* {===================================================================
** Errors and diagnostics
** =================================================================== */
static const char *const err_names[] = {
#define SHOAL_X_NAME(name, msg) #name,
  SHOAL_ERR_LIST(SHOAL_X_NAME)
#undef SHOAL_X_NAME
};

static const char *const err_messages[] = {
#define SHOAL_X_MSG(name, msg) msg,
  SHOAL_ERR_LIST(SHOAL_X_MSG)
#undef SHOAL_X_MSG
};

const char *shoal_err_name(shoal_err_t e) {
  if ((unsigned)e >= (unsigned)SHOAL_ERR__COUNT) return "UNKNOWN";
  return err_names[e];
}

const char *shoal_err_message(shoal_err_t e) {
  if ((unsigned)e >= (unsigned)SHOAL_ERR__COUNT) return "unknown error";
  return err_messages[e];
}

void shoal_diag_clear(shoal_diag_t *d) {
  if (!d) return;
  /* not a memset: the host clears one per component call, and the text
  ** buffers are kilobytes; each is read up to its first NUL */
  d->code = SHOAL_ERR_OK;
  d->message[0] = 0;
  d->offset = -1;
  d->func = -1;
  d->exit_code = 0;
  d->trace[0] = 0;
  d->c_file = NULL;
  d->c_line = 0;
}

shoal_err_t eng_error_at(shoal_diag_t *diag, shoal_err_t code, int64_t offset,
                         const char *file, int line, const char *fmt, ...) {
  if (!diag) return code;
  diag->code = code;
  diag->offset = offset;
  diag->func = -1;
  diag->c_file = file;
  diag->c_line = line;
  diag->trace[0] = '\0';
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(diag->message, sizeof diag->message, fmt, ap);
    va_end(ap);
  } else {
    snprintf(diag->message, sizeof diag->message, "%s", shoal_err_message(code));
  }
  return code;
}

/* }=================================================================== */

/* {===================================================================
** Types and values
** =================================================================== */
const char *shoal_valtype_name(shoal_valtype_t t) {
  switch (t) {
  case SHOAL_I32: return "i32";
  case SHOAL_I64: return "i64";
  case SHOAL_F32: return "f32";
  case SHOAL_F64: return "f64";
  case SHOAL_V128: return "v128";
  case SHOAL_FUNCREF: return "funcref";
  case SHOAL_EXTERNREF: return "externref";
  }
  return "<invalid type>";
}

const char *shoal_extern_kind_name(shoal_extern_kind_t k) {
  switch (k) {
  case SHOAL_EXTERN_FUNC: return "func";
  case SHOAL_EXTERN_TABLE: return "table";
  case SHOAL_EXTERN_MEMORY: return "memory";
  case SHOAL_EXTERN_GLOBAL: return "global";
  }
  return "<invalid kind>";
}

shoal_raw_t shoal_val_to_raw(const shoal_val_t *v) {
  if (!v) return 0;
  switch (v->type) {
  case SHOAL_I32: return (shoal_raw_t)(uint32_t)v->of.i32;
  case SHOAL_I64: return (shoal_raw_t)v->of.i64;
  case SHOAL_F32: return (shoal_raw_t)v->of.f32_bits;
  case SHOAL_F64: return (shoal_raw_t)v->of.f64_bits;
  case SHOAL_FUNCREF: return (shoal_raw_t)(uintptr_t)v->of.func;
  case SHOAL_EXTERNREF: return (shoal_raw_t)(uintptr_t)v->of.ext;
  case SHOAL_V128: break;   /* does not fit a slot */
  }
  return 0;
}

shoal_val_t shoal_val_from_raw(shoal_valtype_t t, shoal_raw_t r) {
  shoal_val_t v;
  memset(&v, 0, sizeof v);
  v.type = t;
  switch (t) {
  case SHOAL_I32: v.of.i32 = (int32_t)(uint32_t)r; break;
  case SHOAL_I64: v.of.i64 = (int64_t)r; break;
  case SHOAL_F32: v.of.f32_bits = (uint32_t)r; break;
  case SHOAL_F64: v.of.f64_bits = r; break;
  case SHOAL_FUNCREF: v.of.func = (shoal_func_t *)(uintptr_t)r; break;
  case SHOAL_EXTERNREF: v.of.ext = (void *)(uintptr_t)r; break;
  case SHOAL_V128: break;
  }
  return v;
}

/* }=================================================================== */

/* {===================================================================
** Callers of host functions
** =================================================================== */
shoal_store_t *shoal_caller_store(shoal_caller_t *c) { return c ? c->store : NULL; }

shoal_instance_t *shoal_caller_instance(shoal_caller_t *c) { return c ? c->inst : NULL; }

shoal_memory_t *shoal_caller_memory(shoal_caller_t *c) {
  if (!c || !c->inst) return NULL;
  shoal_extern_t ex;
  if (shoal_instance_export(c->inst, "memory", 6, &ex) && ex.kind == SHOAL_EXTERN_MEMORY)
    return ex.of.memory;
  /* Modules that do not export their memory still let WASI-style hosts
  ** reach it. */
  return c->inst->module->nmems > 0 ? c->inst->mems[0] : NULL;
}

shoal_err_t shoal_caller_trap(shoal_caller_t *c, const char *fmt, ...) {
  if (c && c->diag) {
    c->diag->code = SHOAL_ERR_TRAP_HOST;
    if (fmt) {
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(c->diag->message, sizeof c->diag->message, fmt, ap);
      va_end(ap);
    } else {
      snprintf(c->diag->message, sizeof c->diag->message, "%s",
               shoal_err_message(SHOAL_ERR_TRAP_HOST));
    }
  }
  return SHOAL_ERR_TRAP_HOST;
}

shoal_err_t shoal_caller_exit(shoal_caller_t *c, int status) {
  if (!c || !c->store) return SHOAL_ERR_ARG;
  c->store->exit_code = status;
  if (c->diag) c->diag->exit_code = status;
  return SHOAL_ERR_EXIT;
}

/* }=================================================================== */
