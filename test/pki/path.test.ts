import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCertificate, type Certificate } from "../../src/pki/certificate.js";
import { findTrustedPath, MAX_PATH_LENGTH, PKG_INSTALL_POLICY, STRICT_POLICY, type PathRequest, type Policy } from "../../src/pki/path.js";
import { NOW, TestPki, type Issued } from "../fixtures/pki.js";
import { opensslVerify } from "./openssl.js";
import { requireTool } from "../fixtures/requirements.js";

const OPENSSL = requireTool("openssl", "openssl verify's verdict on each path case");

let pki: TestPki;
let root: Issued;
let ca: Issued;
let signer: Issued;
const parsed = new Map<Issued, Certificate>();
const model = (issued: Issued) => {
  let certificate = parsed.get(issued);
  if (!certificate) parsed.set(issued, (certificate = parseCertificate(issued.der, issued.name)));
  return certificate;
};

interface Case {
  leaf: Issued;
  bundle?: Issued[];
  anchors?: Issued[];
  time?: Date;
  policy?: Policy;
  purpose?: PathRequest["purpose"];
}

/** pkgtrust's verdict and openssl's for the same material. */
function verdicts(c: Case) {
  const bundle = c.bundle ?? [];
  const anchors = c.anchors ?? [root];
  const time = c.time ?? NOW;
  const purpose = c.purpose ?? "smime-sign";
  const ours = findTrustedPath({
    leaf: model(c.leaf),
    untrusted: bundle.map(model),
    trusted: anchors.map(model),
    time,
    policy: c.policy ?? STRICT_POLICY,
    purpose,
  });
  const name = `${Math.random().toString(36).slice(2)}`;
  const openssl = opensslVerify({
    anchor: pki.writePem(`anchor-${name}.pem`, ...anchors.map((a) => a.certPem)),
    ...(bundle.length ? { untrusted: pki.writePem(`bundle-${name}.pem`, ...bundle.map((b) => b.certPem)) } : {}),
    cert: c.leaf.certPath,
    purpose: purpose === "smime-sign" ? "smimesign" : "any",
    time,
  });
  return { ours, openssl, code: ours.ok ? "OK" : ours.error.code };
}

beforeAll(async () => {
  pki = await TestPki.create();
  root = await pki.root("Test Root");
  ca = await pki.intermediate(root, "Repo CA");
  signer = await pki.signer(ca, "Build Machine");
});
afterAll(() => pki.cleanup());

describe("valid paths", () => {
  it("accepts a signing certificate through an intermediate, leaf first and anchor last", () => {
    const { ours, openssl } = verdicts({ leaf: signer, bundle: [ca] });
    expect(ours.ok && ours.path.map((c) => c.subject)).toEqual(["CN=Build Machine", "CN=Repo CA", "CN=Test Root"]);
    if (OPENSSL) expect(openssl.ok).toBe(true);
  });

  it("accepts an intermediate CA (openssl: -purpose any, since its smimesign leaf check wants digitalSignature)", () => {
    const { code, openssl } = verdicts({ leaf: ca });
    expect(code).toBe("OK");
    if (OPENSSL) expect(opensslVerify({ anchor: root.certPath, cert: ca.certPath, purpose: "any", time: NOW }).ok).toBe(true);
    // Judged as a leaf, openssl's smimesign purpose refuses a CA's key usage; pkgtrust applies the CA-side rules.
    if (OPENSSL) expect(openssl.error).toBe("unsuitable certificate purpose");
  });

  it("accepts two intermediates and a signer issued by the anchor itself", async () => {
    const second = await pki.intermediate(ca, "Second CA");
    const deep = await pki.signer(second, "Deep Signer");
    const direct = await pki.signer(root, "Direct Signer");
    for (const c of [{ leaf: deep, bundle: [ca, second] }, { leaf: direct }]) {
      const { code, openssl } = verdicts(c);
      expect(code).toBe("OK");
      if (OPENSSL) expect(openssl.ok).toBe(true);
    }
  });

  it("backtracks past a same-name, same-key issuer that leads to an untrusted root", async () => {
    const lookalike = await pki.root("Test Root");
    const renamed = await pki.intermediate(root, "Shared CA");
    const decoy = await pki.intermediate(lookalike, "Shared CA", { reuseKeyOf: renamed, noKeyIdentifiers: true });
    const leaf = await pki.signer(renamed, "Shared Signer", { noKeyIdentifiers: true });
    const { ours, openssl } = verdicts({ leaf, bundle: [decoy, lookalike, renamed] });
    expect(ours.ok && ours.path[1]?.sha256).toBe(model(renamed).sha256);
    // OpenSSL 3.0 takes the first issuer that fits and does not backtrack: it fails where pkgtrust finds the path.
    if (OPENSSL) expect(openssl.ok).toBe(false);
  });

  it("backtracks past an expired issuer of the same name and key to a valid one", async () => {
    const expired = await pki.intermediate(root, "Renewed CA", { notAfter: new Date("2021-01-01T00:00:00Z") });
    const renewed = await pki.intermediate(root, "Renewed CA", { reuseKeyOf: expired });
    const leaf = await pki.signer(renewed, "Renewed Signer");
    const { ours, openssl } = verdicts({ leaf, bundle: [expired, renewed] });
    expect(ours.ok && ours.path[1]?.sha256).toBe(model(renewed).sha256);
    if (OPENSSL) expect(openssl.ok).toBe(true);
  });
});

