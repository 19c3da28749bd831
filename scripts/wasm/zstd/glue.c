/*
 * libzstd's decoder as a WebAssembly module with no imports, for src/package/zstd.ts.
 * One decoder per instance. The calls mirror libarchive's zstd filter, which pkg_install
 * reads zstd packages through (zstd_filter_read): an output block of ZSTD_DStreamOutSize()
 * bytes that ZSTD_decompressStream fills across calls and across frames, ZSTD_initDStream
 * before each frame, and a frame that is still open when the input ends is an error.
 */
#include "zstd.h"

#define INPUT 65536
#define BLOCK ZSTD_BLOCKSIZE_MAX

static ZSTD_DStream *stream;
static ZSTD_inBuffer in;
static ZSTD_outBuffer out;
static unsigned char input[INPUT];
static unsigned char output[BLOCK];

unsigned char *zs_input(void) { return input; }
unsigned char *zs_output(void) { return output; }
unsigned zs_block(void) { return BLOCK; }

/* ZSTD_createDStream, once per instance; 0 when out of memory. */
int zs_create(void) {
  if (stream == NULL) stream = ZSTD_createDStream();
  return stream != NULL;
}

/* ZSTD_initDStream before a frame: its result (an error code or a size hint). */
size_t zs_init(void) { return ZSTD_initDStream(stream); }

/* The first `length` bytes of the input buffer are the next input. */
void zs_feed(unsigned length) {
  in.src = input;
  in.size = length;
  in.pos = 0;
}

/* One ZSTD_decompressStream into the rest of the output block: its result, 0 when a frame is done. */
size_t zs_step(void) {
  out.dst = output;
  out.size = BLOCK;
  return ZSTD_decompressStream(stream, &out, &in);
}

unsigned zs_is_error(size_t result) { return ZSTD_isError(result); }
const char *zs_error_name(size_t result) { return ZSTD_getErrorName(result); }
unsigned zs_input_left(void) { return in.size - in.pos; }
unsigned zs_output_length(void) { return out.pos; }
void zs_output_taken(void) { out.pos = 0; }
