/**
 * The headless scenarios (npm run sim -- --scenario NAME) on the real interpreter (ESPRUINO=...), each on a fresh
 * world with the reference gateway, as `npm run sim -- --engine espruino` runs them. power-cut needs a power cut in
 * the middle of a flash write, which only the V8 engine's flash model can make: on the interpreter it must say so.
 * Skips, saying so, without ESPRUINO.
 */
import assert from "node:assert/strict";
import { engineSuitesSkipped, timedSuitesSkipped } from "../flows/engines.ts";
import { runScenario, SCENARIOS } from "../../sim/scenarios/index.ts";
import { loadReferenceGateway, World } from "../../sim/world.ts";

const ON_INTERPRETER = Object.keys(SCENARIOS).filter((n) => n !== "power-cut");
/** Run whenever ESPRUINO is set; the others are long ones, which SIM_ENGINE_TESTS=0 skips (test/flows/engines.ts). */
const IN_CI = ["boot", "sync"];
// the one that misses its real-time limits when the interpreter runs under an emulator (timedSuitesSkipped): its
// keys, typed while the phone's session is set up, wait longer than 20 s (measured under qemu-i386, 2026-12-06)
const TIMED = ["ble-payment"];

describe("headless scenarios on the real interpreter (ESPRUINO=...)", function () {
  this.timeout(400000);
  const open: World[] = [];

  before(function () {
    const why = engineSuitesSkipped("ci");
    if (why) {
      console.log("      skipped: " + why);
      this.skip();
    }
  });

  after(async () => {
    for (const w of open.splice(0)) await w.close();
  });

  const world = async (): Promise<World> => {
    const w = World.open({ engine: "espruino", stateDir: null });
    open.push(w);
    const g = await loadReferenceGateway(w);
    if (g) w.attachGateway(g);
    return w;
  };

  for (const name of ON_INTERPRETER) {
    it(`runs the ${name} scenario: ${SCENARIOS[name].describe}`, async function () {
      const why = (IN_CI.indexOf(name) < 0 ? engineSuitesSkipped("long") : "") || (TIMED.indexOf(name) >= 0 ? timedSuitesSkipped() : "");
      if (why) {
        console.log("      skipped: " + why);
        return this.skip();
      }
      const w = await world();
      const r = await runScenario(w, name);
      assert.ok(r.ok, `${name}: ${r.error}`);
      assert.deepEqual(w.host.errors, []);
      await w.close();
    });
  }

  it("says that power-cut needs the V8 engine, instead of pretending", async () => {
    const w = await world();
    const r = await runScenario(w, "power-cut");
    assert.equal(r.ok, false);
    assert.match(r.error ?? "", /needs the V8 engine/);
  });
});
