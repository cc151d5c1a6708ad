/*
** WASI 0.2 wasi:sockets: network, instance-network, TCP and UDP sockets
** over non-blocking host sockets, ip-name-lookup; every address the guest
** binds, connects or sends to must be granted (shoal_crun_config_t.net_allow).
*/
#define _GNU_SOURCE
#include "cmp_wasi.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_DGRAM 65535

/* {==================================================================
** Grants
** =================================================================== */
/* Whether cfg->net_allow grants sa: "IP" (any port) or "IP:PORT", IPv6 as
** "[IP]:PORT" or bare. */
static bool granted(shoal_wasi_ctx_t *w, const struct sockaddr_storage *sa) {
  const shoal_crun_config_t *cfg = w->cfg;
  for (size_t i = 0; i < cfg->nnet_allow; i++) {
    char buf[128];
    const char *g = cfg->net_allow[i];
    if (strlen(g) >= sizeof buf) continue;
    strcpy(buf, g);
    char *host = buf, *port = NULL;
    if (buf[0] == '[') {
      char *end = strchr(buf, ']');
      if (!end) continue;
      *end = 0;
      host = buf + 1;
      if (end[1] == ':') port = end + 2;
    } else {
      char *colon = strchr(buf, ':');
      if (colon && !strchr(colon + 1, ':')) {
        *colon = 0;
        port = colon + 1;
      }
    }
    unsigned p = 0;
    bool any = !port || strcmp(port, "*") == 0;
    if (!any) {
      char *e;
      unsigned long v = strtoul(port, &e, 10);
      if (*e || v > 65535) continue;
      p = (unsigned)v;
    }
    if (sa->ss_family == AF_INET) {
      const struct sockaddr_in *in = (const void *)sa;
      struct in_addr a;
      if (inet_pton(AF_INET, host, &a) == 1 && a.s_addr == in->sin_addr.s_addr && (any || ntohs(in->sin_port) == p))
        return true;
    } else if (sa->ss_family == AF_INET6) {
      const struct sockaddr_in6 *in = (const void *)sa;
      struct in6_addr a;
      if (inet_pton(AF_INET6, host, &a) == 1 && memcmp(&a, &in->sin6_addr, sizeof a) == 0 &&
          (any || ntohs(in->sin6_port) == p))
        return true;
    }
  }
  return false;
}
/* }================================================================== */

/* {==================================================================
** Values
** =================================================================== */
static const struct { int e; const char *code; } codes[] = {
  {EACCES, "access-denied"}, {EPERM, "access-denied"}, {EAFNOSUPPORT, "not-supported"},
  {EOPNOTSUPP, "not-supported"}, {ENOPROTOOPT, "not-supported"}, {EPROTONOSUPPORT, "not-supported"},
  {EINVAL, "invalid-argument"}, {ENOMEM, "out-of-memory"}, {ENOBUFS, "out-of-memory"}, {ETIMEDOUT, "timeout"},
  {EALREADY, "concurrency-conflict"}, {EAGAIN, "would-block"}, {EINPROGRESS, "would-block"},
  {EISCONN, "invalid-state"}, {ENOTCONN, "invalid-state"}, {EMFILE, "new-socket-limit"},
  {ENFILE, "new-socket-limit"}, {EADDRNOTAVAIL, "address-not-bindable"}, {EADDRINUSE, "address-in-use"},
  {EHOSTUNREACH, "remote-unreachable"}, {ENETUNREACH, "remote-unreachable"}, {ENETDOWN, "remote-unreachable"},
  {ECONNREFUSED, "connection-refused"}, {ECONNRESET, "connection-reset"}, {EPIPE, "connection-reset"},
  {ECONNABORTED, "connection-aborted"}, {EMSGSIZE, "datagram-too-large"},
};

/* Pseudo errnos for codes with no errno of their own. */
enum { E_NOT_IN_PROGRESS = -1, E_INVALID_STATE = -2, E_UNRESOLVABLE = -3, E_RESOLVER_TEMP = -4, E_RESOLVER_PERM = -5 };

static const char *code_of(int e) {
  switch (e) {
  case E_NOT_IN_PROGRESS: return "not-in-progress";
  case E_INVALID_STATE: return "invalid-state";
  case E_UNRESOLVABLE: return "name-unresolvable";
  case E_RESOLVER_TEMP: return "temporary-resolver-failure";
  case E_RESOLVER_PERM: return "permanent-resolver-failure";
  }
  for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
    if (codes[i].e == e) return codes[i].code;
  return "unknown";
}

static void set_code(shoal_cval_t *v, const cmp_type_t *t, int e) {
  uint32_t i = wv_case(t, code_of(e));
  v->kind = SHOAL_CT_ENUM;
  v->of.var.disc = i == UINT32_MAX ? 0 : i;
}

/* err(error-code) */
static shoal_err_t fail(shoal_ccall_t *c, void *envp, shoal_cval_t *r, int e) {
  shoal_cval_t *p = wv_payload(r, SHOAL_CT_RESULT, 1);
  if (!p) return wv_oom(c);
  set_code(p, WASI_ENV->type->result->err, e);
  return SHOAL_ERR_OK;
}

