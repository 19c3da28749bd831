import type { Writable } from "node:stream";
import { STEP_TITLES, type BootstrapEvent, type CertificateSummary } from "../bootstrap/events.js";
import { colonFingerprint, formatBytes, shortDuration } from "../format.js";

export function certificateLine(certificate: CertificateSummary): string {
  const expiry = `${certificate.notAfter.slice(0, 10)} (${certificate.daysLeft} days)`;
  const head = `${certificate.status.padEnd(7)} ${certificate.role.padEnd(12)} ${certificate.subject}`;
  const detail = certificate.status === "valid" ? `expires ${expiry}` : `${certificate.reason} [${certificate.code ?? "invalid"}]`;
  const note = certificate.note === undefined ? "" : `\n      ${certificate.note}`;
  return `    ${head}\n      sha256 ${colonFingerprint(certificate.sha256)}\n      ${detail}${note}`;
}

/**
 * The plain-text face of the bootstrap event stream: progress and results on `stdout`, the
 * failure (what was rolled back, the cause, the next step) on `stderr`. On a terminal,
 * download progress redraws one line, and a download without an answer yet shows the time
 * waited, the attempt and when it gives up, once a second; elsewhere each retry is one line.
 */
export function plainReporter(streams: { readonly stdout: Writable; readonly stderr: Writable }, interactive: boolean): (event: BootstrapEvent) => void {
  const { stdout: out, stderr: err } = streams;
  let progressShown = false;
  let waiting: { timer: NodeJS.Timeout; url: string } | undefined;
  const stopWaiting = () => {
    clearInterval(waiting?.timer);
    waiting = undefined;
  };
  const endProgress = () => {
    stopWaiting();
    if (progressShown) out.write("\n");
    progressShown = false;
  };
  const waitLine = (since: number, attempt: string, givesUpAt: number) => () => {
    const now = Date.now();
    out.write(`\r    no answer yet: ${shortDuration((now - since) / 1000)}, ${attempt}, gives up in ${shortDuration(Math.max(0, givesUpAt - now) / 1000)}   `);
    progressShown = true;
  };
  let firstAttempt = { url: "", at: 0 };
  return (event) => {
    if (event.type === "fetch-attempt") {
      const attempt = `attempt ${event.attempt} of ${event.attempts}`;
      if (event.retryAfter) {
        if (progressShown) out.write("\n");
        progressShown = false;
        out.write(`    retrying (${attempt}): ${event.retryAfter.message} [${event.retryAfter.code}]\n`);
      }
      if (!interactive) return;
      stopWaiting();
      if (event.attempt === 1 || firstAttempt.url !== event.url) firstAttempt = { url: event.url, at: Date.now() };
      const draw = waitLine(firstAttempt.at, attempt, event.givesUpAt);
      draw();
      waiting = { timer: setInterval(draw, 1000), url: event.url };
      waiting.timer.unref();
      return;
    }
    if (event.type === "progress") {
      if (!interactive) return;
      if (event.received > 0 && waiting?.url === event.url) stopWaiting();
      if (waiting) return;
      const total = event.total === undefined ? "" : ` of ${formatBytes(event.total)}`;
      out.write(`\r    ${formatBytes(event.received)}${total}   `);
      progressShown = true;
      return;
    }
    endProgress();
    switch (event.type) {
      case "step-started":
        out.write(`==> ${STEP_TITLES[event.step]}: ${event.detail}\n`);
        break;
      case "certificate-reviewed":
        out.write(`${certificateLine(event.certificate)}\n`);
        break;
      case "file-written":
        out.write(`    ${event.file.status.padEnd(9)} ${event.file.path}\n`);
        break;
      case "step-finished":
        out.write(`    ok: ${event.summary}\n`);
        break;
      case "notice":
        out.write(`    note: ${event.message}\n`);
        break;
      case "step-skipped":
        out.write(`==> ${STEP_TITLES[event.step]}: skipped (${event.reason})\n`);
        break;
      case "rolled-back":
        err.write(`pkgtrust: rolled back: ${event.files.length > 0 ? event.files.join(", ") : "nothing had been written"}\n`);
        for (const entry of event.notRestored) err.write(`pkgtrust: NOT put back: ${entry.path}: ${entry.message} [${entry.code}]\n`);
        break;
      case "step-failed":
        err.write(`pkgtrust: FAILED at "${STEP_TITLES[event.failure.step]}": ${event.failure.message} [${event.failure.code}]\n`);
        err.write(`  ${event.failure.unchanged ? "Nothing on the system was changed." : "Some files could not be put back: see NOT put back above."}\n`);
        err.write(`  next: ${event.failure.next}\n`);
        break;
    }
  };
}
