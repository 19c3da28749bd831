import { PackageError } from "./errors.js";

/**
 * The +PKG_HASH member: pkg_install's exact grammar (lib/pkg_signature.c parse_hash_file),
 * read strictly; anything else is "Unknown format of hash file".
 */
export interface PkgHash {
  readonly pkgname: string;
  readonly algorithm: "SHA512";
  readonly blockSize: number;
  readonly fileSize: number;
  /** Lowercase hex SHA-512 of each block, ceil(fileSize / blockSize) of them. */
  readonly blocks: readonly string[];
}

/** pkg_install's signer always uses this block size. */
export const SIGNING_BLOCK_SIZE = 65536;
/** pkg_install asserts a sane minimum block size of 1 KiB. */
const MIN_BLOCK_SIZE = 1024;
const HEAD = "pkgsrc signature\n\nversion: 1\npkgname: ";
const TRAILER = "end pkgsrc signature\n";
const HEX_LINE = /^[0-9a-f]{128}$/;

function fail(message: string): never {
  throw new PackageError("PKG_HASH_FORMAT", `unknown format of +PKG_HASH: ${message}`);
}

function number(text: string | undefined, label: string): number {
  // pkg_install: a digit first, then strtol up to the newline; no sign, no spaces.
  if (text === undefined || !text.startsWith(`${label}: `)) fail(`expected '${label}: '`);
  const digits = text.slice(label.length + 2);
  if (!/^[0-9]+$/.test(digits)) fail(`'${label}' is not a decimal number`);
  const value = Number(digits);
  if (!Number.isSafeInteger(value)) fail(`'${label}' is out of range`);
  return value;
}

export function parsePkgHash(bytes: Uint8Array): PkgHash {
  // pkg_install reads the member into a NUL-terminated buffer and parses it with C string
  // functions, so the text ends at its first NUL: a trailer followed by a NUL and anything
  // is accepted (the signature still covers every byte). Every byte is matched against ASCII
  // below, so latin1 loses nothing.
  const nul = bytes.indexOf(0);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, nul < 0 ? bytes.length : nul).toString("latin1");
  if (!text.startsWith(HEAD)) fail("bad header");
  if (!text.endsWith(TRAILER)) fail("missing 'end pkgsrc signature' line");
  const lines = text.slice(HEAD.length, text.length - TRAILER.length).split("\n");
  // After the trailer is cut off, the text ends with a newline, so the last element is "".
  if (lines.pop() !== "") fail("missing newline before the trailer");
  const [pkgname, algorithm, blockLine, sizeLine, blank, ...blocks] = lines;
  // isgraph() in the C locale: printable ASCII without space; an empty name passes the loop
  // (and then differs from @name).
  if (pkgname === undefined || !/^[\x21-\x7e]*$/.test(pkgname)) fail("bad pkgname");
  if (algorithm !== "algorithm: SHA512") fail("unsupported algorithm");
  const blockSize = number(blockLine, "block size");
  if (blockSize < MIN_BLOCK_SIZE) fail(`block size ${blockSize} below ${MIN_BLOCK_SIZE}`);
  const fileSize = number(sizeLine, "file size");
  if (fileSize < 1) fail("file size below 1");
  if (blank !== "") fail("missing blank line after the file size");
  const expected = Math.ceil(fileSize / blockSize);
  if (blocks.length !== expected) fail(`${blocks.length} block hashes for ${expected} blocks`);
  blocks.forEach((line, i) => {
    if (!HEX_LINE.test(line)) fail(`block hash ${i} is not 128 lowercase hex digits`);
  });
  return { pkgname, algorithm: "SHA512", blockSize, fileSize, blocks };
}

/** The exact text pkg_install's signer writes. */
export function formatPkgHash(hash: Omit<PkgHash, "algorithm">): string {
  return `${HEAD}${hash.pkgname}\nalgorithm: SHA512\nblock size: ${hash.blockSize}\nfile size: ${hash.fileSize}\n\n${hash.blocks.map((b) => `${b}\n`).join("")}${TRAILER}`;
}
