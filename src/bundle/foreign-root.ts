import { signedBy, type Certificate } from "../pki/certificate.js";
import type { CertificateVerdict } from "./verify.js";

/**
 * True when a bundle certificate claims to descend from a root other than the anchors: its
 * best path ends at a self-signed certificate that is not an anchor, or at a certificate
 * naming an anchor as issuer (in any encoding OpenSSL takes for the same name) whose key did
 * not sign it (a look-alike root of the same name). Either is a substitution attempt (TUF: arbitrary installation, malicious mirror),
 * not a stale or broken bundle.
 */
export function chainsToForeignRoot(verdict: CertificateVerdict, anchors: readonly Certificate[]): boolean {
  if (verdict.status === "valid") return false;
  if (verdict.code === "CERT_UNTRUSTED_ROOT") return true;
  // The certificate that claims the issuer: the last of the path, or the one before when the
  // last is a candidate whose key does not verify it (a CERT_BAD_SIGNATURE attempt).
  const path = verdict.path ?? [verdict.certificate];
  const [child, last] = [path.at(-2), path.at(-1) ?? verdict.certificate];
  const top = child && !signedBy(child, last) ? child : last;
  const namesakes = anchors.filter((anchor) => anchor.selfSigned && anchor.subjectName === top.issuerName);
  return namesakes.length > 0 && !namesakes.some((anchor) => signedBy(top, anchor));
}
