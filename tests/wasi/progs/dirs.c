/* dirs.c: directories and metadata in the pre-opened /sandbox: mkdir,
** readdir, rename, unlink, rmdir, symlink, readlink, link, stat, lstat,
** utimes, and their errors. */
#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <wasi/api.h>

static int put(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return -1;
  ssize_t n = write(fd, text, strlen(text));
  close(fd);
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir (without . and ..), sorted, joined by spaces. */
static const char *listing(const char *dir) {
  static char out[1024];
  char *names[64];
  int n = 0;
  DIR *d = opendir(dir);
  if (!d) return "(opendir failed)";
  struct dirent *e;
  while ((e = readdir(d)) && n < 64) {
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof *names, cmp);
  out[0] = 0;
  for (int i = 0; i < n; i++) {
    if (i) strcat(out, " ");
    strcat(out, names[i]);
    free(names[i]);
  }
  return out;
}

int main(void) {
  struct stat st, lst;
  char buf[256];

  CHECK(mkdir("/sandbox/d", 0755) == 0, "mkdir d");
  CHECK(mkdir("/sandbox/d", 0755) == -1 && errno == EEXIST, "mkdir d again is EEXIST");
  CHECK(mkdir("/sandbox/d/e/f", 0755) == -1 && errno == ENOENT, "mkdir with a missing parent is ENOENT");
  CHECK(mkdir("/sandbox/d/e", 0755) == 0, "mkdir d/e");
  CHECK(stat("/sandbox/d", &st) == 0 && S_ISDIR(st.st_mode), "stat d: a directory");
  CHECK(put("/sandbox/d/one.txt", "1") == 0 && put("/sandbox/d/two.txt", "22") == 0 &&
        put("/sandbox/d/three.txt", "333") == 0, "three files in d");
  printf("d: %s\n", listing("/sandbox/d"));

  /* readdir sees every entry, with its type, even when the buffer is small
  ** (wasi-libc reads the directory in 32 KiB pieces; make it page). */
  for (int i = 0; i < 300; i++) {
    snprintf(buf, sizeof buf, "/sandbox/d/e/entry-with-a-rather-long-name-%03d", i);
    if (i % 3 == 0) mkdir(buf, 0755); else put(buf, "x");
  }
  DIR *dir = opendir("/sandbox/d/e");
  int files = 0, dirs = 0, other = 0;
  struct dirent *e;
  while ((e = readdir(dir))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (e->d_type == DT_REG) files++;
    else if (e->d_type == DT_DIR) dirs++;
    else other++;
  }
  closedir(dir);
  CHECK(files == 200 && dirs == 100 && other == 0, "readdir of 300 entries: 200 files, 100 directories");
  /* Whether . and .. are listed differs between runtimes: count all. */
  int total = 0;
  dir = opendir("/sandbox/d/e");
  while ((e = readdir(dir))) total++;
  rewinddir(dir);
  long at = -1;
  int before = 0;
  while ((e = readdir(dir))) {
    if (++before == 150) { at = telldir(dir); break; }
  }
  int after = 0;
  while ((e = readdir(dir))) after++;
  seekdir(dir, at);
  int again = 0;
  while ((e = readdir(dir))) again++;
  closedir(dir);
  CHECK(at >= 0 && after == again && before + after == total, "telldir/seekdir resume the listing");

  /* stat: sizes, types, link counts, inodes. */
  CHECK(stat("/sandbox/d/three.txt", &st) == 0 && st.st_size == 3 && S_ISREG(st.st_mode) &&
        st.st_nlink == 1, "stat three.txt: regular, 3 bytes, 1 link");
  struct stat st2;
  CHECK(stat("/sandbox/d/two.txt", &st2) == 0 && st2.st_ino != st.st_ino && st2.st_dev == st.st_dev,
        "different files: same device, different inodes");

  /* rename: a file, over a file, a directory; errors. */
  CHECK(rename("/sandbox/d/one.txt", "/sandbox/d/uno.txt") == 0, "rename one.txt -> uno.txt");
  CHECK(access("/sandbox/d/one.txt", F_OK) == -1 && errno == ENOENT, "one.txt is gone");
  CHECK(rename("/sandbox/d/uno.txt", "/sandbox/d/two.txt") == 0, "rename over an existing file");
  int fd = open("/sandbox/d/two.txt", O_RDONLY);
  memset(buf, 0, sizeof buf);
  CHECK(fd >= 0 && read(fd, buf, sizeof buf) == 1 && buf[0] == '1', "two.txt now holds uno's data");
  close(fd);
  CHECK(rename("/sandbox/d/missing", "/sandbox/d/x") == -1 && errno == ENOENT, "renaming a missing file is ENOENT");
  CHECK(mkdir("/sandbox/m", 0755) == 0 && put("/sandbox/m/f", "f") == 0, "mkdir m with a file");
  CHECK(rename("/sandbox/m", "/sandbox/d/moved") == 0, "rename a directory into d");
  CHECK(stat("/sandbox/d/moved/f", &st) == 0 && st.st_size == 1, "its file moved with it");
  CHECK(rename("/sandbox/d/two.txt", "/sandbox/d/moved") == -1 && errno == EISDIR,
        "renaming a file over a directory is EISDIR");
  printf("d: %s\n", listing("/sandbox/d"));

  /* Symbolic links. */
  CHECK(symlink("three.txt", "/sandbox/d/link") == 0, "symlink d/link -> three.txt");
  ssize_t n = readlink("/sandbox/d/link", buf, sizeof buf);
  CHECK(n == 9 && memcmp(buf, "three.txt", 9) == 0, "readlink gives three.txt");
  CHECK(lstat("/sandbox/d/link", &lst) == 0 && S_ISLNK(lst.st_mode) && lst.st_size == 9,
        "lstat: a symlink of 9 bytes");
  CHECK(stat("/sandbox/d/link", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 3,
        "stat follows it to the 3-byte file");
  fd = open("/sandbox/d/link", O_RDONLY);
  memset(buf, 0, sizeof buf);
  CHECK(fd >= 0 && read(fd, buf, sizeof buf) == 3 && strcmp(buf, "333") == 0, "open follows it");
  close(fd);
  CHECK(symlink("e", "/sandbox/d/dirlink") == 0, "symlink d/dirlink -> e");
  CHECK(stat("/sandbox/d/dirlink/entry-with-a-rather-long-name-001", &st) == 0,
        "a path through a directory symlink");
  CHECK(symlink("nowhere", "/sandbox/d/dangling") == 0 &&
        stat("/sandbox/d/dangling", &st) == -1 && errno == ENOENT &&
        lstat("/sandbox/d/dangling", &lst) == 0, "a dangling symlink: stat ENOENT, lstat fine");
  CHECK(symlink("x", "/sandbox/d/link") == -1 && errno == EEXIST, "symlink over an existing name is EEXIST");
  CHECK(readlink("/sandbox/d/three.txt", buf, sizeof buf) == -1 && errno == EINVAL,
        "readlink of a regular file is EINVAL");
  CHECK(unlink("/sandbox/d/link") == 0 && stat("/sandbox/d/three.txt", &st) == 0,
        "unlink the symlink; its target stays");

  /* Hard links. */
  CHECK(link("/sandbox/d/three.txt", "/sandbox/d/hard") == 0, "link d/hard to three.txt");
  CHECK(stat("/sandbox/d/hard", &st) == 0 && stat("/sandbox/d/three.txt", &st2) == 0 &&
        st.st_ino == st2.st_ino && st.st_nlink == 2, "same inode, 2 links");
  CHECK(unlink("/sandbox/d/three.txt") == 0 && stat("/sandbox/d/hard", &st) == 0 &&
        st.st_nlink == 1 && st.st_size == 3, "unlink one name: the other keeps the data");
  CHECK(link("/sandbox/d/missing", "/sandbox/d/h2") == -1 && errno == ENOENT, "link of a missing file is ENOENT");

  /* Times: whole seconds, which every file system keeps exactly. */
  struct timespec ts[2] = { { 1000000000, 0 }, { 1234567890, 0 } };
  CHECK(utimensat(AT_FDCWD, "/sandbox/d/hard", ts, 0) == 0, "utimensat sets atime and mtime");
  CHECK(stat("/sandbox/d/hard", &st) == 0 && st.st_atim.tv_sec == 1000000000 &&
        st.st_mtim.tv_sec == 1234567890, "stat shows them");
  struct timeval tv[2] = { { 1100000000, 0 }, { 1200000000, 0 } };
  CHECK(utimes("/sandbox/d/hard", tv) == 0 && stat("/sandbox/d/hard", &st) == 0 &&
        st.st_atim.tv_sec == 1100000000 && st.st_mtim.tv_sec == 1200000000, "utimes");
  struct timespec keep[2] = { { 0, UTIME_OMIT }, { 1300000000, 0 } };
  CHECK(utimensat(AT_FDCWD, "/sandbox/d/hard", keep, 0) == 0 && stat("/sandbox/d/hard", &st) == 0 &&
        st.st_atim.tv_sec == 1100000000 && st.st_mtim.tv_sec == 1300000000, "UTIME_OMIT keeps atime");
  fd = open("/sandbox/d/hard", O_RDWR);
  struct timespec fts[2] = { { 1400000000, 0 }, { 1500000000, 0 } };
  CHECK(fd >= 0 && futimens(fd, fts) == 0 && fstat(fd, &st) == 0 &&
        st.st_mtim.tv_sec == 1500000000, "futimens on an open file");
  close(fd);

  /* unlink and rmdir: errors, then success. */
  CHECK(unlink("/sandbox/d/moved") == -1 && (errno == EISDIR || errno == EPERM),
        "unlink of a directory is EISDIR or EPERM");
  CHECK(rmdir("/sandbox/d/moved") == -1 && errno == ENOTEMPTY, "rmdir of a non-empty directory is ENOTEMPTY");
  CHECK(rmdir("/sandbox/d/hard") == -1 && errno == ENOTDIR, "rmdir of a file is ENOTDIR");
  CHECK(unlink("/sandbox/d/moved/f") == 0 && rmdir("/sandbox/d/moved") == 0, "empty it, rmdir");
  CHECK(unlink("/sandbox/d/missing") == -1 && errno == ENOENT, "unlink of a missing file is ENOENT");
  printf("d: %s\n", listing("/sandbox/d"));

  /* Clean up, so the listing of the sandbox is empty again. */
  for (int i = 0; i < 300; i++) {
    snprintf(buf, sizeof buf, "/sandbox/d/e/entry-with-a-rather-long-name-%03d", i);
    if (i % 3 == 0) rmdir(buf); else unlink(buf);
  }
  CHECK(rmdir("/sandbox/d/e") == 0, "rmdir e after emptying it");
  unlink("/sandbox/d/hard");
  unlink("/sandbox/d/two.txt");
  unlink("/sandbox/d/dirlink");
  unlink("/sandbox/d/dangling");
  CHECK(rmdir("/sandbox/d") == 0, "rmdir d");
  printf("sandbox: [%s]\n", listing("/sandbox"));
  return CHECK_DONE();
}
