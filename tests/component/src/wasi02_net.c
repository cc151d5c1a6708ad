/* A WASI command that uses wasi:sockets directly (canonical ABI by hand):
** a TCP listener and a client on 127.0.0.1 talking to each other, two UDP
** sockets exchanging a datagram, and error codes. With argument `denied`
** it only tries to bind and connect (for a host that grants no addresses);
** with `inuse` it also binds a second socket to the listener's port. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT(mod, name) __attribute__((import_module(mod), import_name(name))) extern
#define TCP "wasi:sockets/tcp@0.2.12"
#define UDP "wasi:sockets/udp@0.2.12"
#define IO "wasi:io/streams@0.2.12"
#define ADDR int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t

IMPORT("wasi:sockets/instance-network@0.2.12", "instance-network") int32_t instance_network(void);
IMPORT("wasi:sockets/network@0.2.12", "[resource-drop]network") void network_drop(int32_t);
IMPORT("wasi:sockets/tcp-create-socket@0.2.12", "create-tcp-socket") void create_tcp(int32_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.start-bind") void tcp_start_bind(int32_t, int32_t, ADDR, void *ret);
IMPORT(TCP, "[method]tcp-socket.finish-bind") void tcp_finish_bind(int32_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.start-listen") void tcp_start_listen(int32_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.finish-listen") void tcp_finish_listen(int32_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.start-connect") void tcp_start_connect(int32_t, int32_t, ADDR, void *ret);
IMPORT(TCP, "[method]tcp-socket.finish-connect") void tcp_finish_connect(int32_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.accept") void tcp_accept(int32_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.local-address") void tcp_local(int32_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.remote-address") void tcp_remote(int32_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.is-listening") int32_t tcp_is_listening(int32_t);
IMPORT(TCP, "[method]tcp-socket.address-family") int32_t tcp_family(int32_t);
IMPORT(TCP, "[method]tcp-socket.set-keep-alive-enabled") void tcp_set_keepalive(int32_t, int32_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.keep-alive-enabled") void tcp_keepalive(int32_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.subscribe") int32_t tcp_subscribe(int32_t);
IMPORT(TCP, "[method]tcp-socket.shutdown") void tcp_shutdown(int32_t, int32_t, void *ret);
IMPORT(TCP, "[resource-drop]tcp-socket") void tcp_drop(int32_t);
IMPORT("wasi:sockets/udp-create-socket@0.2.12", "create-udp-socket") void create_udp(int32_t, void *ret);
IMPORT(UDP, "[method]udp-socket.start-bind") void udp_start_bind(int32_t, int32_t, ADDR, void *ret);
IMPORT(UDP, "[method]udp-socket.finish-bind") void udp_finish_bind(int32_t, void *ret);
IMPORT(UDP, "[method]udp-socket.local-address") void udp_local(int32_t, void *ret);
IMPORT(UDP, "[method]udp-socket.stream") void udp_stream(int32_t, int32_t, ADDR, void *ret);
IMPORT(UDP, "[method]incoming-datagram-stream.receive") void dg_receive(int32_t, uint64_t, void *ret);
IMPORT(UDP, "[method]incoming-datagram-stream.subscribe") int32_t dg_in_subscribe(int32_t);
IMPORT(UDP, "[method]outgoing-datagram-stream.check-send") void dg_check_send(int32_t, void *ret);
IMPORT(UDP, "[method]outgoing-datagram-stream.send") void dg_send(int32_t, const void *, size_t, void *ret);
IMPORT(UDP, "[resource-drop]incoming-datagram-stream") void dg_in_drop(int32_t);
IMPORT(UDP, "[resource-drop]outgoing-datagram-stream") void dg_out_drop(int32_t);
IMPORT(UDP, "[resource-drop]udp-socket") void udp_drop(int32_t);
IMPORT(IO, "[method]output-stream.blocking-write-and-flush") void os_bwaf(int32_t, const void *, size_t, void *ret);
IMPORT(IO, "[method]input-stream.blocking-read") void is_bread(int32_t, uint64_t, void *ret);
IMPORT(IO, "[resource-drop]input-stream") void is_drop(int32_t);
IMPORT(IO, "[resource-drop]output-stream") void os_drop(int32_t);
IMPORT("wasi:sockets/ip-name-lookup@0.2.12", "resolve-addresses") void resolve(int32_t, const char *, size_t, void *ret);
IMPORT("wasi:sockets/ip-name-lookup@0.2.12", "[method]resolve-address-stream.resolve-next-address") void resolve_next(int32_t, void *ret);
IMPORT("wasi:sockets/ip-name-lookup@0.2.12", "[resource-drop]resolve-address-stream") void resolve_drop(int32_t);
IMPORT("wasi:io/poll@0.2.12", "[method]pollable.block") void p_block(int32_t);
IMPORT("wasi:io/poll@0.2.12", "[resource-drop]pollable") void p_drop(int32_t);

__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *p, size_t old, size_t align, size_t n) {
  (void)old; (void)align;
  return realloc(p, n ? n : 1);
}

static _Alignas(8) uint8_t ret[64];
#define U8(o) (*(uint8_t *)(ret + (o)))
#define U16(o) (*(uint16_t *)(ret + (o)))
#define U32(o) (*(uint32_t *)(ret + (o)))
#define U64(o) (*(uint64_t *)(ret + (o)))
/* ip-socket-address ipv4 127.0.0.1:port, flattened */
#define LOOPBACK(port) 0, (int32_t)(port), 127, 0, 0, 1, 0, 0, 0, 0, 0, 0

