import assert from "node:assert/strict";
import sinon from "sinon";
import { EscPos } from "../../hal/escpos.ts";
import { EscPosPrinter, PrintTime } from "../../hal/drivers/escpos-printer.ts";
import { FakeSerial, hex, sinonClock } from "./fake-serial.ts";

/**
 * A fake printer port: DLE EOT n (as one write) is answered after 5 ms from `status[n]` (undefined: no answer);
 * every other write must be the next bytes of `job`, or the test fails.
 */
function printerPort(serial: FakeSerial, later: (fn: () => void, ms: number) => void) {
  const port = {
    status: { 1: 0x12, 2: 0x12, 4: 0x12 } as Record<number, number | undefined>,
    jobs: [] as Uint8Array[],
    received: [] as number[],
    asked: [] as number[],
  };
  serial.onWrite = (d) => {
    if (d.length === 3 && d[0] === 0x10 && d[1] === 0x04) {
      const n = d[2];
      assert.ok(n === 1 || n === 2 || n === 4, `DLE EOT ${n}`);
      port.asked.push(n);
      const s = port.status[n];
      if (s !== undefined) later(() => serial.inject(new Uint8Array([s])), 5);
      return;
    }
    const job = port.jobs[0];
    if (!job) throw new Error(`unexpected write ${hex(d)}`);
    const at = port.received.length;
    assert.equal(hex(d), hex(job.subarray(at, at + d.length)), `job bytes from ${at}`);
    port.received.push(...d);
    if (port.received.length === job.length) {
      port.jobs.shift();
      port.received = [];
    }
  };
  return port;
}

function textJob(lines: number): Uint8Array {
  const r = new EscPos().init();
  for (let i = 0; i < lines; i++) r.line(("Line " + i).padEnd(31, "."));
  return r.feed(3).bytes();
}

