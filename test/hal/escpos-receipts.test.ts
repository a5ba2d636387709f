import assert from "node:assert/strict";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import qrcode from "qrcode-generator";
import { EscPos } from "../../hal/escpos.ts";
import { EscPosPrinterEmulator } from "../../sim/peripherals/escpos-printer.ts";
import { paperPng, receiptPngs } from "../../sim/render/paper.ts";

/** An emulated printer that takes bytes at once (no line rate, no boot time) on a clock the test moves. */
function printer() {
  let t = 0;
  const emu = new EscPosPrinterEmulator({ now: () => t, onTransmit: () => {}, baud: 0, bootMs: 0, bufferSize: 1 << 20 });
  return {
    emu,
    feed(b: Uint8Array) {
      emu.receive(b);
      t += 600000; // long enough for anything to print
      emu.tick();
    },
  };
}

function decodePng(png: Buffer): string | null {
  const img = PNG.sync.read(png);
  const r = jsQR(new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.length), img.width, img.height);
  return r ? r.data : null;
}

describe("ESC/POS emulator: printed jobs (receipts())", () => {
  it("splits the roll into one job per ESC @, each with its own text", () => {
    const p = printer();
    p.feed(new EscPos().init().line("FIRST").line("one").bytes());
    p.feed(new EscPos().init().align(1).line("SECOND").bytes());
    const r = p.emu.receipts();
    assert.equal(r.length, 2);
    assert.equal(r[0].text, "FIRST\none");
    assert.equal(r[1].text, " ".repeat(13) + "SECOND");
    assert.deepEqual([r[0].index, r[1].index], [0, 1]);
  });

  it("makes no empty job of an ESC @ with nothing printed since the last", () => {
    const p = printer();
    p.feed(new EscPos().init().init().line("A").bytes());
    p.feed(new EscPos().init().bytes());
    p.feed(new EscPos().init().line("B").bytes());
    assert.deepEqual(
      p.emu.receipts().map((r) => r.text),
      ["A", "B"],
    );
  });

  it("counts what printed before any ESC @ as a job", () => {
    const p = printer();
    p.feed(new EscPos().line("no init").bytes());
    assert.deepEqual(
      p.emu.receipts().map((r) => r.text),
      ["no init"],
    );
  });

  it("has the whole roll's text in its jobs, in order", () => {
    const p = printer();
    for (let i = 0; i < 3; i++) p.feed(new EscPos().init().line("job " + i).feed(2).bytes());
    assert.equal(
      p.emu
        .receipts()
        .map((r) => r.text)
        .join("\n"),
      p.emu.text(),
    );
  });

  it("splits at a paper cut (GS V 0), prints the pending line first and counts the cut", () => {
    const p = printer();
    p.feed(Uint8Array.from([...new EscPos().init().line("A").text("B").bytes(), 0x1d, 0x56, 0x00, ...new EscPos().line("C").bytes()]));
    assert.deepEqual(
      p.emu.receipts().map((r) => r.text),
      ["A\nB", "C"],
    );
    assert.equal(p.emu.cuts, 1);
    assert.equal(p.emu.unknown.length, 0);
  });

  it("feeds n dot rows for GS V 66 n before the cut takes effect", () => {
    const p = printer();
    p.feed(Uint8Array.from([...new EscPos().init().line("A").bytes(), 0x1d, 0x56, 66, 60]));
    const items = p.emu.receipts()[0].items;
    assert.deepEqual(items[items.length - 1], { kind: "feed", dots: 60 });
    assert.equal(p.emu.cuts, 1);
  });

  it("leaves out of every job what was sent while the paper was out", () => {
    const p = printer();
    p.feed(new EscPos().init().line("kept").bytes());
    p.emu.paperOut = true;
    p.feed(new EscPos().init().line("lost").bytes());
    p.emu.paperOut = false;
    p.feed(new EscPos().init().line("kept too").bytes());
    assert.deepEqual(
      p.emu.receipts().map((r) => r.text),
      ["kept", "kept too"],
    );
  });

  it("lists the data of each GS ( k QR a job printed", () => {
    const p = printer();
    p.feed(new EscPos().init().line("x").bytes());
    p.feed(new EscPos().init().qr("P1ONE", 4).qr("P1TWO", 4).bytes());
    assert.deepEqual(
      p.emu.receipts().map((r) => r.qrs),
      [[], ["P1ONE", "P1TWO"]],
    );
  });

  it("renders each job as a 384-dot-wide PNG as tall as its items", () => {
    const p = printer();
    p.feed(new EscPos().init().line("one line").bytes());
    p.feed(new EscPos().init().size(2, 2).line("BIG").size(1, 1).feed(1).bytes());
    const [a, b] = p.emu.receipts();
    const pa = PNG.sync.read(a.png);
    const pb = PNG.sync.read(b.png);
    assert.deepEqual([pa.width, pa.height], [384, 30]);
    assert.deepEqual([pb.width, pb.height], [384, 48 + 30]);
    assert.equal(b.bitmap.height, 78);
    assert.ok(b.bitmap.bits.some((x) => x !== 0), "ink on the paper");
  });

  it("renders a job's GS ( k QR so an independent decoder reads it back", () => {
    const p = printer();
    p.feed(new EscPos().init().line("first").bytes());
    p.feed(new EscPos().init().line("RECEIPT").align(1).lf().qr("P1RECOVERY-0123456789", 4).lf().line("end").bytes());
    const pngs = receiptPngs(p.emu);
    assert.equal(pngs.length, 2);
    assert.equal(decodePng(pngs[1]), "P1RECOVERY-0123456789");
    assert.equal(decodePng(pngs[0]), null);
  });

  it("renders a job's raster QR (GS v 0) so an independent decoder reads it back", () => {
    const q = qrcode(0, "M");
    q.addData("P1RASTER-QR", "Byte");
    q.make();
    const n = q.getModuleCount();
    const p = printer();
    p.feed(new EscPos().init().line("RASTER").qrRaster(n, (x, y) => q.isDark(y, x), 6).line("end").bytes());
    const [r] = p.emu.receipts();
    assert.ok(r.items.some((it) => it.kind === "raster"));
    assert.deepEqual(r.qrs, []);
    assert.equal(decodePng(r.png), "P1RASTER-QR");
  });

  it("still renders the whole roll as one PNG", () => {
    const p = printer();
    p.feed(new EscPos().init().line("a").bytes());
    p.feed(new EscPos().init().line("b").bytes());
    assert.equal(PNG.sync.read(paperPng(p.emu)).height, 60);
  });

  it("gives the last job, or null before anything printed", () => {
    const p = printer();
    assert.equal(p.emu.lastReceipt(), null);
    p.feed(new EscPos().init().line("a").bytes());
    p.feed(new EscPos().init().line("b").bytes());
    assert.equal(p.emu.lastReceipt()?.text, "b");
  });
});
