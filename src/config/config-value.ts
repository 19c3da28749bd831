/**
 * What may go into a value pkgtrust writes into a configuration file. pkg_install.conf and
 * pkgin's repositories.conf are read line by line (parse-config.c parse_pkg_install_conf), so a newline
 * inside a value would add settings of an attacker's choosing (CHECK_VULNERABILITIES=never)
 * that later runs keep as the admin's own; pkg_install also splits PKG_PATH at ';'.
 */

/** Control characters (C0, DEL, C1) and the Unicode line and paragraph separators. */
const CONTROL = /[\p{Cc}\u2028\u2029]/u;

/** pkg_install's PKG_PATH separator. */
export const PATH_SEPARATOR = ";";

/** A readable name of the first character a configuration value must not hold, or undefined. */
export function unsafeCharacter(value: string, options: { separator?: boolean } = {}): string | undefined {
  const control = CONTROL.exec(value)?.[0];
  if (control !== undefined) return `the control character U+${(control.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
  if (options.separator && value.includes(PATH_SEPARATOR)) return `'${PATH_SEPARATOR}', which pkg_install takes as a PKG_PATH separator`;
  return undefined;
}
