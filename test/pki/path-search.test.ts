/**
 * The pruned, memoised path search must answer exactly as the search over every path did:
 * same trusted path, or the same best failed attempt (code, message, path). The reference
 * below enumerates every candidate path in OpenSSL's order and picks the answer by the same
 * rules, without any bound. Random small bundles with cycles, shared names and keys, no key
 * identifiers, expired certificates, path length limits, revocations and untrusted roots.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyIdentifiersMatch, parseCertificate, signedBy, type Certificate } from "../../src/pki/certificate.js";
import { readCertificateFile } from "../../src/pki/certificate-file.js";
import { pathProblem, within, type PathContext } from "../../src/pki/path-checks.js";
import { findTrustedPath, MAX_PATH_LENGTH, PathSearch, STRICT_POLICY } from "../../src/pki/path.js";
import { issuerLoops, NOW, TestPki, type Issued } from "../fixtures/pki.js";

interface Outcome {
  readonly ok: boolean;
  readonly code?: string;
  readonly message?: string;
  readonly path: readonly string[];
}

/** Every path from the leaf in depth-first order: a success, or a failed attempt with its rank. */
function* attempts(path: Certificate[], pool: readonly Certificate[], trusted: ReadonlySet<string>, context: PathContext): Generator<{ rank: number; outcome: Outcome }> {
  const top = path[path.length - 1] as Certificate;
  const prints = (p: readonly Certificate[]) => p.map((c) => c.sha256);
  const failed = (rank: number, code: string, at: readonly Certificate[] = path) => ({ rank, outcome: { ok: false, code, path: prints(at) } });
  if (top.selfSigned) {
    if (!trusted.has(top.sha256)) return yield failed(2, "CERT_UNTRUSTED_ROOT");
    const problem = pathProblem(path, context);
    return yield problem ? { rank: 3, outcome: { ok: false, code: problem.code, message: problem.message, path: prints(path) } } : { rank: 4, outcome: { ok: true, path: prints(path) } };
  }
  const candidates = pool
    .filter((c) => c.subjectName === top.issuerName && !path.includes(c) && keyIdentifiersMatch(top, c))
    .sort((a, b) => Number(within(b, context.time)) - Number(within(a, context.time)));
  if (candidates.length === 0) return yield failed(0, "CERT_NO_ISSUER");
  if (path.length >= MAX_PATH_LENGTH) return yield failed(0, "CERT_PATH_TOO_LONG");
  for (const issuer of candidates) {
    if (!signedBy(top, issuer)) yield failed(1, "CERT_BAD_SIGNATURE", [...path, issuer]);
    else yield* attempts([...path, issuer], pool, trusted, context);
  }
}

const withoutMessage = ({ message: _message, ...rest }: Outcome): Outcome => rest;

function reference(leaf: Certificate, untrusted: readonly Certificate[], anchors: readonly Certificate[], context: PathContext): Outcome {
  const seen = new Set<string>();
  const pool = [...anchors, ...untrusted].filter((c) => !seen.has(c.sha256) && (seen.add(c.sha256), true));
  let best: { rank: number; outcome: Outcome } | undefined;
  for (const attempt of attempts([leaf], pool, new Set(anchors.map((a) => a.sha256)), context)) {
    if (attempt.outcome.ok) return attempt.outcome;
    if (!best || attempt.rank > best.rank || (attempt.rank === best.rank && attempt.outcome.path.length > best.outcome.path.length)) best = attempt;
  }
  return (best as { outcome: Outcome }).outcome;
}

const NAMES = ["A", "B", "C", "Root"];
const KEYS = 2;

interface Spec {
  readonly subject: number;
  readonly key: number;
  /** The issuer's name and the key that signs; equal to subject and key for a self-signed root. */
  readonly issuer: number;
  readonly signer: number;
  readonly pathLength?: number;
  readonly expired: boolean;
  readonly revoked: boolean;
}

