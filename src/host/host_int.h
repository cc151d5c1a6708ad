/*
** Internal declarations of the host layer (wasi:http serving): the
** per-request state the wasi:http host functions work on, and the helpers
** shared between the host_*.c files.
*/
#ifndef SHOAL_HOST_INT_H
#define SHOAL_HOST_INT_H

#include "shoal/host.h"
#include <pthread.h>
#include <stdatomic.h>

/* {==================================================================
** wasi:http resources of one request (reps are indices + 1 in host_rq_t.objs)
** =================================================================== */
typedef enum host_kind {
  HOST_FIELDS = 1, HOST_INCOMING_REQUEST, HOST_INCOMING_BODY, HOST_FUTURE_TRAILERS,
  HOST_OUTGOING_RESPONSE, HOST_OUTGOING_BODY, HOST_RESPONSE_OUTPARAM,
  HOST_OUTGOING_REQUEST, HOST_REQUEST_OPTIONS, HOST_FUTURE_INCOMING_RESPONSE,
  HOST_INCOMING_RESPONSE
} host_kind_t;

/* A header list, shared by a message and the fields handles that view it. */
typedef struct host_fieldset {
  shoal_http_field_t *v;
  size_t n, cap;
  int refs;
} host_fieldset_t;

/* A bounded byte pipe between two threads (host_pipe.c). */
typedef struct host_pipe {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  uint8_t *buf;
  size_t head, len, cap;
  uint64_t total;               /* bytes ever written */
  bool eof;                     /* the producer is done */
  bool gone;                    /* the consumer is gone: writes fail */
  bool unbounded;               /* writes grow the buffer instead of waiting */
  int efd;                      /* eventfd signalled on every change (-1: none yet) */
  void (*notify)(void *ud);     /* also called on every change, unlocked */
  void *notify_ud;
  bool notify_due;
} host_pipe_t;

bool host_pipe_init(host_pipe_t *p, size_t cap);
void host_pipe_destroy(host_pipe_t *p);
/* Blocks until all n bytes are in; false if the consumer is gone. */
bool host_pipe_write_all(host_pipe_t *p, const uint8_t *d, size_t n);
/* Non-blocking: bytes taken (maybe 0), or SHOAL_WASI_CLOSED. */
int64_t host_pipe_write(host_pipe_t *p, const uint8_t *d, size_t n);
int64_t host_pipe_space(host_pipe_t *p);
/* Bytes read, 0 (nothing yet; only without block) or SHOAL_WASI_CLOSED at the end. */
int64_t host_pipe_read(host_pipe_t *p, uint8_t *d, size_t n, bool block);
bool host_pipe_ready(host_pipe_t *p, bool for_write);
/* The eventfd to poll(2) for changes (made on first use; -1: none, then
** the WASI host re-checks every millisecond). */
int host_pipe_fd(host_pipe_t *p);
/* As ready, without side effects. */
bool host_pipe_peek(host_pipe_t *p, bool for_write);
/* Unbounded while the consumer cannot read yet (the response body before
** libmicrohttpd may send it: after the whole request is in). */
void host_pipe_bound(host_pipe_t *p, bool bounded);
void host_pipe_close(host_pipe_t *p);
void host_pipe_abandon(host_pipe_t *p);

/* One request streamed between its connection thread and its guest thread
** (host_server.c makes it, host_proxy.c and the wasi:http functions fill it). */
typedef struct host_exchange {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  atomic_int refs;
  host_pipe_t in, out;          /* request body in, response body out */
  bool responded;               /* status and headers below are set */
  bool finished;                 /* the response body was finished (trailers set) */
  bool done;                    /* the guest finished and freed its slot: outcome and final set */
  struct MHD_Response *mhd;     /* the streamed response (for its footers) */
  struct MHD_Connection *con;   /* NULL once the connection is closed */
  bool suspended;               /* con is suspended until the guest makes progress */
  void (*wake)(struct host_exchange *x); /* resumes con; call without holding lock */
  int status;
  shoal_http_field_t *headers, *trailers;
  size_t nheaders, ntrailers;
  shoal_proxy_outcome_t outcome;
  shoal_http_response_t final;  /* the error page when the guest did not respond */
  char message[SHOAL_DIAG_MSG];
} host_exchange_t;

/* Bytes written by the guest to an outgoing body, or read by it; with a
** pipe, the bytes go through it instead (a streamed request or response). */
typedef struct host_buf {
  uint8_t *p;
  size_t n, cap, pos;  /* pos: read position of incoming bodies */
  host_pipe_t *pipe;
} host_buf_t;

typedef struct host_obj host_obj_t;
struct host_obj {
  host_kind_t kind;
  bool live;
  host_fieldset_t *fields;      /* FIELDS (view), messages (their headers) */
  bool immutable;               /* FIELDS */
  host_buf_t *body;             /* bodies: the bytes (owned by the message) */
  uint32_t body_rep;            /* messages: their body object (0: not taken) */
  uint32_t stream_rep;          /* bodies: the wasi stream (0: not taken) */
  bool finished;                /* outgoing bodies */
  host_fieldset_t *trailers;    /* outgoing bodies, after finish */
  int status;                   /* responses */
  char *method, *path, *authority, *scheme; /* outgoing requests */
  uint32_t response_rep;        /* future-incoming-response: the result */
  int error_code;               /* future-incoming-response: error-code case, or -1 */
  bool taken;                   /* future/consume: already returned */
};

typedef struct shoal_proxy_worker host_worker_t;

