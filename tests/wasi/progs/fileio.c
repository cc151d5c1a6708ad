/* fileio.c: file I/O in the pre-opened /sandbox: open flags, read, write,
** seek, tell, pread, pwrite, append, truncate, sync, fdstat and errors. */
#include "check.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <wasi/api.h>

int main(void) {
  char buf[256];
  int fd = open("/sandbox/a.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
  CHECK(fd >= 0, "create /sandbox/a.txt");
  CHECK(write(fd, "hello, world\n", 13) == 13, "write 13 bytes");
  struct iovec iov[3] = { { "one ", 4 }, { "", 0 }, { "two\n", 4 } };
  CHECK(writev(fd, iov, 3) == 8, "writev of 3 buffers (one empty) writes 8 bytes");
  CHECK(lseek(fd, 0, SEEK_CUR) == 21, "position is 21");
  CHECK(lseek(fd, 0, SEEK_SET) == 0, "seek to 0");
  memset(buf, 0, sizeof buf);
  CHECK(read(fd, buf, sizeof buf) == 21 && memcmp(buf, "hello, world\none two\n", 21) == 0,
        "read back all 21 bytes");
  CHECK(read(fd, buf, sizeof buf) == 0, "read at end of file returns 0");
  CHECK(lseek(fd, -4, SEEK_END) == 17, "seek to end - 4");
  CHECK(read(fd, buf, 4) == 4 && memcmp(buf, "two\n", 4) == 0, "read the last 4 bytes");
  CHECK(lseek(fd, -100, SEEK_SET) == -1 && errno == EINVAL, "seek before 0 is EINVAL");
  CHECK(lseek(fd, 7, SEEK_SET) == 7 && lseek(fd, 3, SEEK_CUR) == 10, "SEEK_CUR is relative");
  __wasi_filesize_t pos = 0;
  CHECK(__wasi_fd_tell(fd, &pos) == 0 && pos == 10, "fd_tell is 10");

  /* pread/pwrite leave the position alone. */
  CHECK(pread(fd, buf, 5, 7) == 5 && memcmp(buf, "world", 5) == 0, "pread 5 bytes at 7");
  CHECK(pwrite(fd, "WORLD", 5, 7) == 5, "pwrite 5 bytes at 7");
  CHECK(lseek(fd, 0, SEEK_CUR) == 10, "position is still 10");
  CHECK(pread(fd, buf, 13, 0) == 13 && memcmp(buf, "hello, WORLD\n", 13) == 0, "pwrite took effect");
  CHECK(pread(fd, buf, 10, 1000) == 0, "pread past the end returns 0");
  CHECK(pwrite(fd, "Z", 1, 30) == 1, "pwrite past the end (at 30)");
  struct stat st;
  CHECK(fstat(fd, &st) == 0 && st.st_size == 31 && S_ISREG(st.st_mode), "file grew to 31 bytes");
  CHECK(pread(fd, buf, 10, 21) == 10 && buf[0] == 0 && buf[8] == 0 && buf[9] == 'Z',
        "the gap reads as zeros");
  CHECK(ftruncate(fd, 5) == 0 && fstat(fd, &st) == 0 && st.st_size == 5, "ftruncate to 5");
  CHECK(ftruncate(fd, 4096) == 0 && fstat(fd, &st) == 0 && st.st_size == 4096, "ftruncate up to 4096");
  CHECK(fsync(fd) == 0 && fdatasync(fd) == 0, "fsync, fdatasync");
  CHECK(close(fd) == 0, "close");
  CHECK(close(fd) == -1 && errno == EBADF, "second close is EBADF");
  CHECK(read(fd, buf, 1) == -1 && errno == EBADF, "read of a closed fd is EBADF");

  /* Append mode writes at the end whatever the position. */
  fd = open("/sandbox/log.txt", O_WRONLY | O_CREAT | O_APPEND, 0644);
  CHECK(fd >= 0 && write(fd, "1\n", 2) == 2, "create log.txt with O_APPEND");
  CHECK(lseek(fd, 0, SEEK_SET) == 0 && write(fd, "2\n", 2) == 2, "seek to 0, write");
  __wasi_fdstat_t fds;
  CHECK(__wasi_fd_fdstat_get(fd, &fds) == 0 && (fds.fs_flags & __WASI_FDFLAGS_APPEND) &&
        fds.fs_filetype == __WASI_FILETYPE_REGULAR_FILE, "fdstat: regular file, APPEND");
  close(fd);
  fd = open("/sandbox/log.txt", O_RDONLY);
  memset(buf, 0, sizeof buf);
  CHECK(fd >= 0 && read(fd, buf, sizeof buf) == 4 && strcmp(buf, "1\n2\n") == 0,
        "both writes landed at the end");
  CHECK(write(fd, "x", 1) == -1 && errno == EBADF, "write to a read-only fd is EBADF");
  close(fd);
  fd = open("/sandbox/log.txt", O_WRONLY);
  CHECK(fd >= 0 && read(fd, buf, 1) == -1 && errno == EBADF, "read from a write-only fd is EBADF");
  close(fd);

  /* Open errors. */
  CHECK(open("/sandbox/log.txt", O_WRONLY | O_CREAT | O_EXCL, 0644) == -1 && errno == EEXIST,
        "O_EXCL on an existing file is EEXIST");
  CHECK(open("/sandbox/missing.txt", O_RDONLY) == -1 && errno == ENOENT,
        "opening a missing file is ENOENT");
  CHECK(open("/sandbox/missing/x.txt", O_WRONLY | O_CREAT, 0644) == -1 && errno == ENOENT,
        "creating in a missing directory is ENOENT");
  CHECK(open("/sandbox/log.txt/x", O_RDONLY) == -1 && errno == ENOTDIR,
        "a file used as a directory is ENOTDIR");
  CHECK(open("/sandbox/log.txt", O_RDONLY | O_DIRECTORY) == -1 && errno == ENOTDIR,
        "O_DIRECTORY on a file is ENOTDIR");
  fd = open("/sandbox/log.txt", O_WRONLY | O_TRUNC);
  CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0, "O_TRUNC empties the file");
  close(fd);

  /* A 1 MiB file through stdio, in odd-sized chunks. */
  FILE *f = fopen("/sandbox/big.bin", "wb");
  CHECK(f != NULL, "fopen big.bin");
  unsigned sum = 0;
  for (int i = 0; i < (1 << 20); i++) {
    fputc((i * 7 + 3) & 0xff, f);
    sum += (i * 7 + 3) & 0xff;
  }
  CHECK(fclose(f) == 0, "fclose");
  f = fopen("/sandbox/big.bin", "rb");
  unsigned sum2 = 0;
  size_t total = 0, got;
  static unsigned char chunk[4099];
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
    for (size_t i = 0; i < got; i++) sum2 += chunk[i];
    total += got;
  }
  fclose(f);
  CHECK(total == (1u << 20) && sum == sum2, "read back 1 MiB with the same checksum");

  /* stdout and stderr are character devices or pipes, not files. */
  CHECK(__wasi_fd_fdstat_get(1, &fds) == 0 && fds.fs_filetype != __WASI_FILETYPE_DIRECTORY,
        "fdstat of stdout");
  CHECK(__wasi_fd_fdstat_get(77, &fds) == __WASI_ERRNO_BADF, "fdstat of fd 77 is EBADF");
  unlink("/sandbox/a.txt");
  unlink("/sandbox/log.txt");
  unlink("/sandbox/big.bin");
  return CHECK_DONE();
}
