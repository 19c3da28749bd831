import { createReadStream, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PKG_INSTALL_POLICY, STRICT_POLICY } from "../../src/pki/path.js";
import { EXIT } from "../../src/errors.js";
import { isRefusal, PackageError } from "../../src/package/errors.js";
import { readCertificateFile } from "../../src/pki/certificate-file.js";
import { signPackage } from "../../src/keys/sign-package.js";
import { fileChunks } from "../../src/file-chunks.js";
import { PARALLEL_MIN_SIZE } from "../../src/package/parallel-block-hasher.js";
import { verifyPackage, type PackageVerdict } from "../../src/package/verify-package.js";
import { buildPackageCases, DSA_CASES, type PackageCase, type PackageCases } from "../fixtures/cases.js";
import { canCompress, makeInnerPackage, opensslSign, pkgHashFor, signedPackage, type InnerCompression } from "../fixtures/packages.js";
import { NOW } from "../fixtures/pki.js";
import { REFERENCE, referenceClassesOf, referenceVerify } from "../reference/reference.js";
import { opensslAnswer } from "./openssl-oracle.js";
import { requireTool } from "../fixtures/requirements.js";

let fixtures: PackageCases;
beforeAll(async () => {
  fixtures = await buildPackageCases();
});
afterAll(async () => fixtures?.cleanup());

function trustOf(c: PackageCase) {
  return {
    anchors: readCertificateFile(readFileSync(c.anchor, "utf8"), c.anchor).certificates,
    chain: c.chain ? readCertificateFile(readFileSync(c.chain, "utf8"), c.chain).certificates : [],
  };
}

function verify(c: PackageCase): Promise<PackageVerdict> {
  return verifyPackage(createReadStream(c.file, { highWaterMark: 16 * 1024 }), trustOf(c), { time: NOW, policy: PKG_INSTALL_POLICY });
}

