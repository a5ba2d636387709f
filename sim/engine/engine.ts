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
import type { SimHost } from "../host.ts";
import type { EspruinoHost } from "./espruino-host.ts";

export type EngineName = "v8" | "espruino";

/** What World, the CLI and the page use of a terminal, whichever engine runs it. */
export type TerminalHost = SimHost | EspruinoHost;

export function isEspruino(h: TerminalHost): h is EspruinoHost {
  return (h as { engine?: string }).engine === "espruino";
}

/** The interpreter to run the espruino engine on: ESPRUINO, or null when it is unset. */
export function espruinoBin(): string | null {
  const b = process.env.ESPRUINO;
  return b && b.trim() ? b.trim() : null;
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
