/** Fuzzing the text parsers: PEM (and the DER inside), pkg_install.conf, pkg_summary, answer files (see harness.ts). */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chooseTestPackage, parsePkgSummary } from "../../src/package/pkg-summary.js";
import { parseAnswers } from "../../src/cli/answers.js";
import { MARKER, mergeSettings, OWNED_VARIABLES, readSettings, type OwnedSettings } from "../../src/config/pkg-install-conf.js";
import { readCertificateFile } from "../../src/pki/certificate-file.js";
import { TestPki } from "../fixtures/pki.js";
import { fuzz, FUZZ_TIMEOUT_MS, mutated, mutatedBytes } from "./harness.js";

let pki: TestPki;
let der: { certificate: Uint8Array; crl: Uint8Array };
/** The root and its CRL as PEM, unmutated: the generator's valid case, so that "ok" is reached every run. */
let validPem: string;

beforeAll(async () => {
  pki = await TestPki.create();
  const root = await pki.root("Fuzz Root");
  const crl = await pki.crl(root, [{ serial: "01" }]);
  der = { certificate: root.der, crl: crl.der };
  validPem = root.certPem + crl.pem;
});
afterAll(async () => {
  await pki?.cleanup();
});

const lineEnd = fc.constantFrom("\n", "\n", "\r\n", "");

function pemBlocks(): fc.Arbitrary<string> {
  const body = fc.oneof(mutatedBytes(fc.constantFrom(der.certificate, der.crl)), fc.uint8Array({ maxLength: 200 }));
  const block = fc
    .record({
      label: fc.oneof({ weight: 6, arbitrary: fc.constantFrom("CERTIFICATE", "X509 CRL") }, { weight: 1, arbitrary: fc.constantFrom("PRIVATE KEY", "PKCS7", "CERTIFICATE ") }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }),
      body,
      width: fc.constantFrom(64, 64, 76, 1000),
      eol: lineEnd,
      before: fc.constantFrom("", "", "comment\n", "   \n"),
    })
    .map(({ label, body: bytes, width, eol, before }) => {
      const base64 = Buffer.from(bytes).toString("base64");
      const lines = base64.match(new RegExp(`.{1,${width}}`, "g")) ?? [];
      return `${before}-----BEGIN ${label}-----${eol || "\n"}${lines.join(eol || "\n")}${eol || "\n"}-----END ${label}-----${eol}`;
    });
  return mutated(fc.array(block, { maxLength: 3 }).map((blocks) => blocks.join("")));
}

const settings: OwnedSettings = { VERIFIED_INSTALLATION: "always", CERTIFICATE_ANCHOR_PKGS: "/etc/pkgtrust/a.pem", CERTIFICATE_CHAIN: "/etc/pkgtrust/c.pem", PKG_PATH: "https://example.org/All" };
const confText = mutated(
  fc
    .array(
      fc.oneof(
        fc.constantFrom(MARKER, "VERIFIED_INSTALLATION=never", "CERTIFICATE_CHAIN=", "PKG_PATH=ftp://x", "# comment", "", "CHECK_VULNERABILITIES=always", " VERIFIED_INSTALLATION=trusted"),
        fc.string({ maxLength: 40 }),
      ),
      { maxLength: 8 },
    )
    .chain((lines) => lineEnd.map((eol) => lines.join(eol === "" ? "\n" : eol))),
);

/** pkgtrust's merge keeps the file pkg_install reads correct and is idempotent, whatever it started from. */
function mergeChecked(text: string): void {
  const merged = mergeSettings(text, settings);
  const seen = readSettings(merged);
  for (const name of OWNED_VARIABLES) if (seen.get(name) !== settings[name]) throw new Error(`${name} reads ${JSON.stringify(seen.get(name))} after the merge`);
  if (mergeSettings(merged, settings) !== merged) throw new Error("merging twice changed the file");
}

