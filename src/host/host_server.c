/*
** The HTTP/1.1 server of `shoal serve` on libmicrohttpd: a few polling
** threads serve every connection; once a request's headers are in, its
** guest runs in a fresh instance on a thread of its own, on a proxy worker
** (an instance slot) from a fixed pool of --workers, with the bodies
** streamed through pipes; a connection waiting for its guest is suspended
** and resumed by the guest's progress. --max-instances caps the requests
** admitted; a watchdog enforces timeouts; SIGTERM drains and stops.
*/
#include "host_int.h"
#include <arpa/inet.h>
#include <microhttpd.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PIPE_BYTES (256u * 1024)      /* per direction and request: the backpressure window */
#define GUEST_STACK (1024u * 1024)     /* C stack of a guest thread (wasm runs on the engine's own) */

static atomic_int live_exchanges;      /* for the drain at SIGTERM */

typedef struct server {
  shoal_proxy_t *proxy;
  shoal_server_config_t cfg;
  /* every worker, and a stack of the idle ones */
  _Atomic(shoal_proxy_worker_t *) *workers;
  atomic_uint nworkers;
  unsigned max;
  pthread_mutex_t pool_lock;
  pthread_cond_t pool_cond;
  shoal_proxy_worker_t **idle;
  unsigned nidle;
  atomic_int in_flight;
  atomic_bool stop;
  host_log_t *log;
  /* a worker per polling thread, for requests run right there (inline) */
  shoal_proxy_worker_t **inline_workers;
  unsigned ninline;
  atomic_uint inline_taken;
  /* guest threads stay a while after their request, for the next one */
  pthread_mutex_t idle_lock;
  pthread_cond_t idle_cond;
  struct job *queue;            /* jobs handed to idle threads */
  unsigned idle_threads, nqueued;
  atomic_int threads;           /* guest threads alive */
} server_t;

#define IDLE_THREADS_MAX 64     /* kept beyond that many, a finished thread exits */
#define IDLE_THREAD_SECS 2      /* and an idle one after this long */

/* An idle worker; waits while all are busy. */
static shoal_proxy_worker_t *worker_get(server_t *s) {
  pthread_mutex_lock(&s->pool_lock);
  while (!s->nidle) pthread_cond_wait(&s->pool_cond, &s->pool_lock);
  shoal_proxy_worker_t *w = s->idle[--s->nidle];
  pthread_mutex_unlock(&s->pool_lock);
  return w;
}

static void worker_put(server_t *s, shoal_proxy_worker_t *w) {
  pthread_mutex_lock(&s->pool_lock);
  s->idle[s->nidle++] = w;
  pthread_cond_signal(&s->pool_cond);
  pthread_mutex_unlock(&s->pool_lock);
}

/* {==================================================================
** Exchanges: one per admitted request, shared by the connection, the
** guest thread and (when streamed) the MHD response; the last frees it.
** =================================================================== */
/* The guest made progress: resume its connection if it waits for that. */
static void wake(host_exchange_t *x) {
  pthread_mutex_lock(&x->lock);
  if (x->suspended && x->con) {
    x->suspended = false;
    MHD_resume_connection(x->con);
  }
  pthread_mutex_unlock(&x->lock);
}

static void wake_pipe(void *ud) { wake(ud); }

/* Suspends con until wake, unless ready() says there is something to do
** after all (checked under the lock wake takes, so no wake-up is lost). */
static bool suspend_unless(host_exchange_t *x, struct MHD_Connection *con, bool (*ready)(host_exchange_t *)) {
  pthread_mutex_lock(&x->lock);
  bool go = ready(x);
  if (!go) {
    x->suspended = true;
    MHD_suspend_connection(con);
  }
  pthread_mutex_unlock(&x->lock);
  return go;
}

static host_exchange_t *exchange_new(void) {
  host_exchange_t *x = calloc(1, sizeof *x);
  if (!x) return NULL;
  if (!host_pipe_init(&x->in, PIPE_BYTES)) {
    free(x);
    return NULL;
  }
  if (!host_pipe_init(&x->out, PIPE_BYTES)) {
    host_pipe_destroy(&x->in);
    free(x);
    return NULL;
  }
  /* the response cannot go out before the request is in: no backpressure until then */
  host_pipe_bound(&x->out, false);
  pthread_mutex_init(&x->lock, NULL);
  pthread_cond_init(&x->cond, NULL);
  x->wake = wake;
  x->in.notify = x->out.notify = wake_pipe;
  x->in.notify_ud = x->out.notify_ud = x;
  atomic_store(&x->refs, 1);
  atomic_fetch_add(&live_exchanges, 1);
  return x;
}

