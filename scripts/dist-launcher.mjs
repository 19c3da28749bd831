/* global PKGTRUST_VERSION, PKGTRUST_CORE_MARKER, PKGTRUST_CACHE_MARKER, PKGTRUST_PROGRAM_NAME */
/**
 * The first part of dist/pkgtrust.mjs (see build-dist.mjs, which defines the PKGTRUST_* globals).
 * `--version` is answered here; anything else decodes the program stored in the comment at
 * the end of this file and runs it as a CommonJS module compiled by node:vm, with the V8
 * code cache stored in the last comment.
 */
import { Buffer } from "node:buffer";
import process from "node:process";

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
  process.stdout.write(`pkgtrust ${PKGTRUST_VERSION}\n`);
} else {
  const [{ readFileSync }, { createRequire }, { dirname }, { fileURLToPath }, { Script }] = await Promise.all([
    import("node:fs"),
    import("node:module"),
    import("node:path"),
    import("node:url"),
    import("node:vm"),
  ]);
  const file = fileURLToPath(import.meta.url);
  const text = readFileSync(file, "latin1");
  // The last occurrence: the launcher's own code above holds the markers too.
  const section = (marker) => {
    const start = text.lastIndexOf(marker) + marker.length;
    return Buffer.from(text.slice(start, text.indexOf("*/", start)), "base64");
  };
  // A code cache from another node version is rejected by V8, which then compiles from source.
  const script = new Script(section(PKGTRUST_CORE_MARKER).toString("utf8"), { filename: PKGTRUST_PROGRAM_NAME, cachedData: section(PKGTRUST_CACHE_MARKER) });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
}
