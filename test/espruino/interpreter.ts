/**
 * Running a script on a real Espruino interpreter (the Linux build named by ESPRUINO). Facts we measured:
 * stdin must stay open (at EOF the Linux build reads garbage into its console and runs out of memory), output
 * goes to stdout with \r\n, an uncaught error in a callback still exits 0, so the text is what we judge.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { crc32 } from "node:zlib";
import { espruinoBin } from "../../sim/engine/engine.ts";

/** The interpreter named by ESPRUINO, runnable on this machine, or null (sim/engine/engine.ts espruinoBin). */
export function interpreter(): string | null {
  return espruinoBin();
}

export interface RunResult {
  /** Output lines without the banner, prompts and \r. */
  lines: string[];
  /** Lines that report an uncaught error or an interpreter error. */
  errors: string[];
  code: number | null;
  timedOut: boolean;
}

/**
 * Run `file` on the interpreter. `cwd` (a fresh temporary folder unless given) is where the Linux build keeps its
 * fake flash, `espruino.flash`: two runs in the same folder share Storage.
 */
export function runOnInterpreter(bin: string, file: string, timeoutMs = 60000, cwd?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (!cwd) cwd = mkdtempSync(join(tmpdir(), "espruino-run-"));
    const child = spawn(bin, [file], { cwd, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let timedOut = false;
    child.stdout.on("data", (d) => (out += d.toString("latin1")));
    child.stderr.on("data", (d) => (out += d.toString("latin1")));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const banner = out.lastIndexOf("espruino.com/Donate");
      const body = banner >= 0 ? out.slice(out.indexOf("\n", banner) + 1) : out;
      const lines = body
        .replace(/\r/g, "")
        .split("\n")
        .map((l) => l.replace(/^>?\x1b\[J/, "").replace(/^>$/, ""))
        .filter((l) => l.length > 0);
      const errors = lines.filter((l) => l.indexOf("Uncaught") >= 0 || l.indexOf("New interpreter error") >= 0 || l.indexOf("OUT OF MEMORY") >= 0);
      resolve({ lines, errors, code, timedOut });
    });
  });
}

/** The self-test's closing line, `N passed, M failed`. */
export function tally(lines: string[]): { passed: number; failed: number } | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^(\d+) passed, (\d+) failed$/.exec(lines[i].trim());
    if (m) return { passed: Number(m[1]), failed: Number(m[2]) };
  }
  return null;
}

/** Bytes as an Espruino string literal: printable ASCII as it is, every other byte as \xHH, one char per byte. */
function literal(bytes: Uint8Array): string {
  let out = '"';
  for (const b of bytes) {
    if (b === 0x22 || b === 0x5c) out += "\\" + String.fromCharCode(b);
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += "\\x" + (b < 16 ? "0" : "") + b.toString(16);
  }
  return out + '"';
}

export interface Stored {
  /** The file read back with the same length and CRC-32. */
  ok: boolean;
  /**
   * Reading the file back gives a string that stays in flash (1 JsVar), as on the ESP32, whose Storage is
   * memory-mapped; false when the interpreter copies it into RAM (then code run from it costs its full size).
   */
  inFlash: boolean;
  run: RunResult;
}

/** Bytes written per Storage.write call, so the text never sits in the interpreter's RAM whole. */
const CHUNK = 2048;
/**
 * Bytes written per run of the interpreter: it reads a script file into RAM whole, so a script writing a 150 KB
 * bundle at once would not fit its 16,383 JsVars. The fake flash (`espruino.flash` in `cwd`) keeps what each run wrote.
 */
const PER_RUN = 48 * 1024;

/**
 * Write `bytes` into the interpreter's Storage as file `name`, in the fake flash of folder `cwd`, and read it back.
 */
