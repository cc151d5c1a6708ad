/*
** wasi:http/outgoing-handler and the client side of wasi:http/types
** (outgoing-request, request-options, future-incoming-response,
** incoming-response): outbound HTTP with libcurl, denied unless the
** authority is in the proxy's allow list.
*/
#include "host_int.h"
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HOSTFN(name) \
  static shoal_err_t name(shoal_ccall_t *c, void *env, const shoal_cval_t *a, size_t n, shoal_cval_t *r)
/* the request: of the worker whose store runs the guest (the imports are shared by every worker) */
#define RQ host_rq_t *rq = ((host_worker_t *)shoal_store_data(shoal_ccall_store(c)))->rq; \
  (void)env; (void)rq; (void)n; (void)a; (void)r
#define OOM shoal_ccall_trap(c, "out of host memory")
#define OBJ(o, i, k, what) \
  host_obj_t *o = n > (i) ? host_obj_get(rq, a[i].of.handle, k) : NULL; \
  if (!o) return shoal_ccall_trap(c, "%s: not a live " what " handle", __func__)

/* error-code cases used here */
enum { EC_DESTINATION_NOT_FOUND = 2, EC_CONNECTION_REFUSED = 6, EC_CONNECTION_TIMEOUT = 8,
       EC_HTTP_REQUEST_DENIED = 15, EC_HTTP_PROTOCOL_ERROR = 35, EC_INTERNAL_ERROR = 38 };

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};

/* {==================================================================
** outgoing-request and request-options
** =================================================================== */
HOSTFN(request_new) {
  RQ;
  OBJ(f, 0, HOST_FIELDS, "fields");
  host_fieldset_t *fs = f->fields;
  fs->refs++;
  f->live = false;
  uint32_t rep = host_obj_new(rq, HOST_OUTGOING_REQUEST);
  if (!rep) { host_fieldset_unref(fs); return OOM; }
  host_obj_t *o = &rq->objs[rep - 1];
  o->fields = fs;
  o->method = strdup("GET");
  o->scheme = strdup("http");
  if (!o->method || !o->scheme) return OOM;
  host_cv_own(r, rep);
  return SHOAL_ERR_OK;
}

HOSTFN(request_method) {
  RQ;
  OBJ(o, 0, HOST_OUTGOING_REQUEST, "outgoing-request");
  r->kind = SHOAL_CT_VARIANT;
  for (uint32_t i = 0; i < 9; i++)
    if (strcmp(o->method, methods[i]) == 0) { r->of.var.disc = i; return SHOAL_ERR_OK; }
  shoal_cval_t *p = host_cv_case(r, SHOAL_CT_VARIANT, 9);
  if (!p || !host_cv_string(p, o->method, strlen(o->method))) return OOM;
  return SHOAL_ERR_OK;
}

HOSTFN(request_set_method) {
  RQ;
  OBJ(o, 0, HOST_OUTGOING_REQUEST, "outgoing-request");
  char *m;
  size_t len;
  if (a[1].of.var.disc < 9) m = strdup(methods[a[1].of.var.disc]);
  else m = host_cv_dup(a[1].of.var.payload, &len);
  if (!m) return OOM;
  free(o->method);
  o->method = m;
  r->kind = SHOAL_CT_RESULT;
  return SHOAL_ERR_OK;
}

static shoal_err_t get_opt(shoal_ccall_t *c, shoal_cval_t *r, const char *s) {
  r->kind = SHOAL_CT_OPTION;
  if (!s) return SHOAL_ERR_OK;
  shoal_cval_t *p = host_cv_case(r, SHOAL_CT_OPTION, 1);
  if (!p || !host_cv_string(p, s, strlen(s))) return OOM;
  return SHOAL_ERR_OK;
}

/* set-*(option<string>) -> result */
static shoal_err_t set_opt(shoal_ccall_t *c, const shoal_cval_t *v, char **slot, shoal_cval_t *r) {
  char *s = NULL;
  size_t len;
  if (v->of.var.disc == 1 && !(s = host_cv_dup(v->of.var.payload, &len))) return OOM;
  free(*slot);
  *slot = s;
  r->kind = SHOAL_CT_RESULT;
  return SHOAL_ERR_OK;
}

