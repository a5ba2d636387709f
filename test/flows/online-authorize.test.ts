/**
 * Online when it can be (issue 16; docs/sync.md, op authorize), end to end in the simulator on the flashed devkit
 * bundle and the reference gateway: online, a customer-presented payment (QR or Bluetooth) is authorized by the
 * gateway in real time and settled at once ("Approved online", no hold); a gateway that does not answer within
 * 3 s, or a link that fails, is said on screen and the payment goes on offline ("Offline", auto-approve date); a
 * wallet the gateway declines is refused with its code and nothing is journaled. The offline limits are not the
 * gateway's: online, an amount above the offline per-payment limit, or a wallet over the terminal's per-wallet
 * offline allowance, is approved when the gateway has the money; the same payment with the gateway silent is refused
 * with the offline limit's reason, saying so; an online approval counts against no offline limit afterwards.
 */
import assert from "node:assert/strict";
import { Gateway } from "../../gateway/gateway.ts";
import { nodeCrypto } from "../../gateway/node-crypto.ts";
import { SqliteStore } from "../../gateway/sqlite-store.ts";
import { decodeReceipt, MsgType } from "../../protocol/messages.ts";
import { fromQrText } from "../../protocol/qr.ts";
import { walletIdOf } from "../../protocol/rules.ts";
import { journalView } from "../../sim/journal-view.ts";
import type { GatewayLike, World } from "../../sim/world.ts";
import { forEachEngine, longOnInterpreter, useWorlds } from "./engines.ts";

const T0 = Date.UTC(2026, 10, 23, 9, 30, 0);
const screen = (w: World) => w.screenText().join("\n");

/**
 * The interpreter runs the approval, the silent gateway and the decline (about 2 minutes on a shared machine); the
 * Bluetooth approval and the failed link take the same firmware paths as the approval and the silent gateway, so
 * they run on V8 only, to spare CI's interpreter time.
 */
function v8Only(ctx: Mocha.Context, engine: string): void {
  if (engine !== "espruino") return;
  console.log("      V8 only: the same firmware path as another test of this suite on the interpreter");
  ctx.skip();
}

async function online(worlds: ReturnType<typeof useWorlds>): Promise<{ w: World; g: Gateway }> {
  const w = worlds.open({ stateDir: null, wallClockMs: T0 });
  const g = new Gateway({ store: new SqliteStore(":memory:"), clock: { now: () => w.now() }, issuer: w.issuer, autoFlush: false });
  w.attachGateway(g as unknown as GatewayLike);
  await w.provision();
  await w.until("the first sync", () => g.store.activity().some((a) => a.kind === "hello") && /ONLINE/.test(screen(w)), 30000);
  return { w, g };
}

async function idle(w: World): Promise<void> {
  await w.until("the end of the last flow", () => !/Printing|Checking|Signing|Authorizing/.test(screen(w)), 60000);
  if (!w.screenText().includes("Ready")) await w.type("*");
  await w.until("idle", () => w.screenText().includes("Ready"), 20000);
}

async function requestQr(w: World, digits: string): Promise<string> {
  await w.type(digits + "#");
  let req: string | null = null;
  // the interpreter runs in real time on a shared machine: the request's signing may take some seconds there
  for (let t = 0; t < 30000 && req === null; t += 250) {
    await w.run(250);
    req = w.displayQr();
  }
  assert.ok(req, "a request QR on the display; screen: " + screen(w));
  return req;
}

/** The receipt in the last printed QR. */
function printedReceipt(w: World) {
  const m = fromQrText(w.printedQrs()[w.printedQrs().length - 1]);
  assert.ok("msg" in m && m.msg[1] === MsgType.Receipt, "the printed QR is a receipt");
  const rc = decodeReceipt(m.msg);
  assert.ok(rc);
  return rc;
}

/** The paper of the last receipt only. */
function lastPaper(w: World, before: string): string {
  return w.paperText().slice(before.length);
}

/** Scans `who`'s payment of `digits` and waits for the Paid or Refused screen; returns the paper printed meanwhile. */
async function payAndEnd(w: World, who: string, digits: string): Promise<string> {
  await idle(w);
  const req = await requestQr(w, digits);
  const pay = await w.pay(who, req);
  const paper = w.paperText();
  w.scanText(pay);
  // the whole result screen, to its last line: the interpreter draws it line by line, and a test reading it half
  // drawn misses the lines below (a refusal's note)
  await w.until("the payment's end", () => /Receipt printed|Refused/.test(screen(w)) && /Any key: back/.test(screen(w)), 60000);
  return lastPaper(w, paper);
}

