#!/usr/bin/env node
/**
 * `npm run build` (after tsc): dist/pkgtrust.mjs, one file that runs with a plain `node`
 * from any directory, no node_modules, TUI included.
 *
 * Layout of the file, chosen for start-up time (README "Single-file build"):
 *   1. a small launcher (scripts/dist-launcher.mjs) that answers `--version` and the --help
 *      of pkgtrust and of each command at once (texts made by the program at build time);
 *   2. the whole program (src/cli/main.ts with zod, undici, @peculiar/x509, blessed ...)
 *      bundled by esbuild as CommonJS and stored gzip'd and base64 in a trailing comment. V8 skips a
 *      comment far faster than it pre-parses 1.8 MB of code, so `--version` pays almost
 *      nothing for it; every other command decodes it and compiles it with node:vm;
 *   3. V8's code cache for the program, in a second comment (see codeCache).
 * Inside the program the commands and blessed stay lazy (esbuild keeps `await import()`
 * of bundled modules as deferred initialisers), so `setup --non-interactive` never
 * evaluates blessed.
 *
 * blessed reads terminfo/termcap files next to its sources at run time: the plugin below
 * embeds those files and hands blessed an fs whose reads find them.
 */
import { Buffer } from "node:buffer";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "dist", "pkgtrust.mjs");
const CORE_MARKER = "/*pkgtrust-core:";
const CACHE_MARKER = "/*pkgtrust-code-cache:";
/** The program's file name in stack traces; the training run must use the same (V8 keeps it in the cache). */
const PROGRAM_NAME = "pkgtrust-program.js";
/** Where the embedded blessed sources believe they live; no real directory has this name. */
const BLESSED_DIR = "/$pkgtrust-embedded/blessed";
const BLESSED_USR = join(ROOT, "node_modules", "blessed", "usr");

/** Terminal descriptions only: the fonts are for the BigText widget, which pkgtrust does not use. */
function blessedDataFiles() {
  const files = {};
  for (const name of readdirSync(BLESSED_USR)) {
    const path = join(BLESSED_USR, name);
    if (statSync(path).isFile()) files[`${BLESSED_DIR}/usr/${name}`] = readFileSync(path).toString("base64");
  }
  return files;
}

const blessedPlugin = {
  name: "pkgtrust-blessed",
  setup(context) {
    // fs for blessed: the embedded files by their virtual path, the real fs for anything else
    // (the system's terminfo directories are still searched first, as blessed does).
    context.onResolve({ filter: /^pkgtrust-blessed-fs$/ }, () => ({ path: "blessed-fs", namespace: "pkgtrust" }));
    context.onLoad({ filter: /^blessed-fs$/, namespace: "pkgtrust" }, () => ({
      loader: "js",
      resolveDir: ROOT,
      contents: `
        const fs = require("node:fs");
        const path = require("node:path");
        const files = ${JSON.stringify(blessedDataFiles())};
        const embedded = (file) => typeof file === "string" ? files[path.resolve(file)] : undefined;
        module.exports = {
          ...fs,
          readFileSync(file, options) {
            const data = embedded(file);
            if (data === undefined) return fs.readFileSync(file, options);
            const bytes = Buffer.from(data, "base64");
            const encoding = typeof options === "string" ? options : options?.encoding;
            return encoding ? bytes.toString(encoding) : bytes;
          },
          statSync(file, options) {
            return embedded(file) === undefined ? fs.statSync(file, options) : fs.statSync(process.execPath);
          },
          existsSync(file) {
            return embedded(file) !== undefined || fs.existsSync(file);
          },
        };`,
    }));
    context.onLoad({ filter: /[\\/]node_modules[\\/]blessed[\\/]lib[\\/].*\.js$/ }, (args) => {
      const relative = args.path.slice(args.path.lastIndexOf(`${join("node_modules", "blessed")}`) + "node_modules/blessed".length);
      const virtualDir = JSON.stringify(dirname(`${BLESSED_DIR}${relative}`));
      let contents = readFileSync(args.path, "utf8")
        .replace(/require\('fs'\)/g, "require('pkgtrust-blessed-fs')")
        .replace(/\b__dirname\b/g, virtualDir)
        // esbuild bundles this computed require as a glob over widgets/*.js, keyed with the extension.
        .replace("require('./widgets/' + file)", "require('./widgets/' + file + '.js')");
      // Lets the tests see that a run did (or did not) evaluate blessed.
      if (args.path.endsWith(join("lib", "blessed.js"))) contents = `globalThis[Symbol.for("pkgtrust.blessed-loaded")] = true;\n${contents}`;
      return { contents, loader: "js" };
    });
  },
};

/**
 * V8's code cache for the program after a `verify-package --help` run in a child node, so
 * that it holds the functions evaluated when a command loads (zod, @peculiar/x509 ...).
 * It saves about half of the program's load time. V8 accepts it only from the same V8
 * version and flags, so it suits the node that built the file (the one on the install
 * medium); any other node rejects it and compiles from source, as without it.
 */