static void exchange_unref(void *p) {
  host_exchange_t *x = p;
  if (!x || atomic_fetch_sub(&x->refs, 1) != 1) return;
  host_pipe_destroy(&x->in);
  host_pipe_destroy(&x->out);
  host_fields_free(x->headers, x->nheaders);
  host_fields_free(x->trailers, x->ntrailers);
  shoal_http_response_free(&x->final);
  pthread_mutex_destroy(&x->lock);
  pthread_cond_destroy(&x->cond);
  free(x);
  atomic_fetch_sub(&live_exchanges, 1);
}
/* }================================================================== */

/* Header slots a request's record holds itself (more: on the heap). */
#define CONN_HEADERS 8

/* One request (MHD's per-request context): one allocation for the
** common case, its URI at its end. */
typedef struct conn {
  char *uri;
  bool started, rejected, complete;
  bool inline_next;             /* to run inline once the whole request is in */
  uint8_t *body;                /* meanwhile, its body */
  size_t body_len;
  bool answered;                /* run inline: its response is queued */
  shoal_http_field_t *headers;  /* own_headers, or the heap past CONN_HEADERS */
  size_t nheaders, hcap;
  host_exchange_t *x;
  struct MHD_Connection *con;
  shoal_http_field_t own_headers[CONN_HEADERS];
  char uri_buf[];
} conn_t;

static void conn_free(conn_t *c) {
  if (!c) return;
  if (c->x) {  /* the client is gone or answered: the guest's body I/O ends */
    pthread_mutex_lock(&c->x->lock);
    c->x->con = NULL;
    c->x->suspended = false;
    pthread_mutex_unlock(&c->x->lock);
    host_pipe_abandon(&c->x->in);
    host_pipe_abandon(&c->x->out);
    exchange_unref(c->x);
  }
  free(c->body);
  if (c->headers != c->own_headers) free(c->headers);  /* names and values point into MHD's connection */
  free(c);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *con) {
  (void)cls; (void)con;
  size_t n = strlen(uri);
  conn_t *c = malloc(sizeof *c + n + 1);
  if (!c) return NULL;
  memset(c, 0, sizeof *c);
  c->uri = memcpy(c->uri_buf, uri, n + 1);
  c->headers = c->own_headers;
  c->hcap = CONN_HEADERS;
  return c;
}

static void on_completed(void *cls, struct MHD_Connection *con, void **con_cls, enum MHD_RequestTerminationCode toe) {
  (void)cls; (void)con; (void)toe;
  conn_free(*con_cls);
  *con_cls = NULL;
}

static enum MHD_Result on_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  (void)kind;
  conn_t *c = cls;
  if (c->nheaders == c->hcap) {
    size_t cap = c->hcap * 2;
    shoal_http_field_t *p = c->headers == c->own_headers ? malloc(cap * sizeof *p) : realloc(c->headers, cap * sizeof *p);
    if (!p) return MHD_NO;
    if (c->headers == c->own_headers) memcpy(p, c->own_headers, sizeof c->own_headers);
    c->headers = p;
    c->hcap = cap;
  }
  c->headers[c->nheaders++] = (shoal_http_field_t){(char *)key, (char *)(value ? value : ""), strlen(key),
                                                    value ? strlen(value) : 0};
  return MHD_YES;
}

static enum MHD_Result send_text(struct MHD_Connection *con, unsigned status, const char *text) {
  struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
  if (!r) return MHD_NO;
  MHD_add_response_header(r, "content-type", "text/plain");
  enum MHD_Result ok = MHD_queue_response(con, status, r);
  MHD_destroy_response(r);
  return ok;
}

/* A body with trailers goes out chunked, from this reader. */
typedef struct chunked {
  uint8_t *p;
  size_t n;
} chunked_t;

static ssize_t read_chunked(void *cls, uint64_t pos, char *buf, size_t max) {
  chunked_t *c = cls;
  if (pos >= c->n) return MHD_CONTENT_READER_END_OF_STREAM;
  size_t k = c->n - (size_t)pos < max ? c->n - (size_t)pos : max;
  memcpy(buf, c->p + pos, k);
  return (ssize_t)k;
}

static void free_chunked(void *cls) {
  chunked_t *c = cls;
  free(c->p);
  free(c);
}

