/* Instantiation micro-benchmark of `shoal serve` (make bench-http): fresh
** instances of a wasi:http component created, called and dropped per second,
** and the cost of instantiation alone. Uses the host layer's internals. */
#include "host/host_int.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc((size_t)n + 1);
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
  fclose(f);
  *len = (size_t)n;
  return b;
}

/* The worker's kept instance put back (shoal_cinstance_reinit) with a new
** WASI context, then released: what a busy worker pays per request
** instead of instantiating. -1: it cannot be put back (a memory mapped
** from a module image: such a worker makes a new instance every time). */
static double reinit_us(shoal_proxy_worker_t *w, int n) {
  static const shoal_crun_config_t wcfg = {0};
  uint64_t t0 = host_now_ns();
  for (int i = 0; i < n; i++) {
    shoal_wasi_ctx_t *wasi = NULL;
    shoal_diag_t d;
    if (shoal_wasi_ctx_new(&wcfg, &wasi, &d)) {
      fprintf(stderr, "WASI context: %s\n", d.message);
      exit(1);
    }
    if (shoal_cinstance_reinit(w->kept, wasi, &d)) {
      shoal_wasi_ctx_free(wasi);
      return -1;
    }
    shoal_cinstance_release(w->kept);
    shoal_wasi_ctx_free(wasi);
  }
  return (double)(host_now_ns() - t0) / 1e3 / n;
}

/* WASI context + instance in the worker's store, then freed and the store
** reset: what a request pays that starts from nothing. */
static double instantiate_us(shoal_proxy_worker_t *w, int n) {
  static const shoal_crun_config_t wcfg = {0};
  uint64_t t0 = host_now_ns();
  for (int i = 0; i < n; i++) {
    shoal_store_t *s = w->spare;
    shoal_wasi_ctx_t *wasi = NULL;
    shoal_cinstance_t *inst = NULL;
    shoal_diag_t d;
    if (shoal_wasi_ctx_new(&wcfg, &wasi, &d) ||
        shoal_cpre_instantiate(w->p->pre, s, wasi, &inst, &d)) {
      fprintf(stderr, "instantiate failed: %s\n", d.message);
      exit(1);
    }
    shoal_cinstance_free(inst);
    shoal_wasi_ctx_free(wasi);
    shoal_store_reset(s);
  }
  return (double)(host_now_ns() - t0) / 1e3 / n;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: inst_bench COMPONENT.wasm [SECONDS]\n");
    return 2;
  }
  double secs = argc > 2 ? atof(argv[2]) : 2.0;
  size_t len;
  uint8_t *bytes = read_file(argv[1], &len);
  if (!bytes) { perror(argv[1]); return 1; }
  shoal_proxy_config_t cfg = {.size = sizeof cfg};
  shoal_proxy_t *p;
  shoal_proxy_worker_t *w;
  shoal_diag_t d;
  if (shoal_proxy_new(bytes, len, &cfg, &p, &d) || shoal_proxy_worker_new(p, &w, &d)) {
    fprintf(stderr, "%s: %s\n", argv[1], d.message);
    return 1;
  }
  free(bytes);
  shoal_http_request_t req = {.method = "GET", .path_with_query = "/", .authority = "localhost"};
  /* warm up, then as many requests as fit in secs */
  int n = 0;
  uint64_t t0 = host_now_ns(), end = t0 + (uint64_t)(secs * 1e9);
  uint64_t now = t0;
  for (; now < end || n < 10; n++) {
    shoal_http_response_t resp;
    if (shoal_proxy_handle(w, &req, &resp, &d) != SHOAL_PROXY_OK || resp.status != 200) {
      fprintf(stderr, "request failed: %s\n", d.message);
      return 1;
    }
    shoal_http_response_free(&resp);
    if ((n & 15) == 0) now = host_now_ns();
  }
  now = host_now_ns();
  double per_req = (double)(now - t0) / 1e3 / n;
  int ni = n < 1000 ? n : n / 2;
  double re = w->kept ? reinit_us(w, ni) : -1;  /* none kept: it could not be put back */
  shoal_cinstance_free(w->kept);  /* the requests' instance: from here on, each one is new */
  w->kept = NULL;
  shoal_store_reset(w->spare);
  double inst = instantiate_us(w, ni);
  printf("requests %d\nrequest_us %.2f\nrequests_per_s %.0f\n", n, per_req, 1e6 / per_req);
  if (re >= 0) printf("reinit_us %.2f\n", re);
  printf("instantiate_us %.2f\n", inst);
  shoal_proxy_worker_free(w);
  shoal_proxy_free(p);
  return 0;
}
