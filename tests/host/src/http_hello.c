/* A wasi:http/proxy handler written against the canonical ABI by hand (no
** wit-bindgen, no libc): the test and benchmark input of `shoal serve`. */
#include <stddef.h>
#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(name)))
#define IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))
#define HTTP "wasi:http/types@0.2.12"
#define IO "wasi:io/streams@0.2.12"
#define POLL "wasi:io/poll@0.2.12"
#define CLOCK "wasi:clocks/monotonic-clock@0.2.12"
#define OUT "wasi:http/outgoing-handler@0.2.12"

typedef int32_t handle_t;

void *memcpy(void *d, const void *s, size_t n) {
  unsigned char *dp = d; const unsigned char *sp = s;
  while (n--) *dp++ = *sp++;
  return d;
}
void *memset(void *d, int c, size_t n) {
  unsigned char *dp = d;
  while (n--) *dp++ = (unsigned char)c;
  return d;
}

/* Bump allocator: an instance serves one request, so nothing is freed. */
extern unsigned char __heap_base;
static uintptr_t heap_top;

EXPORT("cabi_realloc")
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
  if (!heap_top) heap_top = (uintptr_t)&__heap_base;
  uintptr_t p = (heap_top + align - 1) & ~(uintptr_t)(align - 1);
  uintptr_t end = p + new_size;
  size_t have = __builtin_wasm_memory_size(0) * 65536u;
  if (end > have) {
    size_t pages = (end - have + 65535u) / 65536u;
    if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) __builtin_trap();
  }
  heap_top = end;
  if (old) memcpy((void *)p, old, old_size < new_size ? old_size : new_size);
  return (void *)p;
}

/* {================================================================
** Imports (flat canonical ABI signatures of wasi:http 0.2.12)
** ================================================================= */
IMPORT(HTTP, "[constructor]fields") handle_t fields_new(void);
IMPORT(HTTP, "[method]fields.append") void fields_append(handle_t, const char *, size_t, const void *, size_t, void *ret);
IMPORT(HTTP, "[method]fields.entries") void fields_entries(handle_t, void *ret);
IMPORT(HTTP, "[resource-drop]fields") void fields_drop(handle_t);
IMPORT(HTTP, "[method]incoming-request.method") void req_method(handle_t, void *ret);
IMPORT(HTTP, "[method]incoming-request.path-with-query") void req_path(handle_t, void *ret);
IMPORT(HTTP, "[method]incoming-request.headers") handle_t req_headers(handle_t);
IMPORT(HTTP, "[method]incoming-request.consume") void req_consume(handle_t, void *ret);
IMPORT(HTTP, "[resource-drop]incoming-request") void req_drop(handle_t);
IMPORT(HTTP, "[method]incoming-body.stream") void ibody_stream(handle_t, void *ret);
IMPORT(HTTP, "[resource-drop]incoming-body") void ibody_drop(handle_t);
IMPORT(HTTP, "[constructor]outgoing-response") handle_t resp_new(handle_t headers);
IMPORT(HTTP, "[method]outgoing-response.set-status-code") int32_t resp_set_status(handle_t, int32_t);
IMPORT(HTTP, "[method]outgoing-response.body") void resp_body(handle_t, void *ret);
IMPORT(HTTP, "[method]outgoing-body.write") void obody_write(handle_t, void *ret);
IMPORT(HTTP, "[static]outgoing-body.finish") void obody_finish(handle_t, int32_t has_trailers, handle_t trailers, void *ret);
IMPORT(HTTP, "[static]response-outparam.set")
void outparam_set(handle_t, int32_t is_err, int32_t resp_or_code, int32_t, int64_t, int32_t, int32_t, int32_t, int32_t);
IMPORT(HTTP, "[constructor]outgoing-request") handle_t oreq_new(handle_t headers);
IMPORT(HTTP, "[method]outgoing-request.set-authority") int32_t oreq_set_authority(handle_t, int32_t some, const char *, size_t);
IMPORT(HTTP, "[method]outgoing-request.set-path-with-query") int32_t oreq_set_path(handle_t, int32_t some, const char *, size_t);
IMPORT(HTTP, "[method]outgoing-request.set-scheme") int32_t oreq_set_scheme(handle_t, int32_t some, int32_t scheme, const char *, size_t);
IMPORT(HTTP, "[method]future-incoming-response.subscribe") handle_t future_subscribe(handle_t);
IMPORT(HTTP, "[method]future-incoming-response.get") void future_get(handle_t, void *ret);
IMPORT(HTTP, "[method]incoming-response.status") int32_t iresp_status(handle_t);
IMPORT(HTTP, "[method]incoming-response.consume") void iresp_consume(handle_t, void *ret);
IMPORT(OUT, "handle") void outgoing_handle(handle_t req, int32_t has_opts, handle_t opts, void *ret);
IMPORT(IO, "[method]input-stream.blocking-read") void in_read(handle_t, int64_t len, void *ret);
IMPORT(IO, "[resource-drop]input-stream") void in_drop(handle_t);
IMPORT(IO, "[method]output-stream.blocking-write-and-flush") void out_write(handle_t, const void *, size_t, void *ret);
IMPORT(IO, "[resource-drop]output-stream") void out_drop(handle_t);
IMPORT(POLL, "[method]pollable.block") void pollable_block(handle_t);
IMPORT(POLL, "[resource-drop]pollable") void pollable_drop(handle_t);
IMPORT(CLOCK, "subscribe-duration") handle_t clock_subscribe(int64_t ns);
/* }================================================================ */

