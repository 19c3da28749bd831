/** PEM text of one DER object (RFC 7468: 64-column base64); CRLs need the label OpenSSL reads, "X509 CRL". */
export function pemBlock(label: "CERTIFICATE" | "X509 CRL", der: Uint8Array): string {
  const lines = Buffer.from(der).toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
