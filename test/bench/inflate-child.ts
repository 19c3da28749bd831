/**
 * Times zlib's inflate of a package's inner package alone, in a fresh process (module loading
 * excluded), for the floor of the bench's verify-package rows: parity with pkg_install reads
 * the inner tar to its end, so every byte is inflated as well as hashed.
 * `node inflate-child.js FILE START END` inflates the raw deflate data in bytes START..END
 * (inclusive) of FILE and prints {"seconds":..,"bytes":..}.
 */
import { createReadStream } from "node:fs";
import { createInflateRaw } from "node:zlib";

const [file, start, end] = process.argv.slice(2) as [string, string, string];
const began = process.hrtime.bigint();
let bytes = 0;
for await (const chunk of createReadStream(file, { start: Number(start), end: Number(end), highWaterMark: 1024 * 1024 }).pipe(createInflateRaw({ chunkSize: 256 * 1024 }))) bytes += (chunk as Buffer).length;
process.stdout.write(`${JSON.stringify({ seconds: Number(process.hrtime.bigint() - began) / 1e9, bytes })}\n`);
