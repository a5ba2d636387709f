/**
 * The bus log's decoders and its taps on a booted terminal, and the journal view on a power cut in the middle of a
 * payment's journal write (what the page's bus log and journal viewer, and `npm run sim -- --journal`, show).
 */
import assert from "node:assert/strict";
import { BusLog, decodeAteccRead, decodeAteccWrite, printable } from "../../sim/bus-log.ts";
import { journalView } from "../../sim/journal-view.ts";
import { World } from "../../sim/world.ts";
import { main } from "../../sim/cli.ts";

describe("bus log", () => {
  it("names an ATECC608 command by its opcode with its parameters, and a status packet by its code", () => {
    // word 03 (command) | count 07 | Random (1B) | p1 00 | p2 0000 | CRC: the data sheet's Random command
    assert.equal(decodeAteccWrite(0x60, Uint8Array.of(0x03, 0x07, 0x1b, 0x00, 0x00, 0x00, 0x24, 0xcd)), "@0x60 Random p1=0x00 p2=0x0000");
    // Sign (41), mode A0 (external message), key slot 0, no data
    assert.equal(decodeAteccWrite(0x60, Uint8Array.of(0x03, 0x07, 0x41, 0xa0, 0x00, 0x00, 0, 0)), "@0x60 Sign p1=0xa0 p2=0x0000");
    assert.equal(decodeAteccWrite(0x60, Uint8Array.of(0x03, 0x47, 0x45, 0x02, 0x04, 0x00, ...new Array(64).fill(0), 0, 0)), "@0x60 Verify p1=0x02 p2=0x0004 +64 data bytes");
    assert.equal(decodeAteccWrite(0, new Uint8Array(0)), "wake pulse (SDA low)");
    assert.equal(decodeAteccWrite(0x60, Uint8Array.of(0x01)), "@0x60 sleep");
    assert.equal(decodeAteccRead(0x60, 4, Uint8Array.of(0x04, 0x11, 0x33, 0x43)), "@0x60 status 0x11 after wake");
    assert.equal(decodeAteccRead(0x60, 4, Uint8Array.of(0x04, 0x0f, 0, 0)), "@0x60 status 0x0f execution error");
    assert.equal(decodeAteccRead(0x60, 1, null), "@0x60 read 1: NACK (asleep or busy)");
  });

  it("shows printable bytes as text and the rest as escapes", () => {
    assert.equal(printable(Uint8Array.of(0x48, 0x49, 0x0d, 0x0a, 0x1b, 0x40)), "HI\\r\\n\\x1b@");
  });

  it("taps a booted terminal's wires: the panel's SPI commands by name with their window, the scanner's UART both ways", () => {
    const w = World.open({ stateDir: null });
    const spi = w.bus.entries({ channels: ["spi"] });
    assert.ok(spi.some((e) => e.text === "SWRESET" || e.text.startsWith("SLPOUT")), "the panel's init sequence: " + spi.slice(0, 5).map((e) => e.text).join(", "));
    assert.ok(spi.some((e) => /^CASET columns \d+\.\.\d+$/.test(e.text)), "CASET with its columns");
    const ramwr = spi.find((e) => e.text.startsWith("RAMWR"));
    assert.ok(ramwr && ramwr.bytes > 1000, "RAMWR with its pixel data joined into one entry");
    // the GM65's answer to the firmware's setup commands, and a code it reads
    const before = w.bus.next;
    w.scanText("HELLO");
    const fromScanner = w.bus.entries({ since: before, channels: ["scanner"] }).filter((e) => e.dir === "in");
    assert.deepEqual(fromScanner.map((e) => [e.text, e.hex]), [["HELLO\\r", "48 45 4c 4c 4f 0d"]]);
    assert.ok(w.bus.entries({ channels: ["scanner"] }).some((e) => e.dir === "out" && e.hex.startsWith("7e 00")), "the firmware's GM65 setup commands (7E 00 …)");
    assert.deepEqual(w.bus.entries({ since: before, text: "hello" }).map((e) => e.ch), ["scanner"]);
  });

  it("keeps the newest entries only, up to its capacity", () => {
    const log = new BusLog({ capacity: 3 });
    for (let i = 0; i < 5; i++) log.note("http", "n" + i);
    assert.deepEqual(log.entries().map((e) => e.text), ["n2", "n3", "n4"]);
  });
});

describe("journal view", function () {
  this.timeout(120000);
  it("shows the record a power cut tore in the middle of the payment's journal write, and none once the boot dropped it", async () => {
    const out: string[] = [];
    const io = { out: (s: string) => out.push(s), err: () => {} };
    const code = await main(["--quiet", "--provision", "--wifi", "off", "--keys", "1250#", "--wallet", "carol", "--pay", "carol", "--power", "cut-at-next-write", "--scan-payment", "--wait", "2000", "--journal", "--power", "on", "--until", "Ready", "--journal"], io);
    assert.equal(code, 0, out.join(""));
    const steps = JSON.parse(out.join("")).steps as { step: string; detail: { counts: { records: number; pending: number }; tornTail: boolean; anomalies: unknown[]; records: { authentic: boolean }[] } }[];
    const [torn, after] = steps.filter((s) => s.step === "--journal").map((s) => s.detail);
    assert.equal(torn.counts.records, 1);
    assert.equal(torn.records[0].authentic, false, "the torn record's tag was never completed");
    assert.equal(torn.tornTail, true);
    assert.deepEqual(after.counts, { records: 0, pending: 0, uploaded: 0, acknowledged: 0 });
    assert.equal(after.tornTail, false);
    assert.deepEqual(after.anomalies, []);
  });

  it("shows a payment's record as pending with its amount, and a bit flipped in flash as a bad tag and a mac anomaly", async () => {
    const w = World.open({ stateDir: null });
    await w.provision();
    w.setWifi(false);
    w.keys("1250#");
    await w.until("the payment advertised", () => !!w.host.ble.advertising, 10000);
    await w.payOverBluetooth("dora");
    const v = journalView(w.host);
    assert.deepEqual(v.counts, { records: 1, pending: 1, uploaded: 0, acknowledged: 0 });
    const r = v.pages[0].records[0];
    assert.deepEqual([r.state, r.kind, r.method, r.amountMinor, r.currency, r.authentic], ["pending", "wallet payment", "Bluetooth", 1250, 978, true]);
    assert.deepEqual(v.anomalies, []);
    // NOR flash: a write can only clear bits; clear the lowest set bit of a word in the record's ciphertext (32 on)
    let at = v.pages[0].page * v.pageSize + r.offset + 40;
    let b = w.host.journalFlash.read(at, 4);
    while (b.every((x) => x === 0)) b = w.host.journalFlash.read((at += 4), 4);
    const i = b.findIndex((x) => x !== 0);
    b[i] &= b[i] - 1;
    w.host.journalFlash.write(at, b);
    const t = journalView(w.host);
    assert.equal(t.pages[0].records[0].authentic, false);
    assert.deepEqual(t.anomalies.map((a) => [a.kind, a.page, a.seq]), [["mac", 0, 1]]);
  });

  it("says it cannot read the records before provisioning (no storage key in the secure element)", () => {
    const w = World.open({ stateDir: null });
    const v = journalView(w.host);
    assert.equal(v.readable, false);
    assert.match(v.reason, /provision/);
  });
});
