/**
 * The floor of a download in pkgtrust, for the bench: `node download-child.js URL [CA_FILE]`
 * reads the body with pkgtrust's fetcher (undici, its caps and deadline) and drops it, so
 * that its whole-process time compares with `curl -o /dev/null` of the same URL.
 */
import { readFileSync } from "node:fs";
import { createDispatcher } from "../../src/net/dispatcher.js";
import { createFetcher } from "../../src/net/fetcher.js";

const [url, caFile] = process.argv.slice(2) as [string, string | undefined];
const dispatcher = createDispatcher({ env: {}, ...(caFile ? { ca: readFileSync(caFile, "utf8") } : {}) });
const { body } = await createFetcher({ dispatcher }).stream(new URL(url), 1024 ** 3);
let received = 0;
for await (const chunk of body) received += chunk.length;
await dispatcher.close();
process.stdout.write(`${received}\n`);
