/*
** track.c: which pages of a small linear memory a guest touched, learnt
** from faults instead of asked of the kernel. A memory put back again and
** again (shoal_instance_reinit in a busy server) must be zeroed each time;
** /proc/self/pagemap says which pages exist, but that read is a system
** call per reset. Here, once a tracked memory is cleared, its pages that do
** not exist are made inaccessible; the first touch of one faults, the
** fault handler (guard.c) makes it accessible and notes it, and the access
** runs again. A reset then zeroes the noted pages and nothing else: no
** system call once a guest's working set is known.
**
** The notes live in a fixed table of slots, so that the fault handler reads
** no memory that could be freed under it. Only a store configured with
** track_pages uses this: the kernel does not fault on an inaccessible page
** a system call is given, it fails the call, so the host must never hand
** guest memory to the kernel itself (a component host does not: values
** cross the canonical ABI by copies).
*/
#define _GNU_SOURCE
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime.h"
#include "guard.h"

#define TRACK_PAGE 4096u
#define TRACK_PAGES 256u                /* 1 MiB: what a reset zeroes by hand by default */
/* Each tracked memory splits its mapping into up to TRACK_PAGES areas of
** alternating protection; 64 of them stay far below the kernel's limit on
** a process's mappings (vm.max_map_count, 65530), so opening a page never
** fails for want of one. Memories past 64 are cleared as untracked. */
#define TRACK_SLOTS 64u
#define WORDS (TRACK_PAGES / 64)

typedef struct track_slot {
  _Atomic uintptr_t base;               /* 0: free */
  _Atomic uint64_t size;                /* bytes the guest may reach now */
  _Atomic uint64_t bits[WORDS];         /* pages made accessible (maybe written) */
} track_slot_t;

static track_slot_t slots[TRACK_SLOTS];

static bool page_is_4k(void) {
  static int ok = -1;
  if (ok < 0) ok = sysconf(_SC_PAGESIZE) == (long)TRACK_PAGE;
  return ok;
}

/* Makes [from, to) pages inaccessible, except those whose bit is set. */
static bool protect_holes(uint8_t *base, const uint64_t *bits, uint32_t from, uint32_t to) {
  uint32_t i = from;
  while (i < to) {
    if (bits[i / 64] >> (i % 64) & 1) { i++; continue; }
    uint32_t j = i;
    while (j < to && !(bits[j / 64] >> (j % 64) & 1)) j++;
    if (mprotect(base + (size_t)i * TRACK_PAGE, (size_t)(j - i) * TRACK_PAGE, PROT_NONE) != 0) return false;
    i = j;
  }
  return true;
}

bool eng_track_start(shoal_memory_t *m) {
  if (m->track || m->imaged || !page_is_4k() || m->size > (uint64_t)TRACK_PAGES * TRACK_PAGE) return false;
  uint32_t n = (uint32_t)(m->size / TRACK_PAGE);
  uint64_t map[TRACK_PAGES], bits[WORDS] = {0};
  if (n && !eng_pages_present(m->base, m->size, map, TRACK_PAGES)) return false;
  for (uint32_t i = 0; i < n; i++)
    if (map[i]) bits[i / 64] |= (uint64_t)1 << (i % 64);
  uint32_t k = 0;
  for (; k < TRACK_SLOTS; k++) {
    uintptr_t free_slot = 0;
    if (atomic_compare_exchange_strong(&slots[k].base, &free_slot, (uintptr_t)1)) break;  /* 1: being set up */
  }
  if (k == TRACK_SLOTS) return false;
  track_slot_t *t = &slots[k];
  for (uint32_t w = 0; w < WORDS; w++) atomic_store(&t->bits[w], bits[w]);
  atomic_store(&t->size, m->size);
  eng_guard_install();
  if (!protect_holes(m->base, bits, 0, n)) {
    mprotect(m->base, (size_t)m->size, PROT_READ | PROT_WRITE);
    atomic_store(&t->base, 0);
    return false;
  }
  atomic_store(&t->base, (uintptr_t)m->base);
  m->track = k + 1;
  return true;
}

void eng_track_reset(shoal_memory_t *m, uint64_t size) {
  track_slot_t *t = &slots[m->track - 1];
  uint32_t keep = (uint32_t)(size / TRACK_PAGE);
  for (uint32_t w = 0; w < WORDS; w++) {
    uint64_t b = atomic_load_explicit(&t->bits[w], memory_order_relaxed);
    while (b) {
      uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(b);
      b &= b - 1;
      if (i < keep) {
        memset(m->base + (size_t)i * TRACK_PAGE, 0, TRACK_PAGE);
      } else {  /* past the size it shrinks to: its pages go back (zero on the next touch) */
        madvise(m->base + (size_t)i * TRACK_PAGE, TRACK_PAGE, MADV_DONTNEED);
        atomic_fetch_and(&t->bits[w], ~((uint64_t)1 << (i % 64)));
      }
    }
  }
  if (m->size > size) mprotect(m->base + size, (size_t)(m->size - size), PROT_NONE);
  atomic_store(&t->size, size);
}

bool eng_track_grow(shoal_memory_t *m, uint64_t size) {
  if (size > (uint64_t)TRACK_PAGES * TRACK_PAGE) return false;
  atomic_store(&slots[m->track - 1].size, size);  /* its new pages stay inaccessible until touched */
  return true;
}

void eng_track_stop(shoal_memory_t *m, bool unmapping) {
  if (!m->track) return;
  track_slot_t *t = &slots[m->track - 1];
  /* every page it may reach accessible again, as for an untracked memory */
  if (!unmapping && m->size) mprotect(m->base, (size_t)m->size, PROT_READ | PROT_WRITE);
  atomic_store(&t->size, 0);
  atomic_store(&t->base, 0);
  m->track = 0;
}

bool eng_track_fault(const void *addr) {
  uintptr_t a = (uintptr_t)addr;
  for (uint32_t k = 0; k < TRACK_SLOTS; k++) {
    track_slot_t *t = &slots[k];
    uintptr_t b = atomic_load_explicit(&t->base, memory_order_acquire);
    if (b <= 1 || a < b || a - b >= atomic_load_explicit(&t->size, memory_order_relaxed)) continue;
    uint32_t i = (uint32_t)((a - b) / TRACK_PAGE);
    atomic_fetch_or(&t->bits[i / 64], (uint64_t)1 << (i % 64));
    return mprotect((void *)(b + (uintptr_t)i * TRACK_PAGE), TRACK_PAGE, PROT_READ | PROT_WRITE) == 0;
  }
  return false;
}
