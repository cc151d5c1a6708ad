/*
** wasi:http/types for the server side: fields, incoming-request,
** incoming-body, future-trailers, outgoing-response, outgoing-body and
** response-outparam, as host imports of one request's fresh instance.
** Bodies are wasi:io streams of the WASI 0.2 host (shoal_wasi_ctx_add).
*/
#include "host_int.h"
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define HOSTFN(name) \
  static shoal_err_t name(shoal_ccall_t *c, void *env, const shoal_cval_t *a, size_t n, shoal_cval_t *r)
/* the request: of the worker whose store runs the guest (the imports are shared by every worker) */
#define RQ host_rq_t *rq = ((host_worker_t *)shoal_store_data(shoal_ccall_store(c)))->rq; \
  (void)env; (void)rq; (void)n; (void)a; (void)r
#define OOM shoal_ccall_trap(c, "out of host memory")
#define OBJ(o, i, k, what) \
  host_obj_t *o = n > (i) ? host_obj_get(rq, a[i].of.handle, k) : NULL; \
  if (!o) return shoal_ccall_trap(c, "%s: not a live " what " handle", __func__)

enum { HEADER_INVALID_SYNTAX, HEADER_FORBIDDEN, HEADER_IMMUTABLE };

/* {==================================================================
** The object table of a request
** =================================================================== */
uint32_t host_obj_new(host_rq_t *rq, host_kind_t kind) {
  if (!rq->cap) {
    rq->objs = rq->own_objs;
    rq->cap = HOST_RQ_OBJS;
  }
  if (rq->nobjs == rq->cap) {
    uint32_t cap = rq->cap * 2;
    bool own = rq->objs == rq->own_objs;
    host_obj_t *p = own ? malloc(cap * sizeof *p) : realloc(rq->objs, cap * sizeof *p);
    if (!p) return 0;
    if (own) memcpy(p, rq->own_objs, sizeof rq->own_objs);
    rq->objs = p;
    rq->cap = cap;
  }
  host_obj_t *o = &rq->objs[rq->nobjs++];
  memset(o, 0, sizeof *o);
  o->kind = kind;
  o->live = true;
  o->error_code = -1;
  return rq->nobjs;
}

host_obj_t *host_obj_get(host_rq_t *rq, uint32_t rep, host_kind_t kind) {
  if (rep == 0 || rep > rq->nobjs) return NULL;
  host_obj_t *o = &rq->objs[rep - 1];
  return o->live && o->kind == kind ? o : NULL;
}

static void buf_free(host_buf_t *b) {
  if (!b) return;
  free(b->p);
  free(b);
}

void host_rq_free(host_rq_t *rq) {
  for (uint32_t i = 0; i < rq->nobjs; i++) {
    host_obj_t *o = &rq->objs[i];
    host_fieldset_unref(o->fields);
    host_fieldset_unref(o->trailers);
    if (o->body != &rq->req_body) buf_free(o->body);
    free(o->method);
    free(o->path);
    free(o->authority);
    free(o->scheme);
  }
  if (rq->objs != rq->own_objs) free(rq->objs);
  rq->objs = NULL;
  rq->nobjs = rq->cap = 0;
}
/* }================================================================== */

/* {==================================================================
** Header lists
** =================================================================== */
host_fieldset_t *host_fieldset_new(void) {
  host_fieldset_t *f = calloc(1, sizeof *f);
  if (f) f->refs = 1;
  return f;
}

void host_fields_free(shoal_http_field_t *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(v[i].name);
    free(v[i].value);
  }
  free(v);
}

void host_fieldset_unref(host_fieldset_t *f) {
  if (!f || --f->refs > 0) return;
  host_fields_free(f->v, f->n);
  free(f);
}

