/*
** The HTTP/1.1 server of `shoal serve` on libmicrohttpd: a thread per
** connection runs each complete request in a fresh instance, on a proxy
** worker (an instance slot) from a fixed pool of --workers, waiting for one
** when all are busy; --max-instances caps the requests admitted; a watchdog
** enforces timeouts; SIGTERM drains and stops.
*/
#include "host_int.h"
#include <arpa/inet.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY (64u << 20)

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
} server_t;

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

typedef struct conn {
  char *uri;
  uint8_t *body;
  size_t len, cap;
  bool started, too_big;
  shoal_http_field_t *headers;
  size_t nheaders, hcap;
} conn_t;

static void conn_free(conn_t *c) {
  if (!c) return;
  free(c->uri);
  free(c->body);
  free(c->headers);  /* names and values point into MHD's connection */
  free(c);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *con) {
  (void)cls; (void)con;
  conn_t *c = calloc(1, sizeof *c);
  if (c && !(c->uri = strdup(uri))) {
    free(c);
    c = NULL;
  }
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
    size_t cap = c->hcap ? c->hcap * 2 : 16;
    shoal_http_field_t *p = realloc(c->headers, cap * sizeof *p);
    if (!p) return MHD_NO;
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls) {
  (void)url; (void)version;
  server_t *s = cls;
  conn_t *c = *con_cls;
  if (!c) return MHD_NO;  /* on_uri ran out of memory */
  if (!c->started) {  /* first call: the headers are complete */
    c->started = true;
    MHD_get_connection_values(con, MHD_HEADER_KIND, on_header, c);
    return MHD_YES;
  }
  if (*upload_size) {
    if (c->len + *upload_size > MAX_BODY) c->too_big = true;
    if (!c->too_big) {
      if (c->len + *upload_size > c->cap) {
        size_t cap = c->cap ? c->cap : 16384;
        while (cap < c->len + *upload_size) cap *= 2;
        uint8_t *p = realloc(c->body, cap);
        if (!p) return MHD_NO;
        c->body = p;
        c->cap = cap;
      }
      memcpy(c->body + c->len, upload, *upload_size);
      c->len += *upload_size;
    }
    *upload_size = 0;
    return MHD_YES;
  }
  uint64_t t0 = host_now_ns();
  if (c->too_big) return send_text(con, 413, "413 Content Too Large\n");
  unsigned max = s->max;
  if ((unsigned)atomic_fetch_add(&s->in_flight, 1) >= max) {
    atomic_fetch_sub(&s->in_flight, 1);
    host_metrics_rejected();
    host_log_line(s->log, "%s %s 503 0 0.000ms rejected (--max-instances %u)", method, c->uri, max);
    return send_text(con, 503, "503 Service Unavailable\n");
  }
  shoal_diag_t diag;
  shoal_proxy_worker_t *w = worker_get(s);
  host_metrics_inflight(1);
  const char *host = NULL;
  for (size_t i = 0; i < c->nheaders; i++)
    if (strcasecmp(c->headers[i].name, "host") == 0) host = c->headers[i].value;
  shoal_http_request_t req = {method, c->uri, host, c->headers, c->nheaders, c->body, c->len};
  shoal_http_response_t resp;
  shoal_proxy_outcome_t o = shoal_proxy_handle(w, &req, &resp, &diag);
  worker_put(s, w);
  uint64_t ns = host_now_ns() - t0;
  host_metrics_inflight(-1);
  atomic_fetch_sub(&s->in_flight, 1);
  host_metrics_request(resp.status, ns, o);
  if (o == SHOAL_PROXY_OK)
    host_log_line(s->log, "%s %s %d %zu %.3fms", method, c->uri, resp.status, resp.body_len, (double)ns / 1e6);
  else
    host_log_line(s->log, "%s %s %d %zu %.3fms %s: %s", method, c->uri, resp.status, resp.body_len, (double)ns / 1e6,
                  outcome_name(o), diag.message);
  enum MHD_Result ok = queue(con, &resp);
  shoal_http_response_free(&resp);
  return ok;
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
      if (d && (uint64_t)d < now) shoal_proxy_worker_interrupt(w);
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
  struct sockaddr_in sa, admin_sa;
  if (!parse_addr(s.cfg.addr ? s.cfg.addr : "127.0.0.1:8080", &sa))
    return fail(diag, SHOAL_ERR_ARG, "bad address %s (want HOST:PORT, IPv4)", s.cfg.addr);
  if (s.cfg.admin_addr && !parse_addr(s.cfg.admin_addr, &admin_sa))
    return fail(diag, SHOAL_ERR_ARG, "bad admin address %s (want HOST:PORT, IPv4)", s.cfg.admin_addr);
  if (s.cfg.access_log && !(s.log = host_log_open(s.cfg.access_log)))
    return fail(diag, SHOAL_ERR_IO, "cannot open the access log %s", s.cfg.access_log);
  shoal_err_t e = SHOAL_ERR_OK;
  s.workers = calloc(nw, sizeof *s.workers);
  s.idle = calloc(nw, sizeof *s.idle);
  if (!s.workers || !s.idle) e = SHOAL_ERR_NOMEM;
  /* the pool: workers (component decoded, imports linked) made up front */
  for (unsigned i = 0; !e && i < nw; i++) {
    shoal_proxy_worker_t *w = NULL;
    if (!(e = shoal_proxy_worker_new(p, &w, diag))) {
      atomic_store(&s.workers[i], w);
      atomic_store(&s.nworkers, i + 1);
      s.idle[s.nidle++] = w;
    }
  }

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
    /* a thread per connection: a guest blocking (in a pollable, say) holds
    ** up only its own connection */
    d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC, 0, NULL, NULL,
                         on_request, &s,
                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                         MHD_OPTION_THREAD_STACK_SIZE, (size_t)(256 * 1024),
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
    for (int i = 0; i < 60000 && atomic_load(&s.in_flight) > 0; i++) {
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
  /* a second SIGTERM while draining is not a reason to die afterwards */
  struct timespec zero = {0, 0};
  while (sigtimedwait(&sigs, NULL, &zero) > 0) {}
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  for (unsigned i = 0; s.workers && i < atomic_load(&s.nworkers); i++) shoal_proxy_worker_free(atomic_load(&s.workers[i]));
  free(s.workers);
  free(s.idle);
  pthread_mutex_destroy(&s.pool_lock);
  pthread_cond_destroy(&s.pool_cond);
  host_log_close(s.log);
  return e;
}
