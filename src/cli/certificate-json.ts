import { z } from "zod";

/** One bundle certificate's verdict in JSON, as verify-bundle, setup and refresh print it. */
export const certificateVerdictJson = z.object({
  subject: z.string(),
  issuer: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  role: z.enum(["intermediate", "signing", "other"]),
  status: z.enum(["valid", "invalid"]),
  code: z.string().optional(),
  reason: z.string(),
  notBefore: z.string(),
  notAfter: z.string(),
});
