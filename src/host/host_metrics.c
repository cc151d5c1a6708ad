/*
** Prometheus counters and a latency histogram for `shoal serve`, kept in
** atomics so that request threads never wait on each other to count.
*/
#include "host_int.h"
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

/* upper bounds in seconds of the latency buckets (+Inf is the count) */
static const double bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NB (sizeof bounds / sizeof *bounds)

/* Counters live in stripes, one per thread as far as they go, each on its
** own cache lines: two polling threads counting every request into the
** same lines would pass those lines back and forth at every request. A
** scrape adds the stripes up. Buckets count the requests that fell in
** them alone; the scrape makes them cumulative. */
#define STRIPES 16
typedef struct stripe {
  _Alignas(64) atomic_uint_fast64_t by_class[6];  /* 1xx..5xx by status / 100, [0] other */
  atomic_uint_fast64_t outcomes[4];                /* shoal_proxy_outcome_t */
  atomic_uint_fast64_t rejected, count, sum_ns, buckets[NB + 1];
  atomic_int_fast64_t inflight;
} stripe_t;

static stripe_t stripes[STRIPES];
static atomic_uint next_stripe;
static _Thread_local stripe_t *mine;

static stripe_t *my_stripe(void) {
  if (!mine) mine = &stripes[atomic_fetch_add_explicit(&next_stripe, 1, memory_order_relaxed) % STRIPES];
  return mine;
}

static void bump(atomic_uint_fast64_t *c, uint64_t n) { atomic_fetch_add_explicit(c, n, memory_order_relaxed); }

void host_metrics_request(int status, uint64_t ns, shoal_proxy_outcome_t outcome) {
  stripe_t *st = my_stripe();
  int cls = status >= 100 && status < 600 ? status / 100 : 0;
  bump(&st->by_class[cls], 1);
  if ((unsigned)outcome < 4) bump(&st->outcomes[outcome], 1);
  double s = (double)ns / 1e9;
  size_t b = 0;
  while (b < NB && s > bounds[b]) b++;
  bump(&st->buckets[b], 1);
  bump(&st->count, 1);
  bump(&st->sum_ns, ns);
}

void host_metrics_rejected(void) {
  stripe_t *st = my_stripe();
  bump(&st->rejected, 1);
  bump(&st->by_class[5], 1);
}

void host_metrics_inflight(int delta) { atomic_fetch_add_explicit(&my_stripe()->inflight, delta, memory_order_relaxed); }

/* The sum over the stripes of the counter at byte offset off. */
static uint64_t total(size_t off) {
  uint64_t n = 0;
  for (int i = 0; i < STRIPES; i++) n += atomic_load((atomic_uint_fast64_t *)(void *)((char *)&stripes[i] + off));
  return n;
}
#define TOTAL(field) total(offsetof(stripe_t, field))
#define TOTAL_AT(field, i) total(offsetof(stripe_t, field) + (size_t)(i) * sizeof(atomic_uint_fast64_t))

char *host_metrics_text(size_t *len) {
  char *buf = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&buf, &size);
  if (!f) return NULL;
  fprintf(f, "# HELP shoal_http_requests_total Requests answered, by status class.\n"
             "# TYPE shoal_http_requests_total counter\n");
  static const char *const cls[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
  for (int i = 0; i < 6; i++)
    fprintf(f, "shoal_http_requests_total{code=\"%s\"} %llu\n", cls[i], (unsigned long long)TOTAL_AT(by_class, i));
  fprintf(f, "# HELP shoal_guest_outcomes_total Guest runs by outcome.\n# TYPE shoal_guest_outcomes_total counter\n");
  static const char *const oc[] = {"ok", "trap", "timeout", "memory"};
  for (int i = 0; i < 4; i++)
    fprintf(f, "shoal_guest_outcomes_total{outcome=\"%s\"} %llu\n", oc[i], (unsigned long long)TOTAL_AT(outcomes, i));
  fprintf(f, "# HELP shoal_http_rejected_total Requests refused with 503 (--max-instances).\n"
             "# TYPE shoal_http_rejected_total counter\nshoal_http_rejected_total %llu\n",
          (unsigned long long)TOTAL(rejected));
  fprintf(f, "# HELP shoal_instances_in_flight Instances running now.\n"
             "# TYPE shoal_instances_in_flight gauge\nshoal_instances_in_flight %lld\n",
          (long long)(int64_t)TOTAL(inflight));
  fprintf(f, "# HELP shoal_http_request_duration_seconds Time from the complete request to the response.\n"
             "# TYPE shoal_http_request_duration_seconds histogram\n");
  unsigned long long cum = 0;
  for (size_t i = 0; i < NB; i++) {
    cum += TOTAL_AT(buckets, i);
    fprintf(f, "shoal_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n", bounds[i], cum);
  }
  unsigned long long n = (unsigned long long)TOTAL(count);
  fprintf(f, "shoal_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", n);
  fprintf(f, "shoal_http_request_duration_seconds_sum %.9f\n", (double)TOTAL(sum_ns) / 1e9);
  fprintf(f, "shoal_http_request_duration_seconds_count %llu\n", n);
  if (fclose(f)) {
    free(buf);
    return NULL;
  }
  *len = size;
  return buf;
}