/* Headers MHD writes itself, or that belong to the connection. */
static bool host_owned(const char *name) {
  static const char *const names[] = {"content-length", "transfer-encoding", "connection", "keep-alive", "date"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (strcmp(name, names[i]) == 0) return true;
  return false;
}

static enum MHD_Result queue(struct MHD_Connection *con, shoal_http_response_t *resp) {
  struct MHD_Response *r;
  if (resp->ntrailers) {
    chunked_t *c = malloc(sizeof *c);
    if (!c) return MHD_NO;
    *c = (chunked_t){resp->body, resp->body_len};
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, read_chunked, c, free_chunked);
    if (!r) { free_chunked(c); resp->body = NULL; return MHD_NO; }
    for (size_t i = 0; i < resp->ntrailers; i++)
      MHD_add_response_footer(r, resp->trailers[i].name, resp->trailers[i].value);
  } else {
    r = MHD_create_response_from_buffer_with_free_callback(resp->body_len, resp->body, free);
    if (!r) { free(resp->body); resp->body = NULL; return MHD_NO; }
  }
  resp->body = NULL;  /* the MHD response frees it */
  resp->body_len = 0;
  for (size_t i = 0; i < resp->nheaders; i++)
    if (!host_owned(resp->headers[i].name)) MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
  enum MHD_Result ok = MHD_queue_response(con, (unsigned)resp->status, r);
  MHD_destroy_response(r);
  return ok;
}

static const char *outcome_name(shoal_proxy_outcome_t o) {
  return o == SHOAL_PROXY_OK ? "ok" : o == SHOAL_PROXY_TIMEOUT ? "timeout" : o == SHOAL_PROXY_MEMORY ? "memory" : "trap";
}

static void log_request(server_t *s, const char *method, const char *uri, int status, size_t bytes, uint64_t ns,
                        shoal_proxy_outcome_t o, const char *why) {
  host_metrics_request(status, ns, o);
  if (o == SHOAL_PROXY_OK)
    host_log_line(s->log, "%s %s %d %zu %.3fms", method, uri, status, bytes, (double)ns / 1e6);
  else
    host_log_line(s->log, "%s %s %d %zu %.3fms %s: %s", method, uri, status, bytes, (double)ns / 1e6,
                  outcome_name(o), why);
}

/* The guest's side of a request: a fresh instance on its own thread. */
typedef struct job {
  struct job *next;             /* in server_t.queue */
  server_t *s;
  host_exchange_t *x;
  shoal_proxy_worker_t *w;
  char *method, *uri, *host;
  shoal_http_field_t *headers;
  size_t nheaders;
  uint64_t t0;
} job_t;

static void job_free(job_t *j) {
  host_fields_free(j->headers, j->nheaders);
  free(j->method);
  free(j->uri);
  free(j->host);
  free(j);
}

static void run_job(job_t *j) {
  server_t *s = j->s;
  host_exchange_t *x = j->x;
  shoal_http_request_t req = {j->method, j->uri, j->host, j->headers, j->nheaders, NULL, 0};
  shoal_http_response_t resp;
  shoal_diag_t diag;
  j->w = worker_get(s);  /* may wait for a slot (this thread, not a polling one) */
  host_metrics_inflight(1);
  shoal_proxy_outcome_t o = host_proxy_run(j->w, &req, x, false, &resp, &diag);
  worker_put(s, j->w);
  uint64_t ns = host_now_ns() - j->t0;
  host_metrics_inflight(-1);
  atomic_fetch_sub(&s->in_flight, 1);
  /* only now, with the slot free, may the connection answer from the outcome */
  pthread_mutex_lock(&x->lock);
  x->done = true;
  pthread_cond_broadcast(&x->cond);
  pthread_mutex_unlock(&x->lock);
  wake(x);
  pthread_mutex_lock(&x->lock);
  int status = x->responded ? x->status : o == SHOAL_PROXY_TIMEOUT ? 504 : 500;
  pthread_mutex_unlock(&x->lock);
  pthread_mutex_lock(&x->out.lock);
  size_t bytes = (size_t)x->out.total;
  pthread_mutex_unlock(&x->out.lock);
  log_request(s, j->method, j->uri, status, bytes, ns, o, diag.message);
  shoal_http_response_free(&resp);
  exchange_unref(x);
  job_free(j);
}

