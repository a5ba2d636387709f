/**
 * One piece of the firmware's work timed on the Espruino interpreter, built by the same pipeline as the firmware and
 * run from Storage as the firmware runs (on the ESP32, and an interpreter with Storage memory-mapped, the code stays
 * in flash, so "before" is what the device holds, not the code's text copied into RAM).
 *
 *   const f = await probeOnInterpreter(bin, setup, 20, "protocol");  // setup defines function one(probe) -> boolean
 *   if ("error" in f) ...; else f.ms, f.base, f.peak
 *
 * `setup` is TypeScript entry source that defines `function one(probe)`: one run of the work, calling `probe()` (when
 * given) at its fullest point and returning whether it did its work. JsVars are read first (process.memory() collects
 * garbage, so it stays out of the timed loop), then `one` runs `n` times for the time.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile } from "../build.ts";
import { runFromStorage } from "../test/espruino/interpreter.ts";

export interface ProbeFigures {
  /** Runs that did their work, of `n`. */
  ok: number;
  n: number;
  /** Mean milliseconds per run. */
  ms: number;
  /** JsVars in use before, at the fullest point, and the interpreter's total. */
  base: number;
  peak: number;
  total: number;
  /** Where the code ran from, as the figure's note says it. */
  where: string;
}

export async function probeOnInterpreter(bin: string, setup: string, n: number, name: string): Promise<ProbeFigures | { error: string }> {
  const src =
    setup +
    `const base = process.memory().usage;\n` +
    `let peak = base;\n` +
    `one(function () { const u = process.memory().usage; if (u > peak) peak = u; });\n` +
    `let t = getTime(); let ok = 0;\n` +
    `for (let i = 0; i < ${n}; i++) if (one(null)) ok++;\n` +
    `const ms = (getTime() - t) * 1000 / ${n};\n` +
    `print("PROBE " + ok + " " + ms.toFixed(2) + " " + base + " " + peak + " " + process.memory().total);\n`;
  const dir = mkdtempSync(join(tmpdir(), name + "-probe-"));
  try {
    const file = join(dir, "probe.js");
    writeFileSync(file, await compile(src, name + "-probe.entry.ts", ["crypto"]));
    const r = await runFromStorage(bin, file, { timeoutMs: 120000 });
    const line = r.lines.find((l) => l.startsWith("PROBE "));
    if (!line) return { error: "no figure; it printed: " + r.lines.slice(-5).join(" | ") };
    const [ok, ms, base, peak, total] = line.split(" ").slice(1).map(Number);
    return { ok, n, ms, base, peak, total, where: bin + ", " + (r.inFlash ? "code in flash, as on the ESP32" : "code copied to RAM") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
