/**
 * Invoices paid online (card, debit card, wallet) and the terminal told of the payment through its sync link: the
 * gateway's PaidConfirmation rides every hello until the terminal's InvoicePaid entry (method 5, paid online)
 * arrives; the ledger then holds the payment once, under the terminal's transaction ID.
 */
import assert from "node:assert/strict";
import { decodePaid } from "../../protocol/messages.ts";
import { fromBase64, toBase64 } from "../../protocol/sync.ts";
import { verifyMessage } from "../../gateway/issuer.ts";
import { makeRig, merchantWithTerminals, newWallet } from "./helpers.ts";
import type { Rig } from "./helpers.ts";

const hexOf = (b: Uint8Array) => Buffer.from(b).toString("hex");
const CARD = { number: "4242424242424242", expiry: "12/39", cvc: "123" };
// the sandbox processor's test debit card (gateway/cards.ts): the card itself says it is a debit card
const DEBIT = { number: "4000056655665556", expiry: "01/40", cvc: "321" };

async function pay(rig: Rig, fields: Record<string, unknown>) {
  const r = await rig.gw.handle({ method: "POST", path: "/v1/invoices/pay", headers: {}, body: JSON.stringify(fields) });
  return { status: r.status, json: JSON.parse(r.body) as Record<string, unknown> };
}