describe("the failure reported when no path is valid", () => {
  it("prefers a complete path's check failure (expired) over a dead end (no issuer)", async () => {
    const expired = await pki.intermediate(root, "Rank CA", { notAfter: new Date("2021-01-01T00:00:00Z") });
    const stranger = await pki.root("Stranger Root");
    const parent = await pki.intermediate(stranger, "Missing Parent");
    const orphan = await pki.intermediate(parent, "Rank CA", { reuseKeyOf: expired });
    const leaf = await pki.signer(expired, "Rank Signer");
    const { ours, openssl } = verdicts({ leaf, bundle: [orphan, expired] });
    expect(ours.ok ? "OK" : [ours.error.code, ours.error.detail.subject]).toEqual(["CERT_EXPIRED", "CN=Rank CA"]);
    // OpenSSL prefers the issuer valid in time, the orphan, and stops there.
    if (OPENSSL) expect(openssl.error).toBe("unable to get local issuer certificate");
  });
});

describe("validity period (RFC 5280 4.1.2.5: inclusive bounds)", () => {
  const notBefore = new Date("2026-01-01T00:00:00Z");
  const notAfter = new Date("2026-12-31T00:00:00Z");
  let leaf: Issued;
  beforeAll(async () => {
    leaf = await pki.signer(ca, "Dated Signer", { notBefore, notAfter });
  });

  it("accepts a certificate exactly at notBefore and exactly at notAfter", () => {
    const first = verdicts({ leaf, bundle: [ca], time: notBefore });
    expect(first.code).toBe("OK");
    if (OPENSSL) expect(first.openssl.ok).toBe(true);
    const last = verdicts({ leaf, bundle: [ca], time: notAfter });
    expect(last.code).toBe("OK");
    // OpenSSL's X509_cmp_time counts "equal" as "earlier", so it calls a certificate expired at
    // the very second of notAfter; RFC 5280 4.1.2.5 includes that second. A deliberate difference.
    if (OPENSSL) expect(last.openssl.error).toBe("certificate has expired");
    if (OPENSSL) expect(verdicts({ leaf, bundle: [ca], time: new Date(notAfter.getTime() - 1000) }).openssl.ok).toBe(true);
  });

  it("refuses a certificate one second after notAfter or before notBefore", () => {
    const late = verdicts({ leaf, bundle: [ca], time: new Date(notAfter.getTime() + 1000) });
    expect(late.code).toBe("CERT_EXPIRED");
    if (OPENSSL) expect(late.openssl.error).toBe("certificate has expired");
    const early = verdicts({ leaf, bundle: [ca], time: new Date(notBefore.getTime() - 1000) });
    expect(early.code).toBe("CERT_NOT_YET_VALID");
    if (OPENSSL) expect(early.openssl.error).toBe("certificate is not yet valid");
  });

  it("refuses a path to an expired anchor", async () => {
    const oldRoot = await pki.root("Old Root", { notAfter: new Date("2025-01-01T00:00:00Z") });
    const leaf2 = await pki.signer(oldRoot, "Under Old Root");
    const { code, openssl } = verdicts({ leaf: leaf2, anchors: [oldRoot] });
    expect(code).toBe("CERT_EXPIRED");
    if (OPENSSL) expect(openssl.error).toBe("certificate has expired");
  });

  it("refuses a path through an expired intermediate, naming the intermediate", async () => {
    const old = await pki.intermediate(root, "Old CA", { notAfter: new Date("2025-01-01T00:00:00Z") });
    const leaf2 = await pki.signer(old, "Old Signer");
    const { ours, openssl } = verdicts({ leaf: leaf2, bundle: [old] });
    expect(ours.ok).toBe(false);
    if (!ours.ok) {
      expect(ours.error.code).toBe("CERT_EXPIRED");
      expect(ours.error.detail.subject).toBe("CN=Old CA");
    }
    if (OPENSSL) expect(openssl.error).toBe("certificate has expired");
  });
});

