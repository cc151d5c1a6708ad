/*
** Proxies and workers: a wasi:http component checked once, and per thread
** a worker that links its imports once and runs each request in a fresh
** store and instance, with the request's time and memory limits.
*/
#include "host_int.h"
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t host_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* The name of the component's incoming-handler export ("" if none). */
static void find_handler(const shoal_component_t *c, char *out, size_t cap) {
  char *wit = NULL;
  size_t len = 0;
  out[0] = 0;
  if (shoal_component_wit(c, &wit, &len)) return;
  const char *p = strstr(wit, "export wasi:http/incoming-handler@");
  if (p) {
    p += strlen("export ");
    size_t k = strcspn(p, ";\n ");
    snprintf(out, cap, "%.*s#handle", (int)k, p);
  }
  free(wit);
}

shoal_err_t shoal_proxy_new(const uint8_t *bytes, size_t len, const shoal_proxy_config_t *cfg,
                            shoal_proxy_t **out, shoal_diag_t *diag) {
  *out = NULL;
  if (diag) shoal_diag_clear(diag);
  pthread_once(&curl_once, curl_init);
  shoal_component_t *c = NULL;
  shoal_err_t e = shoal_component_new(bytes, len, &c, diag);
  if (e) return e;
  shoal_proxy_t *p = calloc(1, sizeof *p);
  if (!p) {
    shoal_component_free(c);
    return SHOAL_ERR_NOMEM;
  }
  p->comp = c;
  if (cfg) memcpy(&p->cfg, cfg, cfg->size < sizeof p->cfg ? cfg->size : sizeof p->cfg);
  find_handler(c, p->handle_name, sizeof p->handle_name);
  if (!p->handle_name[0]) {
    shoal_proxy_free(p);
    if (diag) {
      diag->code = SHOAL_ERR_NOT_FOUND;
      snprintf(diag->message, sizeof diag->message,
               "the component exports no wasi:http/incoming-handler (it is not a wasi:http/proxy)");
    }
    return SHOAL_ERR_NOT_FOUND;
  }
  size_t cap = sizeof p->imports / sizeof *p->imports;
  p->nimports = host_http_imports(p->imports, cap);
  p->nimports += host_outgoing_imports(p->imports + p->nimports, cap - p->nimports);
  if ((e = shoal_cpre_new_wasi(c, p->imports, p->nimports, &p->pre, diag))) {
    shoal_proxy_free(p);
    return e;
  }
  *out = p;
  return SHOAL_ERR_OK;
}

void shoal_proxy_free(shoal_proxy_t *p) {
  if (!p) return;
  shoal_cpre_free(p->pre);
  shoal_component_free(p->comp);
  free(p);
}

/* w's store, its data w: false when out of memory. */
static bool worker_store(shoal_proxy_worker_t *w) {
  const shoal_proxy_t *p = w->p;
  shoal_store_config_t scfg = {.size = sizeof scfg, .max_memory_bytes = p->cfg.max_memory_bytes,
                               .max_call_depth = p->cfg.max_call_depth ? p->cfg.max_call_depth : 4096,
                               .reset_keep_bytes = w->keep_pages ? 0 : 1,
                               /* components: guest memory never reaches a system call */
                               .track_pages = w->keep_pages};
  w->spare = NULL;
  if (shoal_store_new(&scfg, &w->spare)) return false;
  shoal_store_set_data(w->spare, w);
  return true;
}

shoal_err_t host_worker_new(shoal_proxy_t *p, bool keep_pages, shoal_proxy_worker_t **out) {
  *out = NULL;
  shoal_proxy_worker_t *w = calloc(1, sizeof *w);
  if (!w) return SHOAL_ERR_NOMEM;
  w->p = p;
  w->keep_pages = keep_pages;
  pthread_mutex_init(&w->lock, NULL);
  if (!worker_store(w)) {
    shoal_proxy_worker_free(w);
    return SHOAL_ERR_NOMEM;
  }
  *out = w;
  return SHOAL_ERR_OK;
}

shoal_err_t shoal_proxy_worker_new(shoal_proxy_t *p, shoal_proxy_worker_t **out, shoal_diag_t *diag) {
  (void)diag;
  return host_worker_new(p, true, out);
}

void shoal_proxy_worker_free(shoal_proxy_worker_t *w) {
  if (!w) return;
  shoal_cinstance_free(w->kept);
  shoal_store_free(w->spare);
  pthread_mutex_destroy(&w->lock);
  free(w);
}

void shoal_proxy_worker_interrupt(shoal_proxy_worker_t *w) { host_worker_interrupt_late(w, UINT64_MAX); }

void host_worker_interrupt_late(shoal_proxy_worker_t *w, uint64_t now) {
  pthread_mutex_lock(&w->lock);
  /* the deadline read again under the lock: the request the caller saw
  ** late may be over, and the worker busy with the next one */
  int_fast64_t d = atomic_load(&w->deadline_ns);
  if (w->store && (now == UINT64_MAX || (d && (uint64_t)d < now))) {
    atomic_store(&w->timed_out, true);
    shoal_store_interrupt(w->store);
    if (w->wasi) shoal_wasi_ctx_interrupt(w->wasi);
  }
  pthread_mutex_unlock(&w->lock);
}

