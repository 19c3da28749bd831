/* global PKGTRUST_VERSION, PKGTRUST_CORE_MARKER */
/**
 * The first part of dist/pkgtrust.mjs (see build-dist.mjs, which defines the two globals).
 * `--version` is answered here; anything else decodes the program stored in the comment at
 * the end of this file and runs it as a CommonJS module compiled by node:vm.
 */
import { Buffer } from "node:buffer";
import process from "node:process";

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
  process.stdout.write(`pkgtrust ${PKGTRUST_VERSION}\n`);
} else {
  const [{ readFileSync }, { createRequire }, { dirname }, { fileURLToPath }, { runInThisContext }] = await Promise.all([
    import("node:fs"),
    import("node:module"),
    import("node:path"),
    import("node:url"),
    import("node:vm"),
  ]);
  const file = fileURLToPath(import.meta.url);
  const text = readFileSync(file, "latin1");
  const start = text.lastIndexOf(PKGTRUST_CORE_MARKER) + PKGTRUST_CORE_MARKER.length;
  const code = Buffer.from(text.slice(start, text.lastIndexOf("*/")), "base64").toString("utf8");
  const program = runInThisContext(`(function (exports, require, module, __filename, __dirname) {${code}\n})`, { filename: `${file}:program` });
  const module = { exports: {} };
  program(module.exports, createRequire(file), module, file, dirname(file));
}
