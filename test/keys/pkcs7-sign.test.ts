import { createPrivateKey, randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detachedSigner } from "../../src/keys/pkcs7-sign.js";
import { readPkcs7Signature, verifySigners } from "../../src/package/pkcs7-signature.js";
import { TestPki, type Issued } from "../fixtures/pki.js";
import { requireTool } from "../fixtures/requirements.js";

let pki: TestPki;
let ca: Issued;
beforeAll(async () => {
  pki = await TestPki.create();
  ca = await pki.intermediate(await pki.root("Template Root"), "Template CA");
});
afterAll(() => pki?.cleanup());

const derLength = (pem: string) => Buffer.from(pem.replace(/-----[A-Z0-9 ]+-----|\s/g, ""), "base64").length;

describe("detachedSigner", () => {
  for (const key of ["ec-p256", "rsa-2048"] as const) {
    it(`gives a valid signature over each content from one template per signature length (${key})`, async () => {
      const signer = await pki.signer(ca, `Template ${key}`, { key });
      const sign = detachedSigner({ key: createPrivateKey(signer.keyPem), certificate: signer.der, chain: [ca.der] });
      const lengths = new Set<number>();
      for (let i = 0; i < 40; i++) {
        const content = randomBytes(100 + i);
        const pem = sign(content);
        lengths.add(derLength(pem));
        const signature = readPkcs7Signature(pem);
        expect(signature.embedded.map((der) => Buffer.from(der).toString("hex"))).toEqual([signer.der, ca.der].map((der) => Buffer.from(der).toString("hex")));
        // Throws on a digest or signature that does not verify.
        expect(verifySigners(signature, content, [])).toHaveLength(1);
        if (i < 8 && requireTool("openssl", "openssl smime -verify of templated signatures")) {
          const base = join(pki.dir, `template-${key}-${i}`);
          writeFileSync(`${base}.sig`, pem);
          writeFileSync(`${base}.data`, content);
          const openssl = spawnSync("openssl", ["smime", "-verify", "-binary", "-inform", "PEM", "-in", `${base}.sig`, "-content", `${base}.data`, "-noverify", "-out", "/dev/null"], { encoding: "utf8" });
          expect(openssl.status, openssl.stderr).toBe(0);
        }
      }
      // ECDSA's DER signature varies in length, so more than one template is exercised; RSA's never does.
      if (key === "ec-p256") expect(lengths.size).toBeGreaterThan(1);
      else expect(lengths.size).toBe(1);
    });
  }
});
