/* The one libc header libbzip2 includes when built with BZ_NO_STDIO; glue.c is its allocator. */
#include <stddef.h>
void *malloc(size_t size);
void free(void *pointer);
