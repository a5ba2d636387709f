/**
 * The simulator's two engines behind one shape. `v8`: the bundle runs in Node's V8 (a `vm` context) with Espruino's
 * globals emulated, on simulated time (sim/host.ts, SimHost). `espruino`: the bundle runs on the real Espruino
 * interpreter (the Linux build named by ESPRUINO) in a child process, booted from its Storage, its buses bridged to
 * the same emulated parts, in real time (sim/engine/espruino-host.ts, EspruinoHost). World, the CLI and the page
 * drive either through `TerminalHost`.
 *
 *   const engine = engineFromEnv();                       // "v8" unless ENGINE=espruino
 *   const w = World.open({ engine, stateDir: null });     // ESPRUINO names the interpreter for "espruino"
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, isAbsolute, join, resolve } from "node:path";
import type { SimHost } from "../host.ts";
import type { EspruinoHost } from "./espruino-host.ts";

export type EngineName = "v8" | "espruino";

/** What World, the CLI and the page use of a terminal, whichever engine runs it. */
export type TerminalHost = SimHost | EspruinoHost;

export function isEspruino(h: TerminalHost): h is EspruinoHost {
  return (h as { engine?: string }).engine === "espruino";
}

/**
 * The interpreter to run the espruino engine on: ESPRUINO (a relative path made absolute: every run spawns it from
 * a folder of its own), or null when it is unset. A kernel that runs no 32-bit programs refuses the ESP32-shaped
 * build ("Exec format error"); then, with Debian's qemu-user installed, this is a script that runs it under
 * qemu-i386 (JsVar figures are the interpreter's own; its times grow several-fold: espruinoEmulator()).
 */
export function espruinoBin(): string | null {
  const b = process.env.ESPRUINO ? process.env.ESPRUINO.trim() : "";
  if (!b) return null;
  return runnable(isAbsolute(b) || b.indexOf("/") < 0 ? b : resolve(b)).run;
}

/** "qemu-i386" when espruinoBin() runs the interpreter under it, else "". */
export function espruinoEmulator(): string {
  const b = espruinoBin();
  return b && made ? made.emulator : "";
}

/** The interpreter as a report names it: ESPRUINO's program, and the emulator it runs under if any. */
export function espruinoName(): string {
  const b = espruinoBin();
  return b && made ? made.bin + (made.emulator ? " under " + made.emulator : "") : "";
}

let made: { bin: string; run: string; emulator: string } | null = null;

function runnable(bin: string): { run: string; emulator: string } {
  if (made && made.bin === bin) return made;
  made = { bin, run: bin, emulator: "" };
  // bash's own exec says 126 when the kernel refuses the program; execvp (Node's spawn) would hand it to /bin/sh
  const refused = spawnSync("bash", ["-c", 'exec "$0" --help', bin], { stdio: "ignore", timeout: 10000 }).status === 126;
  if (refused && spawnSync("qemu-i386", ["--version"], { stdio: "ignore" }).status === 0) {
    const run = join(mkdtempSync(join(tmpdir(), "espruino-")), basename(bin));
    writeFileSync(run, "#!/bin/sh\nexec qemu-i386 '" + bin.replace(/'/g, "'\\''") + "' \"$@\"\n", { mode: 0o755 });
    made = { bin, run, emulator: "qemu-i386" };
  }
  return made;
}

/** An engine name from text (a CLI flag, ENGINE=...); a clear error for anything else. */
export function parseEngine(s: string | undefined): EngineName {
  if (s === undefined || s === "" || s === "v8") return "v8";
  if (s === "espruino") return "espruino";
  throw new Error(`unknown engine "${s}": use v8 (Node's V8, simulated time) or espruino (the real interpreter, ESPRUINO=...)`);
}

/** The engine ENGINE asks for ("v8" when unset). */
export function engineFromEnv(): EngineName {
  return parseEngine(process.env.ENGINE);
}
