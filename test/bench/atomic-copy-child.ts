/**
 * The file-system floor of repo sign's replacement step, for the bench: every package of a
 * directory copied to a temporary file beside it, fsync'd and renamed over it (the same bytes,
 * so the repository does not change), as many at a time as repo sign has in flight, then the
 * directory fsync'd. No hashing, parsing or signing: what Node's file system calls alone take.
 * `node atomic-copy-child.js DIR IN_FLIGHT` prints {"seconds":..}.
 */
import { constants } from "node:fs";
import { open, readdir, rename } from "node:fs/promises";
import { join } from "node:path";

const [dir, inFlight] = process.argv.slice(2) as [string, string];
const began = process.hrtime.bigint();
const files = (await readdir(dir)).filter((name) => name.endsWith(".tgz"));

async function replace(name: string, buffer: Buffer): Promise<void> {
  const source = await open(join(dir, name), "r");
  const temporary = join(dir, `.${name}.atomic-copy`);
  const target = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  try {
    for (;;) {
      const { bytesRead } = await source.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      await target.write(buffer, 0, bytesRead);
    }
    await target.sync();
  } finally {
    await target.close();
    await source.close();
  }
  await rename(temporary, join(dir, name));
}

let next = 0;
await Promise.all(
  Array.from({ length: Number(inFlight) }, async () => {
    const buffer = Buffer.allocUnsafe(1024 * 1024);
    for (let name = files[next++]; name !== undefined; name = files[next++]) await replace(name, buffer);
  }),
);
const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
await handle.sync();
await handle.close();
process.stdout.write(`${JSON.stringify({ seconds: Number(process.hrtime.bigint() - began) / 1e9 })}\n`);