bool host_fieldset_add(host_fieldset_t *f, const char *name, size_t nl, const char *val, size_t vl) {
  if (f->n == f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 8;
    shoal_http_field_t *p = realloc(f->v, cap * sizeof *p);
    if (!p) return false;
    f->v = p;
    f->cap = cap;
  }
  shoal_http_field_t *e = &f->v[f->n];
  e->name = malloc(nl + 1);
  e->value = malloc(vl + 1);
  if (!e->name || !e->value) {
    free(e->name);
    free(e->value);
    return false;
  }
  for (size_t i = 0; i < nl; i++) e->name[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
  e->name[nl] = 0;
  if (vl) memcpy(e->value, val, vl);
  e->value[vl] = 0;
  e->name_len = nl;
  e->value_len = vl;
  f->n++;
  return true;
}

static bool name_eq(const shoal_http_field_t *e, const char *name, size_t nl) {
  if (e->name_len != nl) return false;
  for (size_t i = 0; i < nl; i++) {
    char ch = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    if (e->name[i] != ch) return false;
  }
  return true;
}

static void fieldset_delete(host_fieldset_t *f, const char *name, size_t nl) {
  size_t k = 0;
  for (size_t i = 0; i < f->n; i++) {
    if (name_eq(&f->v[i], name, nl)) {
      free(f->v[i].name);
      free(f->v[i].value);
    } else {
      f->v[k++] = f->v[i];
    }
  }
  f->n = k;
}

/* RFC 9110 token characters */
static bool valid_name(const char *s, size_t n) {
  if (n == 0) return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) continue;
    if (!strchr("!#$%&'*+-.^_`|~", ch) || ch == 0) return false;
  }
  return true;
}

/* Hop-by-hop headers the host owns (as wasmtime forbids them). */
static bool forbidden(const char *s, size_t n) {
  static const char *const names[] = {"connection", "keep-alive", "proxy-connection", "transfer-encoding",
                                      "upgrade", "http2-settings"};
  shoal_http_field_t e = {.name = (char *)s, .name_len = n};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    size_t k = strlen(names[i]);
    shoal_http_field_t x = {.name = (char *)names[i], .name_len = k};
    if (name_eq(&x, e.name, e.name_len)) return true;
  }
  return false;
}

/* result<_, header-error> */
static shoal_err_t header_result(shoal_ccall_t *c, shoal_cval_t *r, int err) {
  r->kind = SHOAL_CT_RESULT;
  if (err < 0) return SHOAL_ERR_OK;
  shoal_cval_t *p = host_cv_case(r, SHOAL_CT_RESULT, 1);
  if (!p) return OOM;
  p->kind = SHOAL_CT_VARIANT;
  p->of.var.disc = (uint32_t)err;
  return SHOAL_ERR_OK;
}

static int check_entry(const shoal_cval_t *name, const shoal_cval_t *val) {
  if (!valid_name(name->of.str.ptr, name->of.str.len)) return HEADER_INVALID_SYNTAX;
  if (forbidden(name->of.str.ptr, name->of.str.len)) return HEADER_FORBIDDEN;
  for (size_t i = 0; val && i < val->of.list.n; i++) {
    uint64_t b = val->of.list.items[i].of.u;
    if (b == '\r' || b == '\n' || b == 0) return HEADER_INVALID_SYNTAX;
  }
  return -1;
}

static bool add_cval(host_fieldset_t *f, const shoal_cval_t *name, const shoal_cval_t *val) {
  size_t vl;
  char *v = host_cv_dup(val, &vl);
  if (!v) return false;
  bool ok = host_fieldset_add(f, name->of.str.ptr, name->of.str.len, v, vl);
  free(v);
  return ok;
}

/* A new fields handle viewing fs (shared, one more reference). */
static uint32_t fields_view(host_rq_t *rq, host_fieldset_t *fs, bool immutable) {
  uint32_t rep = host_obj_new(rq, HOST_FIELDS);
  if (!rep) return 0;
  host_obj_t *o = &rq->objs[rep - 1];
  o->fields = fs;
  o->immutable = immutable;
  fs->refs++;
  return rep;
}

/* A copy of fs in a new fields handle. */
static uint32_t fields_copy(host_rq_t *rq, const host_fieldset_t *fs, bool immutable) {
  host_fieldset_t *f = host_fieldset_new();
  if (!f) return 0;
  for (size_t i = 0; fs && i < fs->n; i++)
    if (!host_fieldset_add(f, fs->v[i].name, fs->v[i].name_len, fs->v[i].value, fs->v[i].value_len)) {
      host_fieldset_unref(f);
      return 0;
    }
  uint32_t rep = fields_view(rq, f, immutable);
  host_fieldset_unref(f);
  return rep;
}
/* }================================================================== */

