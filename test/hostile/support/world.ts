/**
 * The hostile-repository suite's world: one test PKI, a directory of repository trees served
 * by real HTTP(S) servers on 127.0.0.1, and target roots with the base anchor installed.
 * Each test file makes its own world (beforeAll/afterAll) and adds the trees it attacks with.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DEFAULT_ANCHOR, PKGIN_REPOSITORIES } from "../../../src/config/layout.js";
import { runCli, type CliResult } from "../../fixtures/cli.js";
import { NOW, TestPki, type Issued } from "../../fixtures/pki.js";
import { startRepoServer, type RepoServer } from "../../fixtures/repo-server.js";
import { standardPki, writeRepository, type RepoPackage } from "../../fixtures/repository.js";

export interface World {
  readonly pki: TestPki;
  readonly trust: Awaited<ReturnType<typeof standardPki>>;
  /** The served directory: tree NAME is at <www>/NAME/All. */
  readonly www: string;
  readonly server: RepoServer;
  /** Writes tree NAME (bundle and signed packages); its http URL ends in /NAME/All/. */
  tree(name: string, bundle: string, packages?: readonly RepoPackage[]): Promise<string>;
  /** Replaces the key bundle of tree NAME (what a mirror serves next). */
  publish(name: string, bundle: string): void;
  /** A new target root with the base anchor, optionally an existing pkg_install.conf and pkgin. */
  target(options?: { config?: string; pkgin?: boolean }): string;
  /** pkgtrust in-process, without a terminal, no real pkg_add; `now` defaults to the PKI's NOW. */
  cli(argv: readonly string[], options?: { now?: Date; env?: NodeJS.ProcessEnv }): Promise<CliResult>;
  close(): Promise<void>;
}

export async function makeWorld(prefix: string): Promise<World> {
  const pki = await TestPki.create();
  const trust = await standardPki(pki);
  const work = mkdtempSync(path.join(tmpdir(), `pkgtrust-hostile-${prefix}-`));
  const www = path.join(work, "www");
  mkdirSync(www);
  const server = await startRepoServer({ root: www });
  let targets = 0;
  const digest = (signer: Issued): RepoPackage => ({ pkgname: "digest-20220214", signer, chain: [trust.ca] });
  return {
    pki,
    trust,
    www,
    server,
    async tree(name, bundle, packages = [digest(trust.build)]) {
      await writeRepository(path.join(www, name), { bundle, packages });
      return new URL(`${name}/All/`, server.httpUrl).href;
    },
    publish(name, bundle) {
      writeFileSync(path.join(www, name, "All/pkg_keys.pem"), bundle);
    },
    target(options = {}) {
      const dir = path.join(work, `target${targets++}`);
      mkdirSync(path.join(dir, path.dirname(DEFAULT_ANCHOR)), { recursive: true });
      writeFileSync(path.join(dir, DEFAULT_ANCHOR), trust.root.certPem);
      if (options.config !== undefined) {
        mkdirSync(path.join(dir, "etc"), { recursive: true });
        writeFileSync(path.join(dir, "etc/pkg_install.conf"), options.config);
      }
      if (options.pkgin) {
        mkdirSync(path.join(dir, path.dirname(PKGIN_REPOSITORIES)), { recursive: true });
        writeFileSync(path.join(dir, PKGIN_REPOSITORIES), "# sysinst\nhttp://cdn.example.org/All\n");
      }
      return dir;
    },
    cli(argv, options = {}) {
      return runCli(argv, { now: options.now ?? NOW, cwd: work, env: { PKGTRUST_PKG_ADD: "none", ...options.env } });
    },
    async close() {
      await server.close();
      await pki.cleanup();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
