/**
 * Flows 2, 4 and 5 end to end in the simulator: the devkit bundle (dist/devkit.js), provisioned through the
 * technician console against the reference gateway (gateway), driven from the keypad, the scanner and the
 * phone's Bluetooth; each asserts what the panel showed and what the printer printed, and decodes the printed QR
 * from the receipt's image with jsQR (sim/world.ts decodeQrPng), independently of the firmware's own encoder.
 */
import assert from "node:assert/strict";
import { decodeReceipt, decodeRefund, MsgType } from "../../protocol/messages.ts";
import type { Receipt } from "../../protocol/messages.ts";
import { fromQrText, invoiceFromText, invoiceUrl, toQrText } from "../../protocol/qr.ts";
import { txId as makeTxId } from "../../protocol/ids.ts";
import { decodeQrPng, loadReferenceGateway, World } from "../../sim/world.ts";

const T0 = Date.UTC(2026, 10, 23, 9, 30, 0);

const screen = (w: World) => w.screenText().join("\n");
const lastJob = (w: World) => (w.host.printer as unknown as { lastReceipt(): { text: string; png: Buffer } | null }).lastReceipt();

/** The QR of the last printed receipt, read by jsQR from the receipt's image. */
function printedQr(w: World): Uint8Array {
  const job = lastJob(w);
  assert.ok(job, "a receipt was printed");
  const text = decodeQrPng(job.png);
  assert.ok(text, "jsQR finds a QR on the printed receipt");
  const m = fromQrText(text);
  assert.ok("msg" in m, "the printed QR is a protocol message: " + text.slice(0, 12));
  return m.msg;
}

