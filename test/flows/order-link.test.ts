/**
 * Flow 4 by link: a store's pay-api link (docs/orders.md) scanned at the terminal, end to end in the simulator on
 * the devkit bundle with the reference gateway: the order screen, the payment, the receipt naming the order, the
 * order kept on flash and sent with the upload, and the gateway queuing order.paid to the link's own callback.
 */
import assert from "node:assert/strict";
import { KEPT_ORDERS_LOGS, keptOrders } from "../../firmware/app/kept-orders.ts";
import { RecordLog } from "../../firmware/record-log.ts";
import { ascii } from "../../protocol/codec/hex.ts";
import { parseOrderLink } from "../../protocol/order-link.ts";
import { decodeOrder } from "../../protocol/messages.ts";
import { loadReferenceGateway, World } from "../../sim/world.ts";
import { espruinoBin } from "../../sim/engine/engine.ts";
import { EspruinoHost } from "../../sim/engine/espruino-host.ts";
import { flashStore } from "../update/helpers.ts";
import { flashPages } from "../../hal/espruino/flash-pages.ts";
import type { Flash } from "../../sim/espruino/flash.ts";
import type { StorageStats } from "../../hal/storage.ts";
import { createFlashModule } from "../../sim/espruino/flash-module.ts";
import { ESPRUINO_IDF4_PARTITIONS, flashPartitionTable, systemAreaOf } from "../../sim/espruino/partitions.ts";
import { main as orderTool } from "../../tools/order.ts";

const T0 = Date.UTC(2026, 10, 23, 9, 30, 0);
const screen = (w: World) => w.screenText().join("\n");
const lastJob = (w: World) => (w.host.printer as unknown as { lastReceipt(): { text: string } | null }).lastReceipt();
/**
 * The orders the terminal keeps on its flash (read beside the running firmware, as a technician's dump would): the
 * raw pages after the journal's, reached through the simulator's `require("Flash")`.
 */
const kept = (w: World) => {
  const h = w.host as unknown as { flash: Flash; journalFlash: Flash };
  const p = w.board.platform;
  const orders = () => flashPages(p.orders, createFlashModule(h.journalFlash, p.journal.address));
  return keptOrders({ orders, storage: flashStore(h.flash) }).list.map((k) => decodeOrder(k.order)!.orderRef + " " + k.callback);
};
/** The gateway's activity of one kind, details parsed. */
const activity = (w: World, kind: string) =>
  (w.gateway!.activity!() as { kind: string; detail: string }[]).filter((a) => a.kind === kind).map((a) => JSON.parse(a.detail) as { orderRef: string; url: string });

async function idle(w: World): Promise<void> {
  await w.until("the end of the last flow", () => !/Printing|Checking|Signing/.test(screen(w)), 60000);
  if (!w.screenText().includes("Ready")) w.keys("*");
  await w.until("idle", () => w.screenText().includes("Ready"), 20000);
}

async function qrOnPanel(w: World, letter: string): Promise<string> {
  let q: string | null = null;
  for (let t = 0; t < 10000 && !(q && q.charAt(0) === letter); t += 250) {
    await w.run(250);
    q = w.displayQr();
  }
  assert.ok(q && q.charAt(0) === letter, `a "${letter}1..." QR on the panel; screen: ${w.screenText().join(" | ")}`);
  return q;
}

async function worldWithGateway(engine: "v8" | "espruino" = "v8"): Promise<World> {
  const w = World.open({ engine, stateDir: null, wallClockMs: T0 });
  const g = await loadReferenceGateway(w);
  assert.ok(g, "the reference gateway is in the tree");
  w.attachGateway(g);
  await w.provision();
  return w;
}