static shoal_err_t ok_unit(shoal_cval_t *r) {
  r->kind = SHOAL_CT_RESULT;
  r->of.var.disc = 0;
  r->of.var.payload = NULL;
  return SHOAL_ERR_OK;
}


/* ip-socket-address -> sockaddr; false if malformed */
static bool get_addr(const shoal_cval_t *v, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  const shoal_cval_t *rec = v->of.var.payload;
  if (v->kind != SHOAL_CT_VARIANT || !rec || rec->kind != SHOAL_CT_RECORD) return false;
  const shoal_cval_t *f = rec->of.list.items;
  if (v->of.var.disc == 0 && rec->of.list.n == 2 && f[1].kind == SHOAL_CT_TUPLE && f[1].of.list.n == 4) {
    struct sockaddr_in *in = (void *)ss;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)f[0].of.u);
    uint8_t *b = (uint8_t *)&in->sin_addr;
    for (int i = 0; i < 4; i++) b[i] = (uint8_t)f[1].of.list.items[i].of.u;
    *len = sizeof *in;
    return true;
  }
  if (v->of.var.disc == 1 && rec->of.list.n == 4 && f[2].kind == SHOAL_CT_TUPLE && f[2].of.list.n == 8) {
    struct sockaddr_in6 *in = (void *)ss;
    in->sin6_family = AF_INET6;
    in->sin6_port = htons((uint16_t)f[0].of.u);
    in->sin6_flowinfo = htonl((uint32_t)f[1].of.u);
    for (int i = 0; i < 8; i++) {
      uint16_t x = (uint16_t)f[2].of.list.items[i].of.u;
      in->sin6_addr.s6_addr[2 * i] = (uint8_t)(x >> 8);
      in->sin6_addr.s6_addr[2 * i + 1] = (uint8_t)x;
    }
    in->sin6_scope_id = (uint32_t)f[3].of.u;
    *len = sizeof *in;
    return true;
  }
  return false;
}

/* the address tuple (ipv4-address or ipv6-address) */
static bool put_ip(shoal_cval_t *t, const struct sockaddr_storage *ss) {
  bool v4 = ss->ss_family == AF_INET;
  if (!wv_record(t, SHOAL_CT_TUPLE, v4 ? 4 : 8)) return false;
  if (v4) {
    const uint8_t *b = (const uint8_t *)&((const struct sockaddr_in *)(const void *)ss)->sin_addr;
    for (int i = 0; i < 4; i++) wv_u(&t->of.list.items[i], SHOAL_CT_U8, b[i]);
  } else {
    const uint8_t *b = ((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr.s6_addr;
    for (int i = 0; i < 8; i++) wv_u(&t->of.list.items[i], SHOAL_CT_U16, (uint64_t)b[2 * i] << 8 | b[2 * i + 1]);
  }
  return true;
}

/* sockaddr -> ip-socket-address */
static bool put_addr(shoal_cval_t *v, const struct sockaddr_storage *ss) {
  bool v4 = ss->ss_family == AF_INET;
  shoal_cval_t *rec = wv_payload(v, SHOAL_CT_VARIANT, v4 ? 0 : 1);
  if (!rec || !wv_record(rec, SHOAL_CT_RECORD, v4 ? 2 : 4)) return false;
  shoal_cval_t *f = rec->of.list.items;
  if (v4) {
    wv_u(&f[0], SHOAL_CT_U16, ntohs(((const struct sockaddr_in *)(const void *)ss)->sin_port));
    return put_ip(&f[1], ss);
  }
  const struct sockaddr_in6 *in = (const void *)ss;
  wv_u(&f[0], SHOAL_CT_U16, ntohs(in->sin6_port));
  wv_u(&f[1], SHOAL_CT_U32, ntohl(in->sin6_flowinfo));
  wv_u(&f[3], SHOAL_CT_U32, in->sin6_scope_id);
  return put_ip(&f[2], ss);
}
/* }================================================================== */

/* {==================================================================
** Sockets
** =================================================================== */
typedef enum { S_UNBOUND, S_BIND_STARTED, S_BOUND, S_LISTEN_STARTED, S_LISTENING, S_CONNECTING, S_CONNECT_DONE,
               S_CONNECTED, S_CLOSED } sock_state_t;

typedef struct sock {
  int fd, family;
  sock_state_t st;
  int connect_err;         /* the outcome of a finished connect */
  uint32_t backlog;
  bool streaming;          /* udp: stream() was called */
} sock_t;

static bool sock_ready(void *self) {
  sock_t *s = self;
  struct pollfd p = {s->fd, s->st == S_CONNECTING ? POLLOUT : POLLIN, 0};
  if (s->st != S_CONNECTING && s->st != S_LISTENING) return true;
  return poll(&p, 1, 0) != 0;
}

static void sock_wait(void *self, int *fd, short *ev, uint64_t *dl) {
  (void)dl;
  sock_t *s = self;
  *fd = s->fd;
  *ev = s->st == S_CONNECTING ? POLLOUT : POLLIN;
}

static void sock_close(void *self) {
  sock_t *s = self;
  if (s->fd >= 0) close(s->fd);
  free(s);
}
static const shoal_wasi_ops_t sock_ops = {.ready = sock_ready, .wait = sock_wait, .close = sock_close};

static uint32_t sock_new(shoal_wasi_ctx_t *w, int kind, int fd, int family, sock_state_t st) {
  sock_t *s = calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    return 0;
  }
  *s = (sock_t){.fd = fd, .family = family, .st = st, .backlog = 128};
  return wasi_obj_add(w, kind, &sock_ops, s);
}

static sock_t *self_sock(shoal_ccall_t *c, void *envp, const shoal_cval_t *a, size_t na, int kind) {
  wasi_obj_t *o = na ? wasi_obj_get(WASI_CTX, a[0].of.handle, kind) : NULL;
  if (!o) shoal_ccall_trap(c, "%s: not a live socket", WASI_ENV->func);
  return o ? o->self : NULL;
}

#define SELF(kind) sock_t *s = self_sock(c, envp, a, na, kind); if (!s) return SHOAL_ERR_TRAP_HOST

static bool network_arg(shoal_ccall_t *c, void *envp, const shoal_cval_t *v) {
  if (wasi_obj_get(WASI_CTX, v->of.handle, WASI_K_NETWORK)) return true;
  shoal_ccall_trap(c, "%s: not a live network", WASI_ENV->func);
  return false;
}

/* create-tcp-socket / create-udp-socket(address-family) */
static shoal_err_t create_socket(WASI_ARGS) {
  bool udp = strstr(WASI_ENV->func, "udp") != NULL;
  int family = na && a[0].of.var.disc == 1 ? AF_INET6 : AF_INET;
  int fd = socket(family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(c, envp, r, errno);
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &(int){1}, sizeof(int));
  uint32_t rep = sock_new(WASI_CTX, udp ? WASI_K_UDP : WASI_K_TCP, fd, family, S_UNBOUND);
  if (!rep) return wv_oom(c);
  return wv_ok_own(c, r, rep);
}

/* start-bind(network, local-address) for both kinds */
static shoal_err_t start_bind(WASI_ARGS) {
  bool udp = strstr(WASI_ENV->func, "udp") != NULL;
  SELF(udp ? WASI_K_UDP : WASI_K_TCP);
  if (na < 3 || !network_arg(c, envp, &a[1])) return SHOAL_ERR_TRAP_HOST;
  struct sockaddr_storage ss;
  socklen_t len;
  if (!get_addr(&a[2], &ss, &len) || ss.ss_family != s->family) return fail(c, envp, r, EINVAL);
  if (s->st != S_UNBOUND) return fail(c, envp, r, E_INVALID_STATE);
  if (!granted(WASI_CTX, &ss)) return fail(c, envp, r, EACCES);
  if (!udp) setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int));  /* as wasmtime on Unix */
  if (bind(s->fd, (struct sockaddr *)&ss, len) != 0) return fail(c, envp, r, errno);
  s->st = S_BIND_STARTED;
  return ok_unit(r);
}

