import { createGunzip } from "node:zlib";
import { PassThrough, type Writable } from "node:stream";
import { extract } from "tar-stream";
import { PackageError } from "./errors.js";

/**
 * Reads `@name` from the inner package's first entry, +CONTENTS, while the package flows
 * past for hashing: bytes are fed in as they arrive and the reader stops at the end of
 * that first entry. pkg_install does not compare this name with +PKG_HASH (an XXX in
 * pkg_signature.c); pkgtrust does.
 */

/** A packing list larger than this is refused rather than buffered. */
export const MAX_CONTENTS = 4 * 1024 * 1024;
/** Decompressed bytes allowed before +CONTENTS is complete (tar headers, pax records included). */
const MAX_TAR_PREFIX = MAX_CONTENTS + 1024 * 1024;

const MAGICS: readonly { readonly bytes: readonly number[]; readonly name: string }[] = [
  { bytes: [0x42, 0x5a, 0x68], name: "bzip2" },
  { bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], name: "xz" },
  { bytes: [0x28, 0xb5, 0x2f, 0xfd], name: "zstd" },
  { bytes: [0x5d, 0x00, 0x00], name: "lzma" },
];

/** `@name` of a packing list: the first one, as pkg_install's find_plist returns. */
export function packingListName(contents: string): string | undefined {
  for (const line of contents.split("\n")) {
    const match = /^@name[ \t]+(\S+)[ \t\r]*$/.exec(line);
    if (match) return match[1];
  }
  return undefined;
}

export class ContentsReader {
  private sink: Writable | undefined;
  private started = false;
  private settled = false;
  private readonly result: Promise<string>;
  private resolve!: (name: string) => void;
  private reject!: (error: unknown) => void;

  constructor() {
    this.result = new Promise<string>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Avoid an unhandled rejection when the caller fails for another reason first.
    this.result.catch(() => undefined);
  }

  /** True once @name is known or reading failed: the rest of the package need not be fed. */
  get done(): boolean {
    return this.settled;
  }

  /** Feeds the next bytes of the inner package; resolves when the parser has taken them. */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.settled) return;
    if (!this.started) this.start(chunk);
    const sink = this.sink;
    if (!sink || this.settled) return;
    // zlib keeps the chunk until it gets to it: give it a copy (the source may reuse buffers).
    if (!sink.write(Buffer.from(chunk))) {
      await new Promise<void>((resolve) => {
        const done = () => {
          sink.off("drain", done);
          sink.off("close", done);
          resolve();
        };
        sink.on("drain", done);
        sink.on("close", done);
        void this.result.finally(done);
      });
    }
  }

  /** Ends the input and returns @name. */
  async end(): Promise<string> {
    if (!this.settled) this.sink?.end();
    if (!this.started) this.fail("PKG_INNER_FORMAT", "the inner package is empty");
    return this.result;
  }

  private fail(code: "PKG_INNER_FORMAT" | "PKG_INNER_COMPRESSION" | "PKG_CONTENTS_TOO_LARGE", message: string, cause?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(new PackageError(code, message, { cause }));
    this.sink?.destroy();
  }

  private succeed(name: string): void {
    if (this.settled) return;
    this.settled = true;
    this.resolve(name);
    this.sink?.destroy();
  }

  private start(first: Uint8Array): void {
    this.started = true;
    const compression = MAGICS.find((m) => m.bytes.every((b, i) => first[i] === b));
    if (compression) {
      this.fail("PKG_INNER_COMPRESSION", `the inner package is ${compression.name}-compressed; only gzip and plain tar can be checked`);
      return;
    }
    const tar = extract();
    const gzip = first[0] === 0x1f && first[1] === 0x8b;
    const input = gzip ? createGunzip() : new PassThrough();
    input.on("error", (error) => this.fail("PKG_INNER_FORMAT", `the inner package cannot be decompressed: ${error.message}`, error));
    // A compression bomb or a huge pax header before +CONTENTS must not fill memory.
    let decompressed = 0;
    input.on("data", (data: Buffer) => {
      decompressed += data.length;
      if (decompressed > MAX_TAR_PREFIX) this.fail("PKG_CONTENTS_TOO_LARGE", `+CONTENTS does not end within the first ${MAX_TAR_PREFIX} bytes of the inner package`);
    });
    tar.on("error", (error: Error) => this.fail("PKG_INNER_FORMAT", `the inner package is not a tar archive: ${error.message}`, error));
    tar.on("finish", () => this.fail("PKG_INNER_FORMAT", "the inner package has no entry"));
    tar.on("entry", (header, stream) => {
      // pkg_install (extract_pkgname): the first entry must be +CONTENTS.
      if (header.name !== "+CONTENTS" || (header.type ?? "file") !== "file") {
        this.fail("PKG_INNER_FORMAT", `the inner package starts with '${header.name}', not +CONTENTS`);
        return;
      }
      if ((header.size ?? 0) > MAX_CONTENTS) {
        this.fail("PKG_CONTENTS_TOO_LARGE", `+CONTENTS has ${header.size} bytes, more than the ${MAX_CONTENTS} allowed`);
        return;
      }
      const parts: Buffer[] = [];
      stream.on("data", (part: unknown) => parts.push(part as Buffer));
      stream.on("error", (error: Error) => this.fail("PKG_INNER_FORMAT", `+CONTENTS cannot be read: ${error.message}`, error));
      stream.on("end", () => {
        const name = packingListName(Buffer.concat(parts).toString("utf8"));
        if (name === undefined) this.fail("PKG_INNER_FORMAT", "+CONTENTS has no @name line");
        else this.succeed(name);
      });
    });
    input.pipe(tar);
    this.sink = input;
  }
}
