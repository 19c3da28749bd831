import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PassThrough } from "node:stream";
import { signOutputSchema } from "../../src/cli/commands/repo.js";
import { run } from "../../src/cli/main.js";
import { fileURLToPath } from "node:url";
import { runCli } from "../fixtures/cli.js";
import { runProcess } from "../fixtures/process.js";
import { NOW } from "../fixtures/pki.js";
import { requireTool, requireTools } from "../fixtures/requirements.js";
import { expectPkgInstallAccepts, fileName, innerOf, readSummary, RepoKeys, summaryText, writePackages, writeSummaries, type PackageSpec } from "./repo-sign-fixture.js";

let keys: RepoKeys;
beforeAll(async () => {
  keys = await RepoKeys.create();
});
afterAll(() => keys?.cleanup());

const fresh = () => mkdtempSync(join(keys.pki.dir, "repo-"));
const sign = (dir: string, ...extra: string[]) => runCli([...keys.signArgs(dir), "--json", ...extra], { now: NOW });
const writeList = (names: readonly string[]) => {
  const list = join(mkdtempSync(join(keys.pki.dir, "list-")), "files.txt");
  writeFileSync(list, `${names.join("\n")}\n`);
  return list;
};
const snapshot = (dir: string) => Object.fromEntries(readdirSync(dir).map((name) => [name, createHash("sha256").update(readFileSync(join(dir, name))).digest("hex")]));