HOSTFN(request_path) { RQ; OBJ(o, 0, HOST_OUTGOING_REQUEST, "outgoing-request"); return get_opt(c, r, o->path); }
HOSTFN(request_authority) { RQ; OBJ(o, 0, HOST_OUTGOING_REQUEST, "outgoing-request"); return get_opt(c, r, o->authority); }
HOSTFN(request_set_path) { RQ; OBJ(o, 0, HOST_OUTGOING_REQUEST, "outgoing-request"); return set_opt(c, &a[1], &o->path, r); }
HOSTFN(request_set_authority) { RQ; OBJ(o, 0, HOST_OUTGOING_REQUEST, "outgoing-request"); return set_opt(c, &a[1], &o->authority, r); }

HOSTFN(request_scheme) {
  RQ;
  OBJ(o, 0, HOST_OUTGOING_REQUEST, "outgoing-request");
  r->kind = SHOAL_CT_OPTION;
  if (!o->scheme) return SHOAL_ERR_OK;
  shoal_cval_t *p = host_cv_case(r, SHOAL_CT_OPTION, 1);
  if (!p) return OOM;
  if (strcmp(o->scheme, "http") == 0 || strcmp(o->scheme, "https") == 0) {
    p->kind = SHOAL_CT_VARIANT;
    p->of.var.disc = o->scheme[4] == 's';
    return SHOAL_ERR_OK;
  }
  shoal_cval_t *s = host_cv_case(p, SHOAL_CT_VARIANT, 2);
  if (!s || !host_cv_string(s, o->scheme, strlen(o->scheme))) return OOM;
  return SHOAL_ERR_OK;
}

HOSTFN(request_set_scheme) {
  RQ;
  OBJ(o, 0, HOST_OUTGOING_REQUEST, "outgoing-request");
  char *s = NULL;
  size_t len;
  if (a[1].of.var.disc == 1) {
    const shoal_cval_t *v = a[1].of.var.payload;
    s = v->of.var.disc < 2 ? strdup(v->of.var.disc ? "https" : "http") : host_cv_dup(v->of.var.payload, &len);
    if (!s) return OOM;
  }
  free(o->scheme);
  o->scheme = s;
  r->kind = SHOAL_CT_RESULT;
  return SHOAL_ERR_OK;
}

HOSTFN(options_new) {
  RQ;
  uint32_t rep = host_obj_new(rq, HOST_REQUEST_OPTIONS);
  if (!rep) return OOM;
  host_cv_own(r, rep);
  return SHOAL_ERR_OK;
}
/* Timeouts are the host's (30 s): getters say none, setters accept. */
HOSTFN(options_get) { RQ; (void)c; r->kind = SHOAL_CT_OPTION; return SHOAL_ERR_OK; }
HOSTFN(options_set) { RQ; (void)c; r->kind = SHOAL_CT_RESULT; return SHOAL_ERR_OK; }

HOSTFN(drop) {
  RQ;
  (void)c;
  uint32_t rep = n ? a[0].of.handle : 0;
  if (rep && rep <= rq->nobjs) rq->objs[rep - 1].live = false;
  return SHOAL_ERR_OK;
}
/* }================================================================== */

/* {==================================================================
** Performing a request (libcurl, blocking: the instance has nothing
** else to do while it waits)
** =================================================================== */
/* HOST[:PORT] with a plain host name or IPv4 address: nothing a URL parser
** could read as user info, path or another host ("a:@b", "a/b", "a#b"). */
static bool plain_authority(const char *a) {
  const char *colon = strchr(a, ':');
  size_t hl = colon ? (size_t)(colon - a) : strlen(a);
  if (hl == 0) return false;
  for (size_t i = 0; i < hl; i++)
    if (!((a[i] >= 'a' && a[i] <= 'z') || (a[i] >= 'A' && a[i] <= 'Z') || (a[i] >= '0' && a[i] <= '9') ||
          a[i] == '.' || a[i] == '-'))
      return false;
  if (!colon) return true;
  size_t pl = strlen(colon + 1);
  if (pl == 0 || pl > 5) return false;
  for (size_t i = 1; i <= pl; i++)
    if (colon[i] < '0' || colon[i] > '9') return false;
  return true;
}