/* {==================================================================
** fields
** =================================================================== */
HOSTFN(fields_new) {
  RQ;
  host_fieldset_t *f = host_fieldset_new();
  uint32_t rep = f ? fields_view(rq, f, false) : 0;
  host_fieldset_unref(f);
  if (!rep) return OOM;
  host_cv_own(r, rep);
  return SHOAL_ERR_OK;
}

HOSTFN(fields_from_list) {
  RQ;
  if (n < 1 || a[0].kind != SHOAL_CT_LIST) return shoal_ccall_trap(c, "fields.from-list: bad arguments");
  for (size_t i = 0; i < a[0].of.list.n; i++) {
    const shoal_cval_t *t = a[0].of.list.items[i].of.list.items;
    int err = check_entry(&t[0], &t[1]);
    if (err >= 0) return header_result(c, r, err);
  }
  host_fieldset_t *f = host_fieldset_new();
  if (!f) return OOM;
  for (size_t i = 0; i < a[0].of.list.n; i++) {
    const shoal_cval_t *t = a[0].of.list.items[i].of.list.items;
    if (!add_cval(f, &t[0], &t[1])) { host_fieldset_unref(f); return OOM; }
  }
  uint32_t rep = fields_view(rq, f, false);
  host_fieldset_unref(f);
  shoal_cval_t *p = rep ? host_cv_case(r, SHOAL_CT_RESULT, 0) : NULL;
  if (!p) return OOM;
  host_cv_own(p, rep);
  return SHOAL_ERR_OK;
}

HOSTFN(fields_get) {
  RQ;
  OBJ(o, 0, HOST_FIELDS, "fields");
  const char *name = a[1].of.str.ptr;
  size_t nl = a[1].of.str.len, k = 0, cnt = 0;
  for (size_t i = 0; i < o->fields->n; i++) cnt += name_eq(&o->fields->v[i], name, nl);
  r->kind = SHOAL_CT_LIST;
  r->of.list.items = calloc(cnt ? cnt : 1, sizeof *r->of.list.items);
  if (!r->of.list.items) return OOM;
  for (size_t i = 0; i < o->fields->n; i++) {
    const shoal_http_field_t *e = &o->fields->v[i];
    if (!name_eq(e, name, nl)) continue;
    r->of.list.n = k + 1;
    if (!host_cv_bytes(&r->of.list.items[k++], (const uint8_t *)e->value, e->value_len)) return OOM;
  }
  return SHOAL_ERR_OK;
}

HOSTFN(fields_has) {
  RQ;
  OBJ(o, 0, HOST_FIELDS, "fields");
  r->kind = SHOAL_CT_BOOL;
  r->of.b = false;
  for (size_t i = 0; i < o->fields->n; i++)
    if (name_eq(&o->fields->v[i], a[1].of.str.ptr, a[1].of.str.len)) r->of.b = true;
  return SHOAL_ERR_OK;
}

HOSTFN(fields_set) {
  RQ;
  OBJ(o, 0, HOST_FIELDS, "fields");
  if (o->immutable) return header_result(c, r, HEADER_IMMUTABLE);
  int err = check_entry(&a[1], NULL);
  for (size_t i = 0; err < 0 && i < a[2].of.list.n; i++) err = check_entry(&a[1], &a[2].of.list.items[i]);
  if (err >= 0) return header_result(c, r, err);
  fieldset_delete(o->fields, a[1].of.str.ptr, a[1].of.str.len);
  for (size_t i = 0; i < a[2].of.list.n; i++)
    if (!add_cval(o->fields, &a[1], &a[2].of.list.items[i])) return OOM;
  return header_result(c, r, -1);
}

HOSTFN(fields_delete) {
  RQ;
  OBJ(o, 0, HOST_FIELDS, "fields");
  if (o->immutable) return header_result(c, r, HEADER_IMMUTABLE);
  int err = check_entry(&a[1], NULL);
  if (err >= 0) return header_result(c, r, err);
  fieldset_delete(o->fields, a[1].of.str.ptr, a[1].of.str.len);
  return header_result(c, r, -1);
}

HOSTFN(fields_append) {
  RQ;
  OBJ(o, 0, HOST_FIELDS, "fields");
  if (o->immutable) return header_result(c, r, HEADER_IMMUTABLE);
  int err = check_entry(&a[1], &a[2]);
  if (err >= 0) return header_result(c, r, err);
  if (!add_cval(o->fields, &a[1], &a[2])) return OOM;
  return header_result(c, r, -1);
}

