/*
** guard.h: bounds checks by address space. Each linear memory reserves
** 8 GiB + 64 KiB, more than any 32-bit address plus 32-bit offset can
** reach, and only its current pages are accessible; a load or store past
** the end faults in the reserved guard region and becomes a trap.
** Other platforms (or -DSHOAL_EXPLICIT_BOUNDS) compare against the size.
*/
#ifndef ENG_GUARD_H
#define ENG_GUARD_H

#include <setjmp.h>
#include <stdint.h>

#if !defined(SHOAL_EXPLICIT_BOUNDS) && defined(__linux__) && UINTPTR_MAX == UINT64_MAX
#define ENG_GUARD_PAGES 1
#else
#define ENG_GUARD_PAGES 0
#endif

/* Bytes of address space a memory reserves. */
#if ENG_GUARD_PAGES
#define ENG_GUARD_RESERVE ((uint64_t)8 << 30 | (uint64_t)65536)
#endif

/* One per running interpreter activation, innermost first. */
typedef struct eng_guard_ctx {
  sigjmp_buf jb;
  uint8_t *lo, *hi;                 /* the memory reservation being run against */
  struct eng_guard_ctx *prev;
} eng_guard_ctx;

eng_guard_ctx *eng_guard_current(void);
/* Installs the fault handler (once). */
void eng_guard_install(void);
/* Makes g the innermost context (installing the fault handler on first use). */
void eng_guard_set(eng_guard_ctx *g);

#endif