export async function storeOnInterpreter(bin: string, cwd: string, name: string, bytes: Uint8Array): Promise<Stored> {
  const fn = JSON.stringify(name);
  const file = join(cwd, "store.js");
  const failed = (run: RunResult) => run.errors.length > 0 || run.lines.some((l) => l.startsWith("STORE FAILED"));
  for (let from = 0; from < bytes.length; from += PER_RUN) {
    let script = "var S=require(\"Storage\");\n";
    for (let off = from; off < Math.min(bytes.length, from + PER_RUN); off += CHUNK) {
      const part = literal(bytes.subarray(off, off + CHUNK));
      const args = off === 0 ? `${fn},${part},0,${bytes.length}` : `${fn},${part},${off}`;
      script += `if(!S.write(${args}))print("STORE FAILED at ${off}");\n`;
    }
    writeFileSync(file, script + "quit();\n", "latin1");
    const run = await runOnInterpreter(bin, file, 60000, cwd);
    if (failed(run)) return { ok: false, inFlash: false, run };
  }
  writeFileSync(file, `var S=require(${"\"Storage\""}),r=S.read(${fn});print("STORED "+(r?r.length:-1)+" "+(r?(E.CRC32(r)>>>0):0)+" "+E.getSizeOf(r));r=undefined;quit();\n`, "latin1");
  const run = await runOnInterpreter(bin, file, 60000, cwd);
  const line = run.lines.find((l) => l.startsWith("STORED "));
  const parts = line ? line.split(" ").map(Number) : [];
  const ok = !!line && !failed(run) && parts[1] === bytes.length && parts[2] === crc32(bytes);
  return { ok, inFlash: ok && parts[3] <= 2, run };
}

/**
 * Run `file` the way the device runs code: stored in Storage first, then `eval(require("Storage").read(...))`
 * (as the boot-loader stub boots an update slot), after `before` (JavaScript run from RAM) and followed by `after`.
 */
export async function runFromStorage(bin: string, file: string, opts: { before?: string; after?: string; timeoutMs?: number } = {}): Promise<RunResult & { inFlash: boolean | null }> {
  const cwd = mkdtempSync(join(tmpdir(), "espruino-storage-"));
  const name = ".bootcde";
  const stored = await storeOnInterpreter(bin, cwd, name, readFileSync(file));
  if (!stored.ok) {
    const lines = stored.run.lines.concat(["could not store " + file + " in the interpreter's Storage"]);
    return { ...stored.run, lines, errors: stored.run.errors.concat([lines[lines.length - 1]]), inFlash: null };
  }
  const probe = join(cwd, "run.js");
  writeFileSync(probe, (opts.before ?? "") + `\neval(require("Storage").read(${JSON.stringify(name)}));\n` + (opts.after ?? ""));
  const run = await runOnInterpreter(bin, probe, opts.timeoutMs ?? 60000, cwd);
  return { ...run, inFlash: stored.inFlash };
}

export interface BootResult {
  /** JsVars in use once the bundle has booted and gone idle, and the interpreter's total; null if it never got there. */
  usage: number | null;
  total: number | null;
  /** The bundle's code stayed in flash, as on the ESP32 (null: it could not be stored). */
  inFlash: boolean | null;
  run: RunResult;
}

/**
 * Boot a board bundle on the interpreter as the device does, from Storage (tools/flash.ts writes it as `.bootcde`),
 * behind test/espruino/prelude.js (which stands in for the ESP32-only pins, buses, NRF and Wifi), let it go idle
 * for `idleMs`, and read `process.memory()`. With Storage memory-mapped (as on the ESP32, and on a Linux build so
 * patched) function bodies stay in flash; otherwise they are copied into RAM and the figure is an upper bound.
 */
export async function bootOnInterpreter(bin: string, bundleFile: string, idleMs = 2000): Promise<BootResult> {
  const prelude = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "prelude.js"), "utf8");
  const run = await runFromStorage(bin, bundleFile, {
    before: prelude,
    after: `setTimeout(function(){var m=process.memory();print("BOOTED "+m.usage+" "+m.total);quit();},${idleMs});\n`,
  });
  const line = run.lines.find((l) => l.startsWith("BOOTED "));
  const parts = line ? line.split(" ") : [];
  return { usage: line ? Number(parts[1]) : null, total: line ? Number(parts[2]) : null, inFlash: run.inFlash, run };
}
