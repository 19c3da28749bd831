/**
 * Names are matched as OpenSSL 3.0 matches them (X509_NAME_cmp on x509_name_canon's
 * encoding), cross-checked with the openssl command: `x509 -subject_hash` is the SHA-1 of
 * exactly that encoding, and `verify` builds chains by it.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AsnConvert } from "@peculiar/asn1-schema";
import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from "@peculiar/asn1-x509";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readBundle, verifyBundle } from "../../src/bundle/verify.js";
import { parseCertificate, type Certificate } from "../../src/pki/certificate.js";
import { parseCrl } from "../../src/pki/crl.js";
import { canonicalNameDer } from "../../src/pki/name.js";
import { findTrustedPath, STRICT_POLICY } from "../../src/pki/path.js";
import * as x509 from "../../src/pki/x509.js";
import { NOW, TestPki, type Issued } from "../fixtures/pki.js";
import { opensslVerify } from "./openssl.js";
import { requireTool } from "../fixtures/requirements.js";

const OPENSSL = requireTool("openssl", "openssl's name hashes and issuer matches");

let pki: TestPki;
beforeAll(async () => {
  pki = await TestPki.create();
});
afterAll(() => pki.cleanup());

const CN = "2.5.4.3";
/** The DER of a Name of RDNs of (type, value) pairs, values as @peculiar's AttributeValue, built by the library. */
const nameDer = (...rdns: [string, AttributeValue][][]) =>
  AsnConvert.serialize(new Name(rdns.map((rdn) => new RelativeDistinguishedName(rdn.map(([type, value]) => new AttributeTypeAndValue({ type, value }))))));
/** The same for the certificate generator, which decodes and re-encodes it (valid strings survive that unchanged). */
const rawName = (...rdns: [string, AttributeValue][][]) => new x509.Name(nameDer(...rdns));
const utf8 = (text: string) => new AttributeValue({ utf8String: text });
const printable = (text: string) => new AttributeValue({ printableString: text });
/** A value of any universal type: its DER given as hex (RFC 4514's #hexstring form). */
const der = (hex: string) => new AttributeValue({ anyValue: new Uint8Array(Buffer.from(hex, "hex")).buffer });

/** OpenSSL's X509_NAME_hash: the first four bytes of the SHA-1 of the canonical encoding, little-endian. */
const nameHash = (canonicalHex: string) => createHash("sha1").update(Buffer.from(canonicalHex, "hex")).digest().readUInt32LE(0).toString(16).padStart(8, "0");
const opensslHashes = (certPath: string) => execFileSync("openssl", ["x509", "-in", certPath, "-noout", "-subject_hash", "-issuer_hash"], { encoding: "utf8" }).trim().split("\n");

/** A self-signed certificate from `openssl req` with its string_mask: how OpenSSL itself encodes a name. */
function opensslRoot(label: string, subject: string, stringMask: string): string {
  const config = join(pki.dir, `${label}.cnf`);
  writeFileSync(config, `[req]\ndistinguished_name = dn\nstring_mask = ${stringMask}\n[dn]\n`);
  const cert = join(pki.dir, `${label}.crt`);
  const key = join(pki.dir, `${label}.key`);
  execFileSync("openssl", ["req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-subj", subject, "-utf8", "-days", "2", "-config", config], { stdio: "ignore" });
  return cert;
}

