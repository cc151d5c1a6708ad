/*
** guard.c: the fault handler that turns an access to a memory's guard
** region into a wasm trap (see guard.h). POSIX signals.
*/
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include "guard.h"
#include "runtime.h"

static _Thread_local eng_guard_ctx *current;
static struct sigaction old_segv, old_bus;
static pthread_once_t installed = PTHREAD_ONCE_INIT;

/* A fault inside the running memory's reservation is a wasm trap; any
** other fault belongs to whoever handled it before us (or kills us). */
static void on_fault(int sig, siginfo_t *si, void *uc) {
  /* a tracked memory's first touch of a page (track.c): made accessible, run again */
  if (sig == SIGSEGV && eng_track_fault(si->si_addr)) return;
  eng_guard_ctx *g = current;
  uint8_t *a = (uint8_t *)si->si_addr;
  if (g && g->lo && a >= g->lo && a < g->hi) siglongjmp(g->jb, 1);
  struct sigaction *old = sig == SIGSEGV ? &old_segv : &old_bus;
  if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction) {
    old->sa_sigaction(sig, si, uc);
  } else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
    old->sa_handler(sig);
  } else {
    sigaction(sig, old, NULL);   /* returning re-executes the access: default action */
  }
}

static void install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &old_segv);
  sigaction(SIGBUS, &sa, &old_bus);
}

eng_guard_ctx *eng_guard_current(void) { return current; }

void eng_guard_install(void) { pthread_once(&installed, install); }

void eng_guard_set(eng_guard_ctx *g) {
  if (g) pthread_once(&installed, install);
  current = g;
}
