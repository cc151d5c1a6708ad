/*
** `shoal serve`: serves a wasi:http/proxy component over HTTP/1.1 with a
** fresh instance per request (the host layer, include/shoal/host.h).
*/
#include "cli.h"
#include "shoal/host.h"

#include <stdlib.h>
#include <string.h>

static const char serve_usage[] =
  "usage: shoal serve [OPTIONS] COMPONENT.wasm\n"
  "  Serve a component exporting wasi:http/incoming-handler@0.2.x, a fresh\n"
  "  instance for every request. Stops on SIGTERM/SIGINT once in-flight\n"
  "  requests are answered.\n"
  "  --addr HOST:PORT        listen address (default 127.0.0.1:8080; port 0:\n"
  "                          any free port, printed on stdout)\n"
  "  --workers N             instance slots (stores) for guests that must wait or\n"
  "                          have large bodies, each on a thread (default 2); such\n"
  "                          requests beyond wait for a slot. Short requests run\n"
  "                          on the polling threads, one slot each\n"
  "  --max-instances N       requests admitted at once (running or waiting), 503\n"
  "                          beyond (default 1024, or --workers if larger)\n"
  "  --max-memory BYTES      per linear memory (K, M, G suffixes); a guest that\n"
  "                          fails to grow past it traps: 500\n"
  "  --timeout MS            per request; past it the guest is interrupted: 504\n"
  "  --max-call-depth N      wasm call depth per request (default 4096)\n"
  "  --allow-outbound HOST[:PORT]  let guests call this authority through\n"
  "                          wasi:http/outgoing-handler (repeatable; default none)\n"
  "  --admin HOST:PORT       Prometheus metrics at http://HOST:PORT/metrics\n"
  "  --access-log FILE       one line per request (- for stderr)\n";

static bool parse_u64(const char *s, uint64_t *out) {
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (end == s) return false;
  uint64_t mul = 1;
  if (*end == 'K' || *end == 'k') mul = 1024, end++;
  else if (*end == 'M' || *end == 'm') mul = 1024 * 1024, end++;
  else if (*end == 'G' || *end == 'g') mul = 1024ull * 1024 * 1024, end++;
  if (*end) return false;
  *out = (uint64_t)v * mul;
  return true;
}

static void on_ready(void *ud, unsigned port, unsigned admin_port) {
  (void)ud;
  printf("listening on port %u", port);
  if (admin_port) printf(", metrics on port %u", admin_port);
  printf("\n");
  fflush(stdout);
}

int cli_serve_main(int argc, char **argv) {
  shoal_server_config_t scfg = {.size = sizeof scfg, .addr = "127.0.0.1:8080", .workers = 2,
                                .on_ready = on_ready};
  shoal_proxy_config_t pcfg = {.size = sizeof pcfg};
  const char **allow = calloc((size_t)argc + 1, sizeof *allow);
  if (!allow) return CLI_EXIT_ERROR;
  size_t nallow = 0;
  const char *file = NULL;
  int rc = CLI_EXIT_USAGE;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    uint64_t n = 0;
    if (a[0] != '-' && !file) { file = a; continue; }
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      fputs(serve_usage, stdout);
      free(allow);
      return CLI_EXIT_OK;
    }
    if (!v) { fprintf(stderr, "serve: %s needs a value\n%s", a, serve_usage); goto out; }
    i++;
    if (strcmp(a, "--addr") == 0) scfg.addr = v;
    else if (strcmp(a, "--admin") == 0) scfg.admin_addr = v;
    else if (strcmp(a, "--access-log") == 0) scfg.access_log = v;
    else if (strcmp(a, "--allow-outbound") == 0) allow[nallow++] = v;
    else if (!parse_u64(v, &n)) { fprintf(stderr, "serve: %s %s: expected a number\n", a, v); goto out; }
    else if (strcmp(a, "--workers") == 0 && n > 0 && n <= 100000) scfg.workers = (unsigned)n;
    else if (strcmp(a, "--max-instances") == 0 && n > 0 && n <= 1000000) scfg.max_instances = (unsigned)n;
    else if (strcmp(a, "--max-memory") == 0 && n > 0) pcfg.max_memory_bytes = n;
    else if (strcmp(a, "--timeout") == 0 && n > 0 && n <= 86400000) pcfg.timeout_ms = (uint32_t)n;
    else if (strcmp(a, "--max-call-depth") == 0 && n > 0 && n <= 10000000) pcfg.max_call_depth = (uint32_t)n;
    else { fprintf(stderr, "serve: bad option %s %s\n%s", a, v, serve_usage); goto out; }
  }
  if (!file) { fprintf(stderr, "serve: missing COMPONENT.wasm\n%s", serve_usage); goto out; }
  pcfg.allow_outbound = allow;
  pcfg.nallow = nallow;
  uint8_t *bytes = NULL;
  size_t len = 0;
  char err[512];
  rc = CLI_EXIT_ERROR;
  if (!cli_read_file(file, &bytes, &len, err, sizeof err)) {
    fprintf(stderr, "serve: %s\n", err);
    goto out;
  }
  shoal_proxy_t *p = NULL;
  shoal_diag_t diag;
  shoal_err_t e = shoal_proxy_new(bytes, len, &pcfg, &p, &diag);
  free(bytes);
  if (e) {
    fprintf(stderr, "serve: %s: %s\n", file, cli_diag_message(&diag, e));
    goto out;
  }
  e = shoal_serve(p, &scfg, &diag);
  if (e) fprintf(stderr, "serve: %s\n", cli_diag_message(&diag, e));
  else rc = CLI_EXIT_OK;
  shoal_proxy_free(p);
out:
  free(allow);
  return rc;
}