const CASES = [
  "good via an intermediate (RSA signer)",
  "signed by an ECDSA P-256 signer",
  "issued by the anchor directly",
  "two intermediates",
  "signed attributes present",
  "intermediate signed with SHA-1 (accepted, with a warning)",
  "package size an exact multiple of 65536",
  "signer certificate only in the chain file",
  "intermediate only in the chain file",
  "signer EKU codeSigning only",
  "extra EKU serverAuth",
  "no EKU",
  "signer is a CA",
  "signer has keyCertSign",
  "signer expired",
  "signer not yet valid",
  "intermediate expired",
  "trust anchor expired",
  "trust anchor not yet valid",
  "issuer not a CA",
  "pathlen exceeded",
  "chain to a look-alike root with the same name",
  "tampered block",
  "size mismatch",
  "edited +PKG_HASH",
  "signature by another key",
  "pkgname differing from @name",
  "malformed +PKG_HASH (upper-case hex), validly signed",
  "+PKG_HASH with a NUL and more bytes after its trailer, validly signed",
  "+PKG_HASH numbers with leading zeros, validly signed",
  "+PKG_HASH with a 4096-byte block size, validly signed",
  "+PKG_HASH with an empty pkgname, validly signed",
  "PEM label 'PKCS #7 SIGNED DATA'",
  "PEM label of another type",
  "text and a private key block before the PKCS7 block",
  "a certificate block before the PKCS7 block",
  "signature embedding the content (openssl smime -nodetach)",
  "signed attributes without contentType",
  "signed attributes with a contentType other than data",
  "signed attributes with a wrong second messageDigest",
  "signed attributes with a wrong first messageDigest",
  "digestAlgorithm given as sha256WithRSAEncryption (RSA signer)",
  "signer's digest missing from the SignedData's digestAlgorithms",
  "unsigned",
  "unsigned, compressed with xz",
  "unsigned, compressed with none",
  "GPG-signed",
  "truncated",
  "made by sign-package",
  "inner package compressed with bzip2",
  "inner package compressed with xz",
  "inner package compressed with zstd",
  "inner package compressed with lzma",
  "inner package compressed with none",
  "inner package of an exact multiple of 65536, uncompressed",
  "signer with an extra private EKU",
  "extra EKU DVCS",
  "extra EKU timeStamping",
  "signer keyCertSign with CA:FALSE (not a CA)",
  "signer CA:TRUE with a keyUsage without keyCertSign (not a CA)",
  "signer with a Netscape object-signing CA type",
  "signer with a Netscape S/MIME type only",
  "signer with a Netscape SSL server type only",
  "signer a self-signed version 1 certificate in the anchor file",
  "anchor a version 1 root",
  "anchor with keyUsage keyCertSign and no basicConstraints",
  "anchor with only a Netscape S/MIME CA type",
  "anchor with only a Netscape SSL CA type",
  "anchor whose self-signature is damaged",
  "intermediate with keyUsage keyCertSign and no basicConstraints",
  "signer with a critical subject key identifier",
  "signer with critical CRL distribution points",
  "intermediate with a critical subject key identifier",
  "signer with CA:FALSE and a path length",
  "signer with an empty keyUsage",
  "signer with its extendedKeyUsage twice",
  "intermediate with its basicConstraints twice",
  "name constraints: signer outside a permitted directoryName",
  "name constraints: signer inside a permitted directoryName",
  "name constraints: signer in an excluded directoryName",
  "name constraints: critical, of a kind the signer has no name of",
  "name constraints: a host-name commonName outside a permitted dNSName",
  "name constraints: a host-name commonName inside a permitted dNSName",
  "name constraints: a commonName that is no host name",
  "name constraints: an email subjectAltName at the permitted host",
  "name constraints: an email subjectAltName not below a '.host' constraint",
  "name constraints: an email subjectAltName of another mailbox",
  "name constraints: a dNSName subjectAltName that only ends like the constraint",
  "DSA 2048 signer, SHA-256 signature",
  "RSA 4096 signer, SHA-512 signature",
  "ECDSA P-384 signer, SHA-384 signature",
  "extra ar members after the inner package",
  "GNU ar with a // name table",
  "ar sizes with blanks before and bytes after the digits",
  "ar member names ending at a NUL",
  "BSD ar long name length with a leading blank",
  "GNU ar name table whose last name ends in a newline only",
  "GNU ar name table between +PKG_SIGNATURE and the inner package",
  "GNU ar name table with a '/' not before a newline",
  "two GNU ar name tables",
  "empty GNU ar name table",
  "intermediate signed with MD5",
  "RSA 1024 signer",
  "signer with a Netscape SSL client type only (OpenSSL's workaround)",
  "signer keyUsage keyEncipherment only",
  "anchor with EKU serverAuth only",
  "same-name decoy CA with another key before the real one",
  "same-name decoy CA with another key after the real one",
  "expired CA before its valid renewal (same key)",
  "valid CA before its expired predecessor (same key)",
  "expired real CA before a valid same-name decoy",
  "authority key identifier matching no embedded CA",
  "authority key identifier matching only a decoy that did not sign",
  "same-key candidate without keyCertSign before the real CA",
  "same-key candidate without keyCertSign after the real CA",
  "trust store decoy CA picked before the signature's real one",
  "trust store real CA picked before the signature's decoy",
  "expired CA in the trust store, its renewal in the signature",
  "anchor also embedded after the intermediate",
  "anchor also embedded before the intermediate",
  "look-alike root embedded, real root in the anchor file",
  "ten intermediates (within OpenSSL's verify depth of 100)",
  "signer valid from this very second",
  "signer valid until this very second",
  "tar header damaged after +CONTENTS",
  "tar cut short inside its last entry",
  "tar cut short inside a header",
  "tar cut short inside its last entry, uncompressed",
  "tar without its end-of-archive blocks",
  "bytes after the tar's end-of-archive block",
  "bytes after the tar's end-of-archive block, uncompressed",
  "bytes after the gzip member",
  "gzip stream cut short before the tar ends",
  "pax header giving the last entry a size beyond the data",
  "tar: pax header followed by the end-of-archive block",
  "tar: checksum field with a letter after its digits",
  "tar: checksum field with a leading tab",
  "tar: directory entry with a size and a body",
  "tar: regular file whose name ends in '/', with a body",
  "tar: regular file whose pax path ends in '/', with a body",
  "tar: size field with a minus sign",
  "tar: base-256 size beyond 64 bits",
  "tar: pax size attribute negative",
  "tar: 32 pax headers for one entry",
  "tar: two pax headers with records for one entry",
  "tar: pax record without its newline",
  "tar: pax SUN.holesdata malformed",
  "tar: Solaris ACL header that is not a POSIX.1e ACL",
  "tar: pax NUL padding after the records",
  "tar: pax size given to a directory",
  "tar: hard link with a body after a global pax header",
  "tar: hard link with a body and a non-octal device number (libarchive keeps its body)",
  "tar: GNU volume header, without a body",
  "tar: GNU sparse entry with an extension block",
  "tar: first header with a non-octal uid (libarchive's bidder refuses it)",
  "tar: +CONTENTS behind a Solaris ACL header",
  "tar: +CONTENTS behind a GNU volume header",
  "tar: +CONTENTS in an old (v7) header",
  "tar: +CONTENTS whose checksum is the signed sum",
  "tar: +CONTENTS of typeflag 7 (a contiguous file)",
  "tar: +CONTENTS of typeflag D (a GNU dumpdir keeps its data)",
  "tar: GNU sparse 0.1 map shorter than the body",
  "tar: GNU sparse 0.1 map of the whole body",
  "tar: Solaris holes data of 10 bytes on a 600-byte body",
  "tar: pax size beyond 64 bits",
  "tar: GNU sparse records before any entry of type 0 or S",
  "tar: GNU sparse pieces summing past 64 bits (the body is read as headers)",
  "tar: GNU sparse 1.0 file, its map at the start of the body",
  "tar: GNU sparse 1.0 file whose map covers less than the body",
  "tar: GNU sparse 1.0 map with a line over 100 bytes",
  "tar: GNU sparse 1.0 map with a comment line and a 33-bit count",
  "tar: 33 headers for one entry after a Solaris ACL header (the warning dropped)",
  "tar: 33 headers for one entry after a GNU K header (the warning dropped)",
  "tar: a pax record without its newline after a GNU K header (the warning dropped)",
  "tar: a malformed Solaris ACL after a GNU K header (the warning dropped)",
  "tar: a GNU sparse 0.1 map with a bad number after a piece, its warning dropped by a K header (the piece stays)",
  "tar: 32 headers for an entry after a dropped warning of too many (the limit is lower from then on)",
  "tar in three concatenated gzip members",
  "gzip member cut short after the tar's end",
  "gzip trailer cut short",
  "gzip trailer with a wrong CRC (libarchive does not check it)",
  "damaged gzip member after the one holding a small tar",
  "damaged gzip member after full 64 KiB blocks holding the tar's end",
  "gzip header with a reserved flag set",
  "tar in two concatenated xz streams",
  "xz stream cut short after the tar's end",
  "bytes after the xz stream",
  "zero padding after the xz stream",
  "xz stream with a SHA-256 check",
  "xz stream with no check",
  "xz stream in several blocks",
  "xz stream with an x86 BCJ filter",
  "xz stream with an ARM64 BCJ filter",
  "xz stream with a SPARC BCJ filter",
  "xz stream with a delta filter",
  "xz CRC64 check damaged",
  "xz CRC32 check damaged",
  "xz SHA-256 check damaged",
  "xz index damaged",
  "xz stream footer damaged",
  "xz stream padding not a multiple of four",
  "damaged xz stream after the one holding a small tar",
  "bytes after the bzip2 stream",
  "tar in three concatenated bzip2 streams",
  "bzip2 stream cut short before the tar ends",
  "bzip2 stream cut short after the tar's end",
  "damaged bzip2 stream after the one holding a small tar",
  "damaged bzip2 stream after full 64 KiB blocks holding the tar's end",
  "tar compressed twice, gzip inside gzip",
  "tar in 24 stacked gzip layers",
  "tar in 25 stacked gzip layers (too many filters)",
  "tar compressed twice, gzip inside zstd",
  "tar compressed twice, zstd inside gzip",
  "tar in two concatenated zstd frames",
  "zstd frame cut short before the tar ends",
  "zstd frame cut short after the tar's end",
  "zstd frame with a wrong checksum",
  "bytes after the zstd frame",
  "zero padding after the zstd frame",
  "skippable frame before the zstd frame",
  "skippable frame after the zstd frame",
  "damaged zstd frame after the one holding a small tar",
  "damaged zstd frame after full 128 KiB blocks holding the tar's end",
  "damaged zstd frame after the tar's end in a part-filled 128 KiB block",
  "last zstd frame across a 128 KiB block boundary, with a checksum",
  "last zstd frame across a 128 KiB block boundary, without a checksum",
  "zstd frame with a window beyond libzstd's default limit",
].filter((name) => {
  // cases.ts makes only the compressions this machine can make.
  const compression = / compressed with (\w+)$/.exec(name)?.[1] ?? ["bzip2", "xz", "zstd"].find((c) => new RegExp(`\\b${c}\\b`).test(name));
  if (name.startsWith("DSA ")) return DSA_CASES;
  return compression === undefined || canCompress(compression as InnerCompression);
});
/** The cases the openssl command judges as pkg_install does (its rule reading knows no private OIDs, Netscape types or v1 roots). */
const OPENSSL_AGREES = CASES.slice(0, CASES.indexOf("made by sign-package") + 1).concat(CASES.filter((n) => n.startsWith("inner package") || ["RSA 4096 signer, SHA-512 signature", "ECDSA P-384 signer, SHA-384 signature", "extra ar members after the inner package", "signer keyCertSign with CA:FALSE (not a CA)"].includes(n)));

