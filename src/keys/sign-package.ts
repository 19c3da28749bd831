import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { basename } from "node:path";
import { pipeline } from "node:stream/promises";
import { type Certificate } from "../pki/certificate.js";
import { readCertificateFile } from "../pki/certificate-file.js";
import { packageSignerProblem, signerNotes } from "../pki/signer.js";
import { AR_GLOBAL_HEADER, arMemberHeader, arPadding, type ArMemberInfo } from "../package/ar-writer.js";
import { BlockHasher } from "../package/block-hasher.js";
import { ContentsReader } from "../package/inner-contents.js";
import { formatPkgHash, SIGNING_BLOCK_SIZE } from "../package/pkg-hash.js";
import { SigningError } from "./errors.js";
import { signDetached } from "./pkcs7-sign.js";

/**
 * Signs a binary package in pkg_install's exact format (lib/pkg_signature.c pkg_sign):
 * a BSD ar of +PKG_HASH (65536-byte blocks), +PKG_SIGNATURE and the package, every
 * member with the input file's mtime, uid, gid and mode. Two passes over the input,
 * never all of it in memory. Unlike pkg_sign, a size that is a multiple of 65536 works.
 */

export interface SignPackageRequest {
  /** Path of the unsigned package (a tgz whose first entry is +CONTENTS). */
  readonly input: string;
  readonly output: string;
  readonly keyPem: string;
  readonly certPem: string;
  /** PEM certificates to embed after the signer's (CERTIFICATE_CHAIN style). */
  readonly chainPem?: string;
  /** Adds contentType/messageDigest signed attributes (pkg_install never does; for tests). */
  readonly signedAttributes?: boolean;
}

export interface SignedPackage {
  readonly pkgname: string;
  readonly fileSize: number;
  readonly blocks: number;
  readonly signer: Certificate;
  readonly embedded: readonly Certificate[];
  /** Things pkg_install will trip over although the signature is right. */
  readonly warnings: readonly string[];
}

export function readKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new SigningError("SIGN_KEY_READ", `cannot read the private key: ${(error as Error).message}`, { cause: error });
  }
  if (key.asymmetricKeyType !== "rsa" && key.asymmetricKeyType !== "ec") {
    throw new SigningError("SIGN_KEY_READ", `a ${key.asymmetricKeyType ?? "unknown"} key cannot sign packages: pkg_install verifies RSA and ECDSA signatures`);
  }
  return key;
}

/** pkg_install's signer refusals, in its order (easy_pkcs7_sign). */
export function checkSigner(certPem: string, key: KeyObject): Certificate {
  const { certificates } = readCertificateFile(certPem, "--cert");
  const [cert] = certificates;
  if (!cert || certificates.length !== 1) throw new SigningError("SIGN_CERT_COUNT", `the certificate file holds ${certificates.length} certificates, not exactly one`);
  // X509_check_ca (certificate.ts checkCa): basicConstraints CA:TRUE, or without basicConstraints keyUsage keyCertSign, a v1 root or a Netscape CA type.
  if (cert.isCA) throw new SigningError("SIGNER_IS_CA", `${cert.subject} is a CA certificate; CA keys are not valid for signatures`);
  const problem = packageSignerProblem(cert);
  if (problem) throw new SigningError("SIGNER_WRONG_EKU", `${cert.subject}: ${problem.message}`, { cause: problem });
  // X509_check_private_key: the key's public half must be the certificate's.
  const fromKey = createPublicKey(key).export({ type: "spki", format: "der" });
  const fromCert = cert.openssl.publicKey.export({ type: "spki", format: "der" });
  if (!fromKey.equals(fromCert)) throw new SigningError("KEY_CERT_MISMATCH", `the private key does not match the certificate ${cert.subject}`);
  return cert;
}

