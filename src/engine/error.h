/*
** error.h: raising errors with their location, and the single-exit
** helpers the engine's parsers use. Internal to the engine.
*/
#ifndef ENG_ERROR_H
#define ENG_ERROR_H

#include "shoal/engine.h"

#if defined(__GNUC__)
#define ENG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define eng_likely(x) __builtin_expect(!!(x), 1)
#define eng_unlikely(x) __builtin_expect(!!(x), 0)
#else
#define ENG_PRINTF(a, b)
#define eng_likely(x) (x)
#define eng_unlikely(x) (x)
#endif

/* Fills diag (if any) and returns code. offset: byte offset in the module
** binary or -1. Use through ENG_ERR so the C location is recorded. */
shoal_err_t eng_error_at(shoal_diag_t *diag, shoal_err_t code, int64_t offset,
                         const char *file, int line, const char *fmt, ...) ENG_PRINTF(6, 7);

#define ENG_ERR(diag, code, offset, ...) \
  eng_error_at((diag), (code), (offset), __FILE__, __LINE__, __VA_ARGS__)

/* Evaluate a shoal_err_t expression; on failure jump to the function's
** single `fail:` label with `err` set. */
#define TRY(expr) do { err = (expr); if (eng_unlikely(err != SHOAL_ERR_OK)) goto fail; } while (0)

#endif
