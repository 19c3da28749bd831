import { requireSafeValue, splitLines } from "./pkg-install-conf.js";

/**
 * pkgin's repositories.conf: one repository URL per line, "#" comments, order matters.
 * pkgtrust makes the verified repository the only active one (as sysinst does when it
 * writes the file), keeping every comment and blank line; replaced URLs stay visible as
 * comments so that an admin sees what changed.
 */
export function setRepository(existing: string | undefined, url: string): string {
  requireSafeValue("the pkgin repository", url);
  const lines = splitLines(existing ?? "");
  const out: string[] = [];
  let placed = false;
  for (const line of lines) {
    const body = line.replace(/\r?\n$/, "").trim();
    if (body === "" || body.startsWith("#")) {
      out.push(line);
      continue;
    }
    if (!placed) out.push(`${url}\n`);
    placed = true;
    if (body !== url) out.push(`# replaced by pkgtrust: ${line.endsWith("\n") ? line : `${line}\n`}`);
  }
  if (!placed) {
    const last = out.at(-1);
    if (last !== undefined && !last.endsWith("\n")) out.push("\n");
    out.push(`${url}\n`);
  }
  return out.join("");
}

/** The active repository URLs, in order. */
export function readRepositories(text: string): string[] {
  return splitLines(text)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}