/* The next job for an idle guest thread, or NULL: time to exit. */
static job_t *next_job(server_t *s) {
  pthread_mutex_lock(&s->idle_lock);
  job_t *j = NULL;
  if (s->idle_threads < IDLE_THREADS_MAX) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += IDLE_THREAD_SECS;
    s->idle_threads++;
    while (!s->queue && !atomic_load(&s->stop))
      if (pthread_cond_timedwait(&s->idle_cond, &s->idle_lock, &until) != 0) break;
    s->idle_threads--;
    if ((j = s->queue)) {
      s->queue = j->next;
      s->nqueued--;
    }
  }
  pthread_mutex_unlock(&s->idle_lock);
  return j;
}

static void *guest_thread(void *arg) {
  job_t *j = arg;
  server_t *s = j->s;
  for (; j; j = next_job(s)) run_job(j);
  atomic_fetch_sub(&s->threads, 1);
  return NULL;
}

/* Runs j on an idle guest thread if there is one, else on a new thread. */
static bool dispatch(server_t *s, job_t *j) {
  pthread_mutex_lock(&s->idle_lock);
  bool handed = s->idle_threads > s->nqueued;
  if (handed) {
    job_t **tail = &s->queue;
    while (*tail) tail = &(*tail)->next;
    j->next = NULL;
    *tail = j;
    s->nqueued++;
    pthread_cond_signal(&s->idle_cond);
  }
  pthread_mutex_unlock(&s->idle_lock);
  if (handed) return true;
  pthread_attr_t attr;
  pthread_t t;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, GUEST_STACK);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  atomic_fetch_add(&s->threads, 1);
  bool ok = pthread_create(&t, &attr, guest_thread, j) == 0;
  if (!ok) atomic_fetch_sub(&s->threads, 1);
  pthread_attr_destroy(&attr);
  return ok;
}

/* Starts the guest of c's request; false when out of memory or threads. */
static bool start_guest(server_t *s, conn_t *c, struct MHD_Connection *con, const char *method) {
  job_t *j = calloc(1, sizeof *j);
  host_exchange_t *x = j ? exchange_new() : NULL;
  if (!x) { free(j); return false; }
  j->s = s;
  j->x = x;
  j->t0 = host_now_ns();
  j->method = strdup(method);
  j->uri = strdup(c->uri);
  const char *host = NULL;
  host_fieldset_t fs = {0};
  bool ok = j->method && j->uri;
  for (size_t i = 0; ok && i < c->nheaders; i++) {
    if (strcasecmp(c->headers[i].name, "host") == 0) host = c->headers[i].value;
    ok = host_fieldset_add(&fs, c->headers[i].name, c->headers[i].name_len, c->headers[i].value,
                           c->headers[i].value_len);
  }
  j->headers = fs.v;
  j->nheaders = fs.n;
  if (ok && host && !(j->host = strdup(host))) ok = false;
  x->con = con;
  if (ok) {
    atomic_fetch_add(&x->refs, 1);  /* the job's */
    ok = dispatch(s, j);
    if (!ok) atomic_fetch_sub(&x->refs, 1);
  }
  if (!ok) {
    exchange_unref(x);
    job_free(j);
    return false;
  }
  c->x = x;
  return true;
}

/* The streamed response body: blocks on the guest; at the end, its
** trailers, or an error if the guest failed after it had answered. */
static bool out_ready(host_exchange_t *x) { return host_pipe_peek(&x->out, false); }
static bool out_over(host_exchange_t *x) { return x->finished || x->done || !x->con; }

static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max) {
  (void)pos;
  host_exchange_t *x = cls;
  for (;;) {
    int64_t k = host_pipe_read(&x->out, (uint8_t *)buf, max, false);
    if (k > 0) return (ssize_t)k;
    if (k < 0) break;
    /* nothing yet: sleep until the guest writes (wake resumes us) */
    if (!suspend_unless(x, x->con, out_ready)) return 0;
  }
  /* the end of the body: wait for the guest's verdict if it is not in yet */
  pthread_mutex_lock(&x->lock);
  if (!out_over(x)) {
    x->suspended = true;
    MHD_suspend_connection(x->con);
    pthread_mutex_unlock(&x->lock);
    return 0;
  }
  bool ok = x->finished || x->outcome == SHOAL_PROXY_OK;
  for (size_t i = 0; ok && i < x->ntrailers; i++)
    MHD_add_response_footer(x->mhd, x->trailers[i].name, x->trailers[i].value);
  pthread_mutex_unlock(&x->lock);
  return ok ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
}

