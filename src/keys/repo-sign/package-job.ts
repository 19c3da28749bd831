import { createHash } from "node:crypto";
import { constants, type Stats } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { asPkgtrustError, PkgtrustError } from "../../errors.js";
import { ArReader, AR_MAGIC, type ArMember } from "../../package/ar-reader.js";
import { arPadding, type ArMemberInfo } from "../../package/ar-writer.js";
import { BlockHasher } from "../../package/block-hasher.js";
import { ByteReader } from "../../package/byte-reader.js";
import { handleChunks } from "../../file-chunks.js";
import { ContentsReader } from "../../package/inner-contents.js";
import { ParallelBlockHasher, type BlockHashPool } from "../../package/parallel-block-hasher.js";
import type { PackageCache } from "../../package/package-cache.js";
import { readPkcs7Signature, verifySigners, type Pkcs7Signature } from "../../package/pkcs7-signature.js";
import { formatPkgHash, parsePkgHash, SIGNING_BLOCK_SIZE } from "../../package/pkg-hash.js";
import type { PackageTrust } from "../../package/verdict.js";
import { MAX_HASH_MEMBER, MAX_SIGNATURE_MEMBER, verifyPackage } from "../../package/verify-package.js";
import { parseCertificate, type Certificate } from "../../pki/certificate.js";
import { PKG_INSTALL_POLICY } from "../../pki/path.js";
import { signedArchiveHead } from "../sign-package.js";
import { RepoSignError } from "./errors.js";
import { embedsExactly, signHash, type SigningIdentity } from "./identity.js";
import { READ_CHUNK, type ReadBuffers } from "./read-buffers.js";
import { Replacement, type Replaced } from "./replacement.js";
import { packageNameOf } from "./scan.js";

/**
 * One package of a repo sign run. A signed package is re-signed in the same pass that
 * verifies it: once its signature over +PKG_HASH is trusted, the new file gets that very
 * +PKG_HASH (byte for byte, whatever its block size) and a new +PKG_SIGNATURE, then every
 * inner byte is hashed against +PKG_HASH and written; the rename happens only after the
 * whole verdict (signature, every block, size, @name) came out trusted. So one read, one
 * hash and one write per byte, and the new signature covers exactly the hashes that were
 * verified: a package changed on the server is never laundered. An unsigned package is
 * hashed, then written while its blocks are hashed again (the second pass proves the
 * bytes written are the bytes signed).
 */

export interface JobContext {
  readonly dir: string;
  readonly identity: SigningIdentity;
  readonly trust: PackageTrust;
  /** The run's memos: its packages embed the same few certificates. */
  readonly cache: PackageCache;
  readonly time: Date;
  /** Where blocks are hashed: shared threads, or "inline" on a job thread (its siblings keep the other cores busy). */
  readonly pool: BlockHashPool | "inline";
  readonly force: boolean;
  readonly dryRun: boolean;
  /** How long ago an old signer may have expired and still have its packages re-signed (verificationTime). */
  readonly expiredGraceDays: number;
  /** node:crypto algorithms of the whole-file digests pkg_summary's FILE_CKSUM needs. */
  readonly digests: readonly string[];
  /** Bytes read so far, for progress. */
  readonly onRead: (bytes: number) => void;
  /** The thread's read buffers, lent to one package at a time. */
  readonly readBuffers: ReadBuffers;
}

export type Outcome =
  | { readonly kind: "signed" | "resigned"; readonly file: string; readonly pkgname: string; readonly oldSize: number; readonly newSize: number; readonly digests: Readonly<Record<string, string>>; readonly warnings: readonly string[] }
  /** `size` and `digests` are the file's as it is: a run killed before its summary rewrite left them out of pkg_summary. */
  | { readonly kind: "skipped"; readonly file: string; readonly pkgname: string; readonly reason: string; readonly size: number; readonly digests: Readonly<Record<string, string>> }
  | ({ readonly kind: "failed"; readonly file: string; readonly code: string; readonly message: string } & Failure);

