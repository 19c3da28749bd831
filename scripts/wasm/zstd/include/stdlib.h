/* The libc allocation calls libzstd's decoder makes (zstd_deps.h); glue.c implements them. */
#include <stddef.h>
void *malloc(size_t size);
void *calloc(size_t count, size_t size);
void free(void *pointer);
