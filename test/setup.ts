import { expect } from "vitest";
import { PkgtrustError } from "../src/errors.js";

// Tests assert codes, not message text (architecture.md).
expect.extend({
  toThrowWithCode(received: unknown, code: string) {
    const check = (error: unknown) => ({
      pass: error instanceof PkgtrustError && error.code === code,
      message: () => `expected a PkgtrustError with code ${code}, got ${error instanceof PkgtrustError ? error.code : String(error)}`,
    });
    if (typeof received === "function") {
      try {
        (received as () => unknown)();
      } catch (error) {
        return check(error);
      }
      return { pass: false, message: () => `expected a PkgtrustError with code ${code}, nothing was thrown` };
    }
    return check(received);
  },
});

declare module "vitest" {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- must match vitest's declaration
  interface Matchers<T = any> {
    toThrowWithCode(code: string): T;
  }
}
