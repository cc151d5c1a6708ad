/*
** check.h: tiny assertion helpers for the WASI test programs (guest side).
** Output must be the same under every correct runtime: print facts, not values.
*/
#ifndef WASI_CHECK_H
#define WASI_CHECK_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int check_failures;

/* CHECK(cond, what): prints "ok: what" or "FAIL: what (line N)". */
#define CHECK(cond, ...)                                         \
  do {                                                           \
    if (cond) {                                                  \
      printf("ok: ");                                            \
    } else {                                                     \
      check_failures++;                                          \
      printf("FAIL (line %d, errno %d %s): ", __LINE__, errno,   \
             strerror(errno));                                   \
    }                                                            \
    printf(__VA_ARGS__);                                         \
    printf("\n");                                                \
    fflush(stdout); /* a hang or trap still shows how far it got */ \
  } while (0)

/* Exit status of a test program: 0 if every CHECK held. */
#define CHECK_DONE() (fflush(stdout), check_failures ? 1 : 0)

#endif
