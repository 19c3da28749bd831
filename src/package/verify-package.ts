import type { Certificate } from "../pki/certificate.js";
import type { Policy } from "../pki/path.js";
import { ArReader } from "./ar-reader.js";
import { BlockHasher } from "./block-hasher.js";
import { ByteReader } from "./byte-reader.js";
import { detectCompression } from "./compression.js";
import { isRefusal, PackageError } from "./errors.js";
import { ContentsReader } from "./inner-contents.js";
import { PackageCache } from "./package-cache.js";
import { rangeHashingOf, type RangeHashing, type RangeHashResult } from "../range-hasher.js";
import { BATCH_BYTES, hashInParallel, ParallelBlockHasher, type BlockHashPool } from "./parallel-block-hasher.js";
import type { ArMember } from "./ar-reader.js";
import { readPkcs7Signature, verifySigners } from "./pkcs7-signature.js";
import { gatherSmallChunks } from "./small-chunks.js";
import { parsePkgHash, type PkgHash } from "./pkg-hash.js";
import { decideTrust, type PackageTrust, type TrustAnswer } from "./verdict.js";

export type { PackageTrust } from "./verdict.js";

/** Caps on the members held in memory: +PKG_HASH grows by 129 bytes per 64 KiB block (16 MiB covers 8 GiB). */
export const MAX_HASH_MEMBER = 16 * 1024 * 1024;
export const MAX_SIGNATURE_MEMBER = 1024 * 1024;

export interface PackageVerdict {
  readonly trusted: boolean;
  /** The signed package name, once +PKG_HASH was read. */
  readonly pkgname?: string;
  readonly code?: string;
  readonly reason: string;
  readonly signer?: Certificate;
  readonly signers?: readonly Certificate[];
  readonly path?: readonly Certificate[];
  /** Set when a newer OpenSSL than NetBSD 10's 3.0 would decide differently. */
  readonly newerOpenSSL?: TrustAnswer;
  readonly hash?: Omit<PkgHash, "blocks"> & { readonly blocks: number };
  readonly signedAttributes?: boolean;
  readonly warnings: readonly string[];
}

/**
 * Lets a caller act on the bytes as they are verified (repo sign writes the re-signed
 * package while the old one is checked, so that it signs exactly the bytes verified).
 */
export interface VerifyTap {
  /** Once the signature over +PKG_HASH is trusted, before the inner package streams; `inner` is its ar member. */
  signed(hashBytes: Uint8Array, inner: ArMember): Promise<void>;
  /** Each chunk of the inner package once it is hashed; the chunk must be consumed before this resolves. */
  inner(chunk: Uint8Array): Promise<void>;
}

export interface VerifyOptions {
  readonly time: Date;
  readonly policy: Policy;
  /**
   * Hash on these shared threads instead of starting some per package; "inline": on this
   * thread (a caller whose own threads already keep every core busy, as repo sign's jobs do).
   */
  readonly hashPool?: BlockHashPool | "inline";
  readonly tap?: VerifyTap;
  /** The run's memos (repo sign shares one across its packages); default: a new one per package. */
  readonly cache?: PackageCache;
  /**
   * false: read the inner package only up to @name (every block is still hashed), not on to
   * the end of its tar as pkg_install does. For repo sign, whose new signature covers exactly
   * the verified hashes: a tar that pkg_install refuses stays refused after re-signing, and
   * decoding every byte of a bzip2 or xz package would dominate the run.
   */
  readonly readToEnd?: boolean;
  /**
   * Called after every few MiB of the inner package decompressed, to free the decompressor's
   * spent buffers, which V8 frees late (verify-package and setup pass a young-generation
   * collection, src/young-gc.ts); default: V8 frees them in its own time.
   */
  readonly collect?: () => void;
}

const TAR_MAGIC = "ustar";
/** Chunks of at least this size (a file's 1 MiB reads, but for a piece at a member's edge) are not gathered. */
const DIRECT_CHUNK = 256 * 1024;

type BlockCheck = (index: number, hex: string) => void;

/** Large packages are hashed on worker threads, a batch of blocks at a time; small ones, and all with "inline", here. */
function blockHasherFor(hash: PkgHash, pool: VerifyOptions["hashPool"], check: BlockCheck): BlockHasher | ParallelBlockHasher {
  if (pool === "inline") return new BlockHasher(hash.blockSize, check);
  if (pool && hash.blockSize <= BATCH_BYTES) return new ParallelBlockHasher(hash.blockSize, check, pool, hash.fileSize);
  if (hashInParallel(hash.blockSize, hash.fileSize)) return new ParallelBlockHasher(hash.blockSize, check);
  return new BlockHasher(hash.blockSize, check);
}

