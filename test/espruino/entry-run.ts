/**
 * A TypeScript entry compiled as the firmware is (build.ts compile) and run once on the interpreter, judged by the
 * `RESULT {...}` line it prints:
 *
 *   const { r, line } = await runEntry(bin, ENTRY, "storage-inplace", ["Storage", "crypto"], 280000);
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile } from "../../build.ts";
import { runOnInterpreter } from "./interpreter.ts";

/** Its RESULT line's JSON and the line; fails with the run's output on an error or no RESULT line. */
export async function runEntry<T = Record<string, unknown>>(bin: string, entry: string, name: string, builtins: string[], timeoutMs: number): Promise<{ r: T; line: string }> {
  const code = await compile(entry, name + ".entry.ts", builtins);
  const dir = mkdtempSync(join(tmpdir(), name + "-"));
  const file = join(dir, "run.js");
  writeFileSync(file, code + "\n");
  const run = await runOnInterpreter(bin, file, timeoutMs, dir);
  assert.deepEqual(run.errors, [], run.lines.join("\n"));
  const line = run.lines.find((l) => l.startsWith("RESULT "));
  assert.ok(line, run.lines.join("\n"));
  return { r: JSON.parse(line.slice(7)) as T, line };
}