describe("gateway: invoices paid online", () => {
  it("takes a card, a debit card and a wallet's balance, each with an issuer-signed confirmation and a settled ledger row", async () => {
    const rig = makeRig();
    const { merchant, terms } = merchantWithTerminals(rig, "Shop", 1);
    const t = terms[0];
    const w = newWallet(rig, 1000, "+4915100000009", 5000);

    const card = await pay(rig, { invoice: toBase64(t.invoice(1, 1200)), method: "card", card: CARD, orderRef: "ORD-1" });
    assert.equal(card.status, 200, JSON.stringify(card.json));
    const debit = await pay(rig, { invoice: toBase64(t.invoice(2, 800)), method: "debit", card: DEBIT });
    assert.equal(debit.status, 200, JSON.stringify(debit.json));
    const inv3 = t.invoice(3, 1500);
    // the wallet pays with a signed request (docs/gateway.md, wallet API)
    const path = "/v1/invoices/pay";
    const body = JSON.stringify({ invoice: toBase64(inv3), method: "wallet", walletId: w.walletId, time: Date.now() + 1e9 });
    const wr = await rig.gw.handle({ method: "POST", path, headers: { "x-wallet-signature": w.signRequest("POST", path, body) }, body });
    assert.equal(wr.status, 200, wr.body);

    for (const [r, method, amount] of [
      [card.json, 1, 1200],
      [debit.json, 2, 800],
      [JSON.parse(wr.body), 3, 1500],
    ] as [Record<string, unknown>, number, number][]) {
      const paid = fromBase64(r.paid as string)!;
      assert.ok(verifyMessage(rig.issuer.publicKey, paid), "issuer-signed");
      const c = decodePaid(paid)!;
      assert.equal(c.method, method);
      assert.equal(c.amountMinor, amount);
      assert.equal(c.terminalId, t.terminalId);
      assert.match(r.qr as string, /^C1/);
      const l = rig.gw.ledger().find((x) => x.ref === "pay:" + r.paymentRef)!;
      assert.equal(l.status, "settled");
      assert.equal(l.method, 10 + method);
      assert.equal(l.amountMinor, amount);
    }
    assert.equal(rig.gw.walletBalances(w.walletId).available, 3500, "the wallet's balance paid 15.00");
    assert.deepEqual(rig.gw.invoices(merchant.merchantId).map((i) => i.status), ["paid", "paid", "paid"]);
    await rig.gw.flush();
    // the client's orderRef is ignored (security review 10): the order is what the terminal records
    assert.deepEqual(rig.hooks.events(), ["payment.confirmed", "payment.confirmed", "payment.confirmed"]);
    assert.equal(JSON.parse(rig.hooks.calls[0].body).orderRef, "");
  });

  it("declines a card (402) or a short wallet balance (402) and records nothing: no invoice, no ledger row, balance kept", async () => {
    const rig = makeRig();
    const { merchant, terms } = merchantWithTerminals(rig, "Shop", 1);
    const t = terms[0];
    const declined = await pay(rig, { invoice: toBase64(t.invoice(1, 1200)), method: "card", card: { ...CARD, number: "4000000000000002" } });
    assert.equal(declined.status, 402);
    assert.equal(declined.json.error, "CARD_DECLINED");
    const luhn = await pay(rig, { invoice: toBase64(t.invoice(1, 1200)), method: "card", card: { ...CARD, number: "4242424242424241" } });
    assert.equal(luhn.status, 400);
    const w = newWallet(rig, 1000, "+4915100000009", 100);
    const path = "/v1/invoices/pay";
    const body = JSON.stringify({ invoice: toBase64(t.invoice(1, 1200)), method: "wallet", walletId: w.walletId, time: Date.now() + 2e9 });
    const r = await rig.gw.handle({ method: "POST", path, headers: { "x-wallet-signature": w.signRequest("POST", path, body) }, body });
    assert.equal(r.status, 402);
    assert.equal(JSON.parse(r.body).error, "INSUFFICIENT_FUNDS");
    assert.equal(rig.gw.walletBalances(w.walletId).available, 100);
    assert.equal(rig.gw.invoices(merchant.merchantId).length, 0);
    assert.equal(rig.gw.ledger().length, 0);
  });

  it("refuses to take an invoice twice (409) or after it expired (409), and refuses one no registered terminal signed (400)", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Shop", 1);
    const t = terms[0];
    const inv = toBase64(t.invoice(1, 1200));
    assert.equal((await pay(rig, { invoice: inv, method: "card", card: CARD })).status, 200);
    const twice = await pay(rig, { invoice: inv, method: "debit", card: DEBIT });
    assert.equal(twice.status, 409);
    assert.equal(twice.json.error, "INVOICE_PAID");
    const old = await pay(rig, { invoice: toBase64(t.invoice(2, 50, Math.floor(rig.clock.now() / 1000) - 1)), method: "card", card: CARD });
    assert.equal(old.status, 409);
    assert.equal(old.json.error, "INVOICE_EXPIRED");
    const forged = t.invoice(3, 10);
    forged[forged.length - 1] ^= 1;
    assert.equal((await pay(rig, { invoice: toBase64(forged), method: "card", card: CARD })).status, 400);
    assert.equal(rig.gw.ledger().length, 1);
  });

  it("tells the terminal at every hello until its InvoicePaid entry (method 5) arrives; the ledger then holds it once under the terminal's txId", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Shop", 1);
    const t = terms[0];
    const r = await pay(rig, { invoice: toBase64(t.invoice(7, 990)), method: "card", card: CARD, orderRef: "ORD-7" });
    const paid = fromBase64(r.json.paid as string)!;

    const h1 = await t.hello();
    assert.deepEqual(h1.paid, [toBase64(paid)]);
    const h2 = await t.hello();
    assert.deepEqual(h2.paid, [toBase64(paid)], "until the terminal records it");

    // the terminal records the notice as a journal entry paid online (method 5) and uploads it
    const rec = t.record(t.invoicePaid(paid, 5, "ORD-7"));
    await t.uploadAll();
    const txId = hexOf(rec.entry.subarray(1, 9));
    const rows = rig.gw.ledger();
    assert.equal(rows.length, 1, "one row for the payment");
    assert.equal(rows[0].txId, txId);
    assert.equal(rows[0].method, 5);
    assert.equal(rows[0].ref, "pay:" + r.json.paymentRef);
    assert.equal(rig.gw.invoices(1)[0].recorded, 1);
    const h3 = await t.hello();
    assert.equal(h3.paid, undefined, "the notice stops");
    await rig.gw.flush();
    assert.equal(rig.hooks.events().filter((e) => e === "order.paid").length, 1, "one order callback");

    // the same confirmation recorded again under another txId is refused
    t.record(t.invoicePaid(paid, 3));
    await t.uploadAll();
    assert.equal(t.rejected[0].code, "E_DUPLICATE");
    assert.equal(rig.gw.ledger().length, 1);
  });
});
