/* Start-up probe of `make bench`: the smallest program that prints and exits. */
#include <stdio.h>

int main(void) {
    puts("hello");
    return 0;
}
