import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";

export interface InnerPackageSpec {
  readonly pkgname: string;
  readonly comment: string;
  /** Files under the prefix, e.g. { "bin/digest": "..." }. */
  readonly files: Readonly<Record<string, string>>;
}

/** The packing list pkg_create writes first into every binary package (pkg_create(1)). */
function packingList(spec: InnerPackageSpec): string {
  return [
    "@comment $NetBSD$",
    `@name ${spec.pkgname}`,
    "@cwd /usr/pkg",
    ...Object.keys(spec.files),
    "@ignore",
    "+COMMENT",
    "@ignore",
    "+DESC",
    "",
  ].join("\n");
}

/** A gzip'd tar whose first entry is +CONTENTS, as pkg_add expects of a binary package. */
export async function buildInnerPackage(spec: InnerPackageSpec): Promise<Buffer> {
  const tar = pack();
  const mtime = new Date("2026-01-01T00:00:00Z");
  const entries: [string, string][] = [["+CONTENTS", packingList(spec)], ["+COMMENT", `${spec.comment}\n`], ["+DESC", `${spec.comment}\n`], ...Object.entries(spec.files)];
  for (const [name, text] of entries) tar.entry({ name, size: Buffer.byteLength(text), mode: name.startsWith("bin/") ? 0o755 : 0o644, mtime }, text);
  tar.finalize();
  const parts: Buffer[] = [];
  for await (const part of tar) parts.push(part as Buffer);
  return gzipSync(Buffer.concat(parts));
}
