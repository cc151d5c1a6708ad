/*
** memory.c: linear memories. Each reserves address space for its effective
** maximum up front (PROT_NONE) and commits pages as it grows, so `base`
** never moves and the interpreter may cache it across calls and growth.
*/
#define _GNU_SOURCE  /* memfd_create */
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

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
  eng_track_stop(m, true);
  if (m->base) munmap(m->base, m->reserved);
  m->base = NULL;
}

/* Up to reset_keep_bytes (default below) a retired memory is zeroed by
** hand: its pages stay mapped (no faults when the next instance touches
** them) and no madvise (which makes the kernel interrupt every core
** running one of our threads to flush their TLBs). Larger ones give their
** pages back. */
#define RETIRE_KEEP_DEFAULT ((uint64_t)1 << 20)

/* {===================================================================
** Clearing a retired memory: only its pages that exist. A page that is
** neither resident nor swapped out reads as zero on its next touch (the
** mapping is private and anonymous), and a guest touches few of its pages:
** /proc/self/pagemap says which (one read, no TLB flush, unlike madvise).
** Without it, every page is cleared.
** =================================================================== */
#define PM_PRESENT ((uint64_t)1 << 63)
#define PM_SWAPPED ((uint64_t)1 << 62)

static int pagemap_fd = -1;
static pthread_once_t pagemap_once = PTHREAD_ONCE_INIT;
static void pagemap_open(void) { pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC); }

bool eng_pages_present(const uint8_t *base, uint64_t size, uint64_t *map, uint64_t cap) {
  long pg = sysconf(_SC_PAGESIZE);
  uint64_t n = pg > 0 ? size / (uint64_t)pg : 0;
  pthread_once(&pagemap_once, pagemap_open);
  if (pagemap_fd < 0 || n == 0 || n > cap || size % (uint64_t)pg ||
      pread(pagemap_fd, map, n * sizeof *map, (off_t)((uintptr_t)base / (uint64_t)pg * sizeof *map)) !=
          (ssize_t)(n * sizeof *map))
    return false;
  for (uint64_t i = 0; i < n; i++) map[i] = (map[i] & (PM_PRESENT | PM_SWAPPED)) != 0;
  return true;
}

static void clear_pages(uint8_t *base, uint64_t size) {
  uint64_t map[256];
  if (!eng_pages_present(base, size, map, sizeof map / sizeof *map)) {
    memset(base, 0, (size_t)size);
    return;
  }
  long pg = sysconf(_SC_PAGESIZE);
  for (uint64_t i = 0; i < size / (uint64_t)pg; i++)
    if (map[i]) memset(base + i * (uint64_t)pg, 0, (size_t)pg);
}
/* }=================================================================== */

bool eng_memory_rewind(const shoal_store_t *s, shoal_memory_t *m, uint64_t pages) {
  if (pages > m->pages) return false;
  size_t size = (size_t)(pages * ENG_PAGE_SIZE);
  if (m->imaged) {  /* the copy-on-write image: dropping our copies brings its pages back */
    if (madvise(m->base, m->size, MADV_DONTNEED) != 0) return false;
    if (m->size > size && mprotect(m->base + size, m->size - size, PROT_NONE) != 0) return false;
    m->size = size;
    m->pages = pages;
    m->decl.min = pages;
    return true;
  }
  if (m->track) {  /* the pages it touched are known: no system call */
    eng_track_reset(m, size);
    m->size = size;
    m->pages = pages;
    m->decl.min = pages;
    return true;
  }
  uint64_t keep = s->cfg.reset_keep_bytes ? s->cfg.reset_keep_bytes : RETIRE_KEEP_DEFAULT;
  if (m->size <= keep) clear_pages(m->base, m->size);
  else if (m->size && madvise(m->base, m->size, MADV_DONTNEED) != 0) return false;
  if (m->size > size && mprotect(m->base + size, m->size - size, PROT_NONE) != 0) return false;
  m->size = size;
  m->pages = pages;
  m->decl.min = pages;
  if (s->cfg.track_pages && size <= keep) eng_track_start(m);  /* from the next reset on */
  return true;
}