const summaryText = mutated(
  fc
    .array(
      fc.record({
        pkgname: fc.oneof({ weight: 4, arbitrary: fc.constantFrom("digest-20220214", "pkgin-23.8.1nb2", "nover") }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) }),
        fileName: fc.option(fc.constantFrom("../../etc/passwd", "x.tgz", "/abs.tgz", "a/b.tgz")),
        fileSize: fc.option(fc.oneof({ weight: 4, arbitrary: fc.nat().map(String) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) })),
        sizePkg: fc.option(fc.nat().map(String)),
        extra: fc.array(fc.constantFrom("COMMENT=x", "DESCRIPTION=line", "DESCRIPTION=", "lower=case", "DEPENDS=a>=1"), { maxLength: 3 }),
      }),
      { maxLength: 4 },
    )
    .map((entries) =>
      entries
        .map((e) =>
          [`PKGNAME=${e.pkgname}`, e.fileName === null ? "" : `FILE_NAME=${e.fileName}`, e.fileSize === null ? "" : `FILE_SIZE=${e.fileSize}`, e.sizePkg === null ? "" : `SIZE_PKG=${e.sizePkg}`, ...e.extra]
            .filter((l) => l !== "")
            .join("\n"),
        )
        .join("\n\n"),
    ),
);

const answerKeys = ["repo", "root", "anchor", "config", "ca-file", "test-package", "no-test-install", "allow-weak", "non-interactive", "json", "REPO", "CA_FILE", "NO_TEST_INSTALL", "bogus", "__proto__", "constructor"];
const answerValue = fc.oneof(fc.constantFrom("yes", "no", "1", "true", "/etc/a.pem", "relative", '"quoted"', "'x'", ""), fc.string({ maxLength: 20 }));
const answerText = mutated(
  fc.oneof(
    fc.array(fc.tuple(fc.constantFrom(...answerKeys), answerValue, fc.constantFrom("=", " = ", ":")), { maxLength: 6 }).map((pairs) => pairs.map(([k, v, eq]) => `${k}${eq}${v}`).join("\n")),
    fc.dictionary(fc.constantFrom(...answerKeys), fc.oneof(answerValue, fc.boolean(), fc.integer(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }))).map((o) => JSON.stringify(o)),
    fc.json(),
  ),
);

describe("fuzzing", () => {
  it(
    "PEM and the certificates and CRLs in it: only coded errors, each case bounded",
    async () => {
      const input = fc.oneof({ weight: 4, arbitrary: pemBlocks() }, { weight: 1, arbitrary: fc.string({ maxLength: 300, unit: "binary" }) }, { weight: 1, arbitrary: fc.constant(validPem) });
      const report = await fuzz("PEM", input, (text) => readCertificateFile(text, "fuzz.pem"));
      expect(report.outcomes.ok).toBeGreaterThan(0);
      expect(report.outcomes.PEM_BAD_DER).toBeGreaterThan(0);
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    "pkg_install.conf: the merge never throws, leaves the owned values readable and is idempotent",
    async () => {
      const report = await fuzz("pkg_install.conf", fc.oneof(confText, fc.string({ maxLength: 200, unit: "binary" })), mergeChecked);
      expect(report.outcomes).toEqual({ ok: report.runs });
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    "pkg_summary: only coded errors, each case bounded",
    async () => {
      const input = fc.tuple(fc.oneof({ weight: 4, arbitrary: summaryText }, { weight: 1, arbitrary: fc.string({ maxLength: 300, unit: "binary" }) }), fc.option(fc.constantFrom("digest", "pkgin", "nover")));
      const report = await fuzz("pkg_summary", input, ([text, requested]) => chooseTestPackage(parsePkgSummary(text, "pkg_summary"), requested ?? undefined));
      expect(report.outcomes.ok).toBeGreaterThan(0);
      expect(report.outcomes.REPO_SUMMARY_MALFORMED).toBeGreaterThan(0);
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    "answer files: only coded errors, each case bounded",
    async () => {
      const report = await fuzz("answer file", fc.oneof(answerText, fc.string({ maxLength: 200, unit: "binary" })), (text) => parseAnswers(text, "answers"));
      expect(report.outcomes.ok).toBeGreaterThan(0);
      expect(report.outcomes.ANSWERS_BAD_VALUE).toBeGreaterThan(0);
    },
    FUZZ_TIMEOUT_MS,
  );
});