static const char *res(void) { return U8(0) ? "err" : "ok"; }

static void wait_on(int32_t pollable) {
  p_block(pollable);
  p_drop(pollable);
}

/* Reads exactly n bytes (or to the end) into buf. */
static size_t read_n(int32_t in, char *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    is_bread(in, n - got, ret);
    if (U8(0)) break;
    memcpy(buf + got, (void *)(uintptr_t)U32(4), U32(8));
    got += U32(8);
    free((void *)(uintptr_t)U32(4));
  }
  return got;
}

int main(int argc, char **argv) {
  int32_t net = instance_network();
  if (argc > 1 && strcmp(argv[1], "denied") == 0) {
    create_tcp(0, ret);
    int32_t s = (int32_t)U32(4);
    tcp_start_bind(s, net, LOOPBACK(0), ret);
    printf("tcp bind 127.0.0.1:0: %s code %u\n", res(), U8(1));
    tcp_start_connect(s, net, LOOPBACK(9), ret);
    printf("tcp connect 127.0.0.1:9: %s code %u\n", res(), U8(1));
    tcp_drop(s);
    create_udp(0, ret);
    s = (int32_t)U32(4);
    udp_start_bind(s, net, LOOPBACK(0), ret);
    printf("udp bind 127.0.0.1:0: %s code %u\n", res(), U8(1));
    udp_drop(s);
    resolve(net, "127.0.0.1", 9, ret);
    printf("resolve-addresses: %s code %u\n", res(), U8(4));
    network_drop(net);
    return 0;
  }

  /* a name lookup that needs no resolver */
  resolve(net, "127.0.0.1", 9, ret);
  printf("resolve-addresses 127.0.0.1: %s\n", res());
  int32_t rs = (int32_t)U32(4);
  for (int i = 0; i < 3; i++) {
    resolve_next(rs, ret);
    if (U8(0) || !U8(2)) break;
    printf("address: %s %u.%u.%u.%u\n", U8(4) == 0 ? "ipv4" : "ipv6", U8(6), U8(7), U8(8), U8(9));
  }
  printf("then: %s %s\n", res(), U8(0) ? "error" : U8(2) ? "more" : "none");
  resolve_drop(rs);

  /* TCP: a listener */
  create_tcp(0, ret);
  printf("create-tcp-socket: %s\n", res());
  int32_t srv = (int32_t)U32(4);
  tcp_start_bind(srv, net, LOOPBACK(0), ret);
  printf("start-bind: %s\n", res());
  tcp_finish_bind(srv, ret);
  printf("finish-bind: %s\n", res());
  tcp_finish_bind(srv, ret);
  printf("finish-bind again: %s code %u\n", res(), U8(1));
  tcp_start_listen(srv, ret);
  tcp_finish_listen(srv, ret);
  printf("listen: %s, is-listening %d, family %d\n", res(), tcp_is_listening(srv), tcp_family(srv));
  tcp_local(srv, ret);
  uint16_t port = U16(8);
  printf("local-address: %s ipv4 %d, port > 0: %d, %u.%u.%u.%u\n", res(), U8(4) == 0, port > 0, U8(10), U8(11), U8(12),
         U8(13));

  /* a client */
  create_tcp(0, ret);
  int32_t cli = (int32_t)U32(4);
  tcp_start_connect(cli, net, LOOPBACK(port), ret);
  printf("start-connect: %s\n", res());
  int32_t cin, cout;
  for (;;) {
    tcp_finish_connect(cli, ret);
    if (!U8(0) || U8(4) != 8 /* would-block */) break;
    wait_on(tcp_subscribe(cli));
  }
  printf("finish-connect: %s\n", res());
  cin = (int32_t)U32(4);
  cout = (int32_t)U32(8);
  int32_t conn, sin, sout;
  for (;;) {
    tcp_accept(srv, ret);
    if (!U8(0) || U8(4) != 8) break;
    wait_on(tcp_subscribe(srv));
  }
  printf("accept: %s\n", res());
  conn = (int32_t)U32(4);
  sin = (int32_t)U32(8);
  sout = (int32_t)U32(12);
  tcp_remote(cli, ret);
  printf("client's remote port is the listener's: %d\n", U16(8) == port);
  tcp_local(cli, ret);
  uint16_t cport = U16(8);
  tcp_remote(conn, ret);
  printf("server side's remote port is the client's: %d\n", U16(8) == cport);
  tcp_local(conn, ret);
  printf("server side's local port is the listener's: %d\n", U16(8) == port);
  printf("is-listening: client %d, server side %d\n", tcp_is_listening(cli), tcp_is_listening(conn));

  /* talk */
  char buf[16] = {0};
  os_bwaf(cout, "ping", 4, ret);
  printf("client write: %s\n", res());
  printf("server read %zu: %.4s\n", read_n(sin, buf, 4), buf);
  os_bwaf(sout, "pong!", 5, ret);
  memset(buf, 0, sizeof buf);
  printf("client read %zu: %.5s\n", read_n(cin, buf, 5), buf);
  tcp_shutdown(cli, 1, ret);  /* send */
  printf("client shutdown send: %s\n", res());
  is_bread(sin, 10, ret);
  printf("server read after shutdown: %s\n", U8(0) ? (U8(4) == 1 ? "closed" : "failed") : "data");
  tcp_set_keepalive(cli, 1, ret);
  tcp_keepalive(cli, ret);
  printf("keep-alive: %s %u\n", res(), U8(1));

  /* errors */
  tcp_accept(cli, ret);
  printf("accept on a client: %s code %u\n", res(), U8(4));
  if (argc > 1 && strcmp(argv[1], "inuse") == 0) {  /* node's shim says invalid-state here */
    create_tcp(0, ret);
    int32_t third = (int32_t)U32(4);
    tcp_start_bind(third, net, LOOPBACK(port), ret);
    printf("bind to the listener's port: %s code %u\n", res(), U8(1));
    tcp_drop(third);
  }

  is_drop(cin);
  os_drop(cout);
  is_drop(sin);
  os_drop(sout);
  tcp_drop(conn);
  tcp_drop(cli);
  tcp_drop(srv);

  /* UDP */
  int32_t u[2], in[2], out[2];
  uint16_t uport[2];
  for (int i = 0; i < 2; i++) {
    create_udp(0, ret);
    u[i] = (int32_t)U32(4);
    udp_start_bind(u[i], net, LOOPBACK(0), ret);
    udp_finish_bind(u[i], ret);
    udp_local(u[i], ret);
    uport[i] = U16(8);
  }
  printf("udp bound: %d %d\n", uport[0] > 0, uport[1] > 0);
  udp_stream(u[0], 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ret);
  printf("stream(none): %s\n", res());
  in[0] = (int32_t)U32(4);
  out[0] = (int32_t)U32(8);
  udp_stream(u[1], 1, LOOPBACK(uport[0]), ret);
  printf("stream(some(first)): %s\n", res());
  in[1] = (int32_t)U32(4);
  out[1] = (int32_t)U32(8);
  dg_check_send(out[1], ret);
  printf("check-send: %s, > 0: %d\n", res(), U64(8) > 0);
  _Alignas(4) uint8_t dg[44];
  memset(dg, 0, sizeof dg);
  *(uint32_t *)dg = (uint32_t)(uintptr_t)"hello udp";
  *(uint32_t *)(dg + 4) = 9;  /* remote-address: none */
  dg_send(out[1], dg, 1, ret);
  printf("send: %s %llu\n", res(), (unsigned long long)U64(8));
  wait_on(dg_in_subscribe(in[0]));
  dg_receive(in[0], 10, ret);
  uint8_t *list = (uint8_t *)(uintptr_t)U32(4);
  printf("receive: %s %u datagram(s)\n", res(), U32(8));
  if (U32(8) >= 1) {
    printf("data: %.*s\n", (int)*(uint32_t *)(list + 4), (char *)(uintptr_t)*(uint32_t *)list);
    printf("from the second socket: %d, from 127.0.0.1: %d\n", *(uint16_t *)(list + 12) == uport[1],
           list[14] == 127 && list[17] == 1);
    free((void *)(uintptr_t)*(uint32_t *)list);
  }
  free(list);
  for (int i = 0; i < 2; i++) {
    dg_in_drop(in[i]);
    dg_out_drop(out[i]);
    udp_drop(u[i]);
  }
  network_drop(net);
  return 0;
}
