import { createInterface } from "node:readline";

/** Lines of standard input, numbered from 1; blank lines are skipped. */
export async function* stdinLines(): AsyncGenerator<{ line: number; text: string }> {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let line = 0;
  for await (const text of rl) {
    line++;
    if (text.trim() !== "") yield { line, text };
  }
}
