/**
 * Hostile repository, names in another encoding (issue 11, item 7): a look-alike of the anchor
 * "pkgsrc CA" whose name is the same text in a UTF8String (the anchor's is a PrintableString).
 * OpenSSL matches such names (X509_NAME_cmp on the canonical encoding), so the certificates it
 * issued claim the base-system root: setup must refuse the repository (BOOT_FOREIGN_ROOT), not
 * drop them as unrelated. Compared as raw DER, they slipped past; and without key identifiers
 * (the anchor then is a candidate issuer whose key fails) they slipped past in any encoding.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ANCHOR } from "../../src/config/layout.js";
import { EXIT } from "../../src/errors.js";
import * as x509 from "../../src/pki/x509.js";
import { runCli } from "../fixtures/cli.js";
import { NOW, TestPki, type Issued } from "../fixtures/pki.js";
import { startRepoServer, type RepoServer } from "../fixtures/repo-server.js";
import { snapshotTree, standardPki, writeRepository } from "../fixtures/repository.js";
import { opensslVerify } from "../pki/openssl.js";
import { requireTool } from "../fixtures/requirements.js";

let pki: TestPki;
let trust: Awaited<ReturnType<typeof standardPki>>;
let dir: string;
let server: RepoServer;
/** The look-alike root, named "pkgsrc CA" in a PrintableString like the anchor, and what it issued naming it in a UTF8String. */
let lookalike: Issued;
let rogueCa: Issued;
let rogueBuild: Issued;
/** Issued by the look-alike without key identifiers: the anchor is a candidate issuer whose signature check fails. */
let plainRogueCa: Issued;

beforeAll(async () => {
  pki = await TestPki.create();
  trust = await standardPki(pki);
  lookalike = await pki.root("pkgsrc CA");
  rogueCa = await pki.intermediate(lookalike, "pkgsrc developer CA", { issuerName: new x509.Name([{ CN: [{ utf8String: "pkgsrc CA" }] }]) });
  rogueBuild = await pki.signer(rogueCa, "build machine");
  plainRogueCa = await pki.intermediate(lookalike, "pkgsrc developer CA", { issuerName: new x509.Name([{ CN: [{ utf8String: "PKGSRC ca" }] }]), noKeyIdentifiers: true });
  dir = mkdtempSync(path.join(tmpdir(), "pkgtrust-hostile-names-"));
  const good = trust.ca.certPem + trust.build.certPem;
  const packages = [{ pkgname: "digest-20220214", signer: trust.build, chain: [trust.ca] }];
  await writeRepository(path.join(dir, "www", "mixed"), { bundle: good + rogueCa.certPem, packages });
  await writeRepository(path.join(dir, "www", "plain"), { bundle: good + plainRogueCa.certPem, packages });
  await writeRepository(path.join(dir, "www", "rogue"), { bundle: rogueCa.certPem + rogueBuild.certPem, packages: [{ pkgname: "digest-20220214", signer: rogueBuild, chain: [rogueCa] }] });
  writeFileSync(path.join(dir, "anchor.pem"), trust.root.certPem);
  writeFileSync(path.join(dir, "with-root.pem"), good + lookalike.certPem + rogueCa.certPem);
  server = await startRepoServer({ root: path.join(dir, "www") });
});
afterAll(async () => {
  await server?.close();
  await pki?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function newTarget(): string {
  const target = mkdtempSync(path.join(dir, "target-"));
  mkdirSync(path.join(target, path.dirname(DEFAULT_ANCHOR)), { recursive: true });
  writeFileSync(path.join(target, DEFAULT_ANCHOR), trust.root.certPem);
  return target;
}

describe("a look-alike root named in another string type", () => {
  it.runIf(requireTool("openssl", "openssl verify on the look-alike root"))("is the issuer openssl finds for what it issued: the names match", () => {
    expect(opensslVerify({ anchor: lookalike.certPath, cert: rogueCa.certPath, time: NOW, purpose: "any" }).ok).toBe(true);
  });

  it.each([
    ["next to the good keys", "mixed/All/"],
    ["alone", "rogue/All/"],
    ["without key identifiers", "plain/All/"],
  ])("makes setup refuse the repository (BOOT_FOREIGN_ROOT) when its CA is in the bundle, %s, changing nothing", async (_label, repo) => {
    const target = newTarget();
    const before = snapshotTree(target);
    const result = await runCli(["setup", "--repo", new URL(repo, server.httpUrl).href, "--root", target, "--non-interactive", "--json"], { now: NOW });
    expect(result.status).toBe(EXIT.UNTRUSTED);
    expect(result.json.failure).toMatchObject({ code: "BOOT_FOREIGN_ROOT", unchanged: true });
    expect(snapshotTree(target)).toEqual(before);
  });

  it("is the root verify-bundle names for its CA (CERT_UNTRUSTED_ROOT), and bundle lint refuses the bundle", async () => {
    const verified = await runCli(["verify-bundle", "with-root.pem", "--anchor", "anchor.pem", "--json"], { cwd: dir, now: NOW });
    expect(verified.status).toBe(EXIT.UNTRUSTED);
    expect(verified.json.certificates.map((c: { code?: string; status: string }) => c.code ?? c.status)).toEqual(["valid", "valid", "CERT_UNTRUSTED_ROOT", "CERT_UNTRUSTED_ROOT"]);
    const linted = await runCli(["bundle", "lint", "with-root.pem", "--anchor", "anchor.pem", "--json"], { cwd: dir, now: NOW });
    expect(linted.status).toBe(EXIT.UNTRUSTED);
    expect(linted.json.errors.map((e: { code: string }) => e.code)).toContain("BOOT_FOREIGN_ROOT");
  });
});
