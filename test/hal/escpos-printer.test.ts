import assert from "node:assert/strict";
import { EscPos } from "../../hal/drivers/escpos.ts";
import { EscPosPrinter } from "../../hal/drivers/escpos-printer.ts";
import { EscPosPrinterEmulator } from "../../sim/peripherals/escpos-printer.ts";
import { VirtualClock } from "../helpers/virtual-clock.ts";

function rig() {
  const clock = new VirtualClock();
  let toHost: ((d: Uint8Array) => void) | null = null;
  const emu = new EscPosPrinterEmulator({ now: () => clock.uptime(), onTransmit: (b) => clock.sched.post(() => toHost && toHost(b)) });
  const printer = new EscPosPrinter({
    clock,
    serial: (o) => {
      toHost = o.onReadable;
      return { write: (d) => emu.receive(d), close() {} };
    },
  });
  return { clock, emu, printer, run: (ms: number) => clock.advance(ms, () => emu.tick()) };
}

function receipt(lines: number): Uint8Array {
  const r = new EscPos().init().align(1).size(2, 2).line("PAID").size(1, 1).align(0);
  for (let i = 0; i < lines; i++) r.pair("Item " + i, "EUR " + i + ".00");
  return r.qr("X1TESTRECEIPT", 6).feed(3).bytes();
}

describe("ESC/POS printer driver against the emulated printer", () => {
  it("reports ready when the printer is", () => {
    const { printer, run } = rig();
    let s = "";
    printer.status((x) => (s = x));
    run(2000);
    assert.equal(s, "ready");
  });

  it("prints a receipt: its lines and its QR reach the paper", () => {
    const { printer, emu, run } = rig();
    let result: string | null | undefined;
    printer.print(receipt(3), (e) => (result = e));
    run(60000);
    assert.equal(result, null);
    const text = emu.text();
    assert.match(text, /PAID/);
    assert.match(text, /Item 2 +EUR 2\.00/);
    const qr = emu.paper.find((p) => p.kind === "qr");
    assert.ok(qr && "data" in qr && qr.data === "X1TESTRECEIPT");
  });

  it("paces a long receipt so the printer's buffer never overflows", () => {
    const { printer, emu, run } = rig();
    let done = false;
    printer.print(receipt(60), () => (done = true));
    run(300000);
    assert.equal(done, true);
    assert.equal(emu.overflowBytes, 0);
    assert.match(emu.text(), /Item 59/);
  });

  it("refuses to print when the paper is out", () => {
    const { printer, emu, run } = rig();
    emu.paperOut = true;
    let result: string | null | undefined;
    printer.print(receipt(1), (e) => (result = e));
    run(5000);
    assert.equal(result, "paper-out");
    assert.doesNotMatch(emu.text(), /PAID/);
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
