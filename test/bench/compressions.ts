/**
 * Bench sections: verify-package on a signed package of each compression decoded by a C
 * library in WebAssembly (bzip2, xz, zstd), against that library's own command decoding the
 * same inner package, which is most of what pkg_install's libarchive does with it.
 */
import { spawnSync } from "node:child_process";
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { signPackage } from "../../src/keys/sign-package.js";
import type { TestPki } from "../fixtures/pki.js";
import { DIST, loadLine, measure, paired, ratioRow, writeInnerPackage, type SectionResult } from "./package.js";

const ROUNDS = 5;

export interface BenchCompression {
  readonly name: "bzip2" | "xz" | "zstd";
  /** The compressor's level flag, its other flags (it must replace the file), and the suffix it writes. */
  readonly level: string;
  readonly flags: readonly string[];
  readonly suffix: string;
  /** bzip2's 16 MiB of incompressible data keep this section's first numbers comparable; text is what packages mostly hold, and 64 MiB of it make decoding outweigh start-up. */
  readonly payload: "random" | "text";
  readonly mib: number;
}

export const BENCH_COMPRESSIONS: readonly BenchCompression[] = [
  { name: "bzip2", level: "-9", flags: [], suffix: ".bz2", payload: "random", mib: 16 },
  { name: "xz", level: "-6", flags: [], suffix: ".xz", payload: "text", mib: 64 },
  { name: "zstd", level: "-19", flags: ["-q", "--rm"], suffix: ".zst", payload: "text", mib: 64 },
];

export async function compressionSection(dir: string, pki: TestPki, how: BenchCompression): Promise<SectionResult> {
  const root = await pki.root(`${how.name} Bench Root`);
  const signer = await pki.signer(root, `${how.name} Bench Build`);
  const anchor = pki.writePem(`${how.name}-anchor.pem`, root.certPem);
  const tar = join(dir, `bench-${how.name}-1.0.tar`);
  await writeInnerPackage(tar, how.mib * 2 ** 20, "none", how.payload);
  if (spawnSync(how.name, [how.level, ...how.flags, tar]).status !== 0) throw new Error(`${how.name} ${how.level} failed`);
  const inner = `${tar}${how.suffix}`;
  const signed = join(dir, `bench-${how.name}-1.0.tgz`);
  await signPackage({ input: inner, output: signed, keyPem: signer.keyPem, certPem: signer.certPem });
  try {
    const before = loadLine();
    const result = paired(ROUNDS, {
      reference: () => measure("sh", ["-c", `${how.name} -dc "$1" > /dev/null`, "sh", inner]),
      dist: () => {
        const run = measure(process.execPath, [DIST, "verify-package", signed, "--anchor", anchor]);
        if (run.status !== 0) throw new Error(`verify-package of the ${how.name} package failed with status ${run.status}`);
        return run;
      },
    });
    const data = how.payload === "random" ? "incompressible data" : "text";
    return {
      lines: [
        `inner package                               ${how.name} ${how.level}, ${(statSync(inner).size / 2 ** 20).toFixed(1)} MiB of ${how.mib} MiB of ${data}; median of ${ROUNDS} paired rounds`,
        `${`${how.name} -dc of the inner package (reference)`.padEnd(44)}${result.reference.seconds.toFixed(3)} s`,
        ratioRow("pkgtrust verify-package, dist/pkgtrust.mjs", result.dist.seconds, result.reference.seconds).line,
        `${before}; after: ${loadLine().replace(/ \(.*/, "")}`,
      ],
      missed: false,
    };
  } finally {
    rmSync(inner, { force: true });
    rmSync(signed, { force: true });
  }
}