static bool allowed(const shoal_proxy_t *p, const char *authority) {
  if (!plain_authority(authority)) return false;
  const char *colon = strrchr(authority, ':');
  size_t hl = colon ? (size_t)(colon - authority) : strlen(authority);
  for (size_t i = 0; i < p->cfg.nallow; i++) {
    const char *x = p->cfg.allow_outbound[i];
    if (strcasecmp(x, authority) == 0) return true;                       /* HOST:PORT */
    if (!strchr(x, ':') && strlen(x) == hl && strncasecmp(x, authority, hl) == 0) return true; /* HOST */
  }
  return false;
}

typedef struct fetch {
  host_buf_t *body;
  host_fieldset_t *headers;
  bool oom;
} fetch_t;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud) {
  fetch_t *f = ud;
  size_t len = size * nmemb;
  host_buf_t *b = f->body;
  if (b->n + len > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + len) cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) { f->oom = true; return 0; }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, ptr, len);
  b->n += len;
  return len;
}

/* libcurl hands over each header line as received: "Name: value\r\n" */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud) {
  fetch_t *f = ud;
  size_t len = size * nmemb;
  char *colon = memchr(ptr, ':', len);
  if (!colon || memcmp(ptr, "HTTP/", len < 5 ? len : 5) == 0) {
    if (len >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {  /* a new response (after 100 Continue): restart */
      host_fieldset_unref(f->headers);
      f->headers = host_fieldset_new();
      if (!f->headers) f->oom = true;
    }
    return len;
  }
  size_t nl = (size_t)(colon - ptr), vs = nl + 1, ve = len;
  while (vs < ve && (ptr[vs] == ' ' || ptr[vs] == '\t')) vs++;
  while (ve > vs && (ptr[ve - 1] == '\r' || ptr[ve - 1] == '\n' || ptr[ve - 1] == ' ')) ve--;
  if (f->headers && !host_fieldset_add(f->headers, ptr, nl, ptr + vs, ve - vs)) f->oom = true;
  return len;
}

void host_outgoing_perform(host_rq_t *rq, uint32_t future_rep) {
  host_obj_t *fut = &rq->objs[future_rep - 1];
  if (fut->response_rep || fut->error_code >= 0) return;
  host_obj_t *req = &rq->objs[fut->body_rep - 1];  /* the future keeps its request here */
  host_buf_t *out = req->body_rep ? rq->objs[req->body_rep - 1].body : NULL;
  host_buf_t *in = calloc(1, sizeof *in);
  fetch_t f = {in, host_fieldset_new(), false};
  CURL *curl = in && f.headers ? curl_easy_init() : NULL;
  if (!curl) {
    free(in);
    host_fieldset_unref(f.headers);
    fut->error_code = EC_INTERNAL_ERROR;
    return;
  }
  char url[2048];
  const char *path = req->path && req->path[0] == '/' ? req->path : "/";
  int ul = snprintf(url, sizeof url, "%s://%s%s", req->scheme && strcmp(req->scheme, "https") == 0 ? "https" : "http",
                    req->authority, path);
  for (const char *q = path; *q; q++)
    if ((unsigned char)*q <= ' ' || *q == 0x7f) ul = -1;  /* no spaces or controls in the request line */
  if (ul < 0 || (size_t)ul >= sizeof url) {
    free(in);
    host_fieldset_unref(f.headers);
    curl_easy_cleanup(curl);
    fut->error_code = 19;  /* HTTP-request-URI-invalid */
    return;
  }
  struct curl_slist *hl = NULL;
  for (size_t i = 0; i < req->fields->n; i++) {
    char line[8192];
    snprintf(line, sizeof line, "%s: %s", req->fields->v[i].name, req->fields->v[i].value);
    struct curl_slist *t = curl_slist_append(hl, line);
    if (t) hl = t;
  }
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
  curl_easy_setopt(curl, CURLOPT_NOBODY, (long)(strcmp(req->method, "HEAD") == 0));
  if (out && out->n) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, out->p);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)out->n);
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &f);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &f);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  curl_slist_free_all(hl);
  uint32_t rep = rc == CURLE_OK && !f.oom ? host_obj_new(rq, HOST_INCOMING_RESPONSE) : 0;
  fut = &rq->objs[future_rep - 1];
  if (!rep) {
    fut->error_code = rc == CURLE_COULDNT_CONNECT ? EC_CONNECTION_REFUSED
                    : rc == CURLE_COULDNT_RESOLVE_HOST ? EC_DESTINATION_NOT_FOUND
                    : rc == CURLE_OPERATION_TIMEDOUT ? EC_CONNECTION_TIMEOUT
                    : rc == CURLE_OK ? EC_INTERNAL_ERROR : EC_HTTP_PROTOCOL_ERROR;
    free(in->p);
    free(in);
    host_fieldset_unref(f.headers);
    return;
  }
  host_obj_t *resp = &rq->objs[rep - 1];
  resp->status = (int)status;
  resp->fields = f.headers;
  resp->body = in;
  fut->response_rep = rep;
}
/* }================================================================== */

