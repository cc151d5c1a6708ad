/*
** shoal component model: decode, validate, inspect, instantiate and call
** WebAssembly components (binary layer 1, version 0x0d). Built on engine.h.
*/
#ifndef SHOAL_COMPONENT_H
#define SHOAL_COMPONENT_H

#include "shoal/engine.h"
#include "shoal/wasi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* {===================================================================
** Components
** =================================================================== */
typedef struct shoal_component shoal_component_t;

/* True if the bytes start with a component preamble (magic, version 0x0d,
** layer 1) rather than a core module's (layer 0). */
bool shoal_is_component(const uint8_t *bytes, size_t len);

/* Decodes and validates a component (every nested core module is compiled
** by the engine). The bytes are copied. Errors carry the byte offset. */
shoal_err_t shoal_component_new(const uint8_t *bytes, size_t len,
                                shoal_component_t **out, shoal_diag_t *diag);
void shoal_component_free(shoal_component_t *c);

/* The component's world as WIT text, as `wasm-tools component wit` prints
** it (package root:component; world root { imports; exports }).
** *out is malloc'ed; free it with free(). */
shoal_err_t shoal_component_wit(const shoal_component_t *c, char **out, size_t *len);

/* }=================================================================== */

/* {===================================================================
** Component-level types and values
** =================================================================== */
typedef enum shoal_ctype_kind {
  SHOAL_CT_BOOL, SHOAL_CT_S8, SHOAL_CT_U8, SHOAL_CT_S16, SHOAL_CT_U16,
  SHOAL_CT_S32, SHOAL_CT_U32, SHOAL_CT_S64, SHOAL_CT_U64,
  SHOAL_CT_F32, SHOAL_CT_F64, SHOAL_CT_CHAR, SHOAL_CT_STRING, SHOAL_CT_ERROR_CONTEXT,
  SHOAL_CT_RECORD, SHOAL_CT_VARIANT, SHOAL_CT_LIST, SHOAL_CT_TUPLE,
  SHOAL_CT_FLAGS, SHOAL_CT_ENUM, SHOAL_CT_OPTION, SHOAL_CT_RESULT,
  SHOAL_CT_OWN, SHOAL_CT_BORROW, SHOAL_CT_STREAM, SHOAL_CT_FUTURE, SHOAL_CT_MAP,
  /* not value types */
  SHOAL_CT_FUNC, SHOAL_CT_COMPONENT, SHOAL_CT_INSTANCE, SHOAL_CT_RESOURCE,
  SHOAL_CT_CORE_MODULE, SHOAL_CT_CORE_FUNC
} shoal_ctype_kind_t;

typedef struct cmp_type shoal_ctype_t;

shoal_ctype_kind_t shoal_ctype_kind(const shoal_ctype_t *t);
/* Fields of a record, cases of a variant, labels of flags/enum, elements
** of a tuple, params of a func. name may be NULL (tuple); type may be NULL
** (case without payload, label). */
uint32_t shoal_ctype_count(const shoal_ctype_t *t);
const shoal_ctype_t *shoal_ctype_item(const shoal_ctype_t *t, uint32_t i,
                                      const char **name, size_t *name_len);
/* list/option element, result ok type, handle's resource (may be NULL). */
const shoal_ctype_t *shoal_ctype_elem(const shoal_ctype_t *t);
/* result error type, func result type (may be NULL). */
const shoal_ctype_t *shoal_ctype_err(const shoal_ctype_t *t);
const shoal_ctype_t *shoal_ctype_result(const shoal_ctype_t *t);

/* A component value, owned as a tree: free with shoal_cval_free. Strings
** are UTF-8. Record fields and tuple elements are in `list.items`;
** variant/enum/option/result use `var` (option: 0 none, 1 some; result:
** 0 ok, 1 error; payload may be NULL); flags are a bit set. */
typedef struct shoal_cval shoal_cval_t;
struct shoal_cval {
  shoal_ctype_kind_t kind;
  union {
    bool b;
    int64_t s;        /* s8..s64 */
    uint64_t u;       /* u8..u64 */
    float f32;
    double f64;
    uint32_t ch;      /* a Unicode scalar value */
    struct { char *ptr; size_t len; } str;
    struct { shoal_cval_t *items; size_t n; } list;
    struct { uint32_t disc; shoal_cval_t *payload; } var;
    uint32_t flags;
    uint32_t handle;  /* own/borrow: index in the caller's handle table */
  } of;
};
void shoal_cval_free(shoal_cval_t *v);  /* frees the contents, not v itself */