/* The guest's answer, once it has one: buffered when the guest is already
** done, streamed otherwise. */
static enum MHD_Result answer(struct MHD_Connection *con, host_exchange_t *x) {
  pthread_mutex_lock(&x->lock);
  if (!x->responded) {  /* an error page */
    shoal_http_response_t r = x->final;
    memset(&x->final, 0, sizeof x->final);
    pthread_mutex_unlock(&x->lock);
    enum MHD_Result ok = queue(con, &r);
    shoal_http_response_free(&r);
    return ok;
  }
  bool done = x->done;
  pthread_mutex_unlock(&x->lock);
  struct MHD_Response *r;
  shoal_http_response_t whole = {0};
  if (done) {  /* all there: send it with a length (or chunked, for trailers) */
    size_t cap = 0;
    for (;;) {
      if (whole.body_len == cap) {
        cap = cap ? cap * 2 : 16384;
        uint8_t *p = realloc(whole.body, cap);
        if (!p) { free(whole.body); return MHD_NO; }
        whole.body = p;
      }
      int64_t k = host_pipe_read(&x->out, whole.body + whole.body_len, cap - whole.body_len, false);
      if (k <= 0) break;
      whole.body_len += (size_t)k;
    }
    pthread_mutex_lock(&x->lock);
    whole.status = x->status;
    whole.headers = x->headers;
    whole.nheaders = x->nheaders;
    whole.trailers = x->trailers;
    whole.ntrailers = x->ntrailers;
    x->headers = x->trailers = NULL;
    x->nheaders = x->ntrailers = 0;
    pthread_mutex_unlock(&x->lock);
    enum MHD_Result ok = queue(con, &whole);
    shoal_http_response_free(&whole);
    return ok;
  }
  r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, read_stream, x, exchange_unref);
  if (!r) return MHD_NO;
  atomic_fetch_add(&x->refs, 1);  /* the response's */
  pthread_mutex_lock(&x->lock);
  x->mhd = r;
  for (size_t i = 0; i < x->nheaders; i++)
    if (!host_owned(x->headers[i].name)) MHD_add_response_header(r, x->headers[i].name, x->headers[i].value);
  unsigned status = (unsigned)x->status;
  pthread_mutex_unlock(&x->lock);
  enum MHD_Result ok = MHD_queue_response(con, status, r);
  MHD_destroy_response(r);
  return ok;
}

/* {==================================================================
** Inline requests: a request without a body, or with a small one (kept
** whole first), is first run right on its polling thread, with no
** thread, pipe or hand-over in its way; a guest
** that has to wait (or runs for more than a few milliseconds) is stopped
** and the request starts over on a guest thread of its own.
** =================================================================== */
static _Thread_local server_t *tl_server;
static _Thread_local shoal_proxy_worker_t *tl_worker;

/* This polling thread's worker (NULL: none left; take the thread path). */
static shoal_proxy_worker_t *inline_worker(server_t *s) {
  if (tl_server != s) {
    unsigned i = atomic_fetch_add(&s->inline_taken, 1);
    tl_server = s;
    tl_worker = i < s->ninline ? s->inline_workers[i] : NULL;
  }
  return tl_worker;
}

/* Requests whose body is kept whole to run inline: at most this big
** (every byte fits the guest's request pipe if it has to move). */
#define INLINE_BODY_MAX (64u * 1024)

/* Whether the request's body is small enough to run inline: a known
** Content-Length up to INLINE_BODY_MAX (none: no body). */
static bool small_body(struct MHD_Connection *con) {
  if (MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING)) return false;
  const char *cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (!cl) return true;
  char *end;
  unsigned long long n = strtoull(cl, &end, 10);
  return *cl && !*end && n <= INLINE_BODY_MAX;
}

/* True when the request was answered here (*res: MHD's verdict). */
static bool run_inline(server_t *s, conn_t *c, struct MHD_Connection *con, const char *method, enum MHD_Result *res) {
  shoal_proxy_worker_t *w = inline_worker(s);
  const char *host = NULL;
  for (size_t i = 0; i < c->nheaders && !host; i++)
    if (strcasecmp(c->headers[i].name, "host") == 0) host = c->headers[i].value;
  shoal_http_request_t req = {method, c->uri, host, c->headers, c->nheaders, c->body, c->body_len};
  shoal_http_response_t resp;
  shoal_diag_t diag;
  uint64_t t0 = host_now_ns();
  host_metrics_inflight(1);
  shoal_proxy_outcome_t o = shoal_proxy_try(w, &req, &resp, &diag);
  host_metrics_inflight(-1);
  if (o == SHOAL_PROXY_WOULD_BLOCK) return false;
  atomic_fetch_sub(&s->in_flight, 1);
  log_request(s, method, c->uri, resp.status, resp.body_len, host_now_ns() - t0, o, diag.message);
  c->answered = true;
  *res = queue(con, &resp);
  shoal_http_response_free(&resp);
  return true;
}
/* }================================================================== */