void shoal_http_response_free(shoal_http_response_t *r) {
  if (!r) return;
  host_fields_free(r->headers, r->nheaders);
  host_fields_free(r->trailers, r->ntrailers);
  free(r->body);
  memset(r, 0, sizeof *r);
}

bool host_fields_copy(const host_fieldset_t *fs, shoal_http_field_t **v, size_t *n) {
  *v = NULL;
  *n = 0;
  if (!fs || !fs->n) return true;
  *v = calloc(fs->n, sizeof **v);
  if (!*v) return false;
  for (size_t i = 0; i < fs->n; i++) {
    shoal_http_field_t *e = &(*v)[i];
    e->name = strdup(fs->v[i].name);
    e->value = malloc(fs->v[i].value_len + 1);
    *n = i + 1;
    if (!e->name || !e->value) return false;
    memcpy(e->value, fs->v[i].value, fs->v[i].value_len + 1);
    e->name_len = fs->v[i].name_len;
    e->value_len = fs->v[i].value_len;
  }
  return true;
}

static void error_page(shoal_http_response_t *resp, int status, const char *msg) {
  shoal_http_response_free(resp);
  resp->status = status;
  size_t n = strlen(msg);
  resp->body = malloc(n);
  if (resp->body) {
    memcpy(resp->body, msg, n);
    resp->body_len = n;
  }
}

/* The guest's response from the request's objects. */
static bool collect(host_rq_t *rq, shoal_http_response_t *resp) {
  host_obj_t *o = &rq->objs[rq->response_rep - 1];
  resp->status = o->status;
  if (!host_fields_copy(o->fields, &resp->headers, &resp->nheaders)) return false;
  if (o->body_rep) {
    host_obj_t *b = &rq->objs[o->body_rep - 1];
    if (b->body) {
      resp->body = b->body->p;
      resp->body_len = b->body->n;
      b->body->p = NULL;
      b->body->n = 0;
    }
    if (!host_fields_copy(b->trailers, &resp->trailers, &resp->ntrailers)) return false;
  }
  return true;
}

shoal_proxy_outcome_t shoal_proxy_handle(shoal_proxy_worker_t *w, const shoal_http_request_t *req,
                                         shoal_http_response_t *resp, shoal_diag_t *diag) {
  return host_proxy_run(w, req, NULL, false, resp, diag);
}

shoal_proxy_outcome_t shoal_proxy_try(shoal_proxy_worker_t *w, const shoal_http_request_t *req,
                                      shoal_http_response_t *resp, shoal_diag_t *diag) {
  return host_proxy_run(w, req, NULL, true, resp, diag);
}

/* How long a guest may run where it must not sleep before it is moved (a
** polling thread stalls its other connections meanwhile). */
#define NOWAIT_BUDGET_MS 5u

