import type { KeyObject } from "node:crypto";
import type { Certificate } from "../../pki/certificate.js";
import { readCertificateFile } from "../../pki/certificate-file.js";
import { pkgInstallPath } from "../../pki/openssl-chain.js";
import { PKG_INSTALL_POLICY } from "../../pki/path.js";
import { detachedSigner } from "../pkcs7-sign.js";
import { checkSigner, readKey } from "../sign-package.js";
import { RepoSignError } from "./errors.js";

/**
 * The signing material of a repo sign run, read and judged once before anything is
 * written, then shared by every package: a key that is the certificate's, a certificate
 * pkg_install accepts as a signer, a chain that reaches the anchor the way NetBSD 10's
 * pkg_install builds it (from the certificates embedded in the signature only), and no
 * certificate of that path expiring within `minDays`.
 */

export interface SigningIdentity {
  readonly key: KeyObject;
  readonly signer: Certificate;
  /** --chain: embedded after the signer in every signature. */
  readonly chain: readonly Certificate[];
  readonly anchors: readonly Certificate[];
  /** Signer first, anchor last. */
  readonly path: readonly Certificate[];
  /** The earliest notAfter on the path: when the signed packages stop installing. */
  readonly expires: Date;
  /** PEM +PKG_SIGNATURE of a +PKG_HASH, as pkg_install's signer makes it (sign-package's format). */
  readonly sign: (hash: Uint8Array) => string;
}

const DAY = 86_400_000;

export interface IdentityInput {
  readonly keyPem: string;
  readonly certPem: string;
  readonly chainPem?: string;
  readonly anchors: readonly Certificate[];
}

function checkValidity(certificate: Certificate, time: Date, minDays: number): void {
  const detail = { subject: certificate.subject, notAfter: certificate.notAfter.toISOString() };
  // RFC 5280 4.1.2.5: valid from notBefore to notAfter inclusive; pkg_install checks at install time.
  if (certificate.notBefore > time || certificate.notAfter < time) {
    throw new RepoSignError("REPO_SIGNER_EXPIRED", `${certificate.subject} is valid only from ${certificate.notBefore.toISOString()} to ${certificate.notAfter.toISOString()}`, { detail });
  }
  const days = (certificate.notAfter.getTime() - time.getTime()) / DAY;
  if (days < minDays) {
    throw new RepoSignError("REPO_SIGNER_EXPIRES_SOON", `${certificate.subject} expires on ${certificate.notAfter.toISOString()}, in ${Math.floor(days)} days (--min-days ${minDays}): packages signed now would stop installing then`, { detail });
  }
}

export function prepareIdentity(input: IdentityInput, options: { time: Date; minDays: number }): SigningIdentity {
  const key = readKey(input.keyPem);
  // pkg_install's signer refusals (easy_pkcs7_sign): one certificate, not a CA, EKU, the key's own.
  const signer = checkSigner(input.certPem, key);
  const chain = input.chainPem ? readCertificateFile(input.chainPem, "--chain").certificates : [];
  for (const certificate of [signer, ...chain]) checkValidity(certificate, options.time, options.minDays);
  // OpenSSL 3.0 (NetBSD 10) builds the chain from the signature's certificates and the anchors
  // only (domain.md section 2), one issuer per step: the chain it builds with the signer and
  // --chain embedded (as the signature will hold them) must verify.
  const found = pkgInstallPath({ leaf: signer, untrusted: [signer, ...chain], trusted: input.anchors, time: options.time, policy: PKG_INSTALL_POLICY });
  if (!found.ok) {
    throw new RepoSignError("REPO_SIGNER_NOT_CHAINED", `${signer.subject} does not chain to the anchor with --chain: ${found.error.message} [${found.error.code}]`, { cause: found.error, detail: { subject: signer.subject, code: found.error.code } });
  }
  for (const certificate of found.path) checkValidity(certificate, options.time, options.minDays);
  const expires = new Date(Math.min(...found.path.map((c) => c.notAfter.getTime())));
  const sign = detachedSigner({ key, certificate: signer.der, chain: chain.map((c) => c.der) });
  return { key, signer, chain, anchors: input.anchors, path: found.path, expires, sign };
}

export function signHash(identity: SigningIdentity, hash: Uint8Array): Buffer {
  return Buffer.from(identity.sign(hash), "latin1");
}

/** Whether a signature's embedded certificates are exactly this signer followed by this chain. */
export function embedsExactly(identity: SigningIdentity, embedded: readonly Certificate[]): boolean {
  const ours = [identity.signer, ...identity.chain].map((c) => c.sha256);
  return embedded.length === ours.length && embedded.every((c, i) => c.sha256 === ours[i]);
}
