import { describe, expect, it } from "vitest";
import { progressLine } from "../../src/cli/progress-bar.js";
import { shortBytes, shortDuration } from "../../src/format.js";

describe("progress line", () => {
  it("shows packages, bytes, rate and time left, rounded", () => {
    const line = progressLine({ done: 120, total: 2000, bytes: 123_456_789, totalBytes: 1_073_741_824, elapsedMs: 2000 }, 100);
    expect(line).toBe("[###...........................] 120/2000 pkgs  123 MB/1.07 GB  61.7 MB/s  15s left");
  });

  it("never reaches the terminal's width, however narrow, and drops the bar first", () => {
    for (let width = 1; width <= 120; width++) {
      const line = progressLine({ done: 29_999, total: 30_000, bytes: 15e9, totalBytes: 15.2e9, elapsedMs: 3_600_000 }, width);
      expect(line.length, `width ${width}`).toBeLessThan(Math.max(width, 1));
      if (width < 60) expect(line.startsWith("[")).toBe(false);
    }
  });

  it("rounds sizes and durations to what a glance needs", () => {
    expect([shortBytes(0), shortBytes(999), shortBytes(1000), shortBytes(15_200_000_000)]).toEqual(["0 B", "999 B", "1.00 KB", "15.2 GB"]);
    expect([shortDuration(44.6), shortDuration(725), shortDuration(12_000), shortDuration(Number.NaN)]).toEqual(["45s", "12m05s", "3h20m", "?"]);
  });
});
