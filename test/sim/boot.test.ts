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

  it("turns the panel on and puts the frame buffer's pixels on it", () => {
    const host = booted();
    assert.equal(host.display.on, true);
    assert.equal(host.display.sleeping, false);
    const frame = host.display.frame();
    const { board } = readBoard("devkit");
    const palette = board.wiring.display.palette;
    // The status bar is filled with the text colour while offline; the body is background.
    assert.equal(frame[5 * 240 + 200], palette[1] === 0 ? 0x0000 : palette[1]);
    assert.equal(frame[200 * 240 + 5], palette[0]);
    // 1 bpp with an ink per row (hal/espruino/graphics.ts): a clear pixel of the frame buffer is the background on
    // the panel; the set pixels of a row are all one palette colour other than the background.
    const g = host.canvases[0] as { getPixel(x: number, y: number): number; getBPP(): number };
    assert.equal(g.getBPP(), 1);
    let mismatches = 0;
    const inks = new Set<number>();
    for (let y = 0; y < 240; y++) {
      let ink = -1;
      for (let x = 0; x < 240; x++) {
        const f = frame[y * 240 + x];
        if (!g.getPixel(x, y)) {
          if (f !== palette[0]) mismatches++;
          continue;
        }
        if (ink < 0) ink = f;
        if (f !== ink || f === palette[0] || palette.indexOf(f) < 0) mismatches++;
      }
      if (ink >= 0) inks.add(ink);
    }
    assert.equal(mismatches, 0);
    // the offline bar and the text in the text colour, "Ready" in the accent, "NOT PROVISIONED" in the alert colour
    assert.deepEqual([...inks].sort(), [palette[1], palette[2], palette[3]].sort());
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
