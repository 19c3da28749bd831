import { CertificateError } from "./errors.js";

export interface PemBlock {
  readonly label: string;
  readonly der: Uint8Array;
  /** 1-based line of the BEGIN line. */
  readonly line: number;
}

const BEGIN = /^-----BEGIN ([^-]*)-----$/;
const END = /^-----END ([^-]*)-----$/;
const BASE64_LINE = /^[A-Za-z0-9+/]*={0,2}$/;
// Bytes that never occur in a PEM text file: a DER file read as text shows them.
// eslint-disable-next-line no-control-regex -- looking for binary bytes is the point
const BINARY = /[\u0000-\u0008\u000e-\u001f\ufffd]/;

function fail(code: "PEM_EMPTY" | "PEM_BAD_BASE64" | "PEM_TRUNCATED" | "PEM_UNEXPECTED_BLOCK" | "PEM_BAD_DER", message: string, source: string, line: number): never {
  throw new CertificateError(code, `${source}:${line}: ${message}`, { detail: { source, line } });
}

/** Strict base64 (RFC 7468 section 3 strict form, but tolerating blank space at line ends). */
function decodeBody(lines: readonly string[], source: string, beginLine: number, label: string): Uint8Array {
  let text = "";
  lines.forEach((raw, index) => {
    const line = raw.replace(/[ \t]+$/, "");
    const where = beginLine + 1 + index;
    // RFC 1421 headers (Proc-Type:, DEK-Info:) only appear on encrypted keys.
    if (line.includes(":")) fail("PEM_BAD_BASE64", `unexpected header line in ${label} block at line ${where}`, source, beginLine);
    if (!BASE64_LINE.test(line)) fail("PEM_BAD_BASE64", `invalid base64 in ${label} block at line ${where}`, source, beginLine);
    if (text.includes("=") && line.length > 0) fail("PEM_BAD_BASE64", `base64 continues after padding in ${label} block at line ${where}`, source, beginLine);
    text += line;
  });
  if (text.length === 0) fail("PEM_BAD_BASE64", `empty ${label} block`, source, beginLine);
  if (text.length % 4 !== 0) fail("PEM_BAD_BASE64", `base64 length of ${label} block is not a multiple of 4`, source, beginLine);
  const der = Buffer.from(text, "base64");
  // Node's decoder is lenient; a round trip catches non-canonical padding bits.
  if (der.toString("base64") !== text) fail("PEM_BAD_BASE64", `non-canonical base64 in ${label} block`, source, beginLine);
  return new Uint8Array(der.buffer, der.byteOffset, der.byteLength);
}

/**
 * Reads every PEM block of a text. Text between blocks is ignored (as OpenSSL does, so
 * `openssl x509 -text` output survives); a block whose label is not in `labels` (a private
 * key in a key bundle), broken base64, a block without its END line, or a text with no block
 * at all is a coded error naming the source and the line.
 */
export function readPem(text: string, options: { source: string; labels: readonly string[] }): PemBlock[] {
  const { source, labels } = options;
  const lines = text.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  const blocks: PemBlock[] = [];
  let open: { label: string; line: number; body: string[] } | undefined;
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trim();
    const begin = BEGIN.exec(line);
    const end = END.exec(line);
    if (open) {
      if (begin) fail("PEM_TRUNCATED", `${open.label} block has no END line before the next BEGIN`, source, open.line);
      if (end) {
        if (end[1] !== open.label) fail("PEM_TRUNCATED", `${open.label} block ends with END ${end[1] ?? ""}`, source, open.line);
        blocks.push({ label: open.label, der: decodeBody(open.body, source, open.line, open.label), line: open.line });
        open = undefined;
        return;
      }
      open.body.push(line);
      return;
    }
    if (end) fail("PEM_TRUNCATED", `END ${end[1] ?? ""} without BEGIN`, source, lineNo);
    if (begin) {
      const label = begin[1] ?? "";
      if (!labels.includes(label)) fail("PEM_UNEXPECTED_BLOCK", `unexpected ${label} block (expected ${labels.join(" or ")})`, source, lineNo);
      open = { label, line: lineNo, body: [] };
    }
  });
  if (open) fail("PEM_TRUNCATED", `${open.label} block has no END line`, source, open.line);
  if (blocks.length === 0) {
    if (BINARY.test(text)) fail("PEM_BAD_DER", "binary data, not PEM (a DER file?)", source, 1);
    fail("PEM_EMPTY", `no ${labels.join(" or ")} block`, source, 1);
  }
  return blocks;
}