/* finish-bind / finish-listen */
static shoal_err_t finish(WASI_ARGS) {
  bool udp = strstr(WASI_ENV->func, "udp") != NULL, listen = strstr(WASI_ENV->func, "listen") != NULL;
  SELF(udp ? WASI_K_UDP : WASI_K_TCP);
  sock_state_t from = listen ? S_LISTEN_STARTED : S_BIND_STARTED;
  if (s->st != from) return fail(c, envp, r, E_NOT_IN_PROGRESS);
  s->st = listen ? S_LISTENING : S_BOUND;
  return ok_unit(r);
}

static shoal_err_t start_connect(WASI_ARGS) {
  SELF(WASI_K_TCP);
  if (na < 3 || !network_arg(c, envp, &a[1])) return SHOAL_ERR_TRAP_HOST;
  struct sockaddr_storage ss;
  socklen_t len;
  if (!get_addr(&a[2], &ss, &len) || ss.ss_family != s->family) return fail(c, envp, r, EINVAL);
  if (s->st != S_UNBOUND && s->st != S_BOUND) return fail(c, envp, r, E_INVALID_STATE);
  if (!granted(WASI_CTX, &ss)) return fail(c, envp, r, EACCES);
  int rc = connect(s->fd, (struct sockaddr *)&ss, len);
  if (rc != 0 && errno != EINPROGRESS) return fail(c, envp, r, errno);
  s->st = rc == 0 ? S_CONNECT_DONE : S_CONNECTING;
  s->connect_err = 0;
  return ok_unit(r);
}

/* ok(tuple<input-stream, output-stream>) over dups of fd */
static shoal_err_t streams(shoal_ccall_t *c, shoal_wasi_ctx_t *w, shoal_cval_t *t, int fd) {
  int in = fcntl(fd, F_DUPFD_CLOEXEC, 0), out = in >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
  if (out < 0) {
    if (in >= 0) close(in);
    return shoal_ccall_trap(c, "cannot duplicate a socket: %s", strerror(errno));
  }
  uint32_t ri = wasi_sock_stream(w, SHOAL_WASI_INPUT_STREAM, in);
  uint32_t ro = wasi_sock_stream(w, SHOAL_WASI_OUTPUT_STREAM, out);
  if (!ri || !ro) return wv_oom(c);
  t[0] = (shoal_cval_t){.kind = SHOAL_CT_OWN, .of.handle = ri};
  t[1] = (shoal_cval_t){.kind = SHOAL_CT_OWN, .of.handle = ro};
  return SHOAL_ERR_OK;
}

