/**
 * The flashed bundle (dist/devkit.js) in the simulator on a chip whose partition table puts the interpreter over
 * the journal's region (Espruino's ESP-IDF 4 table): the journal is not opened, the screen says why, no payment is
 * taken, and the technician's self-test reports it. On the standard ESP-IDF 3 table it opens as before.
 */
import assert from "node:assert/strict";
import { readBoard, SimHost } from "../../sim/host.ts";
import { ESPRUINO_IDF4_PARTITIONS, flashPartitionTable, systemAreaOf } from "../../sim/espruino/partitions.ts";

function booted(idf4: boolean): SimHost {
  const { board, bundle } = readBoard("devkit");
  const host = new SimHost({ board, bundle, wallClockMs: Date.UTC(2026, 10, 23, 9, 30, 0) });
  if (idf4) flashPartitionTable(systemAreaOf(host.journalFlash), ESPRUINO_IDF4_PARTITIONS);
  host.boot();
  host.advance(3000);
  return host;
}

/** The technician's self-test (D, 2) run to its printed report; the paper's 32-column lines joined again. */
function selfTest(host: SimHost): string {
  host.pressKey("D");
  host.advance(100);
  host.pressKey("2");
  host.advance(60000);
  return host.printer.text();
}

describe("the journal's flash region checked at boot (simulator, real bundle)", function () {
  this.timeout(60000);

  it("on Espruino's ESP-IDF 3 table: no refusal on screen or paper, the self-test passes its check", () => {
    const host = booted(false);
    assert.deepEqual(host.errors, []);
    assert.doesNotMatch(host.screenText().join("\n"), /Journal off/);
    const paper = selfTest(host);
    assert.doesNotMatch(paper, /not opened/);
    assert.match(paper, /OK {3}journal flash\n {2}journal 0x190000-0x258000 in o/);
  });

  it("on the ESP-IDF 4 table: the idle screen says the journal is off, and why at the first payment", () => {
    const host = booted(true);
    assert.deepEqual(host.errors, []);
    assert.match(host.screenText().join("\n"), /Journal off: PT_OVERLAP - technician/);
    for (const k of "500#") host.pressKey(k);
    host.advance(100);
    const screen = host.screenText().join("\n");
    assert.match(screen, /Journal not opened/);
    assert.match(screen, /PT_OVERLAP journal 0x190000-0x258000/);
    assert.match(screen, /overlaps factory \(app 0x10000\+0x1f4000\)/);
    // nothing was written into the region the interpreter's app partition covers
    assert.ok(host.journalFlash.bytes.every((b) => b === 0xff));
  });

  it("on the ESP-IDF 4 table: the technician's self-test prints the refusal and FAIL", () => {
    const host = booted(true);
    const paper = selfTest(host);
    assert.match(paper.replace(/\n/g, ""), /Journal not opened: PT_OVERLAP journal 0x190000-0x258000 overlaps factory \(app 0x10000\+0x1f4000\)/);
    assert.match(paper, /FAIL journal flash/);
    assert.match(paper, /RESULT: FAIL/);
  });
});
