/**
 * repo sign's packages on --jobs threads. Each thread runs whole package jobs
 * (package-job.ts: read, verify, sign, write, rename) with its own memos, hashing on the
 * thread itself (the job threads keep every core busy: handing blocks to yet another thread
 * only copied them); the main thread hands out file names, counts, fsyncs the directory and rewrites the
 * summaries. A profile of the single-threaded run showed its main thread busy for the whole
 * run (signature parsing, bzip2 and xz decoding, the file system calls) while the hashing
 * threads idled; here every core does all of it.
 *
 * A thread is the CLI's own file started again (`entry`, process.argv[1]: the bin or the
 * single file), which main() routes here by its workerData, so the single file needs no
 * second bundle. Messages carry plain data: a failure's error travels as its code table
 * entry and is rebuilt.
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { InternalError, PkgtrustError, type ExitStatus } from "../../errors.js";
import { PackageCache } from "../../package/package-cache.js";
import { parseCertificate } from "../../pki/certificate.js";
import { prepareIdentity } from "./identity.js";
import { failed, processPackage, type JobContext, type Outcome } from "./package-job.js";
import { ReadBuffers } from "./read-buffers.js";

const ROLE = "pkgtrust-repo-sign-jobs";
/** Packages handed to a thread at a time, so that its reads, fsyncs and renames overlap. */
const IN_FLIGHT_PER_THREAD = 4;
const PROGRESS_MS = 100;

/** What a thread needs to rebuild the run's context: plain data only. */
export interface ThreadSetup {
  readonly role: typeof ROLE;
  readonly dir: string;
  readonly keyPem: string;
  readonly certPem: string;
  readonly chainPem?: string;
  readonly anchorDers: readonly Uint8Array[];
  readonly minDays: number;
  readonly time: number;
  readonly force: boolean;
  readonly dryRun: boolean;
  readonly expiredGraceDays: number;
  readonly digests: readonly string[];
}

type PortableError = { readonly code: string; readonly message: string; readonly exit: ExitStatus; readonly next: string; readonly detail: PkgtrustError["detail"] };
type PortableOutcome = Exclude<Outcome, { refused: false }> | (Omit<Extract<Outcome, { refused: false }>, "error"> & { readonly error: PortableError });
type FromThread = { readonly type: "read"; readonly bytes: number } | { readonly type: "outcome"; readonly outcome: PortableOutcome };

function portable(outcome: Outcome): PortableOutcome {
  if (outcome.kind !== "failed" || outcome.refused) return outcome;
  const { code, message, exit, next, detail } = outcome.error;
  return { ...outcome, error: { code, message, exit, next, detail } };
}

function rebuilt(outcome: PortableOutcome): Outcome {
  if (outcome.kind !== "failed" || outcome.refused) return outcome;
  const { code, message, exit, next, detail } = outcome.error;
  return { ...outcome, error: new PkgtrustError(code, message, { exit, next }, { detail }) };
}

/** Whether this thread was started to run package jobs (main() asks before anything else). */
export function isJobThread(): boolean {
  return !isMainThread && (workerData as { role?: string } | null)?.role === ROLE;
}

/** The thread's side: jobs for the file names the main thread sends, until it closes the port. */
export async function serveJobs(): Promise<void> {
  const setup = workerData as ThreadSetup;
  const port = parentPort;
  if (!port) return;
  const identity = prepareIdentity(
    { keyPem: setup.keyPem, certPem: setup.certPem, ...(setup.chainPem ? { chainPem: setup.chainPem } : {}), anchors: setup.anchorDers.map((der) => parseCertificate(der, "--anchor")) },
    { time: new Date(setup.time), minDays: setup.minDays },
  );
  // Bytes read, told to the main thread at most every PROGRESS_MS and before each outcome (a message per read chunk cost 5% of a thread).
  let unreported = 0;
  let timer: NodeJS.Timeout | undefined;
  const reportRead = () => {
    clearTimeout(timer);
    timer = undefined;
    if (unreported > 0) port.postMessage({ type: "read", bytes: unreported } satisfies FromThread);
    unreported = 0;
  };
  const context: JobContext = {
    dir: setup.dir,
    identity,
    trust: { anchors: identity.anchors, chain: identity.chain },
    cache: new PackageCache(),
    time: new Date(setup.time),
    pool: "inline",
    force: setup.force,
    dryRun: setup.dryRun,
    expiredGraceDays: setup.expiredGraceDays,
    digests: setup.digests,
    onRead: (bytes) => {
      unreported += bytes;
      timer ??= setTimeout(reportRead, PROGRESS_MS);
    },
    readBuffers: new ReadBuffers(),
  };
  // The main thread terminates this thread once every outcome is in.
  port.on("message", (file: string) => {
    void processPackage(context, file).then((outcome) => {
      reportRead();
      port.postMessage({ type: "outcome", outcome: portable(outcome) } satisfies FromThread);
    });
  });
}

export interface ThreadRun {
  readonly entry: string;
  readonly threads: number;
  readonly setup: Omit<ThreadSetup, "role">;
  readonly onRead: (bytes: number) => void;
  /** Every outcome, as it comes; awaited before the next file is handed out. */
  readonly onOutcome: (outcome: Outcome) => Promise<void>;
}

/** The main thread's side: hands `files` out to the threads, and resolves once every one has its outcome. */
export async function runOnThreads(files: readonly string[], run: ThreadRun): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(run.threads, files.length)) }, () => new Worker(run.entry, { workerData: { role: ROLE, ...run.setup } satisfies ThreadSetup, argv: [] }));
  const done = workers.map(
    (worker) =>
      new Promise<void>((resolve) => {
        const inFlight = new Set<string>();
        const give = () => {
          const file = files[next++];
          if (file === undefined) return;
          inFlight.add(file);
          worker.postMessage(file);
        };
        // A thread that dies takes its packages with it: each is reported, the others go on.
        const lost = (why: string) => {
          const error = new InternalError("INTERNAL", `the job thread stopped: ${why}`);
          const files = [...inFlight];
          inFlight.clear();
          void files.reduce((chain, file) => chain.then(() => run.onOutcome(failed(file, error))), Promise.resolve()).then(resolve);
        };
        worker.on("message", (message: FromThread) => {
          if (message.type === "read") return run.onRead(message.bytes);
          void run.onOutcome(rebuilt(message.outcome)).then(() => {
            inFlight.delete(message.outcome.file);
            give();
            if (inFlight.size === 0) resolve();
          });
        });
        worker.once("error", (error) => lost(error.message));
        worker.once("exit", (code) => {
          if (inFlight.size > 0) lost(`exit status ${code}`);
        });
        for (let i = 0; i < IN_FLIGHT_PER_THREAD; i++) give();
        if (inFlight.size === 0) resolve();
      }),
  );
  try {
    await Promise.all(done);
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  // Every thread stopped before the list was through: the rest is reported, never dropped.
  for (const file of files.slice(next)) await run.onOutcome(failed(file, new InternalError("INTERNAL", "not signed: every job thread stopped")));
}
