/*
** shoal engine: decode, validate and run core WebAssembly 2.0 modules.
** The public API of layer 1; WASI and the component model are built on it.
*/
#ifndef SHOAL_ENGINE_H
#define SHOAL_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SHOAL_VERSION_MAJOR 0
#define SHOAL_VERSION_MINOR 1
#define SHOAL_VERSION_STRING "0.1.0"

/* {===================================================================
** Errors
** One list generates the code enum, its names and its default messages.
** Codes from SHOAL_TRAP_UNREACHABLE on are traps: the guest stopped, the
** host is fine.
** =================================================================== */
#define SHOAL_ERR_LIST(X)                                                   \
  X(OK, "ok")                                                               \
  X(NOMEM, "out of host memory")                                            \
  X(ARG, "invalid argument")                                                \
  X(IO, "input/output error")                                               \
  X(MALFORMED, "malformed module")                                          \
  X(INVALID, "invalid module")                                              \
  X(UNSUPPORTED, "unsupported feature")                                     \
  X(LINK, "link error")                                                     \
  X(NOT_FOUND, "not found")                                                 \
  X(SUSPENDED, "execution suspended")                                       \
  X(EXIT, "guest exited")                                                   \
  X(TRAP_UNREACHABLE, "unreachable executed")                               \
  X(TRAP_MEM_OOB, "out of bounds memory access")                            \
  X(TRAP_TABLE_OOB, "out of bounds table access")                           \
  X(TRAP_DIV_ZERO, "integer divide by zero")                                \
  X(TRAP_INT_OVERFLOW, "integer overflow")                                  \
  X(TRAP_INVALID_CONV, "invalid conversion to integer")                     \
  X(TRAP_INDIRECT_TYPE, "indirect call type mismatch")                      \
  X(TRAP_UNDEFINED_ELEM, "undefined element")                               \
  X(TRAP_UNINIT_ELEM, "uninitialized element")                              \
  X(TRAP_STACK, "call stack exhausted")                                     \
  X(TRAP_INTERRUPT, "interrupted")                                          \
  X(TRAP_FUEL, "all fuel consumed")                                         \
  X(TRAP_HOST, "host function trapped")

typedef enum shoal_err {
#define SHOAL_X_ENUM(name, msg) SHOAL_ERR_##name,
  SHOAL_ERR_LIST(SHOAL_X_ENUM)
#undef SHOAL_X_ENUM
  SHOAL_ERR__COUNT
} shoal_err_t;

#define SHOAL_TRAP_FIRST SHOAL_ERR_TRAP_UNREACHABLE
static inline bool shoal_err_is_trap(shoal_err_t e) { return e >= SHOAL_TRAP_FIRST; }

/* Short name ("TRAP_DIV_ZERO") and default message of a code. */
const char *shoal_err_name(shoal_err_t e);
const char *shoal_err_message(shoal_err_t e);

/* What went wrong and where. Every fallible call takes an optional
** shoal_diag_t*; on failure it is filled with the code, a message naming
** the failing item, and its location. */
#define SHOAL_DIAG_MSG 256
#define SHOAL_DIAG_TRACE 1024
typedef struct shoal_diag {
  shoal_err_t code;
  char message[SHOAL_DIAG_MSG];
  int64_t offset;        /* byte offset in the module binary, or -1 */
  int64_t func;          /* function index involved, or -1 */
  int exit_code;         /* for SHOAL_ERR_EXIT */
  char trace[SHOAL_DIAG_TRACE]; /* trap backtrace, innermost first, one frame a line */
  const char *c_file;    /* where in shoal the error was raised */
  int c_line;
} shoal_diag_t;

void shoal_diag_clear(shoal_diag_t *d);

/* }=================================================================== */

/* {===================================================================
** Values and types
** =================================================================== */
typedef enum shoal_valtype {
  SHOAL_I32 = 0x7f,
  SHOAL_I64 = 0x7e,
  SHOAL_F32 = 0x7d,
  SHOAL_F64 = 0x7c,
  SHOAL_V128 = 0x7b,
  SHOAL_FUNCREF = 0x70,
  SHOAL_EXTERNREF = 0x6f
} shoal_valtype_t;

