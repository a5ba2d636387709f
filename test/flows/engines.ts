/**
 * The flow tests on both engines: Node's V8 (always) and the real Espruino interpreter (when ESPRUINO names it;
 * otherwise its suites are listed as skipped, saying why). Worlds opened through `open` are closed after the suite,
 * so no interpreter is left running.
 *
 *   forEachEngine("flow: Bluetooth payment", (engine) => { const worlds = useWorlds(engine); ... worlds.open({...}) });
 */
import { espruinoBin } from "../../sim/engine/engine.ts";
import type { EngineName } from "../../sim/engine/engine.ts";
import { World } from "../../sim/world.ts";
import type { WorldOptions } from "../../sim/world.ts";

export const ENGINES: EngineName[] = ["v8", "espruino"];

/**
 * Why the espruino engine's whole-flow suites do not run here, or "" when they do: they need ESPRUINO, and
 * SIM_ENGINE_TESTS=1 on top. Not in CI yet: on the interpreter in real time, several flows (Bluetooth, sync,
 * refund, the scenarios) lose their receipt or time out when the machine is loaded, and the provisioned bundle's
 * idle JsVars (8,490) are above the board's budget (8,000), which device-budget.test.ts asserts; the screens issue
 * (fewer idle JsVars) and a steadier bridge come first. Run them by hand: SIM_ENGINE_TESTS=1 ESPRUINO=… npx mocha …
 */
export function engineSuitesSkipped(): string {
  if (!espruinoBin()) return "ESPRUINO is unset";
  if (process.env.SIM_ENGINE_TESTS !== "1") return "set SIM_ENGINE_TESTS=1 too (not in CI yet: test/flows/engines.ts says why)";
  return "";
}

/** `describe(title + " [engine]")` once per engine; the espruino one is skipped, saying why, unless enabled. */
export function forEachEngine(title: string, body: (engine: EngineName) => void): void {
  for (const engine of ENGINES) {
    const why = engine === "espruino" ? engineSuitesSkipped() : "";
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
