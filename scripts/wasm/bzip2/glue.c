/*
 * libbzip2's decoder as a WebAssembly module with no imports, for src/package/bzip2.ts.
 * One decoder per instance. The calls mirror libarchive's bzip2 filter, which pkg_install
 * reads bzip2 packages through: a 64 KiB output block that BZ2_bzDecompress fills across
 * calls (and across concatenated streams) until it is full or the input ends.
 */
#include <stdlib.h>
#include "bzlib.h"

#define BLOCK 65536

static bz_stream stream;
static char input[BLOCK];
static char output[BLOCK];
static unsigned output_used;

/* A stream makes two allocations (its state, then the block's tt array), both freed by
 * BZ2_bzDecompressEnd: a bump allocator that each bz_start resets is enough. */
extern unsigned char __heap_base;
static size_t top;

void *malloc(size_t size) {
  size_t start = (top + 15) & ~(size_t)15;
  size_t end = start + size;
  size_t have = __builtin_wasm_memory_size(0) * 65536;
  if (end < start) return NULL;
  if (end > have && __builtin_wasm_memory_grow(0, (end - have + 65535) / 65536) == (size_t)-1) return NULL;
  top = end;
  return (void *)start;
}

void free(void *pointer) { (void)pointer; }

/* An assertion inside libbzip2 failed: trap, which the caller sees as an exception. */
void bz_internal_error(int code) {
  (void)code;
  __builtin_trap();
}

char *bz_input(void) { return input; }
char *bz_output(void) { return output; }

/* BZ2_bzDecompressInit for a new stream; the output block keeps what it holds. */
int bz_start(void) {
  top = (size_t)&__heap_base;
  __builtin_memset(&stream, 0, sizeof stream);
  return BZ2_bzDecompressInit(&stream, 0, 0);
}

/* The first `length` bytes of the input buffer are the next input. */
void bz_feed(unsigned length) {
  stream.next_in = input;
  stream.avail_in = length;
}

/* One BZ2_bzDecompress into the rest of the output block; its status. */
int bz_step(void) {
  int status;
  stream.next_out = output + output_used;
  stream.avail_out = BLOCK - output_used;
  status = BZ2_bzDecompress(&stream);
  output_used = BLOCK - stream.avail_out;
  return status;
}

unsigned bz_input_left(void) { return stream.avail_in; }
unsigned bz_output_length(void) { return output_used; }
void bz_output_taken(void) { output_used = 0; }
void bz_finish(void) { BZ2_bzDecompressEnd(&stream); }