const char *shoal_valtype_name(shoal_valtype_t t);

typedef struct shoal_func shoal_func_t;
typedef struct shoal_memory shoal_memory_t;
typedef struct shoal_table shoal_table_t;
typedef struct shoal_global shoal_global_t;
typedef struct shoal_module shoal_module_t;
typedef struct shoal_instance shoal_instance_t;
typedef struct shoal_store shoal_store_t;

/* A typed value. Floats are carried as bits so NaN payloads survive. A
** null reference is NULL; an externref is any host pointer. */
typedef struct shoal_val {
  shoal_valtype_t type;
  union {
    int32_t i32;
    int64_t i64;
    uint32_t f32_bits;
    uint64_t f64_bits;
    shoal_func_t *func;
    void *ext;
  } of;
} shoal_val_t;

/* A raw value slot, as the engine stores it: i32 zero-extended, floats as
** bits, references as pointers. Host functions see their arguments and
** write their results as raw slots. */
typedef uint64_t shoal_raw_t;

shoal_raw_t shoal_val_to_raw(const shoal_val_t *v);
shoal_val_t shoal_val_from_raw(shoal_valtype_t t, shoal_raw_t r);

typedef struct shoal_functype {
  uint32_t nparams, nresults;
  const shoal_valtype_t *params;
  const shoal_valtype_t *results;
} shoal_functype_t;

typedef struct shoal_limits {
  uint64_t min;
  uint64_t max; /* meaningful only if has_max */
  bool has_max;
} shoal_limits_t;

typedef enum shoal_extern_kind {
  SHOAL_EXTERN_FUNC = 0,
  SHOAL_EXTERN_TABLE = 1,
  SHOAL_EXTERN_MEMORY = 2,
  SHOAL_EXTERN_GLOBAL = 3
} shoal_extern_kind_t;

const char *shoal_extern_kind_name(shoal_extern_kind_t k);

/* A module-level entity: what an import is satisfied with, what an export
** yields. */
typedef struct shoal_extern {
  shoal_extern_kind_t kind;
  union {
    shoal_func_t *func;
    shoal_table_t *table;
    shoal_memory_t *memory;
    shoal_global_t *global;
  } of;
} shoal_extern_t;

/* Description of an import or export, as declared by a module. Pointers
** stay valid while the module lives. */
typedef struct shoal_externtype {
  shoal_extern_kind_t kind;
  shoal_functype_t func;             /* SHOAL_EXTERN_FUNC */
  shoal_valtype_t elem;              /* SHOAL_EXTERN_TABLE */
  shoal_limits_t limits;             /* TABLE, MEMORY */
  shoal_valtype_t global_type;       /* SHOAL_EXTERN_GLOBAL */
  bool global_mutable;
} shoal_externtype_t;

typedef struct shoal_import_desc {
  const char *module; size_t module_len;
  const char *name; size_t name_len;
  shoal_externtype_t type;
} shoal_import_desc_t;

typedef struct shoal_export_desc {
  const char *name; size_t name_len;
  shoal_externtype_t type;
} shoal_export_desc_t;

/* }=================================================================== */

/* {===================================================================
** Modules: decode, validate and compile once; instantiate many times.
** =================================================================== */

/* Decodes, validates and compiles a binary module. The bytes are copied.
** On success *out owns the module; free it with shoal_module_free after
** every instance made from it is gone. */
shoal_err_t shoal_module_new(const uint8_t *bytes, size_t len,
                             shoal_module_t **out, shoal_diag_t *diag);
void shoal_module_free(shoal_module_t *m);

size_t shoal_module_import_count(const shoal_module_t *m);
void shoal_module_import(const shoal_module_t *m, size_t i, shoal_import_desc_t *out);
size_t shoal_module_export_count(const shoal_module_t *m);
void shoal_module_export(const shoal_module_t *m, size_t i, shoal_export_desc_t *out);

/* Name of function index idx from the name section, or NULL. */
const char *shoal_module_func_name(const shoal_module_t *m, uint32_t idx);

