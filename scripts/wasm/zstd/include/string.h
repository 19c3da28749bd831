/* The libc memory calls libzstd and xxhash make; clang turns them into WebAssembly bulk-memory instructions or inline code. */
#include <stddef.h>
void *memcpy(void *to, const void *from, size_t length);
void *memmove(void *to, const void *from, size_t length);
void *memset(void *to, int value, size_t length);
int memcmp(const void *a, const void *b, size_t length);