/** Hashes the inner package as it streams past (here or on worker threads fed from here) and walks it. */
async function hashAndWalk(ar: ArReader, inner: ArMember, hashBytes: Uint8Array, hash: PkgHash, contents: ContentsReader, tap: VerifyTap | undefined, pool: VerifyOptions["hashPool"], check: BlockCheck): Promise<void> {
  const hasher = blockHasherFor(hash, pool, check);
  try {
    await tap?.signed(hashBytes, inner);
    // A download's 64 KiB chunks in 1 MiB batches, as a file's are read; a small package's
    // batch is its size, and a member that comes in one piece passes as it is (repo sign's).
    const batch = Math.min(BATCH_BYTES, inner.size);
    for await (const chunk of gatherSmallChunks(ar.body(inner.name), batch, Math.min(DIRECT_CHUNK, batch))) {
      await hasher.update(chunk);
      if (!contents.done) await contents.write(chunk);
      await tap?.inner(chunk);
    }
    await hasher.finish();
  } finally {
    if (hasher instanceof ParallelBlockHasher) await hasher.close();
  }
}

/**
 * The inner package of a file: the hashing threads read and hash it themselves (RangeHasher)
 * while this thread streams it once through the archive walk. The verdict is the streaming
 * one's: a mismatching block that the file holds whole comes before the stream's own error
 * (a file cut short) and before what the walk finds.
 */
async function walkWhileThreadsHash(ar: ArReader, inner: ArMember, hash: PkgHash, contents: ContentsReader, ranged: RangeHashing, check: BlockCheck): Promise<void> {
  let streamed = 0;
  let streamError: unknown;
  try {
    for await (const chunk of ar.body(inner.name)) {
      streamed += chunk.length;
      if (!contents.done) await contents.write(chunk);
    }
  } catch (error) {
    streamError = error;
  }
  let hashed: RangeHashResult;
  try {
    hashed = await ranged.outcome();
  } catch (error) {
    throw streamError ?? new PackageError("PKG_UNREADABLE", `cannot read the inner package: ${(error as Error).message}`, { cause: error });
  }
  // The blocks that the stream saw whole, in order: the first mismatch among them, as a single pass finds it.
  const whole = Math.min(hashed.blocks, streamError === undefined ? hash.blocks.length : Math.floor(streamed / hash.blockSize));
  if (hashed.firstMismatch !== undefined && hashed.firstMismatch < whole) check(hashed.firstMismatch, "(differs)");
  if (streamError !== undefined) throw streamError;
  // The file changed under the threads (it is shorter than the stream found it).
  if (hashed.blocks !== hash.blocks.length) throw new PackageError("PKG_TRUNCATED", `the package file changed while it was read (${hashed.blocks} of ${hash.blocks.length} blocks hashed)`);
}

/**
 * Tells an unsigned package (a tar, plain or compressed as pkgsrc's PKG_COMPRESSION makes it:
 * libarchive reads it for pkg_install, and finds no +PKG_HASH first) from something that is
 * no package at all.
 */
function notArError(head: Uint8Array): PackageError {
  const detected = detectCompression(head);
  const compressed = "unreadable" in detected || detected.compression !== "none";
  const tar = Buffer.from(head.subarray(257, 262)).toString("latin1") === TAR_MAGIC;
  if (compressed || tar) return new PackageError("PKG_UNSIGNED", "the package is not signed: it is a plain tar archive, not an ar archive with +PKG_HASH and +PKG_SIGNATURE");
  return new PackageError("PKG_NOT_AR", "the file is neither a signed package (ar archive) nor an unsigned one (tgz)");
}

async function readSigned(reader: ByteReader, trust: PackageTrust, options: VerifyOptions, state: { pkgname?: string }, fileHashing: (() => RangeHashing) | undefined): Promise<PackageVerdict> {
  if (Buffer.from(await reader.peek(8)).toString("latin1") !== "!<arch>\n") throw notArError(await reader.peek(512));
  const ar = await ArReader.open(reader);
  // pkg_install (read_file_from_archive): +PKG_HASH first, then +PKG_SIGNATURE, else no valid
  // signature; GNU name tables ("//") before either are skipped, one before the inner package is not.
  const first = await ar.nextFile();
  if (first?.name !== "+PKG_HASH") throw new PackageError("PKG_UNSIGNED", `the package has no +PKG_HASH member${first ? ` (it starts with '${first.name}')` : ""}`);
  const hashBytes = await ar.readBody(MAX_HASH_MEMBER, "+PKG_HASH");
  const second = await ar.nextFile();
  if (second?.name === "+PKG_GPG_SIGNATURE") throw new PackageError("PKG_GPG_SIGNED", "the package is signed with OpenPGP (+PKG_GPG_SIGNATURE), not X.509");
  if (second?.name !== "+PKG_SIGNATURE") throw new PackageError("PKG_UNSIGNED", `the package has +PKG_HASH but no +PKG_SIGNATURE${second ? ` (found '${second.name}')` : ""}`);
  const signatureText = Buffer.from(await ar.readBody(MAX_SIGNATURE_MEMBER, "+PKG_SIGNATURE")).toString("latin1");
  const hash = parsePkgHash(hashBytes);
  state.pkgname = hash.pkgname;
  // A big package in a file: threads that read and hash the inner package themselves start
  // now, so that they boot, and hash, while the signature is checked.
  const ranged = fileHashing && !options.tap && !options.hashPool && hashInParallel(hash.blockSize, hash.fileSize) ? fileHashing() : undefined;
  try {
    return await checkSigned(ar, reader, hashBytes, hash, trust, options, signatureText, ranged);
  } finally {
    await ranged?.close();
  }
}