static shoal_err_t finish_connect(WASI_ARGS) {
  SELF(WASI_K_TCP);
  if (s->st == S_CONNECTING) {
    if (!sock_ready(s)) return fail(c, envp, r, EAGAIN);
    int err = 0;
    socklen_t el = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0) err = errno;
    s->st = S_CONNECT_DONE;
    s->connect_err = err;
  }
  if (s->st != S_CONNECT_DONE) return fail(c, envp, r, E_NOT_IN_PROGRESS);
  if (s->connect_err) {
    s->st = S_CLOSED;
    return fail(c, envp, r, s->connect_err);
  }
  s->st = S_CONNECTED;
  shoal_cval_t *p = wv_ok_payload(c, r);
  if (!p || !wv_record(p, SHOAL_CT_TUPLE, 2)) return wv_oom(c);
  return streams(c, WASI_CTX, p->of.list.items, s->fd);
}

static shoal_err_t start_listen(WASI_ARGS) {
  SELF(WASI_K_TCP);
  if (s->st != S_BOUND) return fail(c, envp, r, E_INVALID_STATE);
  if (listen(s->fd, (int)s->backlog) != 0) return fail(c, envp, r, errno);
  s->st = S_LISTEN_STARTED;
  return ok_unit(r);
}

/* accept() -> result<tuple<tcp-socket, input-stream, output-stream>, error-code> */
static shoal_err_t do_accept(WASI_ARGS) {
  SELF(WASI_K_TCP);
  if (s->st != S_LISTENING) return fail(c, envp, r, E_INVALID_STATE);
  int fd;
  do fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return fail(c, envp, r, errno);
  uint32_t rep = sock_new(WASI_CTX, WASI_K_TCP, fd, s->family, S_CONNECTED);
  if (!rep) return wv_oom(c);
  shoal_cval_t *p = wv_ok_payload(c, r);
  if (!p || !wv_record(p, SHOAL_CT_TUPLE, 3)) return wv_oom(c);
  p->of.list.items[0] = (shoal_cval_t){.kind = SHOAL_CT_OWN, .of.handle = rep};
  return streams(c, WASI_CTX, p->of.list.items + 1, fd);
}

/* local-address / remote-address */
static shoal_err_t address(WASI_ARGS) {
  bool udp = strstr(WASI_ENV->func, "udp") != NULL, remote = strstr(WASI_ENV->func, "remote") != NULL;
  SELF(udp ? WASI_K_UDP : WASI_K_TCP);
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (!remote && s->st == S_UNBOUND) return fail(c, envp, r, E_INVALID_STATE);
  if (remote && !udp && s->st != S_CONNECTED) return fail(c, envp, r, E_INVALID_STATE);
  int rc = remote ? getpeername(s->fd, (struct sockaddr *)&ss, &len) : getsockname(s->fd, (struct sockaddr *)&ss, &len);
  if (rc != 0) return fail(c, envp, r, errno == ENOTCONN ? E_INVALID_STATE : errno);
  shoal_cval_t *p = wv_ok_payload(c, r);
  if (!p || !put_addr(p, &ss)) return wv_oom(c);
  return SHOAL_ERR_OK;
}

static shoal_err_t is_listening(WASI_ARGS) {
  SELF(WASI_K_TCP);
  r->kind = SHOAL_CT_BOOL;
  r->of.b = s->st == S_LISTENING;
  return SHOAL_ERR_OK;
}

static shoal_err_t address_family(WASI_ARGS) {
  bool udp = strstr(WASI_ENV->func, "udp") != NULL;
  SELF(udp ? WASI_K_UDP : WASI_K_TCP);
  r->kind = SHOAL_CT_ENUM;
  r->of.var.disc = s->family == AF_INET6 ? 1 : 0;
  return SHOAL_ERR_OK;
}

static shoal_err_t set_backlog(WASI_ARGS) {
  SELF(WASI_K_TCP);
  if (a[1].of.u == 0) return fail(c, envp, r, EINVAL);
  s->backlog = a[1].of.u > 4096 ? 4096 : (uint32_t)a[1].of.u;
  if (s->st == S_LISTENING && listen(s->fd, (int)s->backlog) != 0) return fail(c, envp, r, errno);
  return ok_unit(r);
}

/* The getters and setters of socket options: name -> level, option, kind. */
typedef struct opt {
  const char *name;
  int level, opt;
  enum { O_BOOL, O_NS, O_INT, O_HOPS } kind;
} opt_t;

