/**
 * The whole device's JsVars on the real interpreter (ESPRUINO=...): the flashed bundle booted from Storage by the
 * espruino engine, provisioned, running every flow through its bridged parts (bench/device-flows.ts). Fails when the
 * peak in any flow exceeds 12,000 JsVars or the bundle's idle use exceeds the board's budget (boards/devkit-data.ts);
 * prints the figures and the limits. Skips, saying so, when ESPRUINO is unset.
 */
import assert from "node:assert/strict";
import { IDLE_LIMIT, IDLE_TARGET, LIVE_PEAK_TARGET, measureDevice, PEAK_LIMIT, report } from "../../bench/device-flows.ts";
import type { DeviceFigures } from "../../bench/device-flows.ts";
import { PARTS } from "../../build.ts";
import { espruinoBin } from "../../sim/engine/engine.ts";
import { engineSuitesSkipped } from "../flows/engines.ts";

/** JsVars the flows may leave in use once idle again, over the idle at boot (see the test below). */
const AFTER_FLOWS = 300;

describe("the whole device's memory on the real interpreter, every flow (ESPRUINO=...)", function () {
  this.timeout(900000);
  let f: DeviceFigures;

  before(async function () {
    const bin = espruinoBin();
    // every flow in real time, about 2 minutes: in every run with ESPRUINO set (test/flows/engines.ts)
    const why = engineSuitesSkipped();
    if (!bin || why) {
      console.log("      skipped: " + why + "; with it, this holds the whole device to its JsVars budgets");
      return this.skip();
    }
    f = await measureDevice(bin);
    for (const l of report(f)) console.log(l);
  });

  it("runs every flow to its result screen with no error on the device", () => {
    assert.deepEqual(f.errors, []);
    assert.deepEqual(
      f.flows.filter((x) => x.screenMs === null).map((x) => x.flow),
      [],
    );
    for (const x of f.flows.filter((y) => /journal/.test(y.flow))) assert.ok(x.journalMs !== null && x.receiptMs !== null, x.flow + ": journal and receipt timed");
  });

  it(`stays at or under ${PEAK_LIMIT} JsVars at the peak of every flow`, () => {
    for (const x of f.flows) assert.ok(x.peak <= PEAK_LIMIT, `${x.flow}: peak ${x.peak} JsVars, over ${PEAK_LIMIT}`);
  });

  it("lets the flows' code go once idle again: no part loaded, the bundle within the idle budget", () => {
    assert.equal(f.partsAfter, PARTS.map(() => "0").join(","), "parts still loaded");
    assert.ok(f.idleAfterBundle <= IDLE_LIMIT, `idle after the flows ${f.idleAfterBundle} JsVars, over ${IDLE_LIMIT}`);
  });

  it(`holds nothing of a finished flow once idle again: at most ${AFTER_FLOWS} JsVars over the idle at boot`, () => {
    // what the flows leave for good is their records' state (the ledger's wallets, the invoice book, kept orders:
    // 189 measured); a session still held (by the terminal, or by the Bluetooth table's handlers) is some 600 more
    assert.ok(f.idleAfterBundle - f.idleBundle <= AFTER_FLOWS, `idle after the flows ${f.idleAfterBundle} JsVars, at boot ${f.idleBundle}`);
  });

  it(`holds the bundle's idle JsVars to the board's budget (${IDLE_LIMIT})`, () => {
    assert.ok(f.idleBundle <= IDLE_LIMIT, `idle ${f.idleBundle} JsVars (whole device ${f.idleWhole}, bridge ${f.idleBridge}), over ${IDLE_LIMIT}`);
  });

  it(`holds the screens issue's targets: idle once booted at most ${IDLE_TARGET}, what any flow holds at its peak at most ${LIVE_PEAK_TARGET}`, () => {
    // the bundle alone: the bridge is the simulator's, never flashed (its own JsVars measured and taken off)
    assert.ok(f.idleBundle <= IDLE_TARGET, `idle ${f.idleBundle} JsVars, over ${IDLE_TARGET}`);
    for (const x of f.flows) assert.ok(x.live - f.idleBridge <= LIVE_PEAK_TARGET, `${x.flow}: ${x.live - f.idleBridge} JsVars held at the peak, over ${LIVE_PEAK_TARGET}`);
  });
});
