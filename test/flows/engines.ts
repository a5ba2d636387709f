/**
 * The flow tests on both engines: Node's V8 (always) and the real Espruino interpreter (when ESPRUINO names it;
 * otherwise its suites are listed as skipped, saying why). Worlds opened through `open` are closed after the suite,
 * so no interpreter is left running.
 *
 *   forEachEngine("flow: Bluetooth payment", (engine) => { const worlds = useWorlds(engine); ... worlds.open({...}) });
 */
import { espruinoBin, espruinoEmulator } from "../../sim/engine/engine.ts";
import type { EngineName } from "../../sim/engine/engine.ts";
import { World } from "../../sim/world.ts";
import type { WorldOptions } from "../../sim/world.ts";

export const ENGINES: EngineName[] = ["v8", "espruino"];

/**
 * Which interpreter suites run where. On the interpreter everything runs in real time, so its flows cost minutes;
 * all of them run in every run with ESPRUINO set (CI has it), about 6 minutes in all on this 2-core machine:
 * - one test per flow that has its own suite: the customer-QR payment, the Bluetooth payment, the update offered at
 *   sync, the sync scenario (an offline payment reaching the gateway), the boot scenario, the bridge's own checks and
 *   the page: about 2.5 minutes; the whole device's memory over every flow (test/engine/device-budget.test.ts:
 *   invoice, order, refund and void included, about 2 minutes), which holds the bundle to the board's idle budget
 *   and every flow's peak to 12,000 JsVars;
 * - the "long" ones: the rest of the scenarios (keypad, provisioning, the QR and Bluetooth payments again) and the
 *   Wi-Fi change on an open request, about 1.5 minutes; SIM_ENGINE_TESTS=0 skips these for a quicker local run.
 * The flows were unreliable on the interpreter because of the bridge, not the firmware: the parts' clocks started
 * before power-on (a printer deaf for as long as the test process had run), UART bytes came after expired timers
 * (a printer's answer lost to its timeout), and a test decoding the panel for a QR kept the simulator, which the
 * interpreter waits on for every I2C transfer, busy long enough for the secure element's watchdog to expire.
 */
export function engineSuitesSkipped(level: "ci" | "long" = "ci"): string {
  if (!espruinoBin()) return "ESPRUINO is unset";
  if (level === "long" && process.env.SIM_ENGINE_TESTS === "0") return "a long one, and SIM_ENGINE_TESTS=0 skips those (test/flows/engines.ts)";
  return "";
}

/**
 * Why the interpreter's timed flows skip, or "": on a kernel that runs no 32-bit programs the interpreter runs
 * under Debian's qemu-i386 (sim/engine/engine.ts espruinoBin). There it is several times slower than
 * natively, and the flows that wait on the firmware's own time limits in real time (a secure element's poll, a sync
 * round, a typed key's handling, the page's live figures) miss them. What does not race the clock still runs on it:
 * the build's JsVar figures, the self-tests, the bridge's checks, the customer QR payment and the whole device's
 * memory over every flow (test/engine/device-budget.test.ts).
 */
export function timedSuitesSkipped(): string {
  const emu = espruinoEmulator();
  return emu ? "the interpreter runs under " + emu + " on this machine (its kernel runs no 32-bit programs), several times slower than natively: this flow's real-time limits would not hold" : "";
}

/** In an `it` of a forEachEngine body: skip, saying why, a long test on the interpreter when SIM_ENGINE_TESTS=0. */
export function longOnInterpreter(ctx: Mocha.Context, engine: EngineName): void {
  const why = engine === "espruino" ? engineSuitesSkipped("long") : "";
  if (why) {
    console.log("      skipped on the interpreter: " + why);
    ctx.skip();
  }
}

/** `describe(title + " [engine]")` once per engine; the espruino one is skipped, saying why, without ESPRUINO. */
export function forEachEngine(title: string, body: (engine: EngineName) => void): void {
  for (const engine of ENGINES) {
    const why = engine === "espruino" ? engineSuitesSkipped() || timedSuitesSkipped() : "";
    if (why) {
      describe.skip(`${title} [espruino: skipped, ${why}]`, () => body(engine));
      continue;
    }
    describe(`${title} [${engine}]`, function () {
      // the interpreter runs in real time, and shares the machine
      this.timeout(engine === "espruino" ? 400000 : 180000);
      body(engine);
    });
  }
}

/** Opens worlds on `engine` and closes them all after the suite. */
export function useWorlds(engine: EngineName): { open(o?: WorldOptions): World } {
  const open: World[] = [];
  after(async () => {
    for (const w of open.splice(0)) await w.close();
  });
  return {
    open(o: WorldOptions = {}) {
      const w = World.open({ ...o, engine });
      open.push(w);
      return w;
    },
  };
}