const spec = fc.record({
  subject: fc.integer({ min: 0, max: NAMES.length - 1 }),
  key: fc.integer({ min: 0, max: KEYS - 1 }),
  issuer: fc.integer({ min: 0, max: NAMES.length - 1 }),
  signer: fc.integer({ min: 0, max: KEYS - 1 }),
  pathLength: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
  expired: fc.boolean(),
  revoked: fc.boolean(),
});

let pki: TestPki;
let keys: Issued[];
const issuers = new Map<string, Issued>();
const made = new Map<string, Certificate>();

/** A certificate per spec, made once: named NAMES[subject] with key `key`, issued as NAMES[issuer] and signed by key `signer`. */
async function certificate(s: Spec, serial: number): Promise<Certificate> {
  const id = JSON.stringify({ ...s, revoked: false, serial });
  const cached = made.get(id);
  if (cached) return cached;
  const issuerId = `${s.issuer}/${s.signer}`;
  let issuer = issuers.get(issuerId);
  if (!issuer) issuers.set(issuerId, (issuer = await pki.root(NAMES[s.issuer] as string, { reuseKeyOf: keys[s.signer], noKeyIdentifiers: true })));
  const options = {
    reuseKeyOf: keys[s.key],
    noKeyIdentifiers: true,
    serial: (0x1000 + serial).toString(16),
    ...(s.pathLength === undefined ? {} : { pathLength: s.pathLength }),
    ...(s.expired ? { notAfter: new Date(NOW.getTime() - 86_400_000) } : {}),
  };
  const self = s.subject === s.issuer && s.key === s.signer;
  const issued = self ? await pki.root(NAMES[s.subject] as string, options) : await pki.intermediate(issuer, NAMES[s.subject] as string, options);
  const parsed = parseCertificate(issued.der, `spec ${id}`);
  made.set(id, parsed);
  return parsed;
}

beforeAll(async () => {
  pki = await TestPki.create();
  keys = [];
  for (let i = 0; i < KEYS; i++) keys.push(await pki.root(`key ${i}`));
});
afterAll(() => pki.cleanup());