describe("CA rules", () => {
  it("refuses an issuer that is not a CA (basicConstraints CA:FALSE)", async () => {
    const notCa = await pki.issue(root, "Not A CA", { ca: false, keyUsage: ["digitalSignature", "keyCertSign"] });
    const leaf = await pki.signer(notCa, "Under Not A CA");
    const { code, openssl } = verdicts({ leaf, bundle: [notCa] });
    expect(code).toBe("CERT_ISSUER_NOT_CA");
    if (OPENSSL) expect(openssl.error).toBe("invalid CA certificate");
  });

  it("refuses an issuer whose keyUsage lacks keyCertSign", async () => {
    const noSign = await pki.intermediate(root, "No CertSign CA", { keyUsage: ["digitalSignature", "cRLSign"] });
    const leaf = await pki.signer(noSign, "Under No CertSign");
    const { code, openssl } = verdicts({ leaf, bundle: [noSign] });
    expect(code).toBe("CERT_ISSUER_NOT_CA");
    if (OPENSSL) expect(openssl.error).toBe("invalid CA certificate");
  });

  it("refuses a path longer than a CA's pathLenConstraint, accepts it at the limit", async () => {
    const tight = await pki.root("Tight Root", { pathLength: 0 });
    const below = await pki.intermediate(tight, "Below Tight");
    const leaf = await pki.signer(below, "Too Deep");
    const exceeded = verdicts({ leaf, bundle: [below], anchors: [tight] });
    expect(exceeded.code).toBe("CERT_PATH_LENGTH");
    if (OPENSSL) expect(exceeded.openssl.error).toBe("path length constraint exceeded");
    const direct = await pki.signer(tight, "At Limit");
    const atLimit = verdicts({ leaf: direct, anchors: [tight] });
    expect(atLimit.code).toBe("OK");
    if (OPENSSL) expect(atLimit.openssl.ok).toBe(true);
  });

  it("refuses a CA whose extended key usage lacks emailProtection (smime_sign purpose)", async () => {
    const tlsCa = await pki.intermediate(root, "TLS Only CA", { extendedKeyUsage: ["serverAuth"] });
    const leaf = await pki.signer(tlsCa, "Under TLS CA");
    const { code, openssl } = verdicts({ leaf, bundle: [tlsCa] });
    expect(code).toBe("CERT_WRONG_PURPOSE");
    if (OPENSSL) expect(openssl.error).toBe("unsuitable certificate purpose");
    expect(verdicts({ leaf, bundle: [tlsCa], purpose: "any" }).code).toBe("OK");
  });

  it("judges a CA with EKU anyExtendedKeyUsage or emailProtection the way openssl does", async () => {
    for (const extendedKeyUsage of [["anyExtendedKeyUsage"], ["emailProtection", "codeSigning"]]) {
      const ekuCa = await pki.intermediate(root, "EKU CA", { extendedKeyUsage });
      const leaf = await pki.signer(ekuCa, "Under EKU CA");
      const { code, openssl } = verdicts({ leaf, bundle: [ekuCa] });
      if (OPENSSL) expect(code === "OK").toBe(openssl.ok);
    }
  });

  it("refuses a TLS server certificate for the signing purpose", async () => {
    const tls = await pki.tlsServer(ca, "www.example.org");
    const { code, openssl } = verdicts({ leaf: tls, bundle: [ca] });
    expect(code).toBe("CERT_WRONG_PURPOSE");
    if (OPENSSL) expect(openssl.error).toBe("unsuitable certificate purpose");
  });
});

