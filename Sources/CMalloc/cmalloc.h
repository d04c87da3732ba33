/* glibc's malloc tuning (malloc_trim, mallopt, M_ARENA_MAX), which Swift's Glibc module does not export. */
#include <malloc.h>