/* Sizes of the module's sections, for inspection. */
typedef struct shoal_section_info {
  uint8_t id;
  const char *custom_name; /* for custom sections (id 0) */
  size_t custom_name_len;
  size_t offset, size;     /* of the section's contents */
} shoal_section_info_t;
size_t shoal_module_section_count(const shoal_module_t *m);
void shoal_module_section(const shoal_module_t *m, size_t i, shoal_section_info_t *out);

/* }=================================================================== */

/* {===================================================================
** Stores: own instances and the entities made for them; one thread at a
** time. Freeing the store frees everything in it.
** =================================================================== */
typedef void *(*shoal_alloc_fn)(void *ud, void *ptr, size_t osize, size_t nsize);

typedef struct shoal_store_config {
  size_t size;              /* sizeof(shoal_store_config_t): lets fields be added */
  size_t stack_bytes;       /* operand/value stack for executions (default 8 MiB, reserved lazily) */
  uint32_t max_call_depth;  /* default 20000 */
  uint64_t max_memory_bytes;/* per memory; memory.grow fails past it (0 = no limit beyond 4 GiB) */
  uint64_t max_table_elems; /* per table; table.grow fails past it (0 = 10,000,000) */
  int64_t fuel;             /* > 0: trap with TRAP_FUEL after about this many loop iterations and calls */
  /* shoal_store_reset zeroes a memory of up to this many bytes by hand and
  ** keeps its pages for the next instance (0: 1 MiB); larger ones give
  ** their pages back. A store reset often (a worker's) keeps them; one
  ** used now and then passes 1 to return every page. */
  uint64_t reset_keep_bytes;
  /* A memory put back again and again (shoal_instance_reinit) learns
  ** which of its pages the guest touches from faults, so that zeroing it
  ** takes no system call: its untouched pages are made inaccessible, and
  ** the first touch of one makes it accessible. Only for a host that never
  ** gives guest memory to a system call itself (which would fail with
  ** EFAULT on such a page instead of faulting), as a component host. */
  bool track_pages;
} shoal_store_config_t;

shoal_err_t shoal_store_new(const shoal_store_config_t *cfg, shoal_store_t **out);
void shoal_store_free(shoal_store_t *s);
/* Frees everything made in s (instances, memories, tables, globals, host
** functions: their pointers are dead after) and leaves s as a fresh store
** of the same configuration and data, keeping what makes a store costly
** to make: its stacks, its first arena block, and the address-space
** reservations of its memories, which the next memories reuse (their pages
** dropped, so they read as zero). For a host that makes one short-lived
** instance after another. SHOAL_ERR_ARG while s is executing. */
shoal_err_t shoal_store_reset(shoal_store_t *s);
/* n zeroed bytes, aligned for any type, living as long as what is made in
** s (until shoal_store_free or shoal_store_reset): for an embedder's
** per-instance data. NULL when out of memory. */
void *shoal_store_alloc(shoal_store_t *s, size_t n);

/* The execution state of s as shoal_store_reset leaves it (no pending
** interrupt or suspension, the configured fuel), its objects kept: with
** shoal_instance_reinit, for the next run of the same instances.
** SHOAL_ERR_ARG while s is executing. */
shoal_err_t shoal_store_rearm(shoal_store_t *s);

/* Ask the running execution to stop with SHOAL_ERR_TRAP_INTERRUPT. Safe to
** call from another thread or a signal handler; noticed at the next loop
** back-edge or function entry (within about a million of them). */
void shoal_store_interrupt(shoal_store_t *s);
/* Clear a pending interrupt, so the store can run again. */
void shoal_store_clear_interrupt(shoal_store_t *s);
/* Set the remaining fuel (see shoal_store_config_t.fuel); <= 0 disables. */
void shoal_store_set_fuel(shoal_store_t *s, int64_t fuel);
/* Opaque embedder data carried by the store (e.g. the WASI context). */
void shoal_store_set_data(shoal_store_t *s, void *data);
void *shoal_store_data(const shoal_store_t *s);

/* }=================================================================== */

/* {===================================================================
** Host functions
** =================================================================== */

/* What a host function knows about its caller. */
typedef struct shoal_caller shoal_caller_t;

