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

/** `describe(title + " [engine]")` once per engine; the espruino one is skipped, saying so, without ESPRUINO. */
export function forEachEngine(title: string, body: (engine: EngineName) => void): void {
  for (const engine of ENGINES) {
    if (engine === "espruino" && !espruinoBin()) {
      describe.skip(`${title} [espruino: skipped, ESPRUINO is unset]`, () => body(engine));
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