/** The gateway's link: authorizations and uploads refused with a 503 while `block` says so; the rest as before. */
function blockLink(w: World, block: { authorize: boolean; upload: boolean }): void {
  const through = w.gatewayHandler!;
  w.gatewayHandler = (req) =>
    (block.authorize && req.path.indexOf("/authorize") >= 0) || (block.upload && req.path.indexOf("/upload") >= 0) ? Promise.resolve({ status: 503, body: "down for a test" }) : through(req);
}

forEachEngine("flow: online authorization (devkit bundle, reference gateway)", (engine) => {
  const worlds = useWorlds(engine);

  it("online, a scanned payment is approved by the gateway and settled at once: Approved online, no hold", async () => {
    const { w, g } = await online(worlds);
    await idle(w);
    const req = await requestQr(w, "1250");
    const pay = await w.pay("alice", req);
    const paper = w.paperText();
    const printed = w.printedQrs().length;
    w.scanText(pay);
    await w.until("the receipt", () => w.printedQrs().length > printed, 20000);
    await w.until("the Paid screen", () => /Receipt printed/.test(screen(w)), 20000);
    assert.match(screen(w), /Paid/);
    assert.match(screen(w), /Approved online/);
    const text = lastPaper(w, paper);
    assert.match(text, /APPROVED ONLINE/);
    assert.doesNotMatch(text, /PENDING|OFFLINE|auto-approves/);
    const rc = printedReceipt(w);
    assert.equal(rc.status, 1, "the signed receipt says settled");
    const tx = Buffer.from(rc.txId).toString("hex");
    const row = g.ledger().find((l) => l.txId === tx);
    assert.ok(row, "the gateway holds the payment before any upload");
    assert.equal(row.status, "approved");
    assert.equal(row.holdUntil, 0, "no 3-day hold");
    assert.equal(row.amountMinor, 1250);
    // the journal's record goes up at once by itself, acknowledged and entered nowhere a second time
    await w.until("the upload", () => g.store.records(42).some((r) => r.txId === tx && r.seq > 0), 30000);
    await w.until("nothing pending", () => /pending 0/.test(screen(w)), 30000);
    assert.equal(g.ledger().filter((l) => l.txId === tx).length, 1);
    assert.equal(g.ledger().find((l) => l.txId === tx)?.status, "approved");
    // the journal viewer (page, `npm run sim -- --journal`) shows the record's online flag (V8: the interpreter's
    // journal flash is its own file)
    if (engine === "v8") {
      const rec = journalView(w.host).pages.flatMap((p) => p.records).find((r) => r.txId === tx);
      assert.equal(rec?.online, true, "the record is marked approved online");
    }
    const b = g.books();
    assert.deepEqual(b.unbalanced, []);
    assert.deepEqual(w.host.errors, []);
  });

  it("online over Bluetooth: the phone gets the settled receipt, the paper says Approved online", async function () {
    v8Only(this, engine);
    const { w, g } = await online(worlds);
    await idle(w);
    const paper = w.paperText();
    await w.type("800#");
    await w.until("Bluetooth advertising", () => !!w.host.ble.advertising && w.displayQr() !== null, 30000);
    const out = await w.payOverBluetooth("carol", 20000);
    assert.ok(out.receiptVerified);
    await w.until("the Paid screen", () => /Receipt printed/.test(screen(w)), 20000);
    assert.match(screen(w), /Approved online/);
    assert.match(lastPaper(w, paper), /APPROVED ONLINE/);
    assert.equal(g.ledger().filter((l) => l.status === "approved" && l.holdUntil === 0 && l.amountMinor === 800).length, 1);
  });

  it("a gateway that does not answer in 3 s: the screen says so, the payment goes on offline, the receipt says Offline with its date", async function () {
    longOnInterpreter(this, engine);
    const { w, g } = await online(worlds);
    await idle(w);
    const through = w.gatewayHandler!;
    // the gateway takes the request and never answers it (the sync's own requests still go through)
    w.gatewayHandler = (req) => (req.path.indexOf("/authorize") >= 0 ? new Promise(() => undefined) : through(req));
    const req = await requestQr(w, "640");
    const pay = await w.pay("bob", req);
    const paper = w.paperText();
    const printed = w.printedQrs().length;
    const t0 = w.now();
    w.scanText(pay);
    await w.until("asking the gateway", () => /Authorizing/.test(screen(w)), 5000);
    await w.until("the receipt", () => w.printedQrs().length > printed, 20000);
    assert.ok(w.now() - t0 >= 3000, "it waited the gateway's 3 s first");
    await w.until("the Paid screen", () => /Receipt printed/.test(screen(w)), 20000);
    assert.match(screen(w), /Gateway did not answer: offline/);
    const text = lastPaper(w, paper);
    assert.match(text, /OFFLINE/);
    assert.match(text, /PENDING/);
    assert.match(text, /auto-approves 2026-11-2[67]/);
    assert.doesNotMatch(text, /APPROVED ONLINE/);
    assert.equal(printedReceipt(w).status, 0, "pending");
    if (engine === "v8") {
      const tx = Buffer.from(printedReceipt(w).txId).toString("hex");
      assert.equal(journalView(w.host).pages.flatMap((p) => p.records).find((r) => r.txId === tx)?.online, false, "an offline record is not marked");
    }
    assert.equal(g.ledger().length, 0, "nothing reached the gateway");
  });

  it("a link that fails (the gateway unreachable): said on screen, the payment goes on offline", async function () {
    v8Only(this, engine);
    const { w, g } = await online(worlds);
    await idle(w);
    w.setGatewayReachable(false);
    const req = await requestQr(w, "300");
    const pay = await w.pay("dave", req);
    const paper = w.paperText();
    const printed = w.printedQrs().length;
    w.scanText(pay);
    await w.until("the receipt", () => w.printedQrs().length > printed, 20000);
    await w.until("the Paid screen", () => /Receipt printed/.test(screen(w)), 20000);
    assert.match(screen(w), /Gateway did not answer: offline/);
    assert.match(lastPaper(w, paper), /OFFLINE/);
    assert.equal(printedReceipt(w).status, 0);
    // back online, the record is uploaded and held as any offline payment (the 3-day rule applies)
    w.setGatewayReachable(true);
    await w.type("*");
    await idle(w);
    await w.type("A1");
    await w.until("the upload", () => g.ledger().length === 1, 30000);
    assert.equal(g.ledger()[0].status, "held");
  });

  it("online, an amount above the offline per-payment limit (50.00) is approved by the gateway, which has the money", async () => {
    const { w, g } = await online(worlds);
    const text = await payAndEnd(w, "frank", "6000");
    assert.match(screen(w), /Approved online/, "the screen: " + screen(w));
    assert.match(text, /APPROVED ONLINE/);
    assert.equal(printedReceipt(w).status, 1);
    assert.equal(g.ledger().filter((l) => l.status === "approved" && l.holdUntil === 0 && l.amountMinor === 6000).length, 1);
    assert.deepEqual(w.host.errors, []);
  });

  it("online over Bluetooth, an amount above the offline per-payment limit is approved too", async function () {
    v8Only(this, engine);
    const { w, g } = await online(worlds);
    await idle(w);
    const paper = w.paperText();
    await w.type("7000#");
    await w.until("Bluetooth advertising", () => !!w.host.ble.advertising && w.displayQr() !== null, 30000);
    const out = await w.payOverBluetooth("grace", 20000);
    assert.ok(out.receiptVerified);
    await w.until("the Paid screen", () => /Receipt printed/.test(screen(w)), 20000);
    assert.match(screen(w), /Approved online/);
    assert.match(lastPaper(w, paper), /APPROVED ONLINE/);
    assert.equal(g.ledger().filter((l) => l.status === "approved" && l.amountMinor === 7000).length, 1);
  });

  it("the same amount with the gateway silent is refused by the offline per-payment limit, saying the gateway did not answer; nothing journaled", async function () {
    longOnInterpreter(this, engine);
    const { w, g } = await online(worlds);
    await idle(w);
    const through = w.gatewayHandler!;
    w.gatewayHandler = (req) => (req.path.indexOf("/authorize") >= 0 ? new Promise(() => undefined) : through(req));
    const printed = w.printedQrs().length;
    const t0 = w.now();
    await payAndEnd(w, "heidi", "6000");
    assert.match(screen(w), /Refused/);
    assert.match(screen(w), /LIMIT_PER_TX/);
    assert.match(screen(w), /Over payment limit (EUR )?50\.00/);
    assert.match(screen(w), /Gateway did not answer: offline/);
    // the link's own end decided (its 15 s HTTP timeout), not the 3 s wait: a late approval is never refused
    assert.ok(w.now() - t0 >= 15000, "waited for the link's end: " + (w.now() - t0) + " ms");
    assert.equal(w.printedQrs().length, printed, "no receipt");
    assert.match(screen(w), /pending 0/, "nothing journaled");
    assert.equal(g.ledger().length, 0);
  });

  it("a late approval (after the 3 s) of a payment the offline limits refuse is taken: approved online, never refused while the gateway settles it", async function () {
    v8Only(this, engine);
    const { w, g } = await online(worlds);
    await idle(w);
    const through = w.gatewayHandler!;
    // the gateway takes 6 s of device time before it even reads the authorization (then approves it)
    w.gatewayHandler = (req) =>
      req.path.indexOf("/authorize") < 0
        ? through(req)
        : new Promise((res) => {
            const at = w.now() + 6000;
            const iv = setInterval(() => {
              if (w.now() < at) return;
              clearInterval(iv);
              res(through(req));
            }, 1);
          });
    const t0 = w.now();
    const text = await payAndEnd(w, "kim", "6000");
    assert.ok(w.now() - t0 >= 6000, "it waited past the 3 s for the gateway's word");
    assert.match(screen(w), /Approved online/, screen(w));
    assert.match(text, /APPROVED ONLINE/);
    assert.equal(g.ledger().filter((l) => l.status === "approved" && l.amountMinor === 6000).length, 1);
  });

  it("a failed link: an amount above the offline per-payment limit is refused at once with the limit's reason", async function () {
    v8Only(this, engine);
    const { w } = await online(worlds);
    blockLink(w, { authorize: true, upload: false });
    await payAndEnd(w, "ivan", "6000");
    assert.match(screen(w), /LIMIT_PER_TX/);
    assert.match(screen(w), /Gateway did not answer: offline/);
    assert.match(screen(w), /pending 0/);
  });

  it("a wallet over the terminal's per-wallet offline allowance is approved online; the approval counts against no offline limit afterwards, also after a reboot", async function () {
    v8Only(this, engine);
    const { w, g } = await online(worlds);
    // the merchant's per-wallet offline allowance is 50.00 (per payment 50.00, unsynced total 500.00)
    g.updateMerchant(42, { limits: { perWalletMinor: 5000 } });
    const hellos = () => g.store.activity().filter((a) => a.kind === "hello").length;
    const before = hellos();
    await idle(w);
    await w.type("A1");
    await w.until("a sync with the new limits", () => hellos() > before, 30000);
    await w.type("*");
    // nothing reaches the gateway's upload, so the terminal keeps counting what it took (no acknowledgement clears it)
    const block = { authorize: true, upload: true };
    blockLink(w, block);
    // 1. offline (the link fails): 30.00 taken under the per-wallet allowance
    let text = await payAndEnd(w, "judy", "3000");
    assert.match(screen(w), /Gateway did not answer: offline/, screen(w));
    assert.match(text, /OFFLINE/);
    // 2. online: 30.00 more is over the terminal's allowance (60.00 > 50.00); the gateway has her purse money
    block.authorize = false;
    text = await payAndEnd(w, "judy", "3000");
    assert.match(screen(w), /Approved online/, screen(w));
    assert.match(text, /APPROVED ONLINE/);
    assert.equal(g.ledger().filter((l) => l.status === "approved" && l.amountMinor === 3000).length, 1);
    // only the offline 30.00 is unsettled on the status bar
    assert.match(screen(w), /EUR 30\.00/);
    // 3. offline again: 15.00 fits the allowance only if the online 30.00 is not counted (30.00 + 15.00 <= 50.00)
    block.authorize = true;
    text = await payAndEnd(w, "judy", "1500");
    assert.match(screen(w), /Receipt printed/, "an honest offline payment taken: " + screen(w));
    assert.match(text, /OFFLINE/);
    // 4. after a reboot the journal still says which was approved online: 5.00 more fits (45.00 + 5.00), 5.01 would not
    w.powerOn();
    await w.until("idle after the reboot", () => w.screenText().includes("Ready"), 30000);
    await w.until("online again", () => /ONLINE/.test(screen(w)) && !/OFFLINE/.test(screen(w).split("\n")[0]), 30000);
    assert.match(screen(w), /EUR 45\.00/, "the unsettled total after the reboot: " + screen(w));
    await payAndEnd(w, "judy", "501");
    assert.match(screen(w), /LIMIT_PER_WALLET/, screen(w));
    assert.match(screen(w), /Gateway did not answer: offline/);
    text = await payAndEnd(w, "judy", "500");
    assert.match(screen(w), /Receipt printed/, screen(w));
    assert.match(text, /OFFLINE/);
    assert.deepEqual(w.host.errors, []);
  });

  it("a wallet the gateway declines (denied since the last sync) is refused with its code; nothing journaled or printed", async function () {
    longOnInterpreter(this, engine);
    const { w, g } = await online(worlds);
    await idle(w);
    await w.wallet("mallory");
    const id = walletIdOf(nodeCrypto(), w.wallets["mallory"].allowance().walletPub);
    g.store.transaction(() => g.deny(id, "test", 0, 0));
    const req = await requestQr(w, "450");
    const pay = await w.pay("mallory", req);
    const printed = w.printedQrs().length;
    w.scanText(pay);
    await w.until("the refusal", () => /Refused/.test(screen(w)) && /Any key: back/.test(screen(w)), 20000);
    assert.match(screen(w), /A_DENIED/);
    assert.match(screen(w), /Declined by gateway/);
    assert.equal(w.printedQrs().length, printed, "no receipt");
    assert.match(screen(w), /pending 0/, "nothing journaled");
    assert.equal(g.ledger().length, 0);
  });
});