describe("the canonical encoding of a name", () => {
  const subjects: [string, x509.Name][] = [
    ["a PrintableString", rawName([[CN, printable("pkgsrc CA")]])],
    ["a UTF8String with upper case and runs of white space", rawName([[CN, utf8("  PKGSRC \t\n ca  ")]])],
    ["a BMPString", new x509.Name([{ CN: [{ bmpString: "pkgsrc CA" }] }])],
    ["a T61String with a Latin-1 byte", rawName([[CN, der("1404636166e9")]])],
    ["a UTF8String with non-ASCII letters, which keep their case", rawName([[CN, utf8("CAFÉ Ünïcode")]])],
    ["an IA5String", new x509.Name([{ CN: [{ ia5String: "Build  Machine" }] }])],
    ["a NumericString, which is not canonicalised", rawName([[CN, der("1203313233")]])],
    ["a value that is a SEQUENCE", rawName([[CN, der("3003020101")]])],
    ["a multi-valued RDN", rawName([[CN, utf8("b")], ["2.5.4.10", utf8("a")]])],
    ["an empty value and one of white space only", rawName([[CN, utf8("")], ["2.5.4.10", utf8("   ")]])],
    ["NUL, a byte-order mark, vertical tab, form feed and no-break space", rawName([[CN, utf8("\ufeffa\u0000b\u000b\u000cc\u00a0d")]])],
    ["an empty RDN between two", rawName([[CN, utf8("x")]], [], [["2.5.4.10", utf8("y")]])],
    ["the empty name", rawName()],
  ];
  describe.runIf(OPENSSL)("against openssl x509 -subject_hash", () => {
    it.each(subjects)("is what openssl hashes for %s", async (label, subjectName) => {
      const issued = await pki.root(label, { subjectName });
      const certificate = parseCertificate(issued.der, label);
      expect([nameHash(certificate.subjectName), nameHash(certificate.issuerName)]).toEqual(opensslHashes(issued.certPath));
    });

    it.each([
      ["UniversalString", "/CN=\u{1F600} Pkgsrc CA/O=Example", "MASK:0x100"],
      ["BMPString", "/CN=Ünïcode PKGSRC/O=Example", "MASK:0x800"],
      ["T61String", "/CN=Caf\u00e9 Pkgsrc", "MASK:0x4"],
    ])("is what openssl hashes for a %s that openssl req encoded", (label, subject, mask) => {
      const cert = opensslRoot(label, subject, mask);
      const [certificate] = readBundle(readFileSync(cert, "utf8"), cert).certificates as [Certificate];
      expect([nameHash(certificate.subjectName), nameHash(certificate.issuerName)]).toEqual(opensslHashes(cert));
    });
  });

  it("sorts the attributes of a multi-valued RDN and folds string types, so that equal names have one encoding", () => {
    const a = nameDer([[CN, printable("Pkgsrc CA")], ["2.5.4.10", utf8("The  NetBSD Foundation")]]);
    const b = nameDer([["2.5.4.10", printable("the netbsd foundation ")], [CN, utf8("pkgsrc ca")]]);
    expect(canonicalNameDer(a).toString("hex")).toBe(canonicalNameDer(b).toString("hex"));
    expect(canonicalNameDer(nameDer([[CN, utf8("a")]], [[CN, utf8("b")]]))).not.toEqual(canonicalNameDer(nameDer([[CN, utf8("b")]], [[CN, utf8("a")]])));
  });

  it.each([
    ["a UTF8String that is not UTF-8", "0c02c328"],
    ["a BMPString of an odd length", "1e03006100"],
    ["a BMPString holding a surrogate", "1e04d83dde00"],
    ["a UniversalString beyond U+10FFFF", "1c0400110000"],
    ["a VisibleString (not an X509_NAME_ENTRY type)", "1a03616263"],
    ["an OCTET STRING", "0403616263"],
  ])("refuses %s, as OpenSSL refuses to decode the name", (_label, value) => {
    expect(() => canonicalNameDer(nameDer([[CN, der(value)]]))).toThrow();
  });

  it("makes a certificate or CRL whose name OpenSSL cannot decode malformed (PEM_BAD_DER), as openssl refuses to read it", async () => {
    const surrogate = rawName([[CN, der("1e04d83dde00")]]);
    const root = await pki.root("surrogate", { subjectName: surrogate });
    if (OPENSSL) expect(spawnSync("openssl", ["x509", "-in", root.certPath, "-noout"]).status).not.toBe(0);
    expect(() => parseCertificate(root.der, "surrogate")).toThrowWithCode("PEM_BAD_DER");
    const ca = await pki.root("CRL issuer");
    const crl = await pki.crl(ca, [], { issuerName: surrogate });
    if (OPENSSL) expect(spawnSync("openssl", ["crl", "-in", crl.path, "-noout"]).status).not.toBe(0);
    expect(() => parseCrl(crl.der, "crl")).toThrowWithCode("PEM_BAD_DER");
  });
});

