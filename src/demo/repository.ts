import { mkdir, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { createRootCa, issueIntermediate, issueSigning, type KeyAndCertificate } from "../keys/issue.js";
import { NEXT_UPDATE_DAYS, signNextCrl } from "../keys/revoke.js";
import { signPackage } from "../keys/sign-package.js";
import { InternalError } from "../errors.js";
import { readCertificateFile } from "../pki/certificate-file.js";
import { buildInnerPackage, type InnerPackageSpec } from "./inner-package.js";

const PACKAGES: readonly (InnerPackageSpec & { readonly embedIntermediate: boolean })[] = [
  { pkgname: "digest-20220214", comment: "Message digest wrapper utility", files: { "bin/digest": "#!/bin/sh\necho digest\n" }, embedIntermediate: true },
  // Signed with only the build certificate embedded: it installs because the bundle's intermediate is trusted.
  { pkgname: "pkgin-24.5.1", comment: "Apt / yum like tool for managing pkgsrc binary packages", files: { "bin/pkgin": "#!/bin/sh\necho pkgin\n" }, embedIntermediate: false },
  { pkgname: "hello-2.12.1", comment: "GNU hello", files: { "bin/hello": "#!/bin/sh\necho hello\n" }, embedIntermediate: true },
];

export interface DemoPki {
  readonly anchor: KeyAndCertificate;
  readonly intermediate: KeyAndCertificate;
  readonly build: KeyAndCertificate;
  /** The root's first CRL, empty, as the master key holder makes it at the root's ceremony (docs/master-key.md). */
  readonly rootCrlPem: string;
}

/** The three levels of the design: base-system anchor, developer CA, build machine; and the root's CRL. */
export async function createDemoPki(now: Date): Promise<DemoPki> {
  const anchor = await createRootCa({ commonName: "Demo pkgsrc CA", days: 3650, now });
  const intermediate = await issueIntermediate(anchor, { commonName: "Demo developer CA", days: 730, pathLength: 0, now });
  const build = await issueSigning(intermediate, { commonName: "Demo build machine amd64", days: 90, now });
  const [certificate] = readCertificateFile(anchor.certificatePem, "the demo anchor").certificates;
  if (certificate === undefined) throw new InternalError("INTERNAL", "the demo anchor just made does not parse");
  const crl = await signNextCrl({ ca: { ...anchor, certificate }, now, nextUpdateDays: NEXT_UPDATE_DAYS.root });
  return { anchor, intermediate, build, rootCrlPem: crl.pem };
}

function summaryEntry(pkgname: string, comment: string, size: number): string {
  return [`PKGNAME=${pkgname}`, `COMMENT=${comment}`, `FILE_NAME=${pkgname}.tgz`, `FILE_SIZE=${size}`, `SIZE_PKG=${size * 3}`, ""].join("\n");
}

/**
 * Writes a repository tree as a build machine publishes it: All/*.tgz signed packages,
 * All/pkg_summary.gz and All/pkg_keys.pem (the key bundle), under `dir`.
 */
export async function writeDemoRepository(dir: string, pki: DemoPki): Promise<{ all: string; packages: string[] }> {
  const all = path.join(dir, "All");
  const work = path.join(dir, ".work");
  await mkdir(all, { recursive: true });
  await mkdir(work, { recursive: true });
  const summaries: string[] = [];
  for (const spec of PACKAGES) {
    const unsigned = path.join(work, `${spec.pkgname}.tgz`);
    await writeFile(unsigned, await buildInnerPackage(spec));
    const output = path.join(all, `${spec.pkgname}.tgz`);
    await signPackage({
      input: unsigned,
      output,
      keyPem: pki.build.privateKeyPem,
      certPem: pki.build.certificatePem,
      ...(spec.embedIntermediate ? { chainPem: pki.intermediate.certificatePem } : {}),
    });
    summaries.push(summaryEntry(spec.pkgname, spec.comment, (await stat(output)).size));
  }
  await rm(work, { recursive: true, force: true });
  await writeFile(path.join(all, "pkg_summary.gz"), gzipSync(summaries.join("\n")));
  await writeFile(path.join(all, "pkg_keys.pem"), pki.intermediate.certificatePem + pki.build.certificatePem + pki.rootCrlPem);
  return { all, packages: PACKAGES.map((p) => p.pkgname) };
}
