import { EXIT, errorClass } from "../errors.js";

/** Limits on a key bundle's contents (the size limit is the fetcher's: FETCH_TOO_LARGE). */
export const BundleError = errorClass("BundleError", {
  BUNDLE_TOO_MANY_CERTIFICATES: { exit: EXIT.INPUT, next: "A key bundle holds a few dozen certificates: check the repository URL or the file given." },
});
