/* The typesworld world (wit/typesworld): world-level types and a function
** import; built to check that shoal inspect prints them as jco wit does. */
#include <stdint.h>
__attribute__((import_module("$root"), import_name("cb"))) int32_t cb(int32_t x, int32_t y);
static int32_t ret[8];
__attribute__((export_name("origin"))) int32_t *origin(void) { ret[0] = 0; ret[1] = cb(0, 0); return ret; }
__attribute__((export_name("mk"))) int32_t *mk(int32_t c) { ret[0] = c; ret[1] = 0; ret[2] = 0; ret[3] = 0; return ret; }
__attribute__((export_name("v"))) int32_t *v(int32_t d, int32_t p, int32_t f) { (void)d; (void)p; (void)f; ret[0] = 0; ret[1] = 0; return ret; }
__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *o, int32_t os, int32_t a, int32_t n) { (void)o; (void)os; (void)a; (void)n; return (void *)1024; }
