/*
 * liblzma's xz and LZMA-alone decoders as a WebAssembly module, for src/package/xz.ts. One
 * decoder per instance. The calls mirror libarchive's xz and lzma filters, which pkg_install
 * reads such packages through (xz_filter_read): lzma_stream_decoder with no memory limit and
 * LZMA_CONCATENATED, or lzma_alone_decoder with no memory limit, then lzma_code into a 64 KiB
 * output block until it is full or the stream ends, with LZMA_FINISH once the input has ended.
 */
#include <stdint.h>
#include "lzma.h"

#define INPUT 65536
#define BLOCK 65536

static lzma_stream stream = LZMA_STREAM_INIT;
static uint8_t input[INPUT];
static uint8_t output[BLOCK];
static size_t output_used;

uint8_t *xz_input(void) { return input; }
uint8_t *xz_output(void) { return output; }

/* A new decoder, of LZMA-alone when `alone`, else of .xz; its lzma_ret. */
int xz_start(int alone) {
  output_used = 0;
  return alone ? lzma_alone_decoder(&stream, UINT64_MAX) : lzma_stream_decoder(&stream, UINT64_MAX, LZMA_CONCATENATED);
}

/* The first `length` bytes of the input buffer are the next input. */
void xz_feed(unsigned length) {
  stream.next_in = input;
  stream.avail_in = length;
}

/* One lzma_code into the rest of the output block, LZMA_FINISH when `finish`; its lzma_ret. */
int xz_step(int finish) {
  int status;
  stream.next_out = output + output_used;
  stream.avail_out = BLOCK - output_used;
  status = lzma_code(&stream, finish ? LZMA_FINISH : LZMA_RUN);
  output_used = BLOCK - stream.avail_out;
  return status;
}

unsigned xz_input_left(void) { return stream.avail_in; }
unsigned xz_output_length(void) { return output_used; }
void xz_output_taken(void) { output_used = 0; }
void xz_finish(void) { lzma_end(&stream); }
