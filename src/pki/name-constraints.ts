/**
 * Name constraints as OpenSSL 3.0 applies them while verifying a chain (x509_vfy.c
 * check_name_constraints, v3_ncons.c NAME_CONSTRAINTS_check): the nameConstraints of every
 * CA on the path, the trust anchor included, bind every certificate below it, except
 * self-issued intermediates (RFC 5280 4.2.1.10). Checked are the subject DN (directoryName),
 * the subject's emailAddress attributes (rfc822Name), the subjectAltName entries, and for the
 * signer, without a DNS subjectAltName, each commonName that looks like a host name (dNSName).
 *
 * Of a name type, at least one permitted subtree must match when there are any, and no
 * excluded one may. directoryName matches as a prefix of the canonical encoding
 * (x509_name_canon), rfc822Name and dNSName as OpenSSL's nc_email and nc_dns do. A
 * constraint with a minimum or maximum, or a URI, IP address or other name compared with a
 * constraint of its type, is refused: pkgtrust does not evaluate those (fail closed).
 */
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate as AsnCertificate, GeneralName, id_ce_nameConstraints, id_ce_subjectAltName, Name, NameConstraints, SubjectAlternativeName, type GeneralSubtree } from "@peculiar/asn1-x509";
import type { Certificate } from "./certificate.js";
import { canonicalNameDer } from "./name.js";

const EMAIL_ADDRESS = "1.2.840.113549.1.9.1";
const COMMON_NAME = "2.5.4.3";

type Kind = "dirName" | "email" | "dns" | "other";

/** A name of a certificate as nc_match sees it: its kind, and its comparable value. */
interface CertName {
  readonly kind: Kind;
  readonly value: string;
  /** OpenSSL's X509_V_ERR_UNSUPPORTED_NAME_SYNTAX: an emailAddress attribute that is not an IA5String. */
  readonly badSyntax?: boolean;
}

function kindOf(name: GeneralName): { kind: Kind; value: string } {
  if (name.directoryName) return { kind: "dirName", value: canonicalNameDer(AsnConvert.serialize(name.directoryName)).toString("hex") };
  if (name.rfc822Name !== undefined) return { kind: "email", value: name.rfc822Name };
  if (name.dNSName !== undefined) return { kind: "dns", value: name.dNSName };
  return { kind: "other", value: "" };
}

const lower = (text: string) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** nc_dns: the base, or the name with labels added on the left (a '.' between them). */
function dnsMatches(name: string, base: string): boolean {
  if (base.length === 0) return true;
  if (name.length < base.length) return false;
  const tail = name.slice(name.length - base.length);
  if (name.length > base.length && !base.startsWith(".") && name[name.length - base.length - 1] !== ".") return false;
  return lower(tail) === lower(base);
}

/** nc_email: ".example.org" matches any host below it; "user@host" the mailbox; "host" every mailbox at host. */
function emailMatches(mailbox: string, base: string): boolean | "syntax" {
  const at = mailbox.indexOf("@");
  if (at < 0) return "syntax";
  const baseAt = base.indexOf("@");
  if (baseAt < 0 && base.startsWith(".")) return mailbox.length > base.length && lower(mailbox.slice(mailbox.length - base.length)) === lower(base);
  if (baseAt > 0 && base.slice(0, baseAt) !== mailbox.slice(0, at)) return false;
  return lower(base.slice(baseAt + 1)) === lower(mailbox.slice(at + 1));
}

/** nc_match_single for one name and one subtree base of its kind. */
function matches(name: CertName, base: Base): boolean | "unsupported" {
  if (name.kind === "dirName") return name.value.startsWith(base.value);
  if (name.kind === "dns") return dnsMatches(name.value, base.value);
  if (name.kind === "email") {
    const result = name.badSyntax ? "syntax" : emailMatches(name.value, base.value);
    return result === "syntax" ? "unsupported" : result;
  }
  return "unsupported";
}

/** A subtree's base as nc_match compares it, and whether nc_minmax_valid passes it (minimum 0, no maximum). */
interface Base {
  readonly kind: Kind;
  readonly value: string;
  readonly minMaxValid: boolean;
}

/** One CA's constraints, each base made comparable once (a directoryName's canonical encoding). */
interface Subtrees {
  readonly permitted: readonly Base[];
  readonly excluded: readonly Base[];
}

function subtreesOf(constraints: NameConstraints): Subtrees {
  const bases = (subtrees: readonly GeneralSubtree[] | undefined) => (subtrees ?? []).map((s) => ({ ...kindOf(s.base), minMaxValid: s.minimum === 0 && s.maximum === undefined }));
  return { permitted: bases(constraints.permittedSubtrees), excluded: bases(constraints.excludedSubtrees) };
}