async function idle(w: World): Promise<void> {
  // a receipt prints for some seconds, then the result shows until a key (or 8 s)
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

/**
 * The invoice QR on the panel, read by jsQR from the panel's pixels as a phone camera would: the gateway's pay page
 * URL with the invoice in its fragment (docs/protocol.md). Returns the invoice's bytes.
 */
async function invoiceOnPanel(w: World): Promise<Uint8Array> {
  let q: string | null = null;
  for (let t = 0; t < 10000 && !(q && q.indexOf("/pay#") > 0); t += 250) {
    await w.run(250);
    q = w.displayQr();
  }
  assert.ok(q && q.indexOf("http://gateway.sim:8080/pay#") === 0, `the pay page URL on the panel; got ${q}; screen: ${w.screenText().join(" | ")}`);
  const m = invoiceFromText(q);
  assert.ok("msg" in m, "the URL's fragment is an invoice");
  assert.equal(invoiceUrl("http://gateway.sim:8080", m.msg), q, "exactly <gateway>/pay#<base64url>, no padding");
  return m.msg;
}

async function worldWithGateway(): Promise<World> {
  const w = World.open({ stateDir: null, wallClockMs: T0 });
  const g = await loadReferenceGateway(w);
  assert.ok(g, "the reference gateway is in the tree");
  w.attachGateway(g);
  await w.provision();
  return w;
}

describe("flow 2: the merchant presents an invoice QR (devkit bundle, reference gateway)", function () {
  this.timeout(180000);
  let w: World;

  before(async () => {
    w = await worldWithGateway();
    w.setWifi(false); // the terminal is offline: the customer's phone brings the gateway's confirmation
    await w.run(500);
  });

  it("A 3, amount, #: shows the invoice QR; the phone's paid confirmation, scanned, ends in Paid and a settled receipt", async () => {
    await idle(w);
    w.keys("A");
    assert.match(screen(w), /3 Invoice QR/);
    w.keys("3");
    assert.match(screen(w), /Invoice amount/);
    assert.match(screen(w), /# show invoice QR/);
    w.keys("4999#");
    const inv = await invoiceOnPanel(w);
    assert.match(screen(w), /EUR 49\.99/);
    assert.match(screen(w), /INVOICE/);
    assert.match(screen(w), /C cancel/);
    assert.match(screen(w), /OFFLINE/);
    assert.ok(w.host.ble.advertising, "the invoice is offered over Bluetooth too");
    const conf = await w.paidConfirmation("carol");
    assert.equal(conf.slice(0, 2), "C1");
    const jobs = w.receiptPngs().length;
    w.scanText(conf);
    await w.until("the receipt printed", () => w.receiptPngs().length > jobs && w.screenText().includes("Receipt printed"), 60000);
    assert.ok(w.screenText().includes("Paid"));
    assert.match(screen(w), /UTR [0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}/);
    assert.match(screen(w), /Receipt printed/);
    assert.match(screen(w), /pending 1/, "journaled: one record waits for upload");
    const text = lastJob(w)!.text;
    assert.match(text, /EUR 49\.99/);
    assert.match(text, /SETTLED/);
    assert.match(text, /Invoice, QR confirm/);
    const rc = decodeReceipt(printedQr(w)) as Receipt;
    assert.ok(rc, "the printed QR is the terminal's receipt");
    assert.equal(rc.status, 1, "settled");
    const invNo = inv;
    // the receipt's txId is terminalId || invoiceNo (the invoice's bytes 6..10)
    assert.deepEqual([...rc.txId], [...makeTxId(7, ((invNo[6] * 256 + invNo[7]) * 256 + invNo[8]) * 256 + invNo[9])]);
    assert.deepEqual(w.host.errors, []);
  });

  it("takes the confirmation over Bluetooth: the phone reads the invoice, writes the confirmation, gets the signed receipt", async () => {
    await idle(w);
    w.keys("1250A3");
    const inv = await invoiceOnPanel(w);
    assert.match(screen(w), /EUR 12\.50/);
    const conf = await w.paidConfirmation("dave");
    const jobs = w.receiptPngs().length;
    const out = await w.paidOverBluetooth(conf, 20000);
    assert.deepEqual([...out.invoice], [...inv], "the phone read the invoice on the panel");
    assert.equal(out.receipt[1], MsgType.Receipt);
    await w.until("the receipt printed", () => w.receiptPngs().length > jobs && w.screenText().includes("Receipt printed"), 60000);
    assert.ok(w.screenText().includes("Paid"));
    assert.match(lastJob(w)!.text, /Invoice, BT confirm/);
    assert.deepEqual([...printedQr(w)], [...out.receipt], "the printed QR is the receipt the phone got");
  });

  it("leaves the invoice open on a code that is not its confirmation, says why, and times out after 30 s", async () => {
    await idle(w);
    w.keys("700A3");
    await invoiceOnPanel(w);
    w.scanText("HELLO-123");
    await w.run(200);
    assert.match(screen(w), /C01/);
    assert.match(screen(w), /Invoice still open/);
    await w.run(31000);
    assert.match(screen(w), /Timed out/);
  });
});

describe("flow 2 online: the gateway's notice of the paid invoice reaches the terminal (devkit bundle, reference gateway)", function () {
  this.timeout(180000);

  it("shows the invoice while online; paid at the gateway, the notice arrives through sync: Paid, settled receipt, method online", async () => {
    const w = await worldWithGateway();
    await w.until("online", () => /ONLINE/.test(screen(w)), 30000);
    await idle(w);
    w.keys("3000A3");
    await invoiceOnPanel(w);
    assert.match(screen(w), /ONLINE/);
    const jobs = w.receiptPngs().length;
    await w.paidConfirmation("hana"); // paid at the gateway; the phone shows nothing to the terminal
    await w.until("the receipt printed", () => w.receiptPngs().length > jobs && w.screenText().includes("Receipt printed"), 60000);
    assert.ok(w.screenText().includes("Paid"));
    assert.match(screen(w), /EUR 30\.00/);
    const text = lastJob(w)!.text;
    assert.match(text, /Invoice, online/);
    assert.match(text, /SETTLED/);
    assert.equal(decodeReceipt(printedQr(w))!.status, 1);
    // the gateway repeats the notice until the entry is uploaded; it is recorded once
    await w.run(30000);
    assert.equal(w.receiptPngs().length, jobs + 1, "one receipt for one invoice");
  });
});

describe("flow 4: an order QR from the store's system (devkit bundle, reference gateway)", function () {
  this.timeout(180000);
  let w: World;

  before(async () => {
    w = await worldWithGateway();
    w.setWifi(false);
    await w.run(500);
  });

  it("scanned at idle, fills in order and amount; the customer pays; the receipt and the journal carry the order; the gateway gets it at sync", async () => {
    await idle(w);
    w.scanText(w.orderQr("ORD-77", 2599));
    await w.until("the order screen", () => w.screenText().some((l) => l.indexOf("Order ORD-77") >= 0), 5000);
    assert.match(screen(w), /EUR 25\.99/);
    assert.match(screen(w), /# customer pays/);
    assert.match(screen(w), /3 show invoice QR/);
    w.keys("#");
    const req = await qrOnPanel(w, "R");
    assert.match(screen(w), /Order ORD-77/);
    assert.match(screen(w), /EUR 25\.99/);
    const pay = await w.pay("erin", req);
    const jobs = w.receiptPngs().length;
    w.scanText(pay);
    await w.until("the receipt printed", () => w.receiptPngs().length > jobs && w.screenText().includes("Receipt printed"), 60000);
    assert.ok(w.screenText().includes("Paid"));
    assert.match(screen(w), /Order ORD-77 \(store told at next sync\)/);
    const text = lastJob(w)!.text;
    assert.match(text, /Order\s+ORD-77/);
    assert.match(text, /EUR 25\.99/);
    assert.equal(decodeReceipt(printedQr(w))!.status, 0, "pending: a wallet payment offline");
    // online: the sync uploads the entry with its order reference, and the gateway's books hold it
    w.setWifi(true);
    await w.until("the upload", () => /pending 0/.test(screen(w)), 30000);
    const ledger = w.gateway!.ledger() as { orderRef?: string; amountMinor: number }[];
    assert.ok(
      ledger.some((r) => r.orderRef === "ORD-77" && r.amountMinor === 2599),
      "the gateway's ledger has the order: " + JSON.stringify(ledger.map((r) => [r.orderRef, r.amountMinor])),
    );
    w.setWifi(false);
  });

  it("refuses an order code that is not from this store (O03), with its reason, and opens nothing", async () => {
    await idle(w);
    const good = fromQrText(w.orderQr("ORD-78", 500)) as { msg: Uint8Array };
    good.msg[43] ^= 1; // the tag's last byte
    w.scanText(toQrText(good.msg));
    await w.until("a refusal", () => w.screenText().includes("Order refused"), 5000);
    assert.match(screen(w), /O03/);
    assert.match(screen(w), /not from this store/);
    assert.equal(w.displayQr(), null);
  });

  it("hands the order to an invoice too (3 on the order screen)", async () => {
    await idle(w);
    w.scanText(w.orderQr("ORD-79", 1500));
    await w.until("the order screen", () => w.screenText().some((l) => l.indexOf("Order ORD-79") >= 0), 5000);
    w.keys("3");
    await invoiceOnPanel(w);
    assert.match(screen(w), /INVOICE {2}order ORD-79/);
    const conf = await w.paidConfirmation("fred");
    w.scanText(conf);
    await w.until("the receipt printed", () => w.screenText().includes("Receipt printed"), 60000);
    assert.ok(w.screenText().includes("Paid"));
    assert.match(lastJob(w)!.text, /Order\s+ORD-79/);
  });
});

describe("flow 5: refund or void behind the merchant's PIN (devkit bundle)", function () {
  this.timeout(180000);
  let w: World;
  const receipts: Uint8Array[] = [];

  before(async () => {
    w = await worldWithGateway();
    w.setWifi(false);
    await w.run(500);
    for (const amount of ["1250", "800"]) {
      await idle(w);
      w.keys(amount + "#");
      const req = await qrOnPanel(w, "R");
      const jobs = w.receiptPngs().length;
      w.scanText(await w.pay("gina", req));
      await w.until("the receipt printed", () => w.receiptPngs().length > jobs && w.screenText().includes("Receipt printed"), 60000);
      receipts.push(printedQr(w));
    }
  });

  it("asks for the merchant PIN and refuses a wrong one", async () => {
    await idle(w);
    w.keys("A4");
    assert.match(screen(w), /Merchant PIN/);
    assert.match(screen(w), /# confirm {2}\* cancel/);
    w.keys("0000#");
    await w.until("the answer", () => /Wrong PIN/.test(screen(w)), 5000);
    assert.doesNotMatch(screen(w), /which payment/);
    w.keys("*");
  });

  it("voids the newest payment, chosen from the list by its UTR: journaled, VOID receipt with the signed refund QR", async () => {
    await idle(w);
    w.keys("A41357#");
    await w.until("the list", () => /which payment/.test(screen(w)), 5000);
    const s = screen(w);
    assert.match(s, /1 [0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4} EUR 8\.00/);
    assert.match(s, /2 [0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4} EUR 12\.50/);
    assert.match(s, /scan the receipt's QR/);
    w.keys("1");
    assert.match(screen(w), /# void/);
    assert.match(screen(w), /not yet sent/);
    const jobs = w.receiptPngs().length;
    w.keys("#");
    await w.until("the void's receipt", () => w.receiptPngs().length > jobs && w.screenText().includes("Receipt printed"), 60000);
    assert.ok(w.screenText().includes("Voided"));
    assert.match(screen(w), /UTR [0-9A-Z]{4}-/);
    assert.match(screen(w), /pending 3/, "the void is journaled and waits for upload");
    const text = lastJob(w)!.text;
    assert.match(text, /VOID/);
    assert.match(text, /-EUR 8\.00/);
    assert.match(text, /Void of [0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}/);
    const r = decodeRefund(printedQr(w));
    assert.ok(r, "the printed QR is the signed Refund");
    assert.equal(r.reason, 1);
    assert.equal(r.amountMinor, 800);
    assert.deepEqual([...r.txId], [...decodeReceipt(receipts[1])!.txId], "it names the voided payment");
  });

  it("refunds part of a payment chosen by scanning its receipt, and refuses more than is left", async () => {
    await idle(w);
    w.keys("A41357#");
    await w.until("the list", () => /which payment/.test(screen(w)), 5000);
    w.scanText(toQrText(receipts[0]));
    await w.until("the refund screen", () => /# void|# refund/.test(screen(w)), 5000);
    assert.match(screen(w), /EUR 12\.50/);
    w.keys("2000#");
    await w.run(100);
    assert.match(screen(w), /More than is left to refund/);
    w.keys("C500");
    assert.match(screen(w), /# refund/);
    w.keys("#");
    await w.until("the refund's receipt", () => w.screenText().includes("Receipt printed"), 60000);
    assert.ok(w.screenText().includes("Refunded"));
    const text = lastJob(w)!.text;
    assert.match(text, /REFUND/);
    assert.match(text, /-EUR 5\.00/);
    assert.match(text, /Refund of [0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}/);
    const r = decodeRefund(printedQr(w))!;
    assert.equal(r.reason, 2);
    assert.equal(r.amountMinor, 500);
    assert.deepEqual([...r.txId], [...decodeReceipt(receipts[0])!.txId]);
  });

  it("locks the refund menu after three wrong PINs, even for the right one", async () => {
    await idle(w);
    w.keys("A4");
    for (let i = 0; i < 3; i++) {
      w.keys("9999#");
      await w.until("the answer", () => /Wrong PIN/.test(screen(w)), 5000);
    }
    w.keys("1357#");
    await w.run(500);
    assert.match(screen(w), /Locked/);
    assert.doesNotMatch(screen(w), /which payment/);
    w.keys("*");
  });

  it("goes back to idle from a screen left waiting for 30 s (the menu)", async () => {
    await idle(w);
    w.keys("A");
    assert.match(screen(w), /4 Refund or void/);
    await w.run(31000);
    assert.ok(!/4 Refund or void/.test(screen(w)), screen(w));
    assert.match(screen(w), /Timed out|Ready/);
  });

  it("the gateway takes the refunds at the next sync", async () => {
    await idle(w);
    w.setWifi(true);
    w.keys("A1"); // send now: no waiting out the Wi-Fi backoff of a terminal offline for minutes
    await w.until("the upload", () => /pending 0/.test(screen(w)), 30000);
    const ledger = w.gateway!.ledger() as { kind?: string; amountMinor: number }[];
    assert.equal(ledger.filter((r) => r.kind === "refund").length, 2, JSON.stringify(ledger));
  });
});