/* WAVE (WebAssembly Value Encoding) text of a value of type t. */
shoal_err_t shoal_wave_parse(const shoal_ctype_t *t, const char *text, size_t len,
                             shoal_cval_t *out, shoal_diag_t *diag);
/* Parses "name(arg, ...)" against a func type's params into args[]
** (count = shoal_ctype_count(ft)); *name_out points into text. */
shoal_err_t shoal_wave_parse_call(const char *text, size_t len, const char **name_out,
                                  size_t *name_len);
shoal_err_t shoal_wave_parse_args(const shoal_ctype_t *ft, const char *text, size_t len,
                                  shoal_cval_t *args, shoal_diag_t *diag);
/* Appends the WAVE text of v (of type t) to a malloc'ed string. */
shoal_err_t shoal_wave_print(const shoal_ctype_t *t, const shoal_cval_t *v, char **out);

/* }=================================================================== */

/* {===================================================================
** Instances and calls
** =================================================================== */
typedef struct shoal_cinstance shoal_cinstance_t;
typedef struct shoal_cfunc shoal_cfunc_t;

/* A host implementation of an imported component function: args holds
** nparams lifted values (owned by shoal), result receives the result (if
** the function has one; shoal frees it after lowering). Return OK, or use
** shoal_ccall_trap / shoal_ccall_exit. */
typedef struct shoal_ccall shoal_ccall_t;
typedef shoal_err_t (*shoal_chost_fn_t)(shoal_ccall_t *call, void *env, const shoal_cval_t *args,
                                        size_t nargs, shoal_cval_t *result);