describe("trust", () => {
  it("refuses a path ending at a look-alike root (same name, other key) with CERT_UNTRUSTED_ROOT", async () => {
    const lookalike = await pki.root("Test Root");
    const evilCa = await pki.intermediate(lookalike, "Repo CA");
    const evil = await pki.signer(evilCa, "Build Machine");
    const { code, openssl } = verdicts({ leaf: evil, bundle: [evilCa, lookalike] });
    expect(code).toBe("CERT_UNTRUSTED_ROOT");
    if (OPENSSL) expect(openssl.error).toBe("self-signed certificate in certificate chain");
  });

  it("refuses a missing issuer, and a non-self-signed anchor that cannot end a path (no partial chain)", () => {
    const missing = verdicts({ leaf: signer });
    expect(missing.code).toBe("CERT_NO_ISSUER");
    if (OPENSSL) expect(missing.openssl.error).toBe("unable to get local issuer certificate");
    const partial = verdicts({ leaf: signer, anchors: [ca] });
    expect(partial.code).toBe("CERT_NO_ISSUER");
    if (OPENSSL) expect(partial.openssl.ok).toBe(false);
    if (OPENSSL) expect(partial.openssl.error).toBe("unable to get issuer certificate");
  });

  it("refuses a certificate whose signature does not verify with its issuer's key", async () => {
    const other = await pki.root("Other Root");
    const forged = await pki.signer(ca, "Forged Signer", { signWith: other });
    const { code, openssl } = verdicts({ leaf: forged, bundle: [ca] });
    expect(code).toBe("CERT_BAD_SIGNATURE");
    if (OPENSSL) expect(openssl.error).toBe("certificate signature failure");
  });

  it("refuses an unknown critical extension", async () => {
    const leaf = await pki.signer(ca, "Critical Signer", { unknownCriticalExtension: true });
    const { code, openssl } = verdicts({ leaf, bundle: [ca] });
    expect(code).toBe("CERT_UNKNOWN_CRITICAL_EXTENSION");
    if (OPENSSL) expect(openssl.error).toBe("unhandled critical extension");
  });

  it("terminates on issuer cycles and bounds the path length", async () => {
    const a = await pki.intermediate(root, "Cycle A");
    const b = await pki.intermediate(a, "Cycle B");
    const a2 = await pki.intermediate(b, "Cycle A", { reuseKeyOf: a });
    const leaf = await pki.signer(a2, "Cycle Signer");
    expect(verdicts({ leaf, bundle: [a2, b] }).code).toBe("CERT_NO_ISSUER");
    expect(verdicts({ leaf, bundle: [a2, b, a] }).code).toBe("OK");

    const chain: Issued[] = [];
    let top = root;
    for (let i = 0; i < MAX_PATH_LENGTH; i++) chain.push((top = await pki.intermediate(top, `Level ${i}`)));
    const deep = await pki.signer(top, "Too Far");
    const { code, openssl } = verdicts({ leaf: deep, bundle: chain });
    expect(code).toBe("CERT_PATH_TOO_LONG");
    // OpenSSL's default depth limit is 100: a deliberate difference, pkgtrust searches at most MAX_PATH_LENGTH.
    if (OPENSSL) expect(openssl.ok).toBe(true);
  });
});

describe("algorithm policy (pkgtrust stricter than pkg_install)", () => {
  let rsaCa: Issued;
  beforeAll(async () => {
    rsaCa = await pki.intermediate(root, "RSA CA", { key: "rsa-2048" });
  });

  it.each([
    ["SHA-1 signature", () => pki.signer(ca, "SHA1 Signer", { digest: "sha1" })],
    ["MD5 signature", () => pki.signer(rsaCa, "MD5 Signer", { digest: "md5" })],
    ["RSA-1024 key", () => pki.signer(rsaCa, "Small Key Signer", { key: "rsa-1024" })],
  ])("refuses a %s by default, accepts it under PKG_INSTALL_POLICY as openssl does", async (_what, make) => {
    const leaf = await make();
    const strict = verdicts({ leaf, bundle: [ca, rsaCa] });
    expect(strict.code).toBe("CERT_WEAK_ALGORITHM");
    // OpenSSL 3.0 at its default security level accepts it, and so does pkg_install: the difference is our policy.
    if (OPENSSL) expect(strict.openssl.ok).toBe(true);
    expect(verdicts({ leaf, bundle: [ca, rsaCa], policy: PKG_INSTALL_POLICY }).code).toBe("OK");
  });
});
