/* A WASI command that works in the pre-opened directory argv[1]: writes,
** appends, reads, seeks, stats, lists, renames, links, symlinks, unlinks
** and removes files and directories, printing what it sees. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char path[512];
static const char *at(const char *dir, const char *name) {
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return path;
}

static void check(const char *what, int rc) {
  if (rc < 0) printf("%s: error %s\n", what, strerror(errno));
  else printf("%s: ok\n", what);
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static const char *kind(unsigned char t) {
  return t == DT_DIR ? "dir" : t == DT_REG ? "file" : t == DT_LNK ? "link" : "other";
}

/* Lists a directory, sorted (the order readdir gives is the file system's). */
static void list(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) {
    printf("opendir %s: error %s\n", dir, strerror(errno));
    return;
  }
  char *names[64];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 64) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char *s = malloc(strlen(e->d_name) + 8);
    sprintf(s, "%s %s", e->d_name, kind(e->d_type));
    names[n++] = s;
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof *names, cmp);
  printf("list %s:", dir);
  for (int i = 0; i < n; i++) {
    printf(" [%s]", names[i]);
    free(names[i]);
  }
  printf("\n");
}

static void show(const char *p) {
  struct stat st;
  if (stat(p, &st) != 0) {
    printf("stat %s: error %s\n", p, strerror(errno));
    return;
  }
  const char *k = S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "dir" : S_ISLNK(st.st_mode) ? "link" : "other";
  if (S_ISREG(st.st_mode)) printf("stat %s: %s size %lld links %llu\n", p, k, (long long)st.st_size, (unsigned long long)st.st_nlink);
  else printf("stat %s: %s\n", p, k);
}

static void cat(const char *p) {
  int fd = open(p, O_RDONLY);
  if (fd < 0) {
    printf("cat %s: error %s\n", p, strerror(errno));
    return;
  }
  char buf[256];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n < 0) n = 0;
  buf[n] = 0;
  printf("cat %s: \"%s\"\n", p, buf);
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : ".";
  char a[512], b[512];
  list(dir);
  /* write, append, read back */
  int fd = open(at(dir, "notes.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  check("create notes.txt", fd);
  if (fd >= 0) {
    check("write", (int)write(fd, "hello, ", 7));
    check("write", (int)write(fd, "world\n", 6));
    close(fd);
  }
  fd = open(at(dir, "notes.txt"), O_WRONLY | O_APPEND);
  check("open for append", fd);
  if (fd >= 0) {
    check("append", (int)write(fd, "more\n", 5));
    close(fd);
  }
  cat(at(dir, "notes.txt"));
  fd = open(at(dir, "notes.txt"), O_RDWR);
  if (fd >= 0) {
    char buf[8] = {0};
    printf("lseek: %lld\n", (long long)lseek(fd, 7, SEEK_SET));
    printf("read at 7: %zd \"%.5s\"\n", read(fd, buf, 5), buf);
    check("pwrite", (int)pwrite(fd, "W", 1, 7));
    memset(buf, 0, sizeof buf);
    printf("pread: %zd \"%.5s\"\n", pread(fd, buf, 5, 7), buf);
    check("ftruncate", ftruncate(fd, 12));
    struct stat st;
    check("fstat", fstat(fd, &st));
    printf("fstat size %lld\n", (long long)st.st_size);
    close(fd);
  }
  cat(at(dir, "notes.txt"));
  /* exclusive create of an existing file */
  fd = open(at(dir, "notes.txt"), O_WRONLY | O_CREAT | O_EXCL, 0644);
  check("create existing with O_EXCL", fd);
  if (fd >= 0) close(fd);
  check("open missing", open(at(dir, "missing.txt"), O_RDONLY));
  /* directories */
  check("mkdir sub", mkdir(at(dir, "sub"), 0755));
  check("mkdir sub again", mkdir(at(dir, "sub"), 0755));
  check("mkdir sub/deeper", mkdir(at(dir, "sub/deeper"), 0755));
  strcpy(a, at(dir, "notes.txt"));
  strcpy(b, at(dir, "sub/renamed.txt"));
  check("rename notes.txt sub/renamed.txt", rename(a, b));
  show(a);
  show(b);
  strcpy(a, at(dir, "sub/renamed.txt"));
  strcpy(b, at(dir, "hardlink.txt"));
  check("link", link(a, b));
  show(b);
  check("symlink", symlink("sub/renamed.txt", at(dir, "soft")));
  char target[64] = {0};
  ssize_t n = readlink(at(dir, "soft"), target, sizeof target - 1);
  printf("readlink: %zd %s\n", n, n > 0 ? target : "");
  cat(at(dir, "soft"));
  struct stat st;
  check("lstat soft", lstat(at(dir, "soft"), &st));
  printf("lstat soft is link: %d\n", S_ISLNK(st.st_mode));
  /* times */
  struct timespec ts[2] = {{1000000000, 0}, {1234567890, 0}};
  check("utimensat", utimensat(AT_FDCWD, at(dir, "hardlink.txt"), ts, 0));
  if (stat(at(dir, "hardlink.txt"), &st) == 0) printf("mtime %lld.%09ld\n", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  list(dir);
  list(at(dir, "sub"));
  check("rmdir non-empty sub", rmdir(at(dir, "sub")));
  check("unlink a directory", unlink(at(dir, "sub/deeper")));
  check("rmdir sub/deeper", rmdir(at(dir, "sub/deeper")));
  check("unlink sub/renamed.txt", unlink(at(dir, "sub/renamed.txt")));
  check("rmdir sub", rmdir(at(dir, "sub")));
  check("unlink soft", unlink(at(dir, "soft")));
  check("unlink missing", unlink(at(dir, "missing.txt")));
  cat(at(dir, "hardlink.txt"));
  show(at(dir, "hardlink.txt"));
  list(dir);
  return 0;
}
