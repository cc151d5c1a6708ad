/* A WASI command that tries to leave its pre-opened directory argv[1]:
** "..", absolute paths, symlinks pointing out (made by the test beforehand:
** out -> /, up -> ..). Every attempt must fail; it prints the errors and
** "ESCAPED" for any that succeeds. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int escapes = 0;

static void attempt(const char *what, int rc) {
  if (rc >= 0) {
    printf("%s: ESCAPED\n", what);
    escapes++;
  } else {
    printf("%s: refused (%s)\n", what, strerror(errno));
  }
}

int main(int argc, char **argv) {
  const char *d = argc > 1 ? argv[1] : ".";
  char p[512];
  struct stat st;
#define TRY(what, fmt, call) do { snprintf(p, sizeof p, fmt, d); attempt(what, call); } while (0)
  TRY("open ../", "%s/../", open(p, O_RDONLY | O_DIRECTORY));
  TRY("stat ../", "%s/..", stat(p, &st));
  TRY("open ../../etc/passwd", "%s/../../etc/passwd", open(p, O_RDONLY));
  TRY("open sub/../../x", "%s/inner/../../x", open(p, O_RDONLY));
  TRY("create ../escape.txt", "%s/../escape.txt", open(p, O_WRONLY | O_CREAT, 0644));
  TRY("mkdir ../escape-dir", "%s/../escape-dir", mkdir(p, 0755));
  attempt("open /etc/passwd", open("/etc/passwd", O_RDONLY));
  attempt("stat /", stat("/", &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1);
  TRY("open out/etc/passwd (symlink to /)", "%s/out/etc/passwd", open(p, O_RDONLY));
  TRY("stat out/ (symlink to /)", "%s/out/", stat(p, &st));
  TRY("open up/x (symlink to ..)", "%s/up/x", open(p, O_RDONLY));
  TRY("create up/escape.txt", "%s/up/escape.txt", open(p, O_WRONLY | O_CREAT, 0644));
  TRY("opendir up", "%s/up", opendir(p) ? 0 : -1);
  char q[512];
  snprintf(q, sizeof q, "%s/inner/file.txt", d);
  TRY("rename inner/file.txt ../stolen.txt", "%s/../stolen.txt", rename(q, p));
  TRY("link inner/file.txt ../stolen.txt", "%s/../stolen.txt", link(q, p));
  TRY("symlink to an absolute path", "%s/abs-link", symlink("/etc/passwd", p));
  /* what stays allowed: inside the tree */
  snprintf(p, sizeof p, "%s/inner/../inner/file.txt", d);
  int fd = open(p, O_RDONLY);
  printf("open inner/../inner/file.txt: %s\n", fd >= 0 ? "ok" : strerror(errno));
  if (fd >= 0) close(fd);
  printf("escapes: %d\n", escapes);
  return escapes ? 1 : 0;
}