shoal_store_t *shoal_ccall_store(shoal_ccall_t *call);
/* Set a trap message; returns SHOAL_ERR_TRAP_HOST to give back. */
shoal_err_t shoal_ccall_trap(shoal_ccall_t *call, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* End the whole execution as a guest exit; returns SHOAL_ERR_EXIT to give back. */
shoal_err_t shoal_ccall_exit(shoal_ccall_t *call, int status);

/* Imports by name: "name" for a top-level function, "iface#func" for a
** function of an imported instance. Instances of types only are
** satisfied by themselves. "iface#[resource-drop]R" (optional) is called
** with one own argument (its rep) when the guest drops an own handle of the
** imported resource R, or when the instance is freed with such handles
** left: the host's destructor. */
typedef struct shoal_cimport {
  const char *name;
  shoal_chost_fn_t fn;
  void *env;
} shoal_cimport_t;

shoal_err_t shoal_cinstance_new(shoal_store_t *s, const shoal_component_t *c,
                                const shoal_cimport_t *imports, size_t nimports,
                                shoal_cinstance_t **out, shoal_diag_t *diag);
void shoal_cinstance_free(shoal_cinstance_t *inst);

/* A pre-linked component (wasmtime's InstancePre): c with its imports
** resolved once, and every canonical ABI layout computed, for making many
** instances cheaply. Instantiating writes nothing to p or c but atomic
** lookup hints, so any number of threads may instantiate the same p at
** once (each in its own store).
** c must outlive p; the imports array need not (its entries are copied).
** Link errors are reported here, as shoal_cinstance_new would. */
typedef struct shoal_cpre shoal_cpre_t;
shoal_err_t shoal_cpre_new(const shoal_component_t *c, const shoal_cimport_t *imports, size_t nimports,
                           shoal_cpre_t **out, shoal_diag_t *diag);
void shoal_cpre_free(shoal_cpre_t *p);

/* An exported function: "name" (world level) or "iface#name" (of an
** exported instance, e.g. "ns:pkg/api@1.0.0#add"); a bare name not at the
** world level finds the one function of that name in the exported
** instances. NULL if absent or ambiguous. */
shoal_cfunc_t *shoal_cinstance_func(shoal_cinstance_t *inst, const char *name);
const shoal_ctype_t *shoal_cfunc_type(const shoal_cfunc_t *f);

/* Calls f: args are lowered (copied into the callee), the result lifted
** into *result (when the type has one; free with shoal_cval_free). */
shoal_err_t shoal_cfunc_call(shoal_store_t *s, shoal_cfunc_t *f,
                             const shoal_cval_t *args, size_t nargs,
                             shoal_cval_t *result, shoal_diag_t *diag);

/* Drops a resource handle the host holds: v is an own value of handle type
** t (as a result of one of inst's functions gave it), of a resource that
** inst defines; runs its destructor, if it has one. */
shoal_err_t shoal_cinstance_drop(shoal_store_t *s, shoal_cinstance_t *inst, const shoal_ctype_t *t,
                                 const shoal_cval_t *v, shoal_diag_t *diag);

/* Linking components: the exports of provider instances satisfy another
** component's imports. Instance imports match exported instances by
** interface name, with semver-compatible versions (ns:pkg/i@1.2.0 takes
** @1.3.5; 0.x needs the same minor, 0.0.x the same patch); world-level
** function imports match world-level function exports by name. Each
** function is type-checked and becomes a shoal_cimport_t that forwards the
** call (values lifted from the caller, lowered into the provider); own and
** borrow handles of the provider's resources pass through, and
** "iface#[resource-drop]R" runs the provider's destructor.
**
**   shoal_clink_new(&l);
**   shoal_clink_add(l, provider_instance);       // one or more
**   shoal_clink_imports(l, consumer, &imps, &n, diag);
**   shoal_cinstance_new(s, consumer, imps, n, &inst, diag);  // or with more
**   ...  shoal_cinstance_free(inst); shoal_clink_free(l);  // then providers */
typedef struct shoal_clink shoal_clink_t;
shoal_err_t shoal_clink_new(shoal_clink_t **out);
/* provider must outlive l and every instance made with its imports. */
shoal_err_t shoal_clink_add(shoal_clink_t *l, shoal_cinstance_t *provider);
/* The imports of consumer that the providers satisfy (others are left for
** the host). A provider export of a matching name but another type is a
** SHOAL_ERR_LINK error naming the import and both types. *imports is
** valid until shoal_clink_free. */
shoal_err_t shoal_clink_imports(shoal_clink_t *l, const shoal_component_t *consumer,
                                const shoal_cimport_t **imports, size_t *n, shoal_diag_t *diag);
void shoal_clink_free(shoal_clink_t *l);

/* Runs a command component (its wasi:cli/run export) with the WASI 0.2
** host: arguments, environment, stdio, clocks, random, wasi:io, the
** pre-opened directories of cfg and sockets on its granted addresses.
** *exit_code is the guest's exit status (run returning err: 1). Returns
** OK, SHOAL_ERR_EXIT (exit was called), a trap, or a link error. */
typedef struct shoal_crun_config {
  const char *const *argv;   /* argv[0] is the program name */
  size_t argc;
  const char *const *env;    /* "KEY=VALUE" */
  size_t nenv;
  /* Pre-opened directories (wasi:filesystem/preopens), with the sandbox of
  ** WASI preview 1: nothing outside host_path is reachable. */
  const shoal_wasi_preopen_t *preopens;
  size_t npreopens;
  /* Host fds for stdin, stdout, stderr (NULL: the process's 0, 1, 2). */
  const int *stdio;
  /* wasi:sockets: the IP addresses the guest may bind, connect and send
  ** to, as "IP" (any port) or "IP:PORT" ("[IPv6]:PORT"); name lookups are
  ** allowed when there is any. None: every socket operation on an address
  ** fails with access-denied. */
  const char *const *net_allow;
  size_t nnet_allow;
  unsigned wasi_flags;       /* SHOAL_WASI_* flags (wasi.h), e.g. SHOAL_WASI_NO_OPENAT2 */
} shoal_crun_config_t;
shoal_err_t shoal_component_run(shoal_store_t *s, const shoal_component_t *c, const shoal_crun_config_t *cfg,
                                int *exit_code, shoal_diag_t *diag);
/* Instantiates c with the same WASI 0.2 host for its wasi:* imports (a
** reactor, say); cfg and its strings must outlive the instance. */
shoal_err_t shoal_cinstance_new_wasi(shoal_store_t *s, const shoal_component_t *c, const shoal_crun_config_t *cfg,
                                     shoal_cinstance_t **out, shoal_diag_t *diag);

/* }=================================================================== */

/* {===================================================================
** The WASI 0.2 host context and its extension point
**
** A shoal_wasi_ctx_t is the state of the WASI 0.2 host for one component
** instance: arguments, environment, pre-opens, and one table of host
** objects (input and output streams, pollables, descriptors, errors...).
** The representation ("rep", shoal_cval_t.of.handle) of every wasi:io
** resource the guest holds is an index in this table, so a higher layer
** (wasi:http bodies and timers) can add its own kinds of streams and
** pollables: give shoal_wasi_ctx_add a shoal_wasi_ops_t, return the rep as
** an own<input-stream> / own<output-stream> / own<pollable>, and wasi:io
** (read, write, splice, subscribe, poll, block, drop ...) works on it
** through the ops. When the guest drops it (or the context is freed)
** ops->close is called.
**
**   shoal_wasi_ctx_t *w;
**   shoal_wasi_ctx_new(&cfg, &w, diag);               // cfg outlives w
**   shoal_cimport_t mine[] = {                        // version optional
**     {"wasi:http/types#[method]incoming-body.stream", body_stream, NULL},
**     {"wasi:http/types#[resource-drop]fields", fields_drop, NULL}, ...};
**   shoal_cinstance_new_wasi_ctx(store, comp, w, mine, n, &inst, diag);
**   ...
**   static shoal_err_t body_stream(shoal_ccall_t *call, void *env, ...) {
**     shoal_wasi_ctx_t *w = shoal_ccall_wasi(call);
**     uint32_t rep = shoal_wasi_ctx_add(w, SHOAL_WASI_INPUT_STREAM, &body_ops, body);
**     // result<own<input-stream>>: ok(own rep)
**   }
**   ...
**   shoal_cinstance_free(inst);
**   shoal_wasi_ctx_free(w);
** =================================================================== */
typedef struct shoal_wasi_ctx shoal_wasi_ctx_t;

typedef enum shoal_wasi_kind {
  SHOAL_WASI_INPUT_STREAM = 1,  /* wasi:io/streams input-stream */
  SHOAL_WASI_OUTPUT_STREAM,     /* wasi:io/streams output-stream */
  SHOAL_WASI_POLLABLE           /* wasi:io/poll pollable */
} shoal_wasi_kind_t;

/* What stream operations return besides a byte count (>= 0). */
enum {
  SHOAL_WASI_CLOSED = -1,  /* stream-error.closed: end of input, or the peer is gone */
  SHOAL_WASI_FAILED = -2   /* stream-error.last-operation-failed; *err holds an errno value */
};

/* The behaviour of one kind of object. Unused members may be NULL. */
typedef struct shoal_wasi_ops {
  /* Input streams: up to len bytes into buf without blocking. Returns how
  ** many (0: none available yet), SHOAL_WASI_CLOSED or SHOAL_WASI_FAILED. */
  int64_t (*read)(void *self, uint8_t *buf, size_t len, int *err);
  /* Output streams: how many bytes write may take now (0: none yet), or
  ** SHOAL_WASI_CLOSED / SHOAL_WASI_FAILED. NULL: unlimited. */
  int64_t (*check_write)(void *self, int *err);
  /* Output streams: takes all len bytes (len <= check_write). 0 or < 0. */
  int64_t (*write)(void *self, const uint8_t *buf, size_t len, int *err);
  /* Output streams: pushes out buffered bytes. 0 or < 0. NULL: no buffer. */
  int64_t (*flush)(void *self, int *err);
  /* Streams (their subscribe pollables) and pollables: true when the next
  ** read/write would make progress or fail, or the event happened.
  ** NULL: always ready. */
  bool (*ready)(void *self);
  /* How to sleep until ready: *fd with poll(2) *events (left at -1: none)
  ** and/or *deadline_ns on CLOCK_MONOTONIC (left at UINT64_MAX: none).
  ** With neither, a waiter re-checks ready() every millisecond. */
  void (*wait)(void *self, int *fd, short *events, uint64_t *deadline_ns);
  /* The object is gone (dropped by the guest, removed, or the context is
  ** freed): release self. */
  void (*close)(void *self);
} shoal_wasi_ops_t;

/* A context for cfg (which, with its strings, must outlive it). Fails with
** SHOAL_ERR_IO naming the directory if a pre-open cannot be opened. */
shoal_err_t shoal_wasi_ctx_new(const shoal_crun_config_t *cfg, shoal_wasi_ctx_t **out, shoal_diag_t *diag);
/* Closes every object left (free the instances using w first). */
void shoal_wasi_ctx_free(shoal_wasi_ctx_t *w);

/* Adds an object; returns its rep, or 0 when out of memory (then
** ops->close(self) has been called). ops must outlive the object. */
uint32_t shoal_wasi_ctx_add(shoal_wasi_ctx_t *w, shoal_wasi_kind_t kind, const shoal_wasi_ops_t *ops, void *self);
/* The self of object rep if it is of that kind and (when ops is not NULL)
** was made with those ops; NULL otherwise. */
void *shoal_wasi_ctx_lookup(shoal_wasi_ctx_t *w, uint32_t rep, shoal_wasi_kind_t kind, const shoal_wasi_ops_t *ops);
/* Removes (and closes) object rep: for objects the guest never received. */
void shoal_wasi_ctx_remove(shoal_wasi_ctx_t *w, uint32_t rep);
/* Sleeps until stream or pollable rep is ready. False if rep is not one,
** or if shoal_wasi_ctx_interrupt was called. */
bool shoal_wasi_ctx_block(shoal_wasi_ctx_t *w, uint32_t rep);
/* Makes every blocked and later wait return (sticky; safe from another
** thread or a signal handler): the guest then traps. */
void shoal_wasi_ctx_interrupt(shoal_wasi_ctx_t *w);
/* Nowait mode, for a host that first runs a guest where it must not sleep
** (an event-loop thread, say) and runs it again elsewhere when it had to
** wait: every wait that would sleep then fails at once, as an interrupt
** does (the guest traps), and shoal_wasi_ctx_would_block says so after.
** A host function about to block on something of its own (a network
** call) asks shoal_wasi_ctx_may_block first: false in nowait mode (and
** recorded as would-block), when it should trap instead. */
void shoal_wasi_ctx_set_nowait(shoal_wasi_ctx_t *w, bool on);
bool shoal_wasi_ctx_may_block(shoal_wasi_ctx_t *w);
bool shoal_wasi_ctx_would_block(const shoal_wasi_ctx_t *w);

/* Instantiates c with WASI 0.2 from w for its wasi:* imports, and extra
** host imports, which are looked up first. An extra import's interface
** may be named without version or with any version: it matches the
** component's import of the same interface and function at any 0.2.x (so
** "wasi:http/types#..." serves wasi:http/types@0.2.10). w must outlive the
** instance. */
shoal_err_t shoal_cinstance_new_wasi_ctx(shoal_store_t *s, const shoal_component_t *c, shoal_wasi_ctx_t *w,
                                         const shoal_cimport_t *extra, size_t nextra, shoal_cinstance_t **out,
                                         shoal_diag_t *diag);
/* shoal_cpre_new for the WASI 0.2 host and extra imports, as
** shoal_cinstance_new_wasi_ctx links them (extra must outlive p). */
shoal_err_t shoal_cpre_new_wasi(const shoal_component_t *c, const shoal_cimport_t *extra, size_t nextra,
                                shoal_cpre_t **out, shoal_diag_t *diag);
/* A fresh instance of p in store s, whose host functions see WASI context
** w (NULL for none; w must outlive the instance). */
shoal_err_t shoal_cpre_instantiate(const shoal_cpre_t *p, shoal_store_t *s, shoal_wasi_ctx_t *w,
                                   shoal_cinstance_t **out, shoal_diag_t *diag);
/* Ends a run of inst that is to be put back (shoal_cinstance_reinit) later:
** the host's destructors run for the handles it still holds (while the
** host state they need, such as the WASI context, still lives), and its
** handle tables are emptied. */
void shoal_cinstance_release(shoal_cinstance_t *inst);
/* Puts inst, made by shoal_cpre_instantiate, back in the state it was made
** in, for another run with WASI context w: shoal_cinstance_release if that
** was not done, then each of its core instances is put back by
** shoal_instance_reinit, in the order they were made (memories zeroed and
** their data written again, tables and globals set again, start functions
** run). Guests see a fresh instance; the host saves making its objects
** and linking them. After a failure, inst is only to be freed. */
shoal_err_t shoal_cinstance_reinit(shoal_cinstance_t *inst, shoal_wasi_ctx_t *w, shoal_diag_t *diag);
/* The WASI context of the instance whose import is being called (NULL if
** it was not made with one). */
shoal_wasi_ctx_t *shoal_ccall_wasi(shoal_ccall_t *call);
/* shoal_component_run with extra host imports (looked up before WASI's), as
** shoal_cinstance_new_wasi_ctx takes them: a command linked to providers. */
shoal_err_t shoal_component_run_extra(shoal_store_t *s, const shoal_component_t *c, const shoal_crun_config_t *cfg,
                                      const shoal_cimport_t *extra, size_t nextra, int *exit_code,
                                      shoal_diag_t *diag);

/* }=================================================================== */

#ifdef __cplusplus
}
#endif
#endif