static const opt_t opts[] = {
  {"keep-alive-enabled", SOL_SOCKET, SO_KEEPALIVE, O_BOOL},
  {"keep-alive-idle-time", IPPROTO_TCP, TCP_KEEPIDLE, O_NS},
  {"keep-alive-interval", IPPROTO_TCP, TCP_KEEPINTVL, O_NS},
  {"keep-alive-count", IPPROTO_TCP, TCP_KEEPCNT, O_INT},
  {"hop-limit", 0, 0, O_HOPS},
  {"unicast-hop-limit", 0, 0, O_HOPS},
  {"receive-buffer-size", SOL_SOCKET, SO_RCVBUF, O_INT},
  {"send-buffer-size", SOL_SOCKET, SO_SNDBUF, O_INT},
};

static shoal_err_t sockopt(WASI_ARGS) {
  bool udp = strstr(WASI_ENV->func, "udp") != NULL;
  SELF(udp ? WASI_K_UDP : WASI_K_TCP);
  const char *name = strchr(WASI_ENV->func, '.') + 1;
  bool set = strncmp(name, "set-", 4) == 0;
  if (set) name += 4;
  const opt_t *o = NULL;
  for (size_t i = 0; i < sizeof opts / sizeof *opts; i++)
    if (strcmp(opts[i].name, name) == 0) o = &opts[i];
  if (!o) return shoal_ccall_trap(c, "%s: unknown socket option", WASI_ENV->func);
  int level = o->level, opt = o->opt;
  if (o->kind == O_HOPS) {
    level = s->family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
    opt = s->family == AF_INET6 ? IPV6_UNICAST_HOPS : IP_TTL;
  }
  int v;
  if (set) {
    uint64_t x = a[1].kind == SHOAL_CT_BOOL ? a[1].of.b : a[1].of.u;
    if (o->kind == O_NS) x = x / 1000000000u;  /* the kernel takes seconds */
    if ((o->kind != O_BOOL && x == 0) || x > INT32_MAX) return fail(c, envp, r, EINVAL);
    v = (int)x;
    if (setsockopt(s->fd, level, opt, &v, sizeof v) != 0) return fail(c, envp, r, errno);
    return ok_unit(r);
  }
  socklen_t len = sizeof v;
  if (getsockopt(s->fd, level, opt, &v, &len) != 0) return fail(c, envp, r, errno);
  shoal_cval_t *p = wv_ok_payload(c, r);
  if (!p) return SHOAL_ERR_TRAP_HOST;
  const cmp_type_t *t = WASI_ENV->type->result->elem;
  if (o->kind == O_BOOL) {
    p->kind = SHOAL_CT_BOOL;
    p->of.b = v != 0;
  } else {
    wv_u(p, t->kind, o->kind == O_NS ? (uint64_t)v * 1000000000u : (uint64_t)v);
  }
  return SHOAL_ERR_OK;
}

static shoal_err_t do_shutdown(WASI_ARGS) {
  SELF(WASI_K_TCP);
  if (s->st != S_CONNECTED) return fail(c, envp, r, E_INVALID_STATE);
  uint32_t k = a[1].of.var.disc;
  if (shutdown(s->fd, k == 0 ? SHUT_RD : k == 1 ? SHUT_WR : SHUT_RDWR) != 0 && errno != ENOTCONN)
    return fail(c, envp, r, errno);
  return ok_unit(r);
}
/* }================================================================== */

/* {==================================================================
** UDP datagram streams
** =================================================================== */
typedef struct dgram {
  shoal_wasi_ctx_t *w;
  int fd;
  bool connected, in;
} dgram_t;

static bool dgram_ready(void *self) {
  dgram_t *d = self;
  struct pollfd p = {d->fd, d->in ? POLLIN : POLLOUT, 0};
  return poll(&p, 1, 0) != 0;
}

static void dgram_wait(void *self, int *fd, short *ev, uint64_t *dl) {
  (void)dl;
  dgram_t *d = self;
  *fd = d->fd;
  *ev = d->in ? POLLIN : POLLOUT;
}

static void dgram_close(void *self) {
  close(((dgram_t *)self)->fd);
  free(self);
}
static const shoal_wasi_ops_t dgram_ops = {.ready = dgram_ready, .wait = dgram_wait, .close = dgram_close};