describe("issuer look-up by canonical name", () => {
  const O = "2.5.4.10";
  const cnAndO = (cn: AttributeValue, o: AttributeValue) => rawName([[CN, cn]], [[O, o]]);
  const pkgsrcCa = cnAndO(printable("pkgsrc CA"), printable("The NetBSD Foundation"));
  let root: Issued;
  beforeAll(async () => {
    root = await pki.root("pkgsrc CA", { subjectName: pkgsrcCa });
  });

  const pairs: [string, x509.Name, x509.Name, boolean][] = [
    ["in UTF8String", pkgsrcCa, cnAndO(utf8("pkgsrc CA"), utf8("The NetBSD Foundation")), true],
    ["in other case", pkgsrcCa, cnAndO(utf8("PKGSRC ca"), printable("the netbsd FOUNDATION")), true],
    ["with other white space", pkgsrcCa, cnAndO(utf8(" pkgsrc \t CA "), utf8("The  NetBSD\nFoundation")), true],
    ["in BMPString and T61String", pkgsrcCa, cnAndO(new AttributeValue({ bmpString: "pkgsrc CA" }), der("1415546865204e657442534420466f756e646174696f6e")), true],
    ["with an empty RDN added", pkgsrcCa, rawName([[CN, printable("pkgsrc CA")]], [], [[O, printable("The NetBSD Foundation")]]), true],
    ["with a multi-valued RDN's values in the other order", rawName([[CN, printable("pkgsrc CA")], [O, printable("x")]]), rawName([[O, utf8("X")], [CN, utf8("PKGSRC CA")]]), true],
    ["with the RDNs in the other order", pkgsrcCa, rawName([[O, printable("The NetBSD Foundation")]], [[CN, printable("pkgsrc CA")]]), false],
    ["as one multi-valued RDN", pkgsrcCa, rawName([[CN, printable("pkgsrc CA")], [O, printable("The NetBSD Foundation")]]), false],
    ["in a NumericString against a PrintableString", rawName([[CN, printable("2026")]]), rawName([[CN, der("1204" + Buffer.from("2026").toString("hex"))]]), false],
    ["with a non-ASCII letter in other case", cnAndO(utf8("pkgsrc cä"), utf8("x")), cnAndO(utf8("pkgsrc CÄ"), utf8("x")), false],
  ];
  it.each(pairs)("matches an issuer name %s exactly when openssl verify does", async (label, subjectName, issuerName, matches) => {
    const ca = await pki.root(`CA ${label}`, { subjectName });
    const leaf = await pki.signer(ca, `leaf ${label}`, { issuerName });
    const ours = findTrustedPath({ leaf: parseCertificate(leaf.der, "leaf"), untrusted: [], trusted: [parseCertificate(ca.der, "anchor")], time: NOW, policy: STRICT_POLICY, purpose: "smime-sign" });
    if (OPENSSL) {
      const theirs = opensslVerify({ anchor: ca.certPath, cert: leaf.certPath, time: NOW });
      expect(theirs.ok, theirs.output).toBe(matches);
    }
    expect(ours.ok ? "ok" : ours.error.code).toBe(matches ? "ok" : "CERT_NO_ISSUER");
  });

  it("matches a CRL naming its CA in another encoding, as openssl verify -crl_check does", async () => {
    const leaf = await pki.signer(root, "revoked build machine", { issuerName: pkgsrcCa });
    const crl = await pki.crl(root, [{ serial: leaf.serial }], { issuerName: cnAndO(utf8(" PKGSRC  ca"), utf8("the netbsd foundation")) });
    if (OPENSSL) expect(opensslVerify({ anchor: root.certPath, cert: leaf.certPath, crl: crl.path, time: NOW }).error).toBe("certificate revoked");
    const verdict = await verifyBundle(readBundle(leaf.certPem + crl.pem, "bundle"), readBundle(root.certPem, "anchor").certificates, { time: NOW, policy: STRICT_POLICY });
    expect(verdict.crls.map((c) => c.status)).toEqual(["valid"]);
    expect(verdict.certificates.map((c) => c.code)).toEqual(["CERT_REVOKED"]);
  });

  it("takes a root whose issuer differs from its subject only in encoding for self-signed, as openssl verify does", async () => {
    const key = await pki.root("key");
    const selfSigned = await pki.intermediate(key, "Repo CA", { subjectName: rawName([[CN, printable("Repo CA")]]), issuerName: rawName([[CN, utf8(" repo  ca")]]), reuseKeyOf: key });
    if (OPENSSL) expect(opensslVerify({ anchor: selfSigned.certPath, cert: selfSigned.certPath, time: NOW, purpose: "any" }).ok).toBe(true);
    const certificate = parseCertificate(selfSigned.der, "renewed");
    expect([certificate.selfIssued, certificate.selfSigned]).toEqual([true, true]);
  });
});
