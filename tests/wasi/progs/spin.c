/* spin.c: never ends, for --timeout. "spin" loops in wasm code; "sleep"
** blocks in the host (poll_oneoff) for an hour. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int sleep_mode = argc > 1 && strcmp(argv[1], "sleep") == 0;
  printf("%s forever\n", sleep_mode ? "sleeping" : "spinning");
  fflush(stdout);
  if (sleep_mode) sleep(3600);
  volatile unsigned n = 0;
  for (;;) n++;
}