describe("verifyPackage on every package case", () => {
  it("covers every case the fixtures make", () => {
    expect(fixtures.cases.map((c) => c.name).sort()).toEqual([...CASES].sort());
  });

  it.each(CASES)("%s", async (name) => {
    const c = fixtures.byName(name);
    const expected = c.expect;
    if ("throws" in expected) {
      await expect(verify(c)).rejects.toThrowWithCode(expected.throws);
      return;
    }
    const verdict = await verify(c);
    expect({ trusted: verdict.trusted, code: verdict.code }).toEqual(expected.trusted ? { trusted: true, code: undefined } : { trusted: false, code: expected.code });
    if (expected.trusted) {
      expect(verdict.pkgname).toBe("demo-1.0");
      expect(trustOf(c).anchors.map((a) => a.sha256)).toContain(verdict.path?.at(-1)?.sha256);
      if (expected.warning) expect(verdict.warnings.join("\n")).toMatch(expected.warning);
      else expect(verdict.warnings).toEqual([]);
    } else {
      expect(verdict.newerOpenSSL?.trusted).toBe(expected.newerOpenSSL);
    }
  });
});

describe("verdicts by what they say", () => {
  it("tells a refusal from unreadable input by its code, and every refusal is the CLI's UNTRUSTED", () => {
    expect(isRefusal(new PackageError("PKG_BLOCK_MISMATCH", "block 0"))).toBe(true);
    expect(isRefusal(new PackageError("PKG_TRUNCATED", "ends early"))).toBe(false);
    for (const [code, info] of Object.entries(PackageError.codes)) {
      expect({ code, refusal: isRefusal(new PackageError(code as keyof typeof PackageError.codes, code)) }).toEqual({ code, refusal: info.exit === EXIT.UNTRUSTED });
    }
  });

  it("judges a copy of a policy as the policy itself (by what it rejects, not by object identity)", async () => {
    const c = fixtures.byName("intermediate signed with SHA-1 (accepted, with a warning)");
    const lenient = await verifyPackage(fileChunks(c.file), trustOf(c), { time: NOW, policy: structuredClone(PKG_INSTALL_POLICY) });
    expect(lenient).toMatchObject({ trusted: true });
    expect(lenient.warnings.join("\n")).toMatch(/accepted by pkg_install, but weak/);
    const strict = await verifyPackage(fileChunks(c.file), trustOf(c), { time: NOW, policy: structuredClone(STRICT_POLICY) });
    expect(strict).toMatchObject({ trusted: false, code: "CERT_WEAK_ALGORITHM" });
  });
});

