import assert from "node:assert/strict";
import { commandFrame, crc16Xmodem, Gm65, parseReply, ScanFramer } from "../../hal/drivers/gm65-frames.ts";
import { Gm65Scanner } from "../../hal/drivers/gm65.ts";
import { Gm65Emulator } from "../../sim/peripherals/gm65.ts";
import { VirtualClock } from "../helpers/virtual-clock.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex").replace(/(..)/g, "$1 ").trim().toUpperCase();
const bytes = (s: string) => new Uint8Array(Buffer.from(s.replace(/ /g, ""), "hex"));

describe("GM65 frames", () => {
  it("builds the manual's read frame with its CRC", () => {
    assert.equal(hex(commandFrame(Gm65.TypeRead, 0x000a, new Uint8Array([1]))), "7E 00 07 01 00 0A 01 EE 8A");
  });
  it("builds the command-mode write frame from the notes", () => {
    assert.equal(hex(commandFrame(Gm65.TypeWrite, Gm65.RegMode, new Uint8Array([0xd5]))), "7E 00 08 01 00 00 D5 EF 41");
  });
  it("parses an ACK and a read reply", () => {
    assert.deepEqual(parseReply(bytes("02 00 00 01 00 33 31")), { data: new Uint8Array([0]), used: 7 });
    assert.deepEqual(parseReply(bytes("02 00 00 01 3E E4 AC")), { data: new Uint8Array([0x3e]), used: 7 });
  });
  it("rejects a reply with a bad CRC", () => {
    assert.deepEqual(parseReply(bytes("02 00 00 01 00 33 32")), { err: "crc", used: 7 });
  });
  it("waits for the rest of a reply", () => {
    assert.equal(parseReply(bytes("02 00 00 01 00")), null);
  });
  it("computes CRC-16/XMODEM's check value", () => {
    assert.equal(crc16Xmodem(new TextEncoder().encode("123456789"), 0, 9), 0x31c3);
  });
});

describe("GM65 scan framer", () => {
  const run = (chunks: string[], max = 64) => {
    const f = new ScanFramer(max);
    const out: string[] = [];
    for (const c of chunks) f.push(new Uint8Array(Buffer.from(c, "latin1")), (e, t) => out.push(e ? "!" + e : (t as string)));
    return out;
  };
  it("splits codes on CR whatever the chunking", () => {
    assert.deepEqual(run(["P1AB", "C\r", "X", "Y\rZ\r"]), ["P1ABC", "XY", "Z"]);
  });
  it("takes a CRLF tail as one end", () => {
    assert.deepEqual(run(["AB\r\nCD\r\n"]), ["AB", "CD"]);
  });
  it("reports bytes outside printable ASCII as garbage", () => {
    assert.deepEqual(run(["A\x01B\rOK\r"]), ["!garbage", "OK"]);
  });
  it("reports a code over the maximum length", () => {
    assert.deepEqual(run(["ABCDEFGHIJ\rAB\r"], 8), ["!too-long", "AB"]);
  });
});

function rig(mode: "command" | "continuous") {
  const clock = new VirtualClock();
  let toHost: ((d: Uint8Array) => void) | null = null;
  const emu = new Gm65Emulator({ now: () => clock.uptime(), onTransmit: (b) => clock.sched.post(() => toHost && toHost(b)) });
  const scanner = new Gm65Scanner({
    clock,
    mode,
    serial: (o) => {
      assert.equal(o.baud, 9600);
      toHost = o.onReadable;
      return { write: (d) => emu.receive(d), close() {} };
    },
  });
  const seen: string[] = [];
  scanner.listen((err, code) => seen.push(err ? "!" + err : (code as { text: string }).text));
  clock.advance(1000, () => emu.tick());
  return { clock, emu, scanner, seen };
}

describe("GM65 driver against the emulated module", () => {
  it("configures continuous mode, QR only and a CR tail, each write acknowledged", () => {
    const { emu, seen } = rig("continuous");
    assert.equal(emu.mode, 2);
    assert.equal(emu.registers[0x0060], 0x01);
    assert.equal(emu.registers[0x003f], 0x01);
    assert.deepEqual(seen, []);
  });
  it("delivers a presented code as text", () => {
    const { clock, emu, seen } = rig("continuous");
    emu.present("P1HELLO");
    clock.advance(500, () => emu.tick());
    assert.deepEqual(seen, ["P1HELLO"]);
  });
  it("scans in command mode only after a trigger", () => {
    const { clock, emu, scanner, seen } = rig("command");
    assert.equal(emu.mode, 1);
    emu.present("R1ABC");
    clock.advance(500, () => emu.tick());
    assert.deepEqual(seen, []);
    scanner.trigger();
    clock.advance(1500, () => emu.tick());
    assert.deepEqual(seen, ["R1ABC"]);
  });
  it("reports a half-read code as partial", () => {
    const { clock, emu, seen } = rig("continuous");
    emu.presentPartial("P1HALFREAD", 5);
    clock.advance(1000, () => emu.tick());
    assert.deepEqual(seen, ["!partial"]);
  });
  it("reports line noise as garbage and still reads the next code", () => {
    const { clock, emu, seen } = rig("continuous");
    emu.injectNoise([0xff, 0x13, 0x0d]);
    clock.advance(100, () => emu.tick());
    emu.present("OK1");
    clock.advance(500, () => emu.tick());
    assert.deepEqual(seen, ["!garbage", "OK1"]);
  });
  it("reports a module that never acknowledges its settings", () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    const s = new Gm65Scanner({ clock, serial: () => ({ write() {}, close() {} }) });
    s.listen((err) => seen.push(String(err)));
    clock.advance(5000);
    assert.ok(seen.length >= 1 && seen.every((e) => e === "config"), seen.join(","));
  });
});