function codeCache(program) {
  const dir = mkdtempSync(join(tmpdir(), "pkgtrust-build-"));
  try {
    const source = join(dir, "program.js");
    const output = join(dir, "cache.bin");
    writeFileSync(source, program);
    const trainer = [
      'const { readFileSync, writeFileSync } = require("node:fs");',
      'const { Script } = require("node:vm");',
      'const [source, output] = process.argv.slice(1, 3);',
      'process.argv.splice(1, 3, source, "verify-package", "--help");',
      `const script = new Script(readFileSync(source, "utf8"), { filename: ${JSON.stringify(PROGRAM_NAME)} });`,
      'process.on("exit", () => writeFileSync(output, script.createCachedData()));',
      "const m = { exports: {} };",
      'script.runInThisContext()(m.exports, require, m, source, require("node:path").dirname(source));',
    ].join("\n");
    const run = spawnSync(process.execPath, ["-e", trainer, source, output], { encoding: "utf8" });
    if (run.status !== 0) throw new Error(`training run for the code cache failed: ${run.stderr}`);
    return readFileSync(output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What `pkgtrust --help` and `pkgtrust COMMAND --help` print, made by the program itself (one
 * child node per command), so that the launcher answers them at once, as it does --version:
 * the text is the program's by construction, and a help request costs no program load.
 */
function helpTexts(program) {
  const dir = mkdtempSync(join(tmpdir(), "pkgtrust-help-"));
  try {
    const source = join(dir, "program.js");
    writeFileSync(source, program);
    const runner = [
      'const { readFileSync } = require("node:fs");',
      'const { Script } = require("node:vm");',
      "const source = process.argv[1];",
      "process.argv.splice(1, 1, source);",
      'const m = { exports: {} };',
      'new Script(readFileSync(source, "utf8")).runInThisContext()(m.exports, require, m, source, require("node:path").dirname(source));',
    ].join("\n");
    const help = (args) => {
      const run = spawnSync(process.execPath, ["-e", runner, source, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
      if (run.status !== 0 || run.stderr !== "") throw new Error(`pkgtrust ${args.join(" ")} failed while building: ${run.stderr}`);
      return run.stdout;
    };
    const texts = { "": help(["--help"]) };
    const listed = texts[""].slice(texts[""].indexOf("commands:\n") + "commands:\n".length).split("\n\n")[0].split("\n");
    for (const line of listed) {
      const name = /^ {2}(\S+)/.exec(line)?.[1];
      if (name) texts[name] = help([name, "--help"]);
    }
    return texts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function bundle(options) {
  const result = await build({
    bundle: true,
    platform: "node",
    target: "node20",
    minify: true,
    legalComments: "none",
    write: false,
    logLevel: "warning",
    ...options,
  });
  return result.outputFiles[0].text;
}

async function main() {
  const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;
  const core = await bundle({
    stdin: { contents: 'import { main } from "./src/cli/main.ts";\nvoid main();\n', resolveDir: ROOT, sourcefile: "dist-core.ts", loader: "ts" },
    format: "cjs",
    // The Terminal widget's optional peers; pkgtrust never creates a Terminal.
    external: ["term.js", "pty.js"],
    plugins: [blessedPlugin],
  });
  // The launcher compiles exactly this text; the code cache below is only valid for it.
  const program = `(function (exports, require, module, __filename, __dirname) {${core}\n})`;
  const launcher = await bundle({
    entryPoints: [join(ROOT, "scripts", "dist-launcher.mjs")],
    format: "esm",
    define: { PKGTRUST_HELP: JSON.stringify(helpTexts(program)), PKGTRUST_VERSION: JSON.stringify(version), PKGTRUST_CORE_MARKER: JSON.stringify(CORE_MARKER), PKGTRUST_CACHE_MARKER: JSON.stringify(CACHE_MARKER), PKGTRUST_PROGRAM_NAME: JSON.stringify(PROGRAM_NAME) },
    banner: { js: "#!/usr/bin/env node" },
  });
  const cache = codeCache(program);
  // gzip'd: a quarter of the bytes for V8 to read past at every start (--version included);
  // gunzip costs the other commands about 10 ms, less than reading the plain text did.
  const packed = (bytes) => gzipSync(bytes, { level: 9 }).toString("base64");
  const text = `${launcher}${CORE_MARKER}${packed(Buffer.from(program))}*/\n${CACHE_MARKER}${packed(cache)}*/\n`;
  mkdirSync(dirname(OUT), { recursive: true });
  // Renamed into place: a run of the file during a rebuild (tests, the bench) never sees half of it.
  const temporary = `${OUT}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o755 });
  chmodSync(temporary, 0o755);
  renameSync(temporary, OUT);
  process.stdout.write(
    `dist/pkgtrust.mjs: ${(text.length / 1048576).toFixed(2)} MiB (program ${(core.length / 1048576).toFixed(2)} MiB and V8 code cache ${(cache.length / 1048576).toFixed(2)} MiB for node ${process.version}, before gzip and base64)\n`,
  );
}

await main();