/**
 * Why a package failed: refused (read, and judged not fit to sign: a verdict), or a coded
 * error (unreadable, not writable ...). The CLI turns either into an exit status.
 */
export type Failure = { readonly refused: true } | { readonly refused: false; readonly error: PkgtrustError };

export function failed(file: string, error: unknown): Outcome {
  const coded = asPkgtrustError(error);
  return { kind: "failed", file, code: coded.code, message: coded.message, refused: false, error: coded };
}

const DAY = 86_400_000;

/** Maps a file-system error of the new version to its code (the package is untouched). */
function writeError(file: string, error: unknown): PkgtrustError {
  if (error instanceof PkgtrustError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return new RepoSignError("REPO_PKG_WRITE", `cannot replace ${file}: ${code}`, { cause: error, detail: { file } });
}

function checkFileName(file: string, pkgname: string): void {
  // A package under another package's file name is a mix-and-match: never sign it (TUF).
  if (packageNameOf(file) !== pkgname) {
    throw new RepoSignError("REPO_PKG_FILE_NAME", `${file} holds ${pkgname}: its file name and @name differ`, { detail: { file, pkgname } });
  }
}

/** pkg_sign: every member carries the input file's stat (archive_entry_copy_stat). */
function memberInfo(name: string, size: number, stat: Stats): ArMemberInfo {
  return { name, size, mtime: Math.floor(stat.mtimeMs / 1000), uid: stat.uid, gid: stat.gid, mode: stat.mode };
}

/** The file in reads no larger than itself (most packages are far below the 1 MiB chunk), into the package's lent buffers. */
function chunksOf(handle: FileHandle, size: number, ring: readonly Buffer[]): AsyncGenerator<Uint8Array> {
  return handleChunks(handle, 0, Math.min(READ_CHUNK, Math.max(SIGNING_BLOCK_SIZE, Math.ceil(size / SIGNING_BLOCK_SIZE) * SIGNING_BLOCK_SIZE)), ring);
}

function counted(chunks: AsyncIterable<Uint8Array>, onRead: (n: number) => void): AsyncIterable<Uint8Array> {
  return (async function* () {
    for await (const chunk of chunks) {
      onRead(chunk.length);
      yield chunk;
    }
  })();
}

async function openPackage(file: string, dir: string): Promise<{ handle: FileHandle; stat: Stats }> {
  let handle: FileHandle;
  try {
    // O_NOFOLLOW: a file swapped for a symlink after the scan is refused, never followed.
    handle = await open(path.join(dir, file), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ELOOP") throw new RepoSignError("REPO_PKG_NOT_REGULAR", `${file} became a symlink`, { detail: { file } });
    throw new RepoSignError("REPO_PKG_UNREADABLE", `cannot read ${file}: ${code ?? (error as Error).message}`, { cause: error, detail: { file } });
  }
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw new RepoSignError("REPO_PKG_NOT_REGULAR", `${file} is not a regular file`, { detail: { file } });
  }
  return { handle, stat };
}

/** Refuses to replace a package that something else wrote to while we read it (same inode, compared by fstat). */
async function requireUnchanged(handle: FileHandle, before: Stats, file: string): Promise<void> {
  const after = await handle.stat();
  if (after.size !== before.size || after.mtimeMs !== before.mtimeMs || after.ctimeMs !== before.ctimeMs) {
    throw new RepoSignError("REPO_PKG_CHANGED", `${file} changed while it was being signed`, { detail: { file } });
  }
}

/** +PKG_HASH and +PKG_SIGNATURE of a signed package, read without its blocks; undefined when they are not where pkg_install looks. */
interface SignatureHead {
  readonly hashBytes: Uint8Array;
  readonly signature: Pkcs7Signature;
  readonly embedded: readonly Certificate[];
}

async function readSignatureHead(handle: FileHandle, cache: PackageCache, ring: readonly Buffer[]): Promise<SignatureHead | undefined> {
  const reader = new ByteReader(handleChunks(handle, 0, 64 * 1024, ring));
  try {
    const ar = await ArReader.open(reader);
    if ((await ar.nextFile())?.name !== "+PKG_HASH") return undefined;
    const hashBytes = await ar.readBody(MAX_HASH_MEMBER, "+PKG_HASH");
    if ((await ar.nextFile())?.name !== "+PKG_SIGNATURE") return undefined;
    const signature = readPkcs7Signature(Buffer.from(await ar.readBody(MAX_SIGNATURE_MEMBER, "+PKG_SIGNATURE")).toString("latin1"), cache);
    return { hashBytes, signature, embedded: signature.embedded.map((der) => parseCertificate(der, "+PKG_SIGNATURE", undefined, cache)) };
  } catch {
    // Anything odd goes through the full verification, which names the problem.
    return undefined;
  } finally {
    await reader.close();
  }
}

/** The one certificate whose key made the signature, or undefined (several signers, or a bad signature: the full verification names it). */
function signerOf(head: SignatureHead, cache: PackageCache): Certificate | undefined {
  try {
    const signers = verifySigners(head.signature, head.hashBytes, [], cache);
    const der = signers.length === 1 ? signers[0]?.certificate : undefined;
    return der ? head.embedded.find((c) => Buffer.from(c.der).equals(Buffer.from(der))) : undefined;
  } catch {
    return undefined;
  }
}

/** The package name when the package's signature is already this signer's with this chain (its blocks are not read). */
function signedByUs(head: SignatureHead, identity: SigningIdentity, cache: PackageCache): string | undefined {
  const signer = signerOf(head, cache);
  if (!signer || signer.sha256 !== identity.signer.sha256 || !embedsExactly(identity, head.embedded)) return undefined;
  try {
    return parsePkgHash(head.hashBytes).pkgname;
  } catch {
    return undefined;
  }
}

/**
 * When the old signature is judged: now, except for an old signer whose certificate has
 * expired, at most `graceDays` ago. Re-signing exists for that case: pkg_install checks
 * expiry at install time, so once the build certificate expires its packages stop
 * installing although nothing about them changed. Rule (pkgtrust's, stated in
 * build-admins.md): the expiry check is relaxed for the old signer's certificate only, by
 * judging the signature at that certificate's notAfter (RFC 5280 4.1.2.5: the bound is
 * inclusive); every other check is kept, and the rest of the path (intermediates, the
 * anchor) must also be valid now (checkPathValidNow). Beyond the grace a leaked key of a
 * long-expired certificate could be made to launder packages: refused as CERT_EXPIRED.
 */
function verificationTime(head: SignatureHead | undefined, time: Date, graceDays: number, cache: PackageCache): { at: Date; expiredSigner?: Certificate } {
  if (!head || !head.embedded.some((c) => c.notAfter < time)) return { at: time };
  const signer = signerOf(head, cache);
  if (!signer || signer.notAfter >= time || time.getTime() - signer.notAfter.getTime() > graceDays * DAY) return { at: time };
  // The package verdict uses OpenSSL 3.0's bounds (expired from the second of notAfter): its last valid second.
  return { at: new Date(signer.notAfter.getTime() - 1000), expiredSigner: signer };
}

/** With the old signer judged at its expiry, the rest of its path must be valid now. */
function pathProblemNow(path: readonly Certificate[] | undefined, time: Date): string | undefined {
  // RFC 5280 4.1.2.5, inclusive bounds; the leaf (path[0]) is the relaxed old signer.
  const stale = (path ?? []).slice(1).find((c) => c.notBefore > time || c.notAfter < time);
  return stale ? `${stale.subject} on the old signer's path is valid only from ${stale.notBefore.toISOString()} to ${stale.notAfter.toISOString()}` : undefined;
}

/** The FILE_CKSUM digests of a file as it is (none when no summary has FILE_CKSUM). */
async function wholeFileDigests(context: JobContext, handle: FileHandle, stat: Stats, ring: readonly Buffer[]): Promise<Record<string, string>> {
  if (context.digests.length === 0) return {};
  const hashes = context.digests.map((algorithm) => [algorithm, createHash(algorithm)] as const);
  for await (const chunk of counted(chunksOf(handle, stat.size, ring), context.onRead)) for (const [, hash] of hashes) hash.update(chunk);
  return Object.fromEntries(hashes.map(([algorithm, hash]) => [algorithm, hash.digest("hex")]));
}

/** What signing one package came to, before it is told as an Outcome. */
type Result = { readonly pkgname: string; readonly size: number; readonly replaced?: Replaced; readonly warnings?: readonly string[] } | { readonly refused: { readonly code: string; readonly message: string } };

async function commit(output: Replacement, inner: ArMemberInfo, stat: Stats, file: string): Promise<Replaced> {
  try {
    await output.write(arPadding(inner));
    return await output.commit(stat);
  } catch (error) {
    throw writeError(file, error);
  }
}

async function createOutput(context: JobContext, file: string, head: Buffer): Promise<Replacement> {
  let output: Replacement | undefined;
  try {
    output = await Replacement.create(context.dir, file, context.digests);
    await output.write(head);
    return output;
  } catch (error) {
    await output?.discard();
    throw writeError(file, error);
  }
}

async function resign(context: JobContext, file: string, handle: FileHandle, stat: Stats, head: SignatureHead | undefined, ring: readonly Buffer[]): Promise<Result> {
  const judged = verificationTime(head, context.time, context.expiredGraceDays, context.cache);
  let output: Replacement | undefined;
  let inner: ArMemberInfo | undefined;
  let pkgname = "";
  let size = 0;
  try {
    const verdict = await verifyPackage(counted(chunksOf(handle, stat.size, ring), context.onRead), context.trust, {
      time: judged.at,
      policy: PKG_INSTALL_POLICY,
      hashPool: context.pool,
      cache: context.cache,
      readToEnd: false,
      tap: {
        async signed(hashBytes: Uint8Array, member: ArMember) {
          pkgname = parsePkgHash(hashBytes).pkgname;
          checkFileName(file, pkgname);
          inner = memberInfo(member.name, member.size, stat);
          const head = signedArchiveHead({ hash: hashBytes, signature: signHash(context.identity, hashBytes), inner });
          size = head.length + member.size + arPadding(inner).length;
          if (!context.dryRun) output = await createOutput(context, file, head);
        },
        async inner(chunk: Uint8Array) {
          if (!output) return;
          await output.write(chunk).catch((error: unknown) => Promise.reject(writeError(file, error)));
        },
      },
    });
    // The old package does not verify as pkg_install would: it stays exactly as it is.
    if (!verdict.trusted) {
      const beyond = verdict.code === "CERT_EXPIRED" && !judged.expiredSigner ? ` (an old signer expired more than --expired-grace-days ${context.expiredGraceDays} days ago is not relaxed)` : "";
      return { refused: { code: verdict.code ?? "PKG_UNTRUSTED", message: `${file}: ${verdict.reason}${beyond}` } };
    }
    const stale = judged.expiredSigner ? pathProblemNow(verdict.path, context.time) : undefined;
    if (stale) return { refused: { code: "CERT_EXPIRED", message: `${file}: ${stale}` } };
    const warnings = judged.expiredSigner ? [`${file}: its old signer ${judged.expiredSigner.subject} expired on ${judged.expiredSigner.notAfter.toISOString()}; its signature was verified as of then`] : [];
    await requireUnchanged(handle, stat, file);
    if (!output || !inner) return { pkgname, size, warnings };
    const replaced = await commit(output, inner, stat, file);
    output = undefined;
    return { pkgname, size: replaced.size, replaced, warnings };
  } finally {
    await output?.discard();
  }
}

/** Hashes an unsigned package's blocks while feeding `also`; returns the block digests. */
async function hashBlocks(context: JobContext, handle: FileHandle, stat: Stats, ring: readonly Buffer[], also: (chunk: Uint8Array) => Promise<void>, expected?: readonly string[]): Promise<{ blocks: string[]; total: number }> {
  const blocks: string[] = [];
  const onBlock = (index: number, hex: string) => {
    if (expected && expected[index] !== hex) throw new RepoSignError("REPO_PKG_CHANGED", `block ${index} changed between the hashing and the writing pass`, { detail: { block: index } });
    blocks[index] = hex;
  };
  const hasher = context.pool === "inline" ? new BlockHasher(SIGNING_BLOCK_SIZE, onBlock) : new ParallelBlockHasher(SIGNING_BLOCK_SIZE, onBlock, context.pool, stat.size);
  try {
    for await (const chunk of counted(chunksOf(handle, stat.size, ring), context.onRead)) {
      await hasher.update(chunk);
      await also(chunk);
    }
    await hasher.finish();
  } finally {
    if (hasher instanceof ParallelBlockHasher) await hasher.close();
  }
  return { blocks, total: hasher.total };
}

async function signUnsigned(context: JobContext, file: string, handle: FileHandle, stat: Stats, ring: readonly Buffer[]): Promise<Result> {
  const contents = new ContentsReader();
  const first = await hashBlocks(context, handle, stat, ring, async (chunk) => {
    if (!contents.done) await contents.write(chunk);
  });
  if (first.total !== stat.size) throw new RepoSignError("REPO_PKG_CHANGED", `${file} changed size while it was read`, { detail: { file } });
  // pkg_install's pkg_sign reads the package name from +CONTENTS; the file name must agree.
  const pkgname = await contents.end();
  checkFileName(file, pkgname);
  const hash = Buffer.from(formatPkgHash({ pkgname, blockSize: SIGNING_BLOCK_SIZE, fileSize: stat.size, blocks: first.blocks }), "latin1");
  const inner = memberInfo(file, stat.size, stat);
  const head = signedArchiveHead({ hash, signature: signHash(context.identity, hash), inner });
  const warnings =
    stat.size % SIGNING_BLOCK_SIZE === 0 ? [`${file}: its size is a multiple of ${SIGNING_BLOCK_SIZE}, which pkg_install (NetBSD 10) cannot verify; rebuild it so that its size changes`] : [];
  if (context.dryRun) return { pkgname, size: head.length + stat.size + arPadding(inner).length, warnings };
  let output: Replacement | undefined = await createOutput(context, file, head);
  try {
    const current = output;
    await hashBlocks(context, handle, stat, ring, (chunk) => current.write(chunk).catch((error: unknown) => Promise.reject(writeError(file, error))), first.blocks);
    await requireUnchanged(handle, stat, file);
    const replaced = await commit(current, inner, stat, file);
    output = undefined;
    return { pkgname, size: replaced.size, replaced, warnings };
  } finally {
    await output?.discard();
  }
}

/** Signs, re-signs or skips one package; never throws: a failure is an Outcome. */
export async function processPackage(context: JobContext, file: string): Promise<Outcome> {
  let opened: { handle: FileHandle; stat: Stats } | undefined;
  const ring = context.readBuffers.take();
  try {
    opened = await openPackage(file, context.dir);
    const { handle, stat } = opened;
    const { buffer } = await handle.read(Buffer.alloc(AR_MAGIC.length), 0, AR_MAGIC.length, 0);
    const signed = buffer.toString("latin1") === AR_MAGIC;
    const head = signed ? await readSignatureHead(handle, context.cache, ring) : undefined;
    if (head && !context.force) {
      const pkgname = signedByUs(head, context.identity, context.cache);
      if (pkgname !== undefined) {
        const digests = await wholeFileDigests(context, handle, stat, ring);
        return { kind: "skipped", file, pkgname, reason: "already signed by this certificate with this chain", size: stat.size, digests };
      }
    }
    const result = signed ? await resign(context, file, handle, stat, head, ring) : await signUnsigned(context, file, handle, stat, ring);
    if ("refused" in result) return { kind: "failed", file, code: result.refused.code, message: result.refused.message, refused: true };
    return { kind: signed ? "resigned" : "signed", file, pkgname: result.pkgname, oldSize: stat.size, newSize: result.size, digests: result.replaced?.digests ?? {}, warnings: result.warnings ?? [] };
  } catch (error) {
    return failed(file, error);
  } finally {
    await opened?.handle.close();
    context.readBuffers.give(ring);
  }
}