HOSTFN(fields_entries) {
  RQ;
  OBJ(o, 0, HOST_FIELDS, "fields");
  r->kind = SHOAL_CT_LIST;
  r->of.list.items = calloc(o->fields->n ? o->fields->n : 1, sizeof *r->of.list.items);
  if (!r->of.list.items) return OOM;
  for (size_t i = 0; i < o->fields->n; i++) {
    const shoal_http_field_t *e = &o->fields->v[i];
    shoal_cval_t *t = &r->of.list.items[i];
    r->of.list.n = i + 1;
    t->kind = SHOAL_CT_TUPLE;
    t->of.list.items = calloc(2, sizeof *t->of.list.items);
    if (!t->of.list.items) return OOM;
    t->of.list.n = 2;
    if (!host_cv_string(&t->of.list.items[0], e->name, e->name_len) ||
        !host_cv_bytes(&t->of.list.items[1], (const uint8_t *)e->value, e->value_len))
      return OOM;
  }
  return SHOAL_ERR_OK;
}

HOSTFN(fields_clone) {
  RQ;
  OBJ(o, 0, HOST_FIELDS, "fields");
  uint32_t rep = fields_copy(rq, o->fields, false);
  if (!rep) return OOM;
  host_cv_own(r, rep);
  return SHOAL_ERR_OK;
}

/* [resource-drop] of any of our resources: the object stays until the
** request ends (children may still view its fields or body). */
HOSTFN(drop) {
  RQ;
  (void)c;
  uint32_t rep = n ? a[0].of.handle : 0;
  if (rep && rep <= rq->nobjs) rq->objs[rep - 1].live = false;
  return SHOAL_ERR_OK;
}
/* }================================================================== */

/* {==================================================================
** incoming-request, incoming-body, future-trailers
** =================================================================== */
HOSTFN(request_method) {
  RQ;
  OBJ(o, 0, HOST_INCOMING_REQUEST, "incoming-request");
  static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  const char *m = rq->req->method;
  r->kind = SHOAL_CT_VARIANT;
  for (uint32_t i = 0; i < 9; i++)
    if (strcmp(m, methods[i]) == 0) {
      r->of.var.disc = i;
      return SHOAL_ERR_OK;
    }
  shoal_cval_t *p = host_cv_case(r, SHOAL_CT_VARIANT, 9);
  if (!p || !host_cv_string(p, m, strlen(m))) return OOM;
  return SHOAL_ERR_OK;
}

static shoal_err_t opt_string(shoal_ccall_t *c, shoal_cval_t *r, const char *s) {
  r->kind = SHOAL_CT_OPTION;
  if (!s) return SHOAL_ERR_OK;
  shoal_cval_t *p = host_cv_case(r, SHOAL_CT_OPTION, 1);
  if (!p || !host_cv_string(p, s, strlen(s))) return OOM;
  return SHOAL_ERR_OK;
}

HOSTFN(request_path) {
  RQ;
  OBJ(o, 0, HOST_INCOMING_REQUEST, "incoming-request");
  return opt_string(c, r, rq->req->path_with_query);
}

HOSTFN(request_authority) {
  RQ;
  OBJ(o, 0, HOST_INCOMING_REQUEST, "incoming-request");
  return opt_string(c, r, rq->req->authority);
}

HOSTFN(request_scheme) {
  RQ;
  OBJ(o, 0, HOST_INCOMING_REQUEST, "incoming-request");
  shoal_cval_t *p = host_cv_case(r, SHOAL_CT_OPTION, 1);
  if (!p) return OOM;
  p->kind = SHOAL_CT_VARIANT;
  p->of.var.disc = 0;  /* HTTP */
  return SHOAL_ERR_OK;
}

HOSTFN(request_headers) {
  RQ;
  OBJ(o, 0, HOST_INCOMING_REQUEST, "incoming-request");
  uint32_t rep = fields_view(rq, o->fields, true);
  if (!rep) return OOM;
  host_cv_own(r, rep);
  return SHOAL_ERR_OK;
}