static bool in_ready(host_exchange_t *x) { return host_pipe_peek(&x->in, true); }
static bool has_answer(host_exchange_t *x) { return x->responded || x->done; }

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls) {
  (void)url; (void)version;
  server_t *s = cls;
  conn_t *c = *con_cls;
  if (!c) return MHD_NO;  /* on_uri ran out of memory */
  if (c->answered) return MHD_YES;
  if (!c->started) {  /* first call: the headers are complete; the guest starts now */
    c->con = con;
    c->started = true;
    MHD_get_connection_values(con, MHD_HEADER_KIND, on_header, c);
    unsigned max = s->max;
    if ((unsigned)atomic_fetch_add(&s->in_flight, 1) >= max) {
      atomic_fetch_sub(&s->in_flight, 1);
      c->rejected = true;
      host_metrics_rejected();
      host_log_line(s->log, "%s %s 503 0 0.000ms rejected (--max-instances %u)", method, c->uri, max);
      return MHD_YES;
    }
    /* inline: at the next call, when MHD has taken the whole request
    ** (a response queued before that would cost the connection) */
    if (inline_worker(s) && small_body(con)) {
      c->inline_next = true;
      return MHD_YES;
    }
    if (!start_guest(s, c, con, method)) {
      atomic_fetch_sub(&s->in_flight, 1);
      return MHD_NO;
    }
    return MHD_YES;
  }
  if (c->inline_next && *upload_size) {  /* kept until the request is whole */
    if (c->body_len + *upload_size > INLINE_BODY_MAX) return MHD_NO;  /* more than its Content-Length */
    uint8_t *p = realloc(c->body, c->body_len + *upload_size);
    if (!p) return MHD_NO;
    memcpy(p + c->body_len, upload, *upload_size);
    c->body = p;
    c->body_len += *upload_size;
    *upload_size = 0;
    return MHD_YES;
  }
  if (c->inline_next) {
    c->inline_next = false;
    enum MHD_Result res;
    if (run_inline(s, c, con, method, &res)) return res;
    if (!start_guest(s, c, con, method)) {  /* it had to wait: on a thread of its own */
      atomic_fetch_sub(&s->in_flight, 1);
      return MHD_NO;
    }
    /* the body it was given, again (the pipe holds INLINE_BODY_MAX) */
    if (c->body_len && host_pipe_write(&c->x->in, c->body, c->body_len) != (int64_t)c->body_len) return MHD_NO;
  }
  if (*upload_size) {  /* a piece of the request body: to the guest (dropped once it is done) */
    if (!c->x) {
      *upload_size = 0;
      return MHD_YES;
    }
    int64_t k = host_pipe_write(&c->x->in, (const uint8_t *)upload, *upload_size);
    *upload_size = k < 0 ? 0 : *upload_size - (size_t)k;
    /* the pipe is full: MHD keeps the rest until the guest reads and wakes us */
    if (*upload_size) suspend_unless(c->x, con, in_ready);
    return MHD_YES;
  }
  if (c->rejected) return send_text(con, 503, "503 Service Unavailable\n");
  if (!c->complete) {
    c->complete = true;
    host_pipe_close(&c->x->in);
    host_pipe_bound(&c->x->out, true);
  }
  if (!suspend_unless(c->x, con, has_answer)) return MHD_YES;  /* called again once the guest answers */
  return answer(con, c->x);
}

static enum MHD_Result on_admin(void *cls, struct MHD_Connection *con, const char *url, const char *method,
                                const char *version, const char *upload, size_t *upload_size, void **con_cls) {
  (void)cls; (void)method; (void)version; (void)upload; (void)upload_size; (void)con_cls;
  if (strcmp(url, "/metrics") != 0) return send_text(con, 404, "see /metrics\n");
  size_t len = 0;
  char *text = host_metrics_text(&len);
  if (!text) return MHD_NO;
  struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(len, text, free);
  if (!r) { free(text); return MHD_NO; }
  MHD_add_response_header(r, "content-type", "text/plain; version=0.0.4");
  enum MHD_Result ok = MHD_queue_response(con, 200, r);
  MHD_destroy_response(r);
  return ok;
}

