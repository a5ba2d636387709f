import assert from "node:assert/strict";
import qrcode from "qrcode-generator";
import { EscPos } from "../../hal/escpos.ts";
import { EscPosPrinter } from "../../hal/drivers/escpos-printer.ts";
import { EscPosPrinterEmulator } from "../../sim/peripherals/escpos-printer.ts";
import { VirtualClock } from "../helpers/virtual-clock.ts";

/** The ESC/POS driver wired to the byte-level printer emulator (19200 baud, 256-byte buffer) on a virtual clock. */
function rig(bufferBytes?: number) {
  const clock = new VirtualClock();
  let toHost: ((d: Uint8Array) => void) | null = null;
  const emu = new EscPosPrinterEmulator({ now: () => clock.uptime(), onTransmit: (b) => clock.sched.post(() => toHost && toHost(b)) });
  const printer = new EscPosPrinter({
    clock,
    bufferBytes,
    serial: (o) => {
      toHost = o.onReadable;
      return { write: (d) => emu.receive(d), close() {} };
    },
  });
  return { clock, emu, printer, run: (ms: number) => clock.advance(ms, () => emu.tick(), 10) };
}

function receipt(lines: number): Uint8Array {
  const r = new EscPos().init().align(1).size(2, 2).line("PAID").size(1, 1).align(0);
  for (let i = 0; i < lines; i++) r.pair("Item " + i, "EUR " + i + ".00");
  return r.align(1).qr("X1TESTRECEIPT", 6).feed(3).bytes();
}

describe("ESC/POS printer driver against the emulated printer", () => {
  it("reports ready when the printer is", () => {
    const { printer, run } = rig();
    let s = "";
    printer.status((x) => (s = x));
    run(2000);
    assert.equal(s, "ready");
  });

  it("sends nothing the booting printer would drop", () => {
    const { printer, emu, run } = rig();
    printer.print(receipt(1), () => {});
    run(20000);
    assert.equal(emu.droppedBytes, 0);
  });

  it("prints a receipt: its text lines in order and its QR data reach the paper", () => {
    const { printer, emu, run } = rig();
    let result: string | null | undefined;
    printer.print(receipt(3), (e) => (result = e));
    run(60000);
    assert.equal(result, null);
    const lines = emu.text().split("\n");
    assert.deepEqual(lines.slice(0, 4), [
      "      PAID",
      "Item 0                  EUR 0.00",
      "Item 1                  EUR 1.00",
      "Item 2                  EUR 2.00",
    ]);
    const qr = emu.paper.find((p) => p.kind === "qr");
    assert.ok(qr && qr.kind === "qr");
    assert.equal(qr.data, "X1TESTRECEIPT");
    assert.equal(qr.module, 6);
    assert.equal(qr.ecc, "M");
    assert.deepEqual(emu.unknown, []);
  });

  it("paces a long receipt so the printer's buffer never overflows", () => {
    const { printer, emu, run } = rig();
    let result: string | null | undefined;
    printer.print(receipt(80), (e) => (result = e));
    run(300000);
    assert.equal(result, null);
    assert.equal(emu.overflowBytes, 0);
    assert.match(emu.text(), /Item 79 +EUR 79\.00/);
  });

  it("paces a raster QR so the buffer never overflows and the image arrives whole", () => {
    const q = qrcode(0, "M");
    q.addData("X1RASTERFALLBACK", "Byte");
    q.make();
    const n = q.getModuleCount();
    const job = new EscPos().init().line("RASTER").qrRaster(n, (x, y) => q.isDark(y, x), 8).feed(3).bytes();
    const { printer, emu, run } = rig();
    let result: string | null | undefined;
    printer.print(job, (e) => (result = e));
    run(300000);
    assert.equal(result, null);
    assert.equal(emu.overflowBytes, 0);
    const img = emu.paper.find((p) => p.kind === "raster");
    assert.ok(img && img.kind === "raster");
    assert.equal(img.height, (n + 8) * 8);
    // module (x, y) = (0, 0) is dark (finder pattern) at dot (32, 32); the quiet zone is white
    const row = img.width / 8;
    assert.equal(img.bits[32 * row + 4] & 0x80, 0x80);
    assert.equal(img.bits[31 * row + 4], 0);
  });

  it("overflows the printer when told its buffer is bigger than it is (the check can fail)", () => {
    const { printer, emu, run } = rig(4096);
    printer.print(receipt(80), () => {});
    run(300000);
    assert.ok(emu.overflowBytes > 0);
  });

  it("refuses to print when the paper is out", () => {
    const { printer, emu, run } = rig();
    emu.paperOut = true;
    let result: string | null | undefined;
    printer.print(receipt(1), (e) => (result = e));
    run(5000);
    assert.equal(result, "paper-out");
    assert.doesNotMatch(emu.text(), /PAID/);
    assert.equal(emu.lost.length, 0);
  });

  it("reports paper-out when the paper runs out during a job", () => {
    const { printer, emu, run } = rig();
    let result: string | null | undefined;
    printer.print(receipt(40), (e) => (result = e));
    run(5000);
    emu.paperOut = true;
    run(300000);
    assert.equal(result, "paper-out");
  });

  it("reports a printer that does not answer as offline", () => {
    const clock = new VirtualClock();
    const printer = new EscPosPrinter({ clock, serial: () => ({ write() {}, close() {} }) });
    let s = "";
    printer.status((x) => (s = x));
    clock.advance(3000);
    assert.equal(s, "offline");
  });
});
