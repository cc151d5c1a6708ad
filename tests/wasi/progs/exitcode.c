/* exitcode.c: the guest's exit status reaches the host.
**   exitcode CODE [how]   how: return (default), exit, proc_exit, trap */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

__attribute__((noinline)) static void deep_trap(int depth) {
  if (depth == 0) __builtin_trap();
  deep_trap(depth - 1);
  __asm__ volatile("");   /* keep the recursion: the backtrace shows it */
}

int main(int argc, char **argv) {
  int code = argc > 1 ? atoi(argv[1]) : 0;
  const char *how = argc > 2 ? argv[2] : "return";
  printf("exiting with %d by %s\n", code, how);
  fflush(stdout);
  if (strcmp(how, "exit") == 0) exit(code);
  if (strcmp(how, "proc_exit") == 0) __wasi_proc_exit((__wasi_exitcode_t)code);
  if (strcmp(how, "trap") == 0) deep_trap(3);
  return code;
}