/* %stream(remote-address: option<ip-socket-address>) */
static shoal_err_t udp_stream(WASI_ARGS) {
  SELF(WASI_K_UDP);
  if (s->st != S_BOUND) return fail(c, envp, r, E_INVALID_STATE);
  bool remote = a[1].of.var.disc == 1;
  if (remote) {
    struct sockaddr_storage ss;
    socklen_t len;
    if (!a[1].of.var.payload || !get_addr(a[1].of.var.payload, &ss, &len) || ss.ss_family != s->family)
      return fail(c, envp, r, EINVAL);
    if (!granted(WASI_CTX, &ss)) return fail(c, envp, r, EACCES);
    if (connect(s->fd, (struct sockaddr *)&ss, len) != 0) return fail(c, envp, r, errno);
  } else if (s->streaming) {
    struct sockaddr un = {.sa_family = AF_UNSPEC};
    connect(s->fd, &un, sizeof un);  /* dissolve the association */
  }
  s->streaming = true;
  uint32_t reps[2] = {0, 0};
  for (int i = 0; i < 2; i++) {
    int fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0);
    dgram_t *d = fd >= 0 ? malloc(sizeof *d) : NULL;
    if (!d) {
      if (fd >= 0) close(fd);
      return wv_oom(c);
    }
    *d = (dgram_t){WASI_CTX, fd, remote, i == 0};
    if (!(reps[i] = wasi_obj_add(WASI_CTX, i == 0 ? WASI_K_DGRAM_IN : WASI_K_DGRAM_OUT, &dgram_ops, d))) return wv_oom(c);
  }
  shoal_cval_t *p = wv_ok_payload(c, r);
  if (!p || !wv_record(p, SHOAL_CT_TUPLE, 2)) return wv_oom(c);
  p->of.list.items[0] = (shoal_cval_t){.kind = SHOAL_CT_OWN, .of.handle = reps[0]};
  p->of.list.items[1] = (shoal_cval_t){.kind = SHOAL_CT_OWN, .of.handle = reps[1]};
  return SHOAL_ERR_OK;
}

static dgram_t *self_dgram(shoal_ccall_t *c, void *envp, const shoal_cval_t *a, size_t na, int kind) {
  wasi_obj_t *o = na ? wasi_obj_get(WASI_CTX, a[0].of.handle, kind) : NULL;
  if (!o) shoal_ccall_trap(c, "%s: not a live datagram stream", WASI_ENV->func);
  return o ? o->self : NULL;
}

/* receive(max-results) -> result<list<incoming-datagram>, error-code> */
static shoal_err_t dgram_receive(WASI_ARGS) {
  dgram_t *d = self_dgram(c, envp, a, na, WASI_K_DGRAM_IN);
  if (!d) return SHOAL_ERR_TRAP_HOST;
  size_t max = a[1].of.u > 64 ? 64 : (size_t)a[1].of.u, n = 0;
  uint8_t *buf = malloc(MAX_DGRAM);
  shoal_cval_t *p = wv_ok_payload(c, r);
  if (!buf || !p || !wv_list(p, max)) {
    free(buf);
    return wv_oom(c);
  }
  while (n < max) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    ssize_t k = recvfrom(d->fd, buf, MAX_DGRAM, MSG_DONTWAIT, (struct sockaddr *)&ss, &len);
    if (k < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || n) break;
      int e = errno;
      free(buf);
      shoal_cval_free(r);
      memset(r, 0, sizeof *r);
      return fail(c, envp, r, e);
    }
    shoal_cval_t *dg = &p->of.list.items[n++];
    if (!wv_record(dg, SHOAL_CT_RECORD, 2) || !wv_bytes(&dg->of.list.items[0], buf, (size_t)k) ||
        !put_addr(&dg->of.list.items[1], &ss)) {
      free(buf);
      return wv_oom(c);
    }
  }
  p->of.list.n = n;
  free(buf);
  return SHOAL_ERR_OK;
}

static shoal_err_t dgram_check_send(WASI_ARGS) {
  dgram_t *d = self_dgram(c, envp, a, na, WASI_K_DGRAM_OUT);
  if (!d) return SHOAL_ERR_TRAP_HOST;
  shoal_cval_t *p = wv_ok_payload(c, r);
  if (!p) return SHOAL_ERR_TRAP_HOST;
  wv_u(p, SHOAL_CT_U64, dgram_ready(d) ? 64 : 0);
  return SHOAL_ERR_OK;
}

