/**
 * Differential fuzzing of the inner package's tar (and the gzip around it) against the C
 * reference of pkg_install's calls (test/reference/pkg-verify.c, libarchive 3.6.2): each case
 * is a small package mutated by tar-mutations.ts, properly signed (+PKG_HASH, PKCS#7), so that
 * only the inner package can make the verdicts differ. A disagreement is minimised by
 * dropping operations and reported with the labels left. FUZZ_RUNS cases (300 by default,
 * `npm run fuzz` runs many more); FUZZ_SEED starts elsewhere.
 */
import { createPrivateKey } from "node:crypto";
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detachedSigner } from "../../src/keys/pkcs7-sign.js";
import { PKG_INSTALL_POLICY } from "../../src/pki/path.js";
import { readCertificateFile } from "../../src/pki/certificate-file.js";
import { verifyPackage } from "../../src/package/verify-package.js";
import { pkgHashFor, signedPackage } from "../fixtures/packages.js";
import { NOW, TestPki } from "../fixtures/pki.js";
import { REFERENCE, referenceVerify, type ReferenceVerdict } from "../reference/reference.js";
import { FUZZ_RUNS } from "./harness.js";
import { build, makeOps, modelOf, PKGNAME, random, type Op } from "./tar-mutations.js";

/** As many cases as the other fuzzers run inputs (each costs a run of the C reference, about 40 ms). */
const RUNS = FUZZ_RUNS;
const SEED = Number(process.env.FUZZ_SEED ?? 1);

/**
 * Disagreements left, reported but not failing: none. A pattern goes here, with why, when the
 * fuzzer finds one that is not modelled yet.
 */
const KNOWN: readonly RegExp[] = [];

let pki: TestPki;
let dir: string;
let anchor: string;
let sign: (content: Uint8Array) => string;
let trust: { anchors: ReturnType<typeof readCertificateFile>["certificates"]; chain: [] };

beforeAll(async () => {
  pki = await TestPki.create();
  dir = mkdtempSync(join(tmpdir(), "pkgtrust-tar-fuzz-"));
  const root = await pki.root("Tar Fuzz Root");
  const ca = await pki.intermediate(root, "Tar Fuzz CA");
  const signer = await pki.signer(ca, "Tar Fuzz Signer");
  anchor = pki.writePem("tar-fuzz-anchor.pem", root.certPem);
  sign = detachedSigner({ key: createPrivateKey(signer.keyPem), certificate: signer.der, chain: [ca.der] });
  trust = { anchors: readCertificateFile(readFileSync(anchor, "utf8"), anchor).certificates, chain: [] };
});
afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  await pki?.cleanup();
});

interface Judged {
  readonly agrees: boolean;
  /** A refusal of pkgtrust's own rule: +CONTENTS is not libarchive's first entry, or not whole. */
  readonly byDesign: boolean;
  /** pkgtrust's outcome: "trusted" or the refusal's code. */
  readonly ours: string;
  readonly reference: ReferenceVerdict;
}

async function judge(seed: number, ops: readonly Op[], gzip: boolean): Promise<Judged> {
  const inner = build(modelOf(seed, ops, gzip));
  const hash = pkgHashFor(inner, PKGNAME);
  const file = join(dir, "case.tgz");
  writeFileSync(file, signedPackage(hash, Buffer.from(sign(hash)), inner, `${PKGNAME}.tgz`));
  let reference: ReferenceVerdict;
  try {
    reference = referenceVerify({ file, anchor, time: NOW });
  } catch (error) {
    writeFileSync(join(tmpdir(), `tar-fuzz-crash-${seed}.tgz`), readFileSync(file));
    throw error;
  }
  let ours: string;
  let reason = "";
  try {
    const verdict = await verifyPackage(createReadStream(file, { highWaterMark: 16 * 1024 }), trust, { time: NOW, policy: PKG_INSTALL_POLICY });
    ours = verdict.trusted ? "trusted" : (verdict.code ?? "?");
    reason = verdict.reason;
  } catch (error) {
    ours = (error as { code?: string }).code ?? String(error);
    reason = (error as Error).message;
  }
  // pkg_install never compares @name with +PKG_HASH (nor does the reference): there pkgtrust alone refuses.
  const agrees = ours === "PKG_NAME_MISMATCH" ? reference.trusted : (ours === "trusted") === reference.trusted;
  // pkgtrust also requires +CONTENTS first and whole (pkg_add's read_meta_data needs it to install):
  // the reference, which checks only the signature's blocks, trusts a package without one.
  const first = /(?:^| )first=(.*)$/.exec(reference.line)?.[1];
  const byDesign = !agrees && ours === "PKG_INNER_FORMAT" && reference.trusted && (first !== "+CONTENTS" || /not whole|has no @name line/.test(reason));
  return { agrees: agrees || byDesign, byDesign, ours: byDesign || agrees ? ours : `${ours} (${reason})`, reference };
}

/** Drops operations one at a time while the case still disagrees the same way. */
async function minimise(seed: number, ops: readonly Op[], gzip: boolean, ours: string): Promise<Op[]> {
  let kept = [...ops];
  for (let i = kept.length - 1; i >= 0 && kept.length > 1; i--) {
    const fewer = kept.filter((_, j) => j !== i);
    const judged = await judge(seed, fewer, gzip);
    if (!judged.agrees && judged.ours.startsWith("trusted") === ours.startsWith("trusted")) kept = fewer;
  }
  return kept;
}

describe.skipIf(!REFERENCE)("differential fuzzing of the inner tar and gzip against pkg_install's libarchive calls", () => {
  it(
    "gives the reference's verdict on every mutated, properly signed package",
    async () => {
      const found = new Map<string, string>();
      const outcomes: Record<string, number> = {};
      const start = performance.now();
      for (let run = 0; run < RUNS; run++) {
        const seed = SEED * 1_000_003 + run;
        const r = random(seed);
        const gzip = r() < 0.5;
        const ops = makeOps(r, gzip);
        if (process.env.FUZZ_TRACE) process.stdout.write(`case ${seed}: ${ops.map((op) => op.label).join("; ")}\n`);
        const judged = await judge(seed, ops, gzip);
        const key = `${judged.ours}/${judged.reference.trusted ? "trusted" : judged.reference.class}`;
        const outcome = judged.byDesign ? "+CONTENTS not first or not whole (pkgtrust's rule)" : key;
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        if (judged.agrees) continue;
        const kept = await minimise(seed, ops, gzip, judged.ours);
        const final = await judge(seed, kept, gzip);
        const description = `${gzip ? "gzip" : "tar"}: ${kept.map((op) => op.label).join("; ")}`;
        if (!found.has(description)) found.set(description, `seed ${seed}: pkgtrust ${final.ours}, reference ${final.reference.line}`);
      }
      const seconds = (performance.now() - start) / 1000;
      process.stdout.write(`fuzz tar differential: ${RUNS} cases in ${seconds.toFixed(1)} s; ${JSON.stringify(outcomes)}\n`);
      for (const [description, detail] of found) process.stdout.write(`DISAGREEMENT ${description}\n    ${detail}\n`);
      expect([...found.keys()].filter((description) => !KNOWN.some((known) => known.test(description)))).toEqual([]);
    },
    Math.max(120_000, RUNS * 200),
  );
});