async function hashFile(path: string, size: number): Promise<{ blocks: string[]; pkgname?: string; nameError?: unknown }> {
  const blocks: string[] = [];
  const hasher = new BlockHasher(SIGNING_BLOCK_SIZE, (_, hex) => blocks.push(hex));
  const contents = new ContentsReader();
  for await (const chunk of createReadStream(path, { highWaterMark: SIGNING_BLOCK_SIZE })) {
    hasher.update(chunk as Buffer);
    if (!contents.done) await contents.write(chunk as Buffer);
  }
  hasher.finish();
  if (hasher.total !== size) throw new SigningError("SIGN_INPUT_CHANGED", `${path} changed size while it was read`);
  return { blocks, pkgname: await contents.end() };
}

/** Everything before the inner package's bytes: the ar header, +PKG_HASH, +PKG_SIGNATURE and the inner member's header. */
export function signedArchiveHead(members: { hash: Uint8Array; signature: Uint8Array; inner: ArMemberInfo }): Buffer {
  const { inner } = members;
  const head = (name: string, bytes: Uint8Array) => {
    const info = { ...inner, name, size: bytes.length };
    return Buffer.concat([arMemberHeader(info), bytes, arPadding(info)]);
  };
  return Buffer.concat([AR_GLOBAL_HEADER, head("+PKG_HASH", members.hash), head("+PKG_SIGNATURE", members.signature), arMemberHeader(inner)]);
}

/** Streams the signed package to `output` (via a temporary file renamed at the end). */
async function writeSigned(request: SignPackageRequest, members: { hash: Buffer; signature: Buffer; inner: ArMemberInfo }, blocks: readonly string[]): Promise<void> {
  const { inner } = members;
  const check = new BlockHasher(SIGNING_BLOCK_SIZE, (index, hex) => {
    if (hex !== blocks[index]) throw new SigningError("SIGN_INPUT_CHANGED", `${request.input} changed between the hashing and the writing pass`);
  });
  async function* archive(): AsyncGenerator<Buffer> {
    yield signedArchiveHead(members);
    for await (const chunk of createReadStream(request.input, { start: 0, end: inner.size - 1, highWaterMark: SIGNING_BLOCK_SIZE })) {
      check.update(chunk as Buffer);
      yield chunk as Buffer;
    }
    check.finish();
    if (check.total !== inner.size) throw new SigningError("SIGN_INPUT_CHANGED", `${request.input} shrank while it was written`);
    yield arPadding(inner);
  }
  const temporary = `${request.output}.pkgtrust-tmp-${process.pid}`;
  try {
    await pipeline(archive(), createWriteStream(temporary, { mode: 0o644 }));
    await rename(temporary, request.output);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

export async function signPackage(request: SignPackageRequest): Promise<SignedPackage> {
  const key = readKey(request.keyPem);
  const signer = checkSigner(request.certPem, key);
  const embedded = request.chainPem ? readCertificateFile(request.chainPem, "--chain").certificates : [];
  let info;
  try {
    info = await stat(request.input);
  } catch (error) {
    throw new SigningError("SIGN_IO", `cannot read ${request.input}: ${(error as Error).message}`, { cause: error });
  }
  const { blocks, pkgname } = await hashFile(request.input, info.size);
  if (!pkgname) throw new SigningError("SIGN_IO", `${request.input} has no @name`);
  const hashText = Buffer.from(formatPkgHash({ pkgname, blockSize: SIGNING_BLOCK_SIZE, fileSize: info.size, blocks }), "latin1");
  const signature = Buffer.from(
    signDetached(hashText, { key, certificate: signer.der, chain: embedded.map((c) => c.der), signedAttributes: request.signedAttributes ?? false }),
    "latin1",
  );
  // pkg_sign: archive_entry_copy_stat of the input for every member; the package keeps its file name.
  const inner: ArMemberInfo = { name: basename(request.input), size: info.size, mtime: Math.floor(info.mtimeMs / 1000), uid: info.uid, gid: info.gid, mode: info.mode };
  await writeSigned(request, { hash: hashText, signature, inner }, blocks);
  const warnings = [
    ...signerNotes(signer),
    ...(info.size % SIGNING_BLOCK_SIZE === 0 ? [`the package's size is a multiple of ${SIGNING_BLOCK_SIZE}: pkg_install (NetBSD 10) cannot verify it; rebuild it so that its size changes`] : []),
  ];
  return { pkgname, fileSize: info.size, blocks: blocks.length, signer, embedded, warnings };
}
