/* A WASI command: prints its arguments and an environment variable, then
** exits with the number of arguments; becomes a component via jco new. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  printf("hello from a component\n");
  for (int i = 1; i < argc; i++) printf("arg %d: %s\n", i, argv[i]);
  const char *v = getenv("SHOAL_TEST");
  printf("SHOAL_TEST=%s\n", v ? v : "(unset)");
  return 0;
}
