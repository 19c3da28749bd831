import js from "@eslint/js";
import tseslint from "typescript-eslint";

// Import boundaries (docs: ../shared/architecture.md): verification code does no I/O
// and never touches the terminal or the network.
const pureCore = {
  patterns: [
    { group: ["blessed", "undici", "node:http", "node:https", "node:net"], message: "the verification core does no network or terminal I/O" },
    { group: ["**/net/**", "**/config/**", "**/bootstrap/**", "**/cli/**", "**/tui/**"], message: "the verification core must not depend on outer layers" },
  ],
};

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
  { files: ["src/pki/**", "src/package/**", "src/bundle/**"], rules: { "no-restricted-imports": ["error", pureCore] } },
  {
    files: ["src/**"],
    ignores: ["src/cli/**", "src/bootstrap/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [{ group: ["blessed", "**/tui/**"], message: "only the CLI loads the TUI" }] }] },
  },
  { files: ["tui/**"], rules: { "no-restricted-imports": ["error", { patterns: [{ group: ["undici", "node:fs", "node:fs/promises", "**/net/**", "**/config/**"], message: "the TUI never fetches or writes files: it consumes bootstrap events" }] }] } },
  { files: ["src/cli/main.ts", "bin/**", "test/**"], rules: { "no-restricted-syntax": "off" } },
  { files: ["bin/**", "*.js"], languageOptions: { globals: { process: "readonly", URL: "readonly" } } },
);
