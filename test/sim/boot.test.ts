import assert from "node:assert/strict";
import { readBoard, SimHost } from "../../sim/host.ts";

function booted(): SimHost {
  const { board, bundle } = readBoard("devkit");
  const host = new SimHost({ board, bundle, wallClockMs: Date.UTC(2026, 10, 23, 9, 30, 0) });
  host.boot();
  host.advance(1000);
  return host;
}

describe("devkit bundle in the simulator", () => {
  it("boots without an uncaught error", () => {
    const host = booted();
    assert.deepEqual(host.errors, []);
    assert.equal(host.poweredOn, true);
  });

  it("shuts the Telnet, Bluetooth UART and serial consoles at boot", () => {
    const host = booted();
    assert.equal(host.consoles.telnet, "off");
    assert.equal(host.consoles.bleUart, false);
    assert.equal(host.consoles.serial, null);
  });

  it("shows the idle screen with the terminal's status", () => {
    const host = booted();
    const screen = host.screenText().join("\n");
    assert.match(screen, /OFFLINE {2}pending 0/);
    assert.match(screen, /sync never/);
    assert.match(screen, /09:30/);
    assert.match(screen, /NOT PROVISIONED/);
    assert.match(screen, /Ready/);
    assert.match(screen, /EUR 0\.00/);
    assert.match(screen, /firmware 0\.1\.0\+/);
  });

  it("turns the panel on and shows the idle screen in the palette's colours", () => {
    const host = booted();
    assert.equal(host.display.on, true);
    assert.equal(host.display.sleeping, false);
    const frame = host.display.frame();
    const { board } = readBoard("devkit");
    const palette = board.wiring.display.palette;
    // The status bar is filled with the text colour while offline; the body is background.
    assert.equal(frame[5 * 240 + 200], palette[1]);
    assert.equal(frame[200 * 240 + 5], palette[0]);
    // drawn band by band (test/sim/display/bands.test.ts holds it to a whole frame pixel for pixel): every pixel a
    // palette colour, the bar and text in the text colour, "Ready" in the accent, "NOT PROVISIONED" in the alert
    const seen = new Set<number>();
    for (const f of frame) seen.add(f);
    assert.deepEqual([...seen].sort(), [...palette].sort());
    const row = (y: number) => new Set(frame.subarray(y * 240, y * 240 + 240));
    const rows = (y1: number, y2: number, c: number) => {
      for (let y = y1; y <= y2; y++) if (row(y).has(c)) return true;
      return false;
    };
    assert.ok(rows(34, 49, palette[3]), "NOT PROVISIONED in the alert colour");
    assert.ok(rows(86, 101, palette[2]), "Ready in the accent");
    assert.ok(rows(112, 135, palette[1]), "the amount in the text colour");
  });

  it("takes an amount typed on the keypad", () => {
    const host = booted();
    for (const k of "1250") host.pressKey(k);
    assert.match(host.screenText().join("\n"), /EUR 12\.50/);
    host.pressKey("B");
    assert.match(host.screenText().join("\n"), /EUR 1\.25/);
    host.pressKey("*");
    assert.match(host.screenText().join("\n"), /Ready/);
  });

  it("updates the status bar clock as time passes", () => {
    const host = booted();
    host.advance(2 * 60 * 1000);
    assert.match(host.screenText().join("\n"), /09:32/);
  });

  it("boots again after a power cut with Storage intact", () => {
    const host = booted();
    host.storage.write("probe", "kept");
    host.reboot();
    host.advance(1000);
    assert.equal(host.storage.read("probe"), "kept");
    assert.match(host.screenText().join("\n"), /Ready/);
  });
});
