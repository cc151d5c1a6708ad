/* preopens.c: lists the pre-opened directories (fd_prestat_get and
** fd_prestat_dir_name from fd 3 on) and, for each, the names in it. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

static int cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void) {
  for (__wasi_fd_t fd = 3; fd < 64; fd++) {
    __wasi_prestat_t ps;
    if (__wasi_fd_prestat_get(fd, &ps) != 0) break;
    char name[256];
    if (ps.u.dir.pr_name_len >= sizeof name ||
        __wasi_fd_prestat_dir_name(fd, (uint8_t *)name, ps.u.dir.pr_name_len) != 0)
      return 1;
    name[ps.u.dir.pr_name_len] = 0;
    printf("fd %u: %s:", (unsigned)fd, name);
    DIR *d = opendir(name);   /* libc finds the pre-open by its name */
    char *names[64];
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) && n < 64)
      if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
    if (d) closedir(d);
    qsort(names, n, sizeof *names, cmp);
    for (int i = 0; i < n; i++) {
      printf(" %s", names[i]);
      free(names[i]);
    }
    printf("\n");
  }
  return 0;
}