/* consume (incoming-request and incoming-response): result<own<incoming-body>> once */
static shoal_err_t consume(shoal_ccall_t *c, host_rq_t *rq, uint32_t msg_rep, shoal_cval_t *r) {
  host_obj_t *o = &rq->objs[msg_rep - 1];
  r->kind = SHOAL_CT_RESULT;
  if (o->taken) {
    r->of.var.disc = 1;
    return SHOAL_ERR_OK;
  }
  host_buf_t *body = o->body;
  uint32_t rep = host_obj_new(rq, HOST_INCOMING_BODY);
  if (!rep) return OOM;
  rq->objs[msg_rep - 1].taken = true;
  rq->objs[msg_rep - 1].body = NULL;  /* the body object owns it now */
  rq->objs[rep - 1].body = body;
  shoal_cval_t *p = host_cv_case(r, SHOAL_CT_RESULT, 0);
  if (!p) return OOM;
  host_cv_own(p, rep);
  return SHOAL_ERR_OK;
}

HOSTFN(request_consume) {
  RQ;
  OBJ(o, 0, HOST_INCOMING_REQUEST, "incoming-request");
  return consume(c, rq, a[0].of.handle, r);
}

static int64_t in_read(void *self, uint8_t *buf, size_t len, int *err) {
  (void)err;
  host_buf_t *b = self;
  if (b->pos >= b->n) return SHOAL_WASI_CLOSED;
  size_t k = b->n - b->pos < len ? b->n - b->pos : len;
  memcpy(buf, b->p + b->pos, k);
  b->pos += k;
  return (int64_t)k;
}
static void no_close(void *self) { (void)self; }
static const shoal_wasi_ops_t in_ops = {.read = in_read, .close = no_close};

/* The request body while it arrives (a streamed request). */
static int64_t pipe_in_read(void *self, uint8_t *buf, size_t len, int *err) {
  (void)err;
  return host_pipe_read(self, buf, len, false);
}
static bool pipe_in_ready(void *self) { return host_pipe_ready(self, false); }
static void pipe_wait(void *self, int *fd, short *events, uint64_t *deadline_ns) {
  (void)deadline_ns;
  *fd = host_pipe_fd(self);
  *events = POLLIN;
}
static const shoal_wasi_ops_t pipe_in_ops = {.read = pipe_in_read, .ready = pipe_in_ready, .wait = pipe_wait,
                                             .close = no_close};

uint32_t host_input_stream(host_rq_t *rq, host_buf_t *buf) {
  if (buf->pipe) return shoal_wasi_ctx_add(rq->wasi, SHOAL_WASI_INPUT_STREAM, &pipe_in_ops, buf->pipe);
  return shoal_wasi_ctx_add(rq->wasi, SHOAL_WASI_INPUT_STREAM, &in_ops, buf);
}

HOSTFN(body_stream) {
  RQ;
  OBJ(o, 0, HOST_INCOMING_BODY, "incoming-body");
  r->kind = SHOAL_CT_RESULT;
  if (o->stream_rep) {
    r->of.var.disc = 1;
    return SHOAL_ERR_OK;
  }
  static host_buf_t empty;
  uint32_t s = host_input_stream(rq, o->body ? o->body : &empty);
  if (!s) return OOM;
  o->stream_rep = s;
  shoal_cval_t *p = host_cv_case(r, SHOAL_CT_RESULT, 0);
  if (!p) return OOM;
  host_cv_own(p, s);
  return SHOAL_ERR_OK;
}

HOSTFN(body_finish) {
  RQ;
  OBJ(o, 0, HOST_INCOMING_BODY, "incoming-body");
  o->live = false;
  uint32_t rep = host_obj_new(rq, HOST_FUTURE_TRAILERS);
  if (!rep) return OOM;
  host_cv_own(r, rep);
  return SHOAL_ERR_OK;
}

static const shoal_wasi_ops_t ready_ops = {.close = no_close};

/* A pollable that is ready at once (the bodies are in memory). */
HOSTFN(ready_pollable) {
  RQ;
  uint32_t rep = shoal_wasi_ctx_add(rq->wasi, SHOAL_WASI_POLLABLE, &ready_ops, NULL);
  if (!rep) return OOM;
  host_cv_own(r, rep);
  return SHOAL_ERR_OK;
}

