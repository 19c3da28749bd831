/**
 * The interrupted-setup trials' two repositories (kill.test.ts, signal.test.ts): "old", and
 * "new" with a rotated build machine whose test package is served slowly, so that more
 * interruptions hit the test-install after the write; and the file set compared after each.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { snapshotTree } from "../../fixtures/repository.js";
import type { World } from "./world.js";

/** Writes the trees; their URLs. `testPackageDelayMs`: how long the new tree's test package waits. */
export async function rotationTrees(world: World, testPackageDelayMs: number): Promise<{ oldRepo: string; newRepo: string }> {
  const { pki, trust } = world;
  const crl = (await pki.crl(trust.ca, [], { number: 2, nextUpdate: new Date("2039-01-01") })).pem;
  const oldRepo = await world.tree("old", trust.ca.certPem + trust.build.certPem + crl);
  const rotated = await pki.signer(trust.ca, "build machine 2");
  const newRepo = await world.tree("new", trust.ca.certPem + rotated.certPem + trust.build.certPem + crl, [{ pkgname: "digest-20220214", signer: rotated, chain: [trust.ca] }]);
  world.server.routes.set("/new/All/digest-20220214.tgz", (_request, _response, context) => new Promise((resolve) => setTimeout(() => resolve(context.serveFile()), testPackageDelayMs)));
  return { oldRepo, newRepo };
}

/** The tree as a comparable value; state.json's acceptedAt is the time of the run, so it is left out. */
export function normalisedTree(dir: string): Record<string, string> {
  const tree = snapshotTree(dir);
  const statePath = path.join(dir, "etc/pkgtrust/state.json");
  if (existsSync(statePath)) tree["etc/pkgtrust/state.json"] = JSON.stringify({ ...JSON.parse(readFileSync(statePath, "utf8")), acceptedAt: "(time)" });
  return tree;
}