/** nc_match: undefined when the name passes, else why not. */
function violation(name: CertName, subtrees: Subtrees): string | undefined {
  const permitted = subtrees.permitted.filter((b) => b.kind === name.kind);
  const excluded = subtrees.excluded.filter((b) => b.kind === name.kind);
  // nc_minmax_valid is asked of every subtree of the name's kind, whether it matches or not.
  if ([...permitted, ...excluded].some((b) => !b.minMaxValid)) return "has a name constraint with a minimum or maximum (X509_V_ERR_SUBTREE_MINMAX)";
  const unsupported = `has a ${name.kind} name pkgtrust cannot compare with its constraints`;
  // Of the permitted subtrees, at least one must match; none is compared after the first match.
  let found = permitted.length === 0;
  for (const base of permitted) {
    if (found) break;
    const result = matches(name, base);
    if (result === "unsupported") return unsupported;
    found = result;
  }
  if (!found) return `has a ${name.kind} name outside the permitted subtrees`;
  for (const base of excluded) {
    const result = matches(name, base);
    if (result === "unsupported") return unsupported;
    if (result) return `has a ${name.kind} name in an excluded subtree`;
  }
  return undefined;
}

/**
 * cn2dnsid: a commonName counts as a DNS name only when it has two or more labels of letters,
 * digits, '_' and inner '-', dots not next to a dot or a hyphen.
 */
function looksLikeHostName(cn: string): boolean {
  let dns = false;
  for (let i = 0; i < cn.length; i++) {
    const c = cn[i] as string;
    if (/[A-Za-z0-9_]/.test(c)) continue;
    if (i > 0 && i < cn.length - 1) {
      if (c === "-") continue;
      if (c === "." && cn[i + 1] !== "." && cn[i - 1] !== "-" && cn[i + 1] !== "-") {
        dns = true;
        continue;
      }
    }
    return false;
  }
  return dns;
}

function extension<T>(asn: AsnCertificate, oid: string, type: new () => T): T | undefined {
  const found = asn.tbsCertificate.extensions?.find((e) => e.extnID === oid);
  return found ? AsnConvert.parse(found.extnValue, type) : undefined;
}

/** The names NAME_CONSTRAINTS_check (and, for the signer, NAME_CONSTRAINTS_check_CN) compares. */
function namesOf(cert: Certificate, asn: AsnCertificate, leaf: boolean): CertName[] {
  const subject: Name = asn.tbsCertificate.subject;
  const attributes = subject.flatMap((rdn) => [...rdn]);
  const names: CertName[] = [];
  if (attributes.length > 0) {
    names.push({ kind: "dirName", value: cert.subjectName });
    for (const a of attributes.filter((a) => a.type === EMAIL_ADDRESS)) names.push({ kind: "email", value: a.value.ia5String ?? "", badSyntax: a.value.ia5String === undefined });
  }
  const altNames = [...(extension(asn, id_ce_subjectAltName, SubjectAlternativeName) ?? [])].map(kindOf);
  names.push(...altNames);
  if (leaf && !altNames.some((n) => n.kind === "dns")) {
    for (const a of attributes.filter((a) => a.type === COMMON_NAME)) {
      const cn = a.value.toString();
      if (looksLikeHostName(cn)) names.push({ kind: "dns", value: cn });
    }
  }
  return names;
}

/** The first certificate of `path` (leaf first) that breaks the name constraints of a CA above it. */
export function nameConstraintsViolation(path: readonly Certificate[]): { readonly index: number; readonly message: string } | undefined {
  const parsed = new Map<number, AsnCertificate>();
  const asnOf = (i: number) => parsed.get(i) ?? (parsed.set(i, AsnConvert.parse((path[i] as Certificate).der, AsnCertificate)), parsed.get(i) as AsnCertificate);
  const constraints = path.map((_, j) => {
    const nc = j > 0 && (path[j] as Certificate).hasNameConstraints ? extension(asnOf(j), id_ce_nameConstraints, NameConstraints) : undefined;
    return nc && subtreesOf(nc);
  });
  if (!constraints.some(Boolean)) return undefined;
  for (let i = path.length - 1; i >= 0; i--) {
    const cert = path[i] as Certificate;
    // Self-issued certificates are exempt, except the leaf.
    if (i > 0 && cert.selfIssued) continue;
    const names = namesOf(cert, asnOf(i), i === 0);
    for (let j = path.length - 1; j > i; j--) {
      const nc = constraints[j];
      if (!nc) continue;
      for (const name of names) {
        const why = violation(name, nc);
        if (why) return { index: i, message: `${why} of "${(path[j] as Certificate).subject}" (RFC 5280 4.2.1.10)` };
      }
    }
  }
  return undefined;
}
