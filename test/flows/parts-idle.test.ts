/**
 * The flows' code (build.ts PARTS, loaded from flash by the bundle) is let go at idle whatever loaded it: a flow
 * (idle's linger after it, firmware/parts.ts) or work done while idle went on (the records' count after a sync, a
 * paid notice checked at sync, the technician's console), which the idle screen's refresh lets go once the linger is
 * over. On the devkit bundle in the simulator; the interpreter's memory is held by test/engine/device-budget.test.ts.
 */
import assert from "node:assert/strict";
import { partsLoaded } from "../../bench/device-flows.ts";
import { PARTS } from "../../build.ts";
import { PARTS_LINGER_MS } from "../../firmware/parts.ts";
import { World } from "../../sim/world.ts";

const loaded = (w: World): Promise<string> => partsLoaded(w.host);

describe("terminal: the flows' code let go at idle", function () {
  this.timeout(120000);

  it("lets go of a part loaded while idle went on, by the next refresh of the idle screen", async () => {
    const w = World.open({ stateDir: null });
    await w.provision();
    await w.until("idle", () => w.screenText().includes("Ready"), 20000);
    await w.run(PARTS_LINGER_MS + 1000);
    const none = PARTS.map(() => "0").join(",");
    assert.equal(await loaded(w), none, "nothing loaded at idle");
    // as the records' count after a sync does when a record is pending: a decoder of the sessions' part
    const r = await w.host.evalInDevice("__P(0)");
    assert.ok(r.ok, JSON.stringify(r));
    assert.notEqual(await loaded(w), none);
    await w.run(2 * 15000);
    assert.equal(await loaded(w), none, "let go");
    assert.ok(w.screenText().includes("Ready"));
    await w.close();
  });
});