describe("flow 4 by link: a store's pay-api link (devkit bundle, reference gateway)", function () {
  this.timeout(180000);
  let w: World;

  before(async () => {
    w = await worldWithGateway();
    w.setWifi(false);
    await w.run(500);
  });

  it("scanned at idle, opens the order screen; paid, the receipt names the order; at sync the gateway queues order.paid to the link's callback, once, and the terminal stops sending it", async () => {
    await idle(w);
    const cb = "https://shop.example/orders/L1/paid";
    const link = w.orderLink("ORD-L1", 2599, cb);
    assert.ok(link.length > 150 && link.indexOf("pay-api://payNow?") === 0);
    w.scanText(link);
    await w.until("the order screen", () => w.screenText().some((l) => l.indexOf("Order ORD-L1") >= 0), 5000);
    assert.match(screen(w), /EUR 25\.99/);
    assert.match(screen(w), /# customer pays/);
    assert.match(screen(w), /3 show invoice QR/);
    assert.deepEqual(kept(w), [], "nothing kept before the merchant takes the order");
    w.keys("#");
    const req = await qrOnPanel(w, "R");
    assert.match(screen(w), /Order ORD-L1/);
    assert.deepEqual(kept(w), ["ORD-L1 " + cb], "kept on flash as the payment opened");
    const pay = await w.pay("erin", req);
    const jobs = w.receiptPngs().length;
    w.scanText(pay);
    await w.until("the receipt printed", () => w.receiptPngs().length > jobs && w.screenText().includes("Receipt printed"), 60000);
    assert.match(screen(w), /Order ORD-L1 \(store told at next sync\)/);
    assert.match(lastJob(w)!.text, /Order\s+ORD-L1/);
    assert.deepEqual(activity(w, "order-callback"), [], "the gateway has heard nothing yet (offline)");
    w.setWifi(true);
    w.keys("*A1"); // send now
    await w.until("the upload", () => /pending 0/.test(screen(w)) && kept(w).length === 0, 30000);
    const queued = activity(w, "order-callback-queued");
    assert.equal(queued.length, 1, JSON.stringify(queued));
    assert.equal(queued[0].orderRef, "ORD-L1");
    assert.equal(queued[0].url, cb);
    const ledger = w.gateway!.ledger() as { orderRef?: string; amountMinor: number }[];
    assert.ok(ledger.some((r) => r.orderRef === "ORD-L1" && r.amountMinor === 2599));
    // the next rounds send no order (the terminal keeps none) and the callback is not queued again
    await idle(w);
    w.keys("A1");
    await w.run(5000);
    assert.equal(activity(w, "order-callback-queued").length, 1);
    assert.equal(activity(w, "order-callback").length, 1);
    w.setWifi(false);
  });

  it("hands a link's order to an invoice too (3): kept as the invoice opens, the invoice names the order", async () => {
    await idle(w);
    w.scanText(w.orderLink("ORD-L4", 1500, "https://shop.example/orders/L4/paid"));
    await w.until("the order screen", () => w.screenText().some((l) => l.indexOf("Order ORD-L4") >= 0), 5000);
    w.keys("3");
    await w.until("the invoice", () => /INVOICE {2}order ORD-L4/.test(screen(w)), 10000);
    assert.deepEqual(kept(w), ["ORD-L4 https://shop.example/orders/L4/paid"]);
    w.keys("C");
    await idle(w);
    w.setWifi(true);
    w.keys("A1");
    await w.until("the order sent", () => kept(w).length === 0, 30000);
    assert.ok(activity(w, "order-callback").some((a) => a.orderRef === "ORD-L4"));
    w.setWifi(false);
    await w.run(500);
  });

  it("refuses a link whose callback was changed (O09), with its reason; opens nothing and keeps nothing", async () => {
    await idle(w);
    const link = w.orderLink("ORD-L2", 500, "https://shop.example/orders/L2/paid");
    w.scanText(link.replace("shop.example", "evil.example"));
    await w.until("a refusal", () => w.screenText().includes("Order refused"), 5000);
    assert.match(screen(w), /O09/);
    assert.match(screen(w), /not from this store/);
    assert.equal(w.displayQr(), null);
    assert.deepEqual(kept(w), []);
  });

  it("refuses a link for another merchant (O04), even tagged with this store's key", async () => {
    await idle(w);
    w.scanText(w.orderLink("ORD-L3", 500, "https://shop.example/orders/L3/paid", { merchantId: 43 }));
    await w.until("a refusal", () => w.screenText().includes("Order refused"), 5000);
    assert.match(screen(w), /O04/);
    assert.match(screen(w), /another merchant/);
    assert.deepEqual(kept(w), []);
  });

  it("refuses a ninth link order while eight wait to be sent (O10); the kept ones survive a power cut and reach the gateway", async () => {
    for (let i = 0; i < 8; i++) {
      await idle(w);
      w.scanText(w.orderLink("ORD-M" + i, 100 + i, "https://shop.example/m/" + i));
      await w.until("the order screen", () => w.screenText().some((l) => l.indexOf("Order ORD-M" + i) >= 0), 5000);
      w.keys("#");
      await qrOnPanel(w, "R");
      w.keys("C"); // the customer walks away: the order stays kept, its callback fires only if it is ever paid
    }
    assert.equal(kept(w).length, 8);
    await idle(w);
    w.scanText(w.orderLink("ORD-M8", 900, "https://shop.example/m/8"));
    await w.until("a refusal", () => w.screenText().includes("Order refused"), 5000);
    assert.match(screen(w), /O10/);
    assert.match(screen(w), /8 orders wait to be sent/);
    assert.equal(kept(w).length, 8);
    w.powerCut();
    w.powerOn();
    await w.run(3000);
    assert.equal(kept(w).length, 8, "kept across the power cut");
    w.setWifi(true);
    await w.until("the orders sent", () => kept(w).length === 0, 60000);
    const taken = activity(w, "order-callback").map((a) => a.orderRef);
    for (let i = 0; i < 8; i++) assert.ok(taken.indexOf("ORD-M" + i) >= 0, "the gateway holds ORD-M" + i + ": " + taken);
    assert.equal(activity(w, "order-callback-queued").length, 1, "none of them paid: no callback");
  });

  it("typed by the technician (npm run order -- send over the console): refused with its reason, or the order screen opens and the console closes", async () => {
    await idle(w);
    const con = await w.technicianConsole();
    const said: string[] = [];
    try {
      const bad = w.orderLink("ORD-T0", 700, "https://shop.example/t/0").replace("shop.example", "evil.example");
      await assert.rejects(orderTool(["send", "--board", "devkit", "--port", con.url, "--link", bad], (l) => said.push(l)), /O09 Link not from this store/);
      assert.match(screen(w), /TECHNICIAN MENU/, "the menu stays after a refusal");
      await orderTool(["send", "--board", "devkit", "--port", con.url, "--link", w.orderLink("ORD-T1", 700, "https://shop.example/t/1")], (l) => said.push(l));
    } finally {
      await con.close();
    }
    assert.match(said.join("\n"), /order ORD-T1 \(700 minor units\)/);
    await w.until("the order screen", () => w.screenText().some((l) => l.indexOf("Order ORD-T1") >= 0), 5000);
    assert.match(screen(w), /EUR 7\.00/);
    assert.notEqual(w.host.consoles.serial, "Serial1", "the console closed with the menu");
    w.keys("*");
  });
});

describe("link orders an older firmware kept in Storage (devkit bundle, reference gateway)", function () {
  this.timeout(180000);

  it("are moved onto the orders' pages at the first boot of this firmware, their files erased, and sent at the next sync", async () => {
    const w = await worldWithGateway();
    w.setWifi(false);
    await w.run(500);
    const h = w.host as unknown as { flash: Flash };
    const links = ["ORD-U1", "ORD-U2"].map((r) => parseOrderLink(w.orderLink(r, 700, "https://shop.example/orders/" + r + "/paid"))!);
    // as the older firmware left them (firmware/app/kept-orders.ts before the pages: a record log in orders.a)
    w.powerCut();
    const log = new RecordLog(flashStore(h.flash), KEPT_ORDERS_LOGS, 8192);
    log.load();
    let whole = new Uint8Array(0);
    for (const l of links) {
      const add = new Uint8Array([...l.order, ...ascii(l.callback)]);
      whole = new Uint8Array([...whole, l.callback.length, ...l.order, ...ascii(l.callback)]);
      assert.ok(log.append(1, log.gen + 1, add, { type: 3, data: whole }));
    }
    assert.deepEqual(flashStore(h.flash).list("orders."), ["orders.a"]);
    w.powerOn();
    await w.run(3000);
    assert.deepEqual(flashStore(h.flash).list("orders."), [], "the files erased once their orders are on the pages");
    assert.deepEqual(kept(w), links.map((l) => decodeOrder(l.order)!.orderRef + " " + l.callback));
    w.setWifi(true);
    await w.until("the moved orders sent", () => kept(w).length === 0, 60000);
    const taken = activity(w, "order-callback").map((a) => a.orderRef);
    assert.ok(taken.indexOf("ORD-U1") >= 0 && taken.indexOf("ORD-U2") >= 0, "the gateway holds both: " + taken);
    await w.close();
  });
});

describe("a power cut in the middle of keeping a link order (devkit bundle, V8 engine)", function () {
  this.timeout(180000);

  it("tears the write on the orders' pages: after power returns the order is not kept, Storage is untouched, and the same link is kept then", async () => {
    const w = await worldWithGateway();
    w.setWifi(false);
    await idle(w);
    const h = w.host as unknown as { flash: Flash; journalFlash: Flash };
    // one order kept first, so that the next is a record written in place (the first erases the page it opens)
    w.scanText(w.orderLink("ORD-P0", 1100, "https://shop.example/orders/P0/paid"));
    await w.until("the order screen", () => w.screenText().some((l) => l.indexOf("Order ORD-P0") >= 0), 5000);
    w.keys("#");
    await qrOnPanel(w, "R");
    w.keys("C");
    await idle(w);
    const p0 = "ORD-P0 https://shop.example/orders/P0/paid";
    assert.deepEqual(kept(w), [p0]);
    const link = w.orderLink("ORD-P1", 1200, "https://shop.example/orders/P1/paid");
    w.scanText(link);
    await w.until("the order screen", () => w.screenText().some((l) => l.indexOf("Order ORD-P1") >= 0), 5000);
    const storageOps = h.flash.ops;
    const rawOps = h.journalFlash.ops;
    w.powerCutAtNextWrite();
    w.keys("#");
    await w.run(1000);
    assert.equal(h.journalFlash.ops, rawOps + 1, "the keep's one write, torn");
    assert.equal(h.flash.ops, storageOps, "no Storage write");
    w.powerOn();
    await w.run(3000);
    assert.deepEqual(kept(w), [p0], "a torn record is no order; the one before stays");
    await idle(w);
    w.scanText(link);
    await w.until("the order screen again", () => w.screenText().some((l) => l.indexOf("Order ORD-P1") >= 0), 5000);
    w.keys("#");
    await qrOnPanel(w, "R");
    assert.deepEqual(kept(w), [p0, "ORD-P1 https://shop.example/orders/P1/paid"]);
    await w.close();
  });
});

describe("a link order where the journal may not open (Espruino's ESP-IDF 4 table over its region)", function () {
  this.timeout(180000);

  it("refuses # as a payment would, and writes nothing on the orders' pages", async () => {
    const w = await worldWithGateway();
    w.setWifi(false);
    w.powerCut();
    const h = w.host as unknown as { journalFlash: Flash };
    flashPartitionTable(systemAreaOf(h.journalFlash), ESPRUINO_IDF4_PARTITIONS);
    w.powerOn();
    await w.run(3000);
    assert.match(screen(w), /Journal off: PT_OVERLAP/);
    w.scanText(w.orderLink("ORD-J1", 800, "https://shop.example/orders/J1/paid"));
    await w.until("the order screen", () => w.screenText().some((l) => l.indexOf("Order ORD-J1") >= 0), 5000);
    const ops = h.journalFlash.ops;
    w.keys("#");
    await w.until("the refusal", () => /Journal not opened/.test(screen(w)), 5000);
    assert.equal(h.journalFlash.ops, ops, "no write or erase on the raw flash");
    assert.deepEqual(kept(w), []);
    await w.close();
  });
});

describe("link orders over a long run: kept on the journal's side of the flash, not in Storage (devkit bundle, reference gateway)", function () {
  this.timeout(600000);

  it("takes 100 link orders, each kept until a sync acknowledges it, and leaves Storage's free space and its trash where they were", async () => {
    const w = await worldWithGateway();
    w.setWifi(false);
    await w.run(500);
    const sent = () => activity(w, "order-callback").map((a) => a.orderRef);
    /** The terminal's Storage, read beside the running firmware. */
    const storage = () => flashStore((w.host as unknown as { flash: Flash }).flash);
    let st0: StorageStats | null = null;
    for (let i = 0; i < 100; i++) {
      await idle(w);
      w.scanText(w.orderLink("ORD-Y" + i, 100 + i, "https://shop.example/orders/Y" + i + "/paid"));
      await w.until("the order screen of ORD-Y" + i, () => w.screenText().some((l) => l.indexOf("Order ORD-Y" + i) >= 0), 5000);
      w.keys("#");
      await qrOnPanel(w, "R");
      w.keys("C"); // the customer walks away: the order stays kept until a sync
      if (i % 8 === 7 || i === 99) {
        await idle(w);
        w.setWifi(true);
        w.keys("A1");
        await w.until("ORD-Y" + i + " at the gateway", () => sent().indexOf("ORD-Y" + i) >= 0, 30000);
        await w.run(2000); // the reply's acknowledgement written on the terminal
        w.setWifi(false);
        await w.run(500);
        // from the end of the first round on: the files a first sync creates are there
        if (!st0) st0 = storage().stats();
      }
    }
    const st = storage().stats();
    assert.ok(st0);
    assert.equal(st.trashBytes, st0.trashBytes, "Storage's trash (space only a compaction returns): " + JSON.stringify(st));
    assert.equal(st.freeBytes, st0.freeBytes, "Storage's free space");
    assert.deepEqual(storage().list("orders."), [], "no kept-orders file in Storage");
    for (let i = 0; i < 100; i++) assert.ok(sent().indexOf("ORD-Y" + i) >= 0, "the gateway holds ORD-Y" + i);
    assert.deepEqual(kept(w), [], "none kept once all were acknowledged");
    await w.close();
  });
});

describe("espruino engine: a link order kept on its raw pages through the interpreter's require(\"Flash\") (ESPRUINO=...)", function () {
  this.timeout(300000);

  it("keeps the order on the pages after the journal's (no journal write), and it is there after a reboot", async function () {
    if (!espruinoBin()) {
      console.log("      skipped: ESPRUINO is unset; set ESPRUINO=/path/to/espruino (README, The real interpreter) to run the bundle on Espruino");
      return this.skip();
    }
    const w = await worldWithGateway("espruino");
    try {
      w.setWifi(false);
      await w.until("the idle screen", () => w.screenText().includes("Ready"), 30000);
      const h = w.host as EspruinoHost;
      assert.ok(h instanceof EspruinoHost);
      w.scanText(w.orderLink("ORD-E1", 1500, "https://shop.example/orders/E1/paid"));
      await w.until("the order screen", () => w.screenText().some((l) => l.indexOf("Order ORD-E1") >= 0), 30000);
      h.clearMarks();
      await w.type("#");
      await qrOnPanel(w, "R");
      assert.deepEqual(h.marks.journal, [], "keeping an order is no journal write (the bench times payments to those)");
      h.syncFlash();
      assert.deepEqual(kept(w), ["ORD-E1 https://shop.example/orders/E1/paid"]);
      await w.type("C");
      w.powerCut();
      w.powerOn();
      await w.until("the idle screen again", () => w.screenText().includes("Ready"), 30000);
      const again = w.host as EspruinoHost;
      again.syncFlash();
      assert.deepEqual(kept(w), ["ORD-E1 https://shop.example/orders/E1/paid"]);
      assert.deepEqual(again.errors, []);
    } finally {
      await w.close();
    }
  });
});