/* option<result<result<option<trailers>, error-code>>>: some(ok(ok(none))), then some(err) */
HOSTFN(trailers_get) {
  RQ;
  OBJ(o, 0, HOST_FUTURE_TRAILERS, "future-trailers");
  shoal_cval_t *res = host_cv_case(r, SHOAL_CT_OPTION, 1);
  if (!res) return OOM;
  if (o->taken) {
    res->kind = SHOAL_CT_RESULT;
    res->of.var.disc = 1;
    return SHOAL_ERR_OK;
  }
  o->taken = true;
  shoal_cval_t *inner = host_cv_case(res, SHOAL_CT_RESULT, 0);
  shoal_cval_t *opt = inner ? host_cv_case(inner, SHOAL_CT_RESULT, 0) : NULL;
  if (!opt) return OOM;
  opt->kind = SHOAL_CT_OPTION;
  return SHOAL_ERR_OK;
}
/* }================================================================== */

/* {==================================================================
** outgoing-response, outgoing-body, response-outparam
** =================================================================== */
HOSTFN(response_new) {
  RQ;
  OBJ(f, 0, HOST_FIELDS, "fields");
  host_fieldset_t *fs = f->fields;
  fs->refs++;
  f->live = false;  /* the own handle moved into the response */
  uint32_t rep = host_obj_new(rq, HOST_OUTGOING_RESPONSE);
  if (!rep) { host_fieldset_unref(fs); return OOM; }
  rq->objs[rep - 1].fields = fs;
  rq->objs[rep - 1].status = 200;
  host_cv_own(r, rep);
  return SHOAL_ERR_OK;
}

HOSTFN(response_status) {
  RQ;
  OBJ(o, 0, HOST_OUTGOING_RESPONSE, "outgoing-response");
  r->kind = SHOAL_CT_U16;
  r->of.u = (uint64_t)o->status;
  return SHOAL_ERR_OK;
}

HOSTFN(response_set_status) {
  RQ;
  OBJ(o, 0, HOST_OUTGOING_RESPONSE, "outgoing-response");
  r->kind = SHOAL_CT_RESULT;
  uint64_t s = a[1].of.u;
  if (s < 100 || s > 999) r->of.var.disc = 1;
  else o->status = (int)s;
  return SHOAL_ERR_OK;
}

HOSTFN(message_headers) {
  RQ;
  if (n < 1 || a[0].of.handle == 0 || a[0].of.handle > rq->nobjs || !rq->objs[a[0].of.handle - 1].live)
    return shoal_ccall_trap(c, "headers: not a live handle");
  uint32_t rep = fields_view(rq, rq->objs[a[0].of.handle - 1].fields, false);
  if (!rep) return OOM;
  host_cv_own(r, rep);
  return SHOAL_ERR_OK;
}

/* body (outgoing-response and outgoing-request): result<own<outgoing-body>> once */
HOSTFN(message_body) {
  RQ;
  uint32_t msg = n ? a[0].of.handle : 0;
  if (!msg || msg > rq->nobjs || !rq->objs[msg - 1].live) return shoal_ccall_trap(c, "body: not a live handle");
  r->kind = SHOAL_CT_RESULT;
  if (rq->objs[msg - 1].body_rep) {
    r->of.var.disc = 1;
    return SHOAL_ERR_OK;
  }
  host_buf_t *b = calloc(1, sizeof *b);
  uint32_t rep = b ? host_obj_new(rq, HOST_OUTGOING_BODY) : 0;
  if (!rep) { free(b); return OOM; }
  if (rq->x && rq->response_rep == msg) b->pipe = &rq->x->out;  /* the response already sent: stream */
  rq->objs[rep - 1].body = b;
  rq->objs[msg - 1].body_rep = rep;
  shoal_cval_t *p = host_cv_case(r, SHOAL_CT_RESULT, 0);
  if (!p) return OOM;
  host_cv_own(p, rep);
  return SHOAL_ERR_OK;
}

static int64_t out_check(void *self, int *err) {
  (void)err;
  host_buf_t *b = self;
  return b->pipe ? host_pipe_space(b->pipe) : 1 << 20;
}
static bool out_ready(void *self) {
  host_buf_t *b = self;
  return !b->pipe || host_pipe_ready(b->pipe, true);
}
static void out_wait(void *self, int *fd, short *events, uint64_t *deadline_ns) {
  host_buf_t *b = self;
  if (b->pipe) pipe_wait(b->pipe, fd, events, deadline_ns);
}
static int64_t out_write(void *self, const uint8_t *buf, size_t len, int *err) {
  host_buf_t *b = self;
  if (b->pipe) {
    int64_t k = host_pipe_write(b->pipe, buf, len);
    return k < 0 ? k : 0;  /* len <= check_write, so all of it */
  }
  if (b->n + len > b->cap) {
    size_t cap = b->cap ? b->cap : 512;  /* small first: within malloc's per-thread cache */
    while (cap < b->n + len) cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) { *err = 12; return SHOAL_WASI_FAILED; }  /* ENOMEM */
    b->p = p;
    b->cap = cap;
  }
  if (len) memcpy(b->p + b->n, buf, len);
  b->n += len;
  return 0;
}
static const shoal_wasi_ops_t out_ops = {.check_write = out_check, .write = out_write, .ready = out_ready,
                                         .wait = out_wait, .close = no_close};

