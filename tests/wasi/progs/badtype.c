/* badtype.c: imports WASI's sched_yield with the wrong type: `shoal run`
** must refuse to link it, naming the import and the type. */
#include <stdint.h>

__attribute__((import_module("wasi_snapshot_preview1"), import_name("sched_yield")))
int64_t bad_sched_yield(int64_t);

int main(void) { return (int)bad_sched_yield(1); }
