/**
 * Orders a store hands to a terminal with a callback of their own (pay-api links, docs/orders.md): the terminal
 * sends each order it took, with its callback, in its upload; once the order is paid the gateway calls that URL
 * with order.paid, signed with the merchant's webhook secret, once, whichever arrives first.
 */
import assert from "node:assert/strict";
import { toBase64 } from "../../protocol/sync.ts";
import { orderMessage, verifyCallback } from "../../sdk/store.ts";
import { makeRig, merchantWithTerminals, newWallet, T0 } from "./helpers.ts";
import type { Rig } from "./helpers.ts";
import type { SoftTerminal } from "../helpers/soft-terminal.ts";

const KEY = "6f726465722d6b65792d6d65726368616e742d3432";

function order(merchantId: number, orderRef: string, amountMinor: number): string {
  return toBase64(orderMessage({ orderKey: KEY, merchantId, orderRef, amountMinor, expires: Math.floor(T0 / 1000) + 3600 }));
}

async function upload(t: SoftTerminal, orders: unknown[]): Promise<{ acked: number[]; orders: { acked: string[]; refused: { orderRef: string; code: string }[] } }> {
  const batch = t.pending.slice(0, 8);
  const r = await t.call("upload", { records: batch.map((x) => ({ seq: x.seq, prev: x.prev, entry: toBase64(x.entry) })), orders });
  for (const x of batch) if ((r.acked as number[]).includes(x.seq)) x.acked = true;
  return r as never;
}

describe("order callbacks (gateway/orders.ts)", () => {
  let rig: Rig;
  let t: SoftTerminal;
  let merchantId: number;
  let secret: string;

  beforeEach(async () => {
    rig = makeRig();
    const m = merchantWithTerminals(rig, "Shop", 1);
    merchantId = m.merchant.merchantId;
    secret = m.merchant.webhookSecret;
    t = m.terms[0];
    await t.hello();
  });

  const callsTo = (url: string) => rig.hooks.calls.filter((c) => c.url === url);

  it("an order paid in the same upload: order.paid goes to its own callback, signed, once", async () => {
    const w = newWallet(rig);
    t.record(t.walletPayment(w, 2599, { orderRef: "ORD-7" }));
    const r = await upload(t, [{ order: order(merchantId, "ORD-7", 2599), callback: "https://shop.example/orders/7/paid" }]);
    assert.deepEqual(r.orders.acked, ["ORD-7"]);
    assert.equal(r.acked.length, 1);
    await rig.gw.flush();
    const calls = callsTo("https://shop.example/orders/7/paid");
    assert.equal(calls.length, 1);
    const ev = verifyCallback({ secret, signature: calls[0].headers["x-gateway-signature"], body: calls[0].body, now: rig.clock.now() });
    assert.equal(ev.event, "order.paid");
    assert.equal(ev.orderRef, "ORD-7");
    assert.equal(ev.amountMinor, 2599);
    // the merchant's own webhook hears of it too, as for every order
    assert.ok(rig.hooks.calls.some((c) => c.url !== "https://shop.example/orders/7/paid" && JSON.parse(c.body).event === "order.paid"));
    // the terminal sends the order again (its reply was lost): nothing goes out twice
    await upload(t, [{ order: order(merchantId, "ORD-7", 2599), callback: "https://shop.example/orders/7/paid" }]);
    await rig.gw.flush();
    assert.equal(callsTo("https://shop.example/orders/7/paid").length, 1);
  });

  it("an order whose payment was uploaded before: the callback fires when the order arrives", async () => {
    const w = newWallet(rig);
    t.record(t.walletPayment(w, 1000, { orderRef: "ORD-8" }));
    await upload(t, []);
    await rig.gw.flush();
    assert.equal(callsTo("https://shop.example/o/8").length, 0);
    const r = await upload(t, [{ order: order(merchantId, "ORD-8", 1000), callback: "https://shop.example/o/8" }]);
    assert.deepEqual(r.orders.acked, ["ORD-8"]);
    await rig.gw.flush();
    assert.equal(callsTo("https://shop.example/o/8").length, 1);
  });

  it("an order not paid yet waits; an unpaid order's callback never fires", async () => {
    await upload(t, [{ order: order(merchantId, "ORD-9", 500), callback: "https://shop.example/o/9" }]);
    await rig.gw.flush();
    assert.equal(callsTo("https://shop.example/o/9").length, 0);
    const w = newWallet(rig);
    t.record(t.walletPayment(w, 500, { orderRef: "ORD-9" }));
    await upload(t, []);
    await rig.gw.flush();
    assert.equal(callsTo("https://shop.example/o/9").length, 1);
  });

  it("refuses another merchant's order, a callback the gateway may not call, a second URL for one order; flags each", async () => {
    const r = await upload(t, [
      { order: order(merchantId + 1, "ORD-X", 100), callback: "https://shop.example/x" },
      { order: order(merchantId, "ORD-Y", 100), callback: "http://shop.example/y" },
      { order: order(merchantId, "ORD-Z", 100), callback: "https://shop.example/z" },
      { order: order(merchantId, "ORD-Z", 100), callback: "https://evil.example/z" },
    ]);
    assert.deepEqual(r.orders.acked, ["ORD-Z"]);
    assert.deepEqual(r.orders.refused.map((x) => x.orderRef + " " + x.code), ["ORD-X E_ORDER_MERCHANT", "ORD-Y E_ORDER_CALLBACK", "ORD-Z E_ORDER_CALLBACK"]);
    const flags = rig.gw.store.flags(merchantId).filter((f) => f.kind === "order-callback");
    assert.equal(flags.length, 3);
    const w = newWallet(rig);
    t.record(t.walletPayment(w, 100, { orderRef: "ORD-Z" }));
    await upload(t, []);
    await rig.gw.flush();
    assert.equal(callsTo("https://shop.example/z").length, 1);
    assert.equal(callsTo("https://evil.example/z").length, 0);
  });

  it("a malformed orders list is refused whole, and changes nothing", async () => {
    const w = newWallet(rig);
    t.record(t.walletPayment(w, 100, { orderRef: "ORD-1" }));
    await assert.rejects(upload(t, [{ order: "AAAA", callback: "https://shop.example/1" }]), (e: { code?: string }) => e.code === "REQ_FORMAT");
    await assert.rejects(upload(t, new Array(9).fill({ order: order(merchantId, "ORD-1", 100), callback: "https://shop.example/1" })), (e: { code?: string }) => e.code === "REQ_FORMAT");
    assert.equal(rig.gw.store.ledger(merchantId).length, 0);
  });
});
