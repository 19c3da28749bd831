import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

type Gc = (options: { type: "minor" }) => void;

/**
 * V8's young-generation collection (a scavenge: well under a millisecond when little of the
 * young generation lives), for a caller that churns through buffers outside V8's heap: the
 * walk of a big inner package gets every byte from node:zlib in a new ArrayBuffer, which
 * only a scavenge frees, and V8 starts one for such buffers only once 16 MiB of them have
 * piled up (twice its largest semi-space), the walk allocating too little else in V8's heap
 * to start one sooner. Those buffers and the malloc heap they leave behind made up a fifth
 * of verify-package's peak RSS (README, issue 13).
 *
 * The function is a no-op where gc cannot be had. V8 gives `gc` only to the contexts made
 * while --expose-gc is on: at the first call, one small context is made with it on, and the
 * flag is set back at once (jest-leak-detector does the same), so a run that never collects
 * pays nothing.
 */
export function youngCollector(): () => void {
  let gc: Gc | undefined;
  let looked = false;
  return () => {
    if (!looked) {
      looked = true;
      gc = exposedGc();
    }
    gc?.({ type: "minor" });
  };
}

function exposedGc(): Gc | undefined {
  // node --expose-gc: the program's own.
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === "function") return own as Gc;
  try {
    setFlagsFromString("--expose-gc");
    const gc: unknown = runInNewContext("typeof gc === 'function' ? gc : undefined");
    return typeof gc === "function" ? (gc as Gc) : undefined;
  } catch {
    return undefined;
  } finally {
    setFlagsFromString("--no-expose-gc");
  }
}
