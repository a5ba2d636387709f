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

export function interpreter(): string | null {
  const bin = process.env.ESPRUINO;
  return bin && bin.trim() ? bin.trim() : null;
}

export interface RunResult {
  /** Output lines without the banner, prompts and \r. */
  lines: string[];
  /** Lines that report an uncaught error or an interpreter error. */
  errors: string[];
  code: number | null;
  timedOut: boolean;
}

export function runOnInterpreter(bin: string, file: string, timeoutMs = 60000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const cwd = mkdtempSync(join(tmpdir(), "espruino-run-"));
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

export interface BootResult {
  /** JsVars in use once the bundle has booted and gone idle, and the interpreter's total; null if it never got there. */
  usage: number | null;
  total: number | null;
  run: RunResult;
}

/**
 * Boot a board bundle on the interpreter behind test/espruino/prelude.js (which stands in for the ESP32-only
 * pins, buses, NRF and Wifi), let it go idle for `idleMs`, and read `process.memory()`.
 */
export async function bootOnInterpreter(bin: string, bundleFile: string, idleMs = 2000): Promise<BootResult> {
  const prelude = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "prelude.js"), "utf8");
  const probe = join(mkdtempSync(join(tmpdir(), "espruino-boot-")), "boot.js");
  writeFileSync(
    probe,
    prelude +
      "\n" +
      readFileSync(bundleFile, "utf8") +
      `\nsetTimeout(function(){var m=process.memory();print("BOOTED "+m.usage+" "+m.total);quit();},${idleMs});\n`,
  );
  const run = await runOnInterpreter(bin, probe);
  const line = run.lines.find((l) => l.startsWith("BOOTED "));
  const parts = line ? line.split(" ") : [];
  return { usage: line ? Number(parts[1]) : null, total: line ? Number(parts[2]) : null, run };
}
