/*
** cli.h: what the shoal command-line tool's files share. Internal to
** src/cli; everything here is built on the public engine API only.
*/
#ifndef SHOAL_CLI_H
#define SHOAL_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "shoal/engine.h"

/* Process exit codes, shared by every command and listed in `shoal help`. */
enum {
  CLI_EXIT_OK = 0,
  CLI_EXIT_ERROR = 1, /* load, validation, link or I/O failure; spectest failures */
  CLI_EXIT_USAGE = 2, /* bad command line */
  CLI_EXIT_TRAP = 3   /* the guest trapped */
};

#if defined(__GNUC__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

/* cli_util.c */

/* Reads a whole file. On failure returns false and puts a message (with
** strerror) into err. *out is malloc'ed and must be freed by the caller. */
bool cli_read_file(const char *path, uint8_t **out, size_t *len, char *err, size_t errlen);

/* Appending formatter over a fixed buffer: never overflows, always
** NUL-terminated, silently truncates. */
typedef struct cli_buf {
  char *p;
  size_t cap, len;
} cli_buf_t;
void cli_buf_init(cli_buf_t *b, char *storage, size_t cap);
void cli_buf_printf(cli_buf_t *b, const char *fmt, ...) CLI_PRINTF(2, 3);

/* A name from a module (possibly with NULs or control bytes), quoted and
** escaped so it prints safely. */
void cli_buf_name(cli_buf_t *b, const char *s, size_t len);

void cli_buf_functype(cli_buf_t *b, const shoal_functype_t *ft); /* (i32) -> (i64) */
void cli_buf_externtype(cli_buf_t *b, const shoal_externtype_t *t); /* func (..) -> (..) */
const char *cli_valtype_name(shoal_valtype_t t);
const char *cli_section_name(uint8_t id);

/* The message for a failed call: diag's own if set, else the code's default. */
const char *cli_diag_message(const shoal_diag_t *d, shoal_err_t code);

/* spectest_value.c: a value of a spec test script, an argument or an
** expected result. bits is the number's bit pattern, or for a reference the
** host pointer value (0 for null; externref N is N+1, so that N = 0 is not
** null). */
typedef enum expect_kind { EXP_EXACT, EXP_NAN_CANON, EXP_NAN_ARITH, EXP_ANY_REF } expect_kind_t;
typedef struct sval {
  shoal_valtype_t type;
  expect_kind_t kind;
  uint64_t bits;
} sval_t;
typedef enum { SVAL_OK, SVAL_BAD, SVAL_UNSUPPORTED } sval_status_t;

struct cJSON;
/* Reads {"type": .., "value": ..}; on failure err says why. */
sval_status_t sval_parse(const struct cJSON *j, sval_t *out, char *err, size_t errlen);
shoal_val_t sval_to_val(const sval_t *s);
bool sval_matches(const sval_t *e, const shoal_val_t *v);
void cli_buf_sval(cli_buf_t *b, const sval_t *e);
void cli_buf_val(cli_buf_t *b, const shoal_val_t *v);

/* spectest.c */
int cli_spectest_main(int argc, char **argv);

/* cmd_serve.c: `shoal serve` */
int cli_serve_main(int argc, char **argv);

/* spectest_host.c: the "spectest" module the spec scripts import from. */
typedef struct spectest_host spectest_host_t;
spectest_host_t *spectest_host_new(shoal_store_t *s, bool verbose);
void spectest_host_free(spectest_host_t *h);
/* Finds export `name` of the host module; false if there is none. */
bool spectest_host_lookup(const spectest_host_t *h, const char *name, size_t len,
                          shoal_extern_t *out);

#endif
