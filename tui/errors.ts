import { EXIT, errorClass } from "../src/errors.js";

export const TuiError = errorClass("TuiError", {
  // Thrown into the pipeline through its event callback, so that it rolls back what it wrote.
  TUI_CANCELLED: { exit: EXIT.USAGE, next: "Nothing was changed; run pkgtrust setup again to choose a repository." },
});
