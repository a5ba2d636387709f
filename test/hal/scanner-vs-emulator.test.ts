import assert from "node:assert/strict";
import { Gm65Scanner } from "../../hal/drivers/gm65.ts";
import { Gm65Emulator } from "../../sim/peripherals/gm65.ts";
import { VirtualClock } from "../helpers/virtual-clock.ts";

/**
 * The GM65 driver wired to the byte-level emulator through a serial pair on a virtual clock. Bytes the module
 * sends reach the driver on the next scheduler turn, as a UART's receive callback would. `setup` runs on the
 * emulator before the driver starts (a module left in other settings).
 */
function rig(mode?: "command" | "continuous", setup?: (emu: Gm65Emulator) => void) {
  const clock = new VirtualClock();
  let toHost: ((d: Uint8Array) => void) | null = null;
  const emu = new Gm65Emulator({ now: () => clock.uptime(), onTransmit: (b) => clock.sched.post(() => toHost && toHost(b)) });
  if (setup) setup(emu);
  const scanner = new Gm65Scanner({
    clock,
    mode,
    serial: (o) => {
      toHost = o.onReadable;
      return { write: (d) => emu.receive(d), close() {} };
    },
  });
  const seen: string[] = [];
  scanner.listen((err, code) => seen.push(err ? "!" + err : (code as { text: string }).text));
  const run = (ms: number) => clock.advance(ms, () => emu.tick());
  run(1000);
  return { clock, emu, scanner, seen, run };
}

describe("GM65 driver against the emulated module", () => {
  it("configures a module left with USB output, a CRLF tail, QR off and other symbologies on", () => {
    const { emu, scanner, seen } = rig("continuous", (e) => {
      e.registers[0x000d] = 0x05;
      e.registers[0x0060] = 0x21;
      e.registers[0x003f] = 0x00;
      e.registers[0x002c] = 0x3f;
      e.registers[0x0000] = 0xc1;
    });
    assert.deepEqual(seen, []);
    assert.equal(scanner.configured, true);
    assert.equal(emu.registers[0x000d], 0x04, "serial output, encoding bits kept");
    assert.equal(emu.registers[0x0060], 0x01);
    assert.equal(emu.registers[0x003f], 0x01);
    assert.equal(emu.registers[0x002c], 0x01);
    assert.equal(emu.registers[0x0000], 0xc2, "continuous, LED/sound/aim/light bits kept");
  });

  it("sets command-triggered mode when asked", () => {
    const { emu } = rig("command");
    assert.equal(emu.mode, 1);
  });

  it("delivers a presented code as text", () => {
    const { emu, seen, run } = rig("continuous");
    emu.present("P1HELLO");
    run(500);
    assert.deepEqual(seen, ["P1HELLO"]);
  });

  it("reads codes from a module that had a CRLF tail, prefix and CodeID on", () => {
    const { emu, seen, run } = rig("continuous", (e) => {
      e.registers[0x0060] = 0x2d;
      e.prefix = new Uint8Array([0x3e]);
    });
    emu.present("P1CRLF");
    run(500);
    assert.deepEqual(seen, ["P1CRLF"]);
  });

  it("scans in command mode only after a trigger", () => {
    const { emu, scanner, seen, run } = rig("command");
    emu.present("R1ABC");
    run(500);
    assert.deepEqual(seen, []);
    scanner.trigger();
    run(1500);
    assert.deepEqual(seen, ["R1ABC"]);
  });

  it("reports a half-read code as partial", () => {
    const { emu, seen, run } = rig("continuous");
    emu.presentPartial("P1HALFREAD", 5);
    run(1000);
    assert.deepEqual(seen, ["!partial"]);
  });

  it("reports line noise as garbage and still reads the next code", () => {
    const { emu, seen, run } = rig("continuous");
    emu.injectNoise([0xff, 0x13, 0x0d]);
    run(100);
    emu.present("OK1");
    run(500);
    assert.deepEqual(seen, ["!garbage", "OK1"]);
  });

  it("reports a code over maxLength as too-long", () => {
    const clock = new VirtualClock();
    let toHost: ((d: Uint8Array) => void) | null = null;
    const emu = new Gm65Emulator({ now: () => clock.uptime(), onTransmit: (b) => clock.sched.post(() => toHost && toHost(b)) });
    const seen: string[] = [];
    const s = new Gm65Scanner({
      clock,
      maxLength: 16,
      serial: (o) => {
        toHost = o.onReadable;
        return { write: (d) => emu.receive(d), close() {} };
      },
    });
    s.listen((err, code) => seen.push(err ? "!" + err : (code as { text: string }).text));
    clock.advance(1000, () => emu.tick());
    emu.present("X".repeat(17));
    clock.advance(500, () => emu.tick());
    assert.deepEqual(seen, ["!too-long"]);
  });

  it("reports a module that never answers as config, once per setting", () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    const s = new Gm65Scanner({ clock, serial: () => ({ write() {}, close() {} }) });
    s.listen((err) => seen.push(String(err)));
    clock.advance(10000);
    assert.deepEqual(seen, ["config", "config", "config", "config", "config"]);
    assert.equal(s.configured, false);
  });
});