describe("ESC/POS printer driver (fake serial)", () => {
  let timers: sinon.SinonFakeTimers;
  beforeEach(() => {
    timers = sinon.useFakeTimers({ now: 0, toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
  });
  afterEach(() => timers.restore());

  function rig(o: { baud?: number; bufferBytes?: number } = {}) {
    const serial = new FakeSerial(() => timers.now);
    const port = printerPort(serial, (fn, ms) => timers.setTimeout(fn, ms));
    const printer = new EscPosPrinter({ serial: serial.open, clock: sinonClock(timers), ...o });
    return { serial, port, printer };
  }
  function statusOf(printer: EscPosPrinter): () => string | undefined {
    let s: string | undefined;
    printer.status((x) => (s = x));
    return () => s;
  }
  /** Job writes (not status requests). */
  const jobWrites = (serial: FakeSerial) => serial.writes.filter((w) => !(w.bytes.length === 3 && w.bytes[0] === 0x10));

  it("opens its UART at 19200 baud unless told otherwise", () => {
    assert.equal(rig().serial.opened[0].baud, 19200);
    assert.equal(rig({ baud: 9600 }).serial.opened[0].baud, 9600);
  });

  it("sends nothing before the printer has had 500 ms to boot", () => {
    const { serial, printer } = rig();
    printer.status(() => {});
    timers.tick(499);
    assert.equal(serial.writes.length, 0);
    timers.tick(1);
    assert.equal(hex(serial.writes[0].bytes), "10 04 01");
  });

  it("asks DLE EOT 1, 2 and 4 and reports 0x12 on all as ready", () => {
    const { port, printer } = rig();
    const s = statusOf(printer);
    timers.tick(1000);
    assert.deepEqual(port.asked, [1, 2, 4]);
    assert.equal(s(), "ready");
  });

  it("decodes the notes' out-of-paper replies (1A, 32, 7E) as paper-out", () => {
    const { port, printer } = rig();
    port.status = { 1: 0x1a, 2: 0x32, 4: 0x7e };
    const s = statusOf(printer);
    timers.tick(1000);
    assert.equal(s(), "paper-out");
  });

  it("reports paper-out from the roll sensor alone (DLE EOT 4 bits 5 and 6)", () => {
    const { port, printer } = rig();
    port.status[4] = 0x72;
    const s = statusOf(printer);
    timers.tick(1000);
    assert.equal(s(), "paper-out");
  });

  it("reports paper near its end as ready", () => {
    const { port, printer } = rig();
    port.status[4] = 0x1e;
    const s = statusOf(printer);
    timers.tick(1000);
    assert.equal(s(), "ready");
  });

  it("reports cover-open from DLE EOT 2 bit 2", () => {
    const { port, printer } = rig();
    port.status = { 1: 0x1a, 2: 0x16, 4: 0x12 };
    const s = statusOf(printer);
    timers.tick(1000);
    assert.equal(s(), "cover-open");
  });

  it("reports error from DLE EOT 2 bit 6", () => {
    const { port, printer } = rig();
    port.status = { 1: 0x1a, 2: 0x52, 4: 0x12 };
    const s = statusOf(printer);
    timers.tick(1000);
    assert.equal(s(), "error");
  });

  it("reports offline from DLE EOT 1 bit 3 with no cause given", () => {
    const { port, printer } = rig();
    port.status[1] = 0x1a;
    const s = statusOf(printer);
    timers.tick(1000);
    assert.equal(s(), "offline");
  });

  it("reports a printer that does not answer within 300 ms as offline", () => {
    const { port, printer } = rig();
    port.status[1] = undefined;
    const s = statusOf(printer);
    timers.tick(799);
    assert.equal(s(), undefined);
    timers.tick(1);
    assert.equal(s(), "offline");
  });

  it("reports a reply without the fixed bits (0x12) as offline", () => {
    const { port, printer } = rig();
    port.status[2] = 0x00;
    const s = statusOf(printer);
    timers.tick(1000);
    assert.equal(s(), "offline");
  });

  it("refuses a job when the paper is out, sending none of it", () => {
    const { serial, port, printer } = rig();
    port.status = { 1: 0x1a, 2: 0x32, 4: 0x7e };
    let err: string | null | undefined;
    printer.print(textJob(2), (e) => (err = e));
    timers.tick(2000);
    assert.equal(err, "paper-out");
    assert.equal(jobWrites(serial).length, 0);
  });

  it("refuses a job when the cover is open", () => {
    const { serial, port, printer } = rig();
    port.status = { 1: 0x1a, 2: 0x16, 4: 0x12 };
    let err: string | null | undefined;
    printer.print(textJob(2), (e) => (err = e));
    timers.tick(2000);
    assert.equal(err, "cover-open");
    assert.equal(jobWrites(serial).length, 0);
  });

  it("sends a job whole, in order, in chunks no bigger than the printer's buffer, and reports success", () => {
    const { serial, port, printer } = rig({ bufferBytes: 100 });
    const job = textJob(20);
    port.jobs.push(job);
    let err: string | null | undefined;
    printer.print(job, (e) => (err = e));
    timers.tick(60000);
    assert.equal(err, null);
    assert.equal(port.jobs.length, 0);
    const w = jobWrites(serial);
    assert.ok(w.every((x) => x.bytes.length <= 100));
    assert.equal(w.reduce((n, x) => n + x.bytes.length, 0), job.length);
  });

  it("waits the estimated print time of each chunk before sending the next", () => {
    const { serial, port, printer } = rig();
    const job = textJob(20); // 2 + 20 * 32 + 3 bytes: the first 256 bytes end inside line 8
    port.jobs.push(job);
    printer.print(job, () => {});
    timers.tick(60000);
    const w = jobWrites(serial);
    assert.equal(w.length, 3);
    const est = new PrintTime(job, 19200);
    const first = est.until(256);
    // the estimate, then the paper check between chunks (DLE EOT 2, answered by the fake port after 5 ms)
    // (5 ms, plus the 3 bytes' own wire time at 19200 baud)
    const gap = (a: number, b: number, ms: number) => assert.ok(b - a >= ms + 5 && b - a <= ms + 7, `${b - a} ms after a ${ms} ms estimate`);
    gap(w[0].t, w[1].t, first);
    assert.ok(first >= 7 * 24 * 30, `${first} ms for 7 printed lines`);
    gap(w[1].t, w[2].t, est.until(512));
  });

  it("paces raster data by the rows in its GS v 0 header", () => {
    const { serial, port, printer } = rig();
    const job = new EscPos().qrRaster(25, () => true, 8).bytes(); // 33 * 8 = 264 rows of 33 bytes
    port.jobs.push(job);
    printer.print(job, () => {});
    timers.tick(60000);
    const w = jobWrites(serial);
    // the first chunk holds the header and 248 data bytes: 7 whole rows
    assert.ok(w[1].t - w[0].t >= 7 * 30, `${w[1].t - w[0].t} ms`);
    const total = w[w.length - 1].t - w[0].t;
    assert.ok(total >= (264 - 8) * 30, `${total} ms for 264 rows`);
  });

  it("reports paper that ran out during a job when it ends", () => {
    const { port, printer } = rig();
    const job = textJob(10);
    port.jobs.push(job);
    let err: string | null | undefined;
    printer.print(job, (e) => (err = e));
    timers.tick(700);
    port.status = { 1: 0x1a, 2: 0x32, 4: 0x7e };
    timers.tick(60000);
    assert.equal(err, "paper-out");
  });

  it("queues a second job until the first has printed", () => {
    const { serial, port, printer } = rig();
    const a = textJob(12);
    const b = new EscPos().line("SECOND").bytes();
    port.jobs.push(a, b);
    const order: string[] = [];
    printer.print(a, (e) => order.push("a:" + e));
    printer.print(b, (e) => order.push("b:" + e));
    timers.tick(60000);
    assert.deepEqual(order, ["a:null", "b:null"]);
    assert.equal(port.jobs.length, 0); // the fake checked b's bytes came after all of a's
    assert.equal(jobWrites(serial).length, 3);
  });

  it("answers a status asked during a job after the job; inside the job only its own paper checks between chunks", () => {
    const { serial, port, printer } = rig();
    const job = textJob(20);
    port.jobs.push(job);
    let done = -1;
    printer.print(job, () => (done = timers.now));
    timers.tick(600);
    let at = -1;
    printer.status(() => (at = timers.now));
    timers.tick(60000);
    assert.ok(done > 0 && at >= done, `status at ${at}, job done at ${done}`);
    const w = serial.writes.map((x) => (x.bytes[0] === 0x10 ? "S" : "J")).join("");
    // ready check (1, 2, 4), three chunks with a DLE EOT 2 between them, the end check, then the asked status
    assert.equal(w, "SSSJSJSJSSSSSS");
    assert.deepEqual(port.asked, [1, 2, 4, 2, 2, 1, 2, 4, 1, 2, 4]);
  });

  it("stops a job at the next chunk when the paper runs out during it, and says so", () => {
    const { serial, port, printer } = rig();
    const job = textJob(20);
    port.jobs.push(job);
    let err: string | null | undefined;
    printer.print(job, (e) => (err = e));
    timers.tick(700); // the first chunk is out
    port.status = { 1: 0x1a, 2: 0x32, 4: 0x7e };
    timers.tick(60000);
    assert.equal(err, "paper-out");
    assert.equal(jobWrites(serial).length, 1, "nothing more was sent to a printer without paper");
  });

  it("never asks for status inside GS v 0 raster data, only at a command boundary", () => {
    const { serial, port, printer } = rig();
    const job = new EscPos().init().line("TOP").qrRaster(25, () => true, 8).line("END").feed(3).bytes();
    port.jobs.push(job);
    let err: string | null | undefined;
    printer.print(job, (e) => (err = e));
    timers.tick(120000);
    assert.equal(err, null);
    // every write's end position in the job; a DLE EOT may only follow a write that ended outside the raster
    const rasterStart = job.indexOf(0x76) - 1; // GS v
    const rasterEnd = rasterStart + 8 + 33 * 264;
    let pos = 0;
    let prevEnd = -1;
    for (const x of serial.writes) {
      if (x.bytes.length === 3 && x.bytes[0] === 0x10) {
        if (prevEnd >= 0) assert.ok(!(prevEnd > rasterStart && prevEnd < rasterEnd), `DLE EOT after byte ${prevEnd}, inside the raster ${rasterStart}..${rasterEnd}`);
        continue;
      }
      pos += x.bytes.length;
      prevEnd = pos === job.length ? -1 : pos;
    }
  });
});