/* Results of more than one flat value land here (8-aligned, big enough for
** error-code and future-incoming-response.get). */
static union { uint8_t b[64]; uint32_t w[16]; uint64_t d[8]; } ret;

static size_t slen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }
static int prefix(const char *s, size_t n, const char *p) {
  size_t k = slen(p);
  if (n < k) return 0;
  for (size_t i = 0; i < k; i++) if (s[i] != p[i]) return 0;
  return 1;
}
static int equal(const char *s, size_t n, const char *p) { return n == slen(p) && prefix(s, n, p); }

/* The value of ?name=... or &name=... in a query, or 0. */
static const char *query(const char *s, size_t n, const char *name, size_t *len) {
  size_t k = slen(name);
  for (size_t i = 0; i + k < n; i++)
    if ((s[i] == '?' || s[i] == '&') && prefix(s + i + 1, n - i - 1, name) && s[i + 1 + k] == '=') {
      size_t a = i + 2 + k, b = a;
      while (b < n && s[b] != '&') b++;
      *len = b - a;
      return s + a;
    }
  return 0;
}
static uint64_t number(const char *s, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++) v = v * 10 + (uint64_t)(s[i] - '0');
  return v;
}

static void append(handle_t f, const char *name, const char *val, size_t n) {
  fields_append(f, name, slen(name), val, n, &ret);
}

/* Sends status + headers; returns the body's output stream (or -1) in *out
** and the outgoing-body handle. */
static handle_t respond(handle_t outparam, int status, handle_t headers, handle_t *stream) {
  handle_t resp = resp_new(headers);
  if (status != 200) resp_set_status(resp, status);
  resp_body(resp, &ret);
  if (ret.b[0]) __builtin_trap();
  handle_t body = (handle_t)ret.w[1];
  obody_write(body, &ret);
  if (ret.b[0]) __builtin_trap();
  *stream = (handle_t)ret.w[1];
  outparam_set(outparam, 0, resp, 0, 0, 0, 0, 0, 0);
  return body;
}

static void write_all(handle_t stream, const void *p, size_t n) {
  /* blocking-write-and-flush takes at most 4096 bytes at a time */
  const uint8_t *b = p;
  while (n) {
    size_t k = n > 4096 ? 4096 : n;
    out_write(stream, b, k, &ret);
    if (ret.b[0]) __builtin_trap();
    b += k;
    n -= k;
  }
}

static void finish(handle_t body, handle_t stream, handle_t trailers) {
  out_drop(stream);
  /* an error here (jco's host refuses trailers) leaves nothing to do */
  obody_finish(body, trailers >= 0, trailers >= 0 ? trailers : 0, &ret);
}

static void text(handle_t outparam, int status, const char *msg) {
  handle_t h = fields_new();
  append(h, "content-type", "text/plain", 10);
  handle_t stream, body = respond(outparam, status, h, &stream);
  write_all(stream, msg, slen(msg));
  finish(body, stream, -1);
}

