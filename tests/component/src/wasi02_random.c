/* A WASI command that checks what it can of random numbers and clocks and
** prints only what any correct host agrees on: counts and comparisons. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(void) {
  /* getentropy: random_get, i.e. wasi:random/random get-random-bytes */
  unsigned char a[256], b[256];
  memset(a, 0, sizeof a);
  memset(b, 0, sizeof b);
  printf("getentropy: %d %d\n", getentropy(a, sizeof a), getentropy(b, sizeof b));
  int zeros = 0, seen[256] = {0}, distinct = 0;
  for (size_t i = 0; i < sizeof a; i++) {
    zeros += a[i] == 0;
    if (!seen[a[i]]++) distinct++;
  }
  printf("two draws differ: %d\n", memcmp(a, b, sizeof a) != 0);
  printf("mostly nonzero: %d\n", zeros < 16);
  printf("many distinct bytes: %d\n", distinct > 100);
  /* arc4random uses the same source */
  uint32_t r1 = arc4random(), r2 = arc4random(), r3 = arc4random();
  printf("arc4random varies: %d\n", !(r1 == r2 && r2 == r3));
  /* clocks */
  struct timespec res;
  printf("monotonic resolution > 0: %d\n", clock_getres(CLOCK_MONOTONIC, &res) == 0 && (res.tv_sec || res.tv_nsec));
  printf("realtime resolution > 0: %d\n", clock_getres(CLOCK_REALTIME, &res) == 0 && (res.tv_sec || res.tv_nsec));
  time_t now = time(NULL);
  printf("wall clock after 2020: %d\n", now > 1577836800);
  uint64_t t0 = ns(CLOCK_MONOTONIC), t1 = ns(CLOCK_MONOTONIC);
  printf("monotonic does not go back: %d\n", t1 >= t0);
  /* sleeping: poll_oneoff with a clock subscription, i.e. subscribe-duration + poll */
  uint64_t w0 = ns(CLOCK_MONOTONIC);
  struct timespec d = {0, 30 * 1000000};
  printf("nanosleep: %d\n", nanosleep(&d, NULL));
  uint64_t slept = ns(CLOCK_MONOTONIC) - w0;
  printf("slept at least 30 ms: %d\n", slept >= 30 * 1000000u);
  printf("slept less than 5 s: %d\n", slept < 5000000000u);
  usleep(10000);
  printf("usleep done\n");
  return 0;
}