/* Interrupts requests past their deadline; flushes the log once a second. */
static void *watchdog(void *arg) {
  server_t *s = arg;
  unsigned ticks = 0;
  while (!atomic_load(&s->stop)) {
    struct timespec ts = {0, 5 * 1000000};
    nanosleep(&ts, NULL);
    uint64_t now = host_now_ns();
    unsigned n = atomic_load(&s->nworkers);
    for (unsigned i = 0; i < n; i++) {
      shoal_proxy_worker_t *w = atomic_load(&s->workers[i]);
      int_fast64_t d = atomic_load(&w->deadline_ns);
      if (d && (uint64_t)d < now) host_worker_interrupt_late(w, now);
    }
    if (++ticks % 200 == 0) host_log_flush(s->log);
  }
  return NULL;
}

static bool parse_addr(const char *addr, struct sockaddr_in *sa) {
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  char host[64] = "127.0.0.1";
  const char *colon = strrchr(addr, ':');
  const char *port = addr;
  if (colon) {
    size_t hl = (size_t)(colon - addr);
    if (hl >= sizeof host) return false;
    if (hl) {
      memcpy(host, addr, hl);
      host[hl] = 0;
    }
    port = colon + 1;
  }
  if (strcmp(host, "localhost") == 0) strcpy(host, "127.0.0.1");
  char *end;
  long p = strtol(port, &end, 10);
  if (*port == 0 || *end || p < 0 || p > 65535) return false;
  sa->sin_port = htons((uint16_t)p);
  return inet_pton(AF_INET, host, &sa->sin_addr) == 1;
}

static shoal_err_t fail(shoal_diag_t *diag, shoal_err_t code, const char *fmt, const char *arg) {
  if (diag) {
    diag->code = code;
    snprintf(diag->message, sizeof diag->message, fmt, arg);
  }
  return code;
}

static unsigned bound_port(struct MHD_Daemon *d) {
  const union MHD_DaemonInfo *info = d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
  return info ? info->port : 0;
}

