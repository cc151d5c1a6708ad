/*
** spectest_main.c: the shoal-spectest program, which `shoal spectest` runs
** (it links cJSON, which the other commands do not need).
*/
#include "cli.h"

int main(int argc, char **argv) { return cli_spectest_main(argc, argv); }
