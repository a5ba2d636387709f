/**
 * The flows' code (build.ts PARTS, loaded from flash by the bundle) is let go at idle whatever loaded it: a flow
 * (idle's linger after it, firmware/parts.ts) or work done while idle went on (the records' count after a sync, a
 * paid notice checked at sync, the technician's console), which the idle screen's refresh lets go once the linger is
 * over. On the devkit bundle in the simulator; the interpreter's memory is held by test/engine/device-budget.test.ts.
 */
import assert from "node:assert/strict";
import { partsLoaded } from "../../bench/device-flows.ts";
import { PARTS } from "../../build.ts";
import { PART_ORDERS, PART_PRINT, PART_SCREENS, PART_SESSIONS, PARTS_LINGER_MS } from "../../firmware/parts.ts";
import { World } from "../../sim/world.ts";

const loaded = (w: World): Promise<string> => partsLoaded(w.host);
/** Whether part k is loaded now. */
const has = async (w: World, k: number): Promise<boolean> => (await loaded(w)).split(",")[k] === "1";

describe("terminal: the flows' code let go at idle", function () {
  this.timeout(120000);

  it("lets the screens' and the printouts' code go as soon as idle is back, the orders' as a payment opens, the sessions' after the linger", async () => {
    const w = World.open({ stateDir: null });
    await w.provision();
    w.setWifi(false);
    await w.until("idle", () => w.screenText().includes("Ready"), 20000);
    await w.run(PARTS_LINGER_MS + 1000);
    // the merchant menu (the screens' part), closed again
    await w.type("A");
    await w.until("the menu", () => !w.screenText().includes("Ready"), 10000);
    assert.ok(await has(w, PART_SCREENS), "the menu's code loaded");
    await w.type("C");
    await w.until("idle", () => w.screenText().includes("Ready"), 10000);
    await w.run(200);
    assert.ok(!(await has(w, PART_SCREENS)), "let go at idle, not 10 s later");
    // a payment with its receipt: the printouts go at idle, the sessions' code stays for the sessions' tails; the
    // invoices' and store orders' code (loaded here as an invoice just before would have) goes as the payment opens
    await w.wallet("alice");
    assert.ok((await w.host.evalInDevice("__P(" + PART_ORDERS + ")")).ok);
    assert.ok(await has(w, PART_ORDERS));
    await w.type("1250#");
    await w.until("request", () => w.displayQr() !== null, 30000);
    assert.ok(!(await has(w, PART_ORDERS)), "the orders' code let go as the payment opened");
    w.scanText(await w.pay("alice", w.displayQr()!));
    await w.until("printed", () => /Receipt printed/.test(w.screenText().join(" ")), 60000);
    assert.ok(await has(w, PART_PRINT), "the receipt's code loaded");
    await w.type("*");
    await w.until("idle", () => w.screenText().includes("Ready"), 10000);
    await w.run(200);
    assert.ok(!(await has(w, PART_PRINT)), "the printouts' code let go at idle");
    assert.ok(await has(w, PART_SESSIONS), "the sessions' code kept through the linger");
    await w.run(PARTS_LINGER_MS + 1000);
    assert.equal(await loaded(w), PARTS.map(() => "0").join(","));
    await w.close();
  });

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
