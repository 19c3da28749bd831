/** Plain-text layout helpers of the screens: every result fits the width it is given. */

/** Word-wraps `text` to `width` columns; words longer than a line are cut. */
export function wrap(text: string, width: number): string[] {
  const size = Math.max(1, width);
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    let rest = word;
    if (line !== "" && line.length + 1 + rest.length <= size) {
      line += ` ${rest}`;
      continue;
    }
    if (line !== "") lines.push(line);
    while (rest.length > size) {
      // Paths and URLs break after a "/" when one is far enough along the line.
      const slash = rest.lastIndexOf("/", size - 1) + 1;
      const cut = slash > size / 2 ? slash : size;
      lines.push(rest.slice(0, cut));
      rest = rest.slice(cut);
    }
    line = rest;
  }
  if (line !== "" || lines.length === 0) lines.push(line);
  return lines;
}

/** Wraps after a label, indenting the continuation lines under the text: "Subject: CN=...". */
export function labelled(label: string, text: string, width: number): string[] {
  const indent = " ".repeat(label.length);
  return wrap(text, width - label.length).map((line, i) => (i === 0 ? label : indent) + line);
}

/** Shortens from the middle, keeping both ends of a URL readable. */
export function shorten(text: string, width: number): string {
  if (text.length <= width) return text;
  if (width <= 3) return text.slice(0, width);
  const head = Math.ceil((width - 3) / 2);
  return `${text.slice(0, head)}...${text.slice(text.length - (width - 3 - head))}`;
}

/** "ab12..." as "AB:12:..." lines, with the same number of bytes on each line where possible. */
export function fingerprintLines(hex: string, width: number): string[] {
  const bytes = hex.toUpperCase().match(/../g) ?? [];
  if (bytes.length === 0) return ["(none)"];
  // Three columns a byte, counting the colon that ends a continued line.
  const perLine = Math.max(1, Math.floor(width / 3));
  const lineCount = Math.ceil(bytes.length / perLine);
  const even = Math.ceil(bytes.length / lineCount);
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += even) lines.push(bytes.slice(i, i + even).join(":") + (i + even < bytes.length ? ":" : ""));
  return lines;
}

/** "2031-01-01" from an ISO time; the text itself when it is not one. */
export function day(iso: string): string {
  return /^\d{4}-\d{2}-\d{2}/.test(iso) ? iso.slice(0, 10) : iso;
}

/** Continuation lines of a wrapped path: indented less than a label, so that a long directory name still fits. */
const PATH_INDENT = "    ";

/**
 * A path after a label, broken only after a "/" so that no file or directory name (a
 * repository id) is cut; a single name longer than a whole line is the only thing cut.
 */
export function pathLines(label: string, path: string, width: number): string[] {
  const names = path.match(/[^/]*\/|[^/]+$/g) ?? [path];
  const lines: string[] = [];
  let line = label;
  let fresh = true;
  for (let name of names) {
    while (line.length + name.length > width) {
      if (!fresh) {
        lines.push(line);
        line = PATH_INDENT;
        fresh = true;
        continue;
      }
      const room = Math.max(1, width - line.length);
      lines.push(line + name.slice(0, room));
      name = name.slice(room);
      line = PATH_INDENT;
    }
    line += name;
    fresh = false;
  }
  lines.push(line);
  return lines;
}
