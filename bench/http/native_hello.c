/* The native baseline of make bench-http: libmicrohttpd with the same
** options as `shoal serve`, answering every request with the bytes of the
** C hello component ("hello from C\n", text/plain). Stops on SIGTERM. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char body[] = "hello from C\n";

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls) {
  (void)cls; (void)url; (void)method; (void)version; (void)upload;
  if (!*con_cls) { *con_cls = (void *)1; return MHD_YES; }
  if (*upload_size) { *upload_size = 0; return MHD_YES; }
  struct MHD_Response *r = MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
  MHD_add_response_header(r, "content-type", "text/plain");
  enum MHD_Result ok = MHD_queue_response(con, 200, r);
  MHD_destroy_response(r);
  return ok;
}

int main(int argc, char **argv) {
  unsigned workers = argc > 1 ? (unsigned)atoi(argv[1]) : 2;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC, 0, NULL, NULL, on_request, NULL,
                                          MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                                          MHD_OPTION_THREAD_POOL_SIZE, workers,
                                          MHD_OPTION_CONNECTION_LIMIT, (unsigned)20000,
                                          MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)4096, MHD_OPTION_END);
  if (!d) { fprintf(stderr, "native_hello: cannot listen\n"); return 1; }
  printf("listening on port %u\n", MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
  fflush(stdout);
  int sig;
  sigwait(&sigs, &sig);
  MHD_stop_daemon(d);
  return 0;
}