/* Streams the request body back, chunk by chunk. */
/* The request body back, after sleeping ms (a guest that has to wait
** before it reads: shoal serve moves it off the polling thread). */
static void echo(handle_t req, handle_t outparam, int64_t ms) {
  if (ms) {
    handle_t p = clock_subscribe(ms * 1000000);
    pollable_block(p);
    pollable_drop(p);
  }
  req_consume(req, &ret);
  if (ret.b[0]) __builtin_trap();
  handle_t ib = (handle_t)ret.w[1];
  ibody_stream(ib, &ret);
  if (ret.b[0]) __builtin_trap();
  handle_t in = (handle_t)ret.w[1];
  handle_t h = fields_new();
  append(h, "content-type", "application/octet-stream", 24);
  handle_t stream, body = respond(outparam, 200, h, &stream);
  uint64_t total = 0;
  for (;;) {
    in_read(in, 65536, &ret);
    if (ret.b[0]) break;  /* closed (or failed): the end */
    const uint8_t *p = (const uint8_t *)(uintptr_t)ret.w[1];
    size_t n = ret.w[2];
    write_all(stream, p, n);
    total += n;
    heap_top = (uintptr_t)p;  /* the chunk is written: reuse its memory */
  }
  in_drop(in);
  ibody_drop(ib);
  /* the byte count as a trailer */
  char num[24]; int k = 23; num[k] = 0;
  do { num[--k] = (char)('0' + total % 10); total /= 10; } while (total);
  handle_t t = fields_new();
  append(t, "x-body-length", num + k, (size_t)(23 - k));
  finish(body, stream, t);
}

/* Every x-* request header comes back as a response header. */
static void headers(handle_t req, handle_t outparam) {
  handle_t in = req_headers(req);
  fields_entries(in, &ret);
  const uint32_t *e = (const uint32_t *)(uintptr_t)ret.w[0];
  size_t n = ret.w[1];
  handle_t h = fields_new();
  for (size_t i = 0; i < n; i++, e += 4) {
    const char *name = (const char *)(uintptr_t)e[0];
    if (e[1] > 2 && name[0] == 'x' && name[1] == '-') {
      fields_append(h, name, e[1], (const void *)(uintptr_t)e[2], e[3], &ret);
      if (ret.b[0]) __builtin_trap();
    }
  }
  fields_drop(in);
  handle_t stream, body = respond(outparam, 200, h, &stream);
  write_all(stream, "headers\n", 8);
  finish(body, stream, -1);
}

/* GET http://127.0.0.1:PORT/PATH through wasi:http/outgoing-handler; the
** upstream's status and body are passed on, an error-code becomes 502. */
static void fetch(handle_t outparam, const char *auth, size_t alen, const char *path, size_t plen) {
  handle_t req = oreq_new(fields_new());
  oreq_set_scheme(req, 1, 0, 0, 0);
  oreq_set_authority(req, 1, auth, alen);
  oreq_set_path(req, 1, path, plen);
  outgoing_handle(req, 0, 0, &ret);
  if (ret.b[0]) {
    char msg[] = "refused: error-code 00\n";
    msg[20] = (char)('0' + ret.b[8] / 10);
    msg[21] = (char)('0' + ret.b[8] % 10);
    text(outparam, 502, msg);
    return;
  }
  handle_t fut = (handle_t)ret.w[2];  /* the payload is 8-aligned (error-code has a u64) */
  handle_t p = future_subscribe(fut);
  pollable_block(p);
  pollable_drop(p);
  future_get(fut, &ret);
  /* option<result<result<incoming-response, error-code>>>: some, ok, ok */
  if (!ret.b[0] || ret.b[8] || ret.b[16]) {
    text(outparam, 502, "upstream failed\n");
    return;
  }
  handle_t resp = (handle_t)ret.w[6];
  int status = iresp_status(resp);
  iresp_consume(resp, &ret);
  if (ret.b[0]) __builtin_trap();
  ibody_stream((handle_t)ret.w[1], &ret);
  if (ret.b[0]) __builtin_trap();
  handle_t in = (handle_t)ret.w[1];
  handle_t stream, body = respond(outparam, status, fields_new(), &stream);
  for (;;) {
    in_read(in, 65536, &ret);
    if (ret.b[0]) break;
    write_all(stream, (const void *)(uintptr_t)ret.w[1], ret.w[2]);
  }
  finish(body, stream, -1);
}

