/*
** memory.c: linear memories. Each reserves address space for its effective
** maximum up front (PROT_NONE) and commits pages as it grows, so `base`
** never moves and the interpreter may cache it across calls and growth.
*/
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "runtime.h"
#include "guard.h"

/* The largest page count this memory may ever reach. */
static uint64_t effective_max_pages(const shoal_store_t *s, const eng_limits *lim) {
  uint64_t max = ENG_MAX_PAGES;
  if (lim->has_max && lim->max < max) max = lim->max;
  if (s->cfg.max_memory_bytes) {
    uint64_t cap = s->cfg.max_memory_bytes / ENG_PAGE_SIZE;
    if (cap < max) max = cap;
  }
  return max;
}

shoal_err_t eng_memory_create(shoal_store_t *s, const eng_limits *lim, shoal_memory_t **out,
                              shoal_diag_t *diag) {
  *out = NULL;
  uint64_t max_pages = effective_max_pages(s, lim);
  if (lim->min > max_pages)
    return ENG_ERR(diag, SHOAL_ERR_NOMEM, -1,
                   "memory of %llu pages exceeds the limit of %llu pages",
                   (unsigned long long)lim->min, (unsigned long long)max_pages);
  /* At least one page reserved so base is a real mapping even when the
  ** maximum is 0. */
  uint64_t reserve = (max_pages ? max_pages : 1) * (uint64_t)ENG_PAGE_SIZE;
#if ENG_GUARD_PAGES
  reserve = ENG_GUARD_RESERVE;     /* loads and stores are not bounds-checked: see guard.h */
#endif
#if SIZE_MAX < UINT64_MAX
  if (reserve > SIZE_MAX)
    return ENG_ERR(diag, SHOAL_ERR_NOMEM, -1, "memory reservation too large for this host");
#endif
  size_t size = (size_t)(lim->min * ENG_PAGE_SIZE);
  /* a mapping of a memory of a reset store: zeroed already, only its
  ** accessible part may differ */
  shoal_memory_t *m;
  for (shoal_memory_t **pp = &s->spare_mems; (m = *pp); pp = &m->next_in_store) {
    if (m->reserved != (size_t)reserve) continue;
    bool ok = m->size > size ? mprotect(m->base + size, m->size - size, PROT_NONE) == 0
            : m->size < size ? mprotect(m->base + m->size, size - m->size, PROT_READ | PROT_WRITE) == 0 : true;
    if (!ok) break;
    *pp = m->next_in_store;
    uint8_t *base = m->base;
    memset(m, 0, sizeof *m);
    m->base = base;
    m->reserved = (size_t)reserve;
    goto ready;
  }
  m = calloc(1, sizeof *m);
  if (!m) return ENG_ERR(diag, SHOAL_ERR_NOMEM, -1, "out of host memory for a memory");
  void *p = mmap(NULL, (size_t)reserve, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    free(m);
    return ENG_ERR(diag, SHOAL_ERR_NOMEM, -1, "cannot reserve %llu bytes for a memory",
                   (unsigned long long)reserve);
  }
  if (size && mprotect(p, size, PROT_READ | PROT_WRITE) != 0) {
    munmap(p, (size_t)reserve);
    free(m);
    return ENG_ERR(diag, SHOAL_ERR_NOMEM, -1, "cannot commit %llu pages for a memory",
                   (unsigned long long)lim->min);
  }
  m->base = p;
  m->reserved = (size_t)reserve;
ready:
  m->size = size;
  m->pages = lim->min;
  m->max_pages = max_pages;
  m->decl = *lim;
  m->next_in_store = s->memories;
  s->memories = m;
  *out = m;
  return SHOAL_ERR_OK;
}

void eng_memory_unmap(shoal_memory_t *m) {
  if (m->base) munmap(m->base, m->reserved);
  m->base = NULL;
}

/* Up to this size a retired memory is zeroed by hand: its pages stay
** mapped (no faults when the next instance touches them) and no
** madvise (which makes the kernel interrupt every core running one of
** our threads to flush their TLBs). Larger ones give their pages back. */
#define RETIRE_MEMSET_MAX ((uint64_t)1 << 20)

void eng_memory_retire(shoal_store_t *s, shoal_memory_t *m) {
  /* a store keeps a few mappings (one per memory of a typical component) */
  unsigned n = 0;
  for (shoal_memory_t *k = s->spare_mems; k; k = k->next_in_store) n++;
  bool zeroed = m->size <= RETIRE_MEMSET_MAX;
  if (zeroed && m->size) memset(m->base, 0, (size_t)m->size);
  if (!m->base || n >= 4 || (!zeroed && madvise(m->base, m->size, MADV_DONTNEED) != 0)) {
    eng_memory_unmap(m);
    free(m);
    return;
  }
  m->next_in_store = s->spare_mems;
  s->spare_mems = m;
}

int64_t eng_memory_grow(shoal_memory_t *m, uint64_t delta) {
  uint64_t old = m->pages;
  if (delta > m->max_pages - old) return -1;
  if (delta == 0) return (int64_t)old;
  /* Fresh anonymous pages read as zero, as the spec requires. */
  if (mprotect(m->base + m->size, (size_t)(delta * ENG_PAGE_SIZE), PROT_READ | PROT_WRITE) != 0)
    return -1;
  m->pages = old + delta;
  m->size = m->pages * ENG_PAGE_SIZE;
  m->decl.min = m->pages;
  return (int64_t)old;
}

shoal_memory_t *shoal_memory_new(shoal_store_t *s, const shoal_limits_t *lim) {
  if (!s || !lim) return NULL;
  if (lim->min > ENG_MAX_PAGES) return NULL;
  if (lim->has_max && (lim->max < lim->min || lim->max > ENG_MAX_PAGES)) return NULL;
  eng_limits el = { lim->min, lim->has_max ? lim->max : 0, lim->has_max };
  shoal_memory_t *m;
  return eng_memory_create(s, &el, &m, NULL) == SHOAL_ERR_OK ? m : NULL;
}

uint8_t *shoal_memory_data(shoal_memory_t *m) { return m ? m->base : NULL; }
uint64_t shoal_memory_size(const shoal_memory_t *m) { return m ? m->size : 0; }
uint64_t shoal_memory_pages(const shoal_memory_t *m) { return m ? m->pages : 0; }

void shoal_memory_type(const shoal_memory_t *m, shoal_limits_t *out) {
  if (!out) return;
  memset(out, 0, sizeof *out);
  if (!m) return;
  out->min = m->pages;
  out->max = m->decl.has_max ? m->decl.max : 0;
  out->has_max = m->decl.has_max;
}

int64_t shoal_memory_grow(shoal_memory_t *m, uint64_t delta) {
  return m ? eng_memory_grow(m, delta) : -1;
}

shoal_err_t shoal_memory_read(const shoal_memory_t *m, uint64_t addr, void *dst, size_t n) {
  if (!m || (n && !dst)) return SHOAL_ERR_ARG;
  if (addr > m->size || n > m->size - addr) return SHOAL_ERR_TRAP_MEM_OOB;
  if (n) memcpy(dst, m->base + addr, n);
  return SHOAL_ERR_OK;
}

shoal_err_t shoal_memory_write(shoal_memory_t *m, uint64_t addr, const void *src, size_t n) {
  if (!m || (n && !src)) return SHOAL_ERR_ARG;
  if (addr > m->size || n > m->size - addr) return SHOAL_ERR_TRAP_MEM_OOB;
  if (n) memmove(m->base + addr, src, n);
  return SHOAL_ERR_OK;
}