/* A host function reads its arguments from io[0..nparams) and writes its
** results to io[0..nresults) (raw slots, see shoal_raw_t). It returns
** SHOAL_ERR_OK, a trap code (use shoal_caller_trap for a message),
** SHOAL_ERR_EXIT (see shoal_caller_exit), or SHOAL_ERR_SUSPENDED to suspend
** the whole execution: shoal_func_call then returns SHOAL_ERR_SUSPENDED, and
** shoal_store_resume calls this host function again with the same
** arguments, so it can finish what it waited for. */
typedef shoal_err_t (*shoal_host_fn_t)(shoal_caller_t *caller, void *env, shoal_raw_t *io);

/* The store, the calling instance (NULL when called directly by the
** embedder) and its exported memory named "memory" (or memory 0). */
shoal_store_t *shoal_caller_store(shoal_caller_t *c);
shoal_instance_t *shoal_caller_instance(shoal_caller_t *c);
shoal_memory_t *shoal_caller_memory(shoal_caller_t *c);
/* Set a trap message and return the code to give back. */
shoal_err_t shoal_caller_trap(shoal_caller_t *c, const char *fmt, ...);
/* End the execution as a guest exit with this status. */
shoal_err_t shoal_caller_exit(shoal_caller_t *c, int status);

/* Makes a host function in the store. The type is copied. env is passed to
** fn; if env_free is given it is called with env when the store is freed. */
shoal_func_t *shoal_func_new_host(shoal_store_t *s, const shoal_functype_t *type,
                                  shoal_host_fn_t fn, void *env,
                                  void (*env_free)(void *));

/* A function type checked and copied once, for many host functions of
** that type: shoal_func_new_host_typed makes one without copying it
** again (a component makes a few dozen per instance). The type must
** outlive every function made with it. NULL: an invalid type, or out of
** memory. */
typedef struct shoal_hosttype shoal_hosttype_t;
shoal_hosttype_t *shoal_hosttype_new(const shoal_functype_t *type);
void shoal_hosttype_free(shoal_hosttype_t *t);
shoal_func_t *shoal_func_new_host_typed(shoal_store_t *s, const shoal_hosttype_t *type,
                                        shoal_host_fn_t fn, void *env,
                                        void (*env_free)(void *));

/* }=================================================================== */

/* {===================================================================
** Instances and their exports
** =================================================================== */

/* Instantiates m in s. imports[i] satisfies the module's import i (in
** order of shoal_module_import). Runs the start function. On failure
** nothing is returned, but per the specification, writes that active
** segments already made to imported memories and tables remain. */
shoal_err_t shoal_instance_new(shoal_store_t *s, const shoal_module_t *m,
                               const shoal_extern_t *imports, size_t nimports,
                               shoal_instance_t **out, shoal_diag_t *diag);

/* Puts inst back in the state shoal_instance_new left it in, without
** making its objects again: its own memories are zeroed and shrunk back to
** their initial size, its own tables emptied and shrunk back, its own
** globals set to their initial values; then its active segments are
** written and its start function runs again, as at instantiation. What it
** imports must have been put back first (instances in the order they
** were made). For a host that runs a fresh instance per request: the same
** guest-visible state as a new instance, at a fraction of the cost.
** A memory mapped from a module's image gets the image back (its changed
** pages dropped: copy-on-write). SHOAL_ERR_ARG while the store is
** executing. After any failure, inst is not to be run again: make a new
** instance. */
shoal_err_t shoal_instance_reinit(shoal_instance_t *inst, shoal_diag_t *diag);

/* Looks up an export by name; false if absent. */
bool shoal_instance_export(const shoal_instance_t *inst, const char *name, size_t name_len,
                           shoal_extern_t *out);
/* The same, trying position *hint of the module's export list first and
** leaving there where the name was found: for an embedder resolving the
** same names in many instances of one module (a hint that is wrong or out
** of range only costs the search). */
bool shoal_instance_export_hinted(const shoal_instance_t *inst, const char *name, size_t name_len, uint32_t *hint,
                                  shoal_extern_t *out);
