/** The openssl CLI as an independent cross-check of pkgtrust's verdicts (OpenSSL 3.0 here, as NetBSD 10). */
import { spawnSync } from "node:child_process";

export interface OpensslVerdict {
  readonly ok: boolean;
  /** OpenSSL's error text, e.g. "certificate has expired"; empty when ok. */
  readonly error: string;
  readonly output: string;
}

export interface OpensslVerifyOptions {
  anchor: string;
  untrusted?: string;
  cert: string;
  purpose?: "smimesign" | "any";
  time?: Date;
  crl?: string;
  extra?: string[];
}

/** `openssl verify -CAfile anchor [-untrusted bundle] -purpose P [-attime T] cert`. */
export function opensslVerify(options: OpensslVerifyOptions): OpensslVerdict {
  const args = ["verify", "-CAfile", options.anchor, "-purpose", options.purpose ?? "smimesign"];
  if (options.untrusted) args.push("-untrusted", options.untrusted);
  if (options.time) args.push("-attime", String(Math.floor(options.time.getTime() / 1000)));
  if (options.crl) args.push("-crl_check", "-CRLfile", options.crl);
  args.push(...(options.extra ?? []), options.cert);
  const result = spawnSync("openssl", args, { encoding: "utf8" });
  const output = `${result.stdout}${result.stderr}`;
  const match = /error \d+ at \d+ depth lookup: (.*)/.exec(output);
  return { ok: result.status === 0, error: match?.[1]?.trim() ?? (result.status === 0 ? "" : output.trim()), output };
}