/* send(list<outgoing-datagram>) -> result<u64, error-code> */
static shoal_err_t dgram_send(WASI_ARGS) {
  dgram_t *d = self_dgram(c, envp, a, na, WASI_K_DGRAM_OUT);
  if (!d) return SHOAL_ERR_TRAP_HOST;
  const shoal_cval_t *list = &a[1];
  uint64_t sent = 0;
  for (size_t i = 0; i < list->of.list.n; i++) {
    const shoal_cval_t *dg = &list->of.list.items[i];
    if (dg->kind != SHOAL_CT_RECORD || dg->of.list.n != 2 || dg->of.list.items[1].kind != SHOAL_CT_OPTION)
      return fail(c, envp, r, EINVAL);
    const shoal_cval_t *opt = &dg->of.list.items[1];
    struct sockaddr_storage ss;
    socklen_t len = 0;
    bool to = opt->of.var.disc == 1;
    if (to && (!opt->of.var.payload || !get_addr(opt->of.var.payload, &ss, &len))) return fail(c, envp, r, EINVAL);
    if (to && d->connected) return fail(c, envp, r, EINVAL);  /* a stream with a remote sends there only */
    if (!to && !d->connected) return fail(c, envp, r, EINVAL);
    if (to && !granted(WASI_CTX, &ss)) return fail(c, envp, r, EACCES);
    size_t n;
    uint8_t *buf = wv_get_bytes(&dg->of.list.items[0], &n);
    if (!buf) return wv_oom(c);
    ssize_t k = to ? sendto(d->fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&ss, len)
                   : send(d->fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    int e = errno;
    free(buf);
    if (k < 0) {
      if (e == EAGAIN && sent) break;
      if (sent) break;
      return fail(c, envp, r, e);
    }
    sent++;
  }
  shoal_cval_t *p = wv_ok_payload(c, r);
  if (!p) return SHOAL_ERR_TRAP_HOST;
  wv_u(p, SHOAL_CT_U64, sent);
  return SHOAL_ERR_OK;
}
/* }================================================================== */

/* {==================================================================
** Networks and name lookup
** =================================================================== */
static const shoal_wasi_ops_t network_ops = {0};

static shoal_err_t instance_network(WASI_ARGS) {
  (void)a; (void)na;
  r->kind = SHOAL_CT_OWN;
  return (r->of.handle = wasi_obj_add(WASI_CTX, WASI_K_NETWORK, &network_ops, NULL)) ? SHOAL_ERR_OK : wv_oom(c);
}

/* network-error-code(borrow<error>) -> option<error-code> */
static shoal_err_t network_error_code(WASI_ARGS) {
  int e;
  r->kind = SHOAL_CT_OPTION;
  r->of.var.disc = 0;
  if (!na || !wasi_error_errno(WASI_CTX, a[0].of.handle, &e)) return SHOAL_ERR_OK;
  shoal_cval_t *p = wv_payload(r, SHOAL_CT_OPTION, 1);
  if (!p) return wv_oom(c);
  set_code(p, WASI_ENV->type->result->elem, e);
  return SHOAL_ERR_OK;
}

typedef struct resolved {
  struct sockaddr_storage *addrs;
  size_t n, next;
} resolved_t;

static void resolved_close(void *self) {
  resolved_t *rs = self;
  free(rs->addrs);
  free(rs);
}
static const shoal_wasi_ops_t resolved_ops = {.close = resolved_close};

/* resolve-addresses(network, name): getaddrinfo, at once (it blocks) */
static shoal_err_t resolve_addresses(WASI_ARGS) {
  if (na < 2 || !network_arg(c, envp, &a[0])) return SHOAL_ERR_TRAP_HOST;
  if (!WASI_CTX->cfg->nnet_allow) return fail(c, envp, r, EACCES);
  const shoal_cval_t *name = &a[1];
  if (name->of.str.len == 0 || memchr(name->of.str.ptr, 0, name->of.str.len)) return fail(c, envp, r, EINVAL);
  char *host = strndup(name->of.str.ptr, name->of.str.len);
  if (!host) return wv_oom(c);
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
  int g = getaddrinfo(host, NULL, &hints, &res);
  free(host);
  if (g != 0)
    return fail(c, envp, r, g == EAI_AGAIN ? E_RESOLVER_TEMP : g == EAI_NONAME || g == EAI_NODATA ? E_UNRESOLVABLE
                          : g == EAI_MEMORY ? ENOMEM : E_RESOLVER_PERM);
  resolved_t *rs = calloc(1, sizeof *rs);
  size_t cap = 0;
  for (struct addrinfo *i = res; i; i = i->ai_next) cap++;
  if (rs) rs->addrs = calloc(cap + 1, sizeof *rs->addrs);
  if (!rs || !rs->addrs) {
    freeaddrinfo(res);
    if (rs) free(rs);
    return wv_oom(c);
  }
  for (struct addrinfo *i = res; i; i = i->ai_next)
    if ((i->ai_family == AF_INET || i->ai_family == AF_INET6) && i->ai_addrlen <= sizeof *rs->addrs)
      memcpy(&rs->addrs[rs->n++], i->ai_addr, i->ai_addrlen);
  freeaddrinfo(res);
  uint32_t rep = wasi_obj_add(WASI_CTX, WASI_K_RESOLVE, &resolved_ops, rs);
  if (!rep) return wv_oom(c);
  return wv_ok_own(c, r, rep);
}

/* resolve-next-address() -> result<option<ip-address>, error-code> */
static shoal_err_t resolve_next(WASI_ARGS) {
  wasi_obj_t *o = na ? wasi_obj_get(WASI_CTX, a[0].of.handle, WASI_K_RESOLVE) : NULL;
  if (!o) return shoal_ccall_trap(c, "resolve-next-address: not a live resolve-address-stream");
  resolved_t *rs = o->self;
  shoal_cval_t *p = wv_ok_payload(c, r);
  if (!p) return SHOAL_ERR_TRAP_HOST;
  p->kind = SHOAL_CT_OPTION;
  if (rs->next == rs->n) return SHOAL_ERR_OK;
  const struct sockaddr_storage *ss = &rs->addrs[rs->next++];
  shoal_cval_t *ip = wv_payload(p, SHOAL_CT_OPTION, 1);
  shoal_cval_t *t = ip ? wv_payload(ip, SHOAL_CT_VARIANT, ss->ss_family == AF_INET ? 0 : 1) : NULL;
  if (!t || !put_ip(t, ss)) return wv_oom(c);
  return SHOAL_ERR_OK;
}
/* }================================================================== */

#define TCP "wasi:sockets/tcp"
#define UDP "wasi:sockets/udp"
static const wasi_fn_t fns[] = {
  {"wasi:sockets/instance-network", "instance-network", instance_network, ""},
  {"wasi:sockets/network", "network-error-code", network_error_code, "h>O"},
  {"wasi:sockets/tcp-create-socket", "create-tcp-socket", create_socket, "e>E"},
  {"wasi:sockets/udp-create-socket", "create-udp-socket", create_socket, "e>E"},
  {TCP, "[method]tcp-socket.start-bind", start_bind, "hhv>E"},
  {TCP, "[method]tcp-socket.finish-bind", finish, "h>E"},
  {TCP, "[method]tcp-socket.start-connect", start_connect, "hhv>E"},
  {TCP, "[method]tcp-socket.finish-connect", finish_connect, "h>E"},
  {TCP, "[method]tcp-socket.start-listen", start_listen, "h>E"},
  {TCP, "[method]tcp-socket.finish-listen", finish, "h>E"},
  {TCP, "[method]tcp-socket.accept", do_accept, "h>E"},
  {TCP, "[method]tcp-socket.local-address", address, "h>E"},
  {TCP, "[method]tcp-socket.remote-address", address, "h>E"},
  {TCP, "[method]tcp-socket.is-listening", is_listening, "h"},
  {TCP, "[method]tcp-socket.address-family", address_family, "h"},
  {TCP, "[method]tcp-socket.set-listen-backlog-size", set_backlog, "hu>E"},
  {TCP, "[method]tcp-socket.keep-alive-enabled", sockopt, "h>P"},
  {TCP, "[method]tcp-socket.set-keep-alive-enabled", sockopt, "hb>E"},
  {TCP, "[method]tcp-socket.keep-alive-idle-time", sockopt, "h>P"},
  {TCP, "[method]tcp-socket.set-keep-alive-idle-time", sockopt, "hu>E"},
  {TCP, "[method]tcp-socket.keep-alive-interval", sockopt, "h>P"},
  {TCP, "[method]tcp-socket.set-keep-alive-interval", sockopt, "hu>E"},
  {TCP, "[method]tcp-socket.keep-alive-count", sockopt, "h>P"},
  {TCP, "[method]tcp-socket.set-keep-alive-count", sockopt, "hu>E"},
  {TCP, "[method]tcp-socket.hop-limit", sockopt, "h>P"},
  {TCP, "[method]tcp-socket.set-hop-limit", sockopt, "hu>E"},
  {TCP, "[method]tcp-socket.receive-buffer-size", sockopt, "h>P"},
  {TCP, "[method]tcp-socket.set-receive-buffer-size", sockopt, "hu>E"},
  {TCP, "[method]tcp-socket.send-buffer-size", sockopt, "h>P"},
  {TCP, "[method]tcp-socket.set-send-buffer-size", sockopt, "hu>E"},
  {TCP, "[method]tcp-socket.subscribe", wasi_subscribe_fn, "h"},
  {TCP, "[method]tcp-socket.shutdown", do_shutdown, "he>E"},
  {UDP, "[method]udp-socket.start-bind", start_bind, "hhv>E"},
  {UDP, "[method]udp-socket.finish-bind", finish, "h>E"},
  {UDP, "[method]udp-socket.stream", udp_stream, "ho>E"},
  {UDP, "[method]udp-socket.local-address", address, "h>E"},
  {UDP, "[method]udp-socket.remote-address", address, "h>E"},
  {UDP, "[method]udp-socket.address-family", address_family, "h"},
  {UDP, "[method]udp-socket.unicast-hop-limit", sockopt, "h>P"},
  {UDP, "[method]udp-socket.set-unicast-hop-limit", sockopt, "hu>E"},
  {UDP, "[method]udp-socket.receive-buffer-size", sockopt, "h>P"},
  {UDP, "[method]udp-socket.set-receive-buffer-size", sockopt, "hu>E"},
  {UDP, "[method]udp-socket.send-buffer-size", sockopt, "h>P"},
  {UDP, "[method]udp-socket.set-send-buffer-size", sockopt, "hu>E"},
  {UDP, "[method]udp-socket.subscribe", wasi_subscribe_fn, "h"},
  {UDP, "[method]incoming-datagram-stream.receive", dgram_receive, "hu>E"},
  {UDP, "[method]incoming-datagram-stream.subscribe", wasi_subscribe_fn, "h"},
  {UDP, "[method]outgoing-datagram-stream.check-send", dgram_check_send, "h>E"},
  {UDP, "[method]outgoing-datagram-stream.send", dgram_send, "hL>E"},
  {UDP, "[method]outgoing-datagram-stream.subscribe", wasi_subscribe_fn, "h"},
  {"wasi:sockets/ip-name-lookup", "resolve-addresses", resolve_addresses, "hs>E"},
  {"wasi:sockets/ip-name-lookup", "[method]resolve-address-stream.resolve-next-address", resolve_next, "h>E"},
  {"wasi:sockets/ip-name-lookup", "[method]resolve-address-stream.subscribe", wasi_subscribe_fn, "h"},
};
#undef TCP
#undef UDP

const wasi_fn_t *wasi_net_fns(size_t *n) {
  *n = sizeof fns / sizeof *fns;
  return fns;
}
