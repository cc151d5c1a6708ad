/* Embedding shoal: load a module, give it a host function, call an export,
** read its memory. Usage: embed_example add.wasm (from examples/add.wat). */
#include <shoal/engine.h>
#include <stdio.h>
#include <stdlib.h>

/* Host function "env" "log_i32": (i32) -> (). */
static shoal_err_t log_i32(shoal_caller_t *caller, void *env, shoal_raw_t *io) {
  (void)caller; (void)env;
  printf("log_i32: %d\n", (int32_t)io[0]);
  return SHOAL_ERR_OK;
}

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  uint8_t *buf = n > 0 ? malloc((size_t)n) : NULL;
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
  fclose(f);
  *len = (size_t)n;
  return buf;
}

int main(int argc, char **argv) {
  shoal_diag_t diag;
  size_t len;
  uint8_t *bytes = argc > 1 ? read_file(argv[1], &len) : NULL;
  if (!bytes) { fprintf(stderr, "usage: %s add.wasm\n", argv[0]); return 1; }

  /* Decode, validate and compile; the module keeps its own copy of the bytes. */
  shoal_module_t *mod;
  shoal_err_t err = shoal_module_new(bytes, len, &mod, &diag);
  free(bytes);
  if (err) { fprintf(stderr, "load: %s\n", diag.message); return 1; }

  shoal_store_config_t cfg = {.size = sizeof cfg};  /* zeros: defaults */
  shoal_store_t *store;
  if (shoal_store_new(&cfg, &store)) return 1;

  /* Imports are given in the module's order: here only env.log_i32. */
  shoal_valtype_t params[] = {SHOAL_I32};
  shoal_functype_t type = {.nparams = 1, .params = params};
  shoal_extern_t imports[] = {
    {.kind = SHOAL_EXTERN_FUNC,
     .of.func = shoal_func_new_host(store, &type, log_i32, NULL, NULL)},
  };
  shoal_instance_t *inst;
  err = shoal_instance_new(store, mod, imports, 1, &inst, &diag);
  if (err) { fprintf(stderr, "instantiate: %s\n", diag.message); return 1; }

  /* Call add(2, 3) with typed values. */
  shoal_val_t args[] = {{.type = SHOAL_I32, .of.i32 = 2}, {.type = SHOAL_I32, .of.i32 = 3}};
  shoal_val_t result;
  err = shoal_func_call(store, shoal_instance_func(inst, "add"), args, 2, &result, 1, &diag);
  if (err) { fprintf(stderr, "call: %s\n", diag.message); return 1; }
  printf("add(2, 3) = %d\n", result.of.i32);

  /* Read the exported memory: a string at 0, the stored sum at 16. */
  shoal_memory_t *mem = shoal_instance_memory(inst, "memory");
  char text[16];
  uint8_t sum[4];
  if (shoal_memory_read(mem, 0, text, sizeof text) || shoal_memory_read(mem, 16, sum, 4))
    return 1;
  printf("memory: \"%s\", sum %d\n", text,  /* wasm memory is little-endian */
         (int)(sum[0] | sum[1] << 8 | sum[2] << 16 | (uint32_t)sum[3] << 24));

  shoal_store_free(store);  /* frees the instance and the host function too */
  shoal_module_free(mod);
  return 0;
}
