/**
 * Reconciliation (issue 6): a payee's offline payment is held until the payer's wallet syncs and matches it, or
 * auto-approved 3 days after it happened (movable clock) with an SMS to the payer; the payer can claim fraud; the
 * merchant hears of each step through webhooks, retried until delivered.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { decodeAllowance } from "../../protocol/messages.ts";
import { fromBase64 } from "../../protocol/sync.ts";
import { HOLD_MS } from "../../gateway/gateway.ts";
import { MAX_WEBHOOK_ATTEMPTS } from "../../gateway/webhooks.ts";
import { DAY, T0, makeRig, merchantWithTerminals, newWallet, nextWalletTime, walletCall } from "./helpers.ts";
import type { Rig } from "./helpers.ts";

const hexOf = (b: Uint8Array) => Buffer.from(b).toString("hex");
async function uploaded(rig: Rig, amounts: number[], o: { phone?: string } = {}) {
  const { merchant, terms } = merchantWithTerminals(rig, "Cafe Blue", 1);
  const w = newWallet(rig, 10000, o.phone ?? "+4915100000001");
  const t = terms[0];
  const ids = amounts.map((a) => hexOf(t.record(t.walletPayment(w, a)).entry.subarray(1, 9)));
  await t.uploadAll();
  return { merchant, t, w, ids };
}

function status(rig: Rig, txId: string): string {
  const l = rig.gw.ledger().find((x) => x.txId === txId);
  assert.ok(l, "no ledger row " + txId);
  return l.status;
}

describe("gateway: holds and the payer's sync", () => {
  it("holds a payee's offline payment until the payer's wallet syncs and reports it, then approves it and tells the merchant", async () => {
    const rig = makeRig();
    const { merchant, w, ids } = await uploaded(rig, [250, 400]);
    assert.deepEqual(ids.map((id) => status(rig, id)), ["held", "held"]);
    const held = rig.gw.ledger()[0];
    assert.equal(held.holdUntil, held.txTime + HOLD_MS);
    await rig.gw.flush();
    assert.deepEqual(rig.hooks.events(), ["payment.received", "payment.received"]);

    const r = await walletCall(rig.gw, w, "sync", { spent: w.spent });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual((r.json.matched as string[]).slice().sort(), ids.slice().sort());
    assert.deepEqual(r.json.unreported, []);
    assert.deepEqual(ids.map((id) => status(rig, id)), ["approved", "approved"]);
    // the new allowance continues after the counters the wallet used
    const a = decodeAllowance(fromBase64(r.json.allowance as string)!);
    assert.equal(a?.startCounter, 2);

    await rig.gw.flush();
    const confirmed = rig.hooks.calls.filter((c) => c.headers["x-gateway-event"] === "payment.confirmed");
    assert.equal(confirmed.length, 2);
    const body = JSON.parse(confirmed[0].body);
    assert.equal(body.status, "approved");
    assert.equal(body.merchantId, merchant.merchantId);
    // the receiver can check the signature with the merchant's webhook secret
    const sig = /^t=([0-9]+),v1=([0-9a-f]{64})$/.exec(confirmed[0].headers["x-gateway-signature"]);
    assert.ok(sig);
    assert.equal(sig[2], createHmac("sha256", Buffer.from(merchant.webhookSecret, "hex")).update(sig[1] + "." + confirmed[0].body).digest("hex"));
    // the payer heard of each upload ("received by the issuer"), and nothing more once they confirmed
    assert.deepEqual(rig.gw.smsOutbox().map((x) => x.kind), ["offline-received", "offline-received"], "no SMS when the payer confirmed");
  });

  it("approves at once a payment the payer reported before the terminal uploaded it", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "A", 1);
    const w = newWallet(rig);
    const t = terms[0];
    const id = hexOf(t.record(t.walletPayment(w, 700)).entry.subarray(1, 9));
    const r = await walletCall(rig.gw, w, "sync", { spent: w.spent });
    assert.deepEqual(r.json.matched, []);
    await t.uploadAll();
    assert.equal(status(rig, id), "approved");
    assert.equal(rig.gw.holds().length, 0);
  });

  it("flags a payment the payer's sync reports differently (amount) and leaves it held", async () => {
    const rig = makeRig();
    const { w, ids } = await uploaded(rig, [300]);
    const r = await walletCall(rig.gw, w, "sync", { spent: [{ ...w.spent[0], amountMinor: 30 }] });
    assert.deepEqual(r.json.matched, []);
    assert.equal(status(rig, ids[0]), "held");
    assert.ok(rig.gw.flags().some((f) => f.kind === "wallet-mismatch" && f.txId === ids[0]));
  });

  it("flags a held payment the payer's sync leaves out (unreported)", async () => {
    const rig = makeRig();
    const { w, ids } = await uploaded(rig, [300, 200]);
    const r = await walletCall(rig.gw, w, "sync", { spent: [w.spent[0]] });
    assert.deepEqual(r.json.matched, [ids[0]]);
    assert.deepEqual(r.json.unreported, [ids[1]]);
    assert.ok(rig.gw.flags().some((f) => f.kind === "unreported" && f.txId === ids[1]));
    assert.equal(status(rig, ids[1]), "held");
  });
});

describe("gateway: the 3-day rule", () => {
  it("auto-approves a held payment 3 days after it happened when the payer has not synced, and texts the payer", async () => {
    const rig = makeRig();
    const { ids } = await uploaded(rig, [250]);
    const txTime = rig.gw.ledger()[0].txTime;
    rig.clock.set(txTime + HOLD_MS - 1000);
    assert.deepEqual(rig.gw.tick().approved, []);
    assert.equal(status(rig, ids[0]), "held");
    rig.clock.set(txTime + HOLD_MS);
    assert.deepEqual(rig.gw.tick().approved, [ids[0]]);
    assert.equal(status(rig, ids[0]), "auto-approved");
    assert.deepEqual(rig.gw.tick().approved, [], "once only");

    // queued in the database first, then handed to the provider (after the upload's "received" SMS)
    const approvedSms = () => rig.gw.smsOutbox().filter((x) => x.kind === "auto-approved");
    assert.equal(approvedSms().length, 1);
    assert.equal(approvedSms()[0].status, "queued");
    assert.equal(rig.sms.sent.length, 0);
    await rig.gw.flush();
    assert.equal(rig.sms.sent.length, 2);
    const m = rig.sms.sent[1];
    assert.equal(m.text, approvedSms()[0].text);
    assert.equal(m.to, "+4915100000001");
    assert.match(m.text, /2\.50 EUR/);
    assert.match(m.text, /Cafe Blue/);
    assert.match(m.text, /fraud/i);
    assert.equal(approvedSms()[0].status, "sent");
    // readable through the admin API too
    const r = await rig.gw.handle({ method: "GET", path: "/v1/admin/sms", headers: { authorization: "Bearer admin-test" }, body: "" });
    assert.equal(JSON.parse(r.body).sms[1].text, m.text);
    assert.ok(rig.hooks.calls.some((c) => JSON.parse(c.body).event === "payment.confirmed" && JSON.parse(c.body).status === "auto-approved"));
  });

  it("moves the clock through the admin API, which runs the 3-day rule at once", async () => {
    const rig = makeRig();
    const { ids } = await uploaded(rig, [100]);
    const adv = (ms: number) => rig.gw.handle({ method: "POST", path: "/v1/admin/clock", headers: { authorization: "Bearer admin-test" }, body: JSON.stringify({ advanceMs: ms }) });
    const a = JSON.parse((await adv(2 * DAY)).body);
    assert.deepEqual(a.approved, []);
    const b = JSON.parse((await adv(DAY + 60000)).body);
    assert.deepEqual(b.approved, ids);
    assert.equal(b.time, T0 + 3 * DAY + 60000);
    assert.equal((await adv(-5)).status, 400);
  });

  it("retries a payer's SMS the provider refused, with backoff, and gives up after 5 attempts", async () => {
    let fail = 99;
    const rig = makeRig(":memory:", { sms: { send: () => { if (fail-- > 0) throw new Error("vendor down"); } } });
    await uploaded(rig, [100]);
    rig.clock.advance(4 * DAY);
    rig.gw.tick();
    const sms = () => rig.gw.smsOutbox().filter((x) => x.kind === "auto-approved")[0];
    for (let i = 0; i < 4; i++) {
      await rig.gw.flush();
      await rig.gw.flush(); // not due again before its backoff
      assert.equal(sms().attempts, i + 1);
      rig.clock.set(sms().nextAt);
    }
    assert.equal(sms().status, "queued");
    assert.equal(sms().attempts, 4);
    await rig.gw.flush();
    assert.equal(sms().status, "failed");
    assert.ok(rig.gw.activity().some((a) => a.kind === "sms-failed"));
  });
});

describe("gateway: fraud claims from the wallet", () => {
  it("disputes a held payment the payer does not recognise and tells the merchant", async () => {
    const rig = makeRig();
    const { w, ids } = await uploaded(rig, [900]);
    const r = await walletCall(rig.gw, w, "claims", { txId: ids[0], action: "dispute", reason: "not me" });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json, { txId: ids[0], status: "disputed" });
    assert.equal(status(rig, ids[0]), "disputed");
    // a disputed payment is not auto-approved later
    rig.clock.advance(5 * DAY);
    assert.deepEqual(rig.gw.tick().approved, []);
    const again = await walletCall(rig.gw, w, "claims", { txId: ids[0], action: "dispute" });
    assert.equal(again.status, 409);
    await rig.gw.flush();
    assert.ok(rig.hooks.events().includes("payment.disputed"));
  });

  it("reverses a held payment, texts the payer and tells the merchant; an auto-approved one only through a dispute", async () => {
    const rig = makeRig();
    const { w, ids } = await uploaded(rig, [1250, 300]);
    const r = await walletCall(rig.gw, w, "claims", { txId: ids[0], action: "reverse" });
    assert.equal(r.status, 200, r.body);
    assert.equal(status(rig, ids[0]), "reversed");
    rig.clock.advance(4 * DAY);
    rig.gw.tick();
    const late = await walletCall(rig.gw, w, "claims", { txId: ids[1], action: "reverse" });
    assert.equal(late.status, 409);
    assert.equal(late.json.error, "NOT_REVERSIBLE");
    await rig.gw.flush();
    assert.deepEqual(rig.gw.smsOutbox().map((x) => x.kind), ["offline-received", "offline-received", "reversed", "auto-approved"], "the uploads', the reversal's and the 3-day approval's");
    assert.equal(rig.sms.sent.length, 4);
    assert.match(rig.sms.sent[2].text, /12\.50 EUR.*reversed/);
    assert.ok(rig.hooks.events().includes("payment.reversed"));
    assert.equal((await walletCall(rig.gw, w, "claims", { txId: ids[0], action: "reverse" })).status, 409);
  });

  it("refuses to reverse a payment the wallet itself confirmed at sync (409), and claims by another wallet (404)", async () => {
    const rig = makeRig();
    const { w, ids } = await uploaded(rig, [500]);
    await walletCall(rig.gw, w, "sync", { spent: w.spent });
    const r = await walletCall(rig.gw, w, "claims", { txId: ids[0], action: "reverse" });
    assert.equal(r.status, 409);
    assert.equal(r.json.error, "NOT_REVERSIBLE");
    const other = newWallet(rig, 1000, "+4915100000002");
    const o = await walletCall(rig.gw, other, "claims", { txId: ids[0], action: "dispute" });
    assert.equal(o.status, 404);
    assert.equal(status(rig, ids[0]), "approved");
  });

  it("refuses a claim with another key's signature (401) or a replayed time (409), changing nothing", async () => {
    const rig = makeRig();
    const { w, ids } = await uploaded(rig, [500]);
    const thief = newWallet(rig, 1000, "+4915100000003");
    const forged = await walletCall(rig.gw, w, "claims", { txId: ids[0], action: "reverse" }, { sigOf: thief });
    assert.equal(forged.status, 401);
    const t = nextWalletTime();
    assert.equal((await walletCall(rig.gw, w, "claims", { txId: ids[0], action: "dispute" }, { time: t })).status, 200);
    const replay = await walletCall(rig.gw, w, "claims", { txId: ids[0], action: "reverse" }, { time: t });
    assert.equal(replay.status, 409);
    assert.equal(replay.json.error, "REPLAY");
    assert.equal(status(rig, ids[0]), "disputed");
  });
});

describe("gateway: webhooks", () => {
  it("retries a webhook the merchant's server refused, with backoff on the gateway's clock, under the same delivery ID", async () => {
    const rig = makeRig();
    await uploaded(rig, [100]);
    rig.hooks.status = 500;
    await rig.gw.flush();
    assert.equal(rig.hooks.calls.length, 1);
    const row = rig.gw.webhooks()[0];
    assert.equal(row.status, "pending");
    assert.equal(row.attempts, 1);
    assert.equal(row.lastError, "HTTP 500");
    await rig.gw.flush();
    assert.equal(rig.hooks.calls.length, 1, "not before its retry time");
    rig.clock.advance(30000);
    rig.hooks.status = 200;
    await rig.gw.flush();
    assert.equal(rig.hooks.calls.length, 2);
    assert.equal(rig.hooks.calls[0].headers["x-gateway-delivery"], rig.hooks.calls[1].headers["x-gateway-delivery"]);
    assert.equal(rig.gw.webhooks()[0].status, "delivered");
    assert.ok(rig.gw.activity().some((a) => a.kind === "webhook-retry") && rig.gw.activity().some((a) => a.kind === "webhook-delivered"));
  });

  it("gives a webhook up after its last attempt; the merchant still reads the event from its feed", async () => {
    const rig = makeRig();
    const { merchant } = await uploaded(rig, [100]);
    rig.hooks.status = 503;
    for (let i = 0; i < MAX_WEBHOOK_ATTEMPTS + 2; i++) {
      await rig.gw.flush();
      rig.clock.advance(3600000);
    }
    assert.equal(rig.hooks.calls.length, MAX_WEBHOOK_ATTEMPTS);
    assert.equal(rig.gw.webhooks()[0].status, "failed");
    const r = await rig.gw.handle({ method: "GET", path: "/v1/merchants/" + merchant.merchantId + "/events", headers: { authorization: "Bearer " + merchant.apiKey }, body: "" });
    const ev = JSON.parse(r.body).events;
    assert.equal(ev[0].event, "payment.received");
    assert.equal(ev[0].status, "failed");
  });

  it("sends an order callback for a payment that carries an order reference", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "A", 1);
    const w = newWallet(rig);
    const t = terms[0];
    t.record(t.walletPayment(w, 640, { orderRef: "ORD-42" }));
    await t.uploadAll();
    await rig.gw.flush();
    const order = rig.hooks.calls.find((c) => c.headers["x-gateway-event"] === "order.paid");
    assert.ok(order);
    const b = JSON.parse(order.body);
    assert.equal(b.orderRef, "ORD-42");
    assert.equal(b.amountMinor, 640);
  });
});