async function checkSigned(
  ar: ArReader,
  reader: ByteReader,
  hashBytes: Uint8Array,
  hash: PkgHash,
  trust: PackageTrust,
  options: VerifyOptions,
  signatureText: string,
  ranged: RangeHashing | undefined,
): Promise<PackageVerdict> {
  const cache = options.cache ?? new PackageCache();
  // The inner member's header is read first so that the hashing threads start before the
  // signature is judged (the blocks are hashed whatever the verdict); its errors still come
  // after the signature's, in pkg_install's order.
  const next = await ar.next().then(
    (member) => ({ member }),
    (error: unknown) => ({ error }),
  );
  if (ranged && "member" in next && next.member?.size === hash.fileSize) ranged.start(reader.offset, hash.fileSize, hash.blockSize, hash.blocks);
  const signature = readPkcs7Signature(signatureText, cache);
  const verified = verifySigners(signature, hashBytes, trust.chain.map((c) => c.der), cache);
  const decision = decideTrust(verified, signature.embedded, trust, { time: options.time, policy: options.policy, cache });

  if ("error" in next) throw next.error;
  const inner = next.member;
  if (!inner) throw new PackageError("PKG_TRUNCATED", "the package ends before the inner package");
  // pkg_install: "Package size doesn't match signature".
  if (inner.size !== hash.fileSize) {
    throw new PackageError("PKG_SIZE_MISMATCH", `the inner package has ${inner.size} bytes, +PKG_HASH says ${hash.fileSize}`, { detail: { size: inner.size, signed: hash.fileSize } });
  }
  const check = (index: number, hex: string) => {
    if (hex !== hash.blocks[index]) throw new PackageError("PKG_BLOCK_MISMATCH", `block ${index} of the inner package does not match +PKG_HASH`, { detail: { block: index } });
  };
  const contents = new ContentsReader({ ...(options.readToEnd === false ? {} : { toEnd: { innerSize: hash.fileSize } }), collect: options.collect });
  if (ranged) await walkWhileThreadsHash(ar, inner, hash, contents, ranged, check);
  else await hashAndWalk(ar, inner, hashBytes, hash, contents, decision.trusted ? options.tap : undefined, options.hashPool, check);
  const name = await contents.end();
  if (name !== hash.pkgname) {
    // pkg_install never compares them (the XXX in pkg_signature.c): pkgtrust's one deliberate refusal beyond pkg_install.
    throw new PackageError("PKG_NAME_MISMATCH", `+PKG_HASH signs '${hash.pkgname}' but +CONTENTS says @name ${name} (pkg_install itself would install it: it does not compare the names)`, { detail: { signed: hash.pkgname, name } });
  }

  const { signers, newerOpenSSL, ...signatureAnswer } = decision;
  // pkg_install (lib/pkg_signature.c verify_signature_read_cb) reads the last block as
  // size % block size bytes: with an exact multiple it hashes an empty block, so pkg_add
  // refuses a package that is correctly signed. The verdict must be pkg_install's.
  const answer =
    signatureAnswer.trusted && hash.fileSize % hash.blockSize === 0
      ? {
          ...signatureAnswer,
          trusted: false,
          code: "PKG_LAST_BLOCK_BUG",
          reason: `the signature and every block are valid, but the inner package's size ${hash.fileSize} is a multiple of ${hash.blockSize} and pkg_install reads its last block as empty`,
        }
      : signatureAnswer;
  const warnings = [...decision.warnings];
  return {
    ...answer,
    pkgname: hash.pkgname,
    signers,
    ...(newerOpenSSL ? { newerOpenSSL } : {}),
    hash: { pkgname: hash.pkgname, algorithm: hash.algorithm, blockSize: hash.blockSize, fileSize: hash.fileSize, blocks: hash.blocks.length },
    signedAttributes: verified.some((v) => v.signedAttributes),
    warnings,
  };
}

/**
 * Verifies a signed binary package as it streams in, the way pkg_install does with
 * CERTIFICATE_ANCHOR_PKGS=anchors and CERTIFICATE_CHAIN=chain on NetBSD 10, and also
 * checks +PKG_HASH's pkgname against @name. Malformed input throws PackageError; a
 * well-formed package that must not be trusted returns `trusted: false` with a code.
 */
export async function verifyPackage(input: AsyncIterable<Uint8Array>, trust: PackageTrust, options: VerifyOptions): Promise<PackageVerdict> {
  const reader = new ByteReader(input);
  const state: { pkgname?: string } = {};
  try {
    return await readSigned(reader, trust, options, state, rangeHashingOf(input));
  } catch (error) {
    if (error instanceof PackageError && isRefusal(error)) {
      return { trusted: false, ...(state.pkgname ? { pkgname: state.pkgname } : {}), code: error.code, reason: error.message, warnings: [] };
    }
    throw error;
  } finally {
    await reader.close();
  }
}