shoal_proxy_outcome_t host_proxy_run(shoal_proxy_worker_t *w, const shoal_http_request_t *req, host_exchange_t *x,
                                     bool nowait, shoal_http_response_t *resp, shoal_diag_t *diag) {
  shoal_diag_t local;
  if (!diag) diag = &local;
  shoal_diag_clear(diag);
  memset(resp, 0, sizeof *resp);
  const shoal_proxy_t *p = w->p;
  host_rq_t rq = {.w = w, .req = req, .x = x};
  rq.req_body = (host_buf_t){(uint8_t *)req->body, req->body_len, req->body_len, 0, x ? &x->in : NULL};
  static const shoal_crun_config_t wcfg = {0};
  shoal_store_t *store = w->spare;  /* NULL: a reset failed and no new one could be made */
  shoal_wasi_ctx_t *wasi = NULL;
  shoal_cinstance_t *inst = NULL;
  shoal_cfunc_t *f = NULL;
  shoal_proxy_outcome_t outcome = SHOAL_PROXY_TRAP;
  /* nowait: the budget is a deadline too, unless the real one is sooner */
  unsigned limit_ms = p->cfg.timeout_ms;
  bool budget_cut = nowait && (!limit_ms || limit_ms > NOWAIT_BUDGET_MS);
  if (budget_cut) limit_ms = NOWAIT_BUDGET_MS;
  shoal_err_t e = store ? shoal_wasi_ctx_new(&wcfg, &wasi, diag) : SHOAL_ERR_NOMEM;
  if (e) goto done;
  rq.wasi = wasi;
  w->rq = &rq;
  atomic_store(&w->timed_out, false);
  pthread_mutex_lock(&w->lock);
  w->store = store;
  w->wasi = wasi;
  pthread_mutex_unlock(&w->lock);
  if (nowait) shoal_wasi_ctx_set_nowait(wasi, true);
  if (limit_ms) atomic_store(&w->deadline_ns, (int_fast64_t)(host_now_ns() + (uint64_t)limit_ms * 1000000u));

  /* the instance of the last request, put back as it was made; or a new one */
  if (w->kept) {
    inst = w->kept;
    f = w->kept_handle;
    w->kept = NULL;
    if (shoal_cinstance_reinit(inst, wasi, diag)) {
      w->no_reinit = true;  /* it cannot be put back (a memory image): new ones from now on */
      shoal_cinstance_free(inst);
      inst = NULL;
      if ((e = shoal_store_reset(store))) goto done;
    }
  }
  if (!inst) {
    if ((e = shoal_cpre_instantiate(p->pre, store, wasi, &inst, diag))) goto done;
    f = shoal_cinstance_func(inst, p->handle_name);
  }
  uint32_t req_rep = host_obj_new(&rq, HOST_INCOMING_REQUEST);
  uint32_t out_rep = host_obj_new(&rq, HOST_RESPONSE_OUTPARAM);
  host_fieldset_t *hs = host_fieldset_new();
  if (!f || !req_rep || !out_rep || !hs) {
    host_fieldset_unref(hs);
    e = SHOAL_ERR_NOMEM;
    goto done;
  }
  for (size_t i = 0; i < req->nheaders; i++)
    if (!host_fieldset_add(hs, req->headers[i].name, req->headers[i].name_len, req->headers[i].value,
                           req->headers[i].value_len)) {
      host_fieldset_unref(hs);
      e = SHOAL_ERR_NOMEM;
      goto done;
    }
  rq.objs[req_rep - 1].fields = hs;
  rq.objs[req_rep - 1].body = &rq.req_body;
  shoal_cval_t args[2] = {{.kind = SHOAL_CT_OWN, .of.handle = req_rep}, {.kind = SHOAL_CT_OWN, .of.handle = out_rep}};
  e = shoal_cfunc_call(store, f, args, 2, NULL, diag);

done:
  atomic_store(&w->deadline_ns, 0);
  pthread_mutex_lock(&w->lock);
  w->store = NULL;
  w->wasi = NULL;
  pthread_mutex_unlock(&w->lock);
  if (e == SHOAL_ERR_OK && rq.responded && rq.response_rep) {
    if (x || collect(&rq, resp)) outcome = SHOAL_PROXY_OK;  /* streamed: already in x */
    else e = SHOAL_ERR_NOMEM;
  } else if (e == SHOAL_ERR_OK) {
    snprintf(diag->message, sizeof diag->message, rq.responded ? "the handler set an error-code as its response"
                                                               : "the handler returned without a response");
  }
  if (atomic_load(&w->timed_out) && e != SHOAL_ERR_OK) outcome = SHOAL_PROXY_TIMEOUT;
  if (nowait && outcome != SHOAL_PROXY_OK &&
      ((wasi && shoal_wasi_ctx_would_block(wasi)) || (outcome == SHOAL_PROXY_TIMEOUT && budget_cut))) {
    outcome = SHOAL_PROXY_WOULD_BLOCK;
    shoal_http_response_free(resp);
  } else if (outcome != SHOAL_PROXY_OK) {
    if (e == SHOAL_ERR_NOMEM && !diag->message[0]) snprintf(diag->message, sizeof diag->message, "out of host memory");
    error_page(resp, outcome == SHOAL_PROXY_TIMEOUT ? 504 : 500,
               outcome == SHOAL_PROXY_TIMEOUT ? "504 Gateway Timeout\n" : "500 Internal Server Error\n");
  }
  /* A busy worker keeps an instance that ended well, to put back for the
  ** next request; after anything else (a trap, a timeout, a guest that had
  ** to wait elsewhere) the next one starts from nothing. */
  bool keep = w->keep_pages && !w->no_reinit && inst && f && e == SHOAL_ERR_OK && outcome == SHOAL_PROXY_OK && !atomic_load(&w->timed_out);
  if (keep) {
    shoal_cinstance_release(inst);  /* the host's destructors, while rq and wasi live */
    w->kept = inst;
    w->kept_handle = f;
  } else {
    shoal_cinstance_free(inst);
  }
  shoal_wasi_ctx_free(wasi);
  host_rq_free(&rq);
  w->rq = NULL;
  /* as fresh for the next request, without unmapping what it reserved */
  if (!keep && w->kept) {  /* not taken (no WASI context): it goes with the store */
    shoal_cinstance_free(w->kept);
    w->kept = NULL;
  }
  if (!keep && store && shoal_store_reset(store) != SHOAL_ERR_OK) {
    shoal_store_free(store);
    worker_store(w);
  }
  if (x) {  /* tell the connection: the body is complete (or cut short), the outcome */
    host_pipe_close(&x->out);
    host_pipe_abandon(&x->in);
    pthread_mutex_lock(&x->lock);  /* x->done is set by the caller, once the slot is free */
    x->outcome = outcome;
    if (!x->responded) {
      x->final = *resp;
      memset(resp, 0, sizeof *resp);
    }
    snprintf(x->message, sizeof x->message, "%s", outcome == SHOAL_PROXY_OK ? "" : diag->message);
    pthread_mutex_unlock(&x->lock);
  }
  return outcome;
}
