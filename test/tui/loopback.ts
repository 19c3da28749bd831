/**
 * The repositories the wizard tests run against, on 127.0.0.1: a good one, a rogue one (its
 * bundle chains to a look-alike root) and two that stall, to press Ctrl-C in the middle of
 * the fetch and of the test-install.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DEFAULT_ANCHOR } from "../../src/config/layout.js";
import { TestPki } from "../fixtures/pki.js";
import { faults, startRepoServer, type FaultHandler, type RepoServer } from "../fixtures/repo-server.js";
import { standardPki, writeRepository } from "../fixtures/repository.js";

export interface Loopback {
  readonly server: RepoServer;
  /** http://127.0.0.1:PORT/NAME/All for a repository NAME (good, rogue, stallkeys, stallpkg, silent: no answer at all). */
  url(name: "good" | "rogue" | "stallkeys" | "stallpkg" | "silent"): string;
  /** A fresh target root holding the base-system anchor. */
  newTarget(): string;
  /** A fresh file name for the binary's exit status. */
  statusFile(): string;
  close(): Promise<void>;
}

/** Sends the start of the response and then nothing, until the client gives up. */
const stall: FaultHandler = (_request, response) => {
  response.writeHead(200, { "content-length": "100000" });
  response.write("-");
};

export async function startLoopback(): Promise<Loopback> {
  const pki = await TestPki.create();
  const trust = await standardPki(pki);
  const work = mkdtempSync(path.join(tmpdir(), "pkgtrust-tui-"));
  const www = path.join(work, "www");
  const good = trust.ca.certPem + trust.build.certPem;
  await writeRepository(path.join(www, "good"), { bundle: good, packages: [{ pkgname: "digest-20220214", signer: trust.build, chain: [trust.ca] }] });
  await writeRepository(path.join(www, "rogue"), {
    bundle: trust.rogueCa.certPem + trust.rogueBuild.certPem,
    packages: [{ pkgname: "digest-20220214", signer: trust.rogueBuild, chain: [trust.rogueCa] }],
  });
  for (const name of ["stallkeys", "stallpkg", "silent"]) cpSync(path.join(www, "good"), path.join(www, name), { recursive: true });
  const server = await startRepoServer({
    root: www,
    routes: { "/stallkeys/All/pkg_keys.pem": stall, "/stallpkg/All/digest-20220214.tgz": stall, "/silent/All/pkg_keys.pem": faults.stall() },
  });
  let count = 0;
  return {
    server,
    url: (name) => new URL(`${name}/All`, server.httpUrl).href,
    newTarget() {
      const dir = path.join(work, `target${count++}`);
      mkdirSync(path.join(dir, path.dirname(DEFAULT_ANCHOR)), { recursive: true });
      writeFileSync(path.join(dir, DEFAULT_ANCHOR), trust.root.certPem);
      return dir;
    },
    statusFile: () => path.join(work, `status${count++}`),
    async close() {
      await server.close();
      await pki.cleanup();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
