/* badimport.c: imports env.nope, which nothing provides: `shoal run` must
** refuse to link it, naming the import. */
__attribute__((import_module("env"), import_name("nope"))) int nope(void);

int main(void) { return nope(); }
