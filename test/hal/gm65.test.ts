import assert from "node:assert/strict";
import sinon from "sinon";
import { commandFrame, crc16Xmodem, Gm65, parseReply, readFrame, ScanFramer, writeFrame } from "../../hal/drivers/gm65-frames.ts";
import { Gm65Scanner } from "../../hal/drivers/gm65.ts";
import { bytes, FakeSerial, hex, scripted, sinonClock, type Step } from "./fake-serial.ts";

describe("GM65 frames", () => {
  it("builds the manual's read frame for 0x000A with its CRC", () => {
    assert.equal(hex(commandFrame(Gm65.TypeRead, 0x000a, new Uint8Array([1]))), "7E 00 07 01 00 0A 01 EE 8A");
    assert.equal(hex(readFrame(0x000a)), "7E 00 07 01 00 0A 01 EE 8A");
  });
  it("builds the write frames listed in the notes", () => {
    assert.equal(hex(writeFrame(0x000a, 0x3e)), "7E 00 08 01 00 0A 3E 4C CF");
    assert.equal(hex(writeFrame(Gm65.RegMode, 0xd5)), "7E 00 08 01 00 00 D5 EF 41");
    assert.equal(hex(writeFrame(Gm65.RegMode, 0xd6)), "7E 00 08 01 00 00 D6 DF 22");
    assert.equal(hex(writeFrame(Gm65.RegTail, 0x01)), "7E 00 08 01 00 60 01 6F 92");
    assert.equal(hex(writeFrame(Gm65.RegSymbologies, 0x01)), "7E 00 08 01 00 2C 01 27 33");
    assert.equal(hex(writeFrame(Gm65.RegQr, 0x01)), "7E 00 08 01 00 3F 01 71 13");
    assert.equal(hex(writeFrame(Gm65.RegOutput, 0x00)), "7E 00 08 01 00 0D 00 02 C5");
    assert.equal(hex(writeFrame(Gm65.RegTrigger, 0x01)), "7E 00 08 01 00 02 01 02 DA");
  });
  it("builds the register-0 read and the EEPROM save frame of the notes", () => {
    assert.equal(hex(readFrame(Gm65.RegMode)), "7E 00 07 01 00 00 01 01 41");
    assert.equal(hex(commandFrame(Gm65.TypeSave, 0, new Uint8Array([0]))), "7E 00 09 01 00 00 00 DE C8");
  });
  it("parses the manual's read reply and a write ACK", () => {
    assert.deepEqual(parseReply(bytes("02 00 00 01 3E E4 AC")), { data: new Uint8Array([0x3e]), used: 7 });
    assert.deepEqual(parseReply(bytes("02 00 00 01 00 33 31")), { data: new Uint8Array([0]), used: 7 });
  });
  it("reports how many bytes a reply used when more follow it", () => {
    assert.deepEqual(parseReply(bytes("02 00 00 01 00 33 31 41 42")), { data: new Uint8Array([0]), used: 7 });
  });
  it("rejects a reply with a bad CRC", () => {
    assert.deepEqual(parseReply(bytes("02 00 00 01 00 33 32")), { err: "crc", used: 7 });
  });
  it("rejects a reply whose status byte is not 00", () => {
    const r = bytes("02 00 01 01 00 00 00");
    const crc = crc16Xmodem(r, 2, 5);
    r[5] = crc >> 8;
    r[6] = crc & 255;
    assert.deepEqual(parseReply(r), { err: "status", used: 7 });
  });
  it("rejects bytes that do not start with 02 00", () => {
    assert.deepEqual(parseReply(bytes("02 41 00 01")), { err: "frame", used: 1 });
  });
  it("waits for the rest of a reply", () => {
    assert.equal(parseReply(bytes("02")), null);
    assert.equal(parseReply(bytes("02 00 00 01 00 33")), null);
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
    return { out, f };
  };
  it("gives the same codes wherever the stream is cut into chunks", () => {
    const stream = "P1ABC\rXY\r\nZ\r";
    for (let a = 0; a <= stream.length; a++)
      for (let b = a; b <= stream.length; b++) {
        const { out } = run([stream.slice(0, a), stream.slice(a, b), stream.slice(b)]);
        assert.deepEqual(out, ["P1ABC", "XY", "Z"], `cut at ${a}, ${b}`);
      }
  });
  it("takes a CRLF tail as one end", () => {
    assert.deepEqual(run(["AB\r\nCD\r\n"]).out, ["AB", "CD"]);
  });
  it("takes a CRLF tail split between chunks as one end", () => {
    assert.deepEqual(run(["AB\r", "\nCD\r"]).out, ["AB", "CD"]);
  });
  it("reports a code holding a byte outside printable ASCII as garbage, once, and reads the next", () => {
    assert.deepEqual(run(["A\x01B\xffC\rOK\r"]).out, ["!garbage", "OK"]);
  });
  it("reports an LF inside a code as garbage", () => {
    assert.deepEqual(run(["A\nB\r"]).out, ["!garbage"]);
  });
  it("accepts a code of exactly the maximum length", () => {
    assert.deepEqual(run(["ABCDEFGH\r"], 8).out, ["ABCDEFGH"]);
  });
  it("reports a code one byte over the maximum length as too-long and reads the next", () => {
    assert.deepEqual(run(["ABCDEFGHI\rAB\r"], 8).out, ["!too-long", "AB"]);
  });
  it("ignores empty lines", () => {
    assert.deepEqual(run(["\r\r\n\rA\r"]).out, ["A"]);
  });
  it("holds an unfinished code and names it partial on flush", () => {
    const { out, f } = run(["P1HA"]);
    assert.deepEqual(out, []);
    assert.equal(f.pending(), true);
    assert.equal(f.flush(), "partial");
    assert.equal(f.pending(), false);
    assert.equal(f.flush(), null);
  });
  it("names an unfinished bad code by its fault on flush", () => {
    assert.equal(run(["AB\x01"]).f.flush(), "garbage");
  });
  it("holds a code's buffer only while the code comes in: none before, none after a code, a bad one or a flush", () => {
    const buffers = (f: ScanFramer) => Object.values(f).filter((v) => ArrayBuffer.isView(v)).length;
    assert.equal(buffers(new ScanFramer(512)), 0, "a framer made at boot");
    const { f, out } = run(["ABC"]);
    assert.equal(buffers(f), 1, "while a code comes in");
    f.push(new Uint8Array([13]), (e, t) => out.push(e ? "!" + e : (t as string)));
    assert.deepEqual(out, ["ABC"]);
    assert.equal(buffers(f), 0, "after a code");
    assert.equal(buffers(run(["AB\x01C\r"]).f), 0, "after a bad code");
    assert.equal(buffers(run(["X".repeat(70) + "\r"]).f), 0, "after a code too long");
    const g = run(["AB"]).f;
    g.flush();
    assert.equal(buffers(g), 0, "after a flush");
    assert.deepEqual(run(["AB", "\r", "CD\r"]).out, ["AB", "CD"], "the next code after the buffer was let go");
  });
});

/** A valid one-byte reply. */
function reply(v: number): string {
  const r = new Uint8Array([2, 0, 0, 1, v, 0, 0]);
  const crc = crc16Xmodem(r, 2, 5);
  r[5] = crc >> 8;
  r[6] = crc & 255;
  return hex(r);
}
const ACK = "02 00 00 01 00 33 31";
const rd = (addr: number, value: number): Step => ({ tx: hex(readFrame(addr)), rx: reply(value) });
const wr = (addr: number, value: number): Step => ({ tx: hex(writeFrame(addr, value)), rx: ACK });
/** One setting: read `had`; if it differs from `want`, write and read back `back` (default `want`). */
const setting = (addr: number, had: number, want: number, back = want): Step[] =>
  had === want ? [rd(addr, had)] : [rd(addr, had), wr(addr, want), rd(addr, back)];
/** The whole configuration of a module already set as the driver wants, ending with register 0 = `mode`. */
const settled = (mode: number): Step[] => [
  rd(0x2c, 0x01),
  rd(0x3f, 0x01),
  rd(0x60, 0x01),
  rd(0x0d, 0x00),
  rd(0x00, mode),
];

describe("GM65 driver (fake serial)", () => {
  let timers: sinon.SinonFakeTimers;
  beforeEach(() => {
    timers = sinon.useFakeTimers({ now: 0, toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
  });
  afterEach(() => timers.restore());

  function rig(script: Step[], mode?: "command" | "continuous", maxLength?: number) {
    const serial = new FakeSerial(() => timers.now);
    const s = scripted(serial, script, (fn, ms) => timers.setTimeout(fn, ms));
    const scanner = new Gm65Scanner({ serial: serial.open, clock: sinonClock(timers), mode, maxLength });
    const seen: string[] = [];
    scanner.listen((err, code) => seen.push(err ? "!" + err : (code as { text: string }).text));
    return { serial, scanner, seen, left: s.left };
  }

  it("opens its UART at 9600 baud", () => {
    const { serial } = rig(settled(0xd6));
    assert.equal(serial.opened.length, 1);
    assert.equal(serial.opened[0].baud, 9600);
  });

  it("configures a factory-fresh module with the notes' frames, each write read back", () => {
    const { scanner, seen, left } = rig(
      [
        ...setting(0x2c, 0x3f, 0x01),
        ...setting(0x3f, 0x00, 0x01),
        ...setting(0x60, 0x21, 0x01), // CRLF tail -> CR
        ...setting(0x0d, 0x01, 0x00), // USB -> serial
        ...setting(0x00, 0xd6, 0xd5), // continuous -> command
      ],
      "command",
    );
    timers.tick(1000);
    assert.deepEqual(left(), []);
    assert.deepEqual(seen, []);
    assert.equal(scanner.configured, true);
  });

  it("changes only the mode bits of register 0x0000", () => {
    const { left } = rig([...settled(0xd6).slice(0, 4), ...setting(0x00, 0x12, 0x11)], "command");
    timers.tick(1000);
    assert.deepEqual(left(), []);
  });

  it("changes only the output bits of register 0x000D", () => {
    const s = settled(0xd6);
    const { left } = rig([...s.slice(0, 3), ...setting(0x0d, 0x05, 0x04), s[4]], "continuous");
    timers.tick(1000);
    assert.deepEqual(left(), []);
  });

  it("defaults to continuous mode", () => {
    const { left } = rig([...settled(0).slice(0, 4), ...setting(0x00, 0xd5, 0xd6)]);
    timers.tick(1000);
    assert.deepEqual(left(), []);
  });

  it("sends one command at a time: the next goes out only after the reply", () => {
    const { serial } = rig(settled(0xd6));
    timers.tick(19);
    assert.equal(serial.writes.length, 1);
    timers.tick(1);
    assert.equal(serial.writes.length, 2);
  });

  it("reports a setting that reads back wrong as config and goes on with the next", () => {
    const { scanner, seen, left } = rig(
      [...setting(0x2c, 0x3f, 0x01, 0x3f), ...settled(0xd6).slice(1)],
      "continuous",
    );
    timers.tick(1000);
    assert.deepEqual(left(), []);
    assert.deepEqual(seen, ["!config"]);
    assert.equal(scanner.configured, false);
  });

  it("resends a command that got no reply after 500 ms, three tries in all, then reports config", () => {
    const silent = { tx: hex(readFrame(0x2c)) };
    const { serial, seen, left } = rig([silent, silent, silent, ...settled(0xd6).slice(1)], "continuous");
    timers.tick(1499);
    assert.deepEqual(seen, []);
    timers.tick(1);
    assert.deepEqual(seen, ["!config"]);
    assert.deepEqual(serial.writes.slice(0, 4).map((w) => w.t), [0, 500, 1000, 1500]);
    timers.tick(1000);
    assert.deepEqual(left(), []);
  });

  it("resends at once a command whose reply has a bad CRC", () => {
    const { serial, left } = rig(
      [{ tx: hex(readFrame(0x2c)), rx: "02 00 00 01 01 00 00" }, ...settled(0xd6)],
      "continuous",
    );
    timers.tick(20);
    assert.equal(serial.writes.length, 2);
    assert.equal(hex(serial.writes[1].bytes), hex(readFrame(0x2c)));
    timers.tick(1000);
    assert.deepEqual(left(), []);
  });

  it("takes a reply that arrives a byte at a time", () => {
    const { serial, left } = rig([{ tx: hex(readFrame(0x2c)) }, ...settled(0xd6).slice(1)], "continuous");
    for (const b of bytes(reply(0x01))) serial.inject(new Uint8Array([b]));
    timers.tick(1000);
    assert.deepEqual(left(), []);
  });

  it("writes the trigger frame after configuration and stays quiet when it is acknowledged", () => {
    const { scanner, seen, left } = rig([...settled(0xd5), { tx: "7E 00 08 01 00 02 01 02 DA", rx: ACK }], "command");
    scanner.trigger();
    timers.tick(1000);
    assert.deepEqual(left(), []);
    assert.deepEqual(seen, []);
  });

  it("reports a trigger the module never acknowledges", () => {
    const t = { tx: "7E 00 08 01 00 02 01 02 DA" };
    const { scanner, seen, left } = rig([...settled(0xd5), t, t, t], "command");
    timers.tick(200);
    scanner.trigger();
    timers.tick(2000);
    assert.deepEqual(left(), []);
    assert.deepEqual(seen, ["!trigger"]);
  });

  describe("scan output", () => {
    function ready(maxLength?: number) {
      const r = rig(settled(0xd6), "continuous", maxLength);
      timers.tick(200);
      assert.deepEqual(r.left(), []);
      return r;
    }

    it("delivers a code as text without its tail", () => {
      const { serial, seen } = ready();
      serial.inject(new TextEncoder().encode("P1HELLO\r"));
      assert.deepEqual(seen, ["P1HELLO"]);
    });

    it("delivers codes split across chunks anywhere", () => {
      const { serial, seen } = ready();
      for (const c of ["P1", "HEL", "LO\r", "\nX", "Y\r"]) serial.inject(new TextEncoder().encode(c));
      assert.deepEqual(seen, ["P1HELLO", "XY"]);
    });

    it("reports a code with no tail within 300 ms of its last byte as partial", () => {
      const { serial, seen } = ready();
      serial.inject(new TextEncoder().encode("P1HAL"));
      timers.tick(299);
      assert.deepEqual(seen, []);
      timers.tick(1);
      assert.deepEqual(seen, ["!partial"]);
    });

    it("restarts the 300 ms wait on each byte of a slow code", () => {
      const { serial, seen } = ready();
      serial.inject(new TextEncoder().encode("P1"));
      timers.tick(250);
      serial.inject(new TextEncoder().encode("AB"));
      timers.tick(250);
      serial.inject(new TextEncoder().encode("C\r"));
      timers.tick(1000);
      assert.deepEqual(seen, ["P1ABC"]);
    });

    it("reads the next code whole after a partial one", () => {
      const { serial, seen } = ready();
      serial.inject(new TextEncoder().encode("P1HAL"));
      timers.tick(300);
      serial.inject(new TextEncoder().encode("OK\r"));
      assert.deepEqual(seen, ["!partial", "OK"]);
    });

    it("reports non-printable bytes as garbage, with or without a tail", () => {
      const { serial, seen } = ready();
      serial.inject(new Uint8Array([0x41, 0xff, 0x0d]));
      serial.inject(new Uint8Array([0x80, 0x13]));
      timers.tick(300);
      assert.deepEqual(seen, ["!garbage", "!garbage"]);
    });

    it("reports a code over maxLength as too-long", () => {
      const { serial, seen } = ready(4);
      serial.inject(new TextEncoder().encode("ABCDE\rABCD\r"));
      assert.deepEqual(seen, ["!too-long", "ABCD"]);
    });

    it("defaults maxLength to 512", () => {
      const { serial, seen } = ready();
      serial.inject(new TextEncoder().encode("A".repeat(512) + "\r" + "B".repeat(513) + "\r"));
      assert.deepEqual(seen, ["A".repeat(512), "!too-long"]);
    });

    it("keeps a code and a reply apart when both arrive in one chunk during configuration", () => {
      const { serial, seen, left } = rig([{ tx: hex(readFrame(0x2c)) }, ...settled(0xd6).slice(1)], "continuous");
      serial.inject(new Uint8Array([...new TextEncoder().encode("P1X\r"), ...bytes(reply(0x01))]));
      timers.tick(1000);
      assert.deepEqual(seen, ["P1X"]);
      assert.deepEqual(left(), []);
    });
  });
});
