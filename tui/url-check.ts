/**
 * The Repository screen's check of what the user typed, before anything is fetched: a
 * quick, friendly first pass. The pipeline's own parseRepositoryInput stays the authority
 * (it also refuses queries, credentials and file: hosts) and reports through the Failure screen.
 */

export type UrlCheck = { readonly ok: true; readonly repository: string } | { readonly ok: false; readonly problem: string };

const EXAMPLE = "https://cdn.NetBSD.org/pub/pkgsrc/packages/NetBSD/amd64/10.0/All";

export function checkRepositoryUrl(input: string): UrlCheck {
  const text = input.trim();
  if (text === "") return { ok: false, problem: `Type the repository URL, e.g. ${EXAMPLE}` };
  // Offline installs from media name a directory (the pipeline turns it into a file: URL).
  if (text.startsWith("/")) {
    return text.replace(/\/+$/, "") === "" ? { ok: false, problem: "Name the directory of the packages, not / itself." } : { ok: true, repository: text };
  }
  if (/\s/.test(text)) return { ok: false, problem: "A URL cannot contain spaces." };
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) return { ok: false, problem: `Start with https://, http://, file:// or an absolute path (did you mean https://${text}?)` };
  if (scheme !== "http" && scheme !== "https" && scheme !== "file") {
    return { ok: false, problem: `The scheme must be https, http or file, not ${scheme}.` };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, problem: scheme === "file" ? "This is not a valid file: URL." : "The host name is missing or not valid." };
  }
  // "http:///x" and "http:/x" parse (the host becomes "x"), but are a missing host to a person.
  if (scheme !== "file" && (url.hostname === "" || !/^[^:]+:\/\/[^/]/.test(text))) return { ok: false, problem: "The host name is missing: https://HOST/path" };
  // pkg_keys.pem and the packages live in a directory of the mirror, never at its top.
  if (url.pathname.replace(/\/+$/, "") === "") {
    return { ok: false, problem: "Add the path of the packages, e.g. /pub/pkgsrc/packages/NetBSD/amd64/10.0/All" };
  }
  return { ok: true, repository: text };
}