describe.runIf(requireTool("openssl", "openssl smime -verify's verdict on every package case"))("cross-check against openssl smime -verify and pkg_install's signer rules", () => {
  const signed = OPENSSL_AGREES.filter((n) => !n.startsWith("unsigned") && !["GPG-signed", "truncated"].includes(n));
  it.each(signed)("%s", async (name) => {
    const c = fixtures.byName(name);
    if (!c.signer) throw new Error("case without signer");
    const oracle = await opensslAnswer({ file: c.file, anchor: c.anchor, chain: c.chain, signerCert: c.signer.certPath, signerSubject: c.signer.subject, time: NOW });
    const verdict = await verify(c).catch(() => ({ trusted: false }) as const);
    if (name.includes("exact multiple of 65536")) {
      // openssl checks only the signature; pkg_install's block reader then takes the last block as empty.
      expect(oracle.trusted).toBe(true);
      expect(verdict.trusted).toBe(false);
      return;
    }
    if (name === "pkgname differing from @name" || name === "+PKG_HASH with an empty pkgname, validly signed") {
      // pkg_install never compares pkgname with @name (the XXX in pkg_signature.c): pkgtrust does.
      expect(oracle.trusted).toBe(true);
      expect(verdict.trusted).toBe(false);
      return;
    }
    expect(verdict.trusted, JSON.stringify(oracle)).toBe(oracle.trusted);
  });

  it("openssl 3.0 refuses an intermediate given only as -certfile, as pkgtrust says", async () => {
    const c = fixtures.byName("intermediate only in the chain file");
    const oracle = await opensslAnswer({ file: c.file, anchor: c.anchor, chain: c.chain, signerCert: c.signer!.certPath, signerSubject: c.signer!.subject, time: NOW });
    expect(oracle.smimeVerified).toBe(false);
    expect(oracle.smimeError).toMatch(/unable to get local issuer certificate/);
  });

  it("openssl accepts a signer given only as -certfile, which pkg_install then refuses", async () => {
    const c = fixtures.byName("signer certificate only in the chain file");
    const oracle = await opensslAnswer({ file: c.file, anchor: c.anchor, chain: c.chain, signerCert: c.signer!.certPath, signerSubject: c.signer!.subject, time: NOW });
    expect(oracle.smimeVerified).toBe(true);
    expect(oracle.signerEmbedded).toBe(false);
  });
});

