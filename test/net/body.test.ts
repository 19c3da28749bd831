import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { meteredBody } from "../../src/net/body.js";
import { FetchError } from "../../src/net/errors.js";

async function* chunks(sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  for (const size of sizes) yield new Uint8Array(size);
}

const metering = (maxBytes: number, total?: number) => ({
  url: new URL("https://mirror.example/All/pkg_keys.pem"),
  maxBytes,
  ...(total === undefined ? {} : { total }),
  classify: (error: unknown) => new FetchError("FETCH_INTERRUPTED", String(error)),
});

describe("meteredBody", () => {
  it("releases the source when returned before the first chunk (a probe that never reads)", async () => {
    let released = false;
    const source: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => ({ done: false, value: new Uint8Array(1) }),
        return: async () => {
          released = true;
          return { done: true, value: undefined };
        },
      }),
    };
    await meteredBody(source, metering(10))[Symbol.asyncIterator]().return?.();
    expect(released).toBe(true);
  });

  it("passes at most maxBytes to the caller, however the body is split", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 20 }), fc.integer({ min: 0, max: 40_000 }), async (sizes, maxBytes) => {
        const sum = sizes.reduce((a, b) => a + b, 0);
        let passed = 0;
        let failure: unknown;
        try {
          for await (const chunk of meteredBody(chunks(sizes), metering(maxBytes))) passed += chunk.byteLength;
        } catch (error) {
          failure = error;
        }
        expect(passed).toBeLessThanOrEqual(maxBytes);
        if (sum > maxBytes) expect(failure).toThrowWithCode("FETCH_TOO_LARGE");
        else expect(passed).toBe(sum);
      }),
    );
  });

  it("reports a body shorter than announced", async () => {
    const reading = (async () => {
      for await (const chunk of meteredBody(chunks([10, 10]), metering(100, 30))) void chunk;
    })();
    await expect(reading).rejects.toThrowWithCode("FETCH_INTERRUPTED");
  });

  it("maps an error of the source through classify", async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(1);
      throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    }
    const reading = (async () => {
      for await (const chunk of meteredBody(failing(), metering(100))) void chunk;
    })();
    await expect(reading).rejects.toThrowWithCode("FETCH_INTERRUPTED");
  });
});
