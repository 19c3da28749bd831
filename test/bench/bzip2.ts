/**
 * Bench section: verify-package on a signed package whose inner package is `bzip2 -9`
 * (pkgsrc's PKG_COMPRESSION=bzip2), against the C bzip2 decoding the same inner package,
 * which is most of what pkg_install's libarchive does with it.
 */
import { spawnSync } from "node:child_process";
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { signPackage } from "../../src/keys/sign-package.js";
import type { TestPki } from "../fixtures/pki.js";
import { DIST, loadLine, measure, paired, ratioRow, writeInnerPackage, type SectionResult } from "./package.js";

const PAYLOAD = 16 * 1024 * 1024;
const ROUNDS = 5;

export async function bzip2Section(dir: string, pki: TestPki): Promise<SectionResult> {
  const root = await pki.root("Bzip2 Bench Root");
  const signer = await pki.signer(root, "Bzip2 Bench Build");
  const anchor = pki.writePem("bzip2-anchor.pem", root.certPem);
  const tar = join(dir, "bench-bzip2-1.0.tar");
  await writeInnerPackage(tar, PAYLOAD, "none");
  if (spawnSync("bzip2", ["-9", tar]).status !== 0) throw new Error("bzip2 -9 failed");
  const inner = `${tar}.bz2`;
  const signed = join(dir, "bench-bzip2-1.0.tgz");
  await signPackage({ input: inner, output: signed, keyPem: signer.keyPem, certPem: signer.certPem });
  try {
    const before = loadLine();
    const result = paired(ROUNDS, {
      bzip2: () => measure("sh", ["-c", 'bzip2 -dc "$1" > /dev/null', "sh", inner]),
      dist: () => {
        const run = measure(process.execPath, [DIST, "verify-package", signed, "--anchor", anchor]);
        if (run.status !== 0) throw new Error(`verify-package of the bzip2 package failed with status ${run.status}`);
        return run;
      },
    });
    return {
      lines: [
        `inner package                               bzip2 -9, ${(statSync(inner).size / 2 ** 20).toFixed(1)} MiB of incompressible data; median of ${ROUNDS} paired rounds`,
        `bzip2 -dc of the inner package (reference)  ${result.bzip2.seconds.toFixed(3)} s`,
        ratioRow("pkgtrust verify-package, dist/pkgtrust.mjs", result.dist.seconds, result.bzip2.seconds).line,
        `${before}; after: ${loadLine().replace(/ \(.*/, "")}`,
      ],
      missed: false,
    };
  } finally {
    rmSync(inner, { force: true });
    rmSync(signed, { force: true });
  }
}
