/* A WASI command that reads a line from stdin, writes to stdout and
** stderr, and exits with the status given as its first argument. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  fprintf(stderr, "to stderr\n");
  char line[100];
  if (fgets(line, sizeof line, stdin)) printf("read: %s", line);
  else printf("stdin empty\n");
  return argc > 1 ? atoi(argv[1]) : 0;
}
