import { EXIT, errorClass } from "../errors.js";

/** The base-system anchor catalogue (anchors/catalogue.json) and `pkgtrust anchors check`. */
export const AnchorsError = errorClass("AnchorsError", {
  ANCHORS_CATALOGUE_UNREADABLE: { exit: EXIT.INPUT, next: "Check the path and permissions of the --catalogue file." },
  ANCHORS_CATALOGUE_INVALID: { exit: EXIT.INPUT, next: "Fix the catalogue as anchors/README.md describes: name, path and SHA-256 fingerprint per anchor." },
  ANCHORS_CATALOGUE_EMPTY: { exit: EXIT.CONFIG, next: "This build's catalogue names no anchor yet: release engineering adds it (anchors/README.md), or pass --catalogue FILE." },
  ANCHOR_FILE_MISSING: { exit: EXIT.CONFIG, next: "Install the base-system anchor file at the path the catalogue names (under --root when checking a target)." },
  ANCHOR_FILE_MALFORMED: { exit: EXIT.INPUT, next: "The anchor file is damaged: reinstall it from the release sets." },
  ANCHOR_MISMATCH: { exit: EXIT.UNTRUSTED, next: "The installed anchor file is not the one release engineering published: reinstall it from the release sets." },
});
export type AnchorsError = InstanceType<typeof AnchorsError>;
export type AnchorsErrorCode = AnchorsError["code"];
