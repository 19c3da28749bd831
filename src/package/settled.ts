import type { EventEmitter } from "node:events";

/**
 * Resolves when `start`'s callback is called, or when `stream` closes first (a stream
 * destroyed on an error calls back no more): a wait that cannot hang, and that leaves no
 * listener behind on a stream that goes on.
 */
export function settled(stream: EventEmitter, start: (done: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off("close", done);
      resolve();
    };
    stream.once("close", done);
    start(done);
  });
}