/* {==================================================================
** outgoing-handler, future-incoming-response, incoming-response
** =================================================================== */
static shoal_err_t error_code(shoal_ccall_t *c, shoal_cval_t *v, int code) {
  v->kind = SHOAL_CT_VARIANT;
  v->of.var.disc = (uint32_t)code;
  if (code == EC_INTERNAL_ERROR) {  /* internal-error(option<string>): none */
    shoal_cval_t *p = host_cv_case(v, SHOAL_CT_VARIANT, (uint32_t)code);
    if (!p) return OOM;
    p->kind = SHOAL_CT_OPTION;
  }
  return SHOAL_ERR_OK;
}

/* handle(own<outgoing-request>, option<own<request-options>>) -> result<own<future-incoming-response>, error-code> */
HOSTFN(outgoing_handle) {
  RQ;
  OBJ(req, 0, HOST_OUTGOING_REQUEST, "outgoing-request");
  req->live = false;
  if (!req->authority || !allowed(rq->w->p, req->authority)) {
    shoal_cval_t *p = host_cv_case(r, SHOAL_CT_RESULT, 1);
    return p ? error_code(c, p, EC_HTTP_REQUEST_DENIED) : OOM;
  }
  if (!shoal_wasi_ctx_may_block(rq->wasi)) return shoal_ccall_trap(c, "outgoing-handler: would block here");
  uint32_t req_rep = a[0].of.handle;
  uint32_t rep = host_obj_new(rq, HOST_FUTURE_INCOMING_RESPONSE);
  if (!rep) return OOM;
  rq->objs[rep - 1].body_rep = req_rep;
  host_obj_t *body = rq->objs[req_rep - 1].body_rep ? &rq->objs[rq->objs[req_rep - 1].body_rep - 1] : NULL;
  if (!body || body->finished) host_outgoing_perform(rq, rep);  /* else once the guest waits for it */
  shoal_cval_t *p = host_cv_case(r, SHOAL_CT_RESULT, 0);
  if (!p) return OOM;
  host_cv_own(p, rep);
  return SHOAL_ERR_OK;
}

static void no_close(void *self) { (void)self; }
static const shoal_wasi_ops_t ready_ops = {.close = no_close};

HOSTFN(future_subscribe) {
  RQ;
  OBJ(o, 0, HOST_FUTURE_INCOMING_RESPONSE, "future-incoming-response");
  host_outgoing_perform(rq, a[0].of.handle);
  uint32_t rep = shoal_wasi_ctx_add(rq->wasi, SHOAL_WASI_POLLABLE, &ready_ops, NULL);
  if (!rep) return OOM;
  host_cv_own(r, rep);
  return SHOAL_ERR_OK;
}

/* get -> option<result<result<own<incoming-response>, error-code>>> */
HOSTFN(future_get) {
  RQ;
  OBJ(o, 0, HOST_FUTURE_INCOMING_RESPONSE, "future-incoming-response");
  host_outgoing_perform(rq, a[0].of.handle);
  o = &rq->objs[a[0].of.handle - 1];
  shoal_cval_t *res = host_cv_case(r, SHOAL_CT_OPTION, 1);
  if (!res) return OOM;
  if (o->taken) {
    res->kind = SHOAL_CT_RESULT;
    res->of.var.disc = 1;
    return SHOAL_ERR_OK;
  }
  o->taken = true;
  shoal_cval_t *inner = host_cv_case(res, SHOAL_CT_RESULT, 0);
  if (!inner) return OOM;
  if (o->error_code >= 0) {
    shoal_cval_t *e = host_cv_case(inner, SHOAL_CT_RESULT, 1);
    return e ? error_code(c, e, o->error_code) : OOM;
  }
  shoal_cval_t *p = host_cv_case(inner, SHOAL_CT_RESULT, 0);
  if (!p) return OOM;
  host_cv_own(p, o->response_rep);
  return SHOAL_ERR_OK;
}