/* Export i, in the order of shoal_module_export; false past the end. */
bool shoal_instance_export_at(const shoal_instance_t *inst, uint32_t i, shoal_extern_t *out);
shoal_func_t *shoal_instance_func(const shoal_instance_t *inst, const char *name);
shoal_memory_t *shoal_instance_memory(const shoal_instance_t *inst, const char *name);
const shoal_module_t *shoal_instance_module(const shoal_instance_t *inst);

/* Linking by name: a resolver fills imports for shoal_instance_new. */
typedef bool (*shoal_resolve_fn)(void *ud, const shoal_import_desc_t *imp, shoal_extern_t *out);
shoal_err_t shoal_module_resolve_imports(const shoal_module_t *m, shoal_resolve_fn fn, void *ud,
                                         shoal_extern_t *imports, shoal_diag_t *diag);

/* }=================================================================== */

/* {===================================================================
** Calls
** =================================================================== */
void shoal_func_type(const shoal_func_t *f, shoal_functype_t *out);

/* Calls f with typed arguments (checked against its type). Results are
** written to results[0..nresults). Returns OK, a trap (diag has the message
** and backtrace), SHOAL_ERR_EXIT, or SHOAL_ERR_SUSPENDED. */
shoal_err_t shoal_func_call(shoal_store_t *s, shoal_func_t *f,
                            const shoal_val_t *args, size_t nargs,
                            shoal_val_t *results, size_t nresults,
                            shoal_diag_t *diag);
/* The same with raw slots: io holds the arguments and receives the
** results; it must have room for max(nparams, nresults) slots. */
shoal_err_t shoal_func_call_raw(shoal_store_t *s, shoal_func_t *f, shoal_raw_t *io,
                                shoal_diag_t *diag);
/* Resumes a suspended execution; results as for the call that suspended. */
shoal_err_t shoal_store_resume(shoal_store_t *s, shoal_diag_t *diag);
bool shoal_store_suspended(const shoal_store_t *s);
/* Abandons a suspended execution. */
void shoal_store_cancel(shoal_store_t *s);

/* }=================================================================== */

/* {===================================================================
** Memories, tables, globals
** =================================================================== */
shoal_memory_t *shoal_memory_new(shoal_store_t *s, const shoal_limits_t *lim);
uint8_t *shoal_memory_data(shoal_memory_t *m);
uint64_t shoal_memory_size(const shoal_memory_t *m);        /* in bytes */
uint64_t shoal_memory_pages(const shoal_memory_t *m);
void shoal_memory_type(const shoal_memory_t *m, shoal_limits_t *out);
/* Grows by delta pages; returns the old page count, or -1. */
int64_t shoal_memory_grow(shoal_memory_t *m, uint64_t delta);
/* Bounds-checked copies between host and linear memory. */
shoal_err_t shoal_memory_read(const shoal_memory_t *m, uint64_t addr, void *dst, size_t n);
shoal_err_t shoal_memory_write(shoal_memory_t *m, uint64_t addr, const void *src, size_t n);

shoal_table_t *shoal_table_new(shoal_store_t *s, shoal_valtype_t elem, const shoal_limits_t *lim,
                               shoal_val_t init);
uint32_t shoal_table_size(const shoal_table_t *t);
void shoal_table_type(const shoal_table_t *t, shoal_valtype_t *elem, shoal_limits_t *lim);
bool shoal_table_get(const shoal_table_t *t, uint32_t i, shoal_val_t *out);
bool shoal_table_set(shoal_table_t *t, uint32_t i, shoal_val_t v);
int64_t shoal_table_grow(shoal_table_t *t, uint32_t delta, shoal_val_t init);

shoal_global_t *shoal_global_new(shoal_store_t *s, shoal_valtype_t t, bool mutable_, shoal_val_t v);
shoal_val_t shoal_global_get(const shoal_global_t *g);
/* Fails with SHOAL_ERR_ARG if the global is immutable or the type differs. */
shoal_err_t shoal_global_set(shoal_global_t *g, shoal_val_t v);
void shoal_global_type(const shoal_global_t *g, shoal_valtype_t *t, bool *mutable_);

/* }=================================================================== */

#ifdef __cplusplus
}
#endif
#endif
