import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outputSchema } from "../../src/cli/commands/verify-package.js";
import { EXIT } from "../../src/errors.js";
import { buildPackageCases, type PackageCases } from "../fixtures/cases.js";
import { NOW } from "../fixtures/pki.js";
import { runCli } from "../fixtures/cli.js";
import { REFERENCE, referenceVerify } from "../reference/reference.js";

let fixtures: PackageCases;
beforeAll(async () => {
  fixtures = await buildPackageCases();
});
afterAll(async () => fixtures?.cleanup());

const AT = ["--at", NOW.toISOString()];

describe("pkgtrust verify-package", () => {
  it("says trusted, with the path, and exits 0", async () => {
    const c = fixtures.byName("two intermediates");
    const result = await runCli(["verify-package", c.file, "--anchor", c.anchor, ...AT]);
    expect(result.status).toBe(EXIT.OK);
    expect(result.stdout).toMatch(/^demo-1\.0: trusted\n {2}signer {3}CN=Deep Signer\n {2}path {5}CN=Deep Signer <- CN=Lower CA <- CN=Upper CA <- CN=Test Root\n$/);
  });

  it("prints JSON that matches its schema", async () => {
    const c = fixtures.byName("signed attributes present");
    const result = await runCli(["verify-package", c.file, "--anchor", c.anchor, "--json", ...AT]);
    expect(result.status).toBe(EXIT.OK);
    const json = outputSchema.parse(JSON.parse(result.stdout));
    expect(json).toMatchObject({ trusted: true, pkgname: "demo-1.0", code: null, signedAttributes: true, hash: { blockSize: 65536 } });
  });

  it("exits 1 with the code for a negative verdict", async () => {
    const c = fixtures.byName("tampered block");
    const result = await runCli(["verify-package", c.file, "--anchor", c.anchor, ...AT]);
    expect(result.status).toBe(EXIT.UNTRUSTED);
    expect(result.stdout).toMatch(/NOT trusted: .*\[PKG_BLOCK_MISMATCH\]/);
  });

  it.skipIf(!REFERENCE)("verifies without a CERTIFICATE_CHAIN that is missing, empty or damaged, warning, as pkg_install does", async () => {
    const empty = join(fixtures.dir, "empty-chain.pem");
    const damaged = join(fixtures.dir, "damaged-chain.pem");
    writeFileSync(empty, "");
    writeFileSync(damaged, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    for (const name of ["signed by an ECDSA P-256 signer", "intermediate only in the chain file"]) {
      const c = fixtures.byName(name);
      for (const chain of [join(fixtures.dir, "no-such-chain.pem"), empty, damaged]) {
        const config = join(fixtures.dir, "chain.conf");
        writeFileSync(config, `VERIFIED_INSTALLATION=always\nCERTIFICATE_ANCHOR_PKGS=${c.anchor}\nCERTIFICATE_CHAIN=${chain}\n`);
        const result = await runCli(["verify-package", c.file, "--config", config, "--json", ...AT]);
        const reference = referenceVerify({ file: c.file, conf: config, time: NOW });
        const json = JSON.parse(result.stdout);
        expect(json.trusted, `${name}, ${chain}: ${reference.line}`).toBe(reference.trusted);
        expect(json.warnings.join()).toMatch(/CERTIFICATE_CHAIN .*pkg_install then verifies without it/);
      }
    }
  });

  it("exits 3 for malformed input, with a JSON error", async () => {
    const c = fixtures.byName("truncated");
    const result = await runCli(["verify-package", c.file, "--anchor", c.anchor, "--json", ...AT]);
    expect(result.status).toBe(EXIT.INPUT);
    expect(JSON.parse(result.stdout).error.code).toBe("PKG_TRUNCATED");
  });

  it("takes the anchor and chain from pkg_install.conf and says what a newer OpenSSL would do", async () => {
    const c = fixtures.byName("intermediate only in the chain file");
    const config = join(fixtures.dir, "pkg_install.conf");
    writeFileSync(config, `# test\nVERIFIED_INSTALLATION=always\nCERTIFICATE_ANCHOR_PKGS=${c.anchor}\nCERTIFICATE_CHAIN=${c.chain}\n`);
    const result = await runCli(["verify-package", c.file, "--config", config, "--json", ...AT]);
    expect(result.status).toBe(EXIT.UNTRUSTED);
    expect(JSON.parse(result.stdout)).toMatchObject({ trusted: false, code: "CERT_NO_ISSUER", chain: c.chain, newerOpenSSL: { trusted: true } });
    const text = await runCli(["verify-package", c.file, "--config", config, ...AT]);
    expect(text.stdout).toMatch(/newer OpenSSL.*would be trusted/);
  });

  it("refuses a config without CERTIFICATE_ANCHOR_PKGS", async () => {
    const config = join(fixtures.dir, "empty.conf");
    writeFileSync(config, "VERIFIED_INSTALLATION=never\n");
    const result = await runCli(["verify-package", fixtures.cases[0]!.file, "--config", config, "--json"]);
    expect(result.status).toBe(EXIT.INPUT);
    expect(JSON.parse(result.stdout).error.code).toBe("PKG_CONFIG_MISSING");
  });

  it("needs an anchor, and a readable package", async () => {
    expect((await runCli(["verify-package", fixtures.cases[0]!.file])).status).toBe(EXIT.USAGE);
    const missing = await runCli(["verify-package", join(fixtures.dir, "nope.tgz"), "--anchor", fixtures.cases[0]!.anchor, "--json"]);
    expect(missing.status).toBe(EXIT.INPUT);
    expect(JSON.parse(missing.stdout).error.code).toBe("PKG_UNREADABLE");
  });

  it("reports unsigned and GPG-signed packages with their own codes", async () => {
    for (const [name, code] of [["unsigned", "PKG_UNSIGNED"], ["GPG-signed", "PKG_GPG_SIGNED"]] as const) {
      const c = fixtures.byName(name);
      const result = await runCli(["verify-package", c.file, "--anchor", c.anchor, "--json", ...AT]);
      expect(result.status).toBe(EXIT.UNTRUSTED);
      expect(JSON.parse(result.stdout)).toMatchObject({ trusted: false, code });
    }
  });
});
