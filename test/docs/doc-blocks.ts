import { readFileSync } from "node:fs";

export interface CodeBlock {
  /** The fence's info string's first word: sh, text, console, conf, make ... */
  readonly lang: string;
  readonly code: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
}

/** The fenced code blocks of a Markdown text, in order (``` or ~~~ fences, CommonMark style). */
export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^( {0,3})(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[i] ?? "");
    if (!open) continue;
    const fence = open[2] ?? "```";
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j] ?? "";
      if (line.trimStart().startsWith(fence) && line.trim().replace(/[`~]/g, "") === "") break;
      body.push(line);
    }
    blocks.push({ lang: open[3] ?? "", code: body.join("\n"), line: i + 1 });
    i = j;
  }
  return blocks;
}

export function shellBlocks(file: string): CodeBlock[] {
  return codeBlocks(readFileSync(file, "utf8")).filter((block) => block.lang === "sh");
}