describe("reading through a reused buffer ring", () => {
  it.each([[777], [65536]])("gives every case the same verdict in %i-byte chunks", async (size) => {
    for (const c of fixtures.cases) {
      const streamed = await verify(c).catch((error: { code?: string }) => error.code);
      const ringed = await verifyPackage(fileChunks(c.file, size), trustOf(c), { time: NOW, policy: PKG_INSTALL_POLICY }).catch((error: { code?: string }) => error.code);
      const summary = (v: PackageVerdict | string | undefined) => (typeof v === "object" ? { trusted: v.trusted, code: v.code, pkgname: v.pkgname } : v);
      expect(summary(ringed), c.name).toEqual(summary(streamed));
    }
  });
});

describe("a package large enough for the worker threads", () => {
  it("verifies, and still catches a tampered block near the end", async () => {
    const c = fixtures.byName("signed by an ECDSA P-256 signer");
    const inner = await makeInnerPackage(fixtures.dir, { pkgname: "big-1.0", payload: PARALLEL_MIN_SIZE + 300_000 });
    const output = join(fixtures.dir, "big-signed.tgz");
    const signer = c.signer!;
    const ca = readFileSync(join(fixtures.pki.dir, "Repo_CA.crt"), "utf8");
    await signPackage({ input: inner.path, output, keyPem: signer.keyPem, certPem: signer.certPem, chainPem: ca });
    const run = (file: string) => verifyPackage(fileChunks(file), trustOf(c), { time: NOW, policy: PKG_INSTALL_POLICY });
    expect(await run(output)).toMatchObject({ trusted: true, pkgname: "big-1.0" });
    const bytes = readFileSync(output);
    bytes[bytes.length - 1000] = (bytes[bytes.length - 1000] ?? 0) ^ 0xff;
    const tampered = join(fixtures.dir, "big-tampered.tgz");
    writeFileSync(tampered, bytes);
    expect(await run(tampered)).toMatchObject({ trusted: false, code: "PKG_BLOCK_MISMATCH" });
    // The threads read the file themselves: the same verdicts as a plain stream of its bytes.
    const streamed = (file: string) => verifyPackage(createReadStream(file), trustOf(c), { time: NOW, policy: PKG_INSTALL_POLICY });
    const cut = join(fixtures.dir, "big-cut.tgz");
    writeFileSync(cut, readFileSync(output).subarray(0, bytes.length - 3 * 65536 - 10));
    const tamperedEarly = join(fixtures.dir, "big-tampered-early.tgz");
    const early = readFileSync(output);
    early[early.length - 2 * 1024 * 1024] = (early[early.length - 2 * 1024 * 1024] ?? 0) ^ 0xff;
    writeFileSync(tamperedEarly, early.subarray(0, early.length - 65536));
    const outcome = (verdict: Promise<PackageVerdict>) =>
      verdict.then(
        (v) => ({ trusted: v.trusted, code: v.code, pkgname: v.pkgname, reason: v.reason }),
        (error: PackageError) => ({ thrown: error.code, reason: error.message }),
      );
    for (const file of [output, tampered, cut, tamperedEarly]) expect(await outcome(run(file)), file).toEqual(await outcome(streamed(file)));
    expect(await outcome(run(cut))).toMatchObject({ thrown: "PKG_TRUNCATED" });
    expect(await outcome(run(tamperedEarly))).toMatchObject({ code: "PKG_BLOCK_MISMATCH" });
  });

  it("asks the caller for a collection as the walk unpacks it, the verdict unchanged", async () => {
    const c = fixtures.byName("signed by an ECDSA P-256 signer");
    const inner = await makeInnerPackage(fixtures.dir, { pkgname: "collected-1.0", payload: PARALLEL_MIN_SIZE + 300_000 });
    const output = join(fixtures.dir, "collected-signed.tgz");
    await signPackage({ input: inner.path, output, keyPem: c.signer!.keyPem, certPem: c.signer!.certPem, chainPem: readFileSync(join(fixtures.pki.dir, "Repo_CA.crt"), "utf8") });
    let collections = 0;
    const verdict = await verifyPackage(fileChunks(output), trustOf(c), { time: NOW, policy: PKG_INSTALL_POLICY, collect: () => collections++ });
    expect(verdict).toMatchObject({ trusted: true, pkgname: "collected-1.0" });
    // One after every 4 MiB unpacked: 8.3 MiB here.
    expect(collections).toBe(2);
  });
});

