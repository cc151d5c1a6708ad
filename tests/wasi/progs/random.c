/* random.c: WASI random_get, directly and through getentropy/arc4random. */
#include "check.h"

#include <stdlib.h>
#include <unistd.h>
#include <wasi/api.h>

static int all_zero(const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i]) return 0;
  return 1;
}

int main(void) {
  static unsigned char a[4096 + 16], b[4096];
  memset(a, 0, sizeof a);
  CHECK(__wasi_random_get(a, 4096) == 0, "random_get 4096 bytes");
  CHECK(!all_zero(a, 4096), "random bytes are not all zero");
  CHECK(all_zero(a + 4096, 16), "random_get writes nothing past the length");
  CHECK(__wasi_random_get(b, 4096) == 0 && memcmp(a, b, 4096) != 0, "two draws differ");
  /* Each byte value should show up in 4096 random bytes (a miss has
  ** probability about 256 * e^-16, 3e-5). */
  int seen[256] = { 0 }, distinct = 0;
  for (int i = 0; i < 4096; i++) seen[a[i]] = 1;
  for (int i = 0; i < 256; i++) distinct += seen[i];
  CHECK(distinct >= 250, "the bytes look uniform (at least 250 distinct values)");
  CHECK(__wasi_random_get(b, 0) == 0, "random_get of 0 bytes");
  static unsigned char big[1 << 20];
  CHECK(__wasi_random_get(big, sizeof big) == 0 && !all_zero(big + sizeof big - 64, 64),
        "random_get of 1 MiB fills it to the end");
  unsigned char e[256];
  CHECK(getentropy(e, sizeof e) == 0 && !all_zero(e, sizeof e), "getentropy");
  uint32_t r1 = arc4random(), r2 = arc4random(), r3 = arc4random();
  CHECK(!(r1 == r2 && r2 == r3), "arc4random varies");
  return CHECK_DONE();
}