static volatile int spin = 1;
static int counter;

EXPORT("wasi:http/incoming-handler@0.2.12#handle")
void handle(handle_t req, handle_t outparam) {
  req_path(req, &ret);
  const char *path = ret.b[0] ? (const char *)(uintptr_t)ret.w[1] : "/";
  size_t plen = ret.b[0] ? ret.w[2] : 1, rlen = 0;
  while (rlen < plen && path[rlen] != '?') rlen++;
  size_t vlen;
  const char *v;
  if (equal(path, rlen, "/")) {
    text(outparam, 200, "hello from C\n");
  } else if (equal(path, rlen, "/echo")) {
    v = query(path, plen, "ms", &vlen);
    echo(req, outparam, v ? (int64_t)number(v, vlen) : 0);
  } else if (equal(path, rlen, "/headers")) {
    headers(req, outparam);
  } else if (equal(path, rlen, "/method")) {
    req_method(req, &ret);
    static const char *names[] = {"GET\n", "HEAD\n", "POST\n", "PUT\n", "DELETE\n", "CONNECT\n", "OPTIONS\n", "TRACE\n", "PATCH\n"};
    text(outparam, 200, ret.b[0] < 9 ? names[ret.b[0]] : "other\n");
  } else if (equal(path, rlen, "/peek")) {
    /* 64 bytes of the heap past this request's own path string, before
    ** anything else is allocated, in hex: zeros in a fresh instance,
    ** whatever a request before wrote there (a body it echoed) */
    static const char digits[] = "0123456789abcdef";
    const unsigned char *h = &__heap_base + 64;
    char hex[130];
    for (int i = 0; i < 64; i++) {
      hex[2 * i] = digits[h[i] >> 4];
      hex[2 * i + 1] = digits[h[i] & 15];
    }
    hex[128] = '\n';
    hex[129] = 0;
    text(outparam, 200, hex);
  } else if (equal(path, rlen, "/count")) {
    /* 1 every time when each request gets a fresh instance */
    static char msg[] = "count 0\n";
    msg[6] = (char)('0' + ++counter % 10);
    text(outparam, 200, msg);
  } else if (equal(path, rlen, "/trap")) {
    __builtin_trap();
  } else if (equal(path, rlen, "/loop")) {
    while (spin) {}
    text(outparam, 200, "unreachable\n");
  } else if (equal(path, rlen, "/grow")) {
    /* grow until memory.grow fails (the host's memory limit), then trap */
    while (__builtin_wasm_memory_grow(0, 16) != (size_t)-1) {}
    __builtin_trap();
  } else if (equal(path, rlen, "/sleep")) {
    v = query(path, plen, "ms", &vlen);
    handle_t p = clock_subscribe((int64_t)(v ? number(v, vlen) : 0) * 1000000);
    pollable_block(p);
    pollable_drop(p);
    text(outparam, 200, "slept\n");
  } else if (equal(path, rlen, "/stream")) {
    /* n chunks, ms apart: the client sees the first before the last is written */
    v = query(path, plen, "n", &vlen);
    uint64_t nchunks = v ? number(v, vlen) : 3;
    v = query(path, plen, "ms", &vlen);
    int64_t gap = (int64_t)(v ? number(v, vlen) : 100) * 1000000;
    handle_t h = fields_new();
    append(h, "content-type", "text/plain", 10);
    handle_t stream, body = respond(outparam, 200, h, &stream);
    for (uint64_t i = 0; i < nchunks; i++) {
      char line[] = "chunk 0\n";
      line[6] = (char)('0' + i % 10);
      write_all(stream, line, 8);
      if (i + 1 < nchunks) {
        handle_t p = clock_subscribe(gap);
        pollable_block(p);
        pollable_drop(p);
      }
    }
    finish(body, stream, -1);
  } else if (equal(path, rlen, "/fetch")) {
    const char *a = query(path, plen, "authority", &vlen);
    size_t alen = vlen;
    const char *p = query(path, plen, "path", &vlen);
    fetch(outparam, a ? a : "", a ? alen : 0, p ? p : "/", p ? vlen : 1);
  } else {
    text(outparam, 404, "not found\n");
  }
  req_drop(req);
}