describe("a block size other than 65536", () => {
  it("verifies blocks larger than the whole package with the single-thread hasher", async () => {
    const c = fixtures.byName("signed by an ECDSA P-256 signer");
    const inner = await makeInnerPackage(fixtures.dir, { pkgname: "demo-1.0", payload: PARALLEL_MIN_SIZE + 1000 });
    const hash = pkgHashFor(inner.bytes, "demo-1.0", 2 ** 40);
    expect(hash.toString()).toContain(`block size: ${2 ** 40}\n`);
    const file = join(fixtures.dir, "huge-block.tgz");
    writeFileSync(file, signedPackage(hash, opensslSign(fixtures.dir, hash, c.signer!, { chain: [] }), inner.bytes));
    const verdict = await verifyPackage(fileChunks(file), trustOf(c), { time: NOW, policy: PKG_INSTALL_POLICY });
    expect(verdict).toMatchObject({ code: "CERT_NO_ISSUER", hash: { blocks: 1 } });
  });
});

/** pkgtrust's answer as trusted or the code of the refusal, thrown or returned. */
async function pkgtrustAnswer(c: PackageCase): Promise<{ trusted: boolean; code?: string }> {
  try {
    const verdict = await verify(c);
    return verdict.trusted ? { trusted: true } : { trusted: false, code: verdict.code ?? "?" };
  } catch (error) {
    return { trusted: false, code: (error as { code?: string }).code ?? String(error) };
  }
}