HOSTFN(outbody_write) {
  RQ;
  OBJ(o, 0, HOST_OUTGOING_BODY, "outgoing-body");
  r->kind = SHOAL_CT_RESULT;
  if (o->stream_rep) {
    r->of.var.disc = 1;
    return SHOAL_ERR_OK;
  }
  uint32_t s = shoal_wasi_ctx_add(rq->wasi, SHOAL_WASI_OUTPUT_STREAM, &out_ops, o->body);
  if (!s) return OOM;
  o->stream_rep = s;
  shoal_cval_t *p = host_cv_case(r, SHOAL_CT_RESULT, 0);
  if (!p) return OOM;
  host_cv_own(p, s);
  return SHOAL_ERR_OK;
}

/* [static]outgoing-body.finish(this, option<trailers>) -> result<_, error-code> */
HOSTFN(outbody_finish) {
  RQ;
  OBJ(o, 0, HOST_OUTGOING_BODY, "outgoing-body");
  o->finished = true;
  o->live = false;
  if (n > 1 && a[1].kind == SHOAL_CT_OPTION && a[1].of.var.disc == 1 && a[1].of.var.payload) {
    host_obj_t *t = host_obj_get(rq, a[1].of.var.payload->of.handle, HOST_FIELDS);
    if (!t) return shoal_ccall_trap(c, "outgoing-body.finish: trailers are not a live fields handle");
    o->trailers = t->fields;
    o->trailers->refs++;
    t->live = false;
  }
  if (o->body && o->body->pipe) {  /* the streamed response: trailers first, then the end */
    host_exchange_t *x = rq->x;
    pthread_mutex_lock(&x->lock);
    bool ok = !o->trailers || host_fields_copy(o->trailers, &x->trailers, &x->ntrailers);
    x->finished = true;
    pthread_cond_broadcast(&x->cond);
    pthread_mutex_unlock(&x->lock);
    host_pipe_close(o->body->pipe);
    if (x->wake) x->wake(x);
    if (!ok) return OOM;
  }
  r->kind = SHOAL_CT_RESULT;
  return SHOAL_ERR_OK;
}

/* A streamed response: status and headers go to the connection now, the
** bytes written so far into the pipe, and the body streams from here on. */
static shoal_err_t send_head(shoal_ccall_t *c, host_rq_t *rq, host_obj_t *resp) {
  host_exchange_t *x = rq->x;
  pthread_mutex_lock(&x->lock);
  x->status = resp->status;
  bool ok = host_fields_copy(resp->fields, &x->headers, &x->nheaders);
  x->responded = true;
  pthread_cond_broadcast(&x->cond);
  pthread_mutex_unlock(&x->lock);
  if (x->wake) x->wake(x);
  if (!ok) return OOM;
  if (resp->body_rep) {
    host_buf_t *b = rq->objs[resp->body_rep - 1].body;
    if (b && !b->pipe) {
      b->pipe = &x->out;
      host_pipe_write_all(&x->out, b->p, b->n);  /* false: the client is gone; writes will say so */
      b->n = 0;
      if (rq->objs[resp->body_rep - 1].finished) {  /* finished before set */
        host_obj_t *o = &rq->objs[resp->body_rep - 1];
        pthread_mutex_lock(&x->lock);
        ok = !o->trailers || host_fields_copy(o->trailers, &x->trailers, &x->ntrailers);
        x->finished = true;
        pthread_cond_broadcast(&x->cond);
        pthread_mutex_unlock(&x->lock);
        host_pipe_close(&x->out);
        if (x->wake) x->wake(x);
        if (!ok) return OOM;
      }
    }
  }
  return SHOAL_ERR_OK;
}

