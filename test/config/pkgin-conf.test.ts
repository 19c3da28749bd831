import { describe, expect, it } from "vitest";
import { readRepositories, setRepository } from "../../src/config/pkgin-conf.js";

const url = "https://cdn.example.org/pub/pkgsrc/packages/NetBSD/amd64/10.0/All";

describe("pkgin repositories.conf", () => {
  it("makes the verified repository the only active one and keeps comments", () => {
    const existing = "# pkgin repositories\n\nhttp://old.example.org/All\nhttp://other.example.org/All\n";
    const updated = setRepository(existing, url);
    expect(readRepositories(updated)).toEqual([url]);
    expect(updated).toContain("# pkgin repositories\n\n");
    expect(updated).toContain("# replaced by pkgtrust: http://old.example.org/All\n");
  });

  it("is idempotent", () => {
    const once = setRepository("http://old.example.org/All", url);
    expect(setRepository(once, url)).toBe(once);
  });

  it("creates the file when there is none", () => {
    expect(setRepository(undefined, url)).toBe(`${url}\n`);
  });

  it("refuses a repository URL with a control character (line injection)", () => {
    expect(() => setRepository("# pkgin\n", `${url}\nhttp://evil.example.org/All`)).toThrowWithCode("CONFIG_UNSAFE_VALUE");
    expect(() => setRepository(undefined, `${url}\r`)).toThrowWithCode("CONFIG_UNSAFE_VALUE");
  });
});