describe.skipIf(!REFERENCE)("the verdict of pkg_install's own calls (test/reference/pkg-verify.c) on every package case", () => {
  it("has cases for every inner compression, X509_check_ca branch and EKU rule", () => {
    const names = fixtures.cases.map((c) => c.name).join("\n");
    const compressions = (["bzip2", "xz", "zstd"] as const).filter(canCompress);
    for (const must of [...compressions, "uncompressed", "private EKU", "keyCertSign with CA:FALSE", "Netscape", "version 1", "RSA 4096", "P-384", "extra ar members"]) expect(names).toContain(must);
  });

  it("agrees on each case, and refuses for the same kind of reason", async () => {
    const disagreements: string[] = [];
    for (const c of fixtures.cases) {
      const reference = referenceVerify({ file: c.file, anchor: c.anchor, chain: c.chain, time: NOW });
      const ours = await pkgtrustAnswer(c);
      const classes = ours.code === undefined ? undefined : referenceClassesOf(ours.code);
      // pkg_install never compares @name with +PKG_HASH: there pkgtrust alone refuses, by design.
      // A package may fail in two ways (a bad signature and bad blocks): either refusal agrees.
      const referenceClasses = [reference.class, reference.signature];
      const agrees = classes === "pkgtrust-only" ? reference.trusted : ours.trusted === reference.trusted && (ours.trusted || (classes?.some((k) => referenceClasses.includes(k)) ?? false));
      if (!agrees) disagreements.push(`${c.name}: pkgtrust ${ours.trusted ? "trusted" : ours.code}, reference ${reference.line}`);
    }
    expect(disagreements).toEqual([]);
  });

  it("reads every block of a normal package, and so meets the 65536-multiple bug", () => {
    const good = referenceVerify({ file: fixtures.byName("signed by an ECDSA P-256 signer").file, anchor: fixtures.byName("signed by an ECDSA P-256 signer").anchor, time: NOW });
    expect(good).toMatchObject({ trusted: true });
    expect(good.blocksRead).toBe(good.blocks);
    const even = fixtures.byName("package size an exact multiple of 65536");
    expect(referenceVerify({ file: even.file, anchor: even.anchor, time: NOW })).toMatchObject({ trusted: false, class: "block" });
  });
});

describe("OpenSSL 3.0's one chain, where a search over every candidate would differ", () => {
  it("refuses as pkg_install does and names the path that would verify", async () => {
    const verdict = await verify(fixtures.byName("same-name decoy CA with another key before the real one"));
    expect(verdict).toMatchObject({ trusted: false, code: "CERT_BAD_SIGNATURE" });
    expect(verdict.reason).toMatch(/one issuer per step.*another path.*would verify/);
  });

  it("says nothing of other paths when none would verify", async () => {
    const verdict = await verify(fixtures.byName("chain to a look-alike root with the same name"));
    expect(verdict.reason).not.toMatch(/another path/);
  });
});