/* [static]response-outparam.set(param, result<outgoing-response, error-code>) */
HOSTFN(outparam_set) {
  RQ;
  OBJ(o, 0, HOST_RESPONSE_OUTPARAM, "response-outparam");
  if (rq->responded) return shoal_ccall_trap(c, "response-outparam.set: a response was already set");
  o->live = false;
  rq->responded = true;
  if (n < 2 || a[1].kind != SHOAL_CT_RESULT) return shoal_ccall_trap(c, "response-outparam.set: bad arguments");
  if (a[1].of.var.disc == 0) {
    host_obj_t *resp = a[1].of.var.payload ? host_obj_get(rq, a[1].of.var.payload->of.handle, HOST_OUTGOING_RESPONSE) : NULL;
    if (!resp) return shoal_ccall_trap(c, "response-outparam.set: not a live outgoing-response");
    rq->response_rep = a[1].of.var.payload->of.handle;
    if (rq->x) return send_head(c, rq, resp);
  } else {
    rq->error_status = 500;
  }
  return SHOAL_ERR_OK;
}

HOSTFN(send_informational) {
  RQ;
  (void)c;
  /* result<_, error-code>: err(HTTP-protocol-error), as wasmtime answers */
  shoal_cval_t *p = host_cv_case(r, SHOAL_CT_RESULT, 1);
  if (!p) return OOM;
  p->kind = SHOAL_CT_VARIANT;
  p->of.var.disc = 35;
  return SHOAL_ERR_OK;
}

/* http-error-code(borrow<io-error>) -> option<error-code>: none */
HOSTFN(http_error_code) {
  RQ;
  (void)c;
  r->kind = SHOAL_CT_OPTION;
  return SHOAL_ERR_OK;
}
/* }================================================================== */

typedef struct fn_def {
  const char *name;
  shoal_chost_fn_t fn;
} fn_def_t;

#define T "wasi:http/types#"
static const fn_def_t defs[] = {
  {T "[constructor]fields", fields_new},
  {T "[static]fields.from-list", fields_from_list},
  {T "[method]fields.get", fields_get},
  {T "[method]fields.has", fields_has},
  {T "[method]fields.set", fields_set},
  {T "[method]fields.delete", fields_delete},
  {T "[method]fields.append", fields_append},
  {T "[method]fields.entries", fields_entries},
  {T "[method]fields.clone", fields_clone},
  {T "[resource-drop]fields", drop},
  {T "[method]incoming-request.method", request_method},
  {T "[method]incoming-request.path-with-query", request_path},
  {T "[method]incoming-request.scheme", request_scheme},
  {T "[method]incoming-request.authority", request_authority},
  {T "[method]incoming-request.headers", request_headers},
  {T "[method]incoming-request.consume", request_consume},
  {T "[resource-drop]incoming-request", drop},
  {T "[method]incoming-body.stream", body_stream},
  {T "[static]incoming-body.finish", body_finish},
  {T "[resource-drop]incoming-body", drop},
  {T "[method]future-trailers.subscribe", ready_pollable},
  {T "[method]future-trailers.get", trailers_get},
  {T "[resource-drop]future-trailers", drop},
  {T "[constructor]outgoing-response", response_new},
  {T "[method]outgoing-response.status-code", response_status},
  {T "[method]outgoing-response.set-status-code", response_set_status},
  {T "[method]outgoing-response.headers", message_headers},
  {T "[method]outgoing-response.body", message_body},
  {T "[resource-drop]outgoing-response", drop},
  {T "[method]outgoing-body.write", outbody_write},
  {T "[static]outgoing-body.finish", outbody_finish},
  {T "[resource-drop]outgoing-body", drop},
  {T "[method]response-outparam.send-informational", send_informational},
  {T "[static]response-outparam.set", outparam_set},
  {T "[resource-drop]response-outparam", drop},
  {T "http-error-code", http_error_code},
  {T "[method]outgoing-request.headers", message_headers},
  {T "[method]outgoing-request.body", message_body},
};

size_t host_http_imports(shoal_cimport_t *out, size_t cap) {
  size_t k = 0;
  for (size_t i = 0; i < sizeof defs / sizeof *defs && k < cap; i++)
    out[k++] = (shoal_cimport_t){defs[i].name, defs[i].fn, NULL};
  return k;
}