void eng_memory_retire(shoal_store_t *s, shoal_memory_t *m) {
  eng_track_stop(m, false);
  /* a store keeps a few mappings (one per memory of a typical component) */
  unsigned n = 0;
  for (shoal_memory_t *k = s->spare_mems; k; k = k->next_in_store) n++;
  uint64_t keep = s->cfg.reset_keep_bytes ? s->cfg.reset_keep_bytes : RETIRE_KEEP_DEFAULT;
  bool zeroed = m->size <= keep && !m->imaged;
  if (zeroed && m->size && n < 4) clear_pages(m->base, m->size);
  if (!m->base || n >= 4 || m->imaged || (!zeroed && madvise(m->base, m->size, MADV_DONTNEED) != 0)) {
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
  uint64_t size = (old + delta) * ENG_PAGE_SIZE;
  if (m->track && !eng_track_grow(m, size)) eng_track_stop(m, false);
  /* Fresh anonymous pages read as zero, as the spec requires (tracked:
  ** they stay inaccessible until touched) */
  if (!m->track && mprotect(m->base + m->size, (size_t)(delta * ENG_PAGE_SIZE), PROT_READ | PROT_WRITE) != 0)
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

/* {===================================================================
** Memory images: a module whose data segments are large gets its memory
** 0's initial contents written once to a memfd, and each instance maps
** that copy-on-write over its memory: pages the guest only reads are the
** page cache's, and instantiation copies nothing (wasmtime does the same).
** Small segments are cheaper to copy than a mapping is to make and undo.
** =================================================================== */
#define IMAGE_MIN_BYTES (256u * 1024)

/* The offset of a constant i32.const expression; false for anything else. */
static bool const_offset(const eng_constexpr *ce, uint32_t *out) {
  const uint8_t *p = ce->code, *end = ce->code + ce->len;
  if (p == end || *p++ != 0x41) return false;
  int64_t v = 0;
  unsigned shift = 0;
  uint8_t b;
  do {
    if (p == end || shift > 28) return false;
    b = *p++;
    v |= (int64_t)(b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80);
  if (shift < 32 && (b & 0x40)) v |= -((int64_t)1 << shift);
  if (p == end || *p++ != 0x0b || p != end) return false;
  *out = (uint32_t)v;
  return true;
}

void eng_memory_image_build(shoal_module_t *m) {
#ifdef __linux__
  if (m->nmems == 0 || m->nimported_mems) return;  /* memory 0 must be this module's */
  uint64_t end = 0, bytes = 0, size = m->mems[0].min * (uint64_t)ENG_PAGE_SIZE;
  for (uint32_t i = 0; i < m->ndatas; i++) {
    const eng_data *d = &m->datas[i];
    if (d->mode != ENG_SEG_ACTIVE) continue;
    uint32_t off;
    /* each segment must land where instantiation would put it, in bounds */
    if (d->mem != 0 || !const_offset(&d->offset, &off) || (uint64_t)off + d->len > size) return;
    if ((uint64_t)off + d->len > end) end = (uint64_t)off + d->len;
    bytes += d->len;
  }
  if (bytes < IMAGE_MIN_BYTES) return;
  long pg = sysconf(_SC_PAGESIZE);
  end = (end + (uint64_t)pg - 1) / (uint64_t)pg * (uint64_t)pg;
  if (end > size || end > UINT32_MAX) return;
  int fd = memfd_create("shoal-memory-image", MFD_CLOEXEC);
  if (fd < 0) return;
  bool ok = ftruncate(fd, (off_t)end) == 0;
  for (uint32_t i = 0; ok && i < m->ndatas; i++) {  /* in order: later segments win, as at instantiation */
    const eng_data *d = &m->datas[i];
    uint32_t off;
    if (d->mode != ENG_SEG_ACTIVE || !d->len) continue;
    const_offset(&d->offset, &off);
    for (uint32_t done = 0; ok && done < d->len;) {
      ssize_t w = pwrite(fd, d->bytes + done, d->len - done, (off_t)off + done);
      ok = w > 0;
      if (ok) done += (uint32_t)w;
    }
  }
  if (!ok) {
    close(fd);
    return;
  }
  m->image_fd = fd;
  m->image_len = (uint32_t)end;
#else
  (void)m;
#endif
}

bool eng_memory_map_image(shoal_memory_t *mem, const shoal_module_t *m) {
  if (!m->image_len || mem->size < m->image_len) return false;
  void *p = mmap(mem->base, m->image_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, m->image_fd, 0);
  if (p == MAP_FAILED) return false;
  mem->imaged = true;
  return true;
}
/* }=================================================================== */
