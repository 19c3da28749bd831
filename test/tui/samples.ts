/** Bootstrap data for the wizard's unit tests, shaped as runSetup produces it. */
import type { CertificateSummary } from "../../src/bootstrap/events.js";
import type { SetupOutcome } from "../../src/bootstrap/setup.js";
import { BootstrapError } from "../../src/bootstrap/errors.js";
import { NO_PKG_ADD } from "../../src/bootstrap/test-install.js";

export const GOOD_URL = "http://127.0.0.1:8080/pub/pkgsrc/packages/NetBSD/amd64/10.0/All";

export function certificate(overrides: Partial<CertificateSummary> = {}): CertificateSummary {
  return {
    subject: "CN=build machine amd64, O=The NetBSD Foundation",
    issuer: "CN=pkgsrc developer CA, O=The NetBSD Foundation",
    sha256: "52fc5794daf02a9d1f87d729a5620fb1b5f79b41a5b8f602d9d11c31436d6404",
    role: "signing",
    status: "valid",
    reason: "chains to the anchor",
    notBefore: "2026-01-01T00:00:00.000Z",
    notAfter: "2027-01-01T00:00:00.000Z",
    daysLeft: 214,
    ...overrides,
  };
}

export const INTERMEDIATE = certificate({ role: "intermediate", subject: "CN=pkgsrc developer CA, O=The NetBSD Foundation", issuer: "CN=pkgsrc CA", daysLeft: 700 });
export const EXPIRED = certificate({
  status: "invalid",
  code: "PATH_EXPIRED",
  reason: "the certificate expired on 2025-01-01, before the verification time (RFC 5280 section 6.1.3 (a)(2))",
  notAfter: "2025-01-01T00:00:00.000Z",
  daysLeft: -151,
});

export const ANCHOR_ROOT = { subject: "CN=pkgsrc CA, O=The NetBSD Foundation", sha256: "03ef9443be0b6f14f6588e5dab9ed2828ca77da85f3175e42196c2cd1f8a0766" };

export const SUCCESS: SetupOutcome = {
  ok: true,
  result: {
    repository: `${GOOD_URL}/`,
    configFile: "/etc/pkg_install.conf",
    anchorFile: "/usr/share/certs/pkgsrc/pkgsrc-ca.pem",
    anchorRoots: [ANCHOR_ROOT],
    certificates: [INTERMEDIATE, certificate()],
    files: [
      { path: "/etc/pkgtrust/repositories/http-127.0.0.1-8080-pub-pkgsrc-packages-netbsd-amd64-10.0-all-ff45b3b785/anchors.pem", status: "created" },
      { path: "/etc/pkgtrust/repositories/http-127.0.0.1-8080-pub-pkgsrc-packages-netbsd-amd64-10.0-all-ff45b3b785/chain.pem", status: "created" },
      { path: "/etc/pkg_install.conf", status: "updated" },
      { path: "/var/db/pkgtrust/state.json", status: "created" },
    ],
    testInstall: { package: "digest-20220214", url: `${GOOD_URL}/digest-20220214.tgz`, check: "native", why: `${NO_PKG_ADD} (no pkg_add on this system)`, trusted: true, signer: "CN=build machine amd64" },
  },
};

export function failure(code: "BOOT_FOREIGN_ROOT" | "BOOT_DECLINED", unchanged = true): SetupOutcome {
  const error = new BootstrapError(code, code === "BOOT_DECLINED" ? "the key bundle was not accepted" : "CN=rogue CA in the key bundle chains to a root that is not in /usr/share/certs/pkgsrc/pkgsrc-ca.pem");
  return { ok: false, failure: { step: "verify", code, message: error.message, next: error.next, unchanged }, error };
}
