#!/usr/bin/env node
// Launcher: the TypeScript sources are compiled to build/ by `npm ci` (the prepare script).
import { existsSync } from "node:fs";

const entry = new URL("../build/src/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("pkgtrust: not built yet: run 'npm ci' (or 'npm run build') in the checkout first\n");
  process.exit(70);
}
const { main } = await import(entry.href);
await main();