describe("repo sign", () => {
  it.runIf(requireTools(["bzip2", "xz"], "repo sign's pkg_summary.bz2 and .xz, bzip2 and xz inner packages"))("re-signs signed packages and signs unsigned ones of every PKG_COMPRESSION; every result verifies, inner bytes unchanged, summary sizes updated", async () => {
    const dir = fresh();
    const specs: PackageSpec[] = [
      { pkgname: "alpha-1.0" },
      { pkgname: "beta-2.1nb3", payload: 200_000 },
      { pkgname: "gamma-0.1", signed: false, payload: 70_000 },
      { pkgname: "bz-1.0", compression: "bzip2", payload: 300_000 },
      { pkgname: "bzu-1.0", compression: "bzip2", signed: false, payload: 150_000 },
      { pkgname: "xz-5.4", compression: "xz", payload: 300_000 },
      { pkgname: "xzu-5.4", compression: "xz", signed: false },
    ];
    const inners = await writePackages(dir, keys, specs);
    writeSummaries(dir, summaryText(dir, specs), { compressions: ["gz", "bz2", "xz"] });
    const before = readSummary(dir);
    const result = await sign(dir);
    expect(result.status, result.stdout).toBe(0);
    signOutputSchema.parse(result.json);
    expect(result.json.counts).toMatchObject({ packages: 7, resigned: 4, signed: 3, skipped: 0, failed: 0 });
    for (const spec of specs) {
      const file = join(dir, fileName(spec));
      await expectPkgInstallAccepts(file, keys.anchorPath);
      expect(innerOf(file).equals(inners.get(fileName(spec)) as Buffer)).toBe(true);
    }
    // Re-signed once more (--force): still accepted, the inner bytes still the same.
    const again = await sign(dir, "--force");
    expect(again.json.counts).toMatchObject({ resigned: 7, failed: 0 });
    for (const spec of specs) {
      const file = join(dir, fileName(spec));
      await expectPkgInstallAccepts(file, keys.anchorPath);
      expect(innerOf(file).equals(inners.get(fileName(spec)) as Buffer)).toBe(true);
    }
    for (const kind of ["gz", "bz2", "xz"] as const) {
      const after = readSummary(dir, kind);
      for (const spec of specs) expect(after).toContain(`FILE_NAME=${fileName(spec)}\nFILE_SIZE=${statSync(join(dir, fileName(spec))).size}\n`);
      // Every other line stays byte for byte.
      expect(after.replace(/^FILE_SIZE=.*$/gm, "")).toBe(before.replace(/^FILE_SIZE=.*$/gm, ""));
    }
  });

  it("is idempotent: a second run skips every package and changes no byte", async () => {
    const dir = fresh();
    const specs: PackageSpec[] = [{ pkgname: "one-1.0" }, { pkgname: "two-1.0", signed: false }];
    await writePackages(dir, keys, specs);
    writeSummaries(dir, summaryText(dir, specs));
    expect((await sign(dir)).status).toBe(0);
    const first = snapshot(dir);
    const again = await sign(dir);
    expect(again.json.counts).toMatchObject({ skipped: 2, resigned: 0, signed: 0 });
    expect(snapshot(dir)).toEqual(first);
  });

  it("refuses a package that no longer verifies, leaves it byte for byte, and re-signs the rest", async () => {
    const dir = fresh();
    const specs: PackageSpec[] = [{ pkgname: "good-1.0" }, { pkgname: "changed-1.0", payload: 100_000 }];
    await writePackages(dir, keys, specs);
    // A byte of the inner package changed on the server after signing.
    const changed = join(dir, "changed-1.0.tgz");
    const bytes = readFileSync(changed);
    const at = bytes.length - 5000;
    bytes[at] = (bytes[at] ?? 0) ^ 0xff;
    writeFileSync(changed, bytes);
    writeSummaries(dir, summaryText(dir, specs));
    const result = await sign(dir);
    expect(result.status).toBe(1);
    expect(result.json.failures).toEqual([expect.objectContaining({ file: "changed-1.0.tgz", code: "PKG_BLOCK_MISMATCH", exit: 1 })]);
    expect(readFileSync(changed).equals(bytes)).toBe(true);
    await expectPkgInstallAccepts(join(dir, "good-1.0.tgz"), keys.anchorPath);
    // Its summary entry keeps the old size: only changed packages are rewritten.
    expect(readSummary(dir)).toContain(`FILE_NAME=changed-1.0.tgz\nFILE_SIZE=${bytes.length}\n`);
  });

  it("refuses a package signed under another root, and one whose @name is not its file name", async () => {
    const dir = fresh();
    const stranger = await RepoKeys.create();
    try {
      await writePackages(dir, stranger, [{ pkgname: "foreign-1.0" }]);
    } finally {
      await stranger.cleanup();
    }
    await writePackages(dir, keys, [{ pkgname: "real-1.0", file: "swapped-1.0.tgz" }, { pkgname: "plain-1.0", file: "other-1.0.tgz", signed: false }]);
    const before = snapshot(dir);
    const result = await sign(dir);
    expect(result.status).toBe(1);
    const codes = Object.fromEntries(result.json.failures.map((f: { file: string; code: string }) => [f.file, f.code]));
    expect(codes).toEqual({ "foreign-1.0.tgz": "CERT_NO_ISSUER", "swapped-1.0.tgz": "REPO_PKG_FILE_NAME", "other-1.0.tgz": "REPO_PKG_FILE_NAME" });
    expect(snapshot(dir)).toEqual(before);
  });

  it("reports an unreadable package with its own code and lists what is not a package", async () => {
    const dir = fresh();
    await writePackages(dir, keys, [{ pkgname: "fine-1.0" }]);
    writeFileSync(join(dir, "garbage-1.0.tgz"), "not a package at all\n");
    writeFileSync(join(dir, "README"), "hello\n");
    const result = await sign(dir);
    expect(result.status).toBe(3);
    expect(result.json.failures).toEqual([expect.objectContaining({ file: "garbage-1.0.tgz", code: "PKG_INNER_FORMAT", exit: 3 })]);
    expect(result.json.nonPackages).toEqual([{ file: "README", reason: "not a package file name" }]);
    expect(result.json.counts).toMatchObject({ resigned: 1 });
  });

  it.runIf(requireTool("xz", "repo sign's pkg_summary.xz"))("updates FILE_CKSUM where entries have one", async () => {
    const dir = fresh();
    const specs: PackageSpec[] = [{ pkgname: "sum-1.0" }, { pkgname: "sum2-1.0", signed: false }];
    await writePackages(dir, keys, specs);
    writeSummaries(dir, summaryText(dir, specs, { cksum: true }), { compressions: ["xz"] });
    expect((await sign(dir)).status).toBe(0);
    const summary = readSummary(dir, "xz");
    for (const spec of specs) {
      const digest = createHash("sha512").update(readFileSync(join(dir, fileName(spec)))).digest("hex");
      expect(summary).toContain(`FILE_CKSUM=sha512 ${digest}\n`);
    }
  });

  it("re-signs what is already signed by this certificate with --force", async () => {
    const dir = fresh();
    await writePackages(dir, keys, [{ pkgname: "again-1.0" }]);
    await sign(dir);
    const first = readFileSync(join(dir, "again-1.0.tgz"));
    const forced = await sign(dir, "--force");
    expect(forced.json.counts).toMatchObject({ resigned: 1, skipped: 0 });
    expect(readFileSync(join(dir, "again-1.0.tgz")).equals(first)).toBe(false);
    await expectPkgInstallAccepts(join(dir, "again-1.0.tgz"), keys.anchorPath);
  });

  it("changes nothing with --dry-run and says what it would do", async () => {
    const dir = fresh();
    const specs: PackageSpec[] = [{ pkgname: "dry-1.0" }, { pkgname: "dry2-1.0", signed: false }];
    await writePackages(dir, keys, specs);
    writeSummaries(dir, summaryText(dir, specs));
    const before = snapshot(dir);
    const result = await sign(dir, "--dry-run");
    expect(result.status).toBe(0);
    expect(result.json).toMatchObject({ dryRun: true, counts: { resigned: 1, signed: 1 }, summaries: [{ file: "pkg_summary.gz", updated: 2, written: false }] });
    expect(snapshot(dir)).toEqual(before);
  });

  it("says when pkg_keys.pem lacks the signing certificate, with the bundle build command that fixes it", async () => {
    const dir = fresh();
    await writePackages(dir, keys, [{ pkgname: "keyed-1.0" }]);
    writeFileSync(join(dir, "pkg_keys.pem"), keys.ca.certPem + keys.old.certPem);
    const result = await sign(dir);
    expect(result.json.warnings.join("\n")).toMatch(/pkg_keys\.pem does not hold CN=Build Next: .*'pkgtrust bundle build --anchor /);
    expect(result.json.nonPackages).toEqual([{ file: "pkg_keys.pem", reason: "the key bundle" }]);
    writeFileSync(join(dir, "pkg_keys.pem"), keys.ca.certPem + keys.next.certPem);
    expect((await sign(dir)).json.warnings).toEqual([]);
  });
});

describe("repo sign with an old signer that has expired or is about to", () => {
  const DAY = 86_400_000;
  const before = (days: number) => new Date(NOW.getTime() - days * DAY);

  it("re-signs the packages of an old signer that expired within --expired-grace-days, judging its signature as of its expiry", async () => {
    const dir = fresh();
    const lapsed = await keys.pki.signer(keys.ca, "Build Lapsed", { notAfter: before(10) });
    const specs: PackageSpec[] = [{ pkgname: "lapsed-1.0", signer: lapsed }, { pkgname: "lapsed-big-1.0", signer: lapsed, payload: 300_000 }];
    const inners = await writePackages(dir, keys, specs);
    writeSummaries(dir, summaryText(dir, specs));
    const result = await sign(dir);
    expect(result.status, result.stdout).toBe(0);
    expect(result.json.counts).toMatchObject({ resigned: 2, failed: 0 });
    // Packages finish in any order: compare the warnings sorted, as the specs are.
    expect([...result.json.warnings].sort()).toEqual(specs.map((spec) => expect.stringMatching(new RegExp(`^${fileName(spec)}: its old signer CN=Build Lapsed expired on `))));
    for (const spec of specs) {
      const file = join(dir, fileName(spec));
      await expectPkgInstallAccepts(file, keys.anchorPath);
      expect(innerOf(file).equals(inners.get(fileName(spec)) as Buffer)).toBe(true);
    }
  });

  it("keeps every other check for an expired old signer: a changed block, an old signer expired beyond the grace, a path expired now", async () => {
    const dir = fresh();
    const lapsed = await keys.pki.signer(keys.ca, "Build Lapsed", { notAfter: before(10) });
    const ancient = await keys.pki.signer(keys.ca, "Build Ancient", { notAfter: before(200) });
    // An intermediate CA that expired too: only the old signer's own expiry is relaxed.
    const oldCa = await keys.pki.intermediate(keys.root, "Repo Old CA", { notAfter: before(5) });
    const underOldCa = await keys.pki.signer(oldCa, "Build Under Old CA", { notAfter: before(10) });
    await writePackages(dir, keys, [
      { pkgname: "tampered-1.0", signer: lapsed, payload: 100_000 },
      { pkgname: "ancient-1.0", signer: ancient },
      { pkgname: "oldca-1.0", signer: underOldCa, chain: oldCa },
    ]);
    const tampered = join(dir, "tampered-1.0.tgz");
    const bytes = readFileSync(tampered);
    const at = bytes.length - 5000;
    bytes[at] = (bytes[at] ?? 0) ^ 0xff;
    writeFileSync(tampered, bytes);
    const untouched = snapshot(dir);
    const result = await sign(dir);
    expect(result.status).toBe(1);
    const codes = Object.fromEntries(result.json.failures.map((f: { file: string; code: string }) => [f.file, f.code]));
    expect(codes).toEqual({ "tampered-1.0.tgz": "PKG_BLOCK_MISMATCH", "ancient-1.0.tgz": "CERT_EXPIRED", "oldca-1.0.tgz": "CERT_EXPIRED" });
    expect(result.json.failures.find((f: { file: string }) => f.file === "ancient-1.0.tgz").message).toMatch(/--expired-grace-days 90/);
    expect(result.json.failures.find((f: { file: string }) => f.file === "oldca-1.0.tgz").message).toMatch(/CN=Repo Old CA on the old signer's path/);
    expect(snapshot(dir)).toEqual(untouched);
    // A longer grace, chosen knowingly, takes the ancient one too.
    const longer = await sign(dir, "--expired-grace-days", "365", "--files", writeList(["ancient-1.0.tgz"]));
    expect(longer.json.counts).toMatchObject({ resigned: 1, failed: 0 });
    await expectPkgInstallAccepts(join(dir, "ancient-1.0.tgz"), keys.anchorPath);
  });

  it("re-signs the packages of an old signer that expires tomorrow like any other", async () => {
    const dir = fresh();
    const soon = await keys.pki.signer(keys.ca, "Build Soon", { notAfter: new Date(NOW.getTime() + DAY) });
    await writePackages(dir, keys, [{ pkgname: "soon-1.0", signer: soon }]);
    const result = await sign(dir);
    expect(result.json).toMatchObject({ exit: 0, counts: { resigned: 1 }, warnings: [] });
    await expectPkgInstallAccepts(join(dir, "soon-1.0.tgz"), keys.anchorPath);
  });
});

describe("repo sign on a terminal", () => {
  it("draws a progress line on standard error that fits the terminal, and prints a text report", async () => {
    const dir = fresh();
    await writePackages(dir, keys, Array.from({ length: 5 }, (_, i) => ({ pkgname: `tty${i}-1.0`, payload: 300_000 })));
    const stdout = new PassThrough();
    const stderr = Object.assign(new PassThrough(), { columns: 50 });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    stdout.on("data", (b: Buffer) => out.push(b));
    stderr.on("data", (b: Buffer) => err.push(b));
    const status = await run({ argv: keys.signArgs(dir), stdout, stderr, env: {}, cwd: dir, isTTY: true, now: NOW, signal: new AbortController().signal });
    expect(status).toBe(0);
    const frames = Buffer.concat(err).toString().split(/\r|\n/).map((f) => f.replace("\x1b[K", "")).filter(Boolean);
    expect(frames.length).toBeGreaterThan(0);
    for (const frame of frames) expect(frame.length).toBeLessThan(50);
    expect(frames.at(-1)).toMatch(/5\/5 pkgs/);
    expect(Buffer.concat(out).toString()).toMatch(/: 5 package\(s\): 5 re-signed, 0 signed, 0 skipped, 0 failed;/);
  });
});

describe("repo sign refuses before anything is written", () => {
  let dir: string;
  let before: Record<string, string>;
  beforeAll(async () => {
    dir = fresh();
    await writePackages(dir, keys, [{ pkgname: "kept-1.0" }, { pkgname: "kept2-1.0", signed: false }]);
    before = snapshot(dir);
  });
  const refused = async (args: string[], code: string, status: number, now = NOW) => {
    const result = await runCli(["repo", "sign", dir, "--anchor", keys.anchorPath, "--json", ...args], { now });
    expect(result.json?.error?.code, result.stdout).toBe(code);
    expect(result.status).toBe(status);
    expect(snapshot(dir)).toEqual(before);
  };

  it("a key that is not the certificate's", () => refused(["--key", keys.old.keyPath, "--cert", keys.next.certPath, "--chain", keys.chainPath], "KEY_CERT_MISMATCH", 3));
  it("a CA certificate as signer", () => refused(["--key", keys.ca.keyPath, "--cert", keys.ca.certPath], "SIGNER_IS_CA", 3));
  it("a certificate without pkg_install's extended key usage", async () => {
    const server = await keys.pki.signer(keys.ca, "Server", { extendedKeyUsage: ["serverAuth"] });
    await refused(["--key", server.keyPath, "--cert", server.certPath, "--chain", keys.chainPath], "SIGNER_WRONG_EKU", 3);
  });
  it("an expired certificate", async () => {
    const expired = await keys.pki.signer(keys.ca, "Expired", { notAfter: new Date("2026-01-01T00:00:00Z") });
    await refused(["--key", expired.keyPath, "--cert", expired.certPath, "--chain", keys.chainPath], "REPO_SIGNER_EXPIRED", 3);
  });
  it("a certificate that expires within --min-days", async () => {
    const soon = await keys.pki.signer(keys.ca, "Soon", { notAfter: new Date("2026-06-10T00:00:00Z") });
    await refused(["--key", soon.keyPath, "--cert", soon.certPath, "--chain", keys.chainPath], "REPO_SIGNER_EXPIRES_SOON", 3);
    const allowed = await runCli(["repo", "sign", dir, "--anchor", keys.anchorPath, "--key", soon.keyPath, "--cert", soon.certPath, "--chain", keys.chainPath, "--min-days", "3", "--dry-run", "--json"], { now: NOW });
    expect(allowed.json).toMatchObject({ dryRun: true, exit: 0, expires: "2026-06-10T00:00:00.000Z" });
  });
  it("a signer that does not chain to the anchor through --chain", () => refused(["--key", keys.next.keyPath, "--cert", keys.next.certPath], "REPO_SIGNER_NOT_CHAINED", 3));
  it("a --chain whose first same-key CA lacks keyCertSign: OpenSSL 3.0 takes it and fails, with no second try", async () => {
    const decoy = await keys.pki.intermediate(keys.root, "Repo Dev CA", { reuseKeyOf: keys.ca, keyUsage: ["digitalSignature"] });
    const chain = keys.pki.writePem("decoy-first-chain.pem", decoy.certPem, keys.ca.certPem);
    await refused(["--key", keys.next.keyPath, "--cert", keys.next.certPath, "--chain", chain], "REPO_SIGNER_NOT_CHAINED", 3);
  });
  it("bad option values", () => refused(["--key", keys.next.keyPath, "--cert", keys.next.certPath, "--jobs", "0"], "USAGE_BAD_VALUE", 2));
});

describe("repo sign on job threads (the built CLI, as admins run it)", () => {
  const BIN = fileURLToPath(new URL("../../bin/pkgtrust.mjs", import.meta.url));
  const signOnThreads = async (dir: string, ...extra: string[]) => {
    const result = await runProcess(process.execPath, [BIN, ...keys.signArgs(dir), "--json", "--jobs", "2", ...extra], { env: { ...process.env, PKGTRUST_UNBUNDLED: "1" }, timeoutMs: 120_000 });
    return { ...result, json: JSON.parse(result.stdout) };
  };

  it("signs, re-signs and refuses exactly as in process, failures keeping their codes and exit statuses", async () => {
    const dir = fresh();
    const specs: PackageSpec[] = [{ pkgname: "t1-1.0" }, { pkgname: "t2-1.0", payload: 300_000 }, { pkgname: "t3-1.0", signed: false, payload: 70_000 }, { pkgname: "t4-1.0" }, { pkgname: "t5-1.0", payload: 150_000 }];
    const inners = await writePackages(dir, keys, specs);
    writeSummaries(dir, summaryText(dir, specs));
    writeFileSync(join(dir, "garbage-1.0.tgz"), "not a package at all\n");
    const tampered = join(dir, fileName({ pkgname: "t2-1.0" }));
    const bytes = readFileSync(tampered);
    bytes[bytes.length - 5000] = (bytes[bytes.length - 5000] ?? 0) ^ 0xff;
    writeFileSync(tampered, bytes);
    const result = await signOnThreads(dir);
    expect(result.status, result.stderr).toBe(3);
    expect(result.json.counts).toMatchObject({ packages: 6, resigned: 3, signed: 1, failed: 2 });
    const failures = Object.fromEntries(result.json.failures.map((f: { file: string; code: string; exit: number }) => [f.file, [f.code, f.exit]]));
    expect(failures).toEqual({ "garbage-1.0.tgz": ["PKG_INNER_FORMAT", 3], "t2-1.0.tgz": ["PKG_BLOCK_MISMATCH", 1] });
    expect(readFileSync(tampered).equals(bytes)).toBe(true);
    const summary = readSummary(dir);
    for (const spec of specs.filter((s) => s.pkgname !== "t2-1.0")) {
      const file = join(dir, fileName(spec));
      await expectPkgInstallAccepts(file, keys.anchorPath, new Date());
      expect(innerOf(file).equals(inners.get(fileName(spec)) as Buffer)).toBe(true);
      expect(summary).toContain(`FILE_SIZE=${statSync(file).size}`);
    }
    // Once more: every package already signed by this certificate is skipped.
    expect((await signOnThreads(dir)).json.counts).toMatchObject({ skipped: 4, resigned: 0, signed: 0, failed: 2 });
  });
});
