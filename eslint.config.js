import js from "@eslint/js";
import tseslint from "typescript-eslint";
import importX, { createNodeResolver } from "eslint-plugin-import-x";

// Import boundaries (docs: ../shared/architecture.md, docs/dev/contracts.md). The layers,
// lowest first; a module imports only from its own layer and the ones below it:
//
//   src/*.ts (errors, limits, format, input and output files: shared by all)
//   pki                         certificates, paths, CRLs; no I/O
//   package, bundle             signed packages and key bundles; no I/O
//   net, config                 the fetcher; the target root and the configuration files
//   trust                       files into trust values (anchors, bundles, CRLs, pkg_install.conf)
//   anchors, bootstrap, keys    anchors check; setup and refresh; the operator tools
//   demo                        the demo repository
//   tui                         the wizard: consumes bootstrap's events, never the CLI
//   cli                         the commands (the only importer of tui/, lazily)
//
// flat config: for one file, the last block that sets a rule wins, so every file gets
// exactly one no-restricted-imports block below (the `files`/`ignores` never overlap).

const IO = { group: ["node:fs", "node:fs/*", "fs", "fs/*", "undici", "blessed", "node:http", "node:https", "node:net", "node:tls", "node:child_process"], message: "src/pki, src/package and src/bundle do no I/O: reading files and fetching happen in src/trust, src/net, src/config (architecture.md)" };
const TERMINAL = { group: ["blessed"], message: "only tui/wizard.ts loads blessed (lazily)" };
const layer = (name, above, why) => ({ group: above.map((dir) => `**/${dir}/**`), message: `${name} must not import from a layer above it (${why})` });

const ABOVE_ROOT = ["pki", "package", "bundle", "net", "config", "trust", "anchors", "bootstrap", "keys", "demo", "cli", "tui"];
const ABOVE_PKI = ["package", "bundle", "net", "config", "trust", "anchors", "bootstrap", "keys", "demo", "cli", "tui"];
const ABOVE_PACKAGE = ["net", "config", "trust", "anchors", "bootstrap", "keys", "demo", "cli", "tui"];
const ABOVE_IO = ["trust", "anchors", "bootstrap", "keys", "demo", "cli", "tui"];
const ABOVE_TRUST = ["anchors", "bootstrap", "keys", "demo", "cli", "tui"];
const ABOVE_AREAS = ["demo", "cli", "tui"];

const zones = [
  { files: ["src/*.ts"], patterns: [TERMINAL, layer("a shared module of src/", ABOVE_ROOT, "it is used by every area")] },
  { files: ["src/pki/**"], patterns: [IO, layer("src/pki", ABOVE_PKI, "the verification core")] },
  { files: ["src/package/**"], patterns: [IO, layer("src/package", ["bundle", ...ABOVE_PACKAGE], "the verification core")] },
  { files: ["src/bundle/**"], patterns: [IO, layer("src/bundle", ["package", ...ABOVE_PACKAGE], "the verification core")] },
  { files: ["src/net/**"], patterns: [TERMINAL, layer("src/net", ["config", "pki", "package", "bundle", ...ABOVE_IO], "the fetcher knows nothing of what it fetches")] },
  { files: ["src/config/**"], patterns: [TERMINAL, layer("src/config", ["net", ...ABOVE_IO], "the files it writes are trust's and bootstrap's to fill")] },
  { files: ["src/trust/**"], patterns: [TERMINAL, layer("src/trust", ["net", ...ABOVE_TRUST], "trust values come from files; fetching is bootstrap's")] },
  { files: ["src/anchors/**"], patterns: [TERMINAL, layer("src/anchors", ["bootstrap", "keys", "net", ...ABOVE_AREAS], "the anchors check stands alone")] },
  { files: ["src/bootstrap/**"], patterns: [TERMINAL, layer("src/bootstrap", ["anchors", "keys", ...ABOVE_AREAS], "setup and refresh; keys/ is the operators' side")] },
  { files: ["src/keys/**"], patterns: [TERMINAL, layer("src/keys", ["anchors", "bootstrap", "net", ...ABOVE_AREAS], "the operator tools share only src/trust's rules with the clients")] },
  { files: ["src/demo/**"], patterns: [TERMINAL, layer("src/demo", ["cli", "tui"], "the demo is driven by the CLI")] },
  { files: ["tui/**"], patterns: [{ group: ["undici", "node:fs", "node:fs/*", "fs", "**/net/**", "**/config/**", "**/trust/**"], message: "the TUI never fetches or reads files: it consumes bootstrap events" }, layer("tui/", ["cli"], "it renders bootstrap's events; shared wording lives in src/format.ts")] },
  { files: ["src/cli/**"], patterns: [TERMINAL] },
];

export default tseslint.config(
  { ignores: ["build/**", "dist/**", "node_modules/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-syntax": ["error", { selector: "CallExpression[callee.object.name='process'][callee.property.name='exit']", message: "only src/cli/main.ts may exit" }],
    },
  },
  // No import circle anywhere (type-only imports, erased at run time, are not counted).
  {
    files: ["src/**/*.ts", "tui/**/*.ts", "test/**/*.ts", "bin/**", "scripts/**"],
    plugins: { "import-x": importX },
    settings: {
      "import-x/extensions": [".ts", ".js", ".mjs"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts"] },
      // Sources import "./x.js" for ./x.ts (NodeNext); the resolver maps it back.
      "import-x/resolver-next": [createNodeResolver({ extensions: [".ts", ".js", ".mjs", ".json"], extensionAlias: { ".js": [".ts", ".js"] } })],
    },
    rules: { "import-x/no-cycle": ["error", { ignoreExternal: true }] },
  },
  ...zones.map(({ files, patterns }) => ({ files, rules: { "no-restricted-imports": ["error", { patterns }] } })),
  { files: ["src/cli/main.ts", "bin/**", "test/**"], rules: { "no-restricted-syntax": "off" } },
  { files: ["bin/**", "*.js"], languageOptions: { globals: { process: "readonly", URL: "readonly" } } },
);
