/*
** Prometheus counters and a latency histogram for `shoal serve`, kept in
** atomics so that request threads never wait on each other to count.
*/
#include "host_int.h"
#include <stdio.h>
#include <stdlib.h>

/* upper bounds in seconds of the latency buckets (+Inf is the count) */
static const double bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NB (sizeof bounds / sizeof *bounds)

static atomic_uint_fast64_t by_class[6];   /* 1xx..5xx by status / 100, [0] other */
static atomic_uint_fast64_t outcomes[4];   /* shoal_proxy_outcome_t */
static atomic_uint_fast64_t rejected, buckets[NB], count, sum_ns;
static atomic_int_fast64_t inflight;

void host_metrics_request(int status, uint64_t ns, shoal_proxy_outcome_t outcome) {
  int cls = status >= 100 && status < 600 ? status / 100 : 0;
  atomic_fetch_add_explicit(&by_class[cls], 1, memory_order_relaxed);
  if ((unsigned)outcome < 4) atomic_fetch_add_explicit(&outcomes[outcome], 1, memory_order_relaxed);
  double s = (double)ns / 1e9;
  for (size_t i = 0; i < NB; i++)
    if (s <= bounds[i]) atomic_fetch_add_explicit(&buckets[i], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&sum_ns, ns, memory_order_relaxed);
}

void host_metrics_rejected(void) {
  atomic_fetch_add_explicit(&rejected, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&by_class[5], 1, memory_order_relaxed);
}

void host_metrics_inflight(int delta) { atomic_fetch_add_explicit(&inflight, delta, memory_order_relaxed); }

char *host_metrics_text(size_t *len) {
  char *buf = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&buf, &size);
  if (!f) return NULL;
  fprintf(f, "# HELP shoal_http_requests_total Requests answered, by status class.\n"
             "# TYPE shoal_http_requests_total counter\n");
  static const char *const cls[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
  for (int i = 0; i < 6; i++)
    fprintf(f, "shoal_http_requests_total{code=\"%s\"} %llu\n", cls[i], (unsigned long long)atomic_load(&by_class[i]));
  fprintf(f, "# HELP shoal_guest_outcomes_total Guest runs by outcome.\n# TYPE shoal_guest_outcomes_total counter\n");
  static const char *const oc[] = {"ok", "trap", "timeout", "memory"};
  for (int i = 0; i < 4; i++)
    fprintf(f, "shoal_guest_outcomes_total{outcome=\"%s\"} %llu\n", oc[i], (unsigned long long)atomic_load(&outcomes[i]));
  fprintf(f, "# HELP shoal_http_rejected_total Requests refused with 503 (--max-instances).\n"
             "# TYPE shoal_http_rejected_total counter\nshoal_http_rejected_total %llu\n",
          (unsigned long long)atomic_load(&rejected));
  fprintf(f, "# HELP shoal_instances_in_flight Instances running now.\n"
             "# TYPE shoal_instances_in_flight gauge\nshoal_instances_in_flight %lld\n",
          (long long)atomic_load(&inflight));
  fprintf(f, "# HELP shoal_http_request_duration_seconds Time from the complete request to the response.\n"
             "# TYPE shoal_http_request_duration_seconds histogram\n");
  for (size_t i = 0; i < NB; i++)
    fprintf(f, "shoal_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n", bounds[i],
            (unsigned long long)atomic_load(&buckets[i]));
  unsigned long long n = (unsigned long long)atomic_load(&count);
  fprintf(f, "shoal_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", n);
  fprintf(f, "shoal_http_request_duration_seconds_sum %.9f\n", (double)atomic_load(&sum_ns) / 1e9);
  fprintf(f, "shoal_http_request_duration_seconds_count %llu\n", n);
  if (fclose(f)) {
    free(buf);
    return NULL;
  }
  *len = size;
  return buf;
}
