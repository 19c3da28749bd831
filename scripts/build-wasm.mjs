#!/usr/bin/env node
/**
 * Builds the decoders pkgtrust runs as WebAssembly, from the C libraries libarchive calls for
 * pkg_install: src/package/bzip2-wasm.ts (libbzip2), zstd-wasm.ts (libzstd's decoder) and
 * xz-wasm.ts (liblzma's decoder). Each is the sources Debian ships, checked against their
 * SHA-256, and the glue in scripts/wasm/<name>/, compiled with Debian's clang 14 and lld;
 * zstd and xz link wasi-libc's malloc and string functions (`apt-get install clang-14 lld-14
 * wasi-libc`). No module imports anything.
 *
 *   node scripts/build-wasm.mjs [name ...]          rebuild and write the modules (all by default)
 *   node scripts/build-wasm.mjs --check [name ...]  rebuild and fail unless each equals the committed one
 *
 * The builds are reproducible (no paths or dates end up in them), so --check in CI proves that
 * the committed bytes are these sources and nothing else.
 */
/* global WebAssembly */
import { Buffer } from "node:buffer";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { fetch } from "undici";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

const LIBRARIES = {
  bzip2: {
    url: "http://deb.debian.org/debian/pool/main/b/bzip2/bzip2_1.0.8.orig.tar.gz",
    sha256: "ab5a03176ee106d3f0fa90e381da478ddae405918153cca248e682cd0c4a2269",
    dir: "bzip2-1.0.8",
    version: "bzip2 1.0.8",
    constant: "BZIP2_WASM",
    what: "libbzip2's decoder",
    /** The decoder's files; the encoder's are not needed. */
    files: ["bzlib.c", "decompress.c", "huffman.c", "crctable.c", "randtable.c"],
    headers: ["bzlib.h", "bzlib_private.h"],
    includes: ["."],
    // No libc at all: glue.c's allocator is enough for libbzip2.
    libc: false,
    flags: ["-DBZ_NO_STDIO", "-Wno-unused-function"],
    exports: ["bz_input", "bz_output", "bz_start", "bz_feed", "bz_step", "bz_input_left", "bz_output_length", "bz_output_taken", "bz_finish"],
  },
  zstd: {
    // The version Debian 12 builds libzstd1 from, as the C reference of pkg_install's calls links.
    url: "http://deb.debian.org/debian/pool/main/libz/libzstd/libzstd_1.5.4+dfsg2.orig.tar.xz",
    sha256: "8cf4bbb65e77ec348d052c8d6230eba66d435bddf64c8b5be2fcb16880c19953",
    dir: "zstd-1.5.4",
    version: "zstd 1.5.4",
    constant: "ZSTD_WASM",
    what: "libzstd's decoder",
    files: [
      "lib/common/entropy_common.c", "lib/common/error_private.c", "lib/common/fse_decompress.c", "lib/common/xxhash.c", "lib/common/zstd_common.c",
      "lib/decompress/huf_decompress.c", "lib/decompress/zstd_ddict.c", "lib/decompress/zstd_decompress.c", "lib/decompress/zstd_decompress_block.c",
    ],
    headers: ["lib/zstd.h", "lib/zstd_errors.h", "lib/common", "lib/decompress"],
    includes: ["lib", "lib/common"],
    libc: true,
    // No legacy (pre-1.0) frames: libarchive's bidder takes only the current and skippable
    // magic first (docs/pkg_install-notes.md section 8 says what differs after a current one).
    flags: ["-DZSTD_LEGACY_SUPPORT=0", "-DZSTD_DISABLE_ASM", "-DXXH_NAMESPACE=ZSTD_"],
    exports: ["zs_input", "zs_output", "zs_block", "zs_create", "zs_init", "zs_feed", "zs_step", "zs_is_error", "zs_error_name", "zs_input_left", "zs_output_length", "zs_output_taken"],
  },
  xz: {
    // The version Debian 12 builds liblzma5 from.
    url: "http://deb.debian.org/debian/pool/main/x/xz-utils/xz-utils_5.4.1.orig.tar.xz",
    sha256: "5d9827aa1875b21c288f78864bb26d2650b436ea8d2cad364e4921eb6266a5a5",
    dir: "xz-5.4.1",
    version: "xz 5.4.1",
    constant: "XZ_WASM",
    what: "liblzma's decoder",
    /** The .xz stream and LZMA-alone decoders with every filter and check liblzma decodes; no encoders, no threads. */
    files: [
      ...["common", "alone_decoder", "block_decoder", "block_header_decoder", "block_util", "filter_common", "filter_decoder", "filter_flags_decoder", "index_hash", "stream_decoder", "stream_flags_common", "stream_flags_decoder", "vli_decoder", "vli_size"].map((file) => `src/liblzma/common/${file}.c`),
      ...["check", "crc32_fast", "crc32_table", "crc64_fast", "crc64_table", "sha256"].map((file) => `src/liblzma/check/${file}.c`),
      "src/liblzma/lz/lz_decoder.c", "src/liblzma/lzma/lzma_decoder.c", "src/liblzma/lzma/lzma2_decoder.c",
      "src/liblzma/delta/delta_common.c", "src/liblzma/delta/delta_decoder.c",
      ...["simple_coder", "simple_decoder", "x86", "powerpc", "ia64", "arm", "armthumb", "arm64", "sparc"].map((file) => `src/liblzma/simple/${file}.c`),
    ],
    headers: ["src/common", "src/liblzma"],
    includes: ["src/liblzma/api", "src/liblzma/common", "src/liblzma/check", "src/liblzma/lz", "src/liblzma/rangecoder", "src/liblzma/lzma", "src/liblzma/delta", "src/liblzma/simple", "src/common"],
    libc: true,
    // NDEBUG as configure sets it without --enable-debug; scripts/wasm/xz/include/config.h stands for configure.
    flags: ["-DNDEBUG", "-DHAVE_CONFIG_H"],
    exports: ["xz_input", "xz_output", "xz_start", "xz_feed", "xz_step", "xz_input_left", "xz_output_length", "xz_output_taken", "xz_finish"],
  },
};