shoal_err_t shoal_serve(shoal_proxy_t *p, const shoal_server_config_t *cfg, shoal_diag_t *diag) {
  if (diag) shoal_diag_clear(diag);
  server_t s = {.proxy = p};
  memcpy(&s.cfg, cfg, cfg->size < sizeof s.cfg ? cfg->size : sizeof s.cfg);
  unsigned nw = s.cfg.workers ? s.cfg.workers : 2;
  s.max = s.cfg.max_instances ? s.cfg.max_instances : (nw > 1024 ? nw : 1024);
  if (nw > s.max) nw = s.max;
  pthread_mutex_init(&s.pool_lock, NULL);
  pthread_cond_init(&s.pool_cond, NULL);
  pthread_mutex_init(&s.idle_lock, NULL);
  pthread_cond_init(&s.idle_cond, NULL);
  struct sockaddr_in sa, admin_sa;
  if (!parse_addr(s.cfg.addr ? s.cfg.addr : "127.0.0.1:8080", &sa))
    return fail(diag, SHOAL_ERR_ARG, "bad address %s (want HOST:PORT, IPv4)", s.cfg.addr);
  if (s.cfg.admin_addr && !parse_addr(s.cfg.admin_addr, &admin_sa))
    return fail(diag, SHOAL_ERR_ARG, "bad admin address %s (want HOST:PORT, IPv4)", s.cfg.admin_addr);
  /* a socket (and maybe two eventfds) per request in flight: use every fd we may */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (s.cfg.access_log && !(s.log = host_log_open(s.cfg.access_log)))
    return fail(diag, SHOAL_ERR_IO, "cannot open the access log %s", s.cfg.access_log);
  shoal_err_t e = SHOAL_ERR_OK;
  s.workers = calloc(nw + 64, sizeof *s.workers);  /* + the inline ones */
  s.idle = calloc(nw, sizeof *s.idle);
  if (!s.workers || !s.idle) e = SHOAL_ERR_NOMEM;
  /* the pool: workers (a store each) made up front; a large pool is mostly
  ** idle, so its workers give their memory pages back between requests */
  for (unsigned i = 0; !e && i < nw; i++) {
    shoal_proxy_worker_t *w = NULL;
    if (!(e = host_worker_new(p, nw <= 64, &w))) {
      atomic_store(&s.workers[i], w);
      atomic_store(&s.nworkers, i + 1);
      s.idle[s.nidle++] = w;
    }
  }

  /* one more per polling thread, for inline requests (also watched by the watchdog) */
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  unsigned npoll = (unsigned)(ncpu > 1 ? (ncpu < 64 ? ncpu : 64) : 1);
  if (!e && !(s.inline_workers = calloc(npoll, sizeof *s.inline_workers))) e = SHOAL_ERR_NOMEM;
  for (unsigned i = 0; !e && i < npoll; i++) {
    shoal_proxy_worker_t *w = NULL;
    if (!(e = host_worker_new(p, true, &w))) {
      atomic_store(&s.workers[nw + i], w);
      atomic_store(&s.nworkers, nw + i + 1);
      s.inline_workers[s.ninline++] = w;
    }
  }

  if (e == SHOAL_ERR_NOMEM && diag && !diag->message[0])
    fail(diag, e, "out of memory for %s workers", s.cfg.workers ? "the" : "two");

  /* SIGTERM/SIGINT are taken by sigwait below: block them in every thread */
  sigset_t sigs, old;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, &old);
  struct MHD_Daemon *d = NULL, *admin = NULL;
  pthread_t wd;
  bool wd_started = false;
  if (!e) {
    /* polling threads never wait for a guest: such connections are suspended */
    d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC, 0, NULL, NULL,
                         on_request, &s,
                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                         MHD_OPTION_THREAD_POOL_SIZE, npoll,
                         MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned)20000,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
                         MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)4096,
                         MHD_OPTION_END);
    if (!d) e = fail(diag, SHOAL_ERR_IO, "cannot listen on %s (in use?)", s.cfg.addr ? s.cfg.addr : "127.0.0.1:8080");
  }
  if (!e && s.cfg.admin_addr) {
    admin = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, on_admin, &s,
                             MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&admin_sa, MHD_OPTION_END);
    if (!admin) e = fail(diag, SHOAL_ERR_IO, "cannot listen on %s (in use?)", s.cfg.admin_addr);
  }
  if (!e) wd_started = pthread_create(&wd, NULL, watchdog, &s) == 0;
  if (!e && !wd_started) e = fail(diag, SHOAL_ERR_NOMEM, "cannot start the watchdog thread%s", "");
  if (!e) {
    if (s.cfg.on_ready) s.cfg.on_ready(s.cfg.ud, bound_port(d), bound_port(admin));
    int sig;
    sigwait(&sigs, &sig);
    /* graceful: stop accepting, let in-flight requests finish and their
    ** responses go out, then stop */
    MHD_socket ls = MHD_quiesce_daemon(d);
    for (int i = 0; i < 60000 && (atomic_load(&s.in_flight) > 0 || atomic_load(&live_exchanges) > 0); i++) {
      struct timespec ts = {0, 1000000};
      nanosleep(&ts, NULL);
    }
    struct timespec ts = {0, 100 * 1000000};
    nanosleep(&ts, NULL);
    if (ls != MHD_INVALID_SOCKET) close(ls);
  }
  if (d) MHD_stop_daemon(d);
  if (admin) MHD_stop_daemon(admin);
  atomic_store(&s.stop, true);
  if (wd_started) pthread_join(wd, NULL);
  /* idle guest threads leave; every guest thread is gone before s is */
  pthread_mutex_lock(&s.idle_lock);
  pthread_cond_broadcast(&s.idle_cond);
  pthread_mutex_unlock(&s.idle_lock);
  while (atomic_load(&s.threads) > 0) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  /* a second SIGTERM while draining is not a reason to die afterwards */
  struct timespec zero = {0, 0};
  while (sigtimedwait(&sigs, NULL, &zero) > 0) {}
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  for (unsigned i = 0; s.workers && i < atomic_load(&s.nworkers); i++) shoal_proxy_worker_free(atomic_load(&s.workers[i]));
  free(s.workers);
  free(s.idle);
  free(s.inline_workers);
  pthread_mutex_destroy(&s.pool_lock);
  pthread_cond_destroy(&s.pool_cond);
  pthread_mutex_destroy(&s.idle_lock);
  pthread_cond_destroy(&s.idle_cond);
  host_log_close(s.log);
  return e;
}
