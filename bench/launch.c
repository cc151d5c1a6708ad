/* Benchmark launcher: runs a command N times and prints, per run, its wall time,
   peak RSS and exit status, measured around posix_spawn + wait4 (no shell). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char usage[] =
    "usage: launch [-n RUNS] [-o FILE] COMMAND [ARGS...]\n"
    "Runs COMMAND RUNS times (default 1), one after the other, with stdin from\n"
    "/dev/null and stdout to FILE (rewritten each run; default /dev/null), and\n"
    "prints one line per run:\n"
    "  WALL_SECONDS MAX_RSS_KIB STATUS CPU_SECONDS\n"
    "STATUS is the exit code, or 128+N when killed by signal N; CPU_SECONDS is user+system.\n";

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    long runs = 1;
    const char *out = "/dev/null";
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--") == 0) { i++; break; }
        if (i + 1 < argc && strcmp(argv[i], "-n") == 0) runs = strtol(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(argv[i], "-o") == 0) out = argv[++i];
        else { fputs(usage, stderr); return 2; }
    }
    if (i >= argc || runs < 1) { fputs(usage, stderr); return 2; }

    for (long r = 0; r < runs; r++) {
        /* posix_spawn (vfork-like in glibc) keeps the launcher's own cost out of the time */
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        pid_t pid;
        double t0 = now();
        int err = posix_spawnp(&pid, argv[i], &fa, NULL, argv + i, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (err) {
            fprintf(stderr, "launch: cannot run %s: %s\n", argv[i], strerror(err));
            return 127;
        }
        int status;
        struct rusage ru;
        while (wait4(pid, &status, 0, &ru) < 0)
            if (errno != EINTR) { perror("launch: wait4"); return 1; }
        double wall = now() - t0;
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                     (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
        printf("%.6f %ld %d %.6f\n", wall, ru.ru_maxrss, code, cpu);
        fflush(stdout);
    }
    return 0;
}