/** Debian's wasi-libc (package wasi-libc): headers and the static library. */
const WASI_LIBC = "/usr/lib/wasm32-wasi/libc.a";

async function fetchSource(library, work) {
  const response = await fetch(library.url);
  if (!response.ok) throw new Error(`${library.url}: HTTP ${response.status}`);
  const tarball = Buffer.from(await response.arrayBuffer());
  const sha256 = createHash("sha256").update(tarball).digest("hex");
  if (sha256 !== library.sha256) throw new Error(`${library.url}: SHA-256 ${sha256}, expected ${library.sha256}`);
  writeFileSync(join(work, "source.tar"), tarball);
  // tar tells gzip from xz by itself.
  execFileSync("tar", ["-xf", "source.tar", ...library.files.concat(library.headers).map((file) => `${library.dir}/${file}`)], { cwd: work });
  return join(work, library.dir);
}

function compile(name, library, work, source) {
  const glue = join(ROOT, "scripts", "wasm", name);
  const wasm = join(work, `${name}.wasm`);
  // -mbulk-memory: memset and memcpy become memory.fill and memory.copy. -nostdlib: no start
  // files or compiler runtime, only the library archive below.
  execFileSync("clang-14", [
    `--target=${library.libc ? "wasm32-wasi" : "wasm32"}`, "-O2", "-mbulk-memory", "-nostdlib", "-Wall", ...library.flags,
    `-I${join(glue, "include")}`, ...library.includes.map((dir) => `-I${join(source, dir)}`), "-fuse-ld=/usr/bin/wasm-ld-14", "-Wl,--no-entry", "-Wl,--strip-debug",
    ...library.exports.map((symbol) => `-Wl,--export=${symbol}`),
    "-o", wasm, join(glue, "glue.c"), ...library.files.map((file) => join(source, file)), ...(library.libc ? [WASI_LIBC] : []),
  ], { stdio: ["ignore", "inherit", "inherit"] });
  const imports = WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(wasm)));
  if (imports.length > 0) throw new Error(`${name}: the module imports ${imports.map((i) => `${i.module}.${i.name}`).join(", ")}`);
  return readFileSync(wasm);
}

function moduleText(name, library, wasm) {
  const digest = createHash("sha256").update(wasm).digest("hex");
  return `// Generated by scripts/build-wasm.mjs: do not edit. ${library.version} from
// ${library.url} (SHA-256 ${library.sha256}),
// with scripts/wasm/${name}/glue.c, compiled by Debian's clang 14.

/** ${library.what} as WebAssembly (${wasm.length} bytes, SHA-256 ${digest}), base64. */
export const ${library.constant} = "${wasm.toString("base64")}";
`;
}

const check = process.argv.includes("--check");
const names = process.argv.slice(2).filter((arg) => arg !== "--check");
for (const name of names.length > 0 ? names : Object.keys(LIBRARIES)) {
  const library = LIBRARIES[name];
  if (!library) throw new Error(`${name}: not one of ${Object.keys(LIBRARIES).join(", ")}`);
  const out = join(ROOT, "src", "package", `${name}-wasm.ts`);
  const work = mkdtempSync(join(tmpdir(), `pkgtrust-${name}-wasm-`));
  try {
    const text = moduleText(name, library, compile(name, library, work, await fetchSource(library, work)));
    if (!check) {
      writeFileSync(out, text);
      process.stdout.write(`wrote ${out}\n`);
    } else if (readFileSync(out, "utf8") !== text) {
      process.stderr.write(`${out} is not what its sources build to: run node scripts/build-wasm.mjs ${name} and commit the result.\n`);
      process.exitCode = 1;
    } else process.stdout.write(`${out}: reproduced from its sources\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