describe("the pruned path search", () => {
  it("gives the answer of the search over every path, on random bundles with cycles", async () => {
    const trustedRoot = parseCertificate((await pki.root("Root", { reuseKeyOf: keys[0], noKeyIdentifiers: true })).der, "anchor");
    await fc.assert(
      fc.asyncProperty(fc.array(spec, { minLength: 1, maxLength: 12 }), async (specs) => {
        const bundle = await Promise.all(specs.map((s, i) => certificate(s, i)));
        const revokedPrints = new Set(bundle.filter((_, i) => specs[i]?.revoked).map((c) => c.sha256));
        const context: PathContext = { time: NOW, policy: STRICT_POLICY, purpose: "smime-sign", isRevoked: (c) => revokedPrints.has(c.sha256) };
        for (const leaf of bundle) expectSameAnswer(leaf, bundle, [trustedRoot], context);
      }),
      { numRuns: Number(process.env.PATH_SEARCH_RUNS ?? 60) },
    );
  }, 300_000);

  it("gives the answer of the search over every path for two groups of CAs issuing each other", async () => {
    const anchor = parseCertificate((await pki.root("pkgsrc CA")).der, "anchor");
    // 6 + 5: a "loop A" leaf ends at CERT_PATH_TOO_LONG, a "loop B" leaf runs out of issuers (CERT_NO_ISSUER).
    const bundle = readCertificateFile((await issuerLoops(pki, 6, 5)).pems.join(""), "loops").certificates;
    const context: PathContext = { time: NOW, policy: STRICT_POLICY, purpose: "smime-sign" };
    expect(expectSameAnswer(bundle[0] as Certificate, bundle, [anchor], context).code).toBe("CERT_PATH_TOO_LONG");
    expect(expectSameAnswer(bundle[1] as Certificate, bundle, [anchor], context).code).toBe("CERT_NO_ISSUER");
  }, 120_000);

  it("still finds the trusted path behind an equally long one that fails at the anchor", async () => {
    const root = await pki.root("Root CA");
    const revokedCa = await pki.intermediate(root, "Repo CA", { noKeyIdentifiers: true });
    const ca = await pki.intermediate(root, "Repo CA", { noKeyIdentifiers: true, reuseKeyOf: revokedCa });
    const leaf = await pki.signer(ca, "Build", { noKeyIdentifiers: true });
    const [anchor, first, second, signer] = [root, revokedCa, ca, leaf].map((c) => parseCertificate(c.der, c.name)) as Certificate[];
    const context: PathContext = { time: NOW, policy: STRICT_POLICY, purpose: "smime-sign", isRevoked: (c) => c === first };
    expect(expectSameAnswer(signer as Certificate, [first as Certificate, second as Certificate], [anchor as Certificate], context).ok).toBe(true);
  });

  it("keeps a path length limit exact when leaves reach a CA with different intermediates below it", async () => {
    const plain = { noKeyIdentifiers: true };
    const root = await pki.root("Root CA");
    const limited = await pki.intermediate(root, "M", { ...plain, pathLength: 0 });
    const middle = await pki.intermediate(limited, "N", plain);
    const leaf1 = await pki.signer(middle, "leaf 1", plain); // leaf 1 <- N <- M(pathLength 0) <- root: too long for M
    const keyY = await pki.root("key Y", plain);
    // "M" issued by "M": not counted below. Its key identifiers (AKID: M's key, SKID: key Y) keep
    // it from being self-signed as OpenSSL 3.0 sees it (EXFLAG_SS: self-issued and AKID matching itself).
    const selfIssued = await pki.intermediate(limited, "M", { reuseKeyOf: keyY });
    const revokedCa = await pki.intermediate(root, "W", plain);
    const decoy = await pki.intermediate(revokedCa, "M", { ...plain, reuseKeyOf: keyY });
    const leaf2 = await pki.signer(selfIssued, "leaf 2", plain); // first tries decoy <- W (revoked), then M <- M <- root: valid
    const [anchor, ...bundle] = [root, leaf1, decoy, selfIssued, limited, middle, revokedCa, leaf2].map((c) => parseCertificate(c.der, c.name)) as Certificate[];
    const context: PathContext = { time: NOW, policy: STRICT_POLICY, purpose: "smime-sign", isRevoked: (c) => c.sha256 === bundle[5]?.sha256 };
    // One PathSearch for both leaves, as verifyBundle does: the bounds memoised for leaf 1 must not decide for leaf 2.
    const search = PathSearch.over({ untrusted: bundle, trusted: [anchor as Certificate], ...context });
    expect(search.find(bundle[0] as Certificate)).toMatchObject({ ok: false, error: { code: "CERT_PATH_LENGTH" } });
    const second = search.find(bundle[6] as Certificate);
    expect(second.ok).toBe(true);
    expect(second.ok && second.path.map((c) => c.subject)).toEqual(["CN=leaf 2", "CN=M", "CN=M", "CN=Root CA"]);
    expectSameAnswer(bundle[6] as Certificate, bundle, [anchor as Certificate], context);
  });
});

function expectSameAnswer(leaf: Certificate, bundle: readonly Certificate[], anchors: readonly Certificate[], context: PathContext): Outcome {
  const ours = findTrustedPath({ leaf, untrusted: bundle, trusted: anchors, ...context });
  const outcome: Outcome = ours.ok ? { ok: true, path: ours.path.map((c) => c.sha256) } : { ok: false, code: ours.error.code, path: (ours.path ?? []).map((c) => c.sha256) };
  const expected = reference(leaf, bundle, anchors, context);
  expect(outcome).toEqual(withoutMessage(expected));
  if (!ours.ok && expected.message) expect(ours.error.message).toBe(expected.message);
  return outcome;
}
