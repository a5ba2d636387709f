/**
 * A Storage nearly full of files (settings rewritten over months leave trash the firmware never compacts) is told
 * to the merchant at idle, so a technician compacts it before a save fails (docs/technician.md).
 */
import assert from "node:assert/strict";
import { World } from "../../sim/world.ts";

describe("terminal: Storage nearly full", function () {
  this.timeout(120000);

  it("says so at idle after boot, and says nothing while there is room", async () => {
    const w = World.open({ stateDir: null });
    await w.provision();
    await w.until("idle", () => w.screenText().includes("Ready"), 20000);
    assert.doesNotMatch(w.screenText().join("\n"), /Storage nearly full/);
    // fill Storage from outside the firmware, as months of trash would, to under 16 KB free
    const st = w.host.storage;
    for (let i = 0; st.getStats().freeBytes > 12000; i++) {
      const room = st.getStats().freeBytes - 11000;
      assert.ok(st.write("fill" + i, new Uint8Array(Math.max(64, Math.min(room, 30000)))), "filled " + i);
    }
    w.powerCut();
    w.powerOn();
    await w.until("idle with the warning", () => w.screenText().join("\n").includes("Storage nearly full"), 20000);
  });
});
