/*
** serve_main.c: the shoal-serve program, which `shoal serve` runs: the only
** program that links the host layer and its HTTP libraries.
*/
#include "cli.h"

int main(int argc, char **argv) { return cli_serve_main(argc, argv); }
