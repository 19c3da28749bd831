#!/usr/bin/env node
// Launcher. `npm run build` (run by `npm ci`) compiles the TypeScript sources to build/ and
// bundles them into the single file dist/pkgtrust.mjs, whose V8 code cache makes it start in
// about half the time of loading build/ module by module: that file runs when it is at least
// as new as build/ (a `tsc` alone leaves it older, and build/ runs).
import { statSync } from "node:fs";

const mtime = (url) => statSync(url, { throwIfNoEntry: false })?.mtimeMs;
const dist = new URL("../dist/pkgtrust.mjs", import.meta.url);
const entry = new URL("../build/src/cli/main.js", import.meta.url);
const built = mtime(entry);
const bundled = mtime(dist);
if (bundled !== undefined && (built === undefined || bundled >= built) && !process.env.PKGTRUST_UNBUNDLED) {
  await import(dist.href);
} else if (built === undefined) {
  process.stderr.write("pkgtrust: not built yet: run 'npm ci' (or 'npm run build') in the checkout first\n");
  process.exit(70);
} else {
  const { main } = await import(entry.href);
  await main();
}
