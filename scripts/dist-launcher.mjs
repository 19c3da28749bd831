/* global PKGTRUST_HELP, PKGTRUST_VERSION, PKGTRUST_CORE_MARKER, PKGTRUST_CACHE_MARKER, PKGTRUST_PROGRAM_NAME */
/**
 * The first part of dist/pkgtrust.mjs (see build-dist.mjs, which defines the PKGTRUST_* globals).
 * `--version`, `--help` and `COMMAND --help` are answered here (PKGTRUST_HELP holds what the
 * program prints for them, made by the program at build time); anything else decodes the program stored in the comment at
 * the end of this file and runs it as a CommonJS module compiled by node:vm, with the V8
 * code cache stored in the last comment.
 */
import { Buffer } from "node:buffer";
import process from "node:process";

const args = process.argv.slice(2);
const isHelp = (arg) => arg === "--help" || arg === "-h";
const help = args.length === 1 && (isHelp(args[0]) || args[0] === "help") ? "" : args.length === 2 && isHelp(args[1]) && Object.hasOwn(PKGTRUST_HELP, args[0]) && args[0] !== "" ? args[0] : undefined;
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
  process.stdout.write(`pkgtrust ${PKGTRUST_VERSION}\n`);
} else if (help !== undefined) {
  process.stdout.write(PKGTRUST_HELP[help]);
} else {
  const [{ readFileSync }, { createRequire }, { dirname }, { fileURLToPath }, { Script }, { gunzipSync }] = await Promise.all([
    import("node:fs"),
    import("node:module"),
    import("node:path"),
    import("node:url"),
    import("node:vm"),
    import("node:zlib"),
  ]);
  const file = fileURLToPath(import.meta.url);
  const text = readFileSync(file, "latin1");
  // The last occurrence: the launcher's own code above holds the markers too.
  const section = (marker) => {
    const start = text.lastIndexOf(marker) + marker.length;
    return gunzipSync(Buffer.from(text.slice(start, text.indexOf("*/", start)), "base64"));
  };
  // A code cache from another node version is rejected by V8, which then compiles from source.
  const script = new Script(section(PKGTRUST_CORE_MARKER).toString("utf8"), { filename: PKGTRUST_PROGRAM_NAME, cachedData: section(PKGTRUST_CACHE_MARKER) });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
}
