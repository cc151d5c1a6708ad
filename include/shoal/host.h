/*
** shoal host layer: serving wasi:http/proxy components over HTTP/1.1, a
** fresh component instance for every request. Built on component.h.
*/
#ifndef SHOAL_HOST_H
#define SHOAL_HOST_H

#include "shoal/component.h"

#ifdef __cplusplus
extern "C" {
#endif

/* {===================================================================
** Proxies: a component exporting wasi:http/incoming-handler@0.2.x,
** decoded, validated and compiled once, instantiated per request.
** =================================================================== */
typedef struct shoal_proxy shoal_proxy_t;

typedef struct shoal_proxy_config {
  size_t size;                  /* sizeof(shoal_proxy_config_t) */
  uint64_t max_memory_bytes;    /* per linear memory of an instance (0: 4 GiB) */
  uint32_t timeout_ms;          /* per request; 0: none */
  uint32_t max_call_depth;      /* wasm call depth per request (0: 4096; the engine's
                                ** frame array is allocated per store, so per request) */
  const char *const *allow_outbound; /* "HOST" or "HOST:PORT" the guest may call */
  size_t nallow;
} shoal_proxy_config_t;

/* Checks that the component exports incoming-handler. The bytes are copied;
** cfg's strings must outlive the proxy. */
shoal_err_t shoal_proxy_new(const uint8_t *bytes, size_t len, const shoal_proxy_config_t *cfg,
                            shoal_proxy_t **out, shoal_diag_t *diag);
void shoal_proxy_free(shoal_proxy_t *p);

typedef struct shoal_http_field {
  char *name, *value;           /* name lower case; value bytes (NUL-terminated too) */
  size_t name_len, value_len;
} shoal_http_field_t;

typedef struct shoal_http_request {
  const char *method;           /* "GET", ... */
  const char *path_with_query;  /* "/a?b" */
  const char *authority;        /* Host header, or NULL */
  const shoal_http_field_t *headers;
  size_t nheaders;
  const uint8_t *body;
  size_t body_len;
} shoal_http_request_t;

/* A response: everything malloc'ed, freed by shoal_http_response_free. */
typedef struct shoal_http_response {
  int status;
  shoal_http_field_t *headers, *trailers;
  size_t nheaders, ntrailers;
  uint8_t *body;
  size_t body_len;
} shoal_http_response_t;
void shoal_http_response_free(shoal_http_response_t *r);

/* Outcome of one request, for the caller's status line and log. */
typedef enum shoal_proxy_outcome {
  SHOAL_PROXY_OK,        /* the guest set a response (any status) */
  SHOAL_PROXY_TRAP,      /* trapped or gave no response: 500 */
  SHOAL_PROXY_TIMEOUT,   /* exceeded timeout_ms: 504 */
  SHOAL_PROXY_MEMORY,    /* failed to grow past max_memory_bytes: 500 */
  SHOAL_PROXY_WOULD_BLOCK /* shoal_proxy_try only: the guest had to wait, or ran past its short budget */
} shoal_proxy_outcome_t;

/* A worker: one thread's state (instance slot, imports linked once). Each
** thread that handles requests uses its own worker. */
typedef struct shoal_proxy_worker shoal_proxy_worker_t;
shoal_err_t shoal_proxy_worker_new(shoal_proxy_t *p, shoal_proxy_worker_t **out, shoal_diag_t *diag);
void shoal_proxy_worker_free(shoal_proxy_worker_t *w);
/* Ask the worker's running request to stop (any thread): it ends as TIMEOUT. */
void shoal_proxy_worker_interrupt(shoal_proxy_worker_t *w);

/* Handles one request in a fresh instance: a new one, or the worker's
** instance of its last request that ended well, put back as instantiation
** made it (shoal_cinstance_reinit). resp is always filled (a 500 or 504
** page when the outcome is not OK); diag says what the guest did. */
shoal_proxy_outcome_t shoal_proxy_handle(shoal_proxy_worker_t *w, const shoal_http_request_t *req,
                                         shoal_http_response_t *resp, shoal_diag_t *diag);
/* shoal_proxy_handle for a thread that must not sleep (an event loop's):
** the guest may not wait (wasi:io poll, timers, outgoing HTTP) and has a
** few milliseconds of time. When it needs more, the outcome is
** SHOAL_PROXY_WOULD_BLOCK, nothing of its response exists (resp is empty)
** and the request should be handled again with shoal_proxy_handle
** elsewhere: each run is a fresh instance, so only what the guest wrote to
** stdout/stderr before it had to wait is seen twice. */
shoal_proxy_outcome_t shoal_proxy_try(shoal_proxy_worker_t *w, const shoal_http_request_t *req,
                                      shoal_http_response_t *resp, shoal_diag_t *diag);

/* }=================================================================== */

/* {===================================================================
** The HTTP server (`shoal serve`)
** =================================================================== */
typedef struct shoal_server_config {
  size_t size;                  /* sizeof(shoal_server_config_t) */
  const char *addr;             /* "127.0.0.1:8080"; port 0 picks one */
  const char *admin_addr;       /* Prometheus /metrics, or NULL */
  unsigned workers;             /* instance slots (proxy workers) made up front: the
                                ** instances that run at once (default 2) */
  unsigned max_instances;       /* requests admitted at once (running or waiting for a
                                ** slot); beyond: 503 (0: 1024, or workers if more) */
  const char *access_log;       /* file path, "-" for stderr, NULL for none */
  void (*on_ready)(void *ud, unsigned port, unsigned admin_port);
  void *ud;
} shoal_server_config_t;

/* Serves until SIGTERM or SIGINT (in-flight requests finish first). */
shoal_err_t shoal_serve(shoal_proxy_t *p, const shoal_server_config_t *cfg, shoal_diag_t *diag);

/* }=================================================================== */

#ifdef __cplusplus
}
#endif
#endif
