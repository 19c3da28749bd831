/**
 * The one way a setup or refresh is stopped: an AbortSignal whose reason is the failure.
 * The caller's signal (the wizard's Ctrl-C, the CLI's SIGINT/SIGTERM/SIGHUP) and the run's
 * total deadline abort it; downloads and pkg_add end at once, and the steps in between check
 * it, so that the run fails with the reason and rolls back what it wrote.
 */
import { PkgtrustError } from "../errors.js";
import { MAX_TIMER_MS } from "../limits.js";
import { BootstrapError } from "./errors.js";

export interface RunSignal {
  readonly signal: AbortSignal;
  /** Clears the deadline's timer. */
  dispose(): void;
}

export function runSignal(outer: AbortSignal | undefined, deadlineMs: number): RunSignal {
  const deadline = new AbortController();
  const timer = setTimeout(() => {
    deadline.abort(new BootstrapError("SETUP_DEADLINE", `the run did not finish within ${Math.round(deadlineMs / 1000)} s`, { detail: { deadlineMs } }));
  }, Math.min(deadlineMs, MAX_TIMER_MS));
  timer.unref();
  return { signal: outer === undefined ? deadline.signal : AbortSignal.any([outer, deadline.signal]), dispose: () => clearTimeout(timer) };
}

/** Why the run was stopped, as a PkgtrustError (an abort without one is a plain cancel). */
export function stopReason(signal: AbortSignal): PkgtrustError {
  return signal.reason instanceof PkgtrustError ? signal.reason : new BootstrapError("BOOT_CANCELLED", "the run was cancelled");
}

/** Ends the run here when it was stopped meanwhile. */
export function checkpoint(signal: AbortSignal): void {
  if (signal.aborted) throw stopReason(signal);
}

/** Waits for `promise` (the user's review), or fails with the reason when the run is stopped first. */
export function untilStopped<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(stopReason(signal));
    if (signal.aborted) return stop();
    signal.addEventListener("abort", stop, { once: true });
    const settle = () => signal.removeEventListener("abort", stop);
    promise.then(
      (value) => (settle(), resolve(value)),
      (error: unknown) => (settle(), reject(error)),
    );
  });
}