HOSTFN(response_status) {
  RQ;
  OBJ(o, 0, HOST_INCOMING_RESPONSE, "incoming-response");
  r->kind = SHOAL_CT_U16;
  r->of.u = (uint64_t)o->status;
  return SHOAL_ERR_OK;
}

HOSTFN(response_headers) {
  RQ;
  OBJ(o, 0, HOST_INCOMING_RESPONSE, "incoming-response");
  uint32_t rep = host_obj_new(rq, HOST_FIELDS);
  if (!rep) return OOM;
  o = &rq->objs[a[0].of.handle - 1];
  rq->objs[rep - 1].fields = o->fields;
  rq->objs[rep - 1].immutable = true;
  o->fields->refs++;
  host_cv_own(r, rep);
  return SHOAL_ERR_OK;
}

HOSTFN(response_consume) {
  RQ;
  OBJ(o, 0, HOST_INCOMING_RESPONSE, "incoming-response");
  r->kind = SHOAL_CT_RESULT;
  if (o->taken) { r->of.var.disc = 1; return SHOAL_ERR_OK; }
  host_buf_t *body = o->body;
  uint32_t rep = host_obj_new(rq, HOST_INCOMING_BODY);
  if (!rep) return OOM;
  rq->objs[a[0].of.handle - 1].taken = true;
  rq->objs[a[0].of.handle - 1].body = NULL;
  rq->objs[rep - 1].body = body;
  shoal_cval_t *p = host_cv_case(r, SHOAL_CT_RESULT, 0);
  if (!p) return OOM;
  host_cv_own(p, rep);
  return SHOAL_ERR_OK;
}
/* }================================================================== */

#define T "wasi:http/types#"
static const struct { const char *name; shoal_chost_fn_t fn; } defs[] = {
  {T "[constructor]outgoing-request", request_new},
  {T "[method]outgoing-request.method", request_method},
  {T "[method]outgoing-request.set-method", request_set_method},
  {T "[method]outgoing-request.path-with-query", request_path},
  {T "[method]outgoing-request.set-path-with-query", request_set_path},
  {T "[method]outgoing-request.scheme", request_scheme},
  {T "[method]outgoing-request.set-scheme", request_set_scheme},
  {T "[method]outgoing-request.authority", request_authority},
  {T "[method]outgoing-request.set-authority", request_set_authority},
  {T "[resource-drop]outgoing-request", drop},
  {T "[constructor]request-options", options_new},
  {T "[method]request-options.connect-timeout", options_get},
  {T "[method]request-options.set-connect-timeout", options_set},
  {T "[method]request-options.first-byte-timeout", options_get},
  {T "[method]request-options.set-first-byte-timeout", options_set},
  {T "[method]request-options.between-bytes-timeout", options_get},
  {T "[method]request-options.set-between-bytes-timeout", options_set},
  {T "[resource-drop]request-options", drop},
  {T "[method]future-incoming-response.subscribe", future_subscribe},
  {T "[method]future-incoming-response.get", future_get},
  {T "[resource-drop]future-incoming-response", drop},
  {T "[method]incoming-response.status", response_status},
  {T "[method]incoming-response.headers", response_headers},
  {T "[method]incoming-response.consume", response_consume},
  {T "[resource-drop]incoming-response", drop},
  {"wasi:http/outgoing-handler#handle", outgoing_handle},
};

size_t host_outgoing_imports(shoal_cimport_t *out, size_t cap) {
  size_t k = 0;
  for (size_t i = 0; i < sizeof defs / sizeof *defs && k < cap; i++)
    out[k++] = (shoal_cimport_t){defs[i].name, defs[i].fn, NULL};
  return k;
}