/* One request being handled by a fresh instance. */
typedef struct host_rq {
  host_worker_t *w;
  host_exchange_t *x;           /* NULL: buffered (shoal_proxy_handle) */
  shoal_wasi_ctx_t *wasi;
  const shoal_http_request_t *req;
  host_buf_t req_body;          /* a read view of req->body */
  host_obj_t *objs;             /* own_objs, or the heap past HOST_RQ_OBJS */
  uint32_t nobjs, cap;
#define HOST_RQ_OBJS 8
  host_obj_t own_objs[HOST_RQ_OBJS]; /* a handler makes about six: no allocation for them */
  /* the response, once response-outparam.set ran */
  bool responded;
  uint32_t response_rep;        /* the outgoing-response */
  int error_status;             /* set with an error-code: 500 */
} host_rq_t;

uint32_t host_obj_new(host_rq_t *rq, host_kind_t kind);
host_obj_t *host_obj_get(host_rq_t *rq, uint32_t rep, host_kind_t kind);
void host_rq_free(host_rq_t *rq);

host_fieldset_t *host_fieldset_new(void);
void host_fieldset_unref(host_fieldset_t *f);
bool host_fieldset_add(host_fieldset_t *f, const char *name, size_t nl, const char *val, size_t vl);
void host_fields_free(shoal_http_field_t *v, size_t n);
/* A copy of a fieldset's entries as an array. */
bool host_fields_copy(const host_fieldset_t *fs, shoal_http_field_t **v, size_t *n);

/* Component values for host results (host_cval.c); false when out of memory. */
bool host_cv_string(shoal_cval_t *v, const char *s, size_t n);
bool host_cv_bytes(shoal_cval_t *v, const uint8_t *p, size_t n);   /* list<u8> */
shoal_cval_t *host_cv_case(shoal_cval_t *v, shoal_ctype_kind_t kind, uint32_t disc); /* the payload */
void host_cv_own(shoal_cval_t *v, uint32_t rep);
/* A string or list<u8> argument as malloc'ed bytes (NUL-terminated). */
char *host_cv_dup(const shoal_cval_t *v, size_t *n);

/* The wasi:http host imports (host_http_types.c, host_outgoing.c); they
** find their worker as the data of the store they run in. */
size_t host_http_imports(shoal_cimport_t *out, size_t cap);
size_t host_outgoing_imports(shoal_cimport_t *out, size_t cap);
/* Performs outgoing request rep (host_outgoing.c): sets its future's result. */
void host_outgoing_perform(host_rq_t *rq, uint32_t future_rep);
/* An input-stream over buf in rq's WASI context; 0 when out of memory. */
uint32_t host_input_stream(host_rq_t *rq, host_buf_t *buf);
/* }================================================================== */

/* {==================================================================
** Proxies and workers (host_proxy.c)
** =================================================================== */
/* The component, decoded and pre-linked once: every worker instantiates
** the same pre (which only reads it) in a store of its own. */
struct shoal_proxy {
  shoal_component_t *comp;
  shoal_cimport_t imports[96];
  size_t nimports;
  shoal_cpre_t *pre;
  shoal_proxy_config_t cfg;
  char handle_name[96];         /* "wasi:http/incoming-handler@0.2.x#handle" */
};

struct shoal_proxy_worker {
  shoal_proxy_t *p;
  host_rq_t *rq;                /* the request being handled */
  pthread_mutex_t lock;         /* guards store/wasi for interrupts from other threads */
  shoal_store_t *spare;         /* the store of every request (data: this worker), reset after each */
  bool keep_pages;              /* its memory's pages stay between requests (a busy worker) */
  /* A busy worker's instance, kept after a request that ended well and
  ** put back (shoal_cinstance_reinit) for the next one; NULL: none. */
  shoal_cinstance_t *kept;
  shoal_cfunc_t *kept_handle;
  bool no_reinit;               /* a put-back failed: always a new instance */
  shoal_store_t *store;         /* spare while a request runs, else NULL */
  shoal_wasi_ctx_t *wasi;
  atomic_bool timed_out;
  atomic_int_fast64_t deadline_ns; /* CLOCK_MONOTONIC; 0: idle */
};

uint64_t host_now_ns(void);
/* A worker; keep_pages: its store keeps memory pages between requests
** (else it gives them back: for workers that may sit idle). */
shoal_err_t host_worker_new(shoal_proxy_t *p, bool keep_pages, shoal_proxy_worker_t **out);
/* Interrupts w's request if its deadline is before now (UINT64_MAX: whatever it is). */
void host_worker_interrupt_late(shoal_proxy_worker_t *w, uint64_t now);
/* One request in a fresh instance; x NULL: buffered into resp, else
** streamed through x; nowait: as shoal_proxy_try (buffered only). */
shoal_proxy_outcome_t host_proxy_run(shoal_proxy_worker_t *w, const shoal_http_request_t *req, host_exchange_t *x,
                                     bool nowait, shoal_http_response_t *resp, shoal_diag_t *diag);
/* }================================================================== */

/* {==================================================================
** Metrics (host_metrics.c) and the access log (host_log.c)
** =================================================================== */
void host_metrics_request(int status, uint64_t ns, shoal_proxy_outcome_t outcome);
void host_metrics_rejected(void);
void host_metrics_inflight(int delta);
/* Prometheus text format; malloc'ed. */
char *host_metrics_text(size_t *len);

typedef struct host_log host_log_t;
host_log_t *host_log_open(const char *path);
/* One line, buffered (flushed when the buffer fills and by host_log_flush). */
void host_log_line(host_log_t *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void host_log_flush(host_log_t *l);
void host_log_close(host_log_t *l);
/* }================================================================== */

#endif
