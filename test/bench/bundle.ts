/** Bench section: reading and verifying a 1,000-certificate key bundle, in process and as the CLI. */
import { performance } from "node:perf_hooks";
import { readBundle, verifyBundle } from "../../src/bundle/verify.js";
import { readCertificateFile } from "../../src/pki/certificate-file.js";
import { STRICT_POLICY } from "../../src/pki/policy.js";
import { largeBundle, NOW, type TestPki } from "../fixtures/pki.js";
import { best, CLI, type SectionResult } from "./package.js";

export async function bundleSection(pki: TestPki): Promise<SectionResult> {
  const { root, pems } = await largeBundle(pki, 10, 99);
  const text = pems.join("");
  const anchors = readCertificateFile(root.certPem, "anchor").certificates;
  const start = performance.now();
  const bundle = readBundle(text, "bundle");
  const read = performance.now();
  const verdict = await verifyBundle(bundle, anchors, { time: NOW, policy: STRICT_POLICY });
  const done = performance.now();
  const valid = verdict.certificates.filter((c) => c.status === "valid").length;
  const file = pki.writePem("bundle-1000.pem", text);
  const cli = best(process.execPath, [CLI, "verify-bundle", file, "--anchor", root.certPath, "--at", NOW.toISOString()]);
  return {
    lines: [
      `bundle                        ${bundle.certificates.length} certificates, ${valid} valid`,
      `read (PEM + parse)            ${((read - start) / 1000).toFixed(3)} s`,
      `verify (paths, policy)        ${((done - read) / 1000).toFixed(3)} s`,
      `pkgtrust verify-bundle        ${cli.seconds.toFixed(3)} s (whole process)`,
    ],
    missed: valid !== bundle.certificates.length || cli.status !== 0,
  };
}
