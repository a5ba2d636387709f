/**
 * The simulator's event loop (sim/espruino/scheduler.ts): the clock a callback reads is the time it fell due, for
 * an interval as for a timeout. Every part's emulator reads this clock (the secure element's watchdog, the scanner's
 * frame timeout), so a callback that saw the time of its next turn put the secure element to sleep in the middle of
 * a command: a provisioning that failed "SE_SETUP timeout" now and then, as the console's real time fell.
 */
import assert from "node:assert/strict";
import { Scheduler } from "../../../sim/espruino/scheduler.ts";

describe("the simulator's scheduler", () => {
  it("runs an interval at each time it falls due, and the clock reads that time in it and in what runs after it", () => {
    const s = new Scheduler();
    const seen: string[] = [];
    s.at(1000, () => seen.push("every " + s.now), 1000);
    s.at(1000, () => seen.push("once " + s.now));
    s.at(1500, () => seen.push("once " + s.now));
    s.advance(3000);
    assert.deepEqual(seen, ["every 1000", "once 1000", "once 1500", "every 2000", "every 3000"]);
    assert.equal(s.now, 3000);
  });

  it("never moves the clock backwards between callbacks, whatever the order they were set in", () => {
    const s = new Scheduler();
    const times: number[] = [];
    for (const [ms, every] of [[700, 700], [300, 0], [50, 250], [1000, 0], [999, 0]]) s.at(ms, () => times.push(s.now), every);
    s.advance(2000);
    assert.deepEqual(times, [...times].sort((a, b) => a - b));
    assert.deepEqual(times.slice(0, 4), [50, 300, 300, 550]);
  });

  it("runs what a callback sets for the same time after it, in the order set, within the same advance", () => {
    const s = new Scheduler();
    const seen: string[] = [];
    s.at(10, () => {
      seen.push("a " + s.now);
      s.at(0, () => seen.push("b " + s.now));
      s.at(5, () => seen.push("c " + s.now));
    });
    s.advance(12);
    assert.deepEqual(seen, ["a 10", "b 10"]);
    s.advance(3);
    assert.deepEqual(seen, ["a 10", "b 10", "c 15"]);
  });
});
