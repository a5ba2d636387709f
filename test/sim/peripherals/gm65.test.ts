import assert from "node:assert/strict";
import { crc16Xmodem, Gm65Emulator } from "../../../sim/peripherals/gm65.ts";

const hex = (s: string) => Uint8Array.from(s.trim().split(/\s+/).map((x) => parseInt(x, 16)));
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0").toUpperCase()).join(" ");

function rig() {
  let t = 1000;
  const sent: Uint8Array[] = [];
  const gm = new Gm65Emulator({ now: () => t, onTransmit: (b) => sent.push(b) });
  return {
    gm,
    sent,
    advance(ms: number) {
      t += ms;
    },
    /** All bytes sent since the last call, as hex. */
    take(): string {
      const all = sent.splice(0).flatMap((b) => Array.from(b));
      return toHex(Uint8Array.from(all));
    },
  };
}

/** Builds a command frame with a correct CRC. */
function frame(type: number, addr: number, data: number[]): Uint8Array {
  const body = [type, data.length, addr >> 8, addr & 0xff, ...data];
  const crc = crc16Xmodem(body);
  return Uint8Array.from([0x7e, 0x00, ...body, crc >> 8, crc & 0xff]);
}

describe("GM65 emulator", () => {
  describe("crc16Xmodem", () => {
    it("matches the manual's read and write frames", () => {
      assert.equal(crc16Xmodem(hex("07 01 00 0A 01")), 0xee8a);
      assert.equal(crc16Xmodem(hex("08 01 00 0A 3E")), 0x4ccf);
      assert.equal(crc16Xmodem(hex("09 01 00 00 00")), 0xdec8);
    });
    it("matches the standard XMODEM check value", () => {
      assert.equal(crc16Xmodem(new TextEncoder().encode("123456789")), 0x31c3);
    });
  });

  describe("frames", () => {
    it("answers a register read with 02 00 00 LEN DATA CRC (manual example)", () => {
      const r = rig();
      r.gm.registers[0x000a] = 0x3e;
      r.gm.receive(hex("7E 00 07 01 00 0A 01 EE 8A"));
      assert.equal(r.take(), "02 00 00 01 3E E4 AC");
    });

    it("acks a write with 02 00 00 01 00 33 31 and stores the value", () => {
      const r = rig();
      r.gm.receive(hex("7E 00 08 01 00 0A 3E 4C CF"));
      assert.equal(r.take(), "02 00 00 01 00 33 31");
      assert.equal(r.gm.registers[0x000a], 0x3e);
    });

    it("accepts a frame split into single bytes", () => {
      const r = rig();
      for (const b of hex("7E 00 08 01 00 60 21 4B F0")) r.gm.receive([b]);
      assert.equal(r.take(), "02 00 00 01 00 33 31");
      assert.equal(r.gm.registers[0x0060], 0x21);
    });

    it("accepts AB CD in place of the CRC", () => {
      const r = rig();
      r.gm.receive(hex("7E 00 08 01 00 00 D5 AB CD"));
      assert.equal(r.take(), "02 00 00 01 00 33 31");
      assert.equal(r.gm.registers[0], 0xd5);
    });

    it("stays silent and changes nothing on a CRC error", () => {
      const r = rig();
      r.gm.receive(hex("7E 00 08 01 00 0A 3E 4C CE"));
      assert.equal(r.take(), "");
      assert.equal(r.gm.registers[0x000a], 0);
    });

    it("stays silent on an unknown frame type", () => {
      const r = rig();
      r.gm.receive(frame(0x05, 0x0000, [0x01]));
      assert.equal(r.take(), "");
    });

    it("stays silent on a read whose LEN is not 1", () => {
      const r = rig();
      r.gm.receive(frame(0x07, 0x0000, [0x01, 0x02]));
      assert.equal(r.take(), "");
    });

    it("ignores bytes before 7E 00", () => {
      const r = rig();
      r.gm.receive(hex("FF 7E 12 00 7E 7E 00 07 01 00 0A 01 EE 8A"));
      assert.equal(r.take(), "02 00 00 01 00 33 31"); // register 0x000A holds 00
    });

    it("drops an incomplete frame 400 ms after 7E 00", () => {
      const r = rig();
      const f = hex("7E 00 08 01 00 0A 3E 4C CF");
      r.gm.receive(f.slice(0, 5));
      r.advance(401);
      r.gm.receive(f.slice(5));
      assert.equal(r.take(), "");
      r.gm.receive(f); // a fresh complete frame is still accepted afterwards
      assert.equal(r.take(), "02 00 00 01 00 33 31");
    });

    it("completes a frame whose last byte arrives within 400 ms", () => {
      const r = rig();
      const f = hex("7E 00 08 01 00 0A 3E 4C CF");
      r.gm.receive(f.slice(0, 5));
      r.advance(399);
      r.gm.receive(f.slice(5));
      assert.equal(r.take(), "02 00 00 01 00 33 31");
    });

    it("reads several registers in one frame", () => {
      const r = rig();
      r.gm.receive(frame(0x07, 0x002a, [0x02]));
      const data = [0x39, 0x01];
      const crc = crc16Xmodem([0x00, 0x02, ...data]);
      assert.equal(r.take(), toHex(Uint8Array.from([0x02, 0x00, 0x00, 0x02, ...data, crc >> 8, crc & 0xff])));
    });

    it("reads 256 registers when the count byte is 00", () => {
      const r = rig();
      r.gm.receive(frame(0x07, 0x0000, [0x00]));
      const out = r.sent.splice(0)[0];
      assert.equal(out.length, 4 + 256 + 2);
      assert.equal(out[3], 0x00);
    });

    it("acks the save frame from the notes and keeps saved values over a power cycle", () => {
      const r = rig();
      r.gm.receive(hex("7E 00 08 01 00 60 21 4B F0"));
      r.gm.receive(hex("7E 00 09 01 00 00 00 DE C8"));
      assert.equal(r.take(), "02 00 00 01 00 33 31 02 00 00 01 00 33 31");
      r.gm.receive(hex("7E 00 08 01 00 00 D5 EF 41"));
      r.gm.powerCycle();
      assert.equal(r.gm.registers[0x0060], 0x21);
      assert.equal(r.gm.registers[0x0000], 0xd6);
    });

    it("does not let the host overwrite the model byte", () => {
      const r = rig();
      r.gm.receive(frame(0x08, 0x00e0, [0x99]));
      assert.equal(r.gm.registers[0x00e0], 0x05);
    });
  });

  describe("baud", () => {
    it("defaults to 9600", () => {
      assert.equal(rig().gm.baud, 9600);
    });
    it("follows a write of the 115200 code 1A 00 to 0x002A", () => {
      const r = rig();
      r.gm.receive(frame(0x08, 0x002a, [0x1a, 0x00]));
      assert.equal(r.take(), "02 00 00 01 00 33 31");
      assert.equal(r.gm.baud, 115200);
    });
  });

  describe("scanning", () => {
    it("defaults to continuous mode and sends data + CR", () => {
      const r = rig();
      assert.equal(r.gm.registers[0], 0xd6);
      r.gm.present("ABC");
      assert.equal(r.take(), "41 42 43 0D");
    });

    it("suppresses the same code within the same-code delay in continuous mode", () => {
      const r = rig();
      r.gm.present("ABC");
      r.advance(490); // 0x0013 = 85: enabled, 5 x 0.1 s
      r.gm.present("ABC");
      r.gm.present("XY");
      assert.equal(r.take(), "41 42 43 0D 58 59 0D");
    });

    it("reads the same code again after the same-code delay", () => {
      const r = rig();
      r.gm.present("ABC");
      r.advance(500);
      r.gm.present("ABC");
      assert.equal(r.take(), "41 42 43 0D 41 42 43 0D");
    });

    it("treats sensor mode like continuous", () => {
      const r = rig();
      r.gm.receive(frame(0x08, 0x0000, [0xd7]));
      r.take();
      r.gm.present("1");
      assert.equal(r.take(), "31 0D");
    });

    it("ignores a code in manual mode unless the button is pressed", () => {
      const r = rig();
      r.gm.receive(frame(0x08, 0x0000, [0xd4]));
      r.take();
      r.gm.present("A");
      assert.equal(r.take(), "");
      r.gm.pressTrigger();
      r.gm.present("B");
      assert.equal(r.take(), "42 0D");
    });

    describe("command-triggered mode", () => {
      function commandRig() {
        const r = rig();
        r.gm.receive(hex("7E 00 08 01 00 00 D5 EF 41"));
        assert.equal(r.take(), "02 00 00 01 00 33 31");
        return r;
      }

      it("does not scan before a trigger", () => {
        const r = commandRig();
        r.gm.present("A");
        assert.equal(r.take(), "");
      });

      it("acks the trigger, then sends a code presented within the single-read time, and clears the bit", () => {
        const r = commandRig();
        r.gm.receive(hex("7E 00 08 01 00 02 01 AB CD"));
        assert.equal(r.take(), "02 00 00 01 00 33 31");
        assert.equal(r.gm.registers[2] & 1, 1);
        r.advance(4900);
        r.gm.present("A");
        assert.equal(r.take(), "41 0D");
        assert.equal(r.gm.registers[2] & 1, 0);
      });

      it("reads a code presented before the trigger when triggered", () => {
        const r = commandRig();
        r.gm.present("A");
        r.gm.receive(hex("7E 00 08 01 00 02 01 02 DA"));
        assert.equal(r.take(), "02 00 00 01 00 33 31 41 0D");
      });

      it("reads one code per trigger", () => {
        const r = commandRig();
        r.gm.receive(frame(0x08, 0x0002, [0x01]));
        r.gm.present("A");
        r.gm.present("B");
        assert.equal(r.take(), "02 00 00 01 00 33 31 41 0D");
      });

      it("gives up after the single-read time (0x0006, 0.1 s units) and clears the trigger bit", () => {
        const r = commandRig();
        r.gm.receive(frame(0x08, 0x0006, [10])); // 1 s
        r.gm.receive(frame(0x08, 0x0002, [0x01]));
        r.take();
        r.advance(1001);
        r.gm.tick();
        assert.equal(r.gm.registers[2] & 1, 0);
        r.gm.present("A");
        assert.equal(r.take(), "");
      });
    });

    it("frames output as prefix + data + suffix + CRLF per 0x0060", () => {
      const r = rig();
      r.gm.prefix = Uint8Array.of(0x0a);
      r.gm.suffix = Uint8Array.of(0x21);
      r.gm.receive(frame(0x08, 0x0060, [0x2b])); // CRLF, prefix, suffix, add tail
      r.take();
      r.gm.present("Z");
      assert.equal(r.take(), "0A 5A 21 0D 0A");
    });

    it("sends TAB or no tail as configured", () => {
      const r = rig();
      r.gm.receive(frame(0x08, 0x0060, [0x41])); // TAB
      r.take();
      r.gm.present("Z");
      assert.equal(r.take(), "5A 09");
      r.gm.receive(frame(0x08, 0x0060, [0x00])); // add-tail bit clear
      r.take();
      r.gm.present("Y");
      assert.equal(r.take(), "59");
    });

    it("sends nothing on the UART when the output interface is not serial", () => {
      const r = rig();
      r.gm.receive(frame(0x08, 0x000d, [0x01]));
      r.take();
      r.gm.present("A");
      assert.equal(r.take(), "");
    });

    it("does not read when QR is disabled", () => {
      const r = rig();
      r.gm.receive(frame(0x08, 0x003f, [0x00]));
      r.take();
      r.gm.present("A");
      assert.equal(r.take(), "");
    });

    it("sends binary codes byte for byte", () => {
      const r = rig();
      r.gm.present(Uint8Array.of(0x00, 0xff, 0x0d));
      assert.equal(r.take(), "00 FF 0D 0D");
    });
  });

  describe("test helpers", () => {
    it("injectNoise sends the bytes raw", () => {
      const r = rig();
      r.gm.injectNoise([0xff, 0x00, 0x7e]);
      assert.equal(r.take(), "FF 00 7E");
    });
    it("presentPartial sends only the first n bytes of the framed output", () => {
      const r = rig();
      r.gm.presentPartial("HELLO", 3);
      assert.equal(r.take(), "48 45 4C");
    });
  });
});
