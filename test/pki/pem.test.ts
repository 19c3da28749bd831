import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCertificateFile } from "../../src/pki/certificate-file.js";
import { CertificateError } from "../../src/pki/errors.js";
import { readPem } from "../../src/pki/pem.js";
import { TestPki, type Issued } from "../fixtures/pki.js";

const LABELS = ["CERTIFICATE", "X509 CRL"];
const read = (text: string) => readPem(text, { source: "bundle.pem", labels: LABELS });

function caught(fn: () => unknown): CertificateError {
  try {
    fn();
  } catch (error) {
    if (error instanceof CertificateError) return error;
    throw error;
  }
  throw new Error("nothing thrown");
}

let pki: TestPki;
let root: Issued;
let crlPem: string;

beforeAll(async () => {
  pki = await TestPki.create();
  root = await pki.root("PEM Root");
  crlPem = (await pki.crl(root, [])).pem;
});
afterAll(() => pki.cleanup());

describe("readPem", () => {
  it("reads certificates and CRLs with the line of each BEGIN, ignoring text between blocks", () => {
    const text = `comment line\n${root.certPem}\nsome openssl -text output\n${crlPem}`;
    const blocks = read(text);
    expect(blocks.map((b) => [b.label, b.line])).toEqual([
      ["CERTIFICATE", 2],
      ["X509 CRL", 2 + root.certPem.split("\n").length + 1],
    ]);
    expect(Buffer.from(blocks[0]!.der)).toEqual(Buffer.from(root.der));
  });

  it("accepts CRLF line ends", () => {
    expect(read(root.certPem.replace(/\n/g, "\r\n"))).toHaveLength(1);
  });

  it("refuses a private key block, naming its line", () => {
    const error = caught(() => read(`${root.certPem}${root.keyPem}`));
    expect(error.code).toBe("PEM_UNEXPECTED_BLOCK");
    expect(error.detail.line).toBe(root.certPem.split("\n").length);
  });

  it("refuses a block without END, and one ended by another label", () => {
    const cut = root.certPem.split("\n").slice(0, 4).join("\n");
    expect(() => read(cut)).toThrowWithCode("PEM_TRUNCATED");
    expect(() => read(`${cut}\n${root.certPem}`)).toThrowWithCode("PEM_TRUNCATED");
    expect(() => read(root.certPem.replace("END CERTIFICATE", "END X509 CRL"))).toThrowWithCode("PEM_TRUNCATED");
  });

  it("refuses bad base64, naming the block's line", () => {
    const text = `\n\n${root.certPem.replace(/\n(.)/, "\n*$1")}`;
    const error = caught(() => read(text));
    expect(error.code).toBe("PEM_BAD_BASE64");
    expect(error.detail.line).toBe(3);
    expect(() => read(root.certPem.replace(/\n(.)/, "\nProc-Type: 4,ENCRYPTED\n$1"))).toThrowWithCode("PEM_BAD_BASE64");
    expect(() => read("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")).toThrowWithCode("PEM_BAD_BASE64");
    expect(() => read("-----BEGIN CERTIFICATE-----\nQUJD\nRA\n-----END CERTIFICATE-----\n")).toThrowWithCode("PEM_BAD_BASE64");
  });

  it("refuses an empty text and a DER file", () => {
    expect(() => read("")).toThrowWithCode("PEM_EMPTY");
    expect(() => read("just text\n")).toThrowWithCode("PEM_EMPTY");
    expect(() => read(Buffer.from(root.der).toString("latin1"))).toThrowWithCode("PEM_BAD_DER");
  });
});

describe("readCertificateFile", () => {
  it("parses certificates and CRLs", () => {
    const { certificates, crls } = readCertificateFile(`${root.certPem}${crlPem}`, "bundle.pem");
    expect(certificates.map((c) => c.subject)).toEqual(["CN=PEM Root"]);
    expect(crls.map((c) => c.issuer)).toEqual(["CN=PEM Root"]);
  });

  it("refuses DER garbage inside a well-formed block, naming the block's line", () => {
    const garbage = `-----BEGIN CERTIFICATE-----\n${Buffer.from("not a certificate at all").toString("base64")}\n-----END CERTIFICATE-----\n`;
    const error = caught(() => readCertificateFile(`${root.certPem}${garbage}`, "bundle.pem"));
    expect(error.code).toBe("PEM_BAD_DER");
    expect(error.detail.line).toBe(root.certPem.split("\n").length);
    expect(() => readCertificateFile(garbage.replace(/CERTIFICATE/g, "X509 CRL"), "b")).toThrowWithCode("PEM_BAD_DER");
  });
});

describe("PEM reading never fails in an uncoded way", () => {
  const outcome = (text: string) => {
    try {
      readCertificateFile(text, "fuzz.pem");
      return "ok";
    } catch (error) {
      if (error instanceof CertificateError && error.code.startsWith("PEM_")) return "coded";
      throw error;
    }
  };

  it("on random text", () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (text) => outcome(text) !== undefined), { numRuns: 500 });
    fc.assert(
      fc.property(fc.array(fc.constantFrom("-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----", "-----BEGIN X509 CRL-----", "QUJD", "====", "", "x"), { maxLength: 12 }), (lines) =>
        outcome(lines.join("\n")) !== undefined,
      ),
      { numRuns: 500 },
    );
  });

  it("on certificates and CRLs with mutated DER inside well-formed blocks", () => {
    const block = (label: string, der: Uint8Array) => `-----BEGIN ${label}-----\n${Buffer.from(der).toString("base64")}\n-----END ${label}-----\n`;
    const crlDer = readPem(crlPem, { source: "crl", labels: LABELS })[0]!.der;
    fc.assert(
      fc.property(fc.boolean(), fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }), fc.nat(), (isCert, flips, cut) => {
        const der = Uint8Array.from(isCert ? root.der : crlDer);
        for (const f of flips) der[f.at % der.length] = f.byte;
        const truncated = cut % 5 === 0 ? der.subarray(0, cut % der.length) : der;
        return outcome(block(isCert ? "CERTIFICATE" : "X509 CRL", truncated)) !== undefined;
      }),
      { numRuns: 400 },
    );
  });

  it("on mutated bundles", () => {
    const text = `${root.certPem}${crlPem}`;
    const mutation = fc.record({
      at: fc.nat({ max: text.length - 1 }),
      remove: fc.nat({ max: 8 }),
      insert: fc.string({ maxLength: 8 }),
    });
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        let mutated = text;
        for (const m of mutations) mutated = mutated.slice(0, m.at) + m.insert + mutated.slice(m.at + m.remove);
        return outcome(mutated) !== undefined;
      }),
      { numRuns: 300 },
    );
  });
});
