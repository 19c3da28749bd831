/**
 * Times verifyPackage alone in a fresh process (module loading excluded), for the bench:
 * `node verify-child.js PACKAGE ANCHOR` prints {"seconds":..,"trusted":..}.
 */
import { readFileSync } from "node:fs";
import { fileChunks } from "../../src/file-chunks.js";
import { verifyPackage } from "../../src/package/verify-package.js";
import { readCertificateFile } from "../../src/pki/certificate-file.js";
import { PKG_INSTALL_POLICY } from "../../src/pki/path.js";

const [file, anchor] = process.argv.slice(2) as [string, string];
const start = process.hrtime.bigint();
const anchors = readCertificateFile(readFileSync(anchor, "utf8"), anchor).certificates;
const verdict = await verifyPackage(fileChunks(file), { anchors, chain: [] }, { time: new Date(), policy: PKG_INSTALL_POLICY });
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
process.stdout.write(`${JSON.stringify({ seconds, trusted: verdict.trusted })}\n`);
