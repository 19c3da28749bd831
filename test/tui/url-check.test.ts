import { describe, expect, it } from "vitest";
import { parseRepositoryInput } from "../../src/bootstrap/repository.js";
import { checkRepositoryUrl } from "../../tui/url-check.js";

describe("the Repository screen's URL check", () => {
  it.each([
    "https://cdn.NetBSD.org/pub/pkgsrc/packages/NetBSD/amd64/10.0/All",
    "http://127.0.0.1:8080/packages/All/",
    "  https://mirror.example.org/pkgsrc/All  ",
    "file:///mnt/packages/All",
    "/mnt/cdrom/packages/All",
    "HTTPS://Mirror.Example.ORG/p",
  ])("accepts %s (trimmed)", (input) => {
    expect(checkRepositoryUrl(input)).toEqual({ ok: true, repository: input.trim() });
  });

  it.each([
    ["", /Type the repository URL/],
    ["   ", /Type the repository URL/],
    ["cdn.NetBSD.org/pub/pkgsrc", /did you mean https:\/\/cdn\.NetBSD\.org\/pub\/pkgsrc/],
    ["ftp://ftp.NetBSD.org/pub/pkgsrc/packages/NetBSD/amd64/10.0/All", /scheme must be https, http or file, not ftp/],
    ["gopher://x/y", /not gopher/],
    ["https://", /host name is missing/],
    ["http:///All", /host name is missing/],
    ["http:/cdn.NetBSD.org/All", /host name is missing/],
    ["https://cdn.NetBSD.org", /Add the path/],
    ["https://cdn.NetBSD.org/", /Add the path/],
    ["file:///", /Add the path/],
    ["/", /not \/ itself/],
    ["https://cdn.NetBSD.org/pub pkgsrc/All", /spaces/],
    ["https://[::1/All", /host name is missing or not valid/],
  ])("refuses %j with a problem to show inline", (input, problem) => {
    const check = checkRepositoryUrl(input);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.problem).toMatch(problem);
  });

  it("passes nothing that the pipeline's parser takes for something else: what it accepts parses there as http(s)/file", () => {
    for (const input of ["https://a.example/x", "file:///x/y", "/x/y", "http://127.0.0.1:1/All"]) {
      const check = checkRepositoryUrl(input);
      expect(check.ok).toBe(true);
      expect(["http:", "https:", "file:"]).toContain(parseRepositoryInput(input, "/").protocol);
    }
  });
});
